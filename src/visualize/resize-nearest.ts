import type { RgbaImage } from './types';
import { positiveInt } from '../internal/checks';
import { checkPixelCount, rgbaImage } from './validate';

/**
 * Enlarges an image by an integer factor, copying each pixel into a `scale × scale` block
 * (nearest neighbour), so small inputs such as 28×28 digits stay crisp when displayed.
 *
 * @param image - The image to enlarge.
 * @param scale - A positive integer factor (1 returns a copy).
 * @returns A new {@link RgbaImage} of `width * scale` by `height * scale` pixels.
 * @throws PiqInputError for a malformed image; PiqConfigError for a bad scale or an output over 2^28 pixels.
 * @example
 * ```ts
 * import { resizeNearest } from 'piq-tfjs/visualize';
 * const dot = { width: 1, height: 1, data: new Uint8ClampedArray([9, 8, 7, 255]) };
 * const big = resizeNearest(dot, 2);
 * console.log(big.width, big.height, Array.from(big.data.slice(12))); // 2 2 [9, 8, 7, 255]
 * ```
 * @category Visualize
 */
export function resizeNearest(image: RgbaImage, scale: number): RgbaImage {
  const owner = 'resizeNearest';
  const img = rgbaImage(owner, 'image', image);
  const s = positiveInt(owner, 'scale', scale);
  const width = img.width * s;
  const height = img.height * s;
  checkPixelCount(owner, width, height, "Use a smaller 'scale'.");
  const src = img.data;
  const data = new Uint8ClampedArray(width * height * 4);
  const rowBytes = width * 4;
  for (let y = 0; y < img.height; y++) {
    const first = y * s * rowBytes;
    for (let x = 0; x < img.width; x++) {
      const si = 4 * (y * img.width + x);
      for (let k = 0; k < s; k++) data.set(src.subarray(si, si + 4), first + 4 * (x * s + k));
    }
    // Replicate the finished output row s - 1 times.
    for (let k = 1; k < s; k++) data.copyWithin(first + k * rowBytes, first, first + rowBytes);
  }
  return { width, height, data };
}
