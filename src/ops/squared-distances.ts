import * as tf from '@tensorflow/tfjs-core';
import { PiqInputError } from '../errors';
import { shapeStr } from '../internal/checks';
import { floatTensor, rankIn } from '../internal/tensor-checks';

/**
 * Squared Euclidean distances between every row of `features` and every row of `codes`,
 * `||u||² − 2·u·eᵀ + ||e||²`, clamped at 0.
 *
 * Rank 2: `features` `[n, codeDim]`, `codes` `[m, codeDim]` → `[n, m]`.
 * Rank 3 (batched, one code set per batch item): `features` `[batch, n, codeDim]`,
 * `codes` `[batch, m, codeDim]` → `[batch, n, m]`.
 * The codes are transposed once with `tf.transpose` instead of `matMul`'s `transposeB` flag,
 * which is 10x slower on the wasm backend. Differentiable in both arguments.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { squaredDistances } from 'piq-tfjs';
 * const d = squaredDistances(tf.tensor2d([[0, 0], [1, 1]]), tf.tensor2d([[1, 0]]));
 * d.print(); // [[1], [1]]
 * ```
 * @category Ops
 */
export function squaredDistances(features: tf.Tensor, codes: tf.Tensor): tf.Tensor {
  const owner = 'squaredDistances';
  const u = floatTensor(owner, 'features', features);
  const e = floatTensor(owner, 'codes', codes);
  rankIn(owner, 'features', u, [2, 3], '[n, codeDim] or [batch, n, codeDim]');
  if (e.rank !== u.rank) {
    throw new PiqInputError(
      `${owner}: 'codes' must have the same rank as 'features' (${u.rank}), got shape ${shapeStr(e.shape)}. Use [m, codeDim] with 2-D features and [batch, m, codeDim] with 3-D features.`,
    );
  }
  if (e.shape[e.rank - 1] !== u.shape[u.rank - 1]) {
    throw new PiqInputError(
      `${owner}: 'codes' must have last dimension ${u.shape[u.rank - 1]} to match 'features', got shape ${shapeStr(e.shape)}.`,
    );
  }
  if (u.rank === 3 && e.shape[0] !== u.shape[0]) {
    throw new PiqInputError(
      `${owner}: 'codes' must have batch size ${u.shape[0]} to match 'features', got shape ${shapeStr(e.shape)}.`,
    );
  }
  return tf.tidy(() => {
    const uu = tf.sum(tf.square(u), -1, true); // [..., n, 1]
    const ee = tf.expandDims(tf.sum(tf.square(e), -1), -2); // [..., 1, m]
    const eT = tf.transpose(e, u.rank === 2 ? [1, 0] : [0, 2, 1]);
    const ue = tf.matMul(u, eT); // [..., n, m]
    return tf.relu(tf.add(tf.sub(uu, tf.mul(ue, 2)), ee));
  });
}
