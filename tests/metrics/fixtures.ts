// Tiny classifiers with answers known by hand, shared by the metrics and baselines tests.
import * as tf from '@tensorflow/tfjs-core';
import type { ClassifierAdapter } from '../../src/classifier/types';

/** Weights `[class][pixel]` and biases of a linear classifier on flattened 2x2x1 images. */
export const W = [
  [1, 2, -1, 0.5],
  [0, -1, 1, 1],
];
export const B = [0.1, -0.2];

/** logits = W · flatten(x) + b, for x `[batch, 2, 2, 1]`. */
export function linear2x2(x: tf.Tensor): tf.Tensor {
  const wt = tf.tensor2d([0, 1, 2, 3].flatMap((i) => W.map((row) => row[i] as number)), [4, 2]);
  return tf.add(tf.matMul(tf.reshape(x, [-1, 4]), wt), tf.tensor1d(B));
}

/** The same classifier, computed in plain JS on one flattened example. */
export function linearLogitsJs(x: readonly number[]): number[] {
  return W.map((w, k) => w.reduce((s, wi, i) => s + wi * (x[i] as number), B[k] as number));
}

export function softmaxJs(logits: readonly number[]): number[] {
  const m = Math.max(...logits);
  const e = logits.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

export function argmaxJs(v: readonly number[]): number {
  return v.reduce((best, x, i) => (x > (v[best] as number) ? i : best), 0);
}

export const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

/**
 * The linear classifier as a hand-built ClassifierAdapter: features are the image itself
 * (`[batch, 2, 2, 1]`), head = the linear layer.
 */
export function linearAdapter(): ClassifierAdapter {
  const head = (f: tf.Tensor4D) => linear2x2(f) as tf.Tensor2D;
  return {
    inputShape: [2, 2, 1],
    featureShape: [2, 2, 1],
    numClasses: 2,
    run: (x) => ({ features: tf.clone(x) as tf.Tensor4D, logits: head(x as tf.Tensor4D) }),
    logits: (x) => head(x as tf.Tensor4D),
    head,
  };
}

/** Example inputs (flattened 2x2x1) and masks for the linear classifier. */
export const XS = [
  [1, 0.5, -1, 2],
  [-1, 1, 0.5, 0.5],
  [0.5, -1, 0, 1],
];
export const MS = [
  [1, 0, 0.5, 0],
  [0, 1, 1, 0.25],
  [1, 0, 0, 0],
];
