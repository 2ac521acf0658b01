// Fast, pure pieces of examples/pets: the checksum-verifying loader, the trimap ground truth and its
// scoring through piq-tfjs's metrics, the overlap-test geometry and the strict flag parser.
// No training, no data folder: every input is built here and every expected value worked out by hand.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { paintBox, bestBoxes } from '../../examples/pets/annotator';
import { parsePetsArgs } from '../../examples/pets/args';
import { PetsDataError, petRegions, readVerified, type PetImages } from '../../examples/pets/dataset';
import { halfShare, overlapScores, sideBySide, trimapScores } from '../../examples/pets/scoring';

const dir = mkdtempSync(join(tmpdir(), 'pets-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('pets loader: checksums', () => {
  const bytes = Uint8Array.from([1, 2, 3, 4]);
  writeFileSync(join(dir, 'data.u8'), bytes);

  it('returns the bytes of a file whose SHA-256 matches', () => {
    const got = readVerified(dir, 'data.u8', { 'data.u8': sha(bytes) });
    expect(Array.from(got)).toEqual([1, 2, 3, 4]);
  });

  it('rejects a file whose SHA-256 differs, naming both digests and the fix', () => {
    const wrong = sha(Uint8Array.from([1, 2, 3, 5]));
    expect(() => readVerified(dir, 'data.u8', { 'data.u8': wrong })).toThrow(PetsDataError);
    expect(() => readVerified(dir, 'data.u8', { 'data.u8': wrong })).toThrow(new RegExp(`must have SHA-256 ${wrong}, got ${sha(bytes)}.*restore it`));
  });

  it('rejects a missing file with the --data fix', () => {
    expect(() => readVerified(dir, 'absent.u8', { 'absent.u8': sha(bytes) })).toThrow(/must exist.*--data/);
  });
});

describe('pets ground truth: trimaps and their scoring', () => {
  // One 4x4 trimap (1 pet, 2 background, 3 border):
  //   2 2 2 2
  //   2 3 3 2
  //   2 3 1 1
  //   2 2 1 1
  const set: PetImages = {
    size: 4,
    count: 1,
    images: new Uint8Array(48),
    trimaps: Uint8Array.from([2, 2, 2, 2, 2, 3, 3, 2, 2, 3, 1, 1, 2, 2, 1, 1]),
  };

  it('counts border pixels as pet or as background, as asked', () => {
    expect(Array.from(petRegions(set, [0], 'pet'))).toEqual([0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 1, 0, 0, 1, 1]);
    expect(Array.from(petRegions(set, [0], 'background'))).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1]);
  });

  it('scores a hand-made mask: pointing and IoU under both border rules', () => {
    // Mask: maximum (0.9) on the border pixel (1,1); >= 0.5 on (1,1), (2,2), (0,0).
    const mask = new Float32Array(16);
    mask[5] = 0.9; // (1,1) border
    mask[10] = 0.6; // (2,2) pet
    mask[0] = 0.5; // (0,0) background
    const truth = {
      pet: tf.tensor3d(petRegions(set, [0], 'pet'), [1, 4, 4]),
      strict: tf.tensor3d(petRegions(set, [0], 'background'), [1, 4, 4]),
    };
    const m = tf.tensor3d(mask, [1, 4, 4]);
    const s = trimapScores(m, truth);
    // Border as pet: the max is inside → 1; mask region {0, 5, 10}, pet region {5, 6, 9, 10, 11, 14, 15}:
    // intersection {5, 10} = 2, union 3 + 7 − 2 = 8 → 0.25.
    expect(s.pointing).toBe(1);
    expect(s.iou).toBeCloseTo(2 / 8, 6);
    // Border as background: the max is outside → 0; pet region {10, 11, 14, 15}: intersection {10} = 1,
    // union 3 + 4 − 1 = 6.
    expect(s.pointingStrict).toBe(0);
    expect(s.iouStrict).toBeCloseTo(1 / 6, 6);
    tf.dispose([truth.pet, truth.strict, m]);
  });
});

