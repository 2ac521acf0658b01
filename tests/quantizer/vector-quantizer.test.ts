import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { PiqConfigError, PiqInputError, PiqStateError } from '../../src/errors';
import { CodebookLayout } from '../../src/quantizer/codebook-layout';
import { VectorQuantizer } from '../../src/quantizer/vector-quantizer';
import {
  DEFAULT_QUANTIZE_OPTIONS,
  DEFAULT_VECTOR_QUANTIZER_OPTIONS,
  type VectorQuantizerOptions,
} from '../../src/quantizer/vector-quantizer-options';
import { expectClose, expectNoTensorLeak, expectThrowsWithoutLeak, withBackend } from '../helpers';

const live: VectorQuantizer[] = [];
afterEach(() => {
  while (live.length) live.pop()?.dispose();
});

function make(options: Partial<VectorQuantizerOptions> & Pick<VectorQuantizerOptions, 'layout'>, codebook?: number[][]): VectorQuantizer {
  const vq = new VectorQuantizer({ codeDim: 1, seed: 1, ...options } as VectorQuantizerOptions);
  live.push(vq);
  if (codebook) {
    const t = tf.tensor2d(codebook);
    vq.setWeights({ 'quantizer/codebook': t });
    t.dispose();
  }
  return vq;
}

const rows = (vq: VectorQuantizer): number[] => {
  const t = vq.getCodebook();
  const out = Array.from(t.dataSync());
  t.dispose();
  return out;
};

// Hand example: class 0 owns rows 0-1 (codes 0, 1), class 1 rows 2-3 (10, 11), row 4 (5) is shared.
const HAND_LAYOUT = { numClasses: 2, codesPerClass: 2, sharedCodes: 1 };
const HAND_CODEBOOK = [[0], [1], [10], [11], [5]];
const HAND_U = [[[0.4], [0.6], [4.9]], [[0.4], [10.6], [6]]];
const handInputs = () => ({ u: tf.tensor3d(HAND_U), cls: tf.tensor1d([0, 1], 'int32') });

describe('VectorQuantizer: nearest codes', () => {
  it('picks the hand-computed nearest code among the class block and the shared rows', async () => {
    const vq = make({ layout: HAND_LAYOUT }, HAND_CODEBOOK);
    const out = await expectNoTensorLeak(() =>
      tf.tidy(() => {
        const { u, cls } = handInputs();
        const r = vq.quantize(u, cls);
        return { idx: r.codeIndices.arraySync(), q: Array.from(r.quantized.dataSync()), shape: r.quantized.shape, dtype: r.codeIndices.dtype };
      }),
    );
    // ex0 (class 0, rows 0, 1, 4): 0.4→0, 0.6→1, 4.9→4; ex1 (class 1, rows 2, 3, 4): 0.4→4, 10.6→3, 6→4
    expect(out.idx).toEqual([[0, 1, 4], [4, 3, 4]]);
    expect(out.dtype).toBe('int32');
    expect(out.shape).toEqual([2, 3, 1]);
    expectClose(out.q, [0, 1, 5, 5, 11, 5]);
  });

  it('excludes shared rows in training only when sharedCodesInTraining is false (the reference behaviour)', () => {
    const ref = make({ layout: HAND_LAYOUT, sharedCodesInTraining: false }, HAND_CODEBOOK);
    const dflt = make({ layout: HAND_LAYOUT }, HAND_CODEBOOK);
    tf.tidy(() => {
      const { u, cls } = handInputs();
      expect(ref.quantize(u, cls, { training: true }).codeIndices.arraySync()).toEqual([[0, 1, 1], [2, 3, 2]]);
      expect(ref.quantize(u, cls, { training: false }).codeIndices.arraySync()).toEqual([[0, 1, 4], [4, 3, 4]]);
      expect(dflt.quantize(u, cls, { training: true }).codeIndices.arraySync()).toEqual([[0, 1, 4], [4, 3, 4]]);
    });
  });

  it('accepts [batch, height, width, codeDim] features and returns [batch, height, width] indices', () => {
    const vq = make({ layout: HAND_LAYOUT }, HAND_CODEBOOK);
    tf.tidy(() => {
      const r = vq.quantize(tf.tensor4d([0.4, 0.6, 4.9, 10], [1, 2, 2, 1]), tf.tensor1d([0], 'int32'));
      expect(r.codeIndices.shape).toEqual([1, 2, 2]);
      expect(Array.from(r.codeIndices.dataSync())).toEqual([0, 1, 4, 4]);
    });
  });

  it('always chooses rows of the predicted class block or the shared block, also with unequal blocks', () => {
    // reference split of 7 class rows over 3 classes: blocks 3, 2, 2; shared rows 7-9
    const layout = new CodebookLayout({ numClasses: 3, codebookSize: 10, sharedCodes: 3 });
    const vqs = [true, false].map((s) => make({ codeDim: 2, layout, sharedCodesInTraining: s, seed: 3 }));
    fc.assert(
      fc.property(
        fc.array(fc.float({ min: -1, max: 1, noNaN: true, noDefaultInfinity: true }), { minLength: 24, maxLength: 24 }),
        fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 3, maxLength: 3 }),
        fc.boolean(),
        (values, classes, training) => {
          for (const [v, vq] of vqs.entries()) {
            const idx = tf.tidy(() =>
              vq.quantize(tf.tensor4d(values.map((x) => x / 20), [3, 2, 2, 2]), tf.tensor1d(classes, 'int32'), { training }).codeIndices.arraySync(),
            ) as number[][][];
            idx.forEach((plane, b) => {
              const allowed = layout.allowedRows(classes[b] as number, { includeShared: v === 0 || !training });
              for (const k of plane.flat()) expect(allowed).toContain(k);
            });
          }
        },
      ),
      { numRuns: 30, seed: 11 },
    );
  });
});

