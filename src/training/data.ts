import * as tf from '@tensorflow/tfjs-core';
import { PiqInputError } from '../errors';
import { describe } from '../internal/checks';
import { permutation } from '../internal/random';

/**
 * Training data: a tensor `[n, height, width, channels]` (shuffled and batched for you), an array
 * of batches, or a re-iterable source of batches — an (async) iterable, or a tf.data-like dataset
 * with `iterator()`. Batches may be tensors or `{ xs }` objects. Each epoch iterates the source again.
 * As in tfjs-layers' `fitDataset`, the elements a dataset's iterator yields are disposed once used
 * (tf.data makes new tensors for each); batches of arrays and iterables are left to their owner.
 * @category Training
 */
export type DataSource =
  | tf.Tensor4D
  | tf.Tensor4D[]
  | Iterable<tf.Tensor4D | { xs: tf.Tensor4D }>
  | AsyncIterable<tf.Tensor4D | { xs: tf.Tensor4D }>
  | {
      /** A fresh iterator over one epoch of batches (tf.data's `Dataset.iterator`). */
      iterator(): Promise<{
        /** The next batch, or `done`. */
        next(): Promise<IteratorResult<tf.Tensor4D | { xs: tf.Tensor4D }>>;
      }>;
    };

function unwrap(owner: string, b: unknown): tf.Tensor4D {
  const t = b instanceof tf.Tensor ? b : (b as { xs?: unknown })?.xs;
  if (!(t instanceof tf.Tensor)) {
    throw new PiqInputError(`${owner}: each batch of 'data' must be a tf.Tensor or { xs: tf.Tensor }, got ${describe(b)}.`);
  }
  return t as tf.Tensor4D;
}

/**
 * Iterates one epoch of batches. For a tensor source the batches are new tensors that the
 * consumer must dispose (`owned: true`); so are the elements of a tf.data dataset (`iterator()`),
 * which tf.data creates for its consumer. Batches of arrays and (async) iterables belong to the source.
 * `skip` leaves out the first batches of the epoch (used to resume mid-epoch): for a tensor source
 * the shuffle is still drawn (so the random state advances as in an uninterrupted epoch) and the
 * skipped batches are never built; for other sources the skipped batches are pulled and dropped.
 */
export async function* epochBatches(
  owner: string,
  source: DataSource,
  batchSize: number,
  shuffle: boolean,
  rand: () => number,
  skip = 0,
): AsyncGenerator<{ batch: tf.Tensor4D; owned: boolean }> {
  if (source === null || typeof source !== 'object') {
    throw new PiqInputError(`${owner}: 'data' must be a tf.Tensor4D, an array of batches, an (async) iterable or a tf.data dataset, got ${describe(source)}.`);
  }
  if (source instanceof tf.Tensor) {
    const n = source.shape[0];
    const order = shuffle ? permutation(n, rand) : null;
    const first = Math.min(n, skip * batchSize);
    for (let start = first; start < n; start += batchSize) {
      const end = Math.min(n, start + batchSize);
      const batch = order
        ? tf.tidy(() => tf.gather(source, tf.tensor1d(order.subarray(start, end), 'int32')) as tf.Tensor4D)
        : (tf.slice(source, [start, 0, 0, 0], [end - start, -1, -1, -1]) as tf.Tensor4D);
      yield { batch, owned: true };
    }
    return;
  }
  let skipped = 0;
  if (typeof (source as { iterator?: unknown }).iterator === 'function') {
    const it = await (source as { iterator(): Promise<{ next(): Promise<IteratorResult<unknown>> }> }).iterator();
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      // tf.data hands each element to its consumer (tfjs-layers' fitDataset disposes them): the
      // batch is disposed after its step, the rest of the element (e.g. ys) and skipped elements now.
      if (skipped < skip) {
        skipped++;
        tf.dispose(r.value as tf.TensorContainer);
        continue;
      }
      let batch: tf.Tensor4D;
      try {
        batch = unwrap(owner, r.value);
      } catch (e) {
        tf.dispose(r.value as tf.TensorContainer);
        throw e;
      }
      if (!(r.value instanceof tf.Tensor)) tf.dispose(Object.entries(r.value as object).filter(([k]) => k !== 'xs').map(([, v]) => v) as tf.TensorContainer);
      yield { batch, owned: true };
    }
  }
  if (Symbol.asyncIterator in source) {
    for await (const b of source as AsyncIterable<unknown>) {
      if (skipped < skip) {
        skipped++;
        continue;
      }
      yield { batch: unwrap(owner, b), owned: false };
    }
    return;
  }
  if (Symbol.iterator in source) {
    for (const b of source as Iterable<unknown>) {
      if (skipped < skip) {
        skipped++;
        continue;
      }
      yield { batch: unwrap(owner, b), owned: false };
    }
    return;
  }
  throw new PiqInputError(`${owner}: 'data' must be a tf.Tensor4D, an array of batches, an (async) iterable or a tf.data dataset, got ${describe(source)}.`);
}
