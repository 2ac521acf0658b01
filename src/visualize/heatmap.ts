import { resolveLut, type Colormap, type ColormapName } from './colormap';
import { rangeBound, resolveRange } from './normalize';
import type { NumericArray, RgbaImage } from './types';
import { optionKeys, optionsObject } from '../internal/checks';
import { unitInterval, valueGrid } from './validate';

/**
 * Options of {@link heatmap}.
 *
 * @example
 * ```ts
 * import { heatmap, type HeatmapOptions } from 'piq-tfjs/visualize';
 * const options: HeatmapOptions = { colormap: 'magma', min: 'auto', max: 'auto' };
 * console.log(heatmap([2, 4], 2, 1, options).data.length); // 8
 * ```
 * @category Visualize
 */
export interface HeatmapOptions {
  /**
   * A built-in colormap name or a {@link Colormap} object.
   * @defaultValue 'viridis'
   */
  colormap?: ColormapName | Colormap;
  /**
   * The value drawn with the colormap's first colour; smaller values are clamped. 'auto' uses the
   * data's minimum. Masks are in [0, 1], hence the default.
   * @defaultValue 0
   */
  min?: number | 'auto';
  /**
   * The value drawn with the colormap's last colour; larger values are clamped. 'auto' uses the
   * data's maximum.
   * @defaultValue 1
   */
  max?: number | 'auto';
  /**
   * Opacity of every pixel, in [0, 1] (stored as round(255 · alpha)).
   * @defaultValue 1
   */
  alpha?: number;
}

const HEATMAP_KEYS = optionKeys<HeatmapOptions>({ colormap: true, min: true, max: true, alpha: true });

/**
 * {@link HeatmapOptions} with every default filled in.
 * @category Visualize
 */
export interface HeatmapConfig {
  /** Colormap name or object. */
  colormap: ColormapName | Colormap;
  /** Lower bound, or 'auto'. */
  min: number | 'auto';
  /** Upper bound, or 'auto'. */
  max: number | 'auto';
  /** Opacity in [0, 1]. */
  alpha: number;
}

/**
 * Defaults of {@link heatmap}: viridis, range [0, 1], opaque.
 */
export const DEFAULT_HEATMAP_OPTIONS: Readonly<HeatmapConfig> = Object.freeze({
  colormap: 'viridis',
  min: 0,
  max: 1,
  alpha: 1,
});

/** Writes colormapped pixels: pixel p takes the colour of values[source(p)]. Shared with spectrogramImage. */
export function paintLut(
  values: NumericArray,
  lut: Uint8Array,
  offset: number,
  scale: number,
  alphaByte: number,
  out: Uint8ClampedArray,
  sourceIndex: (pixel: number) => number,
): void {
  const pixels = out.length / 4;
  for (let p = 0; p < pixels; p++) {
    const t = ((values[sourceIndex(p)] as number) - offset) * scale;
    // floor(t * 256) clamped to [0, 255]: matplotlib's lookup rule (see colormap.ts lutIndex).
    const idx = t > 0 ? (t >= 1 ? 255 : Math.floor(t * 256)) : 0;
    const o = 4 * p;
    out[o] = lut[3 * idx] as number;
    out[o + 1] = lut[3 * idx + 1] as number;
    out[o + 2] = lut[3 * idx + 2] as number;
    out[o + 3] = alphaByte;
  }
}

/**
 * Renders a 2D array of values (an importance mask, a saliency map) as a colormapped RGBA image.
 * `values` is row-major `[height, width]`, as `await tensor.data()` gives for a `[height, width]`
 * or `[height, width, 1]` tensor. Values map linearly from [min, max] to the colormap and are
 * clamped outside it.
 *
 * @param values - `width * height` finite numbers, row-major.
 * @param width - Image width in pixels.
 * @param height - Image height in pixels.
 * @param options - Colormap, value range, opacity.
 * @returns A new {@link RgbaImage}.
 * @throws PiqInputError for wrong sizes, a wrong length or non-finite values; PiqConfigError for bad options.
 * @example
 * ```ts
 * import { heatmap } from 'piq-tfjs/visualize';
 * const img = heatmap(new Float32Array([0, 1]), 2, 1);
 * console.log(Array.from(img.data)); // [68, 1, 84, 255, 253, 231, 37, 255]
 * ```
 * @category Visualize
 */
export function heatmap(values: NumericArray, width: number, height: number, options?: HeatmapOptions): RgbaImage {
  const owner = 'heatmap';
  const { width: w, height: h, values: vals } = valueGrid(owner, { name: 'values', value: values }, { name: 'width', value: width }, { name: 'height', value: height }, 'Pass smaller sizes.');
  const config = resolveHeatmapOptions(owner, options);
  const lut = resolveLut(owner, 'colormap', config.colormap);
  const { offset, scale } = resolveRange(owner, { min: 'min', max: 'max' }, vals, config.min, config.max);
  const data = new Uint8ClampedArray(w * h * 4);
  paintLut(vals, lut, offset, scale, Math.round(config.alpha * 255), data, (p) => p);
  return { width: w, height: h, data };
}

/** Fills defaults with ?? and validates the options of heatmap (and of callers that forward them). */
export function resolveHeatmapOptions(owner: string, options: HeatmapOptions | undefined): HeatmapConfig {
  const o = optionsObject(owner, options, HEATMAP_KEYS);
  const colormap = o.colormap ?? DEFAULT_HEATMAP_OPTIONS.colormap;
  resolveLut(owner, 'colormap', colormap);
  return {
    colormap,
    min: rangeBound(owner, 'min', o.min ?? DEFAULT_HEATMAP_OPTIONS.min),
    max: rangeBound(owner, 'max', o.max ?? DEFAULT_HEATMAP_OPTIONS.max),
    alpha: unitInterval(owner, 'alpha', o.alpha ?? DEFAULT_HEATMAP_OPTIONS.alpha),
  };
}
