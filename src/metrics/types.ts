import type * as tf from '@tensorflow/tfjs-core';
import { optionKeys } from '../internal/checks';

/**
 * One metric's score per example plus their mean, as plain data.
 * @category Metrics
 */
export interface MetricResult {
  /** The score of each example, in input order. */
  values: Float32Array;
  /** The mean over examples (computed in double precision). */
  mean: number;
}

/**
 * Options shared by the metrics that run the classifier.
 * @category Metrics
 */
export interface MetricOptions {
  /**
   * Class to score per example (`[batch]` integer indices in `[0, numClasses)`).
   * @defaultValue the class the classifier predicts on the unmasked input
   */
  target?: readonly number[] | Int32Array | tf.Tensor1D;
  /**
   * Examples per forward pass: bounds memory on large batches.
   * @defaultValue 32
   */
  batchSize?: number;
}

/** The keys of {@link MetricOptions}. */
export const METRIC_KEYS = optionKeys<MetricOptions>({ target: true, batchSize: true });

/**
 * Defaults of {@link MetricOptions}.
 */
export const DEFAULT_METRIC_OPTIONS: Readonly<{ batchSize: number }> = Object.freeze({ batchSize: 32 });

/**
 * Names accepted by {@link evaluateInterpretations}.
 * @category Metrics
 */
export type MetricName =
  | 'averageIncrease'
  | 'averageDrop'
  | 'averageGain'
  | 'faithfulness'
  | 'maskInFaithfulness'
  | 'inputFidelity'
  | 'sparseness'
  | 'complexity'
  | 'deletionAuc'
  | 'insertionAuc'
  | 'pointingGame'
  | 'maskIoU';

/**
 * The seven metrics of the L-MAC paper's evaluation (arXiv 2403.13086; SpeechBrain
 * `interpreter_brain.py`), in its order: what evaluateInterpretations computes by default. None of
 * them is from the PIQ paper; see docs/evaluating-interpretations.md for each one's origin.
 */
export const PAPER_METRICS = Object.freeze([
  'averageIncrease',
  'averageDrop',
  'averageGain',
  'faithfulness',
  'inputFidelity',
  'sparseness',
  'complexity',
] as const satisfies readonly MetricName[]);

/**
 * Every metric name {@link evaluateInterpretations} knows, in a stable order.
 * @category Metrics
 */
export const METRIC_NAMES: readonly MetricName[] = Object.freeze([...PAPER_METRICS, 'maskInFaithfulness', 'deletionAuc', 'insertionAuc', 'pointingGame', 'maskIoU'] as const);
