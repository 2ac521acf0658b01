// The audio examples' spectrogram classifier: a small CNN whose last conv layer, 'features', is
// PIQ's tap. Shared by `npm run example:audio` and `npm run bench:audio`.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { fileSystem } from 'piq-tfjs/node';
import { log, progressBar } from '../shared/cli';

/** conv(8) → pool → conv(16) → pool → conv(32, 'features') → pool → flatten → dropout → dense (softmax). */
export function buildClassifier(inputShape: [number, number, number], numClasses: number, seed: number): tfl.LayersModel {
  const init = (s: number) => tfl.initializers.glorotUniform({ seed: seed * 100 + s });
  const conv = (filters: number, name: string, s: number, first = false) =>
    tfl.layers.conv2d({
      ...(first ? { inputShape } : {}),
      filters,
      kernelSize: 3,
      padding: 'same',
      activation: 'relu',
      kernelInitializer: init(s),
      name,
    });
  return tfl.sequential({
    layers: [
      conv(8, 'conv1', 1, true),
      tfl.layers.maxPooling2d({ poolSize: 2, name: 'pool1' }),
      conv(16, 'conv2', 2),
      tfl.layers.maxPooling2d({ poolSize: 2, name: 'pool2' }),
      conv(32, 'features', 3),
      tfl.layers.maxPooling2d({ poolSize: 2, name: 'pool3' }),
      tfl.layers.flatten({ name: 'flatten' }),
      tfl.layers.dropout({ rate: 0.3, seed, name: 'dropout' }),
      tfl.layers.dense({ units: numClasses, activation: 'softmax', kernelInitializer: init(4), name: 'probs' }),
    ],
  });
}

/** Trains `classifier` in place: Adam 1e-3, batch 32, categorical cross-entropy, one progress bar per epoch. */
export async function trainClassifier(classifier: tfl.LayersModel, xs: tf.Tensor4D, labels: Int32Array, numClasses: number, epochs: number): Promise<void> {
  const ys = tf.tidy(() => tf.oneHot(tf.tensor1d(labels, 'int32'), numClasses));
  classifier.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const batches = Math.ceil(labels.length / 32);
  for (let e = 0; e < epochs; e++) {
    const bar = progressBar(`classifier epoch ${e + 1}/${epochs}`, batches);
    let acc = NaN;
    await classifier.fit(xs, ys, {
      epochs: 1,
      batchSize: 32,
      shuffle: true,
      verbose: 0,
      callbacks: {
        onBatchEnd: async (_b, l) => {
          acc = (l?.acc as number | undefined) ?? acc;
          bar.tick(`loss ${(l?.loss ?? NaN).toFixed(3)}`);
        },
      },
    });
    bar.done(`train acc (last batch) ${(acc * 100).toFixed(0)}%`);
  }
  ys.dispose();
}

/**
 * A classifier trained on (xs, labels), cached in `cacheRoot/<name>-<hash>` where the hash covers the
 * training spectrograms, labels, epochs and seed: changed data never reuses a stale model.
 */
export async function loadOrTrainClassifier(
  cacheRoot: string,
  name: string,
  xs: tf.Tensor4D,
  labels: Int32Array,
  o: { numClasses: number; epochs: number; seed: number; retrain?: boolean },
): Promise<{ classifier: tfl.LayersModel; dir: string; trained: boolean }> {
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ shape: xs.shape, epochs: o.epochs, seed: o.seed, numClasses: o.numClasses, version: 1 }));
  hash.update(new Uint8Array((xs.dataSync() as Float32Array).slice().buffer));
  hash.update(new Uint8Array(labels.slice().buffer));
  const dir = join(cacheRoot, `${name}-classifier-${hash.digest('hex').slice(0, 12)}`);
  if (!o.retrain && existsSync(join(dir, 'model.json'))) {
    log(`classifier: loaded from ${dir}`);
    return { classifier: await tfl.loadLayersModel(fileSystem(dir)), dir, trained: false };
  }
  const [, h, w, c] = xs.shape;
  const classifier = buildClassifier([h, w, c], o.numClasses, o.seed);
  await trainClassifier(classifier, xs, labels, o.numClasses, o.epochs);
  await classifier.save(fileSystem(dir));
  log(`classifier: trained, cached in ${dir}`);
  return { classifier, dir, trained: true };
}

/** At most `max` items, evenly spaced (so every label and speaker stays represented). */
export function subsample<T>(items: readonly T[], max: number): T[] {
  if (items.length <= max) return [...items];
  return Array.from({ length: max }, (_, k) => items[Math.floor((k * items.length) / max)] as T);
}
