// examples/pets on a few real photos (when ../shared/data/oxford-pets is present) and the error and
// tensor-leak behaviour of its pieces. Fast: no training, no detector. Expected values come from the
// raw bytes read independently here, or are worked out by hand.
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boxAnnotator } from '../../examples/pets/annotator';
import { augment, seededRandom } from '../../examples/pets/classifiers';
import { BREEDS, loadPets, PetsDataError, petRegions, pixels, type PetsData } from '../../examples/pets/dataset';
import { overlapPairs, trimapScores } from '../../examples/pets/scoring';

const DATA = resolve(__dirname, '../../../shared/data/oxford-pets');
const haveData = existsSync(join(DATA, 'index.json'));
const dir = mkdtempSync(join(tmpdir(), 'pets-data-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe.skipIf(!haveData)('pets loader on the real data folder', () => {
  let data: PetsData;
  beforeAll(() => {
    data = loadPets(DATA);
  });

  it('verifies and loads 599 photos: 479 train, 120 test, 120 of them at 128x128', () => {
    expect(data.items.length).toBe(599);
    expect(data.train.length).toBe(479);
    expect(data.test.length).toBe(120);
    expect(data.hiresItems.length).toBe(120);
    expect(new Set(data.hiresItems.map((i) => data.items[i]?.split))).toEqual(new Set(['test']));
    expect(new Set(data.items.map((it) => it.breed))).toEqual(new Set(BREEDS));
  });

  it('reads pixels and pet regions equal to the raw bytes of the files', () => {
    const raw = readFileSync(join(DATA, 'images-64.u8'));
    const tri = readFileSync(join(DATA, 'trimaps-64.u8'));
    const k = data.test[5] as number;
    const px = pixels(data.low, [k]);
    expect(px[0]).toBeCloseTo((raw[k * 64 * 64 * 3] as number) / 255, 7);
    expect(px[64 * 64 * 3 - 1]).toBeCloseTo((raw[(k + 1) * 64 * 64 * 3 - 1] as number) / 255, 7);
    const t = tri.subarray(k * 64 * 64, (k + 1) * 64 * 64);
    const count = (v: number) => t.reduce((n, x) => n + (x === v ? 1 : 0), 0);
    const region = petRegions(data.low, [k], 'pet');
    const strict = petRegions(data.low, [k], 'background');
    expect(region.reduce((a, b) => a + b, 0)).toBe(count(1) + count(3));
    expect(strict.reduce((a, b) => a + b, 0)).toBe(count(1));
    expect(count(1) + count(2) + count(3)).toBe(64 * 64);
  });

  it('scores the trimap itself as a perfect mask, and its complement as a total miss', () => {
    const idx = data.test.slice(0, 4);
    const truth = { pet: tf.tensor3d(petRegions(data.low, idx, 'pet'), [4, 64, 64]), strict: tf.tensor3d(petRegions(data.low, idx, 'background'), [4, 64, 64]) };
    const inverse = tf.sub(1, truth.pet) as tf.Tensor3D;
    const before = tf.memory().numTensors;
    const hit = trimapScores(truth.pet, truth);
    const miss = trimapScores(inverse, truth);
    expect(tf.memory().numTensors).toBe(before);
    expect(hit.pointing).toBe(1);
    expect(hit.iou).toBe(1);
    expect(miss.pointing).toBe(0);
    expect(miss.iou).toBe(0);
    // Against the strict region (border as background) the same mask's IoU is |strict| / |pet| < 1.
    expect(hit.iouStrict).toBeLessThan(1);
    tf.dispose([truth.pet, truth.strict, inverse]);
  });

  it('pairs test photos of different breeds for the overlap test', () => {
    const labels = Int32Array.from(data.test, (i) => data.items[i]?.breedIndex as number);
    const pairs = overlapPairs(labels, 60);
    expect(pairs.length).toBe(60);
    for (const [a, b] of pairs) expect(labels[a]).not.toBe(labels[b]);
  });
});

