import { PiqConfigError, PiqInputError } from '../errors';
import { CIVIDIS_HEX, INFERNO_HEX, MAGMA_HEX, VIRIDIS_HEX } from './colormap-data';
import type { RgbColor } from './types';
import { describe } from '../internal/checks';

/**
 * The names of the built-in colormaps: matplotlib's perceptually uniform `viridis`, `magma`,
 * `inferno` and `cividis` (colour-vision-deficiency friendly), and a linear `gray` ramp.
 *
 * @example
 * ```ts
 * import { COLORMAP_NAMES } from 'piq-tfjs/visualize';
 * console.log(COLORMAP_NAMES); // ['viridis', 'magma', 'inferno', 'cividis', 'gray']
 * ```
 * @category Visualize
 */
export const COLORMAP_NAMES = Object.freeze(['viridis', 'magma', 'inferno', 'cividis', 'gray'] as const);

/**
 * One of {@link COLORMAP_NAMES}.
 *
 * @example
 * ```ts
 * import { colormap, type ColormapName } from 'piq-tfjs/visualize';
 * const name: ColormapName = 'magma';
 * console.log(colormap(name).hex(1)); // '#fcfdbf'
 * ```
 * @category Visualize
 */
export type ColormapName = (typeof COLORMAP_NAMES)[number];

/** Number of entries in every colormap lookup table. */
const SIZE = 256;

/**
 * A colormap: a 256-entry RGB lookup table plus helpers that map a value t in [0, 1] to a colour.
 * Entry `i` is used for t in [i/256, (i+1)/256), and t = 1 uses entry 255 (matplotlib's rule).
 * Values outside [0, 1] are clamped.
 *
 * @example
 * ```ts
 * import { colormap } from 'piq-tfjs/visualize';
 * const viridis = colormap('viridis');
 * console.log(viridis.hex(0), viridis.hex(0.5), viridis.hex(1)); // '#440154' '#21918c' '#fde725'
 * console.log(viridis.lut.length); // 768
 * ```
 * @category Visualize
 */
export interface Colormap {
  /** The colormap's name. */
  readonly name: string;
  /** 256 RGB entries, 768 bytes: entry i is `lut[3i], lut[3i+1], lut[3i+2]`. */
  readonly lut: Uint8Array;
  /** The colour for t in [0, 1] (clamped). Throws PiqInputError for NaN. */
  rgb(t: number): RgbColor;
  /** The colour for t in [0, 1] (clamped) as `#rrggbb`. Throws PiqInputError for NaN. */
  hex(t: number): string;
}

const HEX_TABLES: Readonly<Record<Exclude<ColormapName, 'gray'>, string>> = {
  viridis: VIRIDIS_HEX,
  magma: MAGMA_HEX,
  inferno: INFERNO_HEX,
  cividis: CIVIDIS_HEX,
};

const cache = new Map<ColormapName, Uint8Array>();

function buildLut(name: ColormapName): Uint8Array {
  const lut = new Uint8Array(SIZE * 3);
  if (name === 'gray') {
    for (let i = 0; i < SIZE; i++) lut.fill(i, 3 * i, 3 * i + 3);
    return lut;
  }
  const hex = HEX_TABLES[name];
  for (let i = 0; i < SIZE * 3; i++) lut[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return lut;
}

/** The shared (never handed out) lookup table of a built-in colormap. */
function sharedLut(name: ColormapName): Uint8Array {
  let lut = cache.get(name);
  if (lut === undefined) {
    lut = buildLut(name);
    cache.set(name, lut);
  }
  return lut;
}

/** Maps t to a lookup-table index with matplotlib's rule: floor(t * 256), clamped to [0, 255]. */
export function lutIndex(t: number): number {
  if (!(t > 0)) return 0;
  if (t >= 1) return SIZE - 1;
  return Math.floor(t * SIZE);
}

function hexByte(v: number): string {
  return v.toString(16).padStart(2, '0');
}

function makeColormap(name: string, lut: Uint8Array): Colormap {
  const rgb = (t: number): RgbColor => {
    if (typeof t !== 'number' || Number.isNaN(t)) {
      throw new PiqInputError(`Colormap.rgb: 't' must be a number in [0, 1], got ${describe(t)}.`);
    }
    const i = 3 * lutIndex(t);
    return { r: lut[i] as number, g: lut[i + 1] as number, b: lut[i + 2] as number };
  };
  return Object.freeze({
    name,
    lut,
    rgb,
    hex(t: number): string {
      const c = rgb(t);
      return `#${hexByte(c.r)}${hexByte(c.g)}${hexByte(c.b)}`;
    },
  });
}

/**
 * Returns a built-in colormap by name. The returned lookup table is a fresh copy: changing it
 * affects only that object.
 *
 * Data: matplotlib's listed colormaps (viridis, magma, inferno by Smith & van der Walt; cividis by
 * Nuñez, Anderton & Renslow, PLoS ONE 2018), each channel quantised as round(255 · c).
 *
 * @param name - One of {@link COLORMAP_NAMES}.
 * @throws PiqConfigError when the name is unknown; the message lists the valid names.
 * @example
 * ```ts
 * import { colormap } from 'piq-tfjs/visualize';
 * console.log(colormap('inferno').rgb(1)); // { r: 252, g: 255, b: 164 }
 * console.log(colormap('gray').hex(0.5)); // '#808080'
 * ```
 * @category Visualize
 */
export function colormap(name: ColormapName): Colormap {
  if (typeof name !== 'string' || !(COLORMAP_NAMES as readonly string[]).includes(name)) {
    throw new PiqConfigError(
      `colormap: 'name' must be one of ${COLORMAP_NAMES.map((n) => `'${n}'`).join(', ')}, got ${describe(name)}.`,
    );
  }
  return makeColormap(name, new Uint8Array(sharedLut(name)));
}

/**
 * Resolves a colormap option (a name or a {@link Colormap} object) to a 768-byte lookup table,
 * naming the option in errors. Built-in names use the shared table (read-only here).
 */
export function resolveLut(owner: string, optionName: string, value: unknown): Uint8Array {
  if (typeof value === 'string') {
    if (!(COLORMAP_NAMES as readonly string[]).includes(value)) {
      throw new PiqConfigError(
        `${owner}: '${optionName}' must be one of ${COLORMAP_NAMES.map((n) => `'${n}'`).join(', ')} or a Colormap, got ${describe(value)}.`,
      );
    }
    return sharedLut(value as ColormapName);
  }
  const lut = value !== null && typeof value === 'object' ? (value as Partial<Colormap>).lut : undefined;
  if (!(lut instanceof Uint8Array) || lut.length !== SIZE * 3) {
    throw new PiqConfigError(
      `${owner}: '${optionName}' must be one of ${COLORMAP_NAMES.map((n) => `'${n}'`).join(', ')} or a Colormap with a 768-byte 'lut', got ${describe(value)}.`,
    );
  }
  return lut;
}
