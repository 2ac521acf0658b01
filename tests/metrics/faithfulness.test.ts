import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { PiqConfigError, PiqInputError } from '../../src/errors';
import {
  averageDrop,
  averageGain,
  averageIncrease,
  faithfulness,
  inputFidelity,
  maskInFaithfulness,
} from '../../src/metrics/faithfulness';
import { expectClose, expectNoTensorLeak, expectThrowsWithoutLeak } from '../helpers';
import { argmaxJs, linear2x2, linearAdapter, linearLogitsJs, MS, sigmoid, softmaxJs, XS } from './fixtures';

/** Plain-JS reference of the five metrics, straight from the definitions in piq-method.md. */
function reference(xs: number[][], ms: number[][], targets?: number[]) {
  return xs.map((x, i) => {
    const m = ms[i] as number[];
    const p = softmaxJs(linearLogitsJs(x));
    const c = targets?.[i] ?? argmaxJs(p);
    const lin = linearLogitsJs(x.map((v, j) => v * (m[j] as number)));
    const pin = softmaxJs(lin);
    const pout = softmaxJs(linearLogitsJs(x.map((v, j) => v * (1 - (m[j] as number)))));
    const [px, pi, po] = [p[c] as number, pin[c] as number, pout[c] as number];
    return {
      ai: pi > px ? 100 : 0,
      ad: (100 * Math.max(0, px - pi)) / px,
      ag: (100 * Math.max(0, pi - px)) / (1 - px),
      ff: px - po,
      ffIn: px - pi,
      fid: argmaxJs(lin) === c ? 1 : 0,
    };
  });
}

const inputs = () => tf.tensor4d(XS.flat(), [3, 2, 2, 1]);
const masks3 = () => tf.tensor3d(MS.flat(), [3, 2, 2]);
const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;

