// The annotation model of concept mode: centernet's own detections (COCO, MobileNetV3), run frozen at
// its native 512x512 input. For each photo and each of its two relevant classes (cat, dog) the concept
// map is the box of the detector's best detection of that class, painted as a {0, 1} mask at the
// photo's size: channel 0 = "where the detector puts the cat", channel 1 = "... the dog".
// (centernet's per-class heatmaps are only centre peaks, a few pixels wide: they point at the animal
// but cover ~1% of it, so the detector's region output, its box, is the concept.)
//
// Detection is slow (~0.3 s per photo here), so annotations are cached on disk, keyed by a SHA-1 of
// each photo's float32 pixels: a rerun reads them back and never runs the detector.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { GraphModel } from './centernet';
import { COCO_CAT, COCO_DOG } from './centernet';

/** Cache format version: bump when the annotation changes. */
export const ANNOTATION_VERSION = 'v1';
const DETECTOR_SIZE = 512;

/**
 * Paints the box `[x1, y1, x2, y2]` (detector pixels of a `detectorSize`² input) as a {0, 1} mask of
 * `size`²: a pixel is inside when its centre is.
 */
export function paintBox(box: readonly number[], size: number, detectorSize = DETECTOR_SIZE): Float32Array {
  const out = new Float32Array(size * size);
  const s = detectorSize / size;
  const [x1, y1, x2, y2] = box as [number, number, number, number];
  for (let y = 0; y < size; y++) {
    const cy = (y + 0.5) * s;
    if (cy < y1 || cy > y2) continue;
    for (let x = 0; x < size; x++) {
      const cx = (x + 0.5) * s;
      if (cx >= x1 && cx <= x2) out[y * size + x] = 1;
    }
  }
  return out;
}

/** The best box per class among detections `[x1, y1, x2, y2, score, class]` (sorted by score), or null. */
export function bestBoxes(detections: readonly number[][], classes: readonly number[]): Array<number[] | null> {
  return classes.map((c) => detections.find((d) => d[5] === c) ?? null);
}

export interface BoxAnnotator {
  /** Annotations `[n, h, w, 2]` in {0, 1} for photos `[n, h, w, 3]` in [0, 1] (cached on disk). */
  annotate(x: tf.Tensor4D): tf.Tensor4D;
  /** Photos annotated by the detector / read from the disk cache since creation. */
  stats(): { detected: number; fromDisk: number };
  /** Writes new entries to the disk cache. */
  save(): void;
}

/**
 * Wraps centernet (the released graph, fixed 512x512 input) as a box annotator with a disk cache in
 * `cacheFile` (records of 20-byte SHA-1 + h·w·2 bytes).
 */
export function boxAnnotator(detector: GraphModel | null, cacheFile: string, size = 64): BoxAnnotator {
  const per = size * size * 2;
  const cache = new Map<string, Uint8Array>();
  if (existsSync(cacheFile)) {
    const buf = readFileSync(cacheFile);
    for (let o = 0; o + 20 + per <= buf.byteLength; o += 20 + per) {
      cache.set(buf.subarray(o, o + 20).toString('hex'), new Uint8Array(buf.subarray(o + 20, o + 20 + per)));
    }
  }
  let dirty = false;
  let detected = 0;
  let fromDisk = 0;
  return {
    annotate(x) {
      const [n, h, w] = x.shape;
      if (h !== size || w !== size) throw new Error(`boxAnnotator: photos must be ${size}x${size}, got ${h}x${w}.`);
      const px = x.dataSync() as Float32Array;
      const out = new Float32Array(n * per);
      for (let i = 0; i < n; i++) {
        const bytes = new Uint8Array(px.buffer, px.byteOffset + i * size * size * 3 * 4, size * size * 3 * 4);
        const key = createHash('sha1').update(bytes).digest('hex');
        let ann = cache.get(key);
        if (ann) fromDisk++;
        else {
          if (!detector) throw new Error('boxAnnotator: a photo is missing from the annotation cache and the detector is not loaded.');
          const dets = tf.tidy(() => {
            const xi = tf.slice(x, [i, 0, 0, 0], [1, -1, -1, -1]);
            const big = tf.mul(tf.image.resizeBilinear(xi, [DETECTOR_SIZE, DETECTOR_SIZE], false, true), 255);
            return detector.execute(big, 'tower_0/detections') as tf.Tensor;
          });
          const rows = (dets.arraySync() as number[][][])[0] as number[][];
          dets.dispose();
          ann = new Uint8Array(per);
          bestBoxes(rows, [COCO_CAT, COCO_DOG]).forEach((box, ch) => {
            if (!box) return;
            const m = paintBox(box, size);
            for (let p = 0; p < size * size; p++) (ann as Uint8Array)[p * 2 + ch] = m[p] as number;
          });
          cache.set(key, ann);
          dirty = true;
          detected++;
        }
        for (let j = 0; j < per; j++) out[i * per + j] = ann[j] as number;
      }
      return tf.tensor4d(out, [n, size, size, 2]);
    },
    stats: () => ({ detected, fromDisk }),
    save() {
      if (!dirty) return;
      mkdirSync(dirname(cacheFile), { recursive: true });
      const parts: Buffer[] = [];
      for (const [k, v] of cache) parts.push(Buffer.from(k, 'hex'), Buffer.from(v));
      writeFileSync(cacheFile, Buffer.concat(parts));
      dirty = false;
    },
  };
}
