import * as tf from '@tensorflow/tfjs-core';
import { checkReferenceInput } from '../classifier/input-check';
import type { ScoringClassifier } from '../classifier/classifier-adapter';
import { finiteNumber, optionKeys, positiveInt } from '../internal/checks';
import { argmaxRow, prepareContext, type MetricContext } from './context';
import type { MetricOptions } from './types';

/**
 * Options of {@link deletionCurve} and {@link insertionCurve}.
 * @category Metrics
 */
export interface CurveOptions extends MetricOptions {
  /**
   * Number of steps: the curve has `steps + 1` points at fractions `0, 1/steps, …, 1`.
   * @defaultValue 20
   */
  steps?: number;
  /**
   * What removed (deletion) or not-yet-inserted (insertion) input elements are set to: a number,
   * or a tensor of shape `[...inputShape]` or `[batch, ...inputShape]` (e.g. a blurred copy).
   * @defaultValue 0
   */
  baseline?: number | tf.Tensor;
}

const CURVE_KEYS = optionKeys<CurveOptions>({ target: true, batchSize: true, steps: true, baseline: true });

/** The keys of {@link EvaluationOptions.curve}. */
export const CURVE_SETTING_KEYS = optionKeys<Pick<CurveOptions, 'steps' | 'baseline'>>({ steps: true, baseline: true });

/**
 * Defaults of {@link CurveOptions}.
 */
export const DEFAULT_CURVE_OPTIONS: Readonly<{ steps: number; baseline: number; batchSize: number }> = Object.freeze({
  steps: 20,
  baseline: 0,
  batchSize: 32,
});

/**
 * A deletion or insertion curve per example, with its area under the curve.
 * @category Metrics
 */
export interface CurveResult {
  /** Fractions of input units removed (deletion) or inserted (insertion): `k / steps`, `k = 0..steps`. */
  fractions: Float32Array;
  /** Per example, `p_c` at each fraction (`steps + 1` values). */
  scores: Float32Array[];
  /** Per example, the trapezoid area under its curve over fractions in [0, 1]. */
  auc: Float32Array;
  /** The mean of `auc` (double precision). */
  meanAuc: number;
}

/** Resolved curve settings. */
export interface CurveConfig {
  steps: number;
  baseline: number | tf.Tensor;
}

export function resolveCurveConfig(owner: string, options: CurveOptions | undefined, inputs: tf.Tensor): CurveConfig {
  const steps = positiveInt(owner, 'steps', options?.steps ?? DEFAULT_CURVE_OPTIONS.steps);
  const rawBaseline = options?.baseline ?? DEFAULT_CURVE_OPTIONS.baseline;
  if (typeof rawBaseline === 'number') {
    return { steps, baseline: finiteNumber(owner, 'baseline', rawBaseline) };
  }
  return { steps, baseline: checkReferenceInput(owner, 'baseline', rawBaseline, inputs) };
}

/** Trapezoid area under `scores` over `fractions`. */
export function trapezoidAuc(fractions: ArrayLike<number>, scores: ArrayLike<number>): number {
  let area = 0;
  for (let k = 0; k + 1 < fractions.length; k++) {
    area += (((scores[k] as number) + (scores[k + 1] as number)) / 2) * ((fractions[k + 1] as number) - (fractions[k] as number));
  }
  return area;
}

/**
 * Rank (0 = most important) of each of `units` values in every row, by value descending,
 * ties broken by position (earlier first).
 */
function ranksDescending(data: Float32Array, rows: number, units: number): Int32Array {
  const ranks = new Int32Array(rows * units);
  const order = new Int32Array(units);
  for (let r = 0; r < rows; r++) {
    const row = data.subarray(r * units, (r + 1) * units);
    for (let j = 0; j < units; j++) order[j] = j;
    order.sort((a, b) => (row[b] as number) - (row[a] as number) || a - b);
    for (let pos = 0; pos < units; pos++) ranks[r * units + (order[pos] as number)] = pos;
  }
  return ranks;
}

