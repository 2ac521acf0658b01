// Reconstruction mode's output head and input range (issue #13): inputs outside the output's range
// are refused on the first batch (0–255 pixels never train silently); `reconstruction: 'mse'` gives
// the reference audio recipe's softplus output with MSE, saved and loaded with the interpreter.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { createInterpreter, loadInterpreter, PiqConfigError, PiqInputError, PiqModel, reconstructionLoss, toClassifierAdapter, Trainer } from '../../src';
import { memoryHandler } from '../fixtures/memory-handler';
import { expectThrowsWithoutLeak } from '../helpers';

/** An 8×8×1 classifier: features = the input pooled to 4×4 and tiled to 2 channels, logits from the mean. */
function classifier() {
  return toClassifierAdapter(
    (x: tf.Tensor) =>
      tf.tidy(() => {
        const f = tf.tile(tf.avgPool(x as tf.Tensor4D, 2, 2, 'valid'), [1, 1, 1, 2]) as tf.Tensor4D;
        const m = tf.reshape(tf.mean(x, [1, 2, 3]), [-1, 1]);
        return { features: f, logits: tf.concat([tf.sub(m, 0.5), tf.sub(0.5, m)], 1) as tf.Tensor2D };
      }),
    { inputShape: [8, 8, 1] },
  );
}

/** `n` 8×8 images with values spread over [0, scale] (a ramp, deterministic). */
function images(n: number, scale: number, offset = 0): tf.Tensor4D {
  return tf.tidy(() => tf.add(tf.mul(tf.reshape(tf.linspace(0, 1, n * 64), [n, 8, 8, 1]), scale), offset) as tf.Tensor4D);
}

describe('reconstruction mode refuses inputs its output cannot produce (first batch)', () => {
  it('0–255 pixels: a PiqInputError naming the range seen and the fixes, before any update', async () => {
    const interpreter = await createInterpreter({ classifier: classifier(), quantizer: { layout: { codesPerClass: 2 } } });
    const x = images(4, 255);
    const before = interpreter.model.decoder.getWeights();
    const e = await expectThrowsWithoutLeak(() => interpreter.fit(x, { epochs: 1, batchSize: 4, shuffle: false }));
    expect(e).toBeInstanceOf(PiqInputError);
    expect(e.message).toContain('Trainer.fit: reconstruction mode with the sigmoid output needs inputs in [0, 1]');
    expect(e.message).toContain('got values in [0, 255] in the first batch');
    expect(e.message).toContain('divide 0–255 pixels by 255');
    expect(e.message).toContain("reconstruction: 'mse'");
    expect(e.message).toContain("mode: 'mask'");
    const after = interpreter.model.decoder.getWeights();
    expect(Object.values(after).map((t) => Array.from(t.dataSync()))).toEqual(Object.values(before).map((t) => Array.from(t.dataSync())));
    tf.dispose([...Object.values(before), ...Object.values(after)]);
    // Scaled to [0, 1], the same data trains.
    const scaled = tf.div(x, 255) as tf.Tensor4D;
    const history = await interpreter.fit(scaled, { epochs: 1, batchSize: 4 });
    expect(history.steps).toBe(1);
    interpreter.dispose();
    tf.dispose([x, scaled]);
  });

  it('checks each fit again, and Trainer.trainStep too; mask mode takes any range', async () => {
    const interpreter = await createInterpreter({ classifier: classifier(), quantizer: { layout: { codesPerClass: 2 } } });
    const ok = images(4, 1);
    const neg = images(4, 1, -0.5);
    await interpreter.fit(ok, { epochs: 1, batchSize: 4 });
    const e = await expectThrowsWithoutLeak(() => interpreter.fit(neg, { epochs: 1, batchSize: 4 }));
    expect(e.message).toContain('got values in [-0.5, 0.5] in the first batch');
    const trainer = new Trainer(interpreter.model);
    const e2 = await expectThrowsWithoutLeak(() => trainer.trainStep(neg));
    expect(e2).toBeInstanceOf(PiqInputError);
    expect(e2.message).toMatch(/^Trainer\.trainStep: reconstruction mode/);
    trainer.dispose();
    const masker = await createInterpreter({ classifier: classifier(), mode: 'mask', quantizer: { layout: { codesPerClass: 2 } } });
    const big = images(4, 255);
    expect((await masker.fit(big, { epochs: 1, batchSize: 4 })).steps).toBe(1);
    tf.dispose([ok, neg, big]);
    interpreter.dispose();
    masker.dispose();
  });
});

