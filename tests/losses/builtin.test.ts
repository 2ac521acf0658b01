import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { PiqConfigError } from '../../src/errors';
import {
  DEFAULT_LMAC_LOSS_OPTIONS,
  DEFAULT_MASK_TARGET_LOSS_OPTIONS,
  DEFAULT_RECONSTRUCTION_LOSS_OPTIONS,
  codebookLoss,
  commitmentLoss,
  fidelityLoss,
  lmacLoss,
  maskTargetLoss,
  reconstructionLoss,
  sparsityLoss,
  totalVariationLoss,
} from '../../src/losses/builtin';
import { faithfulnessTerm } from '../../src/losses/faithfulness-terms';
import { createLoss } from '../../src/losses/registry';
import type { Loss } from '../../src/losses/types';
import { expectClose, expectNoTensorLeak, expectThrowsWithoutLeak } from '../helpers';
import { contextFixture, gradsOf, linearClassifier, mean, sigmoid, valueOf } from './context';

// ---------------------------------------------------------------------------------------------
// Contract table: every built-in loss through the same checks.
// ---------------------------------------------------------------------------------------------

type Wrt = 'logits' | 'codebook' | 'encoded';
interface Row {
  label: string;
  make: () => Loss;
  /** The variable the loss must be differentiable with respect to. */
  wrt: Wrt;
  /** For the quantizer terms: the context scalar the loss must pass through unchanged. */
  passThrough?: 'codebookLoss' | 'commitmentLoss';
}

const TABLE: Row[] = [
  { label: "reconstruction 'bce'", make: () => reconstructionLoss(), wrt: 'logits' },
  { label: "reconstruction 'mse'", make: () => reconstructionLoss({ kind: 'mse' }), wrt: 'logits' },
  { label: "reconstruction 'l1'", make: () => reconstructionLoss({ kind: 'l1' }), wrt: 'logits' },
  { label: "maskTarget 'bce'", make: () => maskTargetLoss(), wrt: 'logits' },
  { label: "maskTarget 'balanced-bce'", make: () => maskTargetLoss({ kind: 'balanced-bce' }), wrt: 'logits' },
  { label: "maskTarget 'dice'", make: () => maskTargetLoss({ kind: 'dice' }), wrt: 'logits' },
  { label: 'codebook', make: () => codebookLoss(), wrt: 'codebook', passThrough: 'codebookLoss' },
  { label: 'commitment', make: () => commitmentLoss(), wrt: 'encoded', passThrough: 'commitmentLoss' },
  { label: 'fidelity', make: () => fidelityLoss(), wrt: 'logits' },
  { label: 'sparsity', make: () => sparsityLoss(), wrt: 'logits' },
  { label: 'totalVariation', make: () => totalVariationLoss(), wrt: 'logits' },
  { label: 'lmac (defaults)', make: () => lmacLoss(), wrt: 'logits' },
  { label: 'lmac (custom weights)', make: () => lmacLoss({ maskIn: 1, maskOut: 0.5, sparsity: 0 }), wrt: 'logits' },
  { label: "faithfulnessTerm 'keep'", make: () => faithfulnessTerm({ term: 'keep' }), wrt: 'logits' },
  { label: "faithfulnessTerm 'remove'", make: () => faithfulnessTerm({ term: 'remove' }), wrt: 'logits' },
  { label: "faithfulnessTerm 'sparsity'", make: () => faithfulnessTerm({ term: 'sparsity' }), wrt: 'logits' },
];

// A 2x2x3x1 mask with varied logits, varied targets and a varied input, so that no loss sits at a
// flat point (e.g. L1 at zero difference or TV on a constant mask).
const fx = contextFixture({
  shape: [2, 2, 3, 1],
  logits: [-1.5, 0.3, 2, -0.7, 1.1, 0, 0.8, -2.2, 0.4, 1.7, -0.1, -1],
  target: [0, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0],
  input: [0.9, 0.1, 0.5, 0.3, 0.7, 0.2, 0.4, 0.8, 0.6, 0.05, 0.95, 0.35],
});
afterAll(() => fx.dispose());

const nonZero = (g: number[]) => g.some((v) => v !== 0);

