import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, describe, expect, it } from 'vitest';
import {
  toClassifierAdapter,
  type ClassifierAdapterOptions,
  type GraphModelLike,
} from '../../src/classifier/classifier-adapter';
import { isClassifierAdapter, type ClassifierAdapter, type ClassifierOutputs } from '../../src/classifier/types';
import { PiqConfigError, PiqInputError } from '../../src/errors';
import { expectClose, expectNoTensorLeak, expectThrowsWithoutLeak } from '../helpers';
import { tinyClassifier } from '../fixtures/synthetic';

const glorot = (seed: number) => tfl.initializers.glorotUniform({ seed });

/** A deterministic batch `[n, h, w, c]` with values in [-1, 1] (no randomness: index arithmetic). */
function batch(shape: [number, number, number, number], phase = 0): tf.Tensor4D {
  const size = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(size);
  for (let i = 0; i < size; i++) data[i] = Math.sin(0.7 * i + phase);
  return tf.tensor4d(data, shape);
}

/** Disposes what run() returned. */
function release(o: ClassifierOutputs): void {
  tf.dispose([o.features, o.logits]);
}

/** Every weight's values, copied out (for bit-identity checks). */
function snapshot(model: tfl.LayersModel): Float32Array[] {
  return model.getWeights().map((w) => w.dataSync().slice() as Float32Array);
}

/**
 * Functional model with a skip connection around `inner`:
 * input → stem → inner → add(stem, inner) → globalAvgPool → dense(3, linear).
 */
function skipModel(): tfl.LayersModel {
  const input = tfl.input({ shape: [6, 6, 2], name: 'x' });
  const stem = tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', name: 'stem', kernelInitializer: glorot(11) }).apply(input) as tfl.SymbolicTensor;
  const inner = tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'inner', kernelInitializer: glorot(12) }).apply(stem) as tfl.SymbolicTensor;
  const sum = tfl.layers.add({ name: 'sum' }).apply([stem, inner]) as tfl.SymbolicTensor;
  const pooled = tfl.layers.globalAveragePooling2d({ name: 'gap' }).apply(sum) as tfl.SymbolicTensor;
  const out = tfl.layers.dense({ units: 3, name: 'out', kernelInitializer: glorot(13) }).apply(pooled) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: out });
}

/**
 * Functional model that branches after `trunk` and merges again (splittable at `trunk`):
 * input → trunk → {left, right} → concat → globalAvgPool → dense(3, softmax).
 */
function branchModel(): tfl.LayersModel {
  const input = tfl.input({ shape: [6, 6, 2], name: 'x' });
  const trunk = tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', name: 'trunk', kernelInitializer: glorot(21) }).apply(input) as tfl.SymbolicTensor;
  const left = tfl.layers.conv2d({ filters: 3, kernelSize: 1, name: 'left', kernelInitializer: glorot(22) }).apply(trunk) as tfl.SymbolicTensor;
  const right = tfl.layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same', activation: 'tanh', name: 'right', kernelInitializer: glorot(23) }).apply(trunk) as tfl.SymbolicTensor;
  const merged = tfl.layers.concatenate({ name: 'merged' }).apply([left, right]) as tfl.SymbolicTensor;
  const pooled = tfl.layers.globalAveragePooling2d({ name: 'gap' }).apply(merged) as tfl.SymbolicTensor;
  const out = tfl.layers.dense({ units: 3, activation: 'softmax', name: 'probs', kernelInitializer: glorot(24) }).apply(pooled) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: out });
}

/** conv → batchNormalization → relu → dropout → flatten → dense(2): for the frozen-state checks. */
function batchNormModel(): tfl.Sequential {
  const model = tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [4, 4, 1], filters: 2, kernelSize: 3, padding: 'same', name: 'conv', kernelInitializer: glorot(31) }),
      tfl.layers.batchNormalization({ name: 'bn' }),
      tfl.layers.reLU({ name: 'relu' }),
      tfl.layers.dropout({ rate: 0.5, name: 'drop' }),
      tfl.layers.flatten({ name: 'flat' }),
      tfl.layers.dense({ units: 2, name: 'logits', kernelInitializer: glorot(32) }),
    ],
  });
  // Moving statistics far from the initial (0, 1), so inference mode is distinguishable from training mode.
  const bn = model.getLayer('bn');
  const [gamma, beta, mean, variance] = bn.getWeights() as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
  const values = [tf.tensor1d([1.5, 0.5]), tf.tensor1d([0.25, -0.5]), tf.tensor1d([0.3, -0.2]), tf.tensor1d([4, 0.25])];
  expect(values.map((v) => v.shape)).toEqual([gamma.shape, beta.shape, mean.shape, variance.shape]);
  bn.setWeights(values);
  tf.dispose(values);
  return model;
}