describe('mask-in / mask-out metrics', () => {
  it('match the definitions on a linear classifier, checked by hand on the first example', async () => {
    const x = inputs();
    const m = masks3();
    const ad = await averageDrop(linear2x2, x, m);
    // Example 0: logits [4.1, 0.3] -> p_0 = sigmoid(3.8); mask-in logits [1.6, -0.7] -> sigmoid(2.3).
    expect(ad.values[0]).toBeCloseTo((100 * (sigmoid(3.8) - sigmoid(2.3))) / sigmoid(3.8), 4);
    // PIQ's 2023 mask-in faithfulness of example 0: p_0(x) − p_0(M ⊙ x) = sigmoid(3.8) − sigmoid(2.3).
    expect((await maskInFaithfulness(linear2x2, x, m)).values[0]).toBeCloseTo(sigmoid(3.8) - sigmoid(2.3), 5);
    const ff = await faithfulness(linear2x2, x, m);
    // Mask-out of example 0: x ⊙ (1 − m) = [0, 0.5, -0.5, 2] -> logits [2.6, 0.8] -> p_0 = sigmoid(1.8).
    expect(ff.values[0]).toBeCloseTo(sigmoid(3.8) - sigmoid(1.8), 5);
    tf.dispose([x, m]);
  });

  it('match a plain-JS reference for every example and their means', async () => {
    const x = inputs();
    const m = masks3();
    const ref = reference(XS, MS);
    const cases = [
      [averageIncrease, ref.map((r) => r.ai)],
      [averageDrop, ref.map((r) => r.ad)],
      [averageGain, ref.map((r) => r.ag)],
      [faithfulness, ref.map((r) => r.ff)],
      [inputFidelity, ref.map((r) => r.fid)],
      [maskInFaithfulness, ref.map((r) => r.ffIn)],
    ] as const;
    for (const [fn, expected] of cases) {
      const r = await expectNoTensorLeak(() => fn(linear2x2, x, m));
      expectClose(r.values, expected, 1e-3);
      expect(r.mean).toBeCloseTo(mean([...expected]), 3);
    }
    // The examples cover both outcomes of AI and Fid-In.
    expect(ref.map((r) => r.ai)).toEqual([0, 100, 0]);
    expect(ref.map((r) => r.fid)).toEqual([1, 1, 0]);
    tf.dispose([x, m]);
  });

  it('give the same values for [b,h,w], [b,h,w,1] and full-shape masks and any batch size', async () => {
    const x = inputs();
    const a = masks3();
    const b = tf.tensor4d(MS.flat(), [3, 2, 2, 1]);
    const r1 = await averageGain(linear2x2, x, a);
    const r2 = await averageGain(linear2x2, x, b, { batchSize: 1 });
    const r3 = await averageGain(linear2x2, x, b, { batchSize: 2 });
    expectClose(r2.values, r1.values, 1e-6);
    expectClose(r3.values, r1.values, 1e-6);
    tf.dispose([x, a, b]);
  });

  it('broadcast a spatial mask over channels', async () => {
    // 3-channel input whose classifier sums the channels into the 2x2x1 linear model.
    const x1 = inputs();
    const x3 = tf.concat([x1, tf.zerosLike(x1), tf.zerosLike(x1)], 3);
    const m = masks3();
    const viaChannels = (x: tf.Tensor) => linear2x2(tf.sum(x, 3, true));
    const r3 = await faithfulness(viaChannels, x3, m);
    const r1 = await faithfulness(linear2x2, x1, m);
    expectClose(r3.values, r1.values, 1e-6);
    tf.dispose([x1, x3, m]);
  });

  it('score the given target class instead of the prediction', async () => {
    const x = inputs();
    const m = masks3();
    const targets = [1, 1, 0];
    const ref = reference(XS, MS, targets);
    const r = await averageDrop(linear2x2, x, m, { target: targets });
    expectClose(r.values, ref.map((e) => e.ad), 1e-3);
    const t = tf.tensor1d(targets, 'int32');
    const r2 = await expectNoTensorLeak(() => inputFidelity(linear2x2, x, m, { target: t }));
    expectClose(r2.values, ref.map((e) => e.fid));
    tf.dispose([x, m, t]);
  });

  it('accept a hand-built ClassifierAdapter and agree with the plain function', async () => {
    const x = inputs();
    const m = masks3();
    const viaAdapter = await expectNoTensorLeak(() => averageIncrease(linearAdapter(), x, m));
    const viaFn = await averageIncrease(linear2x2, x, m);
    expectClose(viaAdapter.values, viaFn.values);
    tf.dispose([x, m]);
  });

  it('score an all-ones mask as no change: AI 0, AD 0, AG 0, Fid-In 1, and FF = p_c(x) − p_c(0)', async () => {
    const x = inputs();
    const ones = tf.ones([3, 2, 2]);
    expect((await averageIncrease(linear2x2, x, ones)).mean).toBe(0);
    expect((await averageDrop(linear2x2, x, ones)).mean).toBe(0);
    expect((await averageGain(linear2x2, x, ones)).mean).toBe(0);
    expect((await inputFidelity(linear2x2, x, ones)).mean).toBe(1);
    const ff = await faithfulness(linear2x2, x, ones);
    // Mask-out of everything gives the zero image: logits = b = [0.1, -0.2].
    const p0 = softmaxJs([0.1, -0.2]);
    const expected = XS.map((xi) => {
      const p = softmaxJs(linearLogitsJs(xi));
      const c = argmaxJs(p);
      return (p[c] as number) - (p0[c] as number);
    });
    expectClose(ff.values, expected, 1e-5);
    tf.dispose([x, ones]);
  });
});

