import { PiqInputError } from '../errors';
import { rangeBound, resolveRange } from './normalize';
import type { NumericArray, RgbaImage } from './types';
import { describe, optionKeys, optionsObject } from '../internal/checks';
import { valueGrid } from './validate';

/**
 * Options of {@link toRgba}.
 *
 * @example
 * ```ts
 * import { toRgba, type ToRgbaOptions } from 'piq-tfjs/visualize';
 * const options: ToRgbaOptions = { min: -1, max: 1 }; // a model input normalised to [-1, 1]
 * console.log(Array.from(toRgba([0], 1, 1, 1, options).data)); // [128, 128, 128, 255]
 * ```
 * @category Visualize
 */
export interface ToRgbaOptions {
  /**
   * The input value drawn as 0 (black / transparent); smaller values are clamped. 'auto' uses the
   * data's minimum.
   * @defaultValue 0
   */
  min?: number | 'auto';
  /**
   * The input value drawn as 255 (full intensity / opaque); larger values are clamped. 'auto' uses
   * the data's maximum.
   * @defaultValue 1
   */
  max?: number | 'auto';
}

const TO_RGBA_KEYS = optionKeys<ToRgbaOptions>({ min: true, max: true });

/**
 * {@link ToRgbaOptions} with every default filled in.
 * @category Visualize
 */
export interface ToRgbaConfig {
  /** Lower bound, or 'auto'. */
  min: number | 'auto';
  /** Upper bound, or 'auto'. */
  max: number | 'auto';
}

/**
 * Defaults of {@link toRgba}: inputs in [0, 1].
 */
export const DEFAULT_TO_RGBA_OPTIONS: Readonly<ToRgbaConfig> = Object.freeze({ min: 0, max: 1 });

/**
 * Converts a model input image (grey, RGB or RGBA floats, values in [min, max], default [0, 1]) to an
 * 8-bit RGBA image. `image` is row-major `[height, width, channels]`, as `await tensor.data()` gives
 * for one `[height, width, channels]` example. Grey is copied to R, G and B; a missing alpha is 255.
 * Each value maps to round(255 · (v − min) / (max − min)), clamped to [0, 255].
 *
 * @param image - `width * height * channels` finite numbers.
 * @param width - Image width in pixels.
 * @param height - Image height in pixels.
 * @param channels - 1 (grey), 3 (RGB) or 4 (RGBA).
 * @param options - The input value range.
 * @returns A new {@link RgbaImage}.
 * @throws PiqInputError for wrong sizes, channels, length or non-finite values; PiqConfigError for bad options.
 * @example
 * ```ts
 * import { toRgba } from 'piq-tfjs/visualize';
 * const img = toRgba(new Float32Array([0, 0.5, 1]), 3, 1, 1);
 * console.log(Array.from(img.data)); // [0, 0, 0, 255, 128, 128, 128, 255, 255, 255, 255, 255]
 * ```
 * @category Visualize
 */
export function toRgba(
  image: NumericArray,
  width: number,
  height: number,
  channels: 1 | 3 | 4,
  options?: ToRgbaOptions,
): RgbaImage {
  return toRgbaFor('toRgba', 'image', image, width, height, channels, options, { min: 'min', max: 'max' });
}

/** toRgba with the owner and argument names of the caller, for maskOverlay's messages. */
export function toRgbaFor(
  owner: string,
  imageName: string,
  image: NumericArray,
  width: number,
  height: number,
  channels: 1 | 3 | 4,
  options: ToRgbaOptions | undefined,
  names: { min: string; max: string },
): RgbaImage {
  if (channels !== 1 && channels !== 3 && channels !== 4) {
    throw new PiqInputError(`${owner}: 'channels' must be 1, 3 or 4, got ${describe(channels)}.`);
  }
  const { width: w, height: h, values: vals } = valueGrid(
    owner,
    { name: imageName, value: image, depth: { name: 'channels', value: channels } },
    { name: 'width', value: width },
    { name: 'height', value: height },
    'Pass smaller sizes.',
  );
  const o = optionsObject(owner, options, TO_RGBA_KEYS);
  const min = rangeBound(owner, names.min, o.min ?? DEFAULT_TO_RGBA_OPTIONS.min);
  const max = rangeBound(owner, names.max, o.max ?? DEFAULT_TO_RGBA_OPTIONS.max);
  const { offset, scale } = resolveRange(owner, names, vals, min, max);
  const byte = (v: number): number => {
    const t = (v - offset) * scale;
    return t <= 0 ? 0 : t >= 1 ? 255 : Math.round(t * 255);
  };
  const data = new Uint8ClampedArray(w * h * 4);
  const n = w * h;
  for (let p = 0; p < n; p++) {
    const s = p * channels;
    const d = 4 * p;
    if (channels === 1) {
      const g = byte(vals[s] as number);
      data[d] = g;
      data[d + 1] = g;
      data[d + 2] = g;
      data[d + 3] = 255;
    } else {
      data[d] = byte(vals[s] as number);
      data[d + 1] = byte(vals[s + 1] as number);
      data[d + 2] = byte(vals[s + 2] as number);
      data[d + 3] = channels === 4 ? byte(vals[s + 3] as number) : 255;
    }
  }
  return { width: w, height: h, data };
}