/**
 * A structural stand-in for a converted tf.GraphModel, built from tf ops:
 * `feat = relu(conv2d(x, K) + b)` `[b, 3, 3, 2]` (stride 2 on a 6x6x1 input), `logits = mean_hw(feat) · W`.
 */
class FakeGraphModel implements GraphModelLike {
  readonly inputs: Array<{ name: string; shape?: number[] }>;
  readonly outputNodes = ['logits', 'feat'];
  readonly kernel = tf.tensor4d([0.5, -0.25, 1, 0.75, -0.5, 0.25, 0.1, -1, 0.3, 0.6, -0.7, 0.2, 0.9, -0.1, 0.4, 0.8, -0.3, 0.5], [3, 3, 1, 2]);
  readonly bias = tf.tensor1d([0.1, -0.05]);
  readonly dense = tf.tensor2d([1, -1, 0.5, 2, 0.25, -0.75], [2, 3]);
  calls = 0;

  constructor(inputShape: number[] | undefined = [-1, 6, 6, 1], numInputs = 1) {
    this.inputs = Array.from({ length: numInputs }, (_, i) => ({ name: `x${i}`, shape: inputShape }));
  }

  features(x: tf.Tensor): tf.Tensor4D {
    return tf.relu(tf.add(tf.conv2d(x as tf.Tensor4D, this.kernel, 2, 'same'), this.bias)) as tf.Tensor4D;
  }

  logits(x: tf.Tensor): tf.Tensor2D {
    return tf.matMul(tf.mean(this.features(x), [1, 2]) as tf.Tensor2D, this.dense);
  }

  execute(inputs: tf.Tensor | tf.Tensor[] | tf.NamedTensorMap, outputs?: string | string[]): tf.Tensor | tf.Tensor[] {
    this.calls++;
    const x = inputs as tf.Tensor;
    const names = outputs === undefined ? this.outputNodes : Array.isArray(outputs) ? outputs : [outputs];
    const result = tf.tidy(() =>
      names.map((n) => {
        if (n === 'feat') return this.features(x);
        if (n === 'logits') return this.logits(x);
        throw new Error(`Cannot find the node '${n}' in the graph`);
      }),
    );
    return Array.isArray(outputs) || outputs === undefined ? result : (result[0] as tf.Tensor);
  }

  dispose(): void {
    tf.dispose([this.kernel, this.bias, this.dense]);
  }
}

