import { PiqInputError, PiqStateError } from '../errors';
import type { CanvasLike, ImageDataLike, RgbaImage } from './types';
import { boolean, finiteNumber, optionKeys, optionsObject } from '../internal/checks';
import { rgbaImage } from './validate';

type ImageDataConstructor = new (data: Uint8ClampedArray, width: number, height: number) => ImageDataLike;

/**
 * Converts an image to a DOM `ImageData` (a copy of the pixels), for `putImageData` or
 * `createImageBitmap`. Needs a global `ImageData` constructor: browsers and web workers have one,
 * Node does not.
 *
 * @param image - The image to convert.
 * @returns A new `ImageData`, typed structurally as {@link ImageDataLike} (cast to `ImageData` where the DOM types are loaded).
 * @throws PiqStateError when `globalThis.ImageData` does not exist; PiqInputError for a malformed image.
 * @example
 * ```ts
 * import { heatmap, toImageData } from 'piq-tfjs/visualize';
 * // In a browser:
 * const imageData = toImageData(heatmap(mask, 28, 28)) as ImageData;
 * console.log(imageData.width); // 28
 * ```
 * @category Visualize
 */
export function toImageData(image: RgbaImage): ImageDataLike {
  return toImageDataFor('toImageData', image);
}

function toImageDataFor(owner: string, image: RgbaImage): ImageDataLike {
  const img = rgbaImage(owner, 'image', image);
  const Ctor = (globalThis as { ImageData?: unknown }).ImageData;
  if (typeof Ctor !== 'function') {
    throw new PiqStateError(
      `${owner}: needs a global ImageData constructor, got ${Ctor === undefined ? 'none' : typeof Ctor}. Call it in a browser or worker, or use encodePng in Node.`,
    );
  }
  return new (Ctor as ImageDataConstructor)(new Uint8ClampedArray(img.data), img.width, img.height);
}

/**
 * Options of {@link drawToCanvas}.
 *
 * @example
 * ```ts
 * import { drawToCanvas, type DrawToCanvasOptions } from 'piq-tfjs/visualize';
 * const options: DrawToCanvasOptions = { resize: false, x: 10, y: 10 };
 * ```
 * @category Visualize
 */
export interface DrawToCanvasOptions {
  /**
   * Set the canvas's width and height to the image's before drawing (this also clears it).
   * @defaultValue true
   */
  resize?: boolean;
  /**
   * Left edge of the image on the canvas, in pixels.
   * @defaultValue 0
   */
  x?: number;
  /**
   * Top edge of the image on the canvas, in pixels.
   * @defaultValue 0
   */
  y?: number;
}

const DRAW_TO_CANVAS_KEYS = optionKeys<DrawToCanvasOptions>({ resize: true, x: true, y: true });

/**
 * {@link DrawToCanvasOptions} with every default filled in.
 * @category Visualize
 */
export interface DrawToCanvasConfig {
  /** Resize the canvas to the image. */
  resize: boolean;
  /** Left edge in pixels. */
  x: number;
  /** Top edge in pixels. */
  y: number;
}

/**
 * Defaults of {@link drawToCanvas}: resize the canvas and draw at its top-left corner.
 */
export const DEFAULT_DRAW_TO_CANVAS_OPTIONS: Readonly<DrawToCanvasConfig> = Object.freeze({ resize: true, x: 0, y: 0 });

/**
 * Draws an image onto a canvas (an `HTMLCanvasElement` or `OffscreenCanvas`, typed structurally
 * as {@link CanvasLike} so no DOM types are needed to compile) with `putImageData`, which copies
 * pixels exactly (no blending, no smoothing). Enlarge small images first with {@link resizeNearest}.
 *
 * @param image - The image to draw.
 * @param canvas - Any object with `width`, `height` and `getContext('2d')`.
 * @param options - Resize the canvas or not; where to draw.
 * @throws PiqStateError when there is no global `ImageData` or the canvas gives no 2D context; PiqInputError for a malformed image or a non-canvas; PiqConfigError for bad options.
 * @example
 * ```ts
 * import { drawToCanvas, heatmap, resizeNearest } from 'piq-tfjs/visualize';
 * // In a browser:
 * const canvas = document.createElement('canvas');
 * drawToCanvas(resizeNearest(heatmap(mask, 28, 28), 8), canvas);
 * console.log(canvas.width); // 224
 * ```
 * @category Visualize
 */
export function drawToCanvas(image: RgbaImage, canvas: CanvasLike, options?: DrawToCanvasOptions): void {
  const owner = 'drawToCanvas';
  const o = optionsObject(owner, options, DRAW_TO_CANVAS_KEYS);
  const config: DrawToCanvasConfig = {
    resize: boolean(owner, 'resize', o.resize ?? DEFAULT_DRAW_TO_CANVAS_OPTIONS.resize),
    x: finiteNumber(owner, 'x', o.x ?? DEFAULT_DRAW_TO_CANVAS_OPTIONS.x),
    y: finiteNumber(owner, 'y', o.y ?? DEFAULT_DRAW_TO_CANVAS_OPTIONS.y),
  };
  if (canvas === null || typeof canvas !== 'object' || typeof (canvas as Partial<CanvasLike>).getContext !== 'function') {
    throw new PiqInputError(`${owner}: 'canvas' must have a getContext method (a canvas or OffscreenCanvas), got ${canvas === null ? 'null' : typeof canvas}.`);
  }
  const imageData = toImageDataFor(owner, image);
  if (config.resize) {
    canvas.width = imageData.width;
    canvas.height = imageData.height;
  }
  const ctx = canvas.getContext('2d');
  if (ctx === null || ctx === undefined || typeof ctx.putImageData !== 'function') {
    throw new PiqStateError(
      `${owner}: 'canvas'.getContext('2d') must return a 2D context, got ${ctx === null ? 'null' : typeof ctx}. The canvas may already hold a WebGL context; use another canvas.`,
    );
  }
  ctx.putImageData(imageData, config.x, config.y);
}
