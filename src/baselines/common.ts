// Internal: validation, chunking, target selection, gradients and normalisation shared by the
// baseline attribution methods. Not part of the public API.
import * as tf from '@tensorflow/tfjs-core';
import { PiqInputError } from '../errors';
import { describe, optionsObject, shapeStr } from '../internal/checks';
import { resolveInputRange, toInputBatch } from '../classifier/image-input';
import { prepareScoring, type ScoringContext } from '../classifier/scoring';
import type { LogitsAdapter } from '../classifier/types';
import { DEFAULT_EXPLAIN_OPTIONS, EXPLAIN_KEYS, type ExplainOptions, type ExplainResult } from './types';

/** Validated arguments of one `explain` call. */
export type ExplainContext = ScoringContext;

/** Validates inputs (`[batch, height, width]` or `[batch, height, width, channels]`) and options. */
export function prepareExplain(
  owner: string,
  classifier: LogitsAdapter,
  inputs: unknown,
  options: ExplainOptions | undefined,
): ExplainContext {
  const ctx = prepareScoring(owner, classifier, inputs, options, DEFAULT_EXPLAIN_OPTIONS.batchSize);
  const x = ctx.inputs;
  if (x.rank !== 3 && x.rank !== 4) {
    throw new PiqInputError(
      `${owner}: 'inputs' must have shape [batch, height, width] or [batch, height, width, channels], got ${shapeStr(x.shape)}. ` +
        'Attribution masks are spatial; reshape the inputs to an image layout.',
    );
  }
  return ctx;
}

/**
 * The frame of every `explain` / `explainTensors`: checks the options, turns one example or pixels
 * into a batch, validates it ({@link prepareExplain}), runs `compute` and disposes what it created.
 * `reshape` may adapt the batch further (PIQ adds a missing channel axis).
 */
export async function explainWith(
  owner: string,
  classifier: LogitsAdapter,
  inputs: unknown,
  options: ExplainOptions | undefined,
  compute: (ctx: ExplainContext) => Promise<tf.Tensor3D>,
  reshape?: (batch: unknown) => { batch: unknown; owned: boolean },
): Promise<tf.Tensor3D> {
  const o = optionsObject(owner, options, EXPLAIN_KEYS);
  const range = resolveInputRange(owner, o.inputRange);
  const converted = toInputBatch(owner, 'inputs', inputs, classifier.inputShape, range);
  const extra = reshape?.(converted.batch);
  try {
    return await compute(prepareExplain(owner, classifier, extra?.batch ?? converted.batch, o));
  } finally {
    if (converted.owned) (converted.batch as tf.Tensor).dispose();
    if (extra?.owned) (extra.batch as tf.Tensor).dispose();
  }
}

/** Reads masks `[batch, height, width]` back into an {@link ExplainResult} and disposes them. */
export async function readExplanation(masks: Promise<tf.Tensor3D>): Promise<ExplainResult> {
  const t = await masks;
  let mask: Float32Array;
  try {
    mask = (await t.data()) as Float32Array;
  } finally {
    t.dispose();
  }
  const [batch, height, width] = t.shape;
  return {
    batch,
    maskShape: [height, width],
    mask,
    example(i: number) {
      if (!Number.isInteger(i) || i < 0 || i >= batch) throw new PiqInputError(`ExplainResult.example: 'i' must be an integer in [0, ${batch}), got ${describe(i)}.`);
      return { mask: mask.subarray(i * height * width, (i + 1) * height * width) };
    },
  };
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
 * results along the batch axis. `chunk` may allocate freely: everything but its result is disposed.
 */
export async function explainInChunks<T extends tf.Tensor = tf.Tensor3D>(
  ctx: Pick<ScoringContext, 'inputs' | 'count' | 'batchSize'>,
  chunk: (x: tf.Tensor, start: number, size: number) => T,
): Promise<T> {
  const parts: T[] = [];
  try {
    for (let start = 0; start < ctx.count; start += ctx.batchSize) {
      const size = Math.min(ctx.batchSize, ctx.count - start);
      parts.push(tf.tidy(() => chunk(tf.slice(ctx.inputs, start, size), start, size)));
      // Yield between chunks so long explanations do not block an event loop or a UI.
      await Promise.resolve();
    }
    if (parts.length === 1) return parts.pop() as T;
    return tf.concat(parts, 0) as T;
  } finally {
    tf.dispose(parts);
  }
}