/** Computes deletion or insertion curves on validated arguments. */
export async function runCurve(ctx: MetricContext, mode: 'deletion' | 'insertion', config: CurveConfig): Promise<CurveResult> {
  const { steps } = config;
  const n = ctx.count;
  const k = ctx.numClasses;
  const fractions = Float32Array.from({ length: steps + 1 }, (_, i) => i / steps);
  const scores: Float32Array[] = [];
  const auc = new Float32Array(n);
  const inputShape = ctx.inputs.shape;
  const units = ctx.layout === 'spatial' ? (inputShape[1] as number) * (inputShape[2] as number) : ctx.inputs.size / n;

  for (let start = 0; start < n; start += ctx.batchSize) {
    const size = Math.min(ctx.batchSize, n - start);
    const chunkShape = [size, ...inputShape.slice(1)];
    const maskShape = ctx.layout === 'spatial' ? [size, inputShape[1] as number, inputShape[2] as number, 1] : chunkShape;

    // Scored class per example, from the unperturbed input.
    const probsX = tf.tidy(() => tf.softmax(ctx.classifier.logits(tf.slice(ctx.inputs, start, size))));
    const maskChunk = tf.slice(ctx.masks, start, size);
    let px: Float32Array;
    let maskData: Float32Array;
    try {
      [px, maskData] = (await Promise.all([probsX.data(), maskChunk.data()])) as [Float32Array, Float32Array];
    } finally {
      probsX.dispose();
      maskChunk.dispose();
    }
    const classes = Int32Array.from({ length: size }, (_, r) =>
      ctx.targets !== undefined ? (ctx.targets[start + r] as number) : argmaxRow(px, r * k, k),
    );
    const chunkScores = Array.from({ length: size }, () => new Float32Array(steps + 1));

    const rankTensor = tf.tensor2d(ranksDescending(maskData, size, units), [size, units], 'int32');
    try {
      for (let step = 0; step <= steps; step++) {
        const count = Math.round((step * units) / steps);
        const probs = tf.tidy(() => {
          const x = tf.slice(ctx.inputs, start, size);
          const base =
            typeof config.baseline === 'number'
              ? tf.scalar(config.baseline)
              : config.baseline.rank === ctx.inputs.rank
                ? tf.slice(config.baseline, start, size)
                : config.baseline;
          // 1 on the `count` highest-ranked units, 0 elsewhere.
          const top = tf.reshape(tf.cast(tf.less(rankTensor, tf.scalar(count, 'int32')), 'float32'), maskShape);
          const rest = tf.sub(1, top);
          const perturbed = mode === 'deletion' ? tf.add(tf.mul(x, rest), tf.mul(base, top)) : tf.add(tf.mul(base, rest), tf.mul(x, top));
          return tf.softmax(ctx.classifier.logits(perturbed));
        });
        let p: Float32Array;
        try {
          p = (await probs.data()) as Float32Array;
        } finally {
          probs.dispose();
        }
        for (let r = 0; r < size; r++) {
          (chunkScores[r] as Float32Array)[step] = p[r * k + (classes[r] as number)] as number;
        }
      }
    } finally {
      rankTensor.dispose();
    }
    for (let r = 0; r < size; r++) {
      const s = chunkScores[r] as Float32Array;
      scores.push(s);
      auc[start + r] = trapezoidAuc(fractions, s);
    }
  }
  let sum = 0;
  for (let i = 0; i < n; i++) sum += auc[i] as number;
  return { fractions, scores, auc, meanAuc: sum / n };
}

/**
 * Deletion curve (Petsiuk et al. 2018, RISE): removes input units most-relevant-first (MoRF, by
 * mask value descending) in `steps` equal steps and records the class probability `p_c` after
 * each; the area under the curve is lower for better masks.
 *
 * At fraction `k/steps` the `round(k · n / steps)` highest-ranked units are replaced by
 * `baseline`. Units are pixels (all channels at once) for spatial masks `[batch, height, width]`
 * and single elements for full-shape masks; ties are broken by position. Only the ordering of
 * mask values matters, so any finite masks are accepted.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { deletionCurve } from 'piq-tfjs';
 * // logits = [4·x0 + x1, 0]: x0 matters most
 * const classifier = (x: tf.Tensor) => tf.concat([tf.matMul(x, tf.tensor2d([[4], [1]])), tf.zeros([x.shape[0], 1])], 1);
 * const r = await deletionCurve(classifier, tf.tensor2d([[1, 1]]), tf.tensor2d([[1, 0]]), { steps: 2 });
 * console.log(Array.from(r.scores[0]!).map((s) => s.toFixed(3))); // ['0.993', '0.731', '0.500']
 * console.log(r.meanAuc.toFixed(3)); // '0.739'
 * ```
 * @category Metrics
 */
export async function deletionCurve(
  classifier: ScoringClassifier,
  inputs: tf.Tensor,
  masks: tf.Tensor,
  options?: CurveOptions,
): Promise<CurveResult> {
  return curve('deletionCurve', 'deletion', classifier, inputs, masks, options);
}

/**
 * Insertion curve (Petsiuk et al. 2018, RISE): starts from `baseline` and inserts the input units
 * most-relevant-first (by mask value descending) in `steps` equal steps, recording the class
 * probability `p_c` after each; the area under the curve is higher for better masks.
 *
 * The class c is predicted on the unperturbed input (or given by `target`). See
 * {@link deletionCurve} for units, ties and the step schedule.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { insertionCurve } from 'piq-tfjs';
 * const classifier = (x: tf.Tensor) => tf.concat([tf.matMul(x, tf.tensor2d([[4], [1]])), tf.zeros([x.shape[0], 1])], 1);
 * const r = await insertionCurve(classifier, tf.tensor2d([[1, 1]]), tf.tensor2d([[1, 0]]), { steps: 2 });
 * console.log(Array.from(r.scores[0]!).map((s) => s.toFixed(3))); // ['0.500', '0.982', '0.993']
 * ```
 * @category Metrics
 */
export async function insertionCurve(
  classifier: ScoringClassifier,
  inputs: tf.Tensor,
  masks: tf.Tensor,
  options?: CurveOptions,
): Promise<CurveResult> {
  return curve('insertionCurve', 'insertion', classifier, inputs, masks, options);
}

/** One curve metric, validated at its public boundary. */
async function curve(
  owner: string,
  mode: 'deletion' | 'insertion',
  classifier: ScoringClassifier,
  inputs: tf.Tensor,
  masks: tf.Tensor,
  options: CurveOptions | undefined,
): Promise<CurveResult> {
  const ctx = prepareContext(owner, classifier, inputs, masks, options, false, CURVE_KEYS);
  return runCurve(ctx, mode, resolveCurveConfig(owner, options, ctx.inputs));
}
