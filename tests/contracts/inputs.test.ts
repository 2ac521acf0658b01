// What interpret and explain take and give: a batch, one example (Tensor3D) or pixels (tfjs'
// PixelData here; ImageData in the browser e2e), scaled by `inputRange`; plain data by default and
// tensors on request (interpretTensors / explainTensors); every classifier form createInterpreter
// takes (LayersModel, GraphModel, function, adapter) in every attribution method and metric.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  averageDrop,
  createAttributionMethod,
  createInterpreter,
  GradCam,
  PiqAttribution,
  PiqConfigError,
  PiqInputError,
  toClassifierAdapter,
  type GraphModelLike,
  type Interpreter,
  type ScoringClassifier,
} from '../../src';
import { expectNoTensorLeak, expectThrowsWithoutLeak } from '../helpers';
import { squaresDataset, trainedTinyClassifier } from '../fixtures/synthetic';

let classifier: tfl.Sequential;
let interpreter: Interpreter;
let images: tf.Tensor4D;

/** RGBA pixels of example `i` of the grey images: every colour channel holds round(255 · value). */
function pixelsOf(i: number): { width: number; height: number; data: Uint8Array } {
  const grey = tf.tidy(() => tf.slice(images, [i, 0, 0, 0], [1, -1, -1, -1]).dataSync());
  const data = new Uint8Array(8 * 8 * 4);
  grey.forEach((v, p) => data.set([Math.round(v * 255), Math.round(v * 255), Math.round(v * 255), 255], p * 4));
  return { width: 8, height: 8, data };
}

/** The tensor the pixels stand for, computed by hand: byte / 255 · (hi − lo) + lo. */
function byHand(px: { data: Uint8Array }, lo = 0, hi = 1): tf.Tensor4D {
  const v = Float32Array.from({ length: 64 }, (_, p) => ((px.data[p * 4] as number) / 255) * (hi - lo) + lo);
  return tf.tensor4d(v, [1, 8, 8, 1]);
}

beforeAll(async () => {
  classifier = await trainedTinyClassifier();
  images = squaresDataset(6, 5).images;
  interpreter = await createInterpreter({ classifier, seed: 2 });
  await interpreter.fit(images, { epochs: 2, batchSize: 3, verbose: 0 });
});

afterAll(() => {
  interpreter.dispose();
  classifier.dispose();
  images.dispose();
});

