import * as tf from '@tensorflow/tfjs-core';
import { toLogitsAdapter } from '../classifier/scoring';
import type { ScoringClassifier } from '../classifier/classifier-adapter';
import type { LogitsAdapter } from '../classifier/types';
import type { ClassifierInput } from '../classifier/image-input';
import { explainInChunks, explainWith, normalizeMaps, readExplanation, reduceChannels, targetGradient, targetOneHot } from './common';
import type { AttributionMethod, ExplainOptions, ExplainResult } from './types';

/**
 * Vanilla gradient saliency (Simonyan et al. 2014, arXiv 1312.6034): the absolute gradient of
 * the target logit with respect to the input, reduced over channels by the maximum and min-max
 * normalised per example to [0, 1].
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { Saliency } from 'piq-tfjs';
 * // one class, logit = 2·x[0,0] − x[0,1] + 0·x[0,2] on a 1x3 single-channel image
 * const w = tf.tensor4d([2, -1, 0], [1, 1, 3, 1]);
 * const classifier = (x: tf.Tensor) => tf.reshape(tf.sum(tf.mul(x, w), [1, 2, 3]), [-1, 1]);
 * const r = await new Saliency(classifier).explain(tf.ones([1, 1, 3, 1]));
 * console.log(Array.from(r.mask)); // [1, 0.5, 0]  (|2|, |−1|, |0| min-max normalised)
 * ```
 * @category Baselines
 */
export class Saliency implements AttributionMethod {
  readonly name = 'saliency';
  private readonly classifier: LogitsAdapter;

  /** Wraps a classifier (adapter or logits function); the classifier is never modified. */
  constructor(classifier: ScoringClassifier) {
    this.classifier = toLogitsAdapter('Saliency', classifier);
  }

  /** Saliency masks `[batch, height, width]` in [0, 1] for a batch, one example or pixels, as plain data (nothing to dispose). */
  async explain(inputs: ClassifierInput, options?: ExplainOptions): Promise<ExplainResult> {
    return readExplanation(this.masks('Saliency.explain', inputs, options));
  }

  /** The masks of {@link Saliency.explain} as a tensor `[batch, height, width]` the caller disposes. */
  async explainTensors(inputs: ClassifierInput, options?: ExplainOptions): Promise<tf.Tensor3D> {
    return this.masks('Saliency.explainTensors', inputs, options);
  }

  private masks(owner: string, inputs: ClassifierInput, options: ExplainOptions | undefined): Promise<tf.Tensor3D> {
    return explainWith(owner, this.classifier, inputs, options, async (ctx) => {
      const logits = this.classifier.logits;
      return explainInChunks(ctx, (x, start, size) => {
        const oneHot = targetOneHot(ctx, start, size, () => logits(x));
        return normalizeMaps(reduceChannels(tf.abs(targetGradient(logits, x, oneHot)), 'max'));
      });
    });
  }
}
