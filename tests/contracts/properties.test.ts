// Property-based checks (fast-check) of the quantizer and metric invariants, on random shapes,
// layouts, classes and values. Values are drawn from a seeded generator so a failing case is
// reproducible from its printed seed. numRuns is kept small: the file runs in seconds.
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { averageDrop, averageGain, averageIncrease, complexity, faithfulness, inputFidelity, sparseness, VectorQuantizer } from '../../src';
import { mulberry32 } from '../../src/internal/random';

const RUNS = 25;

function values(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const r = mulberry32(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * r());
}

const quantizerCase = fc.record({
  numClasses: fc.integer({ min: 1, max: 4 }),
  codesPerClass: fc.integer({ min: 1, max: 3 }),
  sharedCodes: fc.integer({ min: 0, max: 2 }),
  sharedPlacement: fc.constantFrom('last' as const, 'first' as const),
  sharedCodesInTraining: fc.boolean(),
  training: fc.boolean(),
  codeDim: fc.integer({ min: 1, max: 4 }),
  batch: fc.integer({ min: 1, max: 3 }),
  // rank-4 [batch, h, w, D] or rank-3 [batch, n, D]
  spatial: fc.oneof(fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })), fc.tuple(fc.integer({ min: 1, max: 5 }))),
  seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
});

describe('VectorQuantizer properties', () => {
  it('chooses only rows allowed to the class, the nearest of them, and returns exactly those rows', () => {
    fc.assert(
      fc.property(quantizerCase, (c) => {
        const vq = new VectorQuantizer({
          codeDim: c.codeDim,
          layout: { numClasses: c.numClasses, codesPerClass: c.codesPerClass, sharedCodes: c.sharedCodes, sharedPlacement: c.sharedPlacement },
          sharedCodesInTraining: c.sharedCodesInTraining,
          seed: c.seed % 1000,
        });
        const before = tf.memory().numTensors;
        try {
          const positions = c.spatial.reduce((a, b) => a * b, 1);
          const shape = [c.batch, ...c.spatial, c.codeDim];
          const feats = values(c.batch * positions * c.codeDim, c.seed, -0.5, 0.5);
          const classes = Int32Array.from({ length: c.batch }, (_, i) => (c.seed + i * 7) % c.numClasses);
          const u = tf.tensor(feats, shape);
          const cls = tf.tensor1d(classes, 'int32');
          const r = vq.quantize(u, cls, { training: c.training });
          const fromIdx = vq.codesFromIndices(r.codeIndices);
          const cb = vq.getCodebook();
          const idx = r.codeIndices.dataSync();
          const q = r.quantized.dataSync();
          const back = fromIdx.dataSync();
          const book = cb.dataSync();
          expect(r.codeIndices.shape).toEqual(shape.slice(0, -1));
          expect(fromIdx.shape).toEqual(shape);
          const D = c.codeDim;
          for (let b = 0; b < c.batch; b++) {
            const includeShared = c.training ? c.sharedCodesInTraining : true;
            const allowed = vq.layout.allowedRows(classes[b] as number, { includeShared });
            for (let p = 0; p < positions; p++) {
              const at = b * positions + p;
              const k = idx[at] as number;
              expect(allowed).toContain(k);
              // codesFromIndices returns the codebook row exactly; quantized equals it up to the
              // straight-through rounding u + (e − u).
              for (let d = 0; d < D; d++) {
                expect(back[at * D + d]).toBe(book[k * D + d]);
                expect(Math.abs((q[at * D + d] as number) - (book[k * D + d] as number))).toBeLessThanOrEqual(1e-6);
              }
              // Nearest among the allowed rows (plain-JS distances in double precision).
              const dist = (row: number) => {
                let s = 0;
                for (let d = 0; d < D; d++) s += ((feats[at * D + d] as number) - (book[row * D + d] as number)) ** 2;
                return s;
              };
              const best = Math.min(...allowed.map(dist));
              expect(dist(k)).toBeLessThanOrEqual(best + 1e-5);
            }
          }
          tf.dispose([u, cls, r.quantized, r.codeIndices, r.codebookLoss, r.commitmentLoss, r.perplexity, fromIdx, cb]);
          expect(tf.memory().numTensors).toBe(before);
        } finally {
          vq.dispose();
        }
      }),
      { numRuns: RUNS },
    );
  });
});

