import { describe, expect, it } from 'vitest';
import { PiqConfigError, PiqInputError } from '../../src/errors';
import { maskOverlay, overlay } from '../../src/visualize';
import { DEFAULT_MASK_OVERLAY_OPTIONS } from '../../src/visualize/overlay';
import { DEFAULT_OVERLAY_OPTIONS } from '../../src/visualize/overlay';
import { expectError, image } from './support';

describe('overlay', () => {
  it('blends opaque layers as heat * alpha + base * (1 - alpha)', () => {
    const base = image(1, 1, [100, 100, 100, 255]);
    const heat = image(1, 1, [200, 0, 50, 255]);
    // 200*.25 + 100*.75 = 125; 0 + 75 = 75; 12.5 + 75 = 87.5 -> 88
    expect(Array.from(overlay(base, heat, { alpha: 0.25 }).data)).toEqual([125, 75, 88, 255]);
  });

  it('uses alpha 0.5 by default', () => {
    const out = overlay(image(1, 1, [0, 0, 0, 255]), image(1, 1, [200, 100, 50, 255]));
    expect(Array.from(out.data)).toEqual([100, 50, 25, 255]);
    expect(DEFAULT_OVERLAY_OPTIONS).toEqual({ alpha: 0.5 });
  });

  it("multiplies the heat pixel's own alpha into the opacity", () => {
    // heat alpha 51 (0.2) * option 1 -> a = 0.2: 255*.2 + 0*.8 = 51
    const out = overlay(image(1, 1, [0, 0, 0, 255]), image(1, 1, [255, 255, 255, 51]), { alpha: 1 });
    expect(Array.from(out.data)).toEqual([51, 51, 51, 255]);
  });

  it('composites over a transparent or half-transparent base with the source-over formula', () => {
    // base transparent: output is the heat colour at opacity a.
    const clear = overlay(image(1, 1, [9, 9, 9, 0]), image(1, 1, [200, 100, 0, 255]), { alpha: 0.5 });
    expect(Array.from(clear.data)).toEqual([200, 100, 0, 128]);
    // a = 0.5, b = 0.6 (153/255): outA = 0.5 + 0.6*0.5 = 0.8 -> 204
    // R = (200*0.5 + 0*0.3) / 0.8 = 125; B = (0 + 100*0.3) / 0.8 = 37.5 -> 38
    const half = overlay(image(1, 1, [0, 0, 100, 153]), image(1, 1, [200, 0, 0, 255]), { alpha: 0.5 });
    expect(Array.from(half.data)).toEqual([125, 0, 38, 204]);
  });

  it('leaves its inputs unchanged', () => {
    const base = image(1, 1, [1, 2, 3, 255]);
    const heat = image(1, 1, [4, 5, 6, 255]);
    overlay(base, heat);
    expect(Array.from(base.data)).toEqual([1, 2, 3, 255]);
    expect(Array.from(heat.data)).toEqual([4, 5, 6, 255]);
  });

  it('rejects images of different sizes with both sizes in the message', () => {
    const err = expectError(() => overlay(image(2, 1, new Array(8).fill(0)), image(1, 2, new Array(8).fill(0))), PiqInputError, 'heat');
    expect(err.message).toContain('2x1');
    expect(err.message).toContain('1x2');
  });

  it('rejects malformed images and a bad alpha', () => {
    expectError(() => overlay(image(1, 1, [0, 0, 0]), image(1, 1, [0, 0, 0, 0])), PiqInputError, 'base.data');
    expectError(() => overlay(image(1, 1, [0, 0, 0, 0]), { width: 1, height: 1, data: [0, 0, 0, 0] } as never), PiqInputError, 'heat.data');
    expectError(() => overlay(null as never, image(1, 1, [0, 0, 0, 0])), PiqInputError, 'base');
    expectError(() => overlay(image(1, 1, [0, 0, 0, 0]), image(1, 1, [0, 0, 0, 0]), { alpha: -0.1 }), PiqConfigError, 'alpha');
  });
});

describe('maskOverlay', () => {
  it('equals toRgba + heatmap + overlay worked by hand on a grey 2x1 input', () => {
    // image [1, 0] -> white, black. mask [0, 1] with gray colormap -> black, white. alpha 0.25.
    // pixel 0: 0*.25 + 255*.75 = 191.25 -> 191; pixel 1: 255*.25 + 0 = 63.75 -> 64
    const img = maskOverlay([1, 0], [0, 1], 2, 1, 1, { colormap: 'gray', alpha: 0.25 });
    expect(Array.from(img.data)).toEqual([191, 191, 191, 255, 64, 64, 64, 255]);
  });

  it('uses viridis at alpha 0.5 by default', () => {
    expect(DEFAULT_MASK_OVERLAY_OPTIONS.colormap).toBe('viridis');
    // black image, mask 0 -> viridis(0) = (68, 1, 84) at half: 34, 0.5 -> 1 (round half up), 42
    const img = maskOverlay([0], [0], 1, 1, 1);
    expect(Array.from(img.data)).toEqual([34, 1, 42, 255]);
  });

  it('accepts RGB inputs and separate mask and image ranges', () => {
    const img = maskOverlay([2, 0, 0], [10], 1, 1, 3, { colormap: 'gray', alpha: 0.5, imageMax: 2, maskMin: 0, maskMax: 20 });
    // image -> (255, 0, 0); mask 10/20 -> entry 128 -> 128 gray; mix: 191.5 -> 192, 64, 64
    expect(Array.from(img.data)).toEqual([192, 64, 64, 255]);
  });

  it('rejects a mask whose length does not match the image, naming mask', () => {
    const err = expectError(() => maskOverlay([0, 0, 0, 0], [0, 0], 2, 2, 1), PiqInputError, 'mask');
    expect(err.message).toContain('width * height = 4');
  });

  it('rejects NaN in the mask or the image and bad options', () => {
    expectError(() => maskOverlay([0], [NaN], 1, 1, 1), PiqInputError, 'mask');
    expectError(() => maskOverlay([NaN], [0], 1, 1, 1), PiqInputError, 'image');
    expectError(() => maskOverlay([0], [0], 1, 1, 1, { maskMin: 1, maskMax: 0 }), PiqConfigError, 'maskMin');
    expectError(() => maskOverlay([0], [0], 1, 1, 1, { colormap: 'hot' as never }), PiqConfigError, 'colormap');
    expectError(() => maskOverlay([0], [0], 1, 1, 1, { alpha: 2 }), PiqConfigError, 'alpha');
  });
});
