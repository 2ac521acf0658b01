import { PiqInputError } from '../errors';
import type { RgbaColor, RgbaImage } from './types';
import { describe, nonNegativeInt, optionKeys, optionsObject } from '../internal/checks';
import { checkPixelCount, rgbaColor, rgbaImage } from './validate';

/**
 * Options of {@link grid}.
 *
 * @example
 * ```ts
 * import { grid, type GridOptions } from 'piq-tfjs/visualize';
 * const options: GridOptions = { padding: 4, background: { r: 0, g: 0, b: 0, a: 0 } };
 * ```
 * @category Visualize
 */
export interface GridOptions {
  /**
   * Pixels of background between cells and around the border.
   * @defaultValue 2
   */
  padding?: number;
  /**
   * Colour of the padding and of the unused part of cells; `a` defaults to 255.
   * @defaultValue { r: 255, g: 255, b: 255, a: 255 } (opaque white)
   */
  background?: { r: number; g: number; b: number; a?: number };
}

const GRID_KEYS = optionKeys<GridOptions>({ padding: true, background: true });

/**
 * {@link GridOptions} with every default filled in.
 * @category Visualize
 */
export interface GridConfig {
  /** Padding in pixels. */
  padding: number;
  /** Background colour. */
  background: RgbaColor;
}

/**
 * Defaults of {@link grid}: 2 pixels of opaque white padding.
 */
export const DEFAULT_GRID_OPTIONS: Readonly<GridConfig> = Object.freeze({
  padding: 2,
  background: Object.freeze({ r: 255, g: 255, b: 255, a: 255 }),
});

/**
 * Composes rows of images into one image, e.g. inputs next to their masks for several examples.
 * Every cell is as large as the largest image (widest width × tallest height); each image is
 * centred in its cell (an odd leftover pixel goes right/below), and cells are separated and
 * surrounded by `padding` pixels of `background`. Rows may hold different numbers of images;
 * the grid is as wide as the longest row. Output size:
 * `(columns · cellWidth + (columns + 1) · padding) × (rows · cellHeight + (rows + 1) · padding)`.
 *
 * @param images - Rows of images: `images[row][column]`; at least one row, each with at least one image.
 * @param options - Padding and background colour.
 * @returns A new {@link RgbaImage}.
 * @throws PiqInputError for an empty grid or a malformed image (the message gives its position); PiqConfigError for bad options.
 * @example
 * ```ts
 * import { grid } from 'piq-tfjs/visualize';
 * const px = { width: 1, height: 1, data: new Uint8ClampedArray([0, 0, 0, 255]) };
 * const g = grid([[px, px], [px]], { padding: 1 });
 * console.log(g.width, g.height); // 5 5
 * ```
 * @category Visualize
 */
export function grid(images: RgbaImage[][], options?: GridOptions): RgbaImage {
  const owner = 'grid';
  if (!Array.isArray(images) || images.length === 0) {
    throw new PiqInputError(
      `${owner}: 'images' must be a non-empty array of rows (RgbaImage[][]), got ${describe(images)}. Wrap a single row as [row].`,
    );
  }
  let cellW = 0;
  let cellH = 0;
  let columns = 0;
  images.forEach((row, r) => {
    if (!Array.isArray(row) || row.length === 0) {
      throw new PiqInputError(`${owner}: 'images[${r}]' must be a non-empty array of RgbaImage, got ${describe(row)}.`);
    }
    columns = Math.max(columns, row.length);
    row.forEach((img, c) => {
      const checked = rgbaImage(owner, `images[${r}][${c}]`, img);
      cellW = Math.max(cellW, checked.width);
      cellH = Math.max(cellH, checked.height);
    });
  });
  const o = optionsObject(owner, options, GRID_KEYS);
  const config: GridConfig = {
    padding: nonNegativeInt(owner, 'padding', o.padding ?? DEFAULT_GRID_OPTIONS.padding),
    background: rgbaColor(owner, 'background', o.background ?? DEFAULT_GRID_OPTIONS.background),
  };
  const pad = config.padding;
  const rows = images.length;
  const width = columns * cellW + (columns + 1) * pad;
  const height = rows * cellH + (rows + 1) * pad;
  checkPixelCount(owner, width, height, 'Pass fewer or smaller images.');
  const data = new Uint8ClampedArray(width * height * 4);
  const { r: br, g: bg, b: bb, a: ba } = config.background;
  for (let i = 0; i < data.length; i += 4) {
    data[i] = br;
    data[i + 1] = bg;
    data[i + 2] = bb;
    data[i + 3] = ba;
  }
  images.forEach((row, r) => {
    row.forEach((img, c) => {
      const x0 = pad + c * (cellW + pad) + Math.floor((cellW - img.width) / 2);
      const y0 = pad + r * (cellH + pad) + Math.floor((cellH - img.height) / 2);
      const rowBytes = img.width * 4;
      for (let y = 0; y < img.height; y++) {
        const src = img.data.subarray(y * rowBytes, (y + 1) * rowBytes);
        data.set(src, ((y0 + y) * width + x0) * 4);
      }
    });
  });
  return { width, height, data };
}