describe('interpret inputs', () => {
  it('reads one example [height, width, channels] as a batch of one', async () => {
    const one = tf.tidy(() => tf.squeeze(tf.slice(images, [2, 0, 0, 0], [1, -1, -1, -1]), [0]));
    const single = await expectNoTensorLeak(() => interpreter.interpret(one));
    const batch = await interpreter.interpret(images);
    expect(single.batch).toBe(1);
    expect(Array.from(single.mask)).toEqual(Array.from(batch.example(2).mask));
    expect(single.predictedClass[0]).toBe(batch.predictedClass[2]);
    one.dispose();
  });

  it('reads pixels through tf.browser.fromPixels, scaled by inputRange, equal to the tensor by hand', async () => {
    const px = pixelsOf(1);
    for (const range of [undefined, [0, 255], [-1, 1]] as const) {
      const x = byHand(px, range?.[0], range?.[1]);
      const fromPixels = await expectNoTensorLeak(() => interpreter.interpret(px, range ? { inputRange: range } : {}));
      const fromTensor = await interpreter.interpret(x);
      expect(Array.from(fromPixels.mask)).toEqual(Array.from(fromTensor.mask));
      expect(Array.from(fromPixels.probabilities)).toEqual(Array.from(fromTensor.probabilities));
      x.dispose();
    }
  });

  it('rejects pixels of another size and a bad inputRange, naming them', async () => {
    const small = { width: 4, height: 4, data: new Uint8Array(64) };
    let e = await expectThrowsWithoutLeak(() => interpreter.interpret(small));
    expect(e).toBeInstanceOf(PiqInputError);
    expect(e.message).toContain("Interpreter.interpret: 'input' must be pixels of height 8 and width 8 to match the classifier input [8, 8, 1], got [4, 4].");
    e = await expectThrowsWithoutLeak(() => interpreter.interpret(pixelsOf(0), { inputRange: [1, 1] }));
    expect(e).toBeInstanceOf(PiqConfigError);
    expect(e.message).toContain("'inputRange' must be [min, max] with finite min < max");
  });

  it('gives the same numbers as tensors on request, which the caller owns', async () => {
    const plain = await interpreter.interpret(images, { batchSize: 4 });
    const before = tf.memory().numTensors;
    const t = await interpreter.interpretTensors(images, { batchSize: 4 });
    expect(t.mask.shape).toEqual([6, 8, 8]);
    expect(t.interpretation.shape).toEqual([6, 8, 8, 1]);
    expect(Array.from(t.mask.dataSync())).toEqual(Array.from(plain.mask));
    expect(Array.from(t.predictedClass.dataSync())).toEqual(Array.from(plain.predictedClass));
    expect(Array.from(t.probabilities.dataSync())).toEqual(Array.from(plain.probabilities));
    expect(Array.from(t.codeIndices.dataSync())).toEqual(Array.from(plain.codeIndices));
    expect(Array.from(t.interpretationClass.dataSync())).toEqual(Array.from(plain.interpretationClass));
    expect(Array.from(t.reconstruction?.dataSync() ?? [])).toEqual(Array.from(plain.reconstruction ?? []));
    expect(tf.memory().numTensors - before).toBe(7);
    tf.dispose(Object.values(t));
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('explain: one output convention and the same inputs as interpret', () => {
  it('returns plain data equal to explainTensors, with per-example views', async () => {
    const method = createAttributionMethod('saliency', classifier);
    const r = await expectNoTensorLeak(() => method.explain(images));
    const t = await method.explainTensors(images);
    expect(r.batch).toBe(6);
    expect(r.maskShape).toEqual([8, 8]);
    expect(Array.from(r.mask)).toEqual(Array.from(t.dataSync()));
    expect(Array.from(r.example(5).mask)).toEqual(Array.from(r.mask.subarray(5 * 64)));
    expect(() => r.example(6)).toThrow(/ExplainResult.example: 'i' must be an integer in \[0, 6\), got 6/);
    t.dispose();
  });

  it('reads one example and pixels in every method, PIQ included', async () => {
    const px = pixelsOf(3);
    const x = byHand(px);
    const one = tf.squeeze(x, [0]);
    const methods = [...(['saliency', 'smoothGrad', 'integratedGradients', 'gradCam', 'occlusion'] as const).map((n) => createAttributionMethod(n, classifier, n === 'occlusion' ? { window: 2 } : undefined)), new PiqAttribution(interpreter)];
    for (const m of methods) {
      const ref = Array.from((await m.explain(x)).mask);
      expect(Array.from((await expectNoTensorLeak(() => m.explain(one))).mask), `${m.name} on one example`).toEqual(ref);
      expect(Array.from((await expectNoTensorLeak(() => m.explain(px))).mask), `${m.name} on pixels`).toEqual(ref);
    }
    tf.dispose([x, one]);
  });
});

/**
 * A GraphModel-like object over the same weights: nodes 'logits' (the output: log of the softmax,
 * as the LayersModel adapter reads a softmax output) and 'features'.
 */
function graphOf(model: tfl.LayersModel): GraphModelLike {
  const tapped = tfl.model({ inputs: model.inputs, outputs: [model.getLayer('features').output as tfl.SymbolicTensor, model.outputs[0] as tfl.SymbolicTensor] });
  return {
    inputs: [{ name: 'x', shape: [-1, 8, 8, 1] }],
    outputNodes: ['logits'],
    execute(x, outputs) {
      const [f, p] = tapped.apply(x as tf.Tensor, { training: false }) as tf.Tensor[];
      const byName = { features: f as tf.Tensor, logits: tf.log(tf.clipByValue(p as tf.Tensor, 1e-12, 1)), p: p as tf.Tensor };
      const names = Array.isArray(outputs) ? outputs : [outputs ?? 'logits'];
      const out = names.map((n) => byName[n as keyof typeof byName]);
      tf.dispose(Object.values(byName).filter((t) => !out.includes(t)));
      return Array.isArray(outputs) ? out : (out[0] as tf.Tensor);
    },
  };
}

describe('classifier forms in attribution methods and metrics', () => {
  it('gives the same masks for a LayersModel, its adapter, a GraphModel, a { features, logits } function and a logits function', async () => {
    const adapter = toClassifierAdapter(classifier);
    const graph = graphOf(classifier);
    const forms: Array<[string, ScoringClassifier]> = [
      ['LayersModel', classifier],
      ['adapter', adapter],
      ['GraphModel', graph],
      ['function { features, logits }', (x: tf.Tensor) => adapter.run(x)],
      ['logits function', (x: tf.Tensor) => adapter.logits(x)],
    ];
    for (const name of ['saliency', 'integratedGradients', 'occlusion'] as const) {
      const ref = Array.from((await createAttributionMethod(name, adapter).explain(images)).mask);
      for (const [form, c] of forms) {
        const got = Array.from((await expectNoTensorLeak(() => createAttributionMethod(name, c).explain(images))).mask);
        got.forEach((v, i) => expect(v, `${name} with a ${form}, value ${i}`).toBeCloseTo(ref[i] as number, 5));
      }
    }
    // Grad-CAM needs the classifier split at the tap (a head): a LayersModel is split by itself, a graph cannot be.
    const cam = Array.from((await new GradCam(classifier).explain(images)).mask);
    expect(Array.from((await new GradCam(adapter).explain(images)).mask)).toEqual(cam);
    for (const c of [graph, toClassifierAdapter(graph, { featureLayer: 'features' })]) {
      const e = await expectThrowsWithoutLeak(() => new GradCam(c));
      expect(e.message).toContain("GradCam: 'classifier' must be a ClassifierAdapter with a 'head'");
    }
  });

  it('scores with a LayersModel like with its adapter in the metrics', async () => {
    const masks = tf.fill([6, 8, 8], 0.5);
    const a = await averageDrop(classifier, images, masks);
    const b = await averageDrop(toClassifierAdapter(classifier), images, masks);
    expect(Array.from(a.values)).toEqual(Array.from(b.values));
    masks.dispose();
  });

  it('scores a LayersModel without a spatial layer through its logits alone', async () => {
    const dense = tfl.sequential({ layers: [tfl.layers.flatten({ inputShape: [8, 8, 1] }), tfl.layers.dense({ units: 2, kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) })] });
    const w = dense.getWeights()[0] as tf.Tensor2D;
    const r = await createAttributionMethod('saliency', dense).explain(tf.tidy(() => tf.slice(images, 0, 1)));
    // Saliency of a linear model: |W[:, c]| for the predicted class c, min-max normalised.
    const logits = tf.tidy(() => (dense.predict(tf.slice(images, 0, 1)) as tf.Tensor).dataSync());
    const c = (logits[1] as number) > (logits[0] as number) ? 1 : 0;
    const col = tf.tidy(() => Array.from(tf.abs(tf.slice(w, [0, c], [-1, 1])).dataSync()));
    const [lo, hi] = [Math.min(...col), Math.max(...col)];
    r.mask.forEach((v, i) => expect(v).toBeCloseTo(((col[i] as number) - lo) / (hi - lo), 5));
    dense.dispose();
  });
});
