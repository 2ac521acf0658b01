import { describe, expect, it } from 'vitest';
import { PiqConfigError, PiqInputError } from '../../src/errors';
import { COLORMAP_NAMES, colormap, type ColormapName } from '../../src/visualize';

const toByte = (c: number): number => Math.round(255 * c);

// Float entries copied from matplotlib's lib/matplotlib/_cm_listed.py (index: [r, g, b]).
const MATPLOTLIB_ENTRIES: Record<Exclude<ColormapName, 'gray'>, Array<[number, [number, number, number]]>> = {
  viridis: [
    [196, [0.404001, 0.800275, 0.362552]],
    [209, [0.525776, 0.833491, 0.288127]],
    [255, [0.993248, 0.906157, 0.143936]],
  ],
  magma: [
    [0, [0.001462, 0.000466, 0.013866]],
    [50, [0.225302, 0.060445, 0.431742]],
    [100, [0.537755, 0.156894, 0.506551]],
    [255, [0.987053, 0.991438, 0.749504]],
  ],
  inferno: [
    [0, [0.001462, 0.000466, 0.013866]],
    [40, [0.183429, 0.040329, 0.354971]],
    [79, [0.434987, 0.097069, 0.432039]],
  ],
  cividis: [
    [0, [0.0, 0.135112, 0.304751]],
    [23, [0.003602, 0.195911, 0.441564]],
    [255, [0.995737, 0.909344, 0.217772]],
  ],
};

function parseHex(hex: string): number[] {
  return [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
}

function expectNearHex(actual: string, expected: string, tol: number): void {
  const a = parseHex(actual);
  const e = parseHex(expected);
  for (let k = 0; k < 3; k++) {
    expect(Math.abs((a[k] as number) - (e[k] as number)), `${actual} vs ${expected}`).toBeLessThanOrEqual(tol);
  }
}

describe('colormap', () => {
  it('lists exactly the five built-in names', () => {
    expect([...COLORMAP_NAMES]).toEqual(['viridis', 'magma', 'inferno', 'cividis', 'gray']);
    expect(Object.isFrozen(COLORMAP_NAMES)).toBe(true);
  });

  it('gives viridis its published endpoint and midpoint colours', () => {
    const v = colormap('viridis');
    expect(v.hex(0)).toBe('#440154');
    expect(v.hex(1)).toBe('#fde725');
    expectNearHex(v.hex(0.5), '#21918c', 2);
  });

  it('gives magma, inferno and cividis their published endpoint and midpoint colours', () => {
    expect(colormap('magma').hex(0)).toBe('#000004');
    expect(colormap('magma').hex(1)).toBe('#fcfdbf');
    expectNearHex(colormap('magma').hex(0.5), '#b73779', 2);
    expect(colormap('inferno').hex(0)).toBe('#000004');
    expect(colormap('inferno').hex(1)).toBe('#fcffa4');
    expectNearHex(colormap('inferno').hex(0.5), '#bc3754', 2);
    expect(colormap('cividis').hex(0)).toBe('#00224e');
    expect(colormap('cividis').hex(1)).toBe('#fee838');
    expectNearHex(colormap('cividis').hex(0.5), '#7d7c78', 2);
  });

  it('matches matplotlib float data rounded to 8 bits at sampled indices', () => {
    for (const [name, entries] of Object.entries(MATPLOTLIB_ENTRIES)) {
      const lut = colormap(name as ColormapName).lut;
      for (const [i, rgb] of entries) {
        expect([lut[3 * i], lut[3 * i + 1], lut[3 * i + 2]], `${name}[${i}]`).toEqual(rgb.map(toByte));
      }
    }
  });

  it('has 256 entries whose lightness rises from the first to the last for the perceptual maps', () => {
    for (const name of ['viridis', 'magma', 'inferno', 'cividis'] as const) {
      const lut = colormap(name).lut;
      expect(lut.length).toBe(768);
      const luma = (i: number): number => 0.2126 * (lut[3 * i] as number) + 0.7152 * (lut[3 * i + 1] as number) + 0.0722 * (lut[3 * i + 2] as number);
      for (let i = 0; i + 16 < 256; i += 16) expect(luma(i + 16), `${name} at ${i}`).toBeGreaterThan(luma(i));
    }
  });

  it('maps gray linearly so entry i is (i, i, i)', () => {
    const g = colormap('gray');
    for (let i = 0; i < 256; i++) expect([g.lut[3 * i], g.lut[3 * i + 1], g.lut[3 * i + 2]]).toEqual([i, i, i]);
    expect(g.hex(0.5)).toBe('#808080');
  });

  it('uses entry floor(256 t), clamps t outside [0, 1] and uses the last entry at t = 1', () => {
    const g = colormap('gray');
    expect(g.rgb(10 / 256).r).toBe(10);
    expect(g.rgb(10.999 / 256).r).toBe(10);
    expect(g.rgb(-3).r).toBe(0);
    expect(g.rgb(7).r).toBe(255);
    expect(g.rgb(1).r).toBe(255);
  });

  it('hands out a copy of the table, so editing it does not change other colormaps', () => {
    const a = colormap('viridis');
    (a.lut as Uint8Array)[0] = 0;
    expect(colormap('viridis').lut[0]).toBe(0x44);
  });

  it('rejects an unknown name with a PiqConfigError naming the argument and listing valid names', () => {
    let err: unknown;
    try {
      colormap('jet' as ColormapName);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PiqConfigError);
    const msg = (err as Error).message;
    expect(msg).toContain("'name'");
    expect(msg).toContain('"jet"');
    for (const n of COLORMAP_NAMES) expect(msg).toContain(`'${n}'`);
  });

  it('rejects NaN in rgb with a PiqInputError naming t', () => {
    expect(() => colormap('gray').rgb(NaN)).toThrow(PiqInputError);
    expect(() => colormap('gray').hex(NaN)).toThrow(/'t'/);
  });
});
