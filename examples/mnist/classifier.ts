// The MNIST demo's classifier (a small CNN with a 7x7x64 tap named 'features'), trained on the
// first `samples` training digits or loaded from .cache/mnist-classifier-v<version>-<samples>-<epochs>/.
// Shared by `npm run demo` and `npm run bench:quality`.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { fileSystem } from 'piq-tfjs/node';
import type { MnistSplit } from './mnist-data';
import { log, progressBar } from '../shared/cli';
import { buildClassifier } from './model';

// The model itself is browser-safe (no Node import), in ./model.ts.
export { buildClassifier, MNIST_INTERPRETER_SETTINGS } from './model';

export interface MnistClassifierOptions {
  /** Training digits (the first `samples` of `train`). */
  samples: number;
  epochs: number;
  /** Ignore the cache and train again (the new model overwrites the cache). */
  retrain?: boolean;
}

/** Bump when buildClassifier's architecture or training changes, so stale caches are not reused. */
export const CLASSIFIER_VERSION = 2;

/** Where a classifier trained with these settings is cached. */
export function classifierCacheDir(samples: number, epochs: number): string {
  return resolve('.cache', `mnist-classifier-v${CLASSIFIER_VERSION}-${samples}-${epochs}`);
}

/** Loads the cached classifier, or trains it on `train` (Adam 2e-3, batch 64) and caches it. */
export async function loadOrTrainClassifier(train: MnistSplit, opts: MnistClassifierOptions): Promise<tfl.LayersModel> {
  const { samples, epochs } = opts;
  const cacheDir = classifierCacheDir(samples, epochs);
  if (!opts.retrain && existsSync(join(cacheDir, 'model.json'))) {
    const classifier = await tfl.loadLayersModel(fileSystem(cacheDir));
    log(`classifier: loaded from ${cacheDir}`);
    return classifier;
  }
  const classifier = buildClassifier();
  const xs = tf.tensor4d(train.images.subarray(0, samples * 784), [samples, 28, 28, 1]);
  const ys = tf.oneHot(tf.tensor1d(train.labels.subarray(0, samples), 'int32'), 10);
  classifier.compile({ optimizer: tf.train.adam(2e-3), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const batches = Math.ceil(samples / 64);
  for (let e = 0; e < epochs; e++) {
    const bar = progressBar(`classifier epoch ${e + 1}/${epochs}`, batches);
    await classifier.fit(xs, ys, {
      epochs: 1, batchSize: 64, shuffle: true, verbose: 0,
      callbacks: { onBatchEnd: async (_b, logs) => bar.tick(`loss ${(logs?.loss ?? NaN).toFixed(3)}`) },
    });
    bar.done();
  }
  xs.dispose();
  ys.dispose();
  await classifier.save(fileSystem(cacheDir));
  return classifier;
}

/** Training sizes of `npm run demo` (and `npm run bench:quality`, which scores the demo's interpreter). */
export const MNIST_RUN_DEFAULTS = {
  full: { samples: 30000, epochs: 5, learningRate: 2e-3, classifierSamples: 20000, classifierEpochs: 2, test: 2000 },
  quick: { samples: 3000, epochs: 2, learningRate: 3e-3, classifierSamples: 3000, classifierEpochs: 2, test: 300 },
} as const;

/** Pairs (i, j) of test digits of different classes, deterministic: the overlap test's mixtures. */
export function overlapPairs(labels: Int32Array, count: number): Array<[number, number]> {
  const pairs: Array<[number, number]> = [];
  for (let i = 0; pairs.length < count && i + 1 < labels.length; i += 2) {
    let j = i + 1;
    while (j < labels.length && labels[j] === labels[i]) j++;
    if (j < labels.length) pairs.push([i, j]);
  }
  return pairs;
}