describe('pets overlap test geometry', () => {
  it('places two photos, each 2x2-averaged, side by side and vertically centred on the background', () => {
    // Two 4x4 RGB photos: photo 0 all 0.2, photo 1 has 1.0 in its top-left 2x2 block, else 0.
    const per = 4 * 4 * 3;
    const photos = new Float32Array(2 * per);
    photos.fill(0.2, 0, per);
    for (const [y, x] of [[0, 0], [0, 1], [1, 0], [1, 1]] as const) for (let c = 0; c < 3; c++) photos[per + (y * 4 + x) * 3 + c] = 1;
    const out = sideBySide(photos, [[0, 1]], 4, 0.5);
    const red = Array.from({ length: 16 }, (_, p) => out[p * 3] as number);
    // Rows 0 and 3 stay background; rows 1-2 hold the 2x2 halves: left = 0.2, right = [1, 0; 0, 0].
    expect(red.map((v) => Number(v.toFixed(3)))).toEqual([0.5, 0.5, 0.5, 0.5, 0.2, 0.2, 1, 0, 0.2, 0.2, 0, 0, 0.5, 0.5, 0.5, 0.5]);
  });

  it('measures the share of mask mass on each half and counts hits on the predicted photo', () => {
    // 4x4 mask with mass 3 on the left half, 1 on the right.
    const mask = new Float32Array(16);
    mask[0] = 2;
    mask[4] = 1;
    mask[7] = 1;
    expect(halfShare(mask, 4, 0)).toBeCloseTo(0.75, 6);
    expect(halfShare(mask, 4, 1)).toBeCloseTo(0.25, 6);
    // Pair 0 = photos (0, 1) with labels 0 and 2; pair 1 = the same mask, prediction 1 (neither photo).
    const masks = new Float32Array(32);
    masks.set(mask, 0);
    masks.set(mask, 16);
    const s = overlapScores(masks, [2, 1], [[0, 1], [0, 1]], [0, 2], 4);
    // Pair 0: predicted class 2 = the right photo, whose half holds 0.25 → a miss. Pair 1 does not count.
    expect(s).toEqual({ pairs: 2, predictedOneOfTwo: 0.5, onPredictedHalf: 0, meanShare: 0.25 });
  });
});

describe('pets annotator boxes', () => {
  it('paints a detector box as the pixels whose centres lie inside it', () => {
    // A 512-px detector box [128, 0, 384, 256] on a 4x4 grid (128 px per cell, centres at 64, 192, 320, 448):
    // columns with centre in [128, 384] → 1, 2; rows with centre in [0, 256] → 0, 1.
    expect(Array.from(paintBox([128, 0, 384, 256], 4))).toEqual([0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('takes the first (highest-scoring) detection of each class, or null', () => {
    const dets = [[0, 0, 1, 1, 0.9, 2], [0, 0, 2, 2, 0.5, 15], [0, 0, 3, 3, 0.4, 15]];
    expect(bestBoxes(dets, [15, 16])).toEqual([[0, 0, 2, 2, 0.5, 15], null]);
  });
});

describe('pets flags (node:util parseArgs, strict)', () => {
  it('rejects an unknown flag', () => {
    expect(() => parsePetsArgs(['--qiuck'])).toThrow(/Unknown option '--qiuck'/);
  });

  it('rejects a bad value with the flag name', () => {
    expect(() => parsePetsArgs(['--epochs', '0'])).toThrow(/--epochs must be a positive integer, got 0/);
    expect(() => parsePetsArgs(['--classifiers', 'c'])).toThrow(/--classifiers must be a, b or a,b/);
  });

  it('uses classifier (a) only and smaller sizes in quick mode', () => {
    const q = parsePetsArgs(['--quick', '--data', '/x']);
    expect(q.classifiers).toEqual(['a']);
    expect(q.data).toBe('/x');
    expect(q.test).toBe(24);
    expect(parsePetsArgs([]).classifiers).toEqual(['a', 'b']);
  });
});
