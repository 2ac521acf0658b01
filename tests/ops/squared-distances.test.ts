import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { PiqInputError } from '../../src/errors';
import { squaredDistances } from '../../src/ops/squared-distances';
import { expectClose, expectNoTensorLeak, expectThrowsWithoutLeak } from '../helpers';

describe('squaredDistances', () => {
  it('gives the squared Euclidean distance between every feature row and every code row', async () => {
    const d = await expectNoTensorLeak(
      () => tf.tidy(() => Array.from(squaredDistances(tf.tensor2d([[0, 0], [1, 2]]), tf.tensor2d([[1, 0], [3, 4], [1, 2]])).dataSync())),
    );
    // (0,0): 1, 25, 5; (1,2): 4, 8, 0
    expectClose(d, [1, 25, 5, 4, 8, 0]);
  });

  it('pairs each batch item with its own code set in the batched form', () => {
    tf.tidy(() => {
      const u = tf.tensor3d([[[1]], [[1]]]); // [2, 1, 1]
      const e = tf.tensor3d([[[0], [2]], [[5], [1]]]); // [2, 2, 1]
      const d = squaredDistances(u, e);
      expect(d.shape).toEqual([2, 1, 2]);
      expectClose(d, [1, 1, 16, 0]);
    });
  });

  it('is differentiable with respect to both arguments', () => {
    tf.tidy(() => {
      const [gu, ge] = tf.grads((u: tf.Tensor, e: tf.Tensor) => tf.sum(squaredDistances(u, e)))([tf.tensor2d([[1]]), tf.tensor2d([[3]])]);
      expectClose(gu as tf.Tensor, [-4]); // d/du (u − e)² = 2(u − e)
      expectClose(ge as tf.Tensor, [4]);
    });
  });

  it('rejects mismatched ranks, dimensions, batch sizes and dtypes naming the argument', async () => {
    const cases: Array<[() => unknown, string]> = [
      [() => squaredDistances(tf.zeros([3]), tf.zeros([2, 3])), "'features'"],
      [() => squaredDistances(tf.zeros([2, 3]), tf.zeros([1, 2, 3])), "'codes'"],
      [() => squaredDistances(tf.zeros([2, 3]), tf.zeros([2, 4])), "'codes'"],
      [() => squaredDistances(tf.zeros([2, 1, 3]), tf.zeros([3, 1, 3])), "'codes'"],
      [() => squaredDistances(tf.zeros([2, 3], 'int32'), tf.zeros([2, 3])), "'features'"],
    ];
    for (const [fn, name] of cases) {
      const err = await expectThrowsWithoutLeak(() => tf.tidy(() => fn() as tf.Tensor));
      expect(err).toBeInstanceOf(PiqInputError);
      expect(err.message).toContain(name);
    }
  });
});