describe.each(TABLE)('the built-in loss $label', (row) => {
  it('returns a finite scalar', () => {
    const { ctx, dispose } = fx.build();
    const v = row.make().compute(ctx);
    expect(v.rank).toBe(0);
    expect(Number.isFinite(v.dataSync()[0])).toBe(true);
    v.dispose();
    dispose();
  });

  it(`is differentiable with respect to the ${row.wrt} variable, with finite gradients`, () => {
    const g = gradsOf(fx, (ctx) => row.make().compute(ctx));
    expect(g[row.wrt].every(Number.isFinite)).toBe(true);
    expect(nonZero(g[row.wrt])).toBe(true);
  });

  it('leaves no tensor behind and never disposes the context', async () => {
    const { ctx, dispose } = fx.build();
    const loss = row.make();
    await expectNoTensorLeak(() => loss.compute(ctx).dispose());
    for (const t of [ctx.input, ctx.target, ctx.decoderLogits, ctx.decoderOutput, ctx.interpretation, ctx.quantizer.codebookLoss, ctx.quantizer.commitmentLoss]) {
      expect(t.isDisposed).toBe(false);
    }
    dispose();
  });

  it('is saved by name: createLoss(name, getConfig()) recreates an equal loss', () => {
    const loss = row.make();
    const config = JSON.parse(JSON.stringify(loss.getConfig())) as Record<string, unknown>;
    const again = createLoss(loss.name, config);
    expect(again.name).toBe(loss.name);
    expect(again.getConfig()).toEqual(loss.getConfig());
    expect(valueOf(fx, (ctx) => again.compute(ctx))).toBe(valueOf(fx, (ctx) => loss.compute(ctx)));
  });

  if (row.passThrough) {
    const field = row.passThrough;
    it(`passes the quantizer's ${field} through unchanged, gradients included`, () => {
      const direct = gradsOf(fx, (ctx) => tf.clone(ctx.quantizer[field]));
      const viaLoss = gradsOf(fx, (ctx) => row.make().compute(ctx));
      expect(viaLoss.value).toBe(direct.value);
      expectClose(viaLoss.codebook, direct.codebook, 0);
      expectClose(viaLoss.encoded, direct.encoded, 0);
    });
  }
});

