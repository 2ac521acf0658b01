import * as tf from '@tensorflow/tfjs-core';
import { checkReferenceInput } from '../classifier/input-check';
import { prepareScoring, toLogitsAdapter } from '../classifier/scoring';
import type { ScoringClassifier } from '../classifier/classifier-adapter';
import type { LogitsAdapter } from '../classifier/types';
import { finiteNumber, optionKeys, optionsObject, positiveInt } from '../internal/checks';
import { floatTensor } from '../internal/tensor-checks';
import type { ClassifierInput } from '../classifier/image-input';
import { explainInChunks, explainWith, normalizeMaps, readExplanation, reduceChannels, targetGradient, targetOneHot } from './common';
import { DEFAULT_EXPLAIN_OPTIONS, type AttributionMethod, type ExplainOptions, type ExplainResult } from './types';

/**
 * Options of {@link IntegratedGradients} and {@link integratedGradients}.
 * @category Baselines
 */
export interface IntegratedGradientsOptions {
  /**
   * The reference input x′ the path starts from: a number, or a tensor of shape
   * `[...inputShape]` or `[batch, ...inputShape]`.
   * @defaultValue 0
   */
  baseline?: number | tf.Tensor;
  /**
   * Intervals of the straight path from x′ to x (the gradient is evaluated at `steps + 1` points).
   * @defaultValue 50
   */
  steps?: number;
}

const IG_KEYS = optionKeys<IntegratedGradientsOptions>({ baseline: true, steps: true });
const IG_FUNCTION_KEYS = optionKeys<IntegratedGradientsOptions & Omit<ExplainOptions, 'inputRange'>>({ baseline: true, steps: true, target: true, batchSize: true });

/**
 * Defaults of {@link IntegratedGradientsOptions}.
 */
export const DEFAULT_INTEGRATED_GRADIENTS_OPTIONS: Readonly<{ baseline: number; steps: number }> = Object.freeze({
  baseline: 0,
  steps: 50,
});

interface IgConfig {
  baseline: number | tf.Tensor;
  steps: number;
}

function resolveIgConfig(owner: string, options: IntegratedGradientsOptions | undefined, keys: readonly string[] = IG_KEYS): IgConfig {
  optionsObject(owner, options, keys);
  const steps = positiveInt(owner, 'steps', options?.steps ?? DEFAULT_INTEGRATED_GRADIENTS_OPTIONS.steps);
  const baseline = options?.baseline ?? DEFAULT_INTEGRATED_GRADIENTS_OPTIONS.baseline;
  if (typeof baseline === 'number') return { steps, baseline: finiteNumber(owner, 'baseline', baseline) };
  return { steps, baseline: floatTensor(owner, 'baseline', baseline) };
}

function checkBaseline(owner: string, baseline: number | tf.Tensor, inputs: tf.Tensor): void {
  // A tensor baseline may have been disposed since construction: checked again at each call.
  if (typeof baseline !== 'number') checkReferenceInput(owner, 'baseline', baseline, inputs);
}

/**
 * Integrated-gradients attributions of one chunk: `(x − x′) ⊙ Σ_k w_k ∇f_c(x′ + α_k (x − x′))`
 * with `α_k = k / steps` and trapezoid weights `w_k = 1/steps` (halved at both ends).
 */
function igChunk(
  logits: (x: tf.Tensor) => tf.Tensor2D,
  x: tf.Tensor,
  oneHot: tf.Tensor2D,
  baseline: number | tf.Tensor,
  rank: number,
  start: number,
  steps: number,
): tf.Tensor {
  const base =
    typeof baseline === 'number'
      ? tf.fill(x.shape, baseline)
      : baseline.rank === rank
        ? tf.slice(baseline, start, x.shape[0])
        : tf.broadcastTo(baseline, x.shape);
  const delta = tf.sub(x, base);
  let sum: tf.Tensor = tf.zerosLike(x);
  for (let k = 0; k <= steps; k++) {
    const weight = (k === 0 || k === steps ? 0.5 : 1) / steps;
    const next = tf.tidy(() => {
      const point = tf.add(base, tf.mul(delta, k / steps));
      return tf.add(sum, tf.mul(targetGradient(logits, point, oneHot), weight));
    });
    sum.dispose();
    sum = next;
  }
  return tf.mul(delta, sum);
}