describe('VectorQuantizer: losses and gradients', () => {
  it('computes codebook and commitment losses and the batch perplexity by hand', () => {
    const vq = make({ layout: HAND_LAYOUT, commitmentWeight: 0.5 }, HAND_CODEBOOK);
    tf.tidy(() => {
      const { u, cls } = handInputs();
      const r = vq.quantize(u, cls);
      // (e − u)² = .16 .16 .01 21.16 .16 1 → mean 3.775
      expectClose(r.codebookLoss, [3.775], 1e-5);
      expectClose(r.commitmentLoss, [0.5 * 3.775], 1e-5);
      expect(r.codebookLoss.shape).toEqual([]);
      // usage 1/6, 1/6, 1/6, 1/2 → exp(H) = √12
      expectClose(r.perplexity, [Math.sqrt(12)], 1e-4);
    });
  });

  it('passes the upstream gradient straight through to the features, plus the commitment gradient', () => {
    const vq = make({ layout: HAND_LAYOUT, commitmentWeight: 0.5 }, HAND_CODEBOOK);
    tf.tidy(() => {
      const { cls } = handInputs();
      const w = tf.tensor3d([[[1], [2], [3]], [[4], [5], [6]]]);
      const gST = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(vq.quantize(x, cls).quantized, w)))(tf.tensor3d(HAND_U));
      expectClose(gST, [1, 2, 3, 4, 5, 6]);
      const gC = tf.grad((x: tf.Tensor) => vq.quantize(x, cls).commitmentLoss)(tf.tensor3d(HAND_U));
      const u = HAND_U.flat(2);
      const e = [0, 1, 5, 5, 11, 5];
      expectClose(gC, u.map((x, i) => (2 * 0.5 * (x - (e[i] as number))) / 6), 1e-5);
    });
  });

  it('sends the codebook-loss gradient to exactly the chosen rows', async () => {
    const vq = make({ layout: HAND_LAYOUT }, HAND_CODEBOOK);
    await expectNoTensorLeak(() => {
      const { u, cls } = handInputs();
      const { value, grads } = tf.variableGrads(() => vq.quantize(u, cls).codebookLoss, vq.trainableVariables);
      const g = grads[(vq.trainableVariables[0] as tf.Variable).name] as tf.Tensor;
      // d/de_k mean((e − u)²) = Σ_{positions → k} 2(e_k − u)/6; row 2 is never chosen
      expectClose(g, [-0.8 / 6, 0.8 / 6, 0, 0.8 / 6, (0.2 + 9.2 - 2) / 6], 1e-5);
      tf.dispose([value, u, cls, ...Object.values(grads)]);
    });
  });

  it('trains with the trainer contract (variableGrads, optimizer, postStep) without leaking', async () => {
    const vq = make({ codeDim: 2, layout: { numClasses: 2, codesPerClass: 2 }, init: 'data', deadCodeSteps: 1 });
    const feats = tf.variable(tf.tensor4d([0.1, 0.2, 0.3, 0.4, 1, 1, 2, 2], [2, 1, 2, 2]));
    const cls = tf.tensor1d([0, 1], 'int32');
    const opt = tf.train.sgd(0.5);
    await expectNoTensorLeak(() => {
      if (vq.needsDataInit) vq.initializeFromData(feats, cls);
      expect(vq.needsDataInit).toBe(false);
      for (let step = 0; step < 3; step++) {
        let idx: tf.Tensor | undefined;
        const { value, grads } = tf.variableGrads(() => {
          const r = vq.quantize(feats, cls, { training: true });
          idx = tf.keep(r.codeIndices);
          return tf.addN([r.codebookLoss, r.commitmentLoss, tf.mean(tf.square(r.quantized))]) as tf.Scalar;
        }, [feats, ...vq.trainableVariables]);
        expect(Object.keys(grads)).toHaveLength(2); // features and codebook both get a gradient
        opt.applyGradients(grads);
        vq.postStep(feats, cls, idx as tf.Tensor);
        tf.dispose([value, idx as tf.Tensor, ...Object.values(grads)]);
      }
    });
    expect(vq.usage().steps).toBe(3);
    tf.dispose([feats, cls]);
    opt.dispose();
  });
});

