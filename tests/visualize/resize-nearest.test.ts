import { describe, expect, it } from 'vitest';
import { PiqConfigError, PiqInputError } from '../../src/errors';
import { resizeNearest } from '../../src/visualize';
import { expectError, image, pixel } from './support';

describe('resizeNearest', () => {
  it('copies each pixel into a scale x scale block', () => {
    const src = image(2, 1, [1, 2, 3, 4, 5, 6, 7, 8]);
    const out = resizeNearest(src, 3);
    expect([out.width, out.height]).toEqual([6, 3]);
    for (let y = 0; y < 3; y++) {
      for (let x = 0; x < 6; x++) expect(pixel(out, x, y)).toEqual(x < 3 ? [1, 2, 3, 4] : [5, 6, 7, 8]);
    }
  });

  it('enlarges a 28x28 digit to 224x224 with the corners intact', () => {
    const bytes = new Array(28 * 28 * 4).fill(0);
    bytes.splice(4 * (27 * 28 + 27), 4, 9, 9, 9, 255);
    const out = resizeNearest(image(28, 28, bytes), 8);
    expect([out.width, out.height]).toEqual([224, 224]);
    expect(pixel(out, 223, 223)).toEqual([9, 9, 9, 255]);
    expect(pixel(out, 216, 216)).toEqual([9, 9, 9, 255]);
    expect(pixel(out, 215, 223)).toEqual([0, 0, 0, 0]);
  });

  it('returns an equal copy at scale 1', () => {
    const src = image(1, 1, [1, 2, 3, 4]);
    const out = resizeNearest(src, 1);
    expect(Array.from(out.data)).toEqual([1, 2, 3, 4]);
    expect(out.data).not.toBe(src.data);
  });

  it('rejects a non-integer or non-positive scale and a malformed image', () => {
    expectError(() => resizeNearest(image(1, 1, [0, 0, 0, 0]), 1.5), PiqConfigError, 'scale');
    expectError(() => resizeNearest(image(1, 1, [0, 0, 0, 0]), 0), PiqConfigError, 'scale');
    expectError(() => resizeNearest(image(2, 1, [0, 0, 0, 0]), 2), PiqInputError, 'image.data');
    expectError(() => resizeNearest(image(1, 1, [0, 0, 0, 0]), 2 ** 15), PiqConfigError, 'scale');
  });
});
