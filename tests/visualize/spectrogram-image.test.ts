import { describe, expect, it } from 'vitest';
import { PiqConfigError, PiqInputError } from '../../src/errors';
import { colormap, spectrogramImage } from '../../src/visualize';
import { DEFAULT_SPECTROGRAM_IMAGE_OPTIONS } from '../../src/visualize/spectrogram-image';
import { expectError, pixel } from './support';

const WHITE = [255, 255, 255, 255];
const BLACK = [0, 0, 0, 255];

describe('spectrogramImage', () => {
  it('is frames wide and bins tall', () => {
    const img = spectrogramImage(new Float32Array(3 * 5), 3, 5);
    expect([img.width, img.height]).toEqual([3, 5]);
  });

  it('draws a single hot bin 0 in the bottom row (frequency upward)', () => {
    const frames = 3;
    const bins = 4;
    const values = new Float32Array(frames * bins);
    values[1 * bins + 0] = 1; // frame 1, bin 0 (frame-major [frames, bins])
    const img = spectrogramImage(values, frames, bins, { colormap: 'gray', min: 0, max: 1 });
    for (let y = 0; y < bins; y++) {
      for (let x = 0; x < frames; x++) {
        expect(pixel(img, x, y), `pixel (${x}, ${y})`).toEqual(x === 1 && y === bins - 1 ? WHITE : BLACK);
      }
    }
  });

  it('puts the highest bin in the top row and time left to right', () => {
    const frames = 2;
    const bins = 3;
    const values = new Float32Array(frames * bins);
    values[0 * bins + 2] = 1; // frame 0, top bin
    const img = spectrogramImage(values, frames, bins, { colormap: 'gray', min: 0, max: 1 });
    expect(pixel(img, 0, 0)).toEqual(WHITE);
    expect(pixel(img, 1, 0)).toEqual(BLACK);
  });

  it("normalises to the data's range by default and uses magma", () => {
    const img = spectrogramImage([5, 7], 2, 1);
    expect(DEFAULT_SPECTROGRAM_IMAGE_OPTIONS.colormap).toBe('magma');
    const magma = colormap('magma');
    expect(pixel(img, 0, 0).slice(0, 3)).toEqual(Object.values(magma.rgb(0)));
    expect(pixel(img, 1, 0).slice(0, 3)).toEqual(Object.values(magma.rgb(1)));
  });

  it('converts power to dB relative to the peak and floors at -topDb', () => {
    // power 1, 0.1, 1e-9: 0 dB, -10 dB, -90 dB -> floored at -20 dB with topDb 20.
    // auto range [-20, 0]: t = 1, 0.5, 0 -> gray 255, 128, 0
    const img = spectrogramImage([1, 0.1, 1e-9], 3, 1, { colormap: 'gray', scale: 'power-db', topDb: 20 });
    expect([pixel(img, 0, 0)[0], pixel(img, 1, 0)[0], pixel(img, 2, 0)[0]]).toEqual([255, 128, 0]);
  });

  it('converts magnitudes with 20 log10 of the absolute value and honours a fixed dB range', () => {
    // |-0.1| -> -20 dB relative to peak 1; fixed range [-40, 0]: t = 0.5 -> 128
    const img = spectrogramImage([1, -0.1], 2, 1, { colormap: 'gray', scale: 'magnitude-db', min: -40, max: 0 });
    expect([pixel(img, 0, 0)[0], pixel(img, 1, 0)[0]]).toEqual([255, 128]);
  });

  it('rejects a wrong length, NaN and bad sizes, naming the argument', () => {
    const err = expectError(() => spectrogramImage([0, 0, 0], 2, 2), PiqInputError, 'values');
    expect(err.message).toContain('frames * bins = 4');
    expectError(() => spectrogramImage([0, NaN], 1, 2), PiqInputError, 'values');
    expectError(() => spectrogramImage([0], 0, 1), PiqInputError, 'frames');
    expectError(() => spectrogramImage([0], 1, 1.5), PiqInputError, 'bins');
  });

  it('rejects bad options, listing the valid scales', () => {
    const err = expectError(() => spectrogramImage([0], 1, 1, { scale: 'log' as never }), PiqConfigError, 'scale');
    expect(err.message).toContain("'linear', 'magnitude-db', 'power-db'");
    expectError(() => spectrogramImage([0], 1, 1, { topDb: 0 }), PiqConfigError, 'topDb');
    expectError(() => spectrogramImage([0], 1, 1, { colormap: 'jet' as never }), PiqConfigError, 'colormap');
  });
});
