// The one seeded random source of the host-side code (shuffling, data / k-means sampling): small,
// fast and with a state that fits in one 32-bit integer, so checkpoints can store and restore it.
// (tfjs ops that draw on the device take their own seeds.)
import { PiqStateError } from '../errors';
import { describe } from './checks';

/**
 * A seeded random source: call it for floats in [0, 1); its whole state is one 32-bit integer,
 * read with `getState()` and restored with `setState()` (checkpoints store it so a resumed run
 * draws the same shuffles).
 */
export interface SeededRandom {
  (): number;
  getState(): number;
  setState(state: number): void;
}

/** Small, fast, seedable PRNG (mulberry32). Returns floats in [0, 1); its state is serialisable. */
export function mulberry32(seed: number): SeededRandom {
  let a = seed >>> 0;
  const next = (() => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }) as SeededRandom;
  next.getState = () => a;
  next.setState = (state: number) => {
    if (!Number.isInteger(state) || state < 0 || state > 0xffffffff) {
      throw new PiqStateError(`mulberry32.setState: 'state' must be an integer in [0, 2^32), got ${describe(state)}.`);
    }
    a = state >>> 0;
  };
  return next;
}

/** Fisher–Yates shuffle of `values` in place, drawing from `rand`; returns `values`. */
export function shuffleInPlace<T extends { length: number; [i: number]: number }>(values: T, rand: () => number): T {
  for (let i = values.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = values[i] as number;
    values[i] = values[j] as number;
    values[j] = t;
  }
  return values;
}

/** A random permutation of 0..n-1 drawn from `rand`. */
export function permutation(n: number, rand: () => number): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  return shuffleInPlace(p, rand);
}
