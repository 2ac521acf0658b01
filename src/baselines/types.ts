import type * as tf from '@tensorflow/tfjs-core';

/**
 * Options of {@link AttributionMethod.explain}, the same for every method.
 * @category Baselines
 */
export interface ExplainOptions {
  /**
   * Class to explain per example (`[batch]` integer indices in `[0, numClasses)`).
   * @defaultValue the class the classifier predicts on each input
   */
  target?: readonly number[] | Int32Array | tf.Tensor1D;
  /**
   * Examples per forward/backward pass: bounds memory on large batches.
   * @defaultValue 32
   */
  batchSize?: number;
}

/**
 * Defaults of {@link ExplainOptions}.
 */
export const DEFAULT_EXPLAIN_OPTIONS: Readonly<{ batchSize: number }> = Object.freeze({ batchSize: 32 });

/**
 * One attribution method (saliency, Grad-CAM, PIQ, …) behind one signature: `explain` turns a
 * batch of inputs into one relevance mask per input.
 *
 * Implementations return masks `[batch, height, width]` with values in [0, 1] per example
 * (min-max normalised; an all-constant map becomes all zeros), which the caller owns and must
 * dispose. They never dispose or modify `inputs`.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { createAttributionMethod, type AttributionMethod } from 'piq-tfjs';
 * const classifier = (x: tf.Tensor) => tf.reshape(tf.sum(x, [1, 2, 3]), [-1, 1]);
 * const method: AttributionMethod = createAttributionMethod('saliency', classifier);
 * const masks = await method.explain(tf.ones([2, 4, 4, 3]));
 * console.log(method.name, masks.shape); // 'saliency' [2, 4, 4]
 * ```
 * @category Baselines
 */
export interface AttributionMethod {
  /** Registered name of the method (e.g. `'saliency'`). */
  readonly name: string;
  /**
   * Relevance masks `[batch, height, width]` in [0, 1] for inputs `[batch, height, width, channels]`
   * or `[batch, height, width]`.
   */
  explain(inputs: tf.Tensor, options?: ExplainOptions): Promise<tf.Tensor3D>;
}