describe('VectorQuantizer: backends', () => {
  it('gives the same codes, losses and gradients on cpu and wasm, including a training step', async () => {
    const run = () => {
      const vq = new VectorQuantizer({ codeDim: 3, layout: { numClasses: 3, codebookSize: 11, sharedCodes: 2 }, seed: 9, update: 'loss' });
      const ema = new VectorQuantizer({ codeDim: 3, layout: { numClasses: 3, codebookSize: 11, sharedCodes: 2 }, seed: 9, update: 'ema', deadCodeSteps: 1 });
      try {
        return tf.tidy(() => {
          const u = tf.mul(tf.randomNormal([2, 3, 2, 3], 0, 1, 'float32', 4), 0.2);
          const cls = tf.tensor1d([0, 2], 'int32');
          const f = (x: tf.Tensor) => {
            const r = vq.quantize(x, cls, { training: true });
            return tf.addN([r.codebookLoss, r.commitmentLoss, tf.sum(tf.square(r.quantized))]) as tf.Scalar;
          };
          const r = vq.quantize(u, cls, { training: true });
          const gu = tf.grad(f)(u);
          const { grads } = tf.variableGrads(() => f(u), vq.trainableVariables);
          const opt = tf.train.sgd(0.1);
          opt.applyGradients(grads);
          opt.dispose();
          const idx = ema.quantize(u, cls).codeIndices;
          ema.postStep(u, cls, idx);
          const after = vq.getCodebook();
          return {
            idx: Array.from(r.codeIndices.dataSync()),
            losses: [r.codebookLoss.dataSync()[0], r.commitmentLoss.dataSync()[0], r.perplexity.dataSync()[0]],
            gu: Array.from(gu.dataSync()),
            gE: Array.from((Object.values(grads)[0] as tf.Tensor).dataSync()),
            after: Array.from(after.dataSync()),
            emaRows: Array.from(ema.getCodebook().dataSync()),
          };
        });
      } finally {
        vq.dispose();
        ema.dispose();
      }
    };
    const cpu = await withBackend('cpu', () => expectNoTensorLeak(run));
    const wasm = await withBackend('wasm', () => expectNoTensorLeak(run));
    expect(wasm.idx).toEqual(cpu.idx);
    expectClose(wasm.losses as number[], cpu.losses as number[], 1e-5);
    expectClose(wasm.gu, cpu.gu, 1e-5);
    expectClose(wasm.gE, cpu.gE, 1e-5);
    expect(cpu.gE.some((x) => x !== 0)).toBe(true);
    expectClose(wasm.after, cpu.after, 1e-5);
    expectClose(wasm.emaRows, cpu.emaRows, 1e-5);
  });
});

