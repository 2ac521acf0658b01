// PIQ behind the AttributionMethod interface: the interpreter's own masks, chunked, leak-free,
// with the predicted class as the only explainable target.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInterpreter } from '../../src/api/create-interpreter';
import type { Interpreter } from '../../src/api/interpreter';
import { PiqAttribution, piqAttribution } from '../../src/api/piq-attribution';
import { PiqConfigError, PiqInputError, PiqStateError } from '../../src/errors';
import { evaluateInterpretations } from '../../src/metrics/evaluate';
import { squaresDataset, trainedTinyClassifier } from '../fixtures/synthetic';
import { expectClose, expectNoTensorLeak, expectThrowsWithoutLeak } from '../helpers';

let classifier: tfl.Sequential;
let interpreter: Interpreter;
let images: tf.Tensor4D;

beforeAll(async () => {
  classifier = await trainedTinyClassifier();
  interpreter = await createInterpreter({ classifier, featureLayer: 'features', quantizer: { init: 'data' }, seed: 1 });
  const train = squaresDataset(32, 3);
  await interpreter.fit(train.images, { epochs: 1, batchSize: 16 });
  train.images.dispose();
  images = squaresDataset(5, 11).images;
});

afterAll(() => {
  interpreter.dispose();
  classifier.dispose();
  images.dispose();
});

describe('PiqAttribution', () => {
  it("returns the interpreter's masks [batch, height, width] in [0, 1], chunked and leak-free", async () => {
    const method = new PiqAttribution(interpreter);
    expect(method.name).toBe('piq');
    const masks = await expectNoTensorLeak(() => method.explainTensors(images, { batchSize: 2 }), 1);
    expect(masks.shape).toEqual([5, 8, 8]);
    expect(masks.dtype).toBe('float32');
    const values = masks.dataSync();
    for (const v of values) {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(1);
    }
    const reference = await interpreter.interpret(images);
    expectClose(values, reference.mask, 1e-6);
    expect(images.isDisposed).toBe(false);
    masks.dispose();
  });

  it('gives the same masks for any batchSize, for [batch, h, w] inputs, and when target is the prediction', async () => {
    const method = piqAttribution(interpreter);
    expect(method).toBeInstanceOf(PiqAttribution);
    const reference = await interpreter.interpret(images);
    const whole = await method.explainTensors(images, { batchSize: 5 });
    const flat = tf.reshape(images, [5, 8, 8]);
    const rank3 = await expectNoTensorLeak(() => method.explainTensors(flat, { batchSize: 3 }), 1);
    const targeted = await method.explainTensors(images, { target: Array.from(reference.predictedClass), batchSize: 4 });
    for (const m of [whole, rank3, targeted]) expectClose(m, reference.mask, 1e-6);
    expect(flat.isDisposed).toBe(false);
    tf.dispose([whole, flat, rank3, targeted]);
  });

  it('min-max normalises each example when normalize is true', async () => {
    const method = new PiqAttribution(interpreter, { normalize: true });
    expect(method.config).toEqual({ normalize: true });
    const masks = await method.explainTensors(images);
    const raw = (await interpreter.interpret(images)).mask;
    // Independent per-example min-max in plain JS.
    const expected = new Float32Array(raw.length);
    for (let b = 0; b < 5; b++) {
      const ex = raw.subarray(b * 64, (b + 1) * 64);
      const lo = Math.min(...ex);
      const hi = Math.max(...ex);
      for (let p = 0; p < 64; p++) expected[b * 64 + p] = hi > lo ? ((ex[p] as number) - lo) / (hi - lo) : 0;
    }
    expectClose(masks, expected, 1e-5);
    masks.dispose();
  });

  it('feeds evaluateInterpretations like any other attribution method', async () => {
    const masks = await piqAttribution(interpreter).explainTensors(images);
    const report = await evaluateInterpretations(interpreter.classifier, images, masks, { metrics: ['sparseness', 'averageDrop'] });
    expect(report.count).toBe(5);
    expect(report.metrics.sparseness?.values.length).toBe(5);
    expect(Number.isFinite(report.metrics.averageDrop?.mean)).toBe(true);
    masks.dispose();
  });

  it('refuses a target other than the predicted class, naming the example and the prediction', async () => {
    const predicted = Array.from((await interpreter.interpret(images)).predictedClass);
    const wrong = predicted.map((c, i) => (i === 3 ? 1 - c : c));
    const method = new PiqAttribution(interpreter);
    const err = await expectThrowsWithoutLeak(() => method.explain(images, { target: wrong, batchSize: 2 }));
    expect(err).toBeInstanceOf(PiqConfigError);
    expect(err.message).toContain("PiqAttribution.explain: 'target' must equal the predicted class");
    expect(err.message).toContain(`got ${wrong[3]} for example 3, whose predicted class is ${predicted[3]}`);
  });

  it('rejects bad inputs, targets and batch sizes, naming the argument', async () => {
    const method = new PiqAttribution(interpreter);
    const wrongSize = tf.ones([2, 4, 4, 1]);
    const flat = tf.ones([2, 64]);
    const nan = tf.fill([2, 8, 8, 1], NaN);
    const x = tf.ones([2, 8, 8, 1]);
    const cases: [() => Promise<unknown>, new (m: string) => Error, string][] = [
      [() => method.explain(wrongSize), PiqInputError, "'inputs'"],
      [() => method.explain(flat), PiqInputError, "'inputs'"],
      [() => method.explain(nan), PiqInputError, "'inputs'"],
      [() => method.explain('images' as never), PiqInputError, "'inputs'"],
      [() => method.explain(x, { target: [0, 2] }), PiqInputError, "'target'"],
      [() => method.explain(x, { target: [0] }), PiqInputError, "'target'"],
      [() => method.explain(x, { batchSize: 0 }), PiqConfigError, "'batchSize'"],
    ];
    for (const [call, cls, arg] of cases) {
      const err = await expectThrowsWithoutLeak(call);
      expect(err).toBeInstanceOf(cls);
      expect(err.message).toContain(arg);
      expect(err.message).toContain('PiqAttribution.explain:');
    }
    tf.dispose([wrongSize, flat, nan, x]);
  });

  it('rejects a non-interpreter and bad options at construction, and a disposed interpreter at explain', async () => {
    let err = await expectThrowsWithoutLeak(() => new PiqAttribution(classifier as never));
    expect(err).toBeInstanceOf(PiqConfigError);
    expect(err.message).toContain("PiqAttribution: 'interpreter' must be an Interpreter");
    err = await expectThrowsWithoutLeak(() => new PiqAttribution(interpreter, { normalize: 'yes' as never }));
    expect(err).toBeInstanceOf(PiqConfigError);
    expect(err.message).toContain("'normalize'");

    const disposable = await createInterpreter({ classifier, featureLayer: 'features' });
    const method = piqAttribution(disposable);
    disposable.dispose();
    err = await expectThrowsWithoutLeak(() => method.explain(images));
    expect(err).toBeInstanceOf(PiqStateError);
    expect(err.message).toContain('PiqAttribution.explain: the interpreter was disposed');
  });
});