describe('toClassifierAdapter on a tf.Sequential model', () => {
  const model = tinyClassifier();
  afterAll(() => model.dispose());

  it('taps the last layer with a spatial output before flatten by default, and reads shapes from the model', () => {
    const adapter = toClassifierAdapter(model);
    // conv_a [8,8,4], pool [4,4,4], features [4,4,8] are spatial; flatten and dense are not: the last spatial one wins.
    expect(adapter.featureLayer).toBe('features');
    expect(adapter.featureShape).toEqual([4, 4, 8]);
    expect(adapter.inputShape).toEqual([8, 8, 1]);
    expect(adapter.numClasses).toBe(2);
    expect(isClassifierAdapter(adapter)).toBe(true);
  });

  it('taps the named layer when featureLayer is given', () => {
    const adapter = toClassifierAdapter(model, { featureLayer: 'pool' });
    expect(adapter.featureLayer).toBe('pool');
    expect(adapter.featureShape).toEqual([4, 4, 4]);
  });

  it('returns features equal to the tapped layer computed by hand from the weights', () => {
    const adapter = toClassifierAdapter(model);
    const x = batch([3, 8, 8, 1]);
    const [k1, b1, k2, b2] = model.getWeights() as [tf.Tensor4D, tf.Tensor1D, tf.Tensor4D, tf.Tensor1D];
    // conv_a (relu) → 2x2 max pool → features (relu), with plain tf ops.
    const expected = tf.tidy(() => {
      const a = tf.relu(tf.add(tf.conv2d(x, k1, 1, 'same'), b1)) as tf.Tensor4D;
      const p = tf.maxPool(a, 2, 2, 'valid');
      return tf.relu(tf.add(tf.conv2d(p, k2, 1, 'same'), b2));
    });
    const { features, logits } = adapter.run(x);
    expect(features.shape).toEqual([3, 4, 4, 8]);
    expect(logits.shape).toEqual([3, 2]);
    expectClose(features, expected.dataSync(), 1e-5);
    tf.dispose([x, expected, features, logits]);
  });

  it('turns a softmax output into logits whose softmax gives model.predict back', () => {
    const adapter = toClassifierAdapter(model);
    const x = batch([4, 8, 8, 1], 1);
    const probs = model.predict(x) as tf.Tensor;
    const fromRun = adapter.run(x);
    const fromLogits = adapter.logits(x);
    const softRun = tf.softmax(fromRun.logits);
    const softLogits = tf.softmax(fromLogits);
    expectClose(softRun, probs.dataSync(), 1e-5);
    expectClose(softLogits, probs.dataSync(), 1e-5);
    // The logits are log-probabilities: each row's logsumexp is 0.
    const lse = tf.logSumExp(fromLogits, 1);
    expectClose(lse, [0, 0, 0, 0], 1e-5);
    tf.dispose([x, probs, fromRun.features, fromRun.logits, fromLogits, softRun, softLogits, lse]);
  });

  it("passes the raw output through with outputKind 'logits'", () => {
    const adapter = toClassifierAdapter(model, { outputKind: 'logits' });
    const x = batch([2, 8, 8, 1], 2);
    const probs = model.predict(x) as tf.Tensor;
    const y = adapter.logits(x);
    const { features, logits } = adapter.run(x);
    expectClose(y, probs.dataSync(), 1e-6);
    expectClose(logits, probs.dataSync(), 1e-6);
    tf.dispose([x, probs, y, features, logits]);
  });

  it('lets gradients with respect to the input flow through logits and features', () => {
    const adapter = toClassifierAdapter(model, { outputKind: 'logits' });
    const x = batch([2, 8, 8, 1], 3);
    // Gradient of the class-0 probability: non-constant in x (sum over classes would be 1).
    const gLogits = tf.grad((v: tf.Tensor) => tf.sum(tf.slice(adapter.logits(v), [0, 0], [-1, 1])))(x);
    const gFeatures = tf.grad((v: tf.Tensor) => tf.sum(adapter.run(v).features))(x);
    for (const g of [gLogits, gFeatures]) {
      expect(g.shape).toEqual([2, 8, 8, 1]);
      const values = Array.from(g.dataSync());
      expect(values.every(Number.isFinite)).toBe(true);
      expect(values.some((v) => v !== 0)).toBe(true);
    }
    tf.dispose([x, gLogits, gFeatures]);
  });

  it('gives a head that maps the tapped features to the same logits as the full model', () => {
    const adapter = toClassifierAdapter(model);
    expect(adapter.head).toBeDefined();
    const x = batch([2, 8, 8, 1], 4);
    const { features, logits } = adapter.run(x);
    const fromHead = adapter.head!(features);
    expectClose(fromHead, logits.dataSync(), 1e-5);
    tf.dispose([x, features, logits, fromHead]);
  });

  it('creates no tensors beyond what run, logits and head return', async () => {
    const adapter = await expectNoTensorLeak(() => toClassifierAdapter(model));
    const x = batch([2, 8, 8, 1]);
    await expectNoTensorLeak(() => release(adapter.run(x)));
    await expectNoTensorLeak(() => tf.dispose(adapter.logits(x)));
    const f = adapter.run(x).features;
    await expectNoTensorLeak(() => tf.dispose(adapter.head!(f)));
    tf.dispose([x, f]);
  });
});

