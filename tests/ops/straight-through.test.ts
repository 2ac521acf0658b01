import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { PiqInputError } from '../../src/errors';
import { stopGradient, straightThrough } from '../../src/ops/straight-through';
import { expectClose, expectNoTensorLeak, expectThrowsWithoutLeak, withBackend } from '../helpers';

describe('straightThrough', () => {
  it('returns the codes in the forward pass', () => {
    tf.tidy(() => expectClose(straightThrough(tf.tensor1d([0.2, 0.9]), tf.tensor1d([0, 1])), [0, 1]));
  });

  it('passes the upstream gradient unchanged to the features and nothing to the codes', async () => {
    for (const backend of ['cpu', 'wasm'] as const) {
      await withBackend(backend, () =>
        expectNoTensorLeak(() =>
          tf.tidy(() => {
            const w = tf.tensor1d([3, -2, 5]);
            const [gu, ge] = tf.grads((u: tf.Tensor, e: tf.Tensor) => tf.sum(tf.mul(straightThrough(u, e), w)))([
              tf.tensor1d([0.1, 0.2, 0.3]),
              tf.tensor1d([1, 1, 1]),
            ]);
            expectClose(gu as tf.Tensor, [3, -2, 5]);
            expectClose(ge as tf.Tensor, [0, 0, 0]);
          }),
        ),
      );
    }
  });

  it('rejects codes of another shape and non-float inputs, naming the argument', async () => {
    let err = await expectThrowsWithoutLeak(() => tf.tidy(() => straightThrough(tf.zeros([2]), tf.zeros([3]))));
    expect(err).toBeInstanceOf(PiqInputError);
    expect(err.message).toContain("'codes'");
    err = await expectThrowsWithoutLeak(() => tf.tidy(() => straightThrough(tf.zeros([2], 'int32'), tf.zeros([2]))));
    expect(err).toBeInstanceOf(PiqInputError);
    expect(err.message).toContain("'features'");
  });
});

describe('stopGradient', () => {
  it('keeps the value and blocks the gradient', () => {
    tf.tidy(() => {
      const x = tf.tensor1d([3, 4]);
      expectClose(stopGradient(x), [3, 4]);
      // d/dx sum(sg(x)·x) = sg(x)
      expectClose(tf.grad((t: tf.Tensor) => tf.sum(tf.mul(stopGradient(t), t)))(x), [3, 4]);
    });
  });

  it('leaves no tensors behind and rejects non-tensors naming the argument', async () => {
    await expectNoTensorLeak(() => tf.tidy(() => stopGradient(tf.ones([2])).dataSync()));
    const err = await expectThrowsWithoutLeak(() => stopGradient(5 as unknown as tf.Tensor));
    expect(err).toBeInstanceOf(PiqInputError);
    expect(err.message).toContain("'x'");
  });
});
