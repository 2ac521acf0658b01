import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { PiqConfigError, PiqInputError } from '../../src/errors';
import { IntegratedGradients, integratedGradients } from '../../src/baselines/integrated-gradients';
import { Saliency } from '../../src/baselines/saliency';
import { SmoothGrad } from '../../src/baselines/smooth-grad';
import { expectClose, expectNoTensorLeak, expectThrowsWithoutLeak } from '../helpers';
import { linear2x2, linearAdapter, linearLogitsJs, W, XS } from '../metrics/fixtures';

const inputs = () => tf.tensor4d(XS.flat(), [3, 2, 2, 1]);
/** Min-max normalisation of a plain array (the documented mask normalisation). */
const minMax = (v: number[]) => {
  const lo = Math.min(...v);
  const hi = Math.max(...v);
  return v.map((a) => (hi > lo ? (a - lo) / (hi - lo) : 0));
};
const absW = (c: number) => minMax((W[c] as number[]).map(Math.abs));

describe('Saliency', () => {
  it('equals |W_target| min-max normalised on a linear classifier, for the predicted class by default', async () => {
    const x = inputs();
    const masks = await expectNoTensorLeak(async () => {
      const m = await new Saliency(linear2x2).explainTensors(x);
      return m;
    }, 1);
    expect(masks.shape).toEqual([3, 2, 2]);
    // Predicted classes are 0, 0, 1: |W_0| = [1, 2, 1, 0.5] -> [1/3, 1, 1/3, 0]; |W_1| = [0, 1, 1, 1] -> [0, 1, 1, 1].
    expectClose(masks, [...absW(0), ...absW(0), ...absW(1)], 1e-6);
    expectClose(absW(0), [1 / 3, 1, 1 / 3, 0], 1e-12);
    tf.dispose([x, masks]);
  });

  it('explains the given target and works through a ClassifierAdapter', async () => {
    const x = inputs();
    const masks = await new Saliency(linearAdapter()).explainTensors(x, { target: [1, 1, 0], batchSize: 2 });
    expectClose(masks, [...absW(1), ...absW(1), ...absW(0)], 1e-6);
    tf.dispose([x, masks]);
  });

  it('reduces channels by the maximum absolute gradient', async () => {
    // logit = 1·x[0,0,ch0] + 2·x[1,0,ch1] (one class) on [1, 2, 2, 2].
    const w = tf.tensor4d([1, 0, 0, 0, 0, 2, 0, 0], [1, 2, 2, 2]);
    const classifier = (x: tf.Tensor) => tf.reshape(tf.sum(tf.mul(x, w), [1, 2, 3]), [-1, 1]);
    const x = tf.ones([1, 2, 2, 2]);
    const masks = await new Saliency(classifier).explainTensors(x);
    expectClose(masks, [0.5, 0, 1, 0]);
    tf.dispose([w, x, masks]);
  });
});

describe('SmoothGrad', () => {
  it('equals saliency on a linear classifier (its gradient ignores the noise)', async () => {
    const x = inputs();
    const smooth = await expectNoTensorLeak(() => new SmoothGrad(linear2x2, { samples: 4, noiseLevel: 0.5 }).explainTensors(x), 1);
    const plain = await new Saliency(linear2x2).explainTensors(x);
    expectClose(smooth, plain.dataSync(), 1e-6);
    tf.dispose([x, smooth, plain]);
  });

  it('is reproducible for a seed, independent of batchSize, and averages |gradient| over noisy copies', async () => {
    // logit = Σ x², gradient 2x: noise changes it, so the result depends on the seed.
    const square = (x: tf.Tensor) => tf.reshape(tf.sum(tf.square(x), [1, 2, 3]), [-1, 1]);
    const x = inputs();
    const a = await new SmoothGrad(square, { samples: 3, seed: 7 }).explainTensors(x, { batchSize: 1 });
    const b = await new SmoothGrad(square, { samples: 3, seed: 7 }).explainTensors(x, { batchSize: 3 });
    const c = await new SmoothGrad(square, { samples: 3, seed: 8 }).explainTensors(x);
    expectClose(a, b.dataSync(), 1e-6);
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(a, c))).dataSync()[0] as number);
    expect(diff).toBeGreaterThan(1e-4);
    // With no noise it is exactly the saliency map |2x|, normalised.
    const exact = await new SmoothGrad(square, { noiseLevel: 0, samples: 2 }).explainTensors(x);
    expectClose(exact, XS.flatMap((xi) => minMax(xi.map((v) => Math.abs(2 * v)))), 1e-6);
    tf.dispose([x, a, b, c, exact]);
  });

  it('rejects invalid options naming them', async () => {
    for (const [options, arg] of [
      [{ samples: 0 }, 'samples'],
      [{ noiseLevel: -0.1 }, 'noiseLevel'],
      [{ seed: 1.5 }, 'seed'],
    ] as const) {
      const err = await expectThrowsWithoutLeak(() => new SmoothGrad(linear2x2, options));
      expect(err).toBeInstanceOf(PiqConfigError);
      expect(err.message).toContain(`SmoothGrad: '${arg}'`);
    }
  });
});