describe('toClassifierAdapter on a functional tf.LayersModel', () => {
  it('has no head when a skip connection goes around the tapped layer', () => {
    const model = skipModel();
    const adapter = toClassifierAdapter(model, { featureLayer: 'inner' });
    expect(adapter.featureLayer).toBe('inner');
    expect(adapter.featureShape).toEqual([6, 6, 4]);
    expect(adapter.head).toBeUndefined();
    // run still works: features equal the tap, computed independently through a model ending at it.
    const x = batch([2, 6, 6, 2]);
    const tapModel = tfl.model({ inputs: model.inputs, outputs: model.getLayer('inner').output as tfl.SymbolicTensor });
    const expected = tapModel.predict(x) as tf.Tensor;
    const probs = model.predict(x) as tf.Tensor;
    const { features, logits } = adapter.run(x);
    expectClose(features, expected.dataSync(), 1e-6);
    // A linear output is read as logits under 'auto'.
    expectClose(logits, probs.dataSync(), 1e-6);
    tf.dispose([x, expected, probs, features, logits]);
    model.dispose();
  });

  it('taps the merge after the skip connection by default, and splits there', () => {
    const model = skipModel();
    const adapter = toClassifierAdapter(model);
    expect(adapter.featureLayer).toBe('sum');
    expect(adapter.numClasses).toBe(3);
    expect(adapter.head).toBeDefined();
    const x = batch([2, 6, 6, 2], 1);
    const { features, logits } = adapter.run(x);
    const fromHead = adapter.head!(features);
    expectClose(fromHead, logits.dataSync(), 1e-6);
    tf.dispose([x, features, logits, fromHead]);
    model.dispose();
  });

  it('splits a model that branches after the tap and merges again; the head equals the full logits', async () => {
    const model = branchModel();
    const adapter = toClassifierAdapter(model, { featureLayer: 'trunk' });
    expect(adapter.featureShape).toEqual([6, 6, 4]);
    expect(adapter.head).toBeDefined();
    const x = batch([3, 6, 6, 2], 2);
    const probs = model.predict(x) as tf.Tensor;
    const { features, logits } = adapter.run(x);
    const fromHead = await expectNoTensorLeak(() => adapter.head!(features), 1);
    // Softmax model: softmax(head(features)) is the model's prediction.
    const soft = tf.softmax(fromHead);
    expectClose(soft, probs.dataSync(), 1e-5);
    expectClose(fromHead, logits.dataSync(), 1e-5);
    tf.dispose([x, probs, features, logits, fromHead, soft]);
    model.dispose();
  });

  it('rejects a head input of the wrong shape with a PiqInputError naming features', async () => {
    const model = branchModel();
    const adapter = toClassifierAdapter(model, { featureLayer: 'trunk' });
    const bad = tf.zeros([1, 3, 3, 4]) as tf.Tensor4D;
    const err = await expectThrowsWithoutLeak(() => adapter.head!(bad));
    expect(err).toBeInstanceOf(PiqInputError);
    expect(err.message).toMatch(/ClassifierAdapter\.head: 'features' must have shape \[batch, 6, 6, 4\].*got \[1, 3, 3, 4\]/);
    bad.dispose();
    model.dispose();
  });
});

