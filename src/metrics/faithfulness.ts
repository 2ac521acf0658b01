import type * as tf from '@tensorflow/tfjs-core';
import type { ScoringClassifier } from '../classifier/classifier-adapter';
import { perExample, perturbationScores, prepareContext, toResult, type PerturbationNeeds } from './context';
import { METRIC_KEYS, type MetricOptions, type MetricResult } from './types';

const MASK_IN: PerturbationNeeds = { maskIn: true, maskOut: false };
const MASK_OUT: PerturbationNeeds = { maskIn: false, maskOut: true };

/** One perturbation metric of {@link perExample}, validated at its public boundary (masks in [0, 1]). */
async function perturbationMetric(
  name: keyof typeof perExample,
  needs: PerturbationNeeds,
  classifier: ScoringClassifier,
  inputs: tf.Tensor,
  masks: tf.Tensor,
  options: MetricOptions | undefined,
): Promise<MetricResult> {
  const ctx = prepareContext(name, classifier, inputs, masks, options, true, METRIC_KEYS);
  return toResult(perExample[name](await perturbationScores(ctx, needs)));
}

/**
 * Average Increase (AI): the percentage of examples whose class probability rises when only the
 * masked part of the input is kept, `100 · 1[p_c(M ⊙ x) > p_c(x)]` per example (higher is better).
 * Origin: "Increase in Confidence", Chattopadhay et al., Grad-CAM++ (WACV 2018, arXiv 1710.11063);
 * used in the L-MAC paper's evaluation (arXiv 2403.13086), not in the PIQ paper.
 *
 * `p = softmax(classifier(x))`, `c` is the class predicted on `x` (or `options.target`).
 * Masks are `[batch, height, width]`, `[batch, height, width, 1]` (broadcast over channels) or the
 * inputs' shape, with values in [0, 1].
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { averageIncrease } from 'piq-tfjs';
 * // logits = [x0 + x1, 0], so p_0 = sigmoid(x0 + x1)
 * const classifier = (x: tf.Tensor) => tf.concat([tf.sum(x, 1, true), tf.zeros([x.shape[0], 1])], 1);
 * const r = await averageIncrease(classifier, tf.tensor2d([[2, -1]]), tf.tensor2d([[1, 0]]));
 * console.log(r.mean); // 100  (p_0 rises from sigmoid(1) to sigmoid(2))
 * ```
 * @category Metrics
 */
export async function averageIncrease(
  classifier: ScoringClassifier,
  inputs: tf.Tensor,
  masks: tf.Tensor,
  options?: MetricOptions,
): Promise<MetricResult> {
  return perturbationMetric('averageIncrease', MASK_IN, classifier, inputs, masks, options);
}

/**
 * Average Drop (AD): the relative loss of class probability when only the masked part is kept,
 * `100 · max(0, p_c(x) − p_c(M ⊙ x)) / p_c(x)` per example (lower is better).
 * Origin: Chattopadhay et al., Grad-CAM++ (WACV 2018, arXiv 1710.11063); used in the L-MAC paper's
 * evaluation (arXiv 2403.13086), not in the PIQ paper.
 *
 * Softmax is applied once to the logits. The reference implementation (SpeechBrain's L-MAC/PIQ
 * recipes) applies it twice in AD, which compresses the scores; numbers are not comparable with it.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { averageDrop } from 'piq-tfjs';
 * const classifier = (x: tf.Tensor) => tf.concat([tf.sum(x, 1, true), tf.zeros([x.shape[0], 1])], 1);
 * const r = await averageDrop(classifier, tf.tensor2d([[2, 1]]), tf.tensor2d([[1, 0]]));
 * console.log(r.mean.toFixed(2)); // '7.54'  (100 · (sigmoid(3) − sigmoid(2)) / sigmoid(3))
 * ```
 * @category Metrics
 */
export async function averageDrop(
  classifier: ScoringClassifier,
  inputs: tf.Tensor,
  masks: tf.Tensor,
  options?: MetricOptions,
): Promise<MetricResult> {
  return perturbationMetric('averageDrop', MASK_IN, classifier, inputs, masks, options);
}

/**
 * Average Gain (AG): the relative gain of class probability when only the masked part is kept,
 * `100 · max(0, p_c(M ⊙ x) − p_c(x)) / (1 − p_c(x))` per example (higher is better; 0 when
 * `p_c(x)` is exactly 1). Origin: Zhang et al., Opti-CAM (CVIU 2024, arXiv 2301.07002), as the
 * complement of AD; used in the L-MAC paper's evaluation (arXiv 2403.13086).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { averageGain } from 'piq-tfjs';
 * const classifier = (x: tf.Tensor) => tf.concat([tf.sum(x, 1, true), tf.zeros([x.shape[0], 1])], 1);
 * const r = await averageGain(classifier, tf.tensor2d([[2, -1]]), tf.tensor2d([[1, 0]]));
 * console.log(r.mean.toFixed(1)); // '55.7'  (100 · (sigmoid(2) − sigmoid(1)) / (1 − sigmoid(1)))
 * ```
 * @category Metrics
 */
