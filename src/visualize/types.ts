/**
 * An 8-bit RGBA raster in row-major order: pixel (x, y) occupies
 * `data[4 * (y * width + x) + 0..3]` as red, green, blue, alpha (0–255, alpha 255 = opaque).
 * The same layout as the DOM's `ImageData`, without depending on it.
 *
 * @example
 * ```ts
 * import type { RgbaImage } from 'piq-tfjs/visualize';
 * const red: RgbaImage = { width: 1, height: 1, data: new Uint8ClampedArray([255, 0, 0, 255]) };
 * console.log(red.data.length); // 4
 * ```
 * @category Visualize
 */
export interface RgbaImage {
  /** Width in pixels (a positive integer). */
  readonly width: number;
  /** Height in pixels (a positive integer). */
  readonly height: number;
  /** `width * height * 4` bytes, RGBA per pixel, rows top to bottom. */
  readonly data: Uint8ClampedArray;
}

/**
 * One opaque colour as 0–255 channel values.
 *
 * @example
 * ```ts
 * import { colormap } from 'piq-tfjs/visualize';
 * console.log(colormap('viridis').rgb(0)); // { r: 68, g: 1, b: 84 }
 * ```
 * @category Visualize
 */
export interface RgbColor {
  /** Red, 0–255. */
  readonly r: number;
  /** Green, 0–255. */
  readonly g: number;
  /** Blue, 0–255. */
  readonly b: number;
}

/**
 * One colour with opacity as 0–255 channel values (alpha 255 = opaque).
 *
 * @example
 * ```ts
 * import { grid, type RgbaColor } from 'piq-tfjs/visualize';
 * const transparent: RgbaColor = { r: 0, g: 0, b: 0, a: 0 };
 * // grid(rows, { background: transparent })
 * ```
 * @category Visualize
 */
export interface RgbaColor extends RgbColor {
  /** Alpha, 0–255 (255 = opaque). */
  readonly a: number;
}

/**
 * A flat array of numbers: a typed array such as `Float32Array` (what `tensor.data()` resolves to)
 * or a plain `number[]`.
 *
 * @example
 * ```ts
 * import type { NumericArray } from 'piq-tfjs/visualize';
 * const mask: NumericArray = new Float32Array([0, 0.5, 1]);
 * console.log(mask.length); // 3
 * ```
 * @category Visualize
 */
export type NumericArray = ArrayLike<number>;

/**
 * The structural shape of a DOM `ImageData` (so these types compile without the DOM library).
 *
 * @example
 * ```ts
 * import { toImageData } from 'piq-tfjs/visualize';
 * // In a browser: const imageData = toImageData(image) as ImageData;
 * ```
 * @category Visualize
 */
export interface ImageDataLike {
  /** Width in pixels. */
  readonly width: number;
  /** Height in pixels. */
  readonly height: number;
  /** RGBA bytes. */
  readonly data: Uint8ClampedArray;
}

/**
 * The part of a 2D canvas context that {@link drawToCanvas} uses: `putImageData`.
 * A DOM `CanvasRenderingContext2D` or `OffscreenCanvasRenderingContext2D` satisfies it.
 *
 * @example
 * ```ts
 * import type { Canvas2DContextLike } from 'piq-tfjs/visualize';
 * const recorder: Canvas2DContextLike = { putImageData: (img, x, y) => console.log(x, y) };
 * ```
 * @category Visualize
 */
export interface Canvas2DContextLike {
  /** Writes an `ImageData` at (dx, dy). */
  putImageData(imageData: ImageDataLike, dx: number, dy: number): void;
}

/**
 * The part of a canvas that {@link drawToCanvas} uses: a size and `getContext('2d')`.
 * A DOM `HTMLCanvasElement` or an `OffscreenCanvas` satisfies it.
 *
 * @example
 * ```ts
 * import { drawToCanvas, heatmap } from 'piq-tfjs/visualize';
 * // In a browser: drawToCanvas(heatmap(mask, 28, 28), document.querySelector('canvas')!);
 * ```
 * @category Visualize
 */
export interface CanvasLike {
  /** Canvas width in pixels (set by drawToCanvas when `resize` is true). */
  width: number;
  /** Canvas height in pixels (set by drawToCanvas when `resize` is true). */
  height: number;
  /** Returns the 2D context, or null when the canvas has another kind of context. */
  getContext(contextId: '2d'): Canvas2DContextLike | null;
}
