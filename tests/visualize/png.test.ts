import { decode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { PiqInputError } from '../../src/errors';
import { encodePng, heatmap } from '../../src/visualize';
import { expectError, image } from './support';

describe('encodePng', () => {
  it('starts with the PNG signature', () => {
    const png = encodePng(image(1, 1, [1, 2, 3, 4]));
    expect(png).toBeInstanceOf(Uint8Array);
    expect(Array.from(png.slice(0, 8))).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
  });

  it('decodes back to identical 8-bit RGBA pixels', () => {
    const img = heatmap(new Float32Array([0, 0.2, 0.4, 0.6, 0.8, 1]), 3, 2, { alpha: 0.7 });
    const decoded = decode(encodePng(img));
    expect([decoded.width, decoded.height, decoded.channels, decoded.depth]).toEqual([3, 2, 4, 8]);
    expect(Array.from(decoded.data)).toEqual(Array.from(img.data));
  });

  it('rejects a malformed image, naming it', () => {
    expectError(() => encodePng(image(2, 2, [0, 0, 0, 0])), PiqInputError, 'image.data');
    expectError(() => encodePng({ width: 0, height: 1, data: new Uint8ClampedArray(0) }), PiqInputError, 'image.width');
  });
});
