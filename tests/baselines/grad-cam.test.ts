import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import type { ClassifierAdapter } from '../../src/classifier/types';
import { GradCam } from '../../src/baselines/grad-cam';
import { PiqConfigError } from '../../src/errors';
import { expectClose, expectNoTensorLeak, expectThrowsWithoutLeak } from '../helpers';
import { linear2x2 } from '../metrics/fixtures';

/**
 * Features A = [x, x²] (`[b, 2, 2, 2]`), head: logit_0 = 2·mean(A_0) − mean(A_1), logit_1 = mean(A_1).
 * Grad-CAM weights: class 0 -> α = [0.5, −0.25]; class 1 -> α = [0, 0.25].
 */
function twoChannelAdapter(): ClassifierAdapter {
  const head = (a: tf.Tensor4D) => {
    const m = tf.mean(a, [1, 2]); // [b, 2]
    return tf.matMul(m, tf.tensor2d([2, 0, -1, 1], [2, 2])) as tf.Tensor2D;
  };
  const features = (x: tf.Tensor) => tf.concat([x, tf.square(x)], 3) as tf.Tensor4D;
  return {
    inputShape: [2, 2, 1],
    featureShape: [2, 2, 2],
    numClasses: 2,
    run: (x) => {
      const f = features(x);
      return { features: f, logits: head(f) };
    },
    logits: (x) => head(features(x)),
    head,
  };
}

describe('GradCam', () => {
  it('computes ReLU(Σ α_k A_k) with α from the head gradient, for the predicted and a given class', async () => {
    const x = tf.tensor4d([1, 2, -1, 0.5], [1, 2, 2, 1]);
    const method = new GradCam(twoChannelAdapter());
    // logits = [2·0.625 − 1.5625, 1.5625]: class 1 predicted. cam_1 = 0.25·x² = [.25, 1, .25, .0625].
    const predicted = await expectNoTensorLeak(() => method.explainTensors(x), 1);
    expectClose(predicted, [(0.25 - 0.0625) / 0.9375, 1, (0.25 - 0.0625) / 0.9375, 0], 1e-5);
    // cam_0 = ReLU(0.5·x − 0.25·x²) = [0.25, 0, 0, 0.1875] -> [1, 0, 0, 0.75].
    const class0 = await method.explainTensors(x, { target: [0] });
    expectClose(class0, [1, 0, 0, 0.75], 1e-5);
    tf.dispose([x, predicted, class0]);
  });

  it('upsamples a coarse map bilinearly (half-pixel centres) to the input size', async () => {
    // Features = 2x2 average pooling of a 4x4 input; head = sum (one class): α = 1, cam = A.
    const head = (a: tf.Tensor4D) => tf.reshape(tf.sum(a, [1, 2, 3]), [-1, 1]) as tf.Tensor2D;
    const pool = (x: tf.Tensor) => tf.avgPool(x as tf.Tensor4D, 2, 2, 'valid');
    const adapter: ClassifierAdapter = {
      inputShape: [4, 4, 1],
      featureShape: [2, 2, 1],
      numClasses: 1,
      run: (x) => {
        const f = pool(x);
        return { features: f, logits: head(f) };
      },
      logits: (x) => head(pool(x)),
      head,
    };
    // Left half 0, right half 4 -> A = [[0, 4], [0, 4]]; each row upsamples to [0, 1, 3, 4].
    const x = tf.tensor4d([0, 0, 4, 4, 0, 0, 4, 4, 0, 0, 4, 4, 0, 0, 4, 4], [1, 4, 4, 1]);
    const masks = await new GradCam(adapter).explainTensors(x);
    expect(masks.shape).toEqual([1, 4, 4]);
    expectClose(masks, Array.from({ length: 4 }, () => [0, 0.25, 0.75, 1]).flat(), 1e-5);
    tf.dispose([x, masks]);
  });

  it('needs a ClassifierAdapter with a head', async () => {
    const e1 = await expectThrowsWithoutLeak(() => new GradCam(linear2x2));
    expect(e1).toBeInstanceOf(PiqConfigError);
    expect(e1.message).toContain("GradCam: 'classifier' must be a ClassifierAdapter with a 'head'");
    const { head: _head, ...noHead } = twoChannelAdapter();
    const e2 = await expectThrowsWithoutLeak(() => new GradCam(noHead));
    expect(e2).toBeInstanceOf(PiqConfigError);
    expect(e2.message).toContain('without head');
  });
});