describe('VectorQuantizer with one searchable row per class', () => {
  // Regression: tf.oneHot refuses a depth of 1, which a class with a single row used to hit.
  it('quantizes every position to the single allowed row', () => {
    const vq = new VectorQuantizer({ codeDim: 2, layout: { numClasses: 2, codesPerClass: 1 }, seed: 0 });
    try {
      const r = tf.tidy(() => vq.quantize(tf.zeros([1, 3, 2]), tf.tensor1d([1], 'int32')).codeIndices.arraySync());
      expect(r).toEqual([[1, 1, 1]]);
    } finally {
      vq.dispose();
    }
  });
});

const metricCase = fc.record({
  batch: fc.integer({ min: 1, max: 5 }),
  features: fc.integer({ min: 1, max: 6 }),
  classes: fc.integer({ min: 2, max: 4 }),
  chunk: fc.integer({ min: 1, max: 4 }),
  seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
});

/** A random linear classifier x [b, n] → logits [b, K]. */
function linear(n: number, k: number, seed: number): { fn: (x: tf.Tensor) => tf.Tensor2D; w: tf.Tensor2D } {
  const w = tf.tensor2d(values(n * k, seed ^ 0x9e3779b9, -3, 3), [n, k]);
  return { w, fn: (x: tf.Tensor) => tf.matMul(tf.reshape(x, [x.shape[0] as number, n]), w) };
}

describe('metric properties', () => {
  it('keep AI in {0, 100}, AD and AG in [0, 100], faithfulness in [-1, 1], Fid-In in {0, 1}, and do not depend on the chunk size', async () => {
    await fc.assert(
      fc.asyncProperty(metricCase, async (c) => {
        const x = tf.tensor2d(values(c.batch * c.features, c.seed, 0, 1), [c.batch, c.features]);
        const m = tf.tensor2d(values(c.batch * c.features, c.seed + 1, 0, 1), [c.batch, c.features]);
        const { fn, w } = linear(c.features, c.classes, c.seed);
        try {
          const whole = { batchSize: 64 };
          const chunked = { batchSize: c.chunk };
          for (const [metric, check] of [
            [averageIncrease, (v: number) => expect([0, 100]).toContain(v)],
            [averageDrop, (v: number) => expect(v >= 0 && v <= 100).toBe(true)],
            [averageGain, (v: number) => expect(v >= 0 && v <= 100).toBe(true)],
            [faithfulness, (v: number) => expect(v >= -1 && v <= 1).toBe(true)],
            [inputFidelity, (v: number) => expect([0, 1]).toContain(v)],
          ] as const) {
            const a = await metric(fn, x, m, whole);
            const b = await metric(fn, x, m, chunked);
            expect(a.values.length).toBe(c.batch);
            a.values.forEach((v) => check(v));
            // Chunking changes nothing: each example is scored on its own.
            for (let i = 0; i < c.batch; i++) expect(Math.abs((a.values[i] as number) - (b.values[i] as number))).toBeLessThanOrEqual(1e-6);
          }
        } finally {
          tf.dispose([x, m, w]);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('keep SPS in [0, 1] and COMP in [0, ln n] for any non-negative masks', () => {
    fc.assert(
      fc.property(metricCase, fc.boolean(), (c, sparse) => {
        const raw = values(c.batch * c.features, c.seed, 0, 1);
        if (sparse) raw.forEach((v, i) => (raw[i] = v < 0.7 ? 0 : v)); // many exact zeros, possibly all-zero masks
        const m = tf.tensor2d(raw, [c.batch, c.features]);
        try {
          const sps = sparseness(m);
          const comp = complexity(m);
          for (let i = 0; i < c.batch; i++) {
            expect(sps.values[i]).toBeGreaterThanOrEqual(0);
            expect(sps.values[i]).toBeLessThanOrEqual(1);
            expect(comp.values[i]).toBeGreaterThanOrEqual(-1e-6);
            expect(comp.values[i]).toBeLessThanOrEqual(Math.log(c.features) + 1e-5);
          }
        } finally {
          m.dispose();
        }
      }),
      { numRuns: RUNS },
    );
  });
});