describe('VectorQuantizer: EMA updates', () => {
  it('moves exactly the used codes to the smoothed moving average and leaves the others bit-identical', async () => {
    const decay = 0.5;
    const eps = 1e-3;
    const vq = make({ layout: { numClasses: 2, codesPerClass: 2 }, update: 'ema', emaDecay: decay, emaEpsilon: eps }, [[0], [1], [10], [11]]);
    expect(vq.trainableVariables).toEqual([]);
    await expectNoTensorLeak(() => {
      const u = tf.tensor3d([[[0.2], [0.4]], [[9.8], [11.2]]]);
      const cls = tf.tensor1d([0, 1], 'int32');
      const r = vq.quantize(u, cls);
      expect(Array.from(r.codeIndices.dataSync())).toEqual([0, 0, 2, 3]);
      expect(r.codebookLoss.dataSync()[0]).toBe(0);
      vq.postStep(u, cls, r.codeIndices);
      tf.dispose([u, cls, ...Object.values(r)]);
    });
    // Plain-JS EMA: size = γ·1 + (1−γ)·n, sum = γ·e + (1−γ)·Σx, smoothed by Laplace, e = sum / smoothed
    const n = [2, 0, 1, 1];
    const s = [0.6, 0, 9.8, 11.2];
    const e0 = [0, 1, 10, 11];
    const size = n.map((c) => decay + (1 - decay) * c);
    const total = size.reduce((a, b) => a + b, 0);
    const expected = e0.map((e, k) => {
      if (n[k] === 0) return e;
      const smoothed = ((size[k] as number) + eps) / (total + 4 * eps) * total;
      return (decay * e + (1 - decay) * (s[k] as number)) / smoothed;
    });
    const got = rows(vq);
    expectClose(got, expected, 1e-5);
    expect(got[1]).toBe(1); // unused: untouched
    const w = vq.getWeights();
    expectClose(w['quantizer/ema_cluster_size'] as tf.Tensor, size);
    tf.dispose(Object.values(w));
  });
});

describe('VectorQuantizer: dead-code restart', () => {
  it('re-seeds exactly the codes unused for deadCodeSteps steps, from features of their own class', () => {
    const vq = make({ layout: { numClasses: 2, codesPerClass: 2 }, deadCodeSteps: 2 }, [[0], [1], [10], [11]]);
    const u = tf.tensor3d([[[0.1], [0.2]], [[10.1], [10.2]]]);
    const cls = tf.tensor1d([0, 1], 'int32');
    const idx = tf.tensor2d([[0, 0], [2, 2]], [2, 2], 'int32');
    vq.postStep(u, cls, idx);
    expect(vq.usage().stepsSinceUsed).toEqual([0, 1, 0, 1]);
    expect(rows(vq)).toEqual([0, 1, 10, 11]); // loss mode, no restart yet: nothing moves
    vq.postStep(u, cls, idx);
    const after = rows(vq);
    expect(after[0]).toBe(0);
    expect(after[2]).toBe(10);
    expect([0.1, 0.2].map(Math.fround)).toContain(after[1]);
    expect([10.1, 10.2].map(Math.fround)).toContain(after[3]);
    const usage = vq.usage();
    expect(usage.restartedCodes).toBe(2);
    expect(usage.stepsSinceUsed).toEqual([0, 0, 0, 0]);
    expect(usage.counts).toEqual([4, 0, 4, 0]);
    tf.dispose([u, cls, idx]);
  });

  it('does not age codes of classes absent from the batch, nor shared rows unusable in training', () => {
    const vq = make({ layout: { numClasses: 2, codesPerClass: 2, sharedCodes: 1 }, deadCodeSteps: 5, sharedCodesInTraining: false }, [[0], [1], [10], [11], [5]]);
    tf.tidy(() => {
      const u = tf.tensor3d([[[0.1]]]);
      const cls = tf.tensor1d([0], 'int32');
      const idx = tf.tensor2d([[0]], [1, 1], 'int32');
      for (let i = 0; i < 3; i++) vq.postStep(u, cls, idx);
    });
    expect(vq.usage().stepsSinceUsed).toEqual([0, 3, 0, 0, 0]);
  });

  it('restarts deterministically for a given seed', () => {
    const once = (): number[] => {
      const vq = make({ codeDim: 1, layout: { numClasses: 1, codesPerClass: 3 }, deadCodeSteps: 1, seed: 42 }, [[0], [1], [2]]);
      tf.tidy(() => vq.postStep(tf.tensor3d([[[0], [0.3], [0.6], [0.9]]]), tf.tensor1d([0], 'int32'), tf.tensor2d([[0, 0, 0, 0]], [1, 4], 'int32')));
      return rows(vq);
    };
    expect(once()).toEqual(once());
  });
});

