import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { PiqInputError } from '../../src/errors';
import { complexity, sparseness } from '../../src/metrics/mask-statistics';
import { expectClose, expectThrowsWithoutLeak } from '../helpers';

describe('sparseness (Gini index)', () => {
  it('equals the hand-computed Gini index of small masks', () => {
    // [0,0,0,1]: (2·4 − 4 − 1)·1 / (4·1) = 0.75
    // [1,2,3,4]: (−3·1 − 1·2 + 1·3 + 3·4) / (4·10) = 10/40 = 0.25
    // [1,1,1,1]: 0 (perfectly dense)
    const m = tf.tensor2d([[0, 0, 0, 1], [4, 1, 3, 2], [1, 1, 1, 1]]);
    const r = expectNoTensorLeakSync(() => sparseness(m));
    expectClose(r.values, [0.75, 0.25, 0], 1e-6);
    expect(r.mean).toBeCloseTo((0.75 + 0.25) / 3, 6);
    m.dispose();
  });

  it('uses absolute values, flattens any mask shape and scores an all-zero mask 0', () => {
    const m = tf.tensor3d([[[-1, 0], [0, 0]], [[0, 0], [0, 0]]]);
    expectClose(sparseness(m).values, [0.75, 0], 1e-6);
    m.dispose();
  });
});

describe('complexity (entropy)', () => {
  it('equals the hand-computed entropy in nats', () => {
    const q = [0.1, 0.2, 0.3, 0.4];
    const h = -q.reduce((s, v) => s + v * Math.log(v), 0);
    const m = tf.tensor2d([[0, 0, 0, 1], [1, 1, 0, 0], [1, 2, 3, 4]]);
    const r = expectNoTensorLeakSync(() => complexity(m));
    expectClose(r.values, [0, Math.log(2), h], 1e-6);
    m.dispose();
  });

  it('scores an all-zero mask as a flat one (ln n) and uses absolute values', () => {
    const m = tf.tensor2d([[0, 0, 0, 0], [-1, 1, -1, 1]]);
    expectClose(complexity(m).values, [Math.log(4), Math.log(4)], 1e-6);
    m.dispose();
  });
});

describe('mask statistics errors', () => {
  it.each([
    ['sparseness', sparseness],
    ['complexity', complexity],
  ] as const)('%s rejects NaN masks, masks without a batch dimension and non-tensors', async (name, fn) => {
    const nan = tf.tensor2d([[NaN, 1]]);
    const flat = tf.tensor1d([0, 1]);
    for (const m of [nan, flat, [1, 2] as unknown as tf.Tensor]) {
      const err = await expectThrowsWithoutLeak(() => fn(m));
      expect(err).toBeInstanceOf(PiqInputError);
      expect(err.message).toContain(`${name}: 'masks'`);
    }
    tf.dispose([nan, flat]);
  });
});

function expectNoTensorLeakSync<T>(fn: () => T): T {
  const before = tf.memory().numTensors;
  const out = fn();
  expect(tf.memory().numTensors).toBe(before);
  return out;
}
