import { PiqInputError } from '../errors';
import { type Colormap, type ColormapName, resolveLut } from './colormap';
import { paintLut } from './heatmap';
import { rangeBound, resolveRange } from './normalize';
import { toRgbaFor } from './to-rgba';
import type { NumericArray, RgbaImage } from './types';
import { optionKeys, optionsObject } from '../internal/checks';
import { numericArray, rgbaImage, unitInterval } from './validate';

/**
 * Options of {@link overlay}.
 *
 * @example
 * ```ts
 * import { overlay, type OverlayOptions } from 'piq-tfjs/visualize';
 * const options: OverlayOptions = { alpha: 0.25 };
 * ```
 * @category Visualize
 */
export interface OverlayOptions {
  /**
   * Opacity of the heat layer in [0, 1], multiplied by each heat pixel's own alpha.
   * @defaultValue 0.5
   */
  alpha?: number;
}

const OVERLAY_KEYS = optionKeys<OverlayOptions>({ alpha: true });

/**
 * {@link OverlayOptions} with every default filled in.
 * @category Visualize
 */
export interface OverlayConfig {
  /** Heat-layer opacity in [0, 1]. */
  alpha: number;
}

/**
 * Defaults of {@link overlay}: half-transparent heat layer.
 */
export const DEFAULT_OVERLAY_OPTIONS: Readonly<OverlayConfig> = Object.freeze({ alpha: 0.5 });

/** Porter-Duff "source over" of heat on base, in place into `out`. */
function compositeInto(base: Uint8ClampedArray, heat: Uint8ClampedArray, alpha: number, out: Uint8ClampedArray): void {
  for (let o = 0; o < out.length; o += 4) {
    const as = (alpha * (heat[o + 3] as number)) / 255;
    const ab = (base[o + 3] as number) / 255;
    const wb = ab * (1 - as);
    const ao = as + wb;
    if (ao === 0) {
      out[o] = 0;
      out[o + 1] = 0;
      out[o + 2] = 0;
      out[o + 3] = 0;
      continue;
    }
    for (let c = 0; c < 3; c++) {
      out[o + c] = Math.round(((heat[o + c] as number) * as + (base[o + c] as number) * wb) / ao);
    }
    out[o + 3] = Math.round(ao * 255);
  }
}

/**
 * Draws `heat` over `base` with alpha compositing (Porter–Duff "source over"). With heat opacity
 * a = alpha · heatAlpha/255 and base opacity b = baseAlpha/255, each output channel is
 * (heat · a + base · b · (1 − a)) / (a + b · (1 − a)) and the output alpha is 255 · (a + b · (1 − a)),
 * rounded. For an opaque base and heat this is simply heat · alpha + base · (1 − alpha).
 *
 * @param base - The image underneath (e.g. the input from {@link toRgba}).
 * @param heat - The layer on top (e.g. a {@link heatmap}); same width and height as `base`.
 * @param options - Heat-layer opacity.
 * @returns A new {@link RgbaImage}; the inputs are not modified.
 * @throws PiqInputError when the images are malformed or their sizes differ; PiqConfigError for bad options.
 * @example
 * ```ts
 * import { overlay } from 'piq-tfjs/visualize';
 * const grey = { width: 1, height: 1, data: new Uint8ClampedArray([100, 100, 100, 255]) };
 * const red = { width: 1, height: 1, data: new Uint8ClampedArray([200, 0, 0, 255]) };
 * console.log(Array.from(overlay(grey, red, { alpha: 0.25 }).data)); // [125, 75, 75, 255]
 * ```
 * @category Visualize
 */
export function overlay(base: RgbaImage, heat: RgbaImage, options?: OverlayOptions): RgbaImage {
  const owner = 'overlay';
  const b = rgbaImage(owner, 'base', base);
  const h = rgbaImage(owner, 'heat', heat);
  if (b.width !== h.width || b.height !== h.height) {
    throw new PiqInputError(
      `${owner}: 'heat' must have the size of 'base' (${b.width}x${b.height}), got ${h.width}x${h.height}. Resize one of them first (e.g. resizeNearest).`,
    );
  }
  const o = optionsObject(owner, options, OVERLAY_KEYS);
  const alpha = unitInterval(owner, 'alpha', o.alpha ?? DEFAULT_OVERLAY_OPTIONS.alpha);
  const data = new Uint8ClampedArray(b.data.length);
  compositeInto(b.data, h.data, alpha, data);
  return { width: b.width, height: b.height, data };
}

/**
 * Options of {@link maskOverlay}.
 *
 * @example
 * ```ts
 * import { maskOverlay, type MaskOverlayOptions } from 'piq-tfjs/visualize';
 * const options: MaskOverlayOptions = { colormap: 'inferno', alpha: 0.6 };
 * ```
 * @category Visualize
 */