describe('VectorQuantizer: usage statistics', () => {
  it('reports counts per code and per-class perplexity as plain data, shared usage attributed to the class', () => {
    const vq = make({ layout: HAND_LAYOUT }, HAND_CODEBOOK);
    tf.tidy(() => {
      const { u, cls } = handInputs();
      vq.postStep(u, cls, vq.quantize(u, cls).codeIndices);
    });
    const usage = vq.usage();
    expect(usage.counts).toEqual([1, 1, 0, 1, 3]);
    // class 0 used rows 0, 1, 4 once each → perplexity 3; class 1 used row 3 once, shared row 4 twice
    expect(usage.perClass[0]).toMatchObject({ classIndex: 0, assignments: 3, usedCodes: 3 });
    expect(usage.perClass[0]?.perplexity).toBeCloseTo(3, 6);
    expect(usage.perClass[1]).toMatchObject({ classIndex: 1, assignments: 3, usedCodes: 2, deadCodes: 0 });
    expect(usage.perClass[1]?.perplexity).toBeCloseTo(Math.exp(-(1 / 3) * Math.log(1 / 3) - (2 / 3) * Math.log(2 / 3)), 6);
    expect(usage.perplexity).toBeCloseTo(Math.sqrt(12), 5);
    expect(usage.steps).toBe(1);
    expect(JSON.parse(JSON.stringify(usage))).toEqual(usage);
    vq.resetUsage();
    expect(vq.usage().counts).toEqual([0, 0, 0, 0, 0]);
    expect(vq.usage().steps).toBe(0);
  });
});

describe('VectorQuantizer: initialisation', () => {
  it('draws a seeded uniform(−1/K, 1/K) codebook by default', () => {
    const a = make({ codeDim: 4, layout: { numClasses: 2, codesPerClass: 4 }, seed: 5 });
    const b = make({ codeDim: 4, layout: { numClasses: 2, codesPerClass: 4 }, seed: 5 });
    const c = make({ codeDim: 4, layout: { numClasses: 2, codesPerClass: 4 }, seed: 6 });
    expect(rows(a)).toEqual(rows(b));
    expect(rows(a)).not.toEqual(rows(c));
    for (const x of rows(a)) expect(Math.abs(x)).toBeLessThanOrEqual(1 / 8);
    expect(a.needsDataInit).toBe(false);
  });

  it("seeds each class's rows from that class's features with init 'data'", async () => {
    const vq = make({ codeDim: 2, layout: { numClasses: 3, codesPerClass: 3, sharedCodes: 1 }, init: 'data' });
    expect(vq.needsDataInit).toBe(true);
    const a = [[1, 1], [1, 2], [1, 3], [1, 4]];
    const b = [[2, 1], [2, 2], [2, 3], [2, 4]];
    const before = rows(vq);
    await expectNoTensorLeak(() =>
      tf.tidy(() => vq.initializeFromData(tf.tensor3d([a, b]), tf.tensor1d([0, 2], 'int32'))),
    );
    expect(vq.needsDataInit).toBe(false);
    const r = rows(vq);
    const rowAt = (k: number) => [r[2 * k], r[2 * k + 1]];
    const key = (v: (number | undefined)[]) => v.join(',');
    const aKeys = a.map(key);
    const bKeys = b.map(key);
    const class0 = [0, 1, 2].map((k) => key(rowAt(k)));
    for (const k of class0) expect(aKeys).toContain(k);
    expect(new Set(class0).size).toBe(3); // sampled without replacement
    for (const k of [6, 7, 8]) expect(bKeys).toContain(key(rowAt(k)));
    expect(r.slice(6, 12)).toEqual(before.slice(6, 12)); // class 1 absent: rows kept
    expect([...aKeys, ...bKeys]).toContain(key(rowAt(9))); // shared row from any class
  });

  it("finds the two cluster centres of a class with init 'kmeans'", () => {
    const vq = make({ layout: { numClasses: 1, codesPerClass: 2 }, init: 'kmeans' });
    tf.tidy(() => vq.initializeFromData(tf.tensor3d([[[0], [0.2], [10], [10.2]]]), tf.tensor1d([0], 'int32')));
    expectClose(rows(vq).sort((x, y) => x - y), [0.1, 10.1], 1e-5);
  });

  it('initialises on the first postStep when initializeFromData was not called, recording no usage', () => {
    const vq = make({ layout: { numClasses: 1, codesPerClass: 1 }, init: 'data' });
    tf.tidy(() => vq.postStep(tf.tensor3d([[[3]]]), tf.tensor1d([0], 'int32'), tf.tensor2d([[0]], [1, 1], 'int32')));
    expect(vq.needsDataInit).toBe(false);
    expect(rows(vq)).toEqual([3]);
    expect(vq.usage().steps).toBe(0);
  });
});

