// Settings shared by the pets example's run (main.ts) and its report (report.ts), and the photos
// every method is scored on.
import type * as tf from '@tensorflow/tfjs-core';
import type { BoxAnnotator } from './annotator';
import type { PetsData } from './dataset';
import type { Truth } from './scoring';

export const SIZE = 64;
export const SCALE = 2;
/** Interpreter settings shared by all modes (see README for what was tried). */
export const PIQ_SETTINGS = { quantizer: { init: 'data' as const, layout: { codesPerClass: 64 } }, seed: 1 };
export const FIT = { batchSize: 32, learningRate: 2e-3 };
export const BASELINES = [
  ['saliency', {}],
  ['smoothGrad', { samples: 10 }],
  ['integratedGradients', { steps: 12 }],
  ['gradCam', {}],
  ['occlusion', { window: 16, stride: 8 }],
] as const;

/** The photos every method is scored on, and what goes with them. */
export interface Bench {
  data: PetsData;
  trainX: tf.Tensor4D;
  trainY: Int32Array;
  testIdx: number[];
  testX: tf.Tensor4D;
  testY: Int32Array;
  testPixels: Float32Array;
  truth: Truth;
  pairs: Array<[number, number]>;
  mixX: tf.Tensor4D;
  mixPixels: Float32Array;
  annotator: BoxAnnotator | null;
}

