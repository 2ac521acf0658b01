import type * as tf from '@tensorflow/tfjs-core';
import type { ClassifierInput } from '../classifier/image-input';
import { optionKeys } from '../internal/checks';

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
  /**
   * For pixel inputs (ImageData, image, canvas, video): the values the bytes 0 and 255 are mapped
   * to, linearly: the range the classifier was trained on. Tensors are used as they are.
   * @defaultValue [0, 1]
   */
  inputRange?: readonly [number, number];
}

/** The keys of {@link ExplainOptions}. */
export const EXPLAIN_KEYS = optionKeys<ExplainOptions>({ target: true, batchSize: true, inputRange: true });

/**
 * Defaults of {@link ExplainOptions}.
 */
export const DEFAULT_EXPLAIN_OPTIONS: Readonly<{ batchSize: number }> = Object.freeze({ batchSize: 32 });

/**
 * Plain-data result of {@link AttributionMethod.explain}: one relevance mask per input, flat and
 * example-major, with values in [0, 1]. Nothing to dispose.
 * @category Baselines
 */
export interface ExplainResult {
  /** Number of masks (inputs). */
  batch: number;
  /** Size of each mask, `[height, width]` (the input's). */
  maskShape: [number, number];
  /** The masks, `[batch, height, width]` row-major. */
  mask: Float32Array;
  /** Views of example `i` (a subarray; no copy). */
  example(i: number): { mask: Float32Array };
}

/**
 * One attribution method (saliency, Grad-CAM, PIQ, …) behind one signature: `explain` turns
 * inputs into one relevance mask per input, as plain data (like `Interpreter.interpret`);
 * `explainTensors` returns the same masks as a tensor for tensor pipelines (metrics take it).
 *
 * Masks are `[batch, height, width]` with values in [0, 1] per example (min-max normalised; an
 * all-constant map becomes all zeros). Inputs are a batch `[batch, height, width, channels]`, one
 * example `[height, width, channels]` (when the classifier's input shape is known), or, in
 * browsers, pixels (ImageData, image, canvas, video; see {@link ExplainOptions.inputRange}).
 * Methods never dispose or modify the inputs.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { createAttributionMethod, type AttributionMethod } from 'piq-tfjs';
 * const classifier = (x: tf.Tensor) => tf.reshape(tf.sum(x, [1, 2, 3]), [-1, 1]);
 * const method: AttributionMethod = createAttributionMethod('saliency', classifier);
 * const r = await method.explain(tf.ones([2, 4, 4, 3]));
 * console.log(method.name, r.batch, r.maskShape, r.mask.length); // 'saliency' 2 [4, 4] 32
 * const masks = await method.explainTensors(tf.ones([2, 4, 4, 3])); // the same masks as a tf.Tensor3D
 * masks.dispose();
 * ```
 * @category Baselines
 */
export interface AttributionMethod {
  /** Registered name of the method (e.g. `'saliency'`). */
  readonly name: string;
  /** Relevance masks in [0, 1] as plain data. */
  explain(inputs: ClassifierInput, options?: ExplainOptions): Promise<ExplainResult>;
  /** The same masks as a tensor `[batch, height, width]`, which the caller owns and must dispose. */
  explainTensors(inputs: ClassifierInput, options?: ExplainOptions): Promise<tf.Tensor3D>;
}
