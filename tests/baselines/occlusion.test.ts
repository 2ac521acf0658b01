import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { Occlusion } from '../../src/baselines/occlusion';
import { PiqConfigError } from '../../src/errors';
import { expectClose, expectNoTensorLeak, expectThrowsWithoutLeak } from '../helpers';

/** One class whose logit is 2 · pixel (1, 0) of a 3x3 single-channel image. */
const onePixel = (x: tf.Tensor) => tf.mul(tf.reshape(tf.slice(x, [0, 1, 0, 0], [-1, 1, 1, 1]), [-1, 1]), 2);

describe('Occlusion', () => {
  it('highlights exactly the pixel a model looks at with a 1x1 window', async () => {
    const x = tf.ones([2, 3, 3, 1]);
    const masks = await expectNoTensorLeak(() => new Occlusion(onePixel, { window: 1 }).explainTensors(x), 1);
    expectClose(masks, [0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0]);
    tf.dispose([x, masks]);
  });

  it('averages the drops of all windows covering each pixel, for any batchSize', async () => {
    // 2x2 windows, stride 1: the two windows containing (1, 0) drop the logit by 2.
    // Pixel means: corners/edges/centre covered by 1/2/4 windows, e.g. (0,1): (2 + 0)/2 = 1.
    const expected = [1, 0.5, 0, 1, 0.5, 0, 1, 0.5, 0];
    const x = tf.ones([1, 3, 3, 1]);
    const method = new Occlusion(onePixel, { window: 2, stride: 1 });
    for (const batchSize of [1, 3, 32]) {
      const masks = await method.explainTensors(x, { batchSize });
      expectClose(masks, expected, 1e-6);
      masks.dispose();
    }
    x.dispose();
  });

  it('writes fillValue into the window and ignores increases of the logit', async () => {
    const x = tf.ones([1, 3, 3, 1]);
    // Filling with 3 raises the logit: no evidence anywhere, so the mask is all zeros.
    const masks = await new Occlusion(onePixel, { window: 1, fillValue: 3 }).explainTensors(x);
    expectClose(masks, new Array(9).fill(0));
    tf.dispose([x, masks]);
  });

  it('covers the last rows and columns when the stride does not reach them, and accepts [b, h, w] inputs', async () => {
    // 5-wide image, window 2, stride 2: windows start at 0, 2 and 3 (flush with the edge).
    // Only the window at 3 covers pixel 4; pixel 3 averages it with the window at 2 (drop 0).
    const lastPixel = (x: tf.Tensor) => tf.reshape(tf.slice(x, [0, 0, 4], [-1, 1, 1]), [-1, 1]);
    const x = tf.ones([1, 1, 5]);
    const masks = await new Occlusion(lastPixel, { window: 2, stride: 2 }).explainTensors(x);
    expectClose(masks, [0, 0, 0, 0.5, 1]);
    tf.dispose([x, masks]);
  });

  it('rejects a stride larger than the window and non-positive windows', async () => {
    const e1 = await expectThrowsWithoutLeak(() => new Occlusion(onePixel, { window: 2, stride: 3 }));
    expect(e1).toBeInstanceOf(PiqConfigError);
    expect(e1.message).toContain("Occlusion: 'stride'");
    const e2 = await expectThrowsWithoutLeak(() => new Occlusion(onePixel, { window: 0 }));
    expect(e2).toBeInstanceOf(PiqConfigError);
    expect(e2.message).toContain("Occlusion: 'window'");
    const e3 = await expectThrowsWithoutLeak(() => new Occlusion(onePixel, { fillValue: NaN }));
    expect(e3).toBeInstanceOf(PiqConfigError);
    expect(e3.message).toContain("'fillValue'");
  });
});
