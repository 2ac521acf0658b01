// Data initialisation of the codebook sees the features as training sees them: encoded in training
// mode (batch-norm batch statistics), without moving the batch-norm averages (issue #13, item 5).
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { createInterpreter, toClassifierAdapter, Trainer } from '../../src';
import { expectClose, expectNoTensorLeak } from '../helpers';

const classifier = () =>
  toClassifierAdapter(
    (x: tf.Tensor) =>
      tf.tidy(() => {
        const f = tf.concat([tf.avgPool(x as tf.Tensor4D, 2, 2, 'valid'), tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid')], 3) as tf.Tensor4D;
        const m = tf.reshape(tf.mean(x, [1, 2, 3]), [-1, 1]);
        return { features: f, logits: tf.concat([tf.sub(m, 0.5), tf.sub(0.5, m)], 1) as tf.Tensor2D };
      }),
    { inputShape: [8, 8, 1] },
  );

const nonTrainable = (interp: Awaited<ReturnType<typeof createInterpreter>>) => {
  const w = interp.model.decoder.getWeights();
  // adapter weights: conv1 kernel, bn gamma, beta, moving mean, moving variance, conv2 kernel, bias
  const out = Object.fromEntries(Object.entries(w).filter(([k]) => k.startsWith('adapter/')).map(([k, t]) => [k, Array.from(t.dataSync())]));
  tf.dispose(Object.values(w));
  return out;
};

describe('codebook data initialisation', () => {
  it('copies features encoded in training mode (batch statistics), not inference mode, into the codebook', async () => {
    const interp = await createInterpreter({ classifier: classifier(), decoder: { adapter: 'residual' }, quantizer: { layout: { codesPerClass: 1 }, init: 'data' }, seed: 2 });
    const x = tf.randomUniform([6, 8, 8, 1], 0, 1, 'float32', 11) as tf.Tensor4D;
    const q = interp.model.quantizer;
    const original = q.initializeFromData.bind(q);
    let seen: number[] | undefined;
    q.initializeFromData = (features, cls) => {
      seen = Array.from(features.dataSync());
      original(features, cls);
    };
    const { training, inference } = tf.tidy(() => {
      const f = interp.model.classify(x).features;
      return { training: Array.from(interp.model.decoder.encode(f, true, { updateStatistics: false }).dataSync()), inference: Array.from(interp.model.decoder.encode(f, false).dataSync()) };
    });
    // The two encodings differ (batch statistics vs the initial moving averages 0 / 1).
    expect(Math.max(...training.map((v, i) => Math.abs(v - (inference[i] as number))))).toBeGreaterThan(1e-2);
    const trainer = new Trainer(interp.model);
    const r = trainer.trainStep(x);
    tf.dispose([r.total, r.perplexity, ...Object.values(r.terms)]);
    expect(seen).toBeDefined();
    expectClose(seen as number[], training, 1e-5);
    trainer.dispose();
    interp.dispose();
    x.dispose();
  });

  it('encodes in training mode without moving the batch-norm averages when asked, and moves them otherwise', async () => {
    const interp = await createInterpreter({ classifier: classifier(), decoder: { adapter: 'residual' }, quantizer: { layout: { codesPerClass: 1 } } });
    const x = tf.randomUniform([4, 8, 8, 1], 0, 1, 'float32', 12) as tf.Tensor4D;
    const before = nonTrainable(interp);
    await expectNoTensorLeak(() => tf.tidy(() => void interp.model.decoder.encode(interp.model.classify(x).features, true, { updateStatistics: false })));
    expect(nonTrainable(interp)).toEqual(before);
    tf.tidy(() => void interp.model.decoder.encode(interp.model.classify(x).features, true));
    expect(nonTrainable(interp)).not.toEqual(before);
    interp.dispose();
    x.dispose();
  });
});
