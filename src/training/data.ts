import * as tf from '@tensorflow/tfjs-core';
import { PiqInputError } from '../errors';
import { describe } from '../internal/validate';

/**
 * Training data: a tensor `[n, height, width, channels]` (shuffled and batched for you), an array
 * of batches, or a re-iterable source of batches — an (async) iterable, or a tf.data-like dataset
 * with `iterator()`. Batches may be tensors or `{ xs }` objects. Each epoch iterates the source again.
 * @category Training
 */
export type DataSource =
  | tf.Tensor4D
  | tf.Tensor4D[]
  | Iterable<tf.Tensor4D | { xs: tf.Tensor4D }>
  | AsyncIterable<tf.Tensor4D | { xs: tf.Tensor4D }>
  | { iterator(): Promise<{ next(): Promise<IteratorResult<tf.Tensor4D | { xs: tf.Tensor4D }>> }> };

/** Small, fast, seedable PRNG (mulberry32). Returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher–Yates permutation of 0..n-1 drawn from `rand`. */
export function permutation(n: number, rand: () => number): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = p[i] as number;
    p[i] = p[j] as number;
    p[j] = t;
  }
  return p;
}

function unwrap(owner: string, b: unknown): tf.Tensor4D {
  const t = b instanceof tf.Tensor ? b : (b as { xs?: unknown })?.xs;
  if (!(t instanceof tf.Tensor)) {
    throw new PiqInputError(`${owner}: each batch must be a tf.Tensor or { xs: tf.Tensor }, got ${describe(b)}.`);
  }
  return t as tf.Tensor4D;
}

/**
 * Iterates one epoch of batches. For a tensor source the batches are new tensors that the
 * consumer must dispose (`owned: true`); batches of other sources belong to the source.
 */
export async function* epochBatches(
  owner: string,
  source: DataSource,
  batchSize: number,
  shuffle: boolean,
  rand: () => number,
): AsyncGenerator<{ batch: tf.Tensor4D; owned: boolean }> {
  if (source instanceof tf.Tensor) {
    const n = source.shape[0];
    const order = shuffle ? permutation(n, rand) : null;
    for (let start = 0; start < n; start += batchSize) {
      const end = Math.min(n, start + batchSize);
      const batch = order
        ? tf.tidy(() => tf.gather(source, tf.tensor1d(order.subarray(start, end), 'int32')) as tf.Tensor4D)
        : (tf.slice(source, [start, 0, 0, 0], [end - start, -1, -1, -1]) as tf.Tensor4D);
      yield { batch, owned: true };
    }
    return;
  }
  if (typeof (source as { iterator?: unknown }).iterator === 'function') {
    const it = await (source as { iterator(): Promise<{ next(): Promise<IteratorResult<unknown>> }> }).iterator();
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield { batch: unwrap(owner, r.value), owned: false };
    }
  }
  if (Symbol.asyncIterator in (source as object)) {
    for await (const b of source as AsyncIterable<unknown>) yield { batch: unwrap(owner, b), owned: false };
    return;
  }
  if (Symbol.iterator in (source as object)) {
    for (const b of source as Iterable<unknown>) yield { batch: unwrap(owner, b), owned: false };
    return;
  }
  throw new PiqInputError(`${owner}: 'data' must be a tf.Tensor4D, an array of batches, an (async) iterable or a tf.data dataset, got ${describe(source)}.`);
}
