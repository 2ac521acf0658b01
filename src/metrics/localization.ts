import type * as tf from '@tensorflow/tfjs-core';
import { PiqInputError } from '../errors';
import { finiteNumber, optionKeys, optionsObject, shapeStr } from '../internal/checks';
import { toResult } from './context';
import { assertUnitRange } from './masks';
import { checkMaskBatch } from './mask-statistics';
import type { MetricResult } from './types';

/**
 * Options of {@link maskIoU}.
 * @category Metrics
 */
export interface MaskIoUOptions {
  /**
   * A mask element belongs to the predicted region when its value is `>= threshold`.
   * @defaultValue 0.5
   */
  threshold?: number;
}

const MASK_IOU_KEYS = optionKeys<MaskIoUOptions>({ threshold: true });

/**
 * Defaults of {@link MaskIoUOptions}.
 */
export const DEFAULT_MASK_IOU_OPTIONS: Readonly<Required<MaskIoUOptions>> = Object.freeze({ threshold: 0.5 });

/** Drops a trailing dimension of size 1 (a channel axis) from a shape of rank >= 3. */
function squeezeChannel(shape: readonly number[]): readonly number[] {
  return shape.length >= 3 && shape[shape.length - 1] === 1 ? shape.slice(0, -1) : shape;
}

/** Validates masks and ground truth of the same shape (up to a trailing channel of 1) and reads both. */
function readPair(owner: string, masks: unknown, groundTruth: unknown): { m: Float32Array; g: Float32Array; batch: number } {
  const m = checkMaskBatch(owner, 'masks', masks);
  const g = checkMaskBatch(owner, 'groundTruth', groundTruth);
  const ms = squeezeChannel(m.shape);
  const gs = squeezeChannel(g.shape);
  if (ms.length !== gs.length || ms.some((d, i) => d !== gs[i])) {
    throw new PiqInputError(
      `${owner}: 'groundTruth' must have the masks' shape ${shapeStr(m.shape)} (a trailing channel of 1 is ignored), got ${shapeStr(g.shape)}. ` +
        'Resize the ground truth to the mask size.',
    );
  }
  assertUnitRange(owner, 'groundTruth', g);
  return { m: m.dataSync() as Float32Array, g: g.dataSync() as Float32Array, batch: m.shape[0] as number };
}

/**
 * Pointing game (Zhang et al. 2016): whether each mask's maximum falls inside the ground-truth
 * region (`groundTruth >= 0.5`), per example 1 (hit) or 0 (miss); higher is better.
 *
 * When several elements share the maximum, the score is the fraction of them inside the region
 * (the expected hit under random tie-breaking), so a flat mask scores the region's area fraction
 * rather than a lucky 1. No tolerance margin is applied. `masks` and `groundTruth` are
 * `[batch, height, width]` (a trailing channel of 1 on either is ignored); ground truth in [0, 1].
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { pointingGame } from 'piq-tfjs';
 * const masks = tf.tensor3d([[[0.1, 0.9], [0.2, 0.3]], [[0.8, 0.1], [0.2, 0.3]]]);
 * const truth = tf.tensor3d([[[0, 1], [0, 0]], [[0, 1], [0, 0]]]);
 * console.log(Array.from(pointingGame(masks, truth).values)); // [1, 0]
 * ```
 * @category Metrics
 */
export function pointingGame(masks: tf.Tensor, groundTruth: tf.Tensor): MetricResult {
  const { m, g, batch } = readPair('pointingGame', masks, groundTruth);
  const size = m.length / batch;
  const values = new Float32Array(batch);
  for (let i = 0; i < batch; i++) {
    let max = -Infinity;
    for (let j = i * size; j < (i + 1) * size; j++) max = Math.max(max, m[j] as number);
    let tied = 0;
    let inside = 0;
    for (let j = i * size; j < (i + 1) * size; j++) {
      if (m[j] === max) {
        tied++;
        if ((g[j] as number) >= 0.5) inside++;
      }
    }
    values[i] = inside / tied;
  }
  return toResult(values);
}

/**
 * Intersection over union of each thresholded mask (`mask >= threshold`) with the ground-truth
 * region (`groundTruth >= 0.5`), per example in [0, 1]; higher is better. When both regions are
 * empty the masks agree perfectly and the score is 1.
 *
 * `masks` and `groundTruth` are `[batch, height, width]` (a trailing channel of 1 on either is
 * ignored); ground truth in [0, 1].
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { maskIoU } from 'piq-tfjs';
 * const masks = tf.tensor3d([[[0.9, 0.7], [0.2, 0.1]]]);
 * const truth = tf.tensor3d([[[1, 0], [0, 0]]]);
 * console.log(maskIoU(masks, truth).mean); // 0.5
 * console.log(maskIoU(masks, truth, { threshold: 0.8 }).mean); // 1
 * ```
 * @category Metrics
 */
export function maskIoU(masks: tf.Tensor, groundTruth: tf.Tensor, options?: MaskIoUOptions): MetricResult {
  const threshold = finiteNumber('maskIoU', 'threshold', optionsObject('maskIoU', options, MASK_IOU_KEYS).threshold ?? DEFAULT_MASK_IOU_OPTIONS.threshold, { min: 0, max: 1 });
  const { m, g, batch } = readPair('maskIoU', masks, groundTruth);
  const size = m.length / batch;
  const values = new Float32Array(batch);
  for (let i = 0; i < batch; i++) {
    let inter = 0;
    let union = 0;
    for (let j = i * size; j < (i + 1) * size; j++) {
      const a = (m[j] as number) >= threshold;
      const b = (g[j] as number) >= 0.5;
      if (a && b) inter++;
      if (a || b) union++;
    }
    values[i] = union === 0 ? 1 : inter / union;
  }
  return toResult(values);
}