export interface MaskOverlayOptions {
  /**
   * Colormap of the mask layer: a built-in name or a {@link Colormap}.
   * @defaultValue 'viridis'
   */
  colormap?: ColormapName | Colormap;
  /**
   * Opacity of the mask layer in [0, 1].
   * @defaultValue 0.5
   */
  alpha?: number;
  /**
   * Mask value drawn with the colormap's first colour ('auto' = the mask's minimum).
   * @defaultValue 0
   */
  maskMin?: number | 'auto';
  /**
   * Mask value drawn with the colormap's last colour ('auto' = the mask's maximum).
   * @defaultValue 1
   */
  maskMax?: number | 'auto';
  /**
   * Image value drawn as black ('auto' = the image's minimum).
   * @defaultValue 0
   */
  imageMin?: number | 'auto';
  /**
   * Image value drawn at full intensity ('auto' = the image's maximum).
   * @defaultValue 1
   */
  imageMax?: number | 'auto';
}

const MASK_OVERLAY_KEYS = optionKeys<MaskOverlayOptions>({ colormap: true, alpha: true, maskMin: true, maskMax: true, imageMin: true, imageMax: true });

/**
 * {@link MaskOverlayOptions} with every default filled in.
 * @category Visualize
 */
export interface MaskOverlayConfig {
  /** Colormap name or object. */
  colormap: ColormapName | Colormap;
  /** Mask-layer opacity in [0, 1]. */
  alpha: number;
  /** Mask lower bound, or 'auto'. */
  maskMin: number | 'auto';
  /** Mask upper bound, or 'auto'. */
  maskMax: number | 'auto';
  /** Image lower bound, or 'auto'. */
  imageMin: number | 'auto';
  /** Image upper bound, or 'auto'. */
  imageMax: number | 'auto';
}

/**
 * Defaults of {@link maskOverlay}: viridis at half opacity, mask and image both in [0, 1].
 */
export const DEFAULT_MASK_OVERLAY_OPTIONS: Readonly<MaskOverlayConfig> = Object.freeze({
  colormap: 'viridis',
  alpha: 0.5,
  maskMin: 0,
  maskMax: 1,
  imageMin: 0,
  imageMax: 1,
});

/**
 * Draws an importance mask over the input it explains, in one call: the image goes through
 * {@link toRgba}, the mask through {@link heatmap}, and the mask is composited on top with
 * {@link overlay}. The mask must have the image's width and height (one value per pixel).
 *
 * @param image - Row-major `[height, width, channels]` input values (default range [0, 1]).
 * @param mask - Row-major `[height, width]` mask values (default range [0, 1]).
 * @param width - Width in pixels of both.
 * @param height - Height in pixels of both.
 * @param channels - Channels of `image`: 1, 3 or 4.
 * @param options - Colormap, opacity, value ranges.
 * @returns A new {@link RgbaImage}.
 * @throws PiqInputError for wrong sizes, lengths or non-finite values; PiqConfigError for bad options.
 * @example
 * ```ts
 * import { maskOverlay } from 'piq-tfjs/visualize';
 * const img = maskOverlay([1], [0], 1, 1, 1, { colormap: 'gray', alpha: 0.5 });
 * console.log(Array.from(img.data)); // [128, 128, 128, 255]: white image, black mask, half each
 * ```
 * @category Visualize
 */
export function maskOverlay(
  image: NumericArray,
  mask: NumericArray,
  width: number,
  height: number,
  channels: 1 | 3 | 4,
  options?: MaskOverlayOptions,
): RgbaImage {
  const owner = 'maskOverlay';
  const o = optionsObject(owner, options, MASK_OVERLAY_KEYS);
  const config: MaskOverlayConfig = {
    colormap: o.colormap ?? DEFAULT_MASK_OVERLAY_OPTIONS.colormap,
    alpha: unitInterval(owner, 'alpha', o.alpha ?? DEFAULT_MASK_OVERLAY_OPTIONS.alpha),
    maskMin: rangeBound(owner, 'maskMin', o.maskMin ?? DEFAULT_MASK_OVERLAY_OPTIONS.maskMin),
    maskMax: rangeBound(owner, 'maskMax', o.maskMax ?? DEFAULT_MASK_OVERLAY_OPTIONS.maskMax),
    imageMin: rangeBound(owner, 'imageMin', o.imageMin ?? DEFAULT_MASK_OVERLAY_OPTIONS.imageMin),
    imageMax: rangeBound(owner, 'imageMax', o.imageMax ?? DEFAULT_MASK_OVERLAY_OPTIONS.imageMax),
  };
  const lut = resolveLut(owner, 'colormap', config.colormap);
  const base = toRgbaFor(
    owner,
    'image',
    image,
    width,
    height,
    channels,
    { min: config.imageMin, max: config.imageMax },
    { min: 'imageMin', max: 'imageMax' },
  );
  const vals = numericArray(owner, 'mask', mask, base.width * base.height, 'width * height');
  const { offset, scale } = resolveRange(owner, { min: 'maskMin', max: 'maskMax' }, vals, config.maskMin, config.maskMax);
  const heat = new Uint8ClampedArray(base.data.length);
  paintLut(vals, lut, offset, scale, 255, heat, (p) => p);
  const data = new Uint8ClampedArray(base.data.length);
  compositeInto(base.data, heat, config.alpha, data);
  return { width: base.width, height: base.height, data };
}
