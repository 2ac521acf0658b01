import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';

/** Runs `fn` and asserts the number of live tensors is unchanged afterwards (sync or async). */
export async function expectNoTensorLeak<T>(fn: () => T | Promise<T>, allowed = 0): Promise<T> {
  const before = tf.memory().numTensors;
  const out = await fn();
  const after = tf.memory().numTensors;
  expect(after - before, `tensor leak: ${after - before} tensors left behind`).toBeLessThanOrEqual(allowed);
  return out;
}

/** Like expectNoTensorLeak, for a call that must throw: the error is returned. */
export async function expectThrowsWithoutLeak(fn: () => unknown): Promise<Error> {
  const before = tf.memory().numTensors;
  let err: unknown;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  const after = tf.memory().numTensors;
  expect(err, 'expected the call to throw').toBeInstanceOf(Error);
  expect(after - before, `tensor leak on the error path: ${after - before}`).toBe(0);
  return err as Error;
}

/** Element-wise closeness of a tensor to an array, with a readable diff. */
export function expectClose(actual: tf.Tensor | ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5): void {
  const a = actual instanceof tf.Tensor ? Array.from(actual.dataSync()) : Array.from(actual);
  const e = Array.from(expected);
  expect(a.length).toBe(e.length);
  for (let i = 0; i < a.length; i++) {
    if (Math.abs((a[i] as number) - (e[i] as number)) > tol) {
      throw new Error(`element ${i}: expected ${e[i]}, got ${a[i]} (tol ${tol})\nactual:   ${a.join(', ')}\nexpected: ${e.join(', ')}`);
    }
  }
}

let wasmReady: Promise<boolean> | undefined;
/** Loads the wasm backend once; resolves false when it cannot initialise here. */
export function loadWasm(): Promise<boolean> {
  wasmReady ??= (async () => {
    await import('@tensorflow/tfjs-backend-wasm');
    const ok = await tf.setBackend('wasm');
    await tf.setBackend('cpu');
    return ok;
  })();
  return wasmReady;
}

/** Runs fn with the given backend active, restoring the previous backend afterwards. */
export async function withBackend<T>(name: 'cpu' | 'wasm', fn: () => T | Promise<T>): Promise<T> {
  const prev = tf.getBackend();
  if (name === 'wasm') await loadWasm();
  await tf.setBackend(name);
  try {
    return await fn();
  } finally {
    await tf.setBackend(prev);
  }
}
