import * as tf from '@tensorflow/tfjs-core';
import { PiqInputError } from '../errors';
import { shapeStr } from '../internal/checks';
import { floatTensor } from '../internal/tensor-checks';
import { customGradient } from './custom-grad';

const stopGradientOp = customGradient(
  ([x]) => ({ value: tf.clone(x as tf.Tensor), gradFunc: (dy) => tf.zerosLike(dy) }),
  1,
);

const straightThroughOp = customGradient(
  ([, e]) => ({ value: tf.clone(e as tf.Tensor), gradFunc: (dy) => [tf.clone(dy), tf.zerosLike(dy)] }),
  2,
);

/**
 * Returns a copy of `x` through which no gradient flows (the `sg(·)` of VQ-VAE losses):
 * its gradient with respect to `x` is zero.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { stopGradient } from 'piq-tfjs';
 * const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(stopGradient(x), x)))(tf.tensor1d([3]));
 * g.print(); // [3]  (d/dx of sg(x)·x is sg(x))
 * ```
 * @category Ops
 */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  const t = floatTensor('stopGradient', 'x', x);
  return stopGradientOp(t) as T;
}

/**
 * Straight-through estimator: the forward value is `codes`, the gradient goes unchanged to
 * `features` (identity) and nothing goes to `codes`. Both must have the same shape.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { straightThrough } from 'piq-tfjs';
 * const u = tf.tensor1d([0.2, 0.9]);
 * const e = tf.tensor1d([0, 1]);
 * straightThrough(u, e).print(); // [0, 1]
 * tf.grad((x: tf.Tensor) => tf.sum(tf.mul(straightThrough(x, e), 3)))(u).print(); // [3, 3]
 * ```
 * @category Ops
 */
export function straightThrough<T extends tf.Tensor>(features: T, codes: tf.Tensor): T {
  const owner = 'straightThrough';
  const u = floatTensor(owner, 'features', features);
  const e = floatTensor(owner, 'codes', codes);
  if (!tf.util.arraysEqual(u.shape, e.shape)) {
    throw new PiqInputError(
      `${owner}: 'codes' must have the shape of 'features' ${shapeStr(u.shape)}, got ${shapeStr(e.shape)}.`,
    );
  }
  return straightThroughOp(u, e) as T;
}
