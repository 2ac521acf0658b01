// What `interpret` and `explain` accept besides a batch: one example (a tensor with the rank of the
// classifier's input), or pixels (ImageData, an image, canvas or video element, an ImageBitmap, or
// tfjs' `{ width, height, data }`), read with tf.browser.fromPixels and scaled to `inputRange`.
import * as tf from '@tensorflow/tfjs-core';
import { PiqConfigError, PiqInputError } from '../errors';
import { describe, shapeStr } from '../internal/checks';
import { isTensor } from '../internal/tensor-checks';

/**
 * Pixels as `tf.browser.fromPixels` reads them: `ImageData`, `HTMLImageElement`,
 * `HTMLCanvasElement`, `HTMLVideoElement`, `ImageBitmap`, or `{ width, height, data }` with RGBA
 * bytes (tfjs' `PixelData`, which also works in Node).
 * @category Classifier
 */
export type PixelSource = Parameters<typeof tf.browser.fromPixels>[0];

/**
 * An input of {@link Interpreter.interpret} and {@link AttributionMethod.explain}: a batch
 * `[batch, height, width, channels]`, one example `[height, width, channels]` (a batch of one),
 * or pixels (a batch of one, scaled by `inputRange`).
 * @category Classifier
 */
export type ClassifierInput = tf.Tensor | PixelSource;

/** The range bytes 0..255 of pixels are mapped to when nothing else is asked for. */
export const DEFAULT_INPUT_RANGE: readonly [number, number] = Object.freeze([0, 1] as [number, number]);

/** Validates an `inputRange` option: `[min, max]`, finite, `min < max`. */
export function resolveInputRange(owner: string, value: unknown): [number, number] {
  if (value === undefined) return [...DEFAULT_INPUT_RANGE];
  if (!Array.isArray(value) || value.length !== 2 || !value.every((v) => typeof v === 'number' && Number.isFinite(v)) || !((value[0] as number) < (value[1] as number))) {
    throw new PiqConfigError(
      `${owner}: 'inputRange' must be [min, max] with finite min < max (the values pixel bytes 0 and 255 become), got ${Array.isArray(value) ? JSON.stringify(value) : describe(value)}. Use [0, 1] or [0, 255], as the classifier was trained.`,
    );
  }
  return [value[0] as number, value[1] as number];
}

/** Whether a value is pixels fromPixels can read (checked by shape, as elements differ per environment). */
export function isPixelSource(value: unknown): value is PixelSource {
  if (typeof value !== 'object' || value === null || isTensor(value)) return false;
  const v = value as { width?: unknown; height?: unknown; videoWidth?: unknown };
  return typeof v.videoWidth === 'number' || (typeof v.width === 'number' && typeof v.height === 'number');
}

/**
 * A batch for the classifier from what the caller passed: a tensor with the rank of one example
 * gets a batch axis; pixels are read with `tf.browser.fromPixels` (the classifier's channel count:
 * 1 takes the red channel, which is the grey level of a grey image; 3 drops alpha) and mapped
 * linearly from 0..255 to `inputRange`; anything else passes through for `checkInputBatch` to
 * judge. `owned` tells whether the caller must dispose `batch`.
 */
export function toInputBatch(
  owner: string,
  name: string,
  input: unknown,
  inputShape: readonly number[] | undefined,
  inputRange: readonly [number, number],
): { batch: unknown; owned: boolean } {
  if (isTensor(input)) {
    const single =
      !input.isDisposed &&
      inputShape !== undefined &&
      input.rank === inputShape.length &&
      inputShape.every((d, i) => !(d > 0) || input.shape[i] === d);
    return single ? { batch: tf.expandDims(input, 0), owned: true } : { batch: input, owned: false };
  }
  if (!isPixelSource(input)) return { batch: input, owned: false };
  const channels = inputShape?.length === 3 ? (inputShape[2] as number) : 3;
  if (channels !== 1 && channels !== 3 && channels !== 4) {
    throw new PiqInputError(
      `${owner}: '${name}' must be a tensor for a classifier with ${channels} input channels, got pixels (${describe(input)}). Pixels give 1, 3 or 4 channels.`,
    );
  }
  const [lo, hi] = inputRange;
  const batch = tf.tidy(() => {
    const px = tf.cast(tf.browser.fromPixels(input, channels), 'float32');
    // byte / 255 first: for the default [0, 1] that is exactly the float32 division a user would write.
    const unit = lo === 0 && hi === 255 ? px : tf.div(px, 255);
    const scaled = (lo === 0 && hi === 1) || (lo === 0 && hi === 255) ? unit : tf.add(tf.mul(unit, hi - lo), lo);
    return tf.expandDims(scaled, 0);
  });
  const [h, w] = inputShape ?? [];
  if (inputShape?.length === 3 && h !== undefined && w !== undefined && ((h > 0 && batch.shape[1] !== h) || (w > 0 && batch.shape[2] !== w))) {
    const got = shapeStr(batch.shape.slice(1, 3));
    batch.dispose();
    throw new PiqInputError(
      `${owner}: '${name}' must be pixels of height ${h} and width ${w} to match the classifier input ${shapeStr(inputShape)}, got ${got}. Draw it onto a canvas of that size or resize it (tf.image.resizeBilinear) first.`,
    );
  }
  return { batch, owned: true };
}