describe('toClassifierAdapter on a function classifier', () => {
  const w = tf.tensor2d([1, -2, 0.5, 3], [2, 2]);
  afterAll(() => w.dispose());
  // features = [x, x²] on a 3x3x1 input; logits = mean_hw(features) · w.
  const fn = (x: tf.Tensor) => {
    const features = tf.concat([x, tf.square(x)], 3);
    return { features, logits: tf.matMul(tf.mean(features, [1, 2]) as tf.Tensor2D, w) };
  };

  it('reads the feature shape and class count from a probe run, and passes outputs through', () => {
    const adapter = toClassifierAdapter(fn, { inputShape: [3, 3, 1], featureLayer: 'mine' });
    expect(adapter.inputShape).toEqual([3, 3, 1]);
    expect(adapter.featureShape).toEqual([3, 3, 2]);
    expect(adapter.numClasses).toBe(2);
    expect(adapter.featureLayer).toBe('mine');
    expect(adapter.head).toBeUndefined();
    // x = 1..9: mean x = 5, mean x² = 285/9; logits = [5 + 0.5·285/9, −10 + 3·285/9].
    const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);
    const { features, logits } = adapter.run(x);
    expectClose(features, [1, 1, 2, 4, 3, 9, 4, 16, 5, 25, 6, 36, 7, 49, 8, 64, 9, 81]);
    const expected = [5 + (0.5 * 285) / 9, -10 + (3 * 285) / 9];
    expectClose(logits, expected, 1e-4);
    const y = adapter.logits(x);
    expectClose(y, expected, 1e-4);
    tf.dispose([x, features, logits, y]);
  });

  it("turns probabilities into log-probabilities with outputKind 'probabilities'", () => {
    const probsFn = (x: tf.Tensor) => ({ features: tf.concat([x, x], 3), logits: tf.softmax(tf.reshape(x, [-1, 4])) });
    const adapter = toClassifierAdapter(probsFn, { inputShape: [2, 2, 1], outputKind: 'probabilities' });
    const x = tf.tensor4d([0, 1, 2, 3], [1, 2, 2, 1]);
    const y = adapter.logits(x);
    // log softmax([0,1,2,3]) = [0,1,2,3] − log(1 + e + e² + e³).
    const lse = Math.log(1 + Math.E + Math.E ** 2 + Math.E ** 3);
    expectClose(y, [-lse, 1 - lse, 2 - lse, 3 - lse], 1e-5);
    tf.dispose([x, y]);
  });

  it("hands back a copy, never the caller's own input tensor, when the function returns it as features", () => {
    const identity = (x: tf.Tensor) => ({ features: x, logits: tf.reshape(tf.mean(x, [1, 2, 3]), [-1, 1]) });
    const adapter = toClassifierAdapter(identity, { inputShape: [2, 2, 1] });
    const x = tf.ones([1, 2, 2, 1]);
    const { features, logits } = adapter.run(x);
    expect(features).not.toBe(x);
    tf.dispose([features, logits]);
    expect(x.isDisposed).toBe(false);
    x.dispose();
  });

  it('lets gradients with respect to the input flow', () => {
    const adapter = toClassifierAdapter(fn, { inputShape: [3, 3, 1] });
    const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);
    // d/dx Σ logits = d/dx [mean(x)·(1 − 2) + mean(x²)·(0.5 + 3)] = (−1 + 7x) / 9.
    const g = tf.grad((v: tf.Tensor) => tf.sum(adapter.logits(v)))(x);
    expectClose(g, [1, 2, 3, 4, 5, 6, 7, 8, 9].map((v) => (-1 + 7 * v) / 9), 1e-5);
    tf.dispose([x, g]);
  });

  it('creates no tensors beyond what it returns, the probe included', async () => {
    const adapter = await expectNoTensorLeak(() => toClassifierAdapter(fn, { inputShape: [3, 3, 1] }));
    const x = tf.ones([2, 3, 3, 1]);
    await expectNoTensorLeak(() => release(adapter.run(x)));
    await expectNoTensorLeak(() => tf.dispose(adapter.logits(x)));
    x.dispose();
  });
});

describe('toClassifierAdapter on a GraphModel-like object', () => {
  const graph = new FakeGraphModel();
  afterAll(() => graph.dispose());

  it('runs the feature and logits nodes, reading the input shape from the model', () => {
    const adapter = toClassifierAdapter(graph, { featureLayer: 'feat', logitsNode: 'logits' });
    expect(adapter.inputShape).toEqual([6, 6, 1]);
    expect(adapter.featureShape).toEqual([3, 3, 2]);
    expect(adapter.numClasses).toBe(3);
    expect(adapter.featureLayer).toBe('feat');
    const x = batch([2, 6, 6, 1]);
    const expectedF = graph.features(x);
    const expectedY = graph.logits(x);
    const { features, logits } = adapter.run(x);
    expectClose(features, expectedF.dataSync(), 1e-6);
    expectClose(logits, expectedY.dataSync(), 1e-6);
    const y = adapter.logits(x);
    expectClose(y, expectedY.dataSync(), 1e-6);
    tf.dispose([x, expectedF, expectedY, features, logits, y]);
  });

  it("uses the first output node for logits by default, and an explicit 'inputShape' when the model has none", () => {
    const noShape = new FakeGraphModel(undefined);
    const adapter = toClassifierAdapter(noShape, { featureLayer: 'feat', inputShape: [6, 6, 1] });
    expect(adapter.numClasses).toBe(3);
    const x = batch([1, 6, 6, 1], 5);
    const expected = noShape.logits(x);
    const y = adapter.logits(x);
    expectClose(y, expected.dataSync(), 1e-6);
    const g = tf.grad((v: tf.Tensor) => tf.sum(adapter.logits(v)))(x);
    expect(Array.from(g.dataSync()).some((v) => v !== 0)).toBe(true);
    tf.dispose([x, expected, y, g]);
    noShape.dispose();
  });

  it('creates no tensors beyond what it returns', async () => {
    const adapter = await expectNoTensorLeak(() => toClassifierAdapter(graph, { featureLayer: 'feat' }));
    const x = tf.ones([2, 6, 6, 1]);
    await expectNoTensorLeak(() => release(adapter.run(x)));
    await expectNoTensorLeak(() => tf.dispose(adapter.logits(x)));
    x.dispose();
  });

  it("rejects a missing 'featureLayer', an unknown node and a multi-input graph with a PiqConfigError", async () => {
    const missing = await expectThrowsWithoutLeak(() => toClassifierAdapter(graph));
    expect(missing).toBeInstanceOf(PiqConfigError);
    expect(missing.message).toMatch(/'featureLayer'.*got undefined/);
    const unknown = await expectThrowsWithoutLeak(() => toClassifierAdapter(graph, { featureLayer: 'nope' }));
    expect(unknown).toBeInstanceOf(PiqConfigError);
    expect(unknown.message).toContain("'nope'");
    expect(unknown.message).toContain('Cannot find the node');
    const twoInputs = new FakeGraphModel([-1, 6, 6, 1], 2);
    const multi = await expectThrowsWithoutLeak(() => toClassifierAdapter(twoInputs, { featureLayer: 'feat' }));
    expect(multi).toBeInstanceOf(PiqConfigError);
    expect(multi.message).toMatch(/'classifier' must have exactly one input, got a GraphModel with 2 inputs/);
    twoInputs.dispose();
    const noShape = new FakeGraphModel([-1, -1, -1, 1]);
    const dynamic = await expectThrowsWithoutLeak(() => toClassifierAdapter(noShape, { featureLayer: 'feat' }));
    expect(dynamic).toBeInstanceOf(PiqConfigError);
    expect(dynamic.message).toMatch(/'inputShape' is required.*\[-1,-1,1\]/);
    noShape.dispose();
  });
});

