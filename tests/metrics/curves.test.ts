import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { PiqConfigError, PiqInputError } from '../../src/errors';
import { deletionCurve, insertionCurve } from '../../src/metrics/curves';
import { expectClose, expectNoTensorLeak, expectThrowsWithoutLeak } from '../helpers';
import { sigmoid } from './fixtures';

/** Two classes: logit_0 = 4·x00 + 3·x01 + 2·x10 + 1·x11, logit_1 = 0, on [batch, 2, 2, 1]. */
const weighted = (x: tf.Tensor) => {
  const l0 = tf.matMul(tf.reshape(x, [-1, 4]), tf.tensor2d([4, 3, 2, 1], [4, 1]));
  return tf.concat([l0, tf.zerosLike(l0)], 1);
};
const trapezoid = (s: number[]) => s.slice(1).reduce((a, v, i) => a + ((v + (s[i] as number)) / 2) * (1 / (s.length - 1)), 0);

describe('deletion and insertion curves', () => {
  it('rank a perfect mask above a reversed one, with hand-computed curves and AUCs', async () => {
    const x = tf.ones([2, 2, 2, 1]);
    // Example 0 ranks pixels by true importance, example 1 in reverse.
    const m = tf.tensor3d([1, 0.75, 0.5, 0.25, 0.25, 0.5, 0.75, 1], [2, 2, 2]);
    const del = await expectNoTensorLeak(() => deletionCurve(weighted, x, m, { steps: 4 }));
    // Remaining logit after deleting k pixels: perfect 10, 6, 3, 1, 0; reversed 10, 9, 7, 4, 0.
    const delPerfect = [10, 6, 3, 1, 0].map(sigmoid);
    const delReversed = [10, 9, 7, 4, 0].map(sigmoid);
    expectClose(del.fractions, [0, 0.25, 0.5, 0.75, 1]);
    expectClose(del.scores[0] as Float32Array, delPerfect, 1e-6);
    expectClose(del.scores[1] as Float32Array, delReversed, 1e-6);
    expectClose(del.auc, [trapezoid(delPerfect), trapezoid(delReversed)], 1e-6);
    expect(del.auc[0]).toBeLessThan(del.auc[1] as number);
    expect(del.meanAuc).toBeCloseTo((trapezoid(delPerfect) + trapezoid(delReversed)) / 2, 6);

    const ins = await expectNoTensorLeak(() => insertionCurve(weighted, x, m, { steps: 4 }));
    const insPerfect = [0, 4, 7, 9, 10].map(sigmoid);
    const insReversed = [0, 1, 3, 6, 10].map(sigmoid);
    expectClose(ins.scores[0] as Float32Array, insPerfect, 1e-6);
    expectClose(ins.scores[1] as Float32Array, insReversed, 1e-6);
    expect(ins.auc[0]).toBeGreaterThan(ins.auc[1] as number);
    tf.dispose([x, m]);
  });

  it('remove round(k·n/steps) units per step and break ties by position', async () => {
    const x = tf.ones([1, 2, 2, 1]);
    const flat = tf.zeros([1, 2, 2]); // all tied: pixel order 0, 1, 2, 3
    const r = await deletionCurve(weighted, x, flat, { steps: 2 });
    expectClose(r.scores[0] as Float32Array, [10, 3, 0].map(sigmoid), 1e-6);
    tf.dispose([x, flat]);
  });

  it('use a tensor baseline and the given target, any batch size, and masks of any finite range', async () => {
    const x = tf.ones([2, 2, 2, 1]);
    const m = tf.tensor3d([5, 3, 1, -2, 5, 3, 1, -2], [2, 2, 2]); // same order as the perfect mask
    const baseline = tf.fill([2, 2, 1], 0.5);
    const r = await expectNoTensorLeak(() =>
      deletionCurve(weighted, x, m, { steps: 4, baseline, target: [1, 0], batchSize: 1 }),
    );
    // Deleted pixels become 0.5: logit_0 = 10, 8, 6.5, 5.5, 5.
    const p0 = [10, 8, 6.5, 5.5, 5].map(sigmoid);
    expectClose(r.scores[0] as Float32Array, p0.map((p) => 1 - p), 1e-6);
    expectClose(r.scores[1] as Float32Array, p0, 1e-6);
    const perExample = tf.fill([2, 2, 2, 1], 1); // deleting into x itself changes nothing
    const flatCurve = await insertionCurve(weighted, x, m, { steps: 2, baseline: perExample });
    expectClose(flatCurve.scores[1] as Float32Array, [10, 10, 10].map(sigmoid), 1e-6);
    tf.dispose([x, m, baseline, perExample]);
  });

  it('remove whole pixels for spatial masks and single elements for full-shape masks', async () => {
    // 1x1 image with 2 channels; logit_0 = 3·ch0 + 1·ch1.
    const twoChannel = (x: tf.Tensor) => {
      const l0 = tf.matMul(tf.reshape(x, [-1, 2]), tf.tensor2d([3, 1], [2, 1]));
      return tf.concat([l0, tf.zerosLike(l0)], 1);
    };
    const x = tf.ones([1, 1, 1, 2]);
    const full = tf.tensor4d([0.2, 0.9], [1, 1, 1, 2]);
    const spatial = tf.ones([1, 1, 1]);
    const a = await deletionCurve(twoChannel, x, full, { steps: 2 });
    expectClose(a.scores[0] as Float32Array, [4, 3, 0].map(sigmoid), 1e-6);
    const b = await deletionCurve(twoChannel, x, spatial, { steps: 1 });
    expectClose(b.scores[0] as Float32Array, [4, 0].map(sigmoid), 1e-6);
    tf.dispose([x, full, spatial]);
  });

  it.each([
    ['deletionCurve', deletionCurve],
    ['insertionCurve', insertionCurve],
  ] as const)('%s rejects bad steps, baselines and masks', async (name, fn) => {
    const x = tf.ones([1, 2, 2, 1]);
    const m = tf.ones([1, 2, 2]);
    const e1 = await expectThrowsWithoutLeak(() => fn(weighted, x, m, { steps: 0 }));
    expect(e1).toBeInstanceOf(PiqConfigError);
    expect(e1.message).toContain(`${name}: 'steps'`);
    const badBase = tf.ones([3, 3]);
    const e2 = await expectThrowsWithoutLeak(() => fn(weighted, x, m, { baseline: badBase }));
    expect(e2).toBeInstanceOf(PiqInputError);
    expect(e2.message).toContain("'baseline'");
    const e3 = await expectThrowsWithoutLeak(() => fn(weighted, x, m, { baseline: NaN }));
    expect(e3).toBeInstanceOf(PiqConfigError);
    expect(e3.message).toContain("'baseline'");
    const nan = tf.tensor3d([NaN, 0, 0, 0], [1, 2, 2]);
    const e4 = await expectThrowsWithoutLeak(() => fn(weighted, x, nan));
    expect(e4).toBeInstanceOf(PiqInputError);
    expect(e4.message).toContain("'masks'");
    tf.dispose([x, m, badBase, nan]);
  });
});