describe('pets loader: errors', () => {
  it('names the missing folder and the --data fix', () => {
    expect(() => loadPets(join(dir, 'absent'))).toThrow(/index\.json' must exist.*--data/);
  });

  it('refuses a file of the wrong size even when its checksum is the expected one', () => {
    const index = Buffer.from(JSON.stringify({ breeds: [...BREEDS], items: [{ i: 0, file: 'x', breed: 'Abyssinian', species: 'cat', breedIndex: 0, speciesIndex: 0, split: 'train', hiresIndex: null }] }));
    const short = Buffer.alloc(10);
    for (const [f, b] of [['index.json', index], ['images-64.u8', short]] as const) writeFileSync(join(dir, f), b);
    const expected = { 'index.json': sha(index), 'images-64.u8': sha(short) };
    expect(() => loadPets(dir, expected)).toThrow(new PetsDataError(`loadPets: 'images-64.u8' must hold ${64 * 64 * 3} bytes, got 10.`));
  });

  it('refuses an index with other breeds', () => {
    const index = Buffer.from(JSON.stringify({ breeds: ['a', 'b', 'c'], items: [] }));
    writeFileSync(join(dir, 'index.json'), index);
    expect(() => loadPets(dir, { 'index.json': sha(index) })).toThrow(/'breeds' must be \["Abyssinian","american_bulldog","Bengal"\], got \["a","b","c"\]/);
  });
});

describe('pets annotator cache', () => {
  it('reads annotations back from its disk cache without a detector, and frees its intermediates', () => {
    // Cache record for one 4x4 photo of zeros: SHA-1 of its float32 bytes, then 4*4*2 bytes (cat, dog) per pixel.
    const photo = new Float32Array(4 * 4 * 3);
    const key = createHash('sha1').update(new Uint8Array(photo.buffer)).digest();
    const ann = new Uint8Array(32);
    ann[0] = 1; // pixel 0, cat
    ann[31] = 1; // pixel 15, dog
    const file = join(dir, 'ann.bin');
    writeFileSync(file, Buffer.concat([key, Buffer.from(ann)]));
    const a = boxAnnotator(null, file, 4);
    const x = tf.zeros([1, 4, 4, 3]) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    const out = a.annotate(x);
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(out.shape).toEqual([1, 4, 4, 2]);
    expect(Array.from(out.dataSync())).toEqual(Array.from(ann));
    expect(a.stats()).toEqual({ detected: 0, fromDisk: 1 });
    tf.dispose([x, out]);
  });

  it('says so when a photo is not cached and no detector is loaded, or the size is wrong', () => {
    const a = boxAnnotator(null, join(dir, 'none.bin'), 4);
    const x = tf.ones([1, 4, 4, 3]) as tf.Tensor4D;
    expect(() => a.annotate(x)).toThrow(/missing from the annotation cache and the detector is not loaded/);
    const big = tf.ones([1, 8, 8, 3]) as tf.Tensor4D;
    expect(() => a.annotate(big)).toThrow(/photos must be 4x4, got 8x8/);
    tf.dispose([x, big]);
  });
});

describe('pets augmentation', () => {
  it('keeps the shape and the [0, 1] range, is reproducible from its seed, and frees its intermediates', () => {
    const x = tf.randomUniform([3, 8, 8, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    const a = augment(x, seededRandom(3));
    const b = augment(x, seededRandom(3));
    expect(tf.memory().numTensors).toBe(before + 2);
    expect(a.shape).toEqual([3, 8, 8, 3]);
    const v = a.dataSync();
    expect(Math.min(...v)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...v)).toBeLessThanOrEqual(1);
    expect(Array.from(b.dataSync())).toEqual(Array.from(v));
    tf.dispose([x, a, b]);
  });
});

describe.skipIf(!haveData)('pets scoring pipeline on four real photos (untrained CNN, Grad-CAM)', () => {
  it('scores masks with the faithfulness metrics and the trimaps, all in range, without leaking tensors', async () => {
    const { buildCnn } = await import('../../examples/pets/classifiers');
    const { scoreMasks } = await import('../../examples/pets/scoring');
    const { createAttributionMethod, toClassifierAdapter } = await import('piq-tfjs');
    const data = loadPets(DATA);
    const idx = data.test.slice(0, 4);
    const x = tf.tensor4d(pixels(data.low, idx), [4, 64, 64, 3]);
    const truth = { pet: tf.tensor3d(petRegions(data.low, idx, 'pet'), [4, 64, 64]), strict: tf.tensor3d(petRegions(data.low, idx, 'background'), [4, 64, 64]) };
    const model = buildCnn();
    const adapter = toClassifierAdapter(model, { featureLayer: 'features' });
    const before = tf.memory().numTensors;
    const masks = await createAttributionMethod('gradCam', adapter).explainTensors(x);
    const s = await scoreMasks(adapter, x, masks, truth);
    masks.dispose();
    expect(tf.memory().numTensors).toBe(before);
    for (const k of ['pointing', 'iou', 'pointingStrict', 'iouStrict', 'FidIn', 'SPS'] as const) {
      expect(s[k]).toBeGreaterThanOrEqual(0);
      expect(s[k]).toBeLessThanOrEqual(1);
    }
    expect(s.AD).toBeGreaterThanOrEqual(0);
    expect(s.AD).toBeLessThanOrEqual(100);
    expect(Math.abs(s.FF)).toBeLessThanOrEqual(1);
    tf.dispose([x, truth.pet, truth.strict]);
    model.dispose();
  }, 60_000);
});