describe('mask-in / mask-out metric errors', () => {
  const fns = { averageIncrease, averageDrop, averageGain, faithfulness, inputFidelity };

  it.each(Object.entries(fns))('%s rejects masks whose shape does not match the inputs', async (name, fn) => {
    const x = inputs();
    const m = tf.ones([3, 3, 2]);
    const err = await expectThrowsWithoutLeak(() => fn(linear2x2, x, m));
    expect(err).toBeInstanceOf(PiqInputError);
    expect(err.message).toContain(`${name}: 'masks'`);
    tf.dispose([x, m]);
  });

  it('rejects masks with another batch size', async () => {
    const x = inputs();
    const m = tf.ones([2, 2, 2]);
    const err = await expectThrowsWithoutLeak(() => averageDrop(linear2x2, x, m));
    expect(err).toBeInstanceOf(PiqInputError);
    expect(err.message).toMatch(/'masks' must have the same batch size/);
    tf.dispose([x, m]);
  });

  it('rejects NaN masks and masks outside [0, 1]', async () => {
    const x = inputs();
    const nan = tf.tensor3d([NaN, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], [3, 2, 2]);
    const big = tf.fill([3, 2, 2], 1.5);
    const neg = tf.fill([3, 2, 2], -0.1);
    for (const m of [nan, big, neg]) {
      const err = await expectThrowsWithoutLeak(() => averageGain(linear2x2, x, m));
      expect(err).toBeInstanceOf(PiqInputError);
      expect(err.message).toContain("'masks'");
    }
    tf.dispose([x, nan, big, neg]);
  });

  it('rejects a target out of range, of the wrong length or not an integer', async () => {
    const x = inputs();
    const m = masks3();
    for (const target of [[0, 2, 0], [0, 1], [0, 0.5, 1], [-1, 0, 0]]) {
      const err = await expectThrowsWithoutLeak(() => faithfulness(linear2x2, x, m, { target }));
      expect(err).toBeInstanceOf(PiqInputError);
      expect(err.message).toContain("'target'");
    }
    tf.dispose([x, m]);
  });

  it('rejects a bad batchSize, a non-classifier and a classifier returning the wrong shape', async () => {
    const x = inputs();
    const m = masks3();
    const e1 = await expectThrowsWithoutLeak(() => averageIncrease(linear2x2, x, m, { batchSize: 0 }));
    expect(e1).toBeInstanceOf(PiqConfigError);
    expect(e1.message).toContain("'batchSize'");
    const e2 = await expectThrowsWithoutLeak(() => averageIncrease({} as never, x, m));
    expect(e2).toBeInstanceOf(PiqConfigError);
    expect(e2.message).toContain("'classifier'");
    const e3 = await expectThrowsWithoutLeak(() => averageIncrease((t) => tf.sum(t), x, m));
    expect(e3).toBeInstanceOf(PiqConfigError);
    expect(e3.message).toContain("'classifier' must return logits");
    tf.dispose([x, m]);
  });

  it('rejects inputs that do not match the adapter, NaN inputs and int inputs', async () => {
    const m = tf.ones([1, 3, 3]);
    const wrong = tf.ones([1, 3, 3, 1]);
    const e1 = await expectThrowsWithoutLeak(() => averageDrop(linearAdapter(), wrong, m));
    expect(e1).toBeInstanceOf(PiqInputError);
    expect(e1.message).toContain("'inputs' must have shape [batch, 2, 2, 1]");
    const nan = tf.tensor4d([NaN, 0, 0, 0], [1, 2, 2, 1]);
    const m2 = tf.ones([1, 2, 2]);
    const e2 = await expectThrowsWithoutLeak(() => averageDrop(linear2x2, nan, m2));
    expect(e2).toBeInstanceOf(PiqInputError);
    expect(e2.message).toContain("'inputs'");
    const ints = tf.tensor4d([1, 0, 0, 0], [1, 2, 2, 1], 'int32');
    const e3 = await expectThrowsWithoutLeak(() => averageDrop(linear2x2, ints, m2));
    expect(e3).toBeInstanceOf(PiqInputError);
    expect(e3.message).toContain("'inputs' must have dtype float32");
    tf.dispose([m, wrong, nan, m2, ints]);
  });
});