describe('the classifier stays frozen', () => {
  it('keeps every weight bit-identical after many run/logits calls and a gradient through them', () => {
    const model = tinyClassifier(5);
    const before = snapshot(model);
    const adapter = toClassifierAdapter(model);
    const x = batch([2, 8, 8, 1]);
    for (let i = 0; i < 5; i++) {
      release(adapter.run(x));
      tf.dispose(adapter.logits(x));
    }
    const g = tf.grad((v: tf.Tensor) => tf.add(tf.sum(adapter.logits(v)), tf.sum(adapter.run(v).features)))(x);
    const { value, grads } = tf.variableGrads(() => tf.sum(adapter.logits(x)) as tf.Scalar);
    expect(Object.keys(grads).length).toBeGreaterThan(0); // gradients w.r.t. the weights exist...
    tf.dispose([g, value, grads as unknown as tf.Tensor[]]);
    const after = snapshot(model);
    expect(after).toEqual(before); // ...but nothing applied them.
    x.dispose();
    model.dispose();
  });

  it('runs batch normalization and dropout in inference mode, inside a gradient tape too', () => {
    const model = batchNormModel();
    const before = snapshot(model);
    const adapter = toClassifierAdapter(model, { featureLayer: 'relu' });
    const x = batch([3, 4, 4, 1], 1);
    // Expected relu features with the moving statistics: (z − mean)/sqrt(var + 1e-3)·gamma + beta.
    const [kernel, bias] = model.getLayer('conv').getWeights() as [tf.Tensor4D, tf.Tensor1D];
    const expected = tf.tidy(() => {
      const z = tf.add(tf.conv2d(x, kernel, 1, 'same'), bias);
      const norm = tf.div(tf.sub(z, tf.tensor1d([0.3, -0.2])), tf.sqrt(tf.tensor1d([4 + 1e-3, 0.25 + 1e-3])));
      return tf.relu(tf.add(tf.mul(norm, tf.tensor1d([1.5, 0.5])), tf.tensor1d([0.25, -0.5])));
    });
    for (let i = 0; i < 3; i++) {
      const g = tf.grad((v: tf.Tensor) => {
        const { features, logits } = adapter.run(v);
        return tf.add(tf.sum(features), tf.sum(logits));
      })(x);
      g.dispose();
    }
    const { features, logits } = adapter.run(x);
    expectClose(features, expected.dataSync(), 1e-5);
    // Dropout is off: two calls agree exactly, and equal model.predict.
    const again = adapter.logits(x);
    const predicted = model.predict(x) as tf.Tensor;
    expect(Array.from(again.dataSync())).toEqual(Array.from(logits.dataSync()));
    expectClose(again, predicted.dataSync(), 1e-6);
    expect(snapshot(model)).toEqual(before); // moving mean and variance untouched
    tf.dispose([x, expected, features, logits, again, predicted]);
    model.dispose();
  });

  it('shares the weights with the model: disposing the model is left to its owner', () => {
    const model = tinyClassifier(6);
    const adapter = toClassifierAdapter(model);
    const x = batch([1, 8, 8, 1]);
    release(adapter.run(x));
    // The adapter did not take ownership: the model can still predict, and disposes cleanly.
    const p = model.predict(x) as tf.Tensor;
    expect(p.shape).toEqual([1, 2]);
    tf.dispose([p, x]);
    const before = tf.memory().numTensors;
    model.dispose();
    expect(tf.memory().numTensors).toBeLessThan(before);
  });
});

