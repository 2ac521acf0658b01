// The two classifiers the example explains, both for the 3-breed task on 64x64 RGB photos in [0, 1]:
//   (a) a small CNN trained here from scratch with augmentation (flips, crops, colour jitter);
//   (b) centernet's pretrained MobileNetV3 backbone (COCO) with a small head trained here on cached
//       backbone features, grafted into the tfjs graph itself: one tfjs-converter GraphModel with a
//       spatial feature node and a logits node, the "explain my fine-tuned model" case.
// Both are cached in .cache/ under versioned keys.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { ClassifierAdapter } from 'piq-tfjs';
import { fileSystem } from 'piq-tfjs/node';
import { BREEDS } from './dataset';
import { freeInputShape, loadGraph, readCenternet, type GraphJson, type GraphModel, type GraphNode } from './centernet';
import { log, progressBar } from '../shared/cli';

const NUM_CLASSES = BREEDS.length;

/** A seeded random source (mulberry32): floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Augments a batch of photos `[n, h, w, 3]` in [0, 1]: horizontal flip (p = 0.5), a random crop of
 * 75-100% of the side resized back (bilinear), and colour jitter (brightness ±0.1, contrast ×0.8-1.2,
 * saturation ×0.7-1.3), clipped to [0, 1]. The parameters come from `rand`.
 */
export function augment(x: tf.Tensor4D, rand: () => number): tf.Tensor4D {
  const [n, h, w] = x.shape;
  const boxes: number[][] = [];
  const flips: number[] = [];
  const bright: number[] = [];
  const contrast: number[] = [];
  const sat: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = 0.75 + 0.25 * rand();
    const y0 = (1 - s) * rand();
    const x0 = (1 - s) * rand();
    boxes.push([y0, x0, y0 + s, x0 + s]);
    flips.push(rand() < 0.5 ? 1 : 0);
    bright.push((rand() * 2 - 1) * 0.1);
    contrast.push(0.8 + 0.4 * rand());
    sat.push(0.7 + 0.6 * rand());
  }
  return tf.tidy(() => {
    const flip = tf.reshape(tf.tensor1d(flips), [n, 1, 1, 1]);
    let y = tf.add(tf.mul(flip, tf.reverse(x, 2)), tf.mul(tf.sub(1, flip), x)) as tf.Tensor4D;
    y = tf.image.cropAndResize(y, tf.tensor2d(boxes), tf.range(0, n, 1, 'int32') as tf.Tensor1D, [h, w], 'bilinear');
    const col = (v: number[]) => tf.reshape(tf.tensor1d(v), [n, 1, 1, 1]);
    const grey = tf.mean(y, 3, true);
    y = tf.add(grey, tf.mul(col(sat), tf.sub(y, grey)));
    const mean = tf.mean(y, [1, 2, 3], true);
    y = tf.add(mean, tf.mul(col(contrast), tf.sub(y, mean)));
    y = tf.add(y, col(bright));
    return tf.clipByValue(y, 0, 1) as tf.Tensor4D;
  });
}

/** Share of correct argmax predictions. */
export function accuracy(logits: tf.Tensor2D, labels: Int32Array): number {
  return tf.tidy(() => tf.mean(tf.cast(tf.equal(tf.argMax(logits, -1), tf.tensor1d(labels, 'int32')), 'float32')).dataSync()[0] as number);
}

// ---------------------------------------------------------------- (a) the small CNN

/** Cache key version of classifier (a): bump when the architecture or training changes. */
const CNN_VERSION = 'v2';

/**
 * The small CNN: five 3x3 conv + batch-norm + ReLU blocks (24, 48, 48, 96, 96 channels, 2x2 max pools
 * after the first and third), global average pooling, dropout 0.4, softmax. The last block's ReLU,
 * `features` (16x16x96), is what PIQ taps. `downsample: true` builds the 128x128 variant: a 2x2 average
 * pool in front of the same layers (same weights, so `setWeights` takes the 64x64 model's weights).
 */