describe('the quantizer terms move what the paper says they move', () => {
  it('codebook sends gradient only to the codebook, commitment only to the encoded features (stop-gradients)', () => {
    const cb = gradsOf(fx, (ctx) => codebookLoss().compute(ctx));
    expect(nonZero(cb.codebook)).toBe(true);
    expect(nonZero(cb.encoded)).toBe(false);
    const cm = gradsOf(fx, (ctx) => commitmentLoss().compute(ctx));
    expect(nonZero(cm.encoded)).toBe(true);
    expect(nonZero(cm.codebook)).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------
// Values by hand on tiny tensors.
// ---------------------------------------------------------------------------------------------

/** The textbook BCE, −[t log σ(z) + (1 − t) log(1 − σ(z))], in float64. */
const plainBce = (z: number, t: number) => -(t * Math.log(sigmoid(z)) + (1 - t) * Math.log(1 - sigmoid(z)));

describe('reconstructionLoss', () => {
  const z = [-2, -0.5, 0, 1.5];
  const t = [0, 1, 0.5, 1];
  const f = contextFixture({ shape: [1, 2, 2, 1], logits: z, target: t, mode: 'reconstruction' });
  afterAll(() => f.dispose());

  it("'bce' (the default) equals the plain formula −[t log σ(z) + (1 − t) log(1 − σ(z))], averaged", () => {
    expect(DEFAULT_RECONSTRUCTION_LOSS_OPTIONS.kind).toBe('bce');
    expect(reconstructionLoss().getConfig()).toEqual({ kind: 'bce' });
    const want = mean(z.map((zi, i) => plainBce(zi, t[i] as number)));
    expect(valueOf(f, (ctx) => reconstructionLoss().compute(ctx))).toBeCloseTo(want, 5);
  });

  it("'bce' stays finite and exact at saturated logits where the plain formula overflows", () => {
    const big = contextFixture({ shape: [1, 1, 2, 1], logits: [60, -60], target: [0, 1] });
    // −log(1 − σ(60)) = 60 + log(1 + e^−60) ≈ 60, and the same for z = −60 with t = 1.
    expect(valueOf(big, (ctx) => reconstructionLoss().compute(ctx))).toBeCloseTo(60, 4);
    big.dispose();
  });

  it("'mse' and 'l1' compare the sigmoid output (not the logits) with the target", () => {
    const d = z.map((zi, i) => sigmoid(zi) - (t[i] as number));
    expect(valueOf(f, (ctx) => reconstructionLoss({ kind: 'mse' }).compute(ctx))).toBeCloseTo(mean(d.map((x) => x * x)), 6);
    expect(valueOf(f, (ctx) => reconstructionLoss({ kind: 'l1' }).compute(ctx))).toBeCloseTo(mean(d.map(Math.abs)), 6);
  });

  it("rejects an unknown 'kind' with a PiqConfigError that names it and lists the choices", async () => {
    const e = await expectThrowsWithoutLeak(() => reconstructionLoss({ kind: 'huber' as 'bce' }));
    expect(e).toBeInstanceOf(PiqConfigError);
    expect(e.message).toContain("reconstructionLoss: 'kind' must be one of 'bce', 'mse', 'l1'");
    expect(e.message).toContain('"huber"');
  });
});

describe('maskTargetLoss', () => {
  it("'bce' (the default) equals the plain formula on the mask logits", () => {
    expect(DEFAULT_MASK_TARGET_LOSS_OPTIONS.kind).toBe('bce');
    const z = [0.4, -1.2, 2.5, -0.3];
    const t = [1, 0, 1, 1];
    const f = contextFixture({ shape: [1, 2, 2, 1], logits: z, target: t });
    expect(valueOf(f, (ctx) => maskTargetLoss().compute(ctx))).toBeCloseTo(mean(z.map((zi, i) => plainBce(zi, t[i] as number))), 5);
    f.dispose();
  });

  it("'dice' on 2x2 masks is 1 − (2ΣMT + 1)/(ΣM + ΣT + 1) per example, then averaged", () => {
    // Logits 0 give M = 0.5 everywhere. Example 0: T = [1, 0, 1, 0] → ΣMT = 1, ΣM = 2, ΣT = 2 →
    // 1 − 3/5 = 0.4. Example 1: T = 0 → ΣMT = 0, ΣM = 2, ΣT = 0 → 1 − 1/3 = 2/3. Mean 8/15.
    const f = contextFixture({ shape: [2, 2, 2, 1], logits: new Array<number>(8).fill(0), target: [1, 0, 1, 0, 0, 0, 0, 0] });
    expect(valueOf(f, (ctx) => maskTargetLoss({ kind: 'dice' }).compute(ctx))).toBeCloseTo(8 / 15, 6);
    f.dispose();
  });

  it("'balanced-bce' weights the target's positive and negative bins equally, pooled over the batch", () => {
    // One positive bin with z = 2 (BCE = softplus(−2)) and two negative bins with z = −1 and 3
    // (BCE = softplus(−1) and softplus(3), mean of the two): ½·softplus(−2) + ½·mean(…).
    const sp = (v: number) => Math.log1p(Math.exp(v));
    const f = contextFixture({ shape: [1, 1, 3, 1], logits: [2, -1, 3], target: [1, 0, 0] });
    expect(valueOf(f, (ctx) => maskTargetLoss({ kind: 'balanced-bce' }).compute(ctx))).toBeCloseTo(0.5 * sp(-2) + 0.5 * ((sp(-1) + sp(3)) / 2), 6);
    f.dispose();
    // Pooled over the batch: example 0 holds the only positive bin, example 1 only negatives.
    // Positives: z = 0.5 → softplus(−0.5); negatives (3 bins): z = −2, 1, 0 → mean of softplus(−2), softplus(1), softplus(0).
    const g = contextFixture({ shape: [2, 1, 2, 1], logits: [0.5, -2, 1, 0], target: [1, 0, 0, 0] });
    expect(valueOf(g, (ctx) => maskTargetLoss({ kind: 'balanced-bce' }).compute(ctx))).toBeCloseTo(0.5 * sp(-0.5) + 0.5 * ((sp(-2) + sp(1) + sp(0)) / 3), 6);
    g.dispose();
  });

  it("'balanced-bce' with no positive bins is half the negatives' mean BCE (the empty side adds 0)", () => {
    // All-zero target, logits 0 everywhere: negatives' mean BCE = log 2, positives contribute 0.
    const f = contextFixture({ shape: [1, 2, 2, 1], logits: [0, 0, 0, 0], target: [0, 0, 0, 0] });
    expect(valueOf(f, (ctx) => maskTargetLoss({ kind: 'balanced-bce' }).compute(ctx))).toBeCloseTo(0.5 * Math.log(2), 6);
    f.dispose();
  });

  it("rejects an unknown 'kind' with a PiqConfigError that names it", async () => {
    const e = await expectThrowsWithoutLeak(() => maskTargetLoss({ kind: 'iou' as 'dice' }));
    expect(e).toBeInstanceOf(PiqConfigError);
    expect(e.message).toContain("maskTargetLoss: 'kind' must be one of 'bce', 'balanced-bce', 'dice'");
  });
});

describe('fidelityLoss', () => {
  it('is zero when the interpretation logits equal the input logits', () => {
    // A classifier that ignores its input: f(x) = f(interpretation) exactly.
    const fixed = (x: tf.Tensor4D) => tf.tidy(() => tf.tile(tf.tensor2d([[0.3, -1.2, 2]]), [x.shape[0], 1]) as tf.Tensor2D);
    const f = contextFixture({ shape: [2, 1, 2, 1], logits: [1, -1, 0.5, 2], classify: fixed, numClasses: 3 });
    expect(valueOf(f, (ctx) => fidelityLoss().compute(ctx))).toBeCloseTo(0, 7);
    f.dispose();
  });

  it('equals KL(softmax f(x) ‖ softmax f(interpretation)) computed by hand', () => {
    // f(x) = sum(x) · [0, 1]: on x = ones(2) the logits are [0, 2]; with logits 0 the mask is 0.5,
    // so f(0.5 · x) = [0, 1]. p = softmax([0, 2]), q = softmax([0, 1]), KL = Σ p (log p − log q).
    const cls = (x: tf.Tensor4D) => tf.tidy(() => tf.mul(tf.sum(tf.reshape(x, [x.shape[0], -1]), 1, true), tf.tensor2d([[0, 1]])) as tf.Tensor2D);
    const f = contextFixture({ shape: [1, 1, 2, 1], logits: [0, 0], classify: cls });
    const sm = (a: number[]) => {
      const e = a.map(Math.exp);
      const s = e.reduce((u, v) => u + v, 0);
      return e.map((v) => v / s);
    };
    const p = sm([0, 2]);
    const q = sm([0, 1]);
    const want = p.reduce((s, pi, i) => s + pi * (Math.log(pi) - Math.log(q[i] as number)), 0);
    expect(valueOf(f, (ctx) => fidelityLoss().compute(ctx))).toBeCloseTo(want, 6);
    f.dispose();
  });
});

describe('sparsityLoss', () => {
  it('is the mean of the sigmoid mask', () => {
    const z = [-3, 0, 1, Math.log(3)];
    const f = contextFixture({ shape: [1, 2, 2, 1], logits: z });
    expect(valueOf(f, (ctx) => sparsityLoss().compute(ctx))).toBeCloseTo(mean(z.map(sigmoid)), 6);
    f.dispose();
  });
});

describe('totalVariationLoss', () => {
  it('on a 2x3 mask is mean |vertical differences| + mean |horizontal differences|', () => {
    // σ(0) = 0.5, σ(ln 3) = 0.75, σ(−ln 3) = 0.25. Mask rows [0.5, 0.75, 0.25] and [0.25, 0.5, 0.75].
    // Vertical: |−0.25|, |−0.25|, |0.5| → mean 1/3. Horizontal: 0.25, 0.5, 0.25, 0.25 → mean 0.3125.
    const l3 = Math.log(3);
    const f = contextFixture({ shape: [1, 2, 3, 1], logits: [0, l3, -l3, -l3, 0, l3] });
    expect(valueOf(f, (ctx) => totalVariationLoss().compute(ctx))).toBeCloseTo(1 / 3 + 0.3125, 6);
    f.dispose();
  });

  it('is zero on a 1x1 mask (no neighbours)', () => {
    const f = contextFixture({ shape: [2, 1, 1, 1], logits: [1, -1] });
    expect(valueOf(f, (ctx) => totalVariationLoss().compute(ctx))).toBe(0);
    f.dispose();
  });
});

describe('lmacLoss', () => {
  // A 1x2x2x1 input, the linear classifier flatten(x) · W, the mask σ(z).
  const x = [0.9, 0.2, 0.6, 0.4];
  const z = [1.2, -0.4, 0.3, -2];
  const lin = linearClassifier(4, 2);
  afterAll(() => lin.dispose());

  /** CE of logits (f(v) = v · W) against class c, by hand. */
  const ce = (v: number[], c: number) => {
    const logits = [0, 1].map((k) => v.reduce((s, vi, i) => s + vi * (lin.weights[i]?.[k] as number), 0));
    const m = Math.max(...logits);
    const lse = m + Math.log(logits.reduce((s, l) => s + Math.exp(l - m), 0));
    return lse - (logits[c] as number);
  };
  const byHand = (wIn: number, wOut: number, wSp: number) => {
    const m = z.map(sigmoid);
    const f0 = [0, 1].map((k) => x.reduce((s, xi, i) => s + xi * (lin.weights[i]?.[k] as number), 0));
    const c = (f0[1] as number) > (f0[0] as number) ? 1 : 0;
    const xin = x.map((xi, i) => (m[i] as number) * xi);
    const xout = x.map((xi, i) => (1 - (m[i] as number)) * xi);
    return wIn * ce(xin, c) - wOut * ce(xout, c) + wSp * mean(m);
  };

  it('defaults to the L-MAC weights 4, 0.2 and 0.4', () => {
    expect(DEFAULT_LMAC_LOSS_OPTIONS).toEqual({ maskIn: 4, maskOut: 0.2, sparsity: 0.4 });
    expect(Object.isFrozen(DEFAULT_LMAC_LOSS_OPTIONS)).toBe(true);
    expect(lmacLoss().getConfig()).toEqual({ maskIn: 4, maskOut: 0.2, sparsity: 0.4 });
  });

  it('equals 4·CE(f(M⊙x), c) − 0.2·CE(f((1−M)⊙x), c) + 0.4·mean|M| on a tiny linear classifier given as ctx.classify', () => {
    const f = contextFixture({ shape: [1, 2, 2, 1], logits: z, input: x, classify: lin.classify });
    expect(valueOf(f, (ctx) => lmacLoss().compute(ctx))).toBeCloseTo(byHand(4, 0.2, 0.4), 5);
    expect(valueOf(f, (ctx) => lmacLoss({ maskIn: 1, maskOut: 0, sparsity: 2 }).compute(ctx))).toBeCloseTo(byHand(1, 0, 2), 5);
    f.dispose();
  });

  it("sums the per-example mean |M| over the batch, as the reference's train_lmac.py (not the batch mean)", () => {
    // Three examples of 1×2×1 masks σ(z); by hand: Σ_b mean(σ(z_b)). The L-MAC reference computes
    // mean over the whole [B, T, F] mask (the batch mean), broadcast over B and summed: B · mean|M|.
    const zz = [0, 2, -1, 1, 3, -3];
    const f = contextFixture({ shape: [3, 1, 2, 1], logits: zz, input: [1, 1, 1, 1, 1, 1] });
    const m = zz.map(sigmoid);
    const perExample = [0, 1, 2].map((b) => ((m[2 * b] as number) + (m[2 * b + 1] as number)) / 2);
    const byHandSum = perExample.reduce((a, v) => a + v, 0); // 0.5 + 0.7311 … computed from σ
    const value = valueOf(f, (ctx) => lmacLoss({ maskIn: 0, maskOut: 0, sparsity: 0.4 }).compute(ctx));
    expect(value).toBeCloseTo(0.4 * byHandSum, 6);
    expect(value).toBeCloseTo(0.4 * 3 * mean(m), 6); // = w · B · mean|M|
    expect(value).not.toBeCloseTo(0.4 * mean(m), 3); // the old batch mean, 3× smaller
    f.dispose();
  });

  it('rejects a non-finite weight with a PiqConfigError that names it', async () => {
    for (const [field, opts] of [
      ['maskIn', { maskIn: Number.NaN }],
      ['maskOut', { maskOut: Infinity }],
      ['sparsity', { sparsity: '0.4' as unknown as number }],
    ] as const) {
      const e = await expectThrowsWithoutLeak(() => lmacLoss(opts));
      expect(e).toBeInstanceOf(PiqConfigError);
      expect(e.message).toContain(`lmacLoss: '${field}' must be a finite number`);
    }
  });
});