describe('toClassifierAdapter errors', () => {
  const model = tinyClassifier();
  afterAll(() => model.dispose());

  async function configError(fn: () => unknown): Promise<string> {
    const err = await expectThrowsWithoutLeak(fn);
    expect(err).toBeInstanceOf(PiqConfigError);
    return err.message;
  }

  it("rejects an unknown 'featureLayer', listing the spatial layers", async () => {
    const msg = await configError(() => toClassifierAdapter(model, { featureLayer: 'conv9' }));
    expect(msg).toMatch(/^toClassifierAdapter: 'featureLayer' must name a layer of the classifier, got "conv9"\./);
    expect(msg).toContain("'conv_a', 'pool', 'features'");
  });

  it("rejects a non-spatial 'featureLayer' (the dense layer), listing the spatial layers", async () => {
    const msg = await configError(() => toClassifierAdapter(model, { featureLayer: 'probs' }));
    expect(msg).toMatch(/'featureLayer' must name a layer with a spatial output \[batch, height, width, channels\], got 'probs' with output shape \[null,2\]/);
    expect(msg).toContain("'conv_a', 'pool', 'features'");
  });

  it('rejects a model with no spatial layer', async () => {
    const dense = tfl.sequential({ layers: [tfl.layers.flatten({ inputShape: [4, 4, 1] }), tfl.layers.dense({ units: 2, name: 'd' })] });
    const msg = await configError(() => toClassifierAdapter(dense));
    expect(msg).toMatch(/'classifier' must have a layer with a spatial output.*got none among its layers/);
    expect(msg).toContain("'d'");
    dense.dispose();
  });

  it('rejects a multi-input model', async () => {
    const a = tfl.input({ shape: [4, 4, 1] });
    const b = tfl.input({ shape: [4, 4, 1] });
    const merged = tfl.layers.add().apply([a, b]) as tfl.SymbolicTensor;
    const conv = tfl.layers.conv2d({ filters: 2, kernelSize: 1 }).apply(merged) as tfl.SymbolicTensor;
    const out = tfl.layers.dense({ units: 2 }).apply(tfl.layers.flatten().apply(conv)) as tfl.SymbolicTensor;
    const twoInputs = tfl.model({ inputs: [a, b], outputs: out });
    const msg = await configError(() => toClassifierAdapter(twoInputs));
    expect(msg).toMatch(/'classifier' must have exactly one input and one output, got 2 inputs and 1 outputs\. Wrap it in a function classifier/);
    twoInputs.dispose();
  });

  it("rejects an 'inputShape' that contradicts the model's", async () => {
    const msg = await configError(() => toClassifierAdapter(model, { inputShape: [28, 28, 1] }));
    expect(msg).toMatch(/'inputShape' must agree with the classifier's input shape \[8,8,1\], got \[28,28,1\]/);
  });

  it("rejects an invalid 'outputKind', listing the valid ones", async () => {
    const msg = await configError(() => toClassifierAdapter(model, { outputKind: 'softmax' } as unknown as ClassifierAdapterOptions));
    expect(msg).toBe("toClassifierAdapter: 'outputKind' must be one of 'auto', 'logits', 'probabilities', got \"softmax\".");
  });

  it("rejects a function classifier without a valid 'inputShape'", async () => {
    const fn = (x: tf.Tensor) => ({ features: x, logits: tf.reshape(x, [-1, 4]) });
    const missing = await configError(() => toClassifierAdapter(fn));
    expect(missing).toMatch(/'inputShape' must be given for a function classifier.*got undefined/);
    const bad = await configError(() => toClassifierAdapter(fn, { inputShape: [2, 0, 1] }));
    expect(bad).toMatch(/'inputShape' must be a non-empty array of positive integers.*got \[2,0,1\]/);
  });

  it('rejects a function returning features or logits of the wrong shape, without leaking the probe', async () => {
    const flatFeatures = (x: tf.Tensor) => ({ features: tf.reshape(x, [-1, 4]), logits: tf.reshape(x, [-1, 4]) });
    const f = await configError(() => toClassifierAdapter(flatFeatures, { inputShape: [2, 2, 1] }));
    expect(f).toMatch(/'classifier' must return features of shape \[batch, height, width, channels\], got shape \[2, 4\] for an input of shape \[2, 2, 2, 1\]/);
    const flatLogits = (x: tf.Tensor) => ({ features: x, logits: tf.reshape(x, [-1]) });
    const y = await configError(() => toClassifierAdapter(flatLogits, { inputShape: [2, 2, 1] }));
    expect(y).toMatch(/'classifier' must return logits of shape \[batch, numClasses\], got shape \[8\]/);
    const batchless = (x: tf.Tensor) => ({ features: tf.sum(x, 0, true), logits: tf.zeros([1, 3]) });
    const b = await configError(() => toClassifierAdapter(batchless, { inputShape: [2, 2, 1] }));
    expect(b).toMatch(/features of shape.*got shape \[1, 2, 2, 1\]/);
    const notTensors = (() => ({ features: [1], logits: 2 })) as unknown as (x: tf.Tensor) => { features: tf.Tensor; logits: tf.Tensor };
    const t = await configError(() => toClassifierAdapter(notTensors, { inputShape: [2, 2, 1] }));
    expect(t).toMatch(/'classifier' must return \{ features, logits \} tensors/);
  });

  it('rejects something that is not a classifier', async () => {
    const msg = await configError(() => toClassifierAdapter(42 as never));
    expect(msg).toMatch(/'classifier' must be a tf\.LayersModel, a tf\.GraphModel, a function .* got 42\./);
  });

  it('rejects an input batch of the wrong shape with a PiqInputError, suggesting a batch dimension when it is missing', async () => {
    const adapter = toClassifierAdapter(model);
    const unbatched = tf.zeros([8, 8, 1]);
    const e1 = await expectThrowsWithoutLeak(() => adapter.run(unbatched));
    expect(e1).toBeInstanceOf(PiqInputError);
    expect(e1.message).toBe(
      "ClassifierAdapter.run: 'input' must have shape [batch, 8, 8, 1] to match the classifier, got [8, 8, 1]. Add a batch dimension, e.g. tf.expandDims(input, 0).",
    );
    const wrongSize = tf.zeros([2, 7, 8, 1]);
    const e2 = await expectThrowsWithoutLeak(() => adapter.logits(wrongSize));
    expect(e2).toBeInstanceOf(PiqInputError);
    expect(e2.message).toBe("ClassifierAdapter.logits: 'input' must have shape [batch, 8, 8, 1] to match the classifier, got [2, 7, 8, 1].");
    const wrongChannels = tf.zeros([8, 8, 3]);
    const e3 = await expectThrowsWithoutLeak(() => adapter.run(wrongChannels));
    expect(e3.message).not.toContain('Add a batch dimension');
    const e4 = await expectThrowsWithoutLeak(() => adapter.run([1, 2, 3] as unknown as tf.Tensor));
    expect(e4).toBeInstanceOf(PiqInputError);
    expect(e4.message).toMatch(/'input' must be a tf\.Tensor of shape \[batch, 8, 8, 1\], got an array of length 3/);
    tf.dispose([unbatched, wrongSize, wrongChannels]);
    // The same check guards function classifiers.
    const fnAdapter = toClassifierAdapter((x) => ({ features: x, logits: tf.reshape(x, [-1, 4]) }), { inputShape: [2, 2, 1] });
    const small = tf.zeros([2, 2, 1]);
    const e5 = await expectThrowsWithoutLeak(() => fnAdapter.run(small));
    expect(e5.message).toMatch(/ClassifierAdapter\.run: 'input' must have shape \[batch, 2, 2, 1\].*got \[2, 2, 1\]\. Add a batch dimension/);
    small.dispose();
  });

  it('returns an existing adapter unchanged', () => {
    const adapter: ClassifierAdapter = toClassifierAdapter(model);
    expect(toClassifierAdapter(adapter)).toBe(adapter);
  });
});