describe('VectorQuantizer: decoding, config and weights', () => {
  it('decodes code indices back to code vectors', async () => {
    const vq = make({ layout: HAND_LAYOUT }, HAND_CODEBOOK);
    const out = await expectNoTensorLeak(() =>
      tf.tidy(() => {
        const t = vq.codesFromIndices(tf.tensor2d([[4, 0], [3, 2]], [2, 2], 'int32'));
        return { shape: t.shape, v: Array.from(t.dataSync()) };
      }),
    );
    expect(out.shape).toEqual([2, 2, 1]);
    expect(out.v).toEqual([5, 0, 11, 10]);
  });

  it('exposes frozen defaults that match the documented values', () => {
    expect(DEFAULT_VECTOR_QUANTIZER_OPTIONS).toEqual({
      commitmentWeight: 1,
      sharedCodesInTraining: true,
      init: 'uniform',
      kmeansIterations: 10,
      update: 'loss',
      emaDecay: 0.99,
      emaEpsilon: 1e-5,
      deadCodeSteps: 0,
      seed: null,
    });
    expect(Object.isFrozen(DEFAULT_VECTOR_QUANTIZER_OPTIONS)).toBe(true);
    expect(DEFAULT_QUANTIZE_OPTIONS).toEqual({ training: false, validate: true });
  });

  it('round-trips its config through JSON and its weights through getWeights/setWeights', async () => {
    const opts: VectorQuantizerOptions = {
      codeDim: 2,
      layout: { numClasses: 2, codebookSize: 7, sharedCodes: 2 },
      update: 'ema',
      deadCodeSteps: 3,
      sharedCodesInTraining: false,
      seed: 4,
    };
    const a = make(opts);
    const u = tf.tensor4d([0.01, 0.02, -0.03, 0.04, 0.05, 0.06, 0.07, -0.08], [2, 1, 2, 2]);
    const cls = tf.tensor1d([1, 0], 'int32');
    for (let i = 0; i < 2; i++) tf.tidy(() => a.postStep(u, cls, a.quantize(u, cls, { training: true }).codeIndices));
    const config = JSON.parse(JSON.stringify(a.getConfig()));
    const b = VectorQuantizer.fromConfig(config);
    live.push(b);
    expect(b.getConfig()).toEqual(a.getConfig());
    const wa = a.getWeights();
    expect(Object.keys(wa).sort()).toEqual(
      [
        'quantizer/codebook',
        'quantizer/ema_cluster_size',
        'quantizer/ema_embed_sum',
        'quantizer/initialized',
        'quantizer/restart_count',
        'quantizer/shared_usage_by_class',
        'quantizer/steps',
        'quantizer/steps_since_used',
        'quantizer/usage_counts',
      ].sort(),
    );
    await expectNoTensorLeak(() => b.setWeights(wa));
    const wb = b.getWeights();
    for (const name of Object.keys(wa)) expect(Array.from((wb[name] as tf.Tensor).dataSync())).toEqual(Array.from((wa[name] as tf.Tensor).dataSync()));
    expect(b.usage()).toEqual(a.usage());
    tf.dispose(Object.values(wa)); // copies: the quantizers are unaffected
    tf.dispose(Object.values(wb));
    tf.tidy(() => {
      expect(b.quantize(u, cls).codeIndices.arraySync()).toEqual(a.quantize(u, cls).codeIndices.arraySync());
    });
    tf.dispose([u, cls]);
  });

  it('accepts a CodebookLayout instance and reports its shape', () => {
    const layout = new CodebookLayout({ numClasses: 3, codesPerClass: 2 });
    const vq = make({ codeDim: 5, layout });
    expect(vq.layout).toBe(layout);
    expect(vq.codebookSize).toBe(6);
    const cb = vq.getCodebook();
    expect(cb.shape).toEqual([6, 5]);
    cb.dispose();
  });
});