describe('Integrated Gradients', () => {
  it('gives W_c ⊙ (x − x′) exactly on a linear classifier (completeness)', async () => {
    const x = inputs();
    const attr = await expectNoTensorLeak(() => integratedGradients(linear2x2, x, { steps: 3 }), 1);
    expect(attr.shape).toEqual([3, 2, 2, 1]);
    const classes = [0, 0, 1];
    expectClose(attr, XS.flatMap((xi, i) => xi.map((v, j) => v * (W[classes[i] as number] as number[])[j]!)), 1e-5);
    // Completeness: Σ attributions = f_c(x) − f_c(0).
    const sums = tf.tidy(() => Array.from(tf.sum(attr, [1, 2, 3]).dataSync()));
    const zero = linearLogitsJs([0, 0, 0, 0]);
    expectClose(sums, XS.map((xi, i) => linearLogitsJs(xi)[classes[i] as number]! - zero[classes[i] as number]!), 1e-5);
    tf.dispose([x, attr]);
  });

  it('satisfies completeness within the quadrature error on a nonlinear classifier, with a tensor baseline', async () => {
    // logits = [Σ w·exp(x), Σ x]: f_0(x) − f_0(x′) = Σ w (e^x − e^x′).
    const w = [0.5, -1, 2, 1];
    const expModel = (x: tf.Tensor) => {
      const flat = tf.reshape(x, [-1, 4]);
      return tf.concat([tf.matMul(tf.exp(flat), tf.tensor2d(w, [4, 1])), tf.sum(flat, 1, true)], 1);
    };
    const x = inputs();
    const baseline = tf.tensor3d([0.2, -0.3, 0.1, 0], [2, 2, 1]);
    const attr = await integratedGradients(expModel, x, { baseline, steps: 64, target: [0, 0, 0], batchSize: 2 });
    const sums = tf.tidy(() => Array.from(tf.sum(attr, [1, 2, 3]).dataSync()));
    const b = [0.2, -0.3, 0.1, 0];
    const expected = XS.map((xi) => xi.reduce((s, v, j) => s + w[j]! * (Math.exp(v) - Math.exp(b[j]!)), 0));
    expectClose(sums, expected, 2e-3);
    tf.dispose([x, baseline, attr]);
  });

  it('explain returns |Σ_channels attribution| min-max normalised', async () => {
    const x = inputs();
    const masks = await expectNoTensorLeak(() => new IntegratedGradients(linear2x2, { steps: 2 }).explainTensors(x), 1);
    const classes = [0, 0, 1];
    expectClose(masks, XS.flatMap((xi, i) => minMax(xi.map((v, j) => Math.abs(v * (W[classes[i] as number] as number[])[j]!)))), 1e-5);
    tf.dispose([x, masks]);
  });

  it('rejects bad steps, baselines of the wrong shape and NaN baselines', async () => {
    const x = inputs();
    const e1 = await expectThrowsWithoutLeak(() => new IntegratedGradients(linear2x2, { steps: 0 }));
    expect(e1).toBeInstanceOf(PiqConfigError);
    expect(e1.message).toContain("IntegratedGradients: 'steps'");
    const bad = tf.ones([3, 3]);
    const e2 = await expectThrowsWithoutLeak(() => integratedGradients(linear2x2, x, { baseline: bad }));
    expect(e2).toBeInstanceOf(PiqInputError);
    expect(e2.message).toContain("integratedGradients: 'baseline'");
    const e3 = await expectThrowsWithoutLeak(() => new IntegratedGradients(linear2x2, { baseline: bad }).explain(x));
    expect(e3).toBeInstanceOf(PiqInputError);
    expect(e3.message).toContain("IntegratedGradients.explain: 'baseline'");
    const nan = tf.fill([2, 2, 1], NaN);
    const e4 = await expectThrowsWithoutLeak(() => integratedGradients(linear2x2, x, { baseline: nan }));
    expect(e4).toBeInstanceOf(PiqInputError);
    expect(e4.message).toContain("'baseline'");
    const e5 = await expectThrowsWithoutLeak(() => integratedGradients(linear2x2, x, { target: [0, 0, 2] }));
    expect(e5).toBeInstanceOf(PiqInputError);
    expect(e5.message).toContain("'target'");
    tf.dispose([x, bad, nan]);
  });
});
