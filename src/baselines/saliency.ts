import * as tf from '@tensorflow/tfjs-core';
import { toLogitsAdapter } from '../classifier/scoring';
import type { LogitsAdapter, ScoringClassifier } from '../classifier/types';
import { explainInChunks, normalizeMaps, prepareExplain, reduceChannels, targetGradient, targetOneHot } from './common';
import type { AttributionMethod, ExplainOptions } from './types';

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
 * const masks = await new Saliency(classifier).explain(tf.ones([1, 1, 3, 1]));
 * console.log(Array.from(masks.dataSync())); // [1, 0.5, 0]  (|2|, |−1|, |0| min-max normalised)
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

  /** Saliency masks `[batch, height, width]` in [0, 1] for inputs `[batch, height, width(, channels)]`. */
  async explain(inputs: tf.Tensor, options?: ExplainOptions): Promise<tf.Tensor3D> {
    const ctx = prepareExplain('Saliency.explain', this.classifier, inputs, options);
    const logits = this.classifier.logits;
    return explainInChunks(ctx, (x, start, size) => {
      const oneHot = targetOneHot(ctx, start, size, () => logits(x));
      return normalizeMaps(reduceChannels(tf.abs(targetGradient(logits, x, oneHot)), 'max'));
    });
  }
}
