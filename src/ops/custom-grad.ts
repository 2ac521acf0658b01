// Typed wrapper over tf.customGrad: tfjs does not export its CustomGradientFunc type, and its
// signature (variadic inputs plus a trailing save function) does not type-check directly.
import * as tf from '@tensorflow/tfjs-core';

type TfCustomGradFn = Parameters<typeof tf.customGrad>[0];

/** Result of a custom-gradient forward function. */
export interface CustomGradResult {
  value: tf.Tensor;
  gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[];
}

/**
 * Builds a function of `arity` tensor inputs whose gradient is given by hand. Ops run inside
 * `f` are not recorded on the gradient tape; only the returned gradient is used.
 */
export function customGradient(
  f: (inputs: tf.Tensor[], save: tf.GradSaveFunc) => CustomGradResult,
  arity: number,
): (...inputs: tf.Tensor[]) => tf.Tensor {
  const wrapped = (...args: unknown[]): CustomGradResult =>
    f(args.slice(0, arity) as tf.Tensor[], args[arity] as tf.GradSaveFunc);
  const op = tf.customGrad(wrapped as unknown as TfCustomGradFn) as unknown as (...inputs: tf.Tensor[]) => tf.Tensor;
  return op;
}