export function buildCnn(options: { downsample?: boolean } = {}): tfl.LayersModel {
  const layers: tfl.layers.Layer[] = [
    options.downsample ? tfl.layers.averagePooling2d({ inputShape: [128, 128, 3], poolSize: 2, name: 'downsample' }) : tfl.layers.inputLayer({ inputShape: [64, 64, 3], name: 'photo' }),
  ];
  const block = (filters: number, i: number, name = `relu${i}`) => {
    layers.push(
      tfl.layers.conv2d({ filters, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: tfl.initializers.heNormal({ seed: i }), name: `conv${i}` }),
      tfl.layers.batchNormalization({ name: `bn${i}` }),
      tfl.layers.activation({ activation: 'relu', name }),
    );
  };
  block(24, 1);
  layers.push(tfl.layers.maxPooling2d({ poolSize: 2, name: 'pool1' }));
  block(48, 2);
  block(48, 3);
  layers.push(tfl.layers.maxPooling2d({ poolSize: 2, name: 'pool2' }));
  block(96, 4);
  block(96, 5, 'features');
  layers.push(
    tfl.layers.globalAveragePooling2d({ name: 'gap' }),
    tfl.layers.dropout({ rate: 0.4, name: 'dropout' }),
    tfl.layers.dense({ units: NUM_CLASSES, activation: 'softmax', kernelInitializer: tfl.initializers.glorotUniform({ seed: 6 }), name: 'probs' }),
  );
  return tfl.sequential({ name: options.downsample ? 'pets_cnn_128' : 'pets_cnn', layers });
}

/**
 * Loads classifier (a) from .cache/, or trains it: Adam from 2e-3 with a cosine decay to 0, batch 32,
 * a fresh augmentation of the training photos every epoch.
 */
