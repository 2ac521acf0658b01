// Internal: validation, chunking, target selection, gradients and normalisation shared by the
// baseline attribution methods. Not part of the public API.
import * as tf from '@tensorflow/tfjs-core';
import { PiqInputError } from '../errors';
import { shapeStr } from '../internal/validate';
import {
  checkInputs,
  numClassesOf,
  resolveBatchSize,
  resolveTargets,
  type ResolvedClassifier,
} from '../metrics/classifier-fn';
import { DEFAULT_EXPLAIN_OPTIONS, type ExplainOptions } from './types';

/** Validated arguments of one `explain` call. */
export interface ExplainContext {
  readonly inputs: tf.Tensor;
  readonly batchSize: number;
  readonly numClasses: number;
  readonly targets: Int32Array | undefined;
  readonly count: number;
}

/** Validates inputs (`[batch, height, width]` or `[batch, height, width, channels]`) and options. */
export function prepareExplain(
  owner: string,
  resolved: ResolvedClassifier,
  inputs: unknown,
  options: ExplainOptions | undefined,
): ExplainContext {
  const x = checkInputs(owner, 'inputs', inputs, resolved);
  if (x.rank !== 3 && x.rank !== 4) {
    throw new PiqInputError(
      `${owner}: 'inputs' must have shape [batch, height, width] or [batch, height, width, channels], got ${shapeStr(x.shape)}. ` +
        'Attribution masks are spatial; reshape the inputs to an image layout.',
    );
  }
  const batchSize = resolveBatchSize(owner, options?.batchSize, DEFAULT_EXPLAIN_OPTIONS.batchSize);
  const count = x.shape[0] as number;
  const numClasses = numClassesOf(resolved, x);
  const targets = resolveTargets(owner, options?.target, count, numClasses);
  return { inputs: x, batchSize, numClasses, targets, count };
}

/** One-hot `[size, numClasses]` float rows selecting each example's class of a chunk. */
export function targetOneHot(
  ctx: ExplainContext,
  start: number,
  size: number,
  logitsOfChunk: () => tf.Tensor2D,
): tf.Tensor2D {
  const classes =
    ctx.targets !== undefined
      ? tf.tensor1d(ctx.targets.subarray(start, start + size), 'int32')
      : (tf.argMax(logitsOfChunk(), 1) as tf.Tensor1D);
  // Compare with a range rather than tf.oneHot, which refuses a depth of 1 (single-logit models).
  return tf.cast(tf.equal(tf.expandDims(classes, 1), tf.range(0, ctx.numClasses, 1, 'int32')), 'float32') as tf.Tensor2D;
}

/**
 * Gradient of the selected logit `Σ_b logits(x)[b, c_b]` with respect to `x`. The logit is picked
 * by a one-hot multiply-and-sum (not gather: the wasm backend has no gather gradient).
 */
export function targetGradient(logits: (x: tf.Tensor) => tf.Tensor2D, x: tf.Tensor, oneHot: tf.Tensor2D): tf.Tensor {
  return tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(logits(xx), oneHot)))(x);
}

/** Reduces the channel axis of a `[batch, h, w, c]` map (`[batch, h, w]` passes through). */
export function reduceChannels(map: tf.Tensor, mode: 'max' | 'sum'): tf.Tensor3D {
  if (map.rank === 3) return map as tf.Tensor3D;
  return (mode === 'max' ? tf.max(map, 3) : tf.sum(map, 3)) as tf.Tensor3D;
}

/** Min-max normalises each `[h, w]` map of a batch to [0, 1]; a constant map becomes zeros. */
export function normalizeMaps(map: tf.Tensor3D): tf.Tensor3D {
  return tf.tidy(() => {
    const lo = tf.min(map, [1, 2], true);
    const range = tf.sub(tf.max(map, [1, 2], true), lo);
    const positive = tf.greater(range, 0);
    const safe = tf.where(positive, range, tf.onesLike(range));
    const scaled = tf.div(tf.sub(map, lo), safe);
    // Clip away rounding just outside [0, 1].
    return tf.clipByValue(tf.where(tf.broadcastTo(positive, map.shape), scaled, tf.zerosLike(map)), 0, 1) as tf.Tensor3D;
  });
}

/**
 * Runs `chunk` on consecutive slices of at most `batchSize` examples and concatenates the
 * `[size, h, w]` results. `chunk` may allocate freely: everything but its result is disposed.
 */
export async function explainInChunks(
  ctx: ExplainContext,
  chunk: (x: tf.Tensor, start: number, size: number) => tf.Tensor3D,
): Promise<tf.Tensor3D> {
  const parts: tf.Tensor3D[] = [];
  try {
    for (let start = 0; start < ctx.count; start += ctx.batchSize) {
      const size = Math.min(ctx.batchSize, ctx.count - start);
      parts.push(tf.tidy(() => chunk(tf.slice(ctx.inputs, start, size), start, size)));
      // Yield between chunks so long explanations do not block an event loop or a UI.
      await Promise.resolve();
    }
    if (parts.length === 1) return parts.pop() as tf.Tensor3D;
    return tf.concat(parts, 0);
  } finally {
    tf.dispose(parts);
  }
}
