// The colour data set of this example, built offline from the `openmoji` npm package (CC BY-SA 4.0):
// the colour SVG emoji of six groups, without skin-tone variants (~1,030 images), rasterised with
// @resvg/resvg-js on a white background to RGB in [0, 1], labelled by group. These are flat
// drawings, not natural photos. Rasterised pixels are cached in .cache/ (keyed by size).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { log, progressBar } from '../shared/cli';

export const GROUPS = ['smileys-emotion', 'animals-nature', 'food-drink', 'travel-places', 'activities', 'objects'] as const;

export interface EmojiSet {
  /** `[count, size, size, 3]` RGB in [0, 1], row-major. */
  images: Float32Array;
  labels: Int32Array;
  /** OpenMoji hexcodes and annotations (names), per image. */
  hexcodes: string[];
  names: string[];
  count: number;
  size: number;
}

interface OpenMojiEntry {
  hexcode: string;
  group: string;
  annotation: string;
  skintone: string | number;
}

const here = dirname(fileURLToPath(import.meta.url));
/** `require` resolving from this example's own node_modules. */
export const exampleRequire = createRequire(join(here, 'package.json'));

/** Rasterises (or loads from .cache/) every emoji of the six groups at `size`×`size`. */
export function loadEmoji(size: number): EmojiSet {
  const root = dirname(exampleRequire.resolve('openmoji/package.json'));
  const entries = (JSON.parse(readFileSync(join(root, 'data/openmoji.json'), 'utf8')) as OpenMojiEntry[])
    .filter((e) => !e.skintone && (GROUPS as readonly string[]).includes(e.group))
    .filter((e) => existsSync(join(root, 'color/svg', `${e.hexcode}.svg`)));
  const cacheFile = resolve('.cache', `openmoji-${size}.bin`);
  const count = entries.length;
  const per = size * size * 3;
  const labels = Int32Array.from(entries, (e) => GROUPS.indexOf(e.group as (typeof GROUPS)[number]));
  if (existsSync(cacheFile)) {
    const buf = readFileSync(cacheFile);
    if (buf.byteLength === count * per) {
      const images = new Float32Array(count * per);
      for (let i = 0; i < images.length; i++) images[i] = (buf[i] as number) / 255;
      log(`OpenMoji: ${count} emoji at ${size}x${size} loaded from ${cacheFile}`);
      return { images, labels, hexcodes: entries.map((e) => e.hexcode), names: entries.map((e) => e.annotation), count, size };
    }
  }
  // Typed locally: @resvg/resvg-js lives in this example's node_modules, not the library's.
  const { Resvg } = exampleRequire('@resvg/resvg-js') as {
    Resvg: new (svg: string, options: { fitTo: { mode: 'width'; value: number }; background: string }) => { render(): { pixels: Uint8Array; width: number; height: number } };
  };
  const bytes = new Uint8Array(count * per);
  const bar = progressBar(`rasterising OpenMoji at ${size}x${size}`, count);
  entries.forEach((e, i) => {
    const svg = readFileSync(join(root, 'color/svg', `${e.hexcode}.svg`), 'utf8');
    const img = new Resvg(svg, { fitTo: { mode: 'width', value: size }, background: 'white' }).render();
    const px = img.pixels;
    // OpenMoji SVGs are square (72x72); guard anyway: copy the top-left size×size, white elsewhere.
    bytes.fill(255, i * per, (i + 1) * per);
    for (let y = 0; y < Math.min(size, img.height); y++) {
      for (let x = 0; x < Math.min(size, img.width); x++) {
        for (let c = 0; c < 3; c++) bytes[i * per + (y * size + x) * 3 + c] = px[(y * img.width + x) * 4 + c] as number;
      }
    }
    if (i % 50 === 0) bar.set(i);
  });
  bar.done();
  mkdirSync(dirname(cacheFile), { recursive: true });
  writeFileSync(cacheFile, bytes);
  const images = Float32Array.from(bytes, (b) => b / 255);
  return { images, labels, hexcodes: entries.map((e) => e.hexcode), names: entries.map((e) => e.annotation), count, size };
}

/** A deterministic stratified split: every `k`-th emoji of each group goes to the test set. */
export function split(set: EmojiSet, k = 5): { train: number[]; test: number[] } {
  const seen = new Array<number>(GROUPS.length).fill(0);
  const train: number[] = [];
  const test: number[] = [];
  for (let i = 0; i < set.count; i++) {
    const g = set.labels[i] as number;
    const nth = seen[g] ?? 0;
    seen[g] = nth + 1;
    (nth % k === k - 1 ? test : train).push(i);
  }
  return { train, test };
}

/** Copies the images at `idx` into a new `[idx.length, size, size, 3]` array. */
export function pick(set: EmojiSet, idx: readonly number[]): Float32Array {
  const per = set.size * set.size * 3;
  const out = new Float32Array(idx.length * per);
  idx.forEach((i, j) => out.set(set.images.subarray(i * per, (i + 1) * per), j * per));
  return out;
}
