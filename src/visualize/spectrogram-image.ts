import { PiqConfigError } from '../errors';
import { type Colormap, type ColormapName, resolveLut } from './colormap';
import { paintLut } from './heatmap';
import { rangeBound, resolveRange } from './normalize';
import type { NumericArray, RgbaImage } from './types';
import { describe, oneOf, optionKeys, optionsObject } from '../internal/checks';
import { unitInterval, valueGrid } from './validate';

/**
 * How {@link spectrogramImage} transforms values before colour mapping:
 * - `'linear'`: as given (e.g. an already log-compressed spectrogram such as log1p magnitudes);
 * - `'magnitude-db'`: 20 · log10(max(|v|, 1e-5)), relative to the largest value (peak = 0 dB);
 * - `'power-db'`: 10 · log10(max(v, 1e-10)), relative to the largest value (peak = 0 dB).
 *
 * @example
 * ```ts
 * import type { SpectrogramScale } from 'piq-tfjs/visualize';
 * const scale: SpectrogramScale = 'magnitude-db';
 * ```
 * @category Visualize
 */
export type SpectrogramScale = 'linear' | 'magnitude-db' | 'power-db';

/**
 * The valid {@link SpectrogramScale} values.
 *
 * @example
 * ```ts
 * import { SPECTROGRAM_SCALES } from 'piq-tfjs/visualize';
 * console.log(SPECTROGRAM_SCALES); // ['linear', 'magnitude-db', 'power-db']
 * ```
 * @category Visualize
 */
export const SPECTROGRAM_SCALES: readonly SpectrogramScale[] = Object.freeze(['linear', 'magnitude-db', 'power-db'] as const);

/**
 * Options of {@link spectrogramImage}.
 *
 * @example
 * ```ts
 * import { spectrogramImage, type SpectrogramImageOptions } from 'piq-tfjs/visualize';
 * const options: SpectrogramImageOptions = { scale: 'power-db', topDb: 60, colormap: 'inferno' };
 * ```
 * @category Visualize
 */
export interface SpectrogramImageOptions {
  /**
   * A built-in colormap name or a {@link Colormap} object.
   * @defaultValue 'magma'
   */
  colormap?: ColormapName | Colormap;
  /**
   * Value transform before colour mapping; see {@link SpectrogramScale}.
   * @defaultValue 'linear'
   */
  scale?: SpectrogramScale;
  /**
   * For the dB scales: values more than `topDb` below the peak are raised to peak − topDb (like
   * librosa's `top_db`). A positive number; `Infinity` keeps everything.
   * @defaultValue 80
   */
  topDb?: number;
  /**
   * The (transformed) value drawn with the colormap's first colour; 'auto' uses the minimum.
   * @defaultValue 'auto'
   */
  min?: number | 'auto';
  /**
   * The (transformed) value drawn with the colormap's last colour; 'auto' uses the maximum.
   * @defaultValue 'auto'
   */
  max?: number | 'auto';
  /**
   * Opacity of every pixel, in [0, 1].
   * @defaultValue 1
   */
  alpha?: number;
}

const SPECTROGRAM_IMAGE_KEYS = optionKeys<SpectrogramImageOptions>({ colormap: true, scale: true, topDb: true, min: true, max: true, alpha: true });

/**
 * {@link SpectrogramImageOptions} with every default filled in.
 * @category Visualize
 */
export interface SpectrogramImageConfig {
  /** Colormap name or object. */
  colormap: ColormapName | Colormap;
  /** Value transform. */
  scale: SpectrogramScale;
  /** Dynamic range kept by the dB scales. */
  topDb: number;
  /** Lower bound, or 'auto'. */
  min: number | 'auto';
  /** Upper bound, or 'auto'. */
  max: number | 'auto';
  /** Opacity in [0, 1]. */
  alpha: number;
}

/**
 * Defaults of {@link spectrogramImage}: magma, linear values, automatic range, opaque.
 */
export const DEFAULT_SPECTROGRAM_IMAGE_OPTIONS: Readonly<SpectrogramImageConfig> = Object.freeze({
  colormap: 'magma',
  scale: 'linear',
  topDb: 80,
  min: 'auto',
  max: 'auto',
  alpha: 1,
});

