import type * as tf from '@tensorflow/tfjs-core';
import { PiqConfigError } from '../errors';
import { describe, finiteNumber, oneOf, optionKeys, optionsObject } from '../internal/checks';
import type { ScoringClassifier } from '../classifier/classifier-adapter';
import { perExample, perturbationScores, prepareContext, toResult } from './context';
import { CURVE_SETTING_KEYS, resolveCurveConfig, runCurve, type CurveOptions } from './curves';
import { maskIoU, pointingGame } from './localization';
import { complexity, sparseness } from './mask-statistics';
import { assertUnitRange } from './masks';
import { METRIC_NAMES, PAPER_METRICS, type MetricName, type MetricOptions, type MetricResult } from './types';

/**
 * Options of {@link evaluateInterpretations}.
 * @category Metrics
 */
export interface EvaluationOptions extends MetricOptions {
  /**
   * Which metrics to compute (any of {@link METRIC_NAMES}).
   * @defaultValue the seven metrics of the L-MAC paper's evaluation: `['averageIncrease', 'averageDrop',
   * 'averageGain', 'faithfulness', 'inputFidelity', 'sparseness', 'complexity']`
   */
  metrics?: readonly MetricName[];
  /**
   * Steps and baseline of the deletion / insertion curves (used by `'deletionAuc'`, `'insertionAuc'`).
   * @defaultValue `{ steps: 20, baseline: 0 }`
   */
  curve?: Pick<CurveOptions, 'steps' | 'baseline'>;
  /**
   * Ground-truth regions `[batch, height, width]` in [0, 1]; required by `'pointingGame'` and `'maskIoU'`.
   * @defaultValue undefined
   */
  groundTruth?: tf.Tensor;
  /**
   * Threshold of `'maskIoU'` (see {@link maskIoU}).
   * @defaultValue 0.5
   */
  iouThreshold?: number;
}

const EVALUATION_KEYS = optionKeys<EvaluationOptions>({ target: true, batchSize: true, metrics: true, curve: true, groundTruth: true, iouThreshold: true });

/**
 * Defaults of {@link EvaluationOptions}.
 */
export const DEFAULT_EVALUATION_OPTIONS: Readonly<{ metrics: readonly MetricName[]; batchSize: number; iouThreshold: number }> =
  Object.freeze({
    metrics: PAPER_METRICS,
    batchSize: 32,
    iouThreshold: 0.5,
  });

/**
 * What {@link evaluateInterpretations} returns: per-example values and means of each requested
 * metric, as plain data.
 * @category Metrics
 */
export interface EvaluationResult {
  /** Number of examples. */
  count: number;
  /** The class c scored for each example (predicted on the unmasked input, or the given target). */
  target: Int32Array;
  /** One entry per requested metric. */
  metrics: { [K in MetricName]?: MetricResult };
}

const OWNER = 'evaluateInterpretations';
const PERTURBATION: readonly MetricName[] = ['averageIncrease', 'averageDrop', 'averageGain', 'faithfulness', 'maskInFaithfulness', 'inputFidelity'];

function resolveMetricNames(value: unknown): MetricName[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new PiqConfigError(
      `${OWNER}: 'metrics' must be a non-empty array of metric names (${METRIC_NAMES.join(', ')}), got ${describe(value)}.`,
    );
  }
  return [...new Set(value.map((name) => oneOf(OWNER, 'metrics', name, METRIC_NAMES)))];
}

/**
 * Scores interpretation masks with several faithfulness metrics at once, sharing the forward
 * passes (one pass over x, M ⊙ x and (1 − M) ⊙ x serves AI, AD, AG, FF and Fid-In).
 *
 * `inputs` are `[batch, ...inputShape]`; `masks` are `[batch, height, width]`,
 * `[batch, height, width, 1]` (broadcast over channels) or the inputs' shape, in [0, 1] when a
 * mask-in / mask-out metric is requested. Work is chunked by `batchSize` examples. See
 * docs/evaluating-interpretations.md for each formula and its direction.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { evaluateInterpretations } from 'piq-tfjs';
 * const classifier = (x: tf.Tensor) => tf.concat([tf.sum(x, 1, true), tf.zeros([x.shape[0], 1])], 1);
 * const r = await evaluateInterpretations(classifier, tf.tensor2d([[2, -1]]), tf.tensor2d([[1, 0]]), {
 *   metrics: ['averageIncrease', 'inputFidelity', 'sparseness'],
 * });
 * console.log(r.metrics.averageIncrease?.mean, r.metrics.inputFidelity?.mean, r.metrics.sparseness?.mean); // 100 1 0.5
 * ```
 * @category Metrics
 */
export async function evaluateInterpretations(
  classifier: ScoringClassifier,
  inputs: tf.Tensor,
  masks: tf.Tensor,
  options?: EvaluationOptions,
): Promise<EvaluationResult> {
  const names = resolveMetricNames(options?.metrics ?? DEFAULT_EVALUATION_OPTIONS.metrics);
  const ctx = prepareContext(OWNER, classifier, inputs, masks, options, false, EVALUATION_KEYS);
  optionsObject(OWNER, options?.curve, CURVE_SETTING_KEYS, 'curve');
  const wants = (n: MetricName) => names.includes(n);
  if (names.some((n) => PERTURBATION.includes(n))) assertUnitRange(OWNER, 'masks', ctx.masks);
  const needsTruth = names.filter((n) => n === 'pointingGame' || n === 'maskIoU');
  if (needsTruth.length > 0 && options?.groundTruth === undefined) {
    throw new PiqConfigError(
      `${OWNER}: 'groundTruth' must be given for ${needsTruth.map((n) => `'${n}'`).join(' and ')}, got undefined. ` +
        'Pass groundTruth: [batch, height, width] regions or drop those metrics.',
    );
  }
  const iouThreshold = finiteNumber(OWNER, 'iouThreshold', options?.iouThreshold ?? DEFAULT_EVALUATION_OPTIONS.iouThreshold);
  const curveConfig =
    wants('deletionAuc') || wants('insertionAuc') ? resolveCurveConfig(OWNER, options?.curve, ctx.inputs) : undefined;
  // Localisation metrics validate their own arguments; run them before any classifier pass.
  const results: { [K in MetricName]?: MetricResult } = {};
  if (wants('pointingGame')) results.pointingGame = pointingGame(ctx.masks, options?.groundTruth as tf.Tensor);
  if (wants('maskIoU')) {
    results.maskIoU = maskIoU(ctx.masks, options?.groundTruth as tf.Tensor, { threshold: iouThreshold });
  }
  if (wants('sparseness')) results.sparseness = sparseness(ctx.masks);
  if (wants('complexity')) results.complexity = complexity(ctx.masks);

  const scores = await perturbationScores(ctx, {
    maskIn: names.some((n) => n !== 'faithfulness' && PERTURBATION.includes(n)),
    maskOut: wants('faithfulness'),
  });
  for (const name of PERTURBATION) {
    if (wants(name)) results[name] = toResult(perExample[name as keyof typeof perExample](scores));
  }
  if (curveConfig !== undefined) {
    for (const [name, mode] of [
      ['deletionAuc', 'deletion'],
      ['insertionAuc', 'insertion'],
    ] as const) {
      if (wants(name)) {
        const curve = await runCurve(ctx, mode, curveConfig);
        results[name] = { values: curve.auc, mean: curve.meanAuc };
      }
    }
  }
  // Report metrics in the order they were requested.
  const metrics: { [K in MetricName]?: MetricResult } = {};
  for (const n of names) metrics[n] = results[n];
  return { count: ctx.count, target: scores.target, metrics };
}
