import * as tf from '@tensorflow/tfjs-core';
import { toLogitsAdapter } from '../classifier/scoring';
import type { ScoringClassifier } from '../classifier/classifier-adapter';
import type { ClassifierAdapter, LogitsAdapter } from '../classifier/types';
import { PiqConfigError } from '../errors';
import { describe } from '../internal/checks';
import type { ClassifierInput } from '../classifier/image-input';
import { explainInChunks, explainWith, normalizeMaps, readExplanation, targetOneHot } from './common';
import type { AttributionMethod, ExplainOptions, ExplainResult } from './types';

/**
 * Grad-CAM (Selvaraju et al. 2017, arXiv 1610.02391) on the classifier's tapped feature map A
 * `[batch, h, w, k]`: channel weights `α_k = mean_{i,j} ∂f_c/∂A_{ij k}` (gradients of the target
 * logit through `classifier.head`), map `ReLU(Σ_k α_k A_k)`, bilinearly upsampled (half-pixel
 * centres) to the input's height and width and min-max normalised per example to [0, 1].
 *
 * Needs a {@link ClassifierAdapter} with a `head` (the part of the model after the tap); a plain
 * logits function or an adapter without `head` throws PiqConfigError.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { GradCam, type ClassifierAdapter } from 'piq-tfjs';
 * // features = the image itself (1 channel); head = global sum -> 1 logit
 * const head = (a: tf.Tensor4D) => tf.reshape(tf.sum(a, [1, 2, 3]), [-1, 1]) as tf.Tensor2D;
 * const classifier: ClassifierAdapter = {
 *   inputShape: [1, 2, 1], featureShape: [1, 2, 1], numClasses: 1,
 *   run: (x) => ({ features: x as tf.Tensor4D, logits: head(x as tf.Tensor4D) }),
 *   logits: (x) => head(x as tf.Tensor4D),
 *   head,
 * };
 * const r = await new GradCam(classifier).explain(tf.tensor4d([3, 1], [1, 1, 2, 1]));
 * console.log(Array.from(r.mask)); // [1, 0]
 * ```
 * @category Baselines
 */
export class GradCam implements AttributionMethod {
  readonly name = 'gradCam';
  private readonly classifier: LogitsAdapter;
  private readonly run: ClassifierAdapter['run'];
  private readonly head: (features: tf.Tensor4D) => tf.Tensor2D;

  /** Wraps a {@link ClassifierAdapter} that has a `head`; the classifier is never modified. */
  constructor(classifier: ScoringClassifier) {
    const resolved = toLogitsAdapter('GradCam', classifier);
    const { run, head } = resolved;
    if (run === undefined || head === undefined) {
      throw new PiqConfigError(
        `GradCam: 'classifier' must be a ClassifierAdapter with a 'head' (features -> logits), got ${
          run === undefined ? describe(classifier) : 'an adapter without head'
        }. Build the adapter with a feature layer the model can be split at, or use another method.`,
      );
    }
    this.classifier = resolved;
    this.run = run;
    this.head = head;
  }

  /** Grad-CAM masks `[batch, height, width]` in [0, 1] for a batch, one example or pixels, as plain data (nothing to dispose). */
  async explain(inputs: ClassifierInput, options?: ExplainOptions): Promise<ExplainResult> {
    return readExplanation(this.masks('GradCam.explain', inputs, options));
  }

  /** The masks of {@link GradCam.explain} as a tensor `[batch, height, width]` the caller disposes. */
  async explainTensors(inputs: ClassifierInput, options?: ExplainOptions): Promise<tf.Tensor3D> {
    return this.masks('GradCam.explainTensors', inputs, options);
  }

  private masks(owner: string, inputs: ClassifierInput, options: ExplainOptions | undefined): Promise<tf.Tensor3D> {
    return explainWith(owner, this.classifier, inputs, options, async (ctx) => {
      const [height, width] = [ctx.inputs.shape[1] as number, ctx.inputs.shape[2] as number];
      const head = this.head;
      return explainInChunks(ctx, (x, start, size) => {
        const { features, logits } = this.run(x);
        const oneHot = targetOneHot(ctx, start, size, () => logits);
        // Target logit selected by one-hot multiply-and-sum (wasm has no gather gradient).
        const grads = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(head(a as tf.Tensor4D), oneHot)))(features);
        const alpha = tf.mean(grads, [1, 2], true); // [b, 1, 1, k]
        const cam = tf.relu(tf.sum(tf.mul(alpha, features), 3, true)) as tf.Tensor4D; // [b, h, w, 1]
        const up = tf.image.resizeBilinear(cam, [height, width], false, true);
        return normalizeMaps(tf.reshape(up, [size, height, width]) as tf.Tensor3D);
      });
    });
  }
}
