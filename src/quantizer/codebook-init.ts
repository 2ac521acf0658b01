// Data-driven codebook initialisation on the host: each class's rows get random feature vectors of
// that class (optionally refined by Lloyd / k-means iterations), shared rows random vectors of any class.
import { mulberry32, shuffleInPlace } from '../internal/random';
import type { CodebookLayout } from './codebook-layout';

/** A batch of features read back to the host: `data` is `[batch · n, codeDim]`, `classes` `[batch]`. */
export interface HostBatch {
  data: Float32Array;
  classes: Int32Array;
  batch: number;
  /** Feature vectors per example (height · width). */
  n: number;
}

/**
 * Seeds `codebook` (`[K · codeDim]`, modified in place) from a batch: `'data'` copies random
 * feature vectors of each class into that class's rows, `kmeansIterations > 0` then runs Lloyd
 * iterations per class; shared rows get random feature vectors of any class. Classes absent from
 * the batch keep their rows. The draws come from `mulberry32(seed ^ 0x5bd1e995)`.
 */
export function seedCodebookFromBatch(
  codebook: Float32Array,
  layout: CodebookLayout,
  codeDim: number,
  batch: HostBatch,
  seed: number,
  kmeansIterations: number,
): void {
  const D = codeDim;
  const { data, classes } = batch;
  const rand = mulberry32(seed ^ 0x5bd1e995);
  const byClass: number[][] = Array.from({ length: layout.numClasses }, () => []);
  const all: number[] = [];
  for (let b = 0; b < batch.batch; b++) {
    for (let j = 0; j < batch.n; j++) {
      const pos = b * batch.n + j;
      byClass[classes[b] as number]?.push(pos);
      all.push(pos);
    }
  }
  const seedRows = (rows: number[], positions: number[]): void => {
    if (positions.length === 0) return;
    const order = shuffleInPlace(positions.slice(), rand);
    rows.forEach((row, i) => {
      const pos = order[i % order.length] as number;
      codebook.set(data.subarray(pos * D, pos * D + D), row * D);
    });
  };
  for (let c = 0; c < layout.numClasses; c++) {
    const rows = layout.allowedRows(c, { includeShared: false });
    const positions = byClass[c] as number[];
    seedRows(rows, positions);
    if (kmeansIterations > 0 && positions.length > 0) lloyd(codebook, rows, positions, data, D, kmeansIterations);
  }
  const sb = layout.sharedBlock();
  seedRows(
    Array.from({ length: sb.size }, (_, i) => sb.start + i),
    all,
  );
}

/** Lloyd iterations on the host for the rows of one class. */
function lloyd(codebook: Float32Array, rows: number[], positions: number[], data: Float32Array, D: number, iterations: number): void {
  const m = rows.length;
  const sums = new Float64Array(m * D);
  const cnt = new Float64Array(m);
  for (let it = 0; it < iterations; it++) {
    sums.fill(0);
    cnt.fill(0);
    for (const pos of positions) {
      let best = 0;
      let bestD = Infinity;
      for (let r = 0; r < m; r++) {
        const base = (rows[r] as number) * D;
        let dist = 0;
        for (let d = 0; d < D; d++) {
          const diff = (data[pos * D + d] as number) - (codebook[base + d] as number);
          dist += diff * diff;
        }
        if (dist < bestD) {
          bestD = dist;
          best = r;
        }
      }
      cnt[best] = (cnt[best] as number) + 1;
      for (let d = 0; d < D; d++) sums[best * D + d] = (sums[best * D + d] as number) + (data[pos * D + d] as number);
    }
    for (let r = 0; r < m; r++) {
      const c = cnt[r] as number;
      if (c === 0) continue; // an empty cluster keeps its centroid
      const base = (rows[r] as number) * D;
      for (let d = 0; d < D; d++) codebook[base + d] = (sums[r * D + d] as number) / c;
    }
  }
}