function toDecibels(values: NumericArray, scale: 'magnitude-db' | 'power-db', topDb: number): Float64Array {
  // librosa's amplitude_to_db / power_to_db with ref = max and its default amin values.
  const power = scale === 'power-db';
  const amin = power ? 1e-10 : 1e-5;
  const factor = power ? 10 : 20;
  const out = new Float64Array(values.length);
  let peak = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    const db = factor * Math.log10(Math.max(amin, power ? v : Math.abs(v)));
    out[i] = db;
    if (db > peak) peak = db;
  }
  const floor = -topDb;
  for (let i = 0; i < out.length; i++) out[i] = Math.max((out[i] as number) - peak, floor);
  return out;
}

/**
 * Renders a spectrogram as an image with time on the x axis (left to right) and frequency
 * upward (bin 0 in the bottom row), like a conventional spectrogram plot. `values` is row-major
 * `[frames, bins]` (frame-major), as `await tensor.data()` gives for a `[frames, bins]` tensor
 * such as tf.signal.stft's output magnitudes. The image is `frames` wide and `bins` tall.
 *
 * @param values - `frames * bins` finite numbers, frame-major.
 * @param frames - Number of time frames (image width).
 * @param bins - Number of frequency bins (image height).
 * @param options - Colormap, dB conversion, value range, opacity.
 * @returns A new {@link RgbaImage}.
 * @throws PiqInputError for wrong sizes, a wrong length or non-finite values; PiqConfigError for bad options.
 * @example
 * ```ts
 * import { spectrogramImage } from 'piq-tfjs/visualize';
 * // 1 frame, 2 bins: bin 0 is loud, bin 1 silent.
 * const img = spectrogramImage([1, 0], 1, 2, { colormap: 'gray' });
 * console.log(Array.from(img.data)); // [0, 0, 0, 255, 255, 255, 255, 255]: top row bin 1, bottom row bin 0
 * ```
 * @category Visualize
 */
export function spectrogramImage(
  values: NumericArray,
  frames: number,
  bins: number,
  options?: SpectrogramImageOptions,
): RgbaImage {
  const owner = 'spectrogramImage';
  const { width: f, height: b, values: raw } = valueGrid(owner, { name: 'values', value: values }, { name: 'frames', value: frames }, { name: 'bins', value: bins }, 'Pass fewer frames or bins.');
  const o = optionsObject(owner, options, SPECTROGRAM_IMAGE_KEYS);
  const config: SpectrogramImageConfig = {
    colormap: o.colormap ?? DEFAULT_SPECTROGRAM_IMAGE_OPTIONS.colormap,
    scale: oneOf(owner, 'scale', o.scale ?? DEFAULT_SPECTROGRAM_IMAGE_OPTIONS.scale, SPECTROGRAM_SCALES),
    topDb: o.topDb ?? DEFAULT_SPECTROGRAM_IMAGE_OPTIONS.topDb,
    min: rangeBound(owner, 'min', o.min ?? DEFAULT_SPECTROGRAM_IMAGE_OPTIONS.min),
    max: rangeBound(owner, 'max', o.max ?? DEFAULT_SPECTROGRAM_IMAGE_OPTIONS.max),
    alpha: unitInterval(owner, 'alpha', o.alpha ?? DEFAULT_SPECTROGRAM_IMAGE_OPTIONS.alpha),
  };
  if (typeof config.topDb !== 'number' || Number.isNaN(config.topDb) || !(config.topDb > 0)) {
    throw new PiqConfigError(`${owner}: 'topDb' must be a positive number (Infinity to keep all), got ${describe(config.topDb)}.`);
  }
  const lut = resolveLut(owner, 'colormap', config.colormap);
  const vals = config.scale === 'linear' ? raw : toDecibels(raw, config.scale, config.topDb);
  const { offset, scale } = resolveRange(owner, { min: 'min', max: 'max' }, vals, config.min, config.max);
  const data = new Uint8ClampedArray(f * b * 4);
  // Pixel (x, y) shows frame x and bin (bins - 1 - y): frequency grows upward.
  paintLut(vals, lut, offset, scale, Math.round(config.alpha * 255), data, (p) => {
    const y = Math.floor(p / f);
    const x = p - y * f;
    return x * b + (b - 1 - y);
  });
  return { width: f, height: b, data };
}