export async function loadOrTrainCnn(trainX: tf.Tensor4D, trainY: Int32Array, testX: tf.Tensor4D, testY: Int32Array, o: { epochs: number; retrain: boolean }) {
  const dir = resolve('.cache', `pets-cnn-${CNN_VERSION}-${o.epochs}ep-${dataKey(trainX)}`);
  if (!o.retrain && existsSync(join(dir, 'model.json'))) {
    log(`classifier (a): loaded from ${dir}`);
    return { model: await tfl.loadLayersModel(fileSystem(dir)), trainSeconds: null as number | null, dir };
  }
  const t0 = Date.now();
  const model = buildCnn();
  const lr = 2e-3;
  const optimizer = tf.train.adam(lr);
  model.compile({ optimizer, loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const y = tf.oneHot(tf.tensor1d(trainY, 'int32'), NUM_CLASSES);
  const rand = seededRandom(7);
  const bar = progressBar('classifier (a) epochs', o.epochs);
  for (let e = 0; e < o.epochs; e++) {
    // Cosine decay; tfjs's Adam reads its learningRate field at every step.
    (optimizer as unknown as { learningRate: number }).learningRate = lr * 0.5 * (1 + Math.cos((Math.PI * e) / o.epochs));
    const xa = augment(trainX, rand);
    const h = await model.fit(xa, y, { epochs: 1, batchSize: 32, shuffle: true, verbose: 0 });
    xa.dispose();
    let note = `loss ${(h.history.loss?.[0] as number).toFixed(3)} acc ${(h.history.acc?.[0] as number).toFixed(3)}`;
    if ((e + 1) % 10 === 0 || e + 1 === o.epochs) note += ` test ${(accuracy(model.predict(testX) as tf.Tensor2D, testY) * 100).toFixed(1)}%`;
    bar.tick(note);
  }
  bar.done();
  y.dispose();
  await model.save(fileSystem(dir));
  return { model, trainSeconds: (Date.now() - t0) / 1000, dir };
}

/** A short fingerprint of a tensor's values (keys the caches to the data they were built from). */
export function dataKey(x: tf.Tensor): string {
  return createHash('sha256').update(new Uint8Array((x.dataSync() as Float32Array).slice().buffer)).digest('hex').slice(0, 10);
}

// ---------------------------------------------------------------- (b) pretrained backbone + head

/** Cache key version of classifier (b). */
const HEAD_VERSION = 'v1';

/** Where (b) taps centernet, the size it runs the backbone at, and the names of the grafted nodes. */
export const BACKBONE = Object.freeze({
  /** Stride-16 block output of MobileNetV3: 12x12x64 at a 192x192 input. */
  node: 'tower_0/MobilenetV3/expanded_conv_9/add',
  size: 192,
  /** centernet expects pixels in 0-255. */
  scale: 255,
});
export const HEAD_NODES = Object.freeze({
  input: 'pets/input',
  /** The head's 3x3 conv + ReLU: 12x12x96, the last spatial map before pooling; PIQ's featureLayer. */
  features: 'pets_head/conv/Relu',
  logits: 'pets_head/logits',
  probabilities: 'pets_head/probabilities',
});

/** The head: dropout, 3x3 conv (96, ReLU), global average pooling, dropout, dense (3). */
function buildHead(featureShape: number[]): tfl.LayersModel {
  return tfl.sequential({
    name: 'pets_head',
    layers: [
      tfl.layers.dropout({ inputShape: featureShape, rate: 0.2, name: 'drop_in' }),
      tfl.layers.conv2d({ filters: 96, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: tfl.initializers.heNormal({ seed: 11 }), name: 'conv' }),
      tfl.layers.globalAveragePooling2d({ name: 'gap' }),
      tfl.layers.dropout({ rate: 0.3, name: 'drop' }),
      tfl.layers.dense({ units: NUM_CLASSES, activation: 'softmax', kernelInitializer: tfl.initializers.glorotUniform({ seed: 12 }), kernelRegularizer: tfl.regularizers.l2({ l2: 1e-3 }), name: 'dense' }),
    ],
  });
}

/** Backbone features `[n, 12, 12, 64]` of photos `[n, 64, 64, 3]` (resized to 192², scaled to 0-255). */
function backboneFeatures(backbone: GraphModel, x: tf.Tensor4D, batch = 16): tf.Tensor4D {
  const parts: tf.Tensor[] = [];
  for (let s = 0; s < x.shape[0]; s += batch) {
    parts.push(
      tf.tidy(() => {
        const b = tf.slice(x, [s, 0, 0, 0], [Math.min(batch, x.shape[0] - s), -1, -1, -1]);
        const big = tf.mul(tf.image.resizeBilinear(b, [BACKBONE.size, BACKBONE.size], false, true), BACKBONE.scale);
        return backbone.execute(big, BACKBONE.node) as tf.Tensor;
      }),
    );
  }
  const out = tf.concat(parts) as tf.Tensor4D;
  tf.dispose(parts);
  return out;
}

/** The trained head's weights: conv kernel [3, 3, 64, 96], conv bias [96], dense kernel [96, 3], dense bias [3]. */
export interface HeadWeights {
  convKernel: Float32Array;
  convBias: Float32Array;
  denseKernel: Float32Array;
  denseBias: Float32Array;
  featureChannels: number;
  convChannels: number;
}

/**
 * Classifier (b): loads the head from .cache/ or trains it on cached backbone features of the training
 * photos and their mirror images (the backbone is frozen, so its features are computed once), then
 * grafts it into the centernet graph. Returns the GraphModel and the head weights.
 */
export async function loadOrTrainPretrained(trainX: tf.Tensor4D, trainY: Int32Array, o: { epochs: number; retrain: boolean }) {
  const { json, weights } = readCenternet();
  const free = freeInputShape(json);
  const key = `${HEAD_VERSION}-${BACKBONE.size}-${BACKBONE.node.replace(/[^a-z0-9]+/gi, '_')}-${o.epochs}ep-${dataKey(trainX)}`;
  const headFile = resolve('.cache', `pets-head-${key}.json`);
  let head: HeadWeights;
  let trainSeconds: number | null = null;
  let trainAccuracy: number | null = null;
  if (!o.retrain && existsSync(headFile)) {
    const j = JSON.parse(readFileSync(headFile, 'utf8'));
    head = { ...j, convKernel: Float32Array.from(j.convKernel), convBias: Float32Array.from(j.convBias), denseKernel: Float32Array.from(j.denseKernel), denseBias: Float32Array.from(j.denseBias) };
    log(`classifier (b): head loaded from ${headFile}`);
  } else {
    const t0 = Date.now();
    const backbone = await loadGraph(free, weights);
    log('classifier (b): computing backbone features of the training photos and their mirror images');
    const flipped = tf.reverse(trainX, 2) as tf.Tensor4D;
    const f = tf.concat([backboneFeatures(backbone, trainX), backboneFeatures(backbone, flipped)]) as tf.Tensor4D;
    flipped.dispose();
    backbone.dispose();
    const y = tf.oneHot(tf.tensor1d(Int32Array.from([...trainY, ...trainY]), 'int32'), NUM_CLASSES);
    const model = buildHead(f.shape.slice(1));
    model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    const bar = progressBar('classifier (b) head epochs', o.epochs);
    await model.fit(f, y, {
      epochs: o.epochs, batchSize: 32, shuffle: true, verbose: 0,
      callbacks: { onEpochEnd: async (_e, logs) => bar.tick(`loss ${(logs?.loss ?? NaN).toFixed(3)} acc ${(logs?.acc ?? NaN).toFixed(3)}`) },
    });
    bar.done();
    trainAccuracy = accuracy(model.predict(f) as tf.Tensor2D, Int32Array.from([...trainY, ...trainY]));
    const w = model.getWeights().map((t) => t.dataSync() as Float32Array);
    head = {
      convKernel: w[0] as Float32Array,
      convBias: w[1] as Float32Array,
      denseKernel: w[2] as Float32Array,
      denseBias: w[3] as Float32Array,
      featureChannels: f.shape[3],
      convChannels: (w[1] as Float32Array).length,
    };
    mkdirSync(resolve('.cache'), { recursive: true });
    writeFileSync(headFile, JSON.stringify({ ...head, convKernel: Array.from(head.convKernel), convBias: Array.from(head.convBias), denseKernel: Array.from(head.denseKernel), denseBias: Array.from(head.denseBias) }));
    tf.dispose([f, y]);
    model.dispose();
    trainSeconds = (Date.now() - t0) / 1000;
  }
  const grafted = graftHead(free, weights, head);
  const graph = await loadGraph(grafted.json, grafted.weights);
  return { graph, head, trainSeconds, trainAccuracy, cacheFile: headFile };
}

/**
 * Grafts the head into centernet's graph: a new input `pets/input` [n, h, w, 3] in [0, 1] (any size), resized
 * (bilinear, half-pixel centres) to 192² and scaled to 0-255, fed into the backbone; after the tapped
 * backbone node the head's Conv2D + BiasAdd + Relu (`pets_head/conv/Relu`, spatial), Mean over
 * height and width, MatMul + BiasAdd (`pets_head/logits`) and Softmax (`pets_head/probabilities`).
 * The original detection head stays in the graph but is never executed for these outputs.
 */
export function graftHead(json: GraphJson, weights: ArrayBuffer, head: HeadWeights): { json: GraphJson; weights: ArrayBuffer } {
  const g = JSON.parse(JSON.stringify(json)) as GraphJson;
  const nodes = g.modelTopology.node;
  const T = { T: { type: 'DT_FLOAT' } };
  const dims = (shape: number[]) => ({ dim: shape.map((s) => ({ size: String(s) })) });
  const consts: Array<{ name: string; shape: number[]; dtype: 'float32' | 'int32'; data: Float32Array | Int32Array }> = [];
  const constNode = (name: string, shape: number[], dtype: 'float32' | 'int32', data: Float32Array | Int32Array): GraphNode => {
    consts.push({ name, shape, dtype, data });
    const tfType = dtype === 'float32' ? 'DT_FLOAT' : 'DT_INT32';
    return { name, op: 'Const', attr: { value: { tensor: { dtype: tfType, tensorShape: dims(shape) } }, dtype: { type: tfType } } };
  };
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const oldInput = nodes.find((n) => n.op === 'Placeholder');
  if (!oldInput) throw new Error('graftHead: the graph has no Placeholder');
  // The new input: photos in [0, 1]; the old placeholder becomes the preprocessed tensor.
  const oldName = oldInput.name;
  oldInput.name = 'pets/preprocessed';
  oldInput.op = 'Mul';
  oldInput.input = ['pets/resized', 'pets/scale'];
  oldInput.attr = T;
  nodes.push(
    { name: HEAD_NODES.input, op: 'Placeholder', attr: { shape: { shape: dims([-1, -1, -1, 3]) }, dtype: { type: 'DT_FLOAT' } } },
    constNode('pets/size', [2], 'int32', Int32Array.from([BACKBONE.size, BACKBONE.size])),
    { name: 'pets/resized', op: 'ResizeBilinear', input: [HEAD_NODES.input, 'pets/size'], attr: { align_corners: { b: false }, half_pixel_centers: { b: true }, ...T } },
    constNode('pets/scale', [], 'float32', Float32Array.from([BACKBONE.scale])),
  );
  for (const n of nodes) n.input = n.input?.map((i) => (i === oldName ? 'pets/preprocessed' : i));
  const F = head.featureChannels;
  const C = head.convChannels;
  nodes.push(
    constNode('pets_head/conv/kernel', [3, 3, F, C], 'float32', head.convKernel),
    constNode('pets_head/conv/bias', [C], 'float32', head.convBias),
    {
      name: 'pets_head/conv/Conv2D', op: 'Conv2D', input: [BACKBONE.node, 'pets_head/conv/kernel'],
      attr: { data_format: { s: b64('NHWC') }, strides: { list: { i: ['1', '1', '1', '1'] } }, padding: { s: b64('SAME') }, dilations: { list: { i: ['1', '1', '1', '1'] } }, ...T },
    },
    { name: 'pets_head/conv/BiasAdd', op: 'BiasAdd', input: ['pets_head/conv/Conv2D', 'pets_head/conv/bias'], attr: { data_format: { s: b64('NHWC') }, ...T } },
    { name: HEAD_NODES.features, op: 'Relu', input: ['pets_head/conv/BiasAdd'], attr: T },
    constNode('pets_head/gap/axes', [2], 'int32', Int32Array.from([1, 2])),
    { name: 'pets_head/gap/Mean', op: 'Mean', input: [HEAD_NODES.features, 'pets_head/gap/axes'], attr: { keep_dims: { b: false }, Tidx: { type: 'DT_INT32' }, ...T } },
    constNode('pets_head/dense/kernel', [C, NUM_CLASSES], 'float32', head.denseKernel),
    constNode('pets_head/dense/bias', [NUM_CLASSES], 'float32', head.denseBias),
    { name: 'pets_head/dense/MatMul', op: 'MatMul', input: ['pets_head/gap/Mean', 'pets_head/dense/kernel'], attr: { transpose_a: { b: false }, transpose_b: { b: false }, ...T } },
    { name: HEAD_NODES.logits, op: 'BiasAdd', input: ['pets_head/dense/MatMul', 'pets_head/dense/bias'], attr: { data_format: { s: b64('NHWC') }, ...T } },
    { name: HEAD_NODES.probabilities, op: 'Softmax', input: [HEAD_NODES.logits], attr: T },
  );
  // Weights: the original buffer, then the new constants as float32 / int32 in manifest order.
  const extra = consts.reduce((n, c) => n + c.data.length * 4, 0);
  const buf = new Uint8Array(weights.byteLength + extra);
  buf.set(new Uint8Array(weights), 0);
  let off = weights.byteLength;
  for (const c of consts) {
    buf.set(new Uint8Array(c.data.buffer, c.data.byteOffset, c.data.byteLength), off);
    off += c.data.byteLength;
  }
  const manifest = g.weightsManifest[0];
  if (!manifest) throw new Error('graftHead: the graph has no weights manifest');
  manifest.weights.push(...consts.map((c) => ({ name: c.name, shape: c.shape, dtype: c.dtype })));
  return { json: g, weights: buf.buffer };
}

/**
 * A ClassifierAdapter over the grafted GraphModel that also has a `head` (features → logits), which
 * Grad-CAM needs. Built by feeding the tapped node directly: GraphModel.execute accepts a tensor for
 * any node and runs only the graph after it. (piq-tfjs's own GraphModel adapter has no `head`.)
 */
export function graphAdapterWithHead(graph: GraphModel): ClassifierAdapter {
  const head = (f: tf.Tensor4D) => graph.execute({ [HEAD_NODES.features]: f }, HEAD_NODES.logits) as tf.Tensor2D;
  const run = (x: tf.Tensor) => {
    const [features, logits] = graph.execute(x, [HEAD_NODES.features, HEAD_NODES.logits]) as [tf.Tensor4D, tf.Tensor2D];
    return { features, logits };
  };
  const probe = tf.tidy(() => run(tf.zeros([1, 64, 64, 3])).features.shape.slice(1));
  return {
    inputShape: [64, 64, 3],
    featureShape: probe as [number, number, number],
    numClasses: NUM_CLASSES,
    featureLayer: HEAD_NODES.features,
    run: (x) => tf.tidy(() => run(x)),
    logits: (x) => tf.tidy(() => graph.execute(x, HEAD_NODES.logits) as tf.Tensor2D),
    head: (f) => tf.tidy(() => head(f)),
  };
}