export async function averageGain(
  classifier: ScoringClassifier,
  inputs: tf.Tensor,
  masks: tf.Tensor,
  options?: MetricOptions,
): Promise<MetricResult> {
  return perturbationMetric('averageGain', MASK_IN, classifier, inputs, masks, options);
}

/**
 * Faithfulness (FF): how much the class probability falls when the masked part is removed,
 * `p_c(x) − p_c((1 − M) ⊙ x)` per example (higher is better; in [−1, 1]). Origin: removal-based
 * faithfulness on spectra as in L2I (Parekh et al., NeurIPS 2022, arXiv 2202.11479), named FF in the
 * L-MAC paper (arXiv 2403.13086). PIQ's own 2023 code scored the mask-in form instead:
 * {@link maskInFaithfulness}.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { faithfulness } from 'piq-tfjs';
 * const classifier = (x: tf.Tensor) => tf.concat([tf.sum(x, 1, true), tf.zeros([x.shape[0], 1])], 1);
 * const r = await faithfulness(classifier, tf.tensor2d([[2, -1]]), tf.tensor2d([[1, 0]]));
 * console.log(r.mean.toFixed(3)); // '0.462'  (sigmoid(1) − sigmoid(−1))
 * ```
 * @category Metrics
 */
export async function faithfulness(
  classifier: ScoringClassifier,
  inputs: tf.Tensor,
  masks: tf.Tensor,
  options?: MetricOptions,
): Promise<MetricResult> {
  return perturbationMetric('faithfulness', MASK_OUT, classifier, inputs, masks, options);
}

/**
 * Mask-in faithfulness, PIQ's 2023 faithfulness score: how much the class probability falls when
 * only the masked part is kept, `p_c(x) − p_c(M ⊙ x)` per example (**lower is better**; in [−1, 1]).
 *
 * This is the `compute_faithfulness` of PIQ's first SpeechBrain recipe (speechbrain @ 26d25d461e40,
 * `recipes/ESC50/interpret/train_piq.py` L458-483: single softmax, c predicted on x, logged as
 * `faithfulness_mean` / `_median`). In 2024 the recipes replaced it by the mask-out form of
 * {@link faithfulness} (commit af0673a7), so numbers called "faithfulness" in PIQ's 2023 code and
 * in the L-MAC paper measure opposite things.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { maskInFaithfulness } from 'piq-tfjs';
 * const classifier = (x: tf.Tensor) => tf.concat([tf.sum(x, 1, true), tf.zeros([x.shape[0], 1])], 1);
 * const r = await maskInFaithfulness(classifier, tf.tensor2d([[2, 1]]), tf.tensor2d([[1, 0]]));
 * console.log(r.mean.toFixed(4)); // '0.0718'  (sigmoid(3) − sigmoid(2))
 * ```
 * @category Metrics
 */
export async function maskInFaithfulness(
  classifier: ScoringClassifier,
  inputs: tf.Tensor,
  masks: tf.Tensor,
  options?: MetricOptions,
): Promise<MetricResult> {
  return perturbationMetric('maskInFaithfulness', MASK_IN, classifier, inputs, masks, options);
}

/**
 * Input Fidelity (Fid-In): whether the classifier still predicts class c from the masked part
 * alone, `1[argmax f(M ⊙ x) = c]` per example (higher is better; the mean is a fraction).
 * Origin: PIQ's 2023 recipe (`compute_fidelity`, logged as `input_fidelity`), reused by L-MAC.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { inputFidelity } from 'piq-tfjs';
 * const classifier = (x: tf.Tensor) => tf.concat([tf.sum(x, 1, true), tf.zeros([x.shape[0], 1])], 1);
 * const r = await inputFidelity(classifier, tf.tensor2d([[2, -1], [-1, 2]]), tf.tensor2d([[1, 0], [1, 0]]));
 * console.log(Array.from(r.values), r.mean); // [1, 0] 0.5
 * ```
 * @category Metrics
 */
export async function inputFidelity(
  classifier: ScoringClassifier,
  inputs: tf.Tensor,
  masks: tf.Tensor,
  options?: MetricOptions,
): Promise<MetricResult> {
  return perturbationMetric('inputFidelity', MASK_IN, classifier, inputs, masks, options);
}
