import { describe, expect, it } from 'vitest';
import { PiqConfigError, PiqInputError } from '../../src/errors';
import { colormap, heatmap, type ColormapName } from '../../src/visualize';
import { DEFAULT_HEATMAP_OPTIONS } from '../../src/visualize/heatmap';
import { expectError, pixel } from './support';

describe('heatmap', () => {
  it('colours a 2x1 mask [0, 1] with viridis first and last entries, opaque', () => {
    const img = heatmap(new Float32Array([0, 1]), 2, 1);
    expect(img.width).toBe(2);
    expect(img.height).toBe(1);
    expect(img.data).toBeInstanceOf(Uint8ClampedArray);
    // viridis(0) = #440154, viridis(1) = #fde725
    expect(Array.from(img.data)).toEqual([0x44, 0x01, 0x54, 255, 0xfd, 0xe7, 0x25, 255]);
  });

  it('lays values out row-major: index y * width + x', () => {
    const img = heatmap([0, 0, 0, 1, 0, 0], 3, 2, { colormap: 'gray' });
    expect(pixel(img, 0, 1)).toEqual([255, 255, 255, 255]);
    expect(pixel(img, 1, 0)).toEqual([0, 0, 0, 255]);
  });

  it('maps [min, max] linearly and clamps values outside it', () => {
    // gray: t = (v - 10) / 20; v = 20 -> t = 0.5 -> entry 128; v = -5 -> 0; v = 99 -> 255.
    const img = heatmap([20, -5, 99], 3, 1, { colormap: 'gray', min: 10, max: 30 });
    expect(Array.from(img.data)).toEqual([128, 128, 128, 255, 0, 0, 0, 255, 255, 255, 255, 255]);
  });

  it("normalises to the data's own range with 'auto'", () => {
    // range [2, 6]: 4 -> t = 0.5 -> 128
    const img = heatmap([2, 4, 6], 3, 1, { colormap: 'gray', min: 'auto', max: 'auto' });
    expect(Array.from(img.data)).toEqual([0, 0, 0, 255, 128, 128, 128, 255, 255, 255, 255, 255]);
  });

  it("draws a constant mask with the first colour under 'auto' instead of dividing by zero", () => {
    const img = heatmap([3, 3], 2, 1, { colormap: 'gray', min: 'auto', max: 'auto' });
    expect(Array.from(img.data)).toEqual([0, 0, 0, 255, 0, 0, 0, 255]);
  });

  it('stores alpha as round(255 * alpha) on every pixel', () => {
    const img = heatmap([0.2, 0.9], 2, 1, { alpha: 0.5 });
    expect(img.data[3]).toBe(128);
    expect(img.data[7]).toBe(128);
  });

  it('accepts a Colormap object as well as a name', () => {
    const a = heatmap([0.3], 1, 1, { colormap: colormap('magma') });
    const b = heatmap([0.3], 1, 1, { colormap: 'magma' });
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
  });

  it('has frozen defaults: viridis, [0, 1], opaque', () => {
    expect(DEFAULT_HEATMAP_OPTIONS).toEqual({ colormap: 'viridis', min: 0, max: 1, alpha: 1 });
    expect(Object.isFrozen(DEFAULT_HEATMAP_OPTIONS)).toBe(true);
  });

  it('rejects a values array of the wrong length, naming values and the expected length', () => {
    const err = expectError(() => heatmap([0, 1, 2], 2, 2), PiqInputError, 'values');
    expect(err.message).toContain('= 4');
    expect(err.message).toContain('got 3');
  });

  it('rejects NaN and Infinity, naming values and the index', () => {
    const err = expectError(() => heatmap([0, NaN], 2, 1), PiqInputError, 'values');
    expect(err.message).toContain('index 1');
    expectError(() => heatmap(new Float32Array([Infinity]), 1, 1), PiqInputError, 'values');
  });

  it('rejects non-array values and non-integer sizes', () => {
    expectError(() => heatmap('01' as unknown as number[], 2, 1), PiqInputError, 'values');
    expectError(() => heatmap([0, 1], 2.5, 1), PiqInputError, 'width');
    expectError(() => heatmap([0, 1], 2, 0), PiqInputError, 'height');
  });

  it('rejects bad options with PiqConfigError naming the option', () => {
    const err = expectError(() => heatmap([0], 1, 1, { colormap: 'rainbow' as ColormapName }), PiqConfigError, 'colormap');
    expect(err.message).toContain("'viridis', 'magma', 'inferno', 'cividis', 'gray'");
    expectError(() => heatmap([0], 1, 1, { alpha: 1.5 }), PiqConfigError, 'alpha');
    expectError(() => heatmap([0], 1, 1, { min: NaN }), PiqConfigError, 'min');
    expectError(() => heatmap([0], 1, 1, { max: 'max' as unknown as number }), PiqConfigError, 'max');
    expectError(() => heatmap([0], 1, 1, { min: 1, max: 1 }), PiqConfigError, 'min');
  });
});
