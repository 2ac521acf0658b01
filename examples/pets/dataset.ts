// The Oxford-IIIT Pet subset in ../shared/data/oxford-pets (CC BY-SA 4.0; Parkhi, Vedaldi, Zisserman,
// Jawahar, CVPR 2012): 599 photographs of three breeds (Abyssinian and Bengal cats, American bulldog)
// at 64x64 RGB with pixel trimaps (1 pet, 2 background, 3 border), a fixed 80/20 split, and the 120
// test photos again at 128x128. Raw uint8 files described by index.json; every file is checked
// against the SHA-256 published in the folder's README before it is used.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The breeds, in the order of index.json's `breeds` (= the class indices of the classifiers). */
export const BREEDS = ['Abyssinian', 'american_bulldog', 'Bengal'] as const;
/** Cat (0) or dog (1) of each breed, by class index. */
export const BREED_SPECIES = [0, 1, 0] as const;

/** SHA-256 of each file, from the data folder's README. */
export const PETS_SHA256: Readonly<Record<string, string>> = Object.freeze({
  'images-64.u8': 'ec1dd9cc7b961395e9628ab3c1167f133ce9dede23da72db26f5162f7ae63610',
  'trimaps-64.u8': '02651e0d7f1c6f60811ea3669a184c975474ff4f7057b5b2f5ac366d667461a5',
  'images-128.u8': 'aa6dfca1b8d92225580633055a35399c38feea961b400669072b6bd1ba3d17b2',
  'trimaps-128.u8': 'b60a9c777242b49c39a096aab1f02427ec94d6c44176e38bb1bfbf7639f9ece4',
  'index.json': '179f1563fb9bd66bf57d8a55b8486dbc8e71b9b83e5f0e894100253314a75db7',
});

/** Trimap values as released. */
export const TRIMAP = Object.freeze({ pet: 1, background: 2, border: 3 });

export interface PetItem {
  i: number;
  file: string;
  breed: string;
  species: 'cat' | 'dog';
  breedIndex: number;
  speciesIndex: number;
  split: 'train' | 'test';
  hiresIndex: number | null;
}

/** One resolution of the data: `count` photos `[count, size, size, 3]` and trimaps `[count, size, size]`. */
export interface PetImages {
  size: number;
  count: number;
  /** uint8 RGB, row-major N,H,W,C. */
  images: Uint8Array;
  /** uint8 trimap values (1 pet, 2 background, 3 border), row-major N,H,W. */
  trimaps: Uint8Array;
}

export interface PetsData {
  dir: string;
  items: PetItem[];
  /** All 599 items at 64x64, in index order. */
  low: PetImages;
  /** The test items with a hi-res copy at 128x128, in `hiresIndex` order. */
  high: PetImages;
  /** Item indices of the train and test split. */
  train: number[];
  test: number[];
  /** `hiresItems[k]` = the item index whose hiresIndex is k. */
  hiresItems: number[];
}

export class PetsDataError extends Error {
  override name = 'PetsDataError';
}

/** Reads one file of the data folder and checks its SHA-256 against {@link PETS_SHA256}. */
export function readVerified(dir: string, file: string, expected: Record<string, string> = PETS_SHA256): Buffer {
  const path = join(dir, file);
  if (!existsSync(path)) {
    throw new PetsDataError(`loadPets: '${path}' must exist (the Oxford-IIIT Pet subset), got no such file. Pass --data <folder> pointing at ../shared/data/oxford-pets.`);
  }
  const want = expected[file];
  if (want === undefined) throw new PetsDataError(`loadPets: no SHA-256 is known for '${file}'.`);
  const bytes = readFileSync(path);
  const got = createHash('sha256').update(bytes).digest('hex');
  if (got !== want) {
    throw new PetsDataError(
      `loadPets: '${path}' must have SHA-256 ${want}, got ${got}. The file is corrupt or from another version of the data set; restore it from the data folder's source.`,
    );
  }
  return bytes;
}

function sized(owner: string, bytes: Buffer, expected: number, file: string): Uint8Array {
  if (bytes.byteLength !== expected) {
    throw new PetsDataError(`${owner}: '${file}' must hold ${expected} bytes, got ${bytes.byteLength}.`);
  }
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Loads and verifies the whole data folder. */
export function loadPets(dir: string, expected: Record<string, string> = PETS_SHA256): PetsData {
  const index = JSON.parse(readVerified(dir, 'index.json', expected).toString('utf8')) as { breeds: string[]; items: PetItem[] };
  if (index.breeds.join() !== BREEDS.join()) {
    throw new PetsDataError(`loadPets: index.json 'breeds' must be ${JSON.stringify(BREEDS)}, got ${JSON.stringify(index.breeds)}.`);
  }
  const items = index.items;
  const n = items.length;
  const hiresItems: number[] = [];
  for (const it of items) if (it.hiresIndex !== null) hiresItems[it.hiresIndex] = it.i;
  const m = hiresItems.length;
  const low: PetImages = {
    size: 64,
    count: n,
    images: sized('loadPets', readVerified(dir, 'images-64.u8', expected), n * 64 * 64 * 3, 'images-64.u8'),
    trimaps: sized('loadPets', readVerified(dir, 'trimaps-64.u8', expected), n * 64 * 64, 'trimaps-64.u8'),
  };
  const high: PetImages = {
    size: 128,
    count: m,
    images: sized('loadPets', readVerified(dir, 'images-128.u8', expected), m * 128 * 128 * 3, 'images-128.u8'),
    trimaps: sized('loadPets', readVerified(dir, 'trimaps-128.u8', expected), m * 128 * 128, 'trimaps-128.u8'),
  };
  return {
    dir,
    items,
    low,
    high,
    train: items.filter((it) => it.split === 'train').map((it) => it.i),
    test: items.filter((it) => it.split === 'test').map((it) => it.i),
    hiresItems,
  };
}

/** Pixels of the given items as float32 in [0, 1], `[idx.length, size, size, 3]` row-major. */
export function pixels(set: PetImages, idx: readonly number[]): Float32Array {
  const per = set.size * set.size * 3;
  const out = new Float32Array(idx.length * per);
  idx.forEach((i, k) => {
    const src = set.images.subarray(i * per, (i + 1) * per);
    for (let j = 0; j < per; j++) out[k * per + j] = (src[j] as number) / 255;
  });
  return out;
}

/**
 * How trimap border pixels (value 3) count in the ground truth:
 * - `'pet'`: border is part of the pet region (the outline belongs to the animal; the main score);
 * - `'background'`: only value 1 is pet (the strict region).
 */
export type BorderRule = 'pet' | 'background';

/** Ground-truth pet regions in {0, 1}, `[idx.length, size, size]`, from the trimaps. */
export function petRegions(set: PetImages, idx: readonly number[], border: BorderRule): Float32Array {
  const per = set.size * set.size;
  const out = new Float32Array(idx.length * per);
  idx.forEach((i, k) => {
    const src = set.trimaps.subarray(i * per, (i + 1) * per);
    for (let j = 0; j < per; j++) {
      const v = src[j] as number;
      out[k * per + j] = v === TRIMAP.pet || (border === 'pet' && v === TRIMAP.border) ? 1 : 0;
    }
  });
  return out;
}
