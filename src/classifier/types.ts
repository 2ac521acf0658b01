import type * as tf from '@tensorflow/tfjs-core';

/**
 * What a frozen classifier gives PIQ for a batch of inputs.
 * @category Classifier
 */
export interface ClassifierOutputs {
  /** The tapped feature map, `[batch, height, width, channels]`. */
  features: tf.Tensor4D;
  /** Class logits, `[batch, numClasses]` (log-probabilities when the model ends in softmax). */
  logits: tf.Tensor2D;
}

/**
 * A user's classifier, seen through one uniform, frozen interface. Build one with
 * {@link toClassifierAdapter} from a `tf.LayersModel`, a `tf.GraphModel` or a function.
 *
 * All methods are pure tensor functions: they create new tensors (the caller owns them),
 * never train, mutate or dispose the underlying model, and are differentiable with respect to
 * their tensor arguments (so baselines can take gradients through them).
 * @category Classifier
 */
export interface ClassifierAdapter {
  /** Input shape without the batch dimension, e.g. `[28, 28, 1]`. */
  readonly inputShape: readonly number[];
  /** Tapped feature shape without the batch dimension, e.g. `[7, 7, 64]`. */
  readonly featureShape: readonly [number, number, number];
  /** Number of classes (the logits' last dimension). */
  readonly numClasses: number;
  /** Name of the tapped layer or node, when there is one. */
  readonly featureLayer?: string;
  /** Features and logits of a batch `[batch, ...inputShape]`. */
  run(x: tf.Tensor): ClassifierOutputs;
  /** Logits only, `[batch, numClasses]`. */
  logits(x: tf.Tensor): tf.Tensor2D;
  /**
   * Logits from a feature map (the part of the classifier after the tap), when the
   * classifier can be split there. Grad-CAM needs it. Undefined when not splittable.
   */
  readonly head?: (features: tf.Tensor4D) => tf.Tensor2D;
}

/**
 * A function from a batch of inputs `[batch, ...inputShape]` to class logits `[batch, numClasses]`.
 * It must be differentiable (built from tf ops) for the gradient baselines.
 * @category Classifier
 */
export type LogitsFunction = (x: tf.Tensor) => tf.Tensor;

/**
 * Internal: the one adapter concept as scoring code sees it. A {@link ClassifierAdapter} is used
 * whole; a logits function is an adapter that knows only `logits` (no shapes, no features).
 */
export type LogitsAdapter = Pick<ClassifierAdapter, 'logits'> & Partial<Omit<ClassifierAdapter, 'logits'>>;

/**
 * Internal: the one "is this already an adapter" check (an object with `run`, `logits` and a
 * `featureShape` array), used by {@link toClassifierAdapter} and by metrics and baselines.
 */
export function isClassifierAdapter(value: unknown): value is ClassifierAdapter {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as ClassifierAdapter).run === 'function' &&
    typeof (value as ClassifierAdapter).logits === 'function' &&
    Array.isArray((value as ClassifierAdapter).featureShape)
  );
}