describe('VectorQuantizer: memory and lifecycle', () => {
  it.each([
    [{ layout: HAND_LAYOUT }],
    [{ layout: HAND_LAYOUT, update: 'ema' as const, sharedCodesInTraining: false, deadCodeSteps: 1 }],
    [{ layout: { numClasses: 2, codebookSize: 5 }, init: 'kmeans' as const }],
  ])('leaves no tensors behind from construction to dispose (%j)', async (opts) => {
    await expectNoTensorLeak(() => {
      const vq = new VectorQuantizer({ codeDim: 1, ...opts });
      tf.tidy(() => {
        const { u, cls } = handInputs();
        if (vq.needsDataInit) vq.initializeFromData(u, cls);
        const r = vq.quantize(u, cls, { training: true });
        vq.postStep(u, cls, r.codeIndices);
        vq.postStep(u, cls, r.codeIndices);
      });
      vq.usage();
      const w = vq.getWeights();
      vq.setWeights(w);
      tf.dispose(Object.values(w));
      vq.resetUsage();
      vq.dispose();
      vq.dispose();
      expect(vq.isDisposed).toBe(true);
    });
  });

  it('throws PiqStateError from every method once disposed', () => {
    const vq = new VectorQuantizer({ codeDim: 1, layout: HAND_LAYOUT });
    vq.dispose();
    expect(vq.needsDataInit).toBe(false);
    const t = tf.zeros([1, 1, 1]);
    const c = tf.tensor1d([0], 'int32');
    const i = tf.tensor2d([[0]], [1, 1], 'int32');
    const calls: Array<[string, () => unknown]> = [
      ['quantize', () => vq.quantize(t, c)],
      ['postStep', () => vq.postStep(t, c, i)],
      ['initializeFromData', () => vq.initializeFromData(t, c)],
      ['codesFromIndices', () => vq.codesFromIndices(i)],
      ['usage', () => vq.usage()],
      ['resetUsage', () => vq.resetUsage()],
      ['getWeights', () => vq.getWeights()],
      ['setWeights', () => vq.setWeights({})],
      ['getConfig', () => vq.getConfig()],
      ['getCodebook', () => vq.getCodebook()],
      ['trainableVariables', () => vq.trainableVariables],
    ];
    for (const [name, fn] of calls) {
      expect(fn, name).toThrow(PiqStateError);
      expect(fn, name).toThrow(new RegExp(`VectorQuantizer\\.${name}`));
    }
    tf.dispose([t, c, i]);
  });
});