/**
 * Raw integrated-gradients attributions (Sundararajan et al. 2017, arXiv 1703.01365), with the
 * inputs' shape and sign: `(x − x′) ⊙ ∫₀¹ ∇_x f_c(x′ + α (x − x′)) dα`, the integral approximated
 * by the trapezoid rule on `steps` equal intervals. `f_c` is the target logit.
 *
 * Completeness: the attributions of each example sum to `f_c(x) − f_c(x′)` up to the quadrature
 * error (exact for a linear classifier). The caller owns the returned tensor.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { integratedGradients } from 'piq-tfjs';
 * // one class, logit = 3·x0 − x1
 * const classifier = (x: tf.Tensor) => tf.matMul(x, tf.tensor2d([[3], [-1]]));
 * const attr = await integratedGradients(classifier, tf.tensor2d([[1, 2]]), { steps: 4 });
 * console.log(Array.from(attr.dataSync())); // [3, -2]  (sums to f(x) − f(0) = 1)
 * ```
 * @category Baselines
 */
export async function integratedGradients(
  classifier: ScoringClassifier,
  inputs: tf.Tensor,
  options?: IntegratedGradientsOptions & ExplainOptions,
): Promise<tf.Tensor> {
  const owner = 'integratedGradients';
  const resolved = toLogitsAdapter(owner, classifier);
  const ctx = prepareScoring(owner, resolved, inputs, options, DEFAULT_EXPLAIN_OPTIONS.batchSize);
  const config = resolveIgConfig(owner, options, IG_FUNCTION_KEYS);
  checkBaseline(owner, config.baseline, ctx.inputs);
  return explainInChunks<tf.Tensor>(ctx, (chunk, start, size) => {
    const oneHot = targetOneHot(ctx, start, size, () => resolved.logits(chunk));
    return igChunk(resolved.logits, chunk, oneHot, config.baseline, ctx.inputs.rank, start, config.steps);
  });
}

/**
 * Integrated Gradients as an attribution method: the raw attributions of
 * {@link integratedGradients}, summed over channels, in absolute value, min-max normalised per
 * example to [0, 1].
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { IntegratedGradients } from 'piq-tfjs';
 * const w = tf.tensor4d([2, -1, 0], [1, 1, 3, 1]);
 * const classifier = (x: tf.Tensor) => tf.reshape(tf.sum(tf.mul(x, w), [1, 2, 3]), [-1, 1]);
 * const r = await new IntegratedGradients(classifier, { steps: 8 }).explain(tf.ones([1, 1, 3, 1]));
 * console.log(Array.from(r.mask)); // [1, 0.5, 0]  (|w ⊙ (x − 0)|, normalised)
 * ```
 * @category Baselines
 */
export class IntegratedGradients implements AttributionMethod {
  readonly name = 'integratedGradients';
  /** The resolved options. */
  readonly config: Readonly<{ baseline: number | tf.Tensor; steps: number }>;
  private readonly classifier: LogitsAdapter;

  /**
   * Wraps a classifier (adapter or logits function); the classifier is never modified. A tensor
   * `baseline` is referenced, not copied: keep it alive while the method is used.
   */
  constructor(classifier: ScoringClassifier, options?: IntegratedGradientsOptions) {
    this.classifier = toLogitsAdapter('IntegratedGradients', classifier);
    this.config = Object.freeze(resolveIgConfig('IntegratedGradients', options));
  }

  /** Integrated-gradients masks `[batch, height, width]` in [0, 1] for a batch, one example or pixels, as plain data (nothing to dispose). */
  async explain(inputs: ClassifierInput, options?: ExplainOptions): Promise<ExplainResult> {
    return readExplanation(this.masks('IntegratedGradients.explain', inputs, options));
  }

  /** The masks of {@link IntegratedGradients.explain} as a tensor `[batch, height, width]` the caller disposes. */
  async explainTensors(inputs: ClassifierInput, options?: ExplainOptions): Promise<tf.Tensor3D> {
    return this.masks('IntegratedGradients.explainTensors', inputs, options);
  }

  private masks(owner: string, inputs: ClassifierInput, options: ExplainOptions | undefined): Promise<tf.Tensor3D> {
    return explainWith(owner, this.classifier, inputs, options, async (ctx) => {
      checkBaseline(owner, this.config.baseline, ctx.inputs);
      const logits = this.classifier.logits;
      const { baseline, steps } = this.config;
      return explainInChunks(ctx, (x, start, size) => {
        const oneHot = targetOneHot(ctx, start, size, () => logits(x));
        const attr = igChunk(logits, x, oneHot, baseline, ctx.inputs.rank, start, steps);
        return normalizeMaps(tf.abs(reduceChannels(attr, 'sum')));
      });
    });
  }
}
