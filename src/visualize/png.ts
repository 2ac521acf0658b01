import { encode } from 'fast-png';
import type { RgbaImage } from './types';
import { rgbaImage } from './validate';

/**
 * Encodes an image as a PNG file (8-bit RGBA), in memory, in Node and in browsers.
 * Write the bytes with `fs.writeFileSync(path, bytes)` in Node, or wrap them in
 * `new Blob([bytes], { type: 'image/png' })` in a browser. Uses the `fast-png` encoder.
 *
 * @param image - The image to encode.
 * @returns The PNG file's bytes (starting with the signature 137 80 78 71 13 10 26 10).
 * @throws PiqInputError for a malformed image.
 * @example
 * ```ts
 * import { encodePng, heatmap } from 'piq-tfjs/visualize';
 * const png = encodePng(heatmap([0, 0.5, 1, 0.25], 2, 2));
 * console.log(Array.from(png.slice(1, 4))); // [80, 78, 71] ('PNG')
 * ```
 * @category Visualize
 */
export function encodePng(image: RgbaImage): Uint8Array {
  const img = rgbaImage('encodePng', 'image', image);
  return encode({ width: img.width, height: img.height, data: img.data, channels: 4, depth: 8 });
}
