import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { PiqConfigError, PiqInputError } from '../../src/errors';
import { maskIoU, pointingGame } from '../../src/metrics/localization';
import { expectClose, expectThrowsWithoutLeak } from '../helpers';

describe('pointing game', () => {
  it('scores 1 when the maximum is inside the region and 0 when outside', () => {
    const masks = tf.tensor3d([[[0.1, 0.9], [0.2, 0.3]], [[0.8, 0.1], [0.2, 0.3]]]);
    const truth = tf.tensor4d([0, 1, 0, 0, 0, 1, 0, 0], [2, 2, 2, 1]); // trailing channel ignored
    const before = tf.memory().numTensors;
    const r = pointingGame(masks, truth);
    expect(tf.memory().numTensors).toBe(before);
    expectClose(r.values, [1, 0]);
    expect(r.mean).toBe(0.5);
    tf.dispose([masks, truth]);
  });

  it('scores tied maxima by the fraction of them inside the region', () => {
    const flat = tf.fill([1, 2, 2], 0.5);
    const truth = tf.tensor3d([[[1, 0], [0, 0]]]);
    expectClose(pointingGame(flat, truth).values, [0.25]);
    tf.dispose([flat, truth]);
  });
});

describe('mask IoU', () => {
  it('equals |A ∩ B| / |A ∪ B| of the thresholded mask and the region', () => {
    const masks = tf.tensor3d([[[0.9, 0.7], [0.2, 0.1]], [[0.5, 0.5], [0.5, 0.5]]]);
    const truth = tf.tensor3d([[[1, 0], [0, 0]], [[1, 1], [0, 0]]]);
    const before = tf.memory().numTensors;
    // Example 0: A = {00, 01}, B = {00} -> 1/2. Example 1 (>= 0.5 is in): A = all, B = 2 -> 2/4.
    expectClose(maskIoU(masks, truth).values, [0.5, 0.5]);
    expect(tf.memory().numTensors).toBe(before);
    // threshold 0.8: A = {00} -> 1; example 1 A = {} -> 0.
    expectClose(maskIoU(masks, truth, { threshold: 0.8 }).values, [1, 0]);
    tf.dispose([masks, truth]);
  });

  it('scores two empty regions as perfect agreement', () => {
    const zeros = tf.zeros([1, 2, 2]);
    expectClose(maskIoU(zeros, zeros).values, [1]);
    zeros.dispose();
  });
});

describe('localization errors', () => {
  it.each([
    ['pointingGame', (m: tf.Tensor, g: tf.Tensor) => pointingGame(m, g)],
    ['maskIoU', (m: tf.Tensor, g: tf.Tensor) => maskIoU(m, g)],
  ] as const)('%s rejects mismatched shapes, ground truth outside [0, 1] and NaN masks', async (name, fn) => {
    const m = tf.ones([2, 2, 2]);
    const g3 = tf.ones([2, 3, 2]);
    const gBatch = tf.ones([1, 2, 2]);
    const gBig = tf.fill([2, 2, 2], 2);
    const nan = tf.fill([2, 2, 2], NaN);
    for (const [masks, truth, arg] of [
      [m, g3, 'groundTruth'],
      [m, gBatch, 'groundTruth'],
      [m, gBig, 'groundTruth'],
      [nan, m, 'masks'],
    ] as const) {
      const err = await expectThrowsWithoutLeak(() => fn(masks, truth));
      expect(err).toBeInstanceOf(PiqInputError);
      expect(err.message).toContain(`${name}: '${arg}'`);
    }
    tf.dispose([m, g3, gBatch, gBig, nan]);
  });

  it('maskIoU rejects a non-finite threshold', async () => {
    const m = tf.ones([1, 2, 2]);
    const err = await expectThrowsWithoutLeak(() => maskIoU(m, m, { threshold: NaN }));
    expect(err).toBeInstanceOf(PiqConfigError);
    expect(err.message).toContain("'threshold'");
    m.dispose();
  });
});
