import * as tf from '@tensorflow/tfjs-core';
import { finiteNumber, nonNegativeInt, optionKeys, optionsObject, positiveInt } from '../internal/checks';
import { toLogitsAdapter } from '../classifier/scoring';
import type { ScoringClassifier } from '../classifier/classifier-adapter';
import type { LogitsAdapter } from '../classifier/types';
import type { ClassifierInput } from '../classifier/image-input';
import { explainInChunks, explainWith, normalizeMaps, readExplanation, reduceChannels, targetGradient, targetOneHot } from './common';
import type { AttributionMethod, ExplainOptions, ExplainResult } from './types';

/**
 * Options of {@link SmoothGrad}.
 * @category Baselines
 */
export interface SmoothGradOptions {
  /**
   * Standard deviation of the Gaussian noise as a fraction of each input's value range
   * `max(x) − min(x)` (Smilkov et al. recommend 0.1–0.2).
   * @defaultValue 0.15
   */
  noiseLevel?: number;
  /**
   * Noisy copies averaged per input.
   * @defaultValue 25
   */
  samples?: number;
  /**
   * Seed of the noise: the same seed gives the same masks (independently of `batchSize`).
   * @defaultValue 0
   */
  seed?: number;
}

const SMOOTH_GRAD_KEYS = optionKeys<SmoothGradOptions>({ noiseLevel: true, samples: true, seed: true });

/**
 * Resolved {@link SmoothGradOptions}.
 * @category Baselines
 */
export interface SmoothGradConfig {
  noiseLevel: number;
  samples: number;
  seed: number;
}

/**
 * Defaults of {@link SmoothGradOptions}.
 */
export const DEFAULT_SMOOTH_GRAD_OPTIONS: Readonly<SmoothGradConfig> = Object.freeze({ noiseLevel: 0.15, samples: 25, seed: 0 });

function resolveSmoothGradConfig(options: SmoothGradOptions | undefined): SmoothGradConfig {
  const o = 'SmoothGrad';
  optionsObject(o, options, SMOOTH_GRAD_KEYS);
  return {
    noiseLevel: finiteNumber(o, 'noiseLevel', options?.noiseLevel ?? DEFAULT_SMOOTH_GRAD_OPTIONS.noiseLevel, { min: 0 }),
    samples: positiveInt(o, 'samples', options?.samples ?? DEFAULT_SMOOTH_GRAD_OPTIONS.samples),
    seed: nonNegativeInt(o, 'seed', options?.seed ?? DEFAULT_SMOOTH_GRAD_OPTIONS.seed),
  };
}

/**
 * SmoothGrad (Smilkov et al. 2017, arXiv 1706.03825): the saliency map averaged over noisy
 * copies of the input, `mean_s |∇_x f_c(x + ε_s)|` with `ε_s ~ N(0, σ²)` and
 * `σ = noiseLevel · (max(x) − min(x))` per input; then reduced over channels by the maximum and
 * min-max normalised per example to [0, 1].
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { SmoothGrad } from 'piq-tfjs';
 * const w = tf.tensor4d([2, -1, 0], [1, 1, 3, 1]);
 * const classifier = (x: tf.Tensor) => tf.reshape(tf.sum(tf.mul(x, w), [1, 2, 3]), [-1, 1]);
 * const method = new SmoothGrad(classifier, { samples: 10, seed: 1 });
 * const r = await method.explain(tf.tensor4d([0, 1, 2], [1, 1, 3, 1]));
 * console.log(Array.from(r.mask)); // [1, 0.5, 0]  (a linear model's gradient ignores noise)
 * ```
 * @category Baselines
 */
export class SmoothGrad implements AttributionMethod {
  readonly name = 'smoothGrad';
  /** The resolved options. */
  readonly config: Readonly<SmoothGradConfig>;
  private readonly classifier: LogitsAdapter;

  /** Wraps a classifier (adapter or logits function); the classifier is never modified. */
  constructor(classifier: ScoringClassifier, options?: SmoothGradOptions) {
    this.classifier = toLogitsAdapter('SmoothGrad', classifier);
    this.config = Object.freeze(resolveSmoothGradConfig(options));
  }

  /** SmoothGrad masks `[batch, height, width]` in [0, 1] for a batch, one example or pixels, as plain data (nothing to dispose). */
  async explain(inputs: ClassifierInput, options?: ExplainOptions): Promise<ExplainResult> {
    return readExplanation(this.masks('SmoothGrad.explain', inputs, options));
  }

  /** The masks of {@link SmoothGrad.explain} as a tensor `[batch, height, width]` the caller disposes. */
  async explainTensors(inputs: ClassifierInput, options?: ExplainOptions): Promise<tf.Tensor3D> {
    return this.masks('SmoothGrad.explainTensors', inputs, options);
  }

  private masks(owner: string, inputs: ClassifierInput, options: ExplainOptions | undefined): Promise<tf.Tensor3D> {
    return explainWith(owner, this.classifier, inputs, options, async (ctx) => {
      const logits = this.classifier.logits;
      const { noiseLevel, samples, seed } = this.config;
      return explainInChunks(ctx, (x, start, size) => {
        const oneHot = targetOneHot(ctx, start, size, () => logits(x));
        const axes = x.shape.map((_, i) => i).slice(1);
        const sigma = tf.mul(tf.sub(tf.max(x, axes, true), tf.min(x, axes, true)), noiseLevel);
        const exampleShape = [1, ...x.shape.slice(1)];
        let sum: tf.Tensor = tf.zerosLike(x);
        for (let s = 0; s < samples; s++) {
          const next = tf.tidy(() => {
            // One seed per (example, sample): the noise does not depend on how inputs are chunked.
            // +1 because tfjs treats a seed of 0 as "no seed" (Math.random).
            const noise = tf.concat(
              Array.from({ length: size }, (_, r) =>
                tf.randomNormal(exampleShape, 0, 1, 'float32', 1 + seed + (start + r) * samples + s),
              ),
              0,
            );
            const g = targetGradient(logits, tf.add(x, tf.mul(noise, sigma)), oneHot);
            return tf.add(sum, tf.abs(g));
          });
          sum.dispose();
          sum = next;
        }
        return normalizeMaps(reduceChannels(tf.div(sum, samples), 'max'));
      });
    });
  }
}
