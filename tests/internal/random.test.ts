// The one seeded random source and shuffle of the host-side code.
import { describe, expect, it } from 'vitest';
import { PiqStateError } from '../../src/errors';
import { mulberry32, permutation, shuffleInPlace } from '../../src/internal/random';

describe('shuffleInPlace and permutation', () => {
  it('is Fisher–Yates: with draws fixed by hand, each step swaps i with floor(r·(i+1))', () => {
    // Draws 0.9, 0.1, 0.5 for i = 3, 2, 1: swap(3, 3), swap(2, 0), swap(1, 1).
    const draws = [0.9, 0.1, 0.5];
    const rand = () => draws.shift() as number;
    expect(shuffleInPlace([10, 11, 12, 13], rand)).toEqual([12, 11, 10, 13]);
  });

  it('permutation(n) shuffles 0..n-1 with the same draws as shuffleInPlace', () => {
    const p = permutation(50, mulberry32(7));
    const q = shuffleInPlace(Array.from({ length: 50 }, (_, i) => i), mulberry32(7));
    expect(Array.from(p)).toEqual(q);
    expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('shuffles a copy only when given one (in place otherwise)', () => {
    const a = [1, 2, 3, 4, 5];
    const out = shuffleInPlace(a, mulberry32(1));
    expect(out).toBe(a);
  });
});

describe('mulberry32', () => {
  it('draws floats in [0, 1) and restores its state exactly', () => {
    const r = mulberry32(3);
    r();
    const state = r.getState();
    const next = [r(), r(), r()];
    expect(next.every((v) => v >= 0 && v < 1)).toBe(true);
    r.setState(state);
    expect([r(), r(), r()]).toEqual(next);
  });

  it('rejects a state outside [0, 2^32) with PiqStateError', () => {
    expect(() => mulberry32(0).setState(-1)).toThrow(PiqStateError);
    expect(() => mulberry32(0).setState(2 ** 32)).toThrow(/'state' must be an integer in \[0, 2\^32\), got 4294967296/);
  });
});