describe('VectorQuantizer: validation', () => {
  it.each([
    [{ codeDim: -1 }, 'codeDim'],
    [{ codeDim: 1.5 }, 'codeDim'],
    [{ layout: undefined }, 'layout'],
    [{ layout: { numClasses: 0, codesPerClass: 2 } }, 'numClasses'],
    [{ commitmentWeight: -1 }, 'commitmentWeight'],
    [{ sharedCodesInTraining: 'no' }, 'sharedCodesInTraining'],
    [{ init: 'random' }, 'init'],
    [{ update: 'sgd' }, 'update'],
    [{ emaDecay: 1 }, 'emaDecay'],
    [{ emaEpsilon: 0 }, 'emaEpsilon'],
    [{ deadCodeSteps: -2 }, 'deadCodeSteps'],
    [{ kmeansIterations: 0.5 }, 'kmeansIterations'],
    [{ seed: 1.5 }, 'seed'],
  ])('rejects the option %j with a PiqConfigError naming %s', async (bad, name) => {
    const err = await expectThrowsWithoutLeak(() => new VectorQuantizer({ codeDim: 2, layout: HAND_LAYOUT, ...(bad as object) } as VectorQuantizerOptions));
    expect(err).toBeInstanceOf(PiqConfigError);
    expect(err.message).toContain(`'${name}'`);
  });

  it('rejects invalid quantize inputs with a PiqInputError naming the argument, without leaking', async () => {
    const vq = make({ codeDim: 2, layout: HAND_LAYOUT });
    const ok = tf.zeros([2, 3, 2]);
    const cls = tf.tensor1d([0, 1], 'int32');
    const cases: Array<[() => tf.Tensor, () => tf.Tensor, string, RegExp?]> = [
      [() => tf.zeros([2, 2]), () => tf.tensor1d([0, 1], 'int32'), "'features'", /rank/],
      [() => tf.zeros([2, 1, 1, 1, 2]), () => tf.tensor1d([0, 1], 'int32'), "'features'", /rank/],
      [() => tf.zeros([2, 3, 3]), () => tf.tensor1d([0, 1], 'int32'), "'features'", /codeDim/],
      [() => tf.zeros([2, 3, 2], 'int32'), () => tf.tensor1d([0, 1], 'int32'), "'features'", /float32/],
      [() => tf.zeros([2, 3, 2]), () => tf.tensor1d([0, 1]), "'predictedClass'", /int32/],
      [() => tf.zeros([2, 3, 2]), () => tf.tensor1d([0], 'int32'), "'predictedClass'", /batch/],
      [() => tf.zeros([2, 3, 2]), () => tf.tensor2d([[0], [1]], [2, 1], 'int32'), "'predictedClass'"],
      [() => tf.zeros([2, 3, 2]), () => tf.tensor1d([0, 2], 'int32'), "'predictedClass'", /\[0, 2\)/],
      [() => tf.zeros([2, 3, 2]), () => tf.tensor1d([-1, 0], 'int32'), "'predictedClass'", /\[0, 2\)/],
      [() => tf.fill([2, 3, 2], NaN), () => tf.tensor1d([0, 1], 'int32'), "'features'", /finite/],
    ];
    for (const [f, c, name, re] of cases) {
      const x = f();
      const y = c();
      const err = await expectThrowsWithoutLeak(() => vq.quantize(x, y));
      expect(err).toBeInstanceOf(PiqInputError);
      expect(err.message).toContain(name);
      expect(err.message).toContain('VectorQuantizer.quantize');
      if (re) expect(err.message).toMatch(re);
      tf.dispose([x, y]);
    }
    const err = await expectThrowsWithoutLeak(() => vq.quantize(ok, cls, { training: 1 as unknown as boolean }));
    expect(err).toBeInstanceOf(PiqConfigError);
    expect(err.message).toContain("'training'");
    tf.dispose([ok, cls]);
  });

  it('skips the value checks with validate: false', () => {
    const vq = make({ layout: HAND_LAYOUT }, HAND_CODEBOOK);
    tf.tidy(() => {
      const r = vq.quantize(tf.tensor3d([[[NaN]]]), tf.tensor1d([0], 'int32'), { validate: false });
      expect(r.codeIndices.shape).toEqual([1, 1]);
    });
  });

  it('rejects invalid postStep, codesFromIndices and initializeFromData inputs naming the argument', async () => {
    const vq = make({ layout: HAND_LAYOUT }, HAND_CODEBOOK);
    const u = tf.zeros([1, 2, 1]);
    const c = tf.tensor1d([0], 'int32');
    const badIdx = [tf.tensor2d([[0, 1]], [1, 2]), tf.tensor1d([0, 1], 'int32'), tf.tensor2d([[0, 5]], [1, 2], 'int32')];
    for (const idx of badIdx) {
      const err = await expectThrowsWithoutLeak(() => vq.postStep(u, c, idx));
      expect(err).toBeInstanceOf(PiqInputError);
      expect(err.message).toContain("'codeIndices'");
    }
    const bad = [tf.tensor1d([0.5]), tf.tensor1d([5], 'int32'), tf.tensor1d([-1], 'int32')];
    for (const idx of bad) {
      const err = await expectThrowsWithoutLeak(() => vq.codesFromIndices(idx));
      expect(err).toBeInstanceOf(PiqInputError);
      expect(err.message).toContain("'codeIndices'");
    }
    const c2 = tf.tensor1d([3], 'int32');
    const err = await expectThrowsWithoutLeak(() => vq.initializeFromData(u, c2));
    expect(err).toBeInstanceOf(PiqInputError);
    expect(err.message).toContain("'predictedClass'");
    tf.dispose([u, c, c2, ...badIdx, ...bad]);
  });

  it('rejects bad weight maps naming the entry and changes nothing', async () => {
    const vq = make({ layout: HAND_LAYOUT }, HAND_CODEBOOK);
    const good = tf.zeros([5, 1]);
    const cases: Array<[Record<string, tf.Tensor>, string]> = [
      [{ 'quantizer/usage_counts': tf.zeros([5]) }, 'quantizer/codebook'],
      [{ 'quantizer/codebook': tf.zeros([4, 1]) }, 'quantizer/codebook'],
      [{ 'quantizer/codebook': good, 'quantizer/usage_counts': tf.zeros([3]) }, 'quantizer/usage_counts'],
      [{ 'quantizer/codebook': good, 'quantizer/ema_cluster_size': tf.zeros([5]) }, 'quantizer/ema_cluster_size'],
    ];
    for (const [map, name] of cases) {
      const err = await expectThrowsWithoutLeak(() => vq.setWeights(map));
      expect(err).toBeInstanceOf(PiqInputError);
      expect(err.message).toContain(name);
      expect(rows(vq)).toEqual([0, 1, 10, 11, 5]);
      tf.dispose(Object.values(map).filter((t) => t !== good));
    }
    good.dispose();
  });
});
