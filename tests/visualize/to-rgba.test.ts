import { describe, expect, it } from 'vitest';
import { PiqConfigError, PiqInputError } from '../../src/errors';
import { toRgba } from '../../src/visualize';
import { DEFAULT_TO_RGBA_OPTIONS } from '../../src/visualize/to-rgba';
import { expectError } from './support';

describe('toRgba', () => {
  it('copies grey values to R, G and B with opaque alpha', () => {
    // 0.5 * 255 = 127.5 -> 128 (rounded half up)
    const img = toRgba(new Float32Array([0, 0.5, 1]), 3, 1, 1);
    expect(Array.from(img.data)).toEqual([0, 0, 0, 255, 128, 128, 128, 255, 255, 255, 255, 255]);
  });

  it('converts interleaved RGB and RGBA values per channel', () => {
    expect(Array.from(toRgba([1, 0, 0.2], 1, 1, 3).data)).toEqual([255, 0, 51, 255]);
    expect(Array.from(toRgba([0, 1, 0, 0.2], 1, 1, 4).data)).toEqual([0, 255, 0, 51]);
  });

  it('maps a custom range and clamps outside it', () => {
    const img = toRgba([-1, 0, 3], 3, 1, 1, { min: -1, max: 1 });
    expect(Array.from(img.data)).toEqual([0, 0, 0, 255, 128, 128, 128, 255, 255, 255, 255, 255]);
  });

  it("stretches to the data's range with 'auto'", () => {
    const img = toRgba([10, 20], 2, 1, 1, { min: 'auto', max: 'auto' });
    expect(Array.from(img.data)).toEqual([0, 0, 0, 255, 255, 255, 255, 255]);
  });

  it('has frozen defaults [0, 1]', () => {
    expect(DEFAULT_TO_RGBA_OPTIONS).toEqual({ min: 0, max: 1 });
    expect(Object.isFrozen(DEFAULT_TO_RGBA_OPTIONS)).toBe(true);
  });

  it('rejects wrong lengths, channels and NaN, naming the argument', () => {
    const err = expectError(() => toRgba([0, 0, 0], 1, 1, 1), PiqInputError, 'image');
    expect(err.message).toContain('width * height * channels = 1');
    expectError(() => toRgba([0, 0], 1, 1, 2 as 1), PiqInputError, 'channels');
    expectError(() => toRgba([NaN], 1, 1, 1), PiqInputError, 'image');
    expectError(() => toRgba([0], -1, 1, 1), PiqInputError, 'width');
  });

  it('rejects an empty or inverted range with PiqConfigError', () => {
    expectError(() => toRgba([0], 1, 1, 1, { min: 1, max: 0 }), PiqConfigError, 'min');
    expectError(() => toRgba([0], 1, 1, 1, { max: Infinity }), PiqConfigError, 'max');
  });
});
