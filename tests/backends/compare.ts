// Shared by the wasm kernel suites: deterministic inputs and the cpu-vs-wasm comparison.
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import { withBackend } from '../helpers';

// Every comparison uses the relative error max|wasm - ref| / max|ref| and this tolerance
// (measured: < 3e-7 on these shapes; float32 sums reorder between backends).
export const REL_TOL = 1e-5;

export type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
export type Shape4 = [number, number, number, number];

/** Deterministic values in [-1, 1) from a small LCG, independent of tfjs's RNG. */
export function values(size: number, seed: number): Float32Array {
  const out = new Float32Array(size);
  let s = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** max|actual − expected| / max|expected|. */
export function relError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  expect(actual.length).toBe(expected.length);
  let num = 0;
  let den = 0;
  for (let i = 0; i < actual.length; i++) {
    num = Math.max(num, Math.abs((actual[i] as number) - (expected[i] as number)));
    den = Math.max(den, Math.abs(expected[i] as number));
  }
  return num / Math.max(den, 1e-12);
}

/** Runs `fn` (which builds its inputs from plain arrays) on one backend and reads the result. */
export async function runOn(backend: 'cpu' | 'wasm', fn: () => tf.Tensor): Promise<{ shape: number[]; data: Float32Array }> {
  return withBackend(backend, () => {
    const t = tf.tidy(fn);
    const out = { shape: t.shape, data: t.dataSync() as Float32Array };
    t.dispose();
    return out;
  });
}

/** Relative error of `fn` on wasm against the cpu backend (same shape required). */
export async function relErrorVsCpu(fn: () => tf.Tensor): Promise<number> {
  const ref = await runOn('cpu', fn);
  const got = await runOn('wasm', fn);
  expect(got.shape).toEqual(ref.shape);
  return relError(got.data, ref.data);
}

/** Asserts `fn` gives the same result on wasm as on cpu within REL_TOL; returns the error. */
export async function expectWasmMatchesCpu(fn: () => tf.Tensor): Promise<number> {
  const err = await relErrorVsCpu(fn);
  expect(err).toBeLessThan(REL_TOL);
  return err;
}