describe("reconstruction: 'mse' (softplus output, the reference audio recipe's reconstruction variant)", () => {
  it('redraws values above 1 (a sigmoid cannot), thresholds its mask at 0.35 · max, and refuses negative inputs', async () => {
    const interpreter = await createInterpreter({ classifier: classifier(), reconstruction: 'mse', quantizer: { layout: { codesPerClass: 2 } }, seed: 1 });
    expect(interpreter.model.outputActivation).toBe('softplus');
    expect(interpreter.getConfig().losses[0]).toEqual({ name: 'reconstruction', weight: 1, config: { kind: 'mse' }, key: 'reconstruction' });
    const x = images(8, 5); // log1p-like magnitudes in [0, 5]
    const history = await interpreter.fit(x, { epochs: 40, batchSize: 8, learningRate: 1e-2, logEvery: 1 });
    const first = history.epochs[0]?.loss.reconstruction as number;
    const last = history.epochs[history.epochs.length - 1]?.loss.reconstruction as number;
    expect(last).toBeLessThan(first / 2);
    const r = await interpreter.interpret(x);
    expect(Math.max(...(r.reconstruction as Float32Array))).toBeGreaterThan(1);
    // The mask is 1[x̂ > 0.35 · max x̂] per example, computed here from the reconstruction.
    for (let b = 0; b < 8; b++) {
      const rec = (r.reconstruction as Float32Array).subarray(b * 64, (b + 1) * 64);
      const peak = Math.max(...rec);
      expect(Array.from(r.example(b).mask)).toEqual(Array.from(rec, (v) => (v > 0.35 * peak ? 1 : 0)));
    }
    const negative = images(2, 1, -1);
    const e = await expectThrowsWithoutLeak(() => interpreter.fit(negative, { epochs: 1 }));
    negative.dispose();
    expect(e.message).toContain('reconstruction mode with the softplus output needs inputs ≥ 0');
    // Saved and loaded with the interpreter.
    const h = memoryHandler();
    await interpreter.save(h);
    const again = await loadInterpreter(h, { classifier: interpreter.classifier });
    expect(again.model.outputActivation).toBe('softplus');
    expect(again.getConfig().outputActivation).toBe('softplus');
    expect(Array.from((await again.interpret(x)).reconstruction as Float32Array)).toEqual(Array.from(r.reconstruction as Float32Array));
    again.dispose();
    interpreter.dispose();
    x.dispose();
  });

  it('is rejected in mask mode, and BCE is rejected on a softplus output', async () => {
    let e = await expectThrowsWithoutLeak(() => createInterpreter({ classifier: classifier(), mode: 'mask', reconstruction: 'mse' }));
    expect(e).toBeInstanceOf(PiqConfigError);
    expect(e.message).toContain("createInterpreter: 'reconstruction' is only used in reconstruction mode");
    e = await expectThrowsWithoutLeak(() => createInterpreter({ classifier: classifier(), reconstruction: 'l2' as never }));
    expect(e.message).toContain("createInterpreter: 'reconstruction' must be one of");
    e = await expectThrowsWithoutLeak(() => createInterpreter({ classifier: classifier(), reconstruction: 'mse', losses: [{ loss: reconstructionLoss({ kind: 'bce' }), weight: 1 }], quantizer: { layout: { codesPerClass: 2 } } }));
    expect(e.message).toContain("PiqModel: loss 'reconstruction' must not be reconstruction kind 'bce' with the softplus output");
    const m = (await createInterpreter({ classifier: classifier(), mode: 'mask', quantizer: { layout: { codesPerClass: 2 } } })).model;
    e = await expectThrowsWithoutLeak(() => new PiqModel({ classifier: m.classifier, decoder: m.decoder, quantizer: m.quantizer, mode: 'mask', target: m.target, loss: m.loss, outputActivation: 'softplus' }));
    expect(e.message).toContain("PiqModel: 'outputActivation' must be 'sigmoid' in mask mode");
    m.dispose();
  });
});
