import * as tf from '@tensorflow/tfjs-core';
import { PiqInputError } from '../errors';
import { floatTensor, rankIn, shapeStr, tensorArg } from '../internal/validate';
import { customGradient } from './custom-grad';
import { squaredDistances } from './squared-distances';

function int32Arg(owner: string, name: string, value: unknown, rank: number, hint: string): tf.Tensor {
  const t = tensorArg(owner, name, value);
  if (t.dtype !== 'int32' || t.rank !== rank) {
    throw new PiqInputError(
      `${owner}: '${name}' must be an int32 tensor of shape ${hint}, got a ${t.dtype} tensor of shape ${shapeStr(t.shape)}.${t.dtype !== 'int32' ? " Cast it with tf.cast(x, 'int32')." : ''}`,
    );
  }
  return t;
}

/**
 * Nearest code for every feature vector, searched only among the rows the example's class may use.
 *
 * `features` `[batch, n, codeDim]`; `codebook` `[codebookSize, codeDim]`; `rowTable` int32
 * `[numClasses, width]` lists the rows each class may use (e.g. from
 * {@link CodebookLayout.searchTable}; shorter lines padded with one of their own rows);
 * `predictedClass` int32 `[batch]`. Returns int32 `[batch, n]` GLOBAL codebook row indices.
 * Distances are computed only against the `width` rows gathered per example, never against the
 * whole codebook. Ties go to the earlier entry of the table line.
 *
 * The search is not differentiable: under a gradient tape it contributes zero gradient to
 * `features` and `codebook` (and records none of its gathers, so it runs under `tf.grad` on wasm).
 * Class ids must lie in `[0, numClasses)` (not checked here: checking needs a read-back).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { classRestrictedNearest } from 'piq-tfjs';
 * const codebook = tf.tensor2d([[0], [1], [10], [11]]);
 * const table = tf.tensor2d([[0, 1], [2, 3]], [2, 2], 'int32'); // class 0: rows 0-1, class 1: rows 2-3
 * const idx = classRestrictedNearest(tf.tensor3d([[[0.9]], [[0.9]]]), codebook, table, tf.tensor1d([0, 1], 'int32'));
 * idx.print(); // [[1], [2]]
 * ```
 * @category Ops
 */
export function classRestrictedNearest(
  features: tf.Tensor,
  codebook: tf.Tensor,
  rowTable: tf.Tensor,
  predictedClass: tf.Tensor,
): tf.Tensor2D {
  const owner = 'classRestrictedNearest';
  const u = floatTensor(owner, 'features', features);
  rankIn(owner, 'features', u, [3], '[batch, n, codeDim]');
  const cb = floatTensor(owner, 'codebook', codebook);
  rankIn(owner, 'codebook', cb, [2], '[codebookSize, codeDim]');
  if (cb.shape[1] !== u.shape[2]) {
    throw new PiqInputError(
      `${owner}: 'codebook' must have ${u.shape[2]} columns to match the features' last dimension, got shape ${shapeStr(cb.shape)}.`,
    );
  }
  const table = int32Arg(owner, 'rowTable', rowTable, 2, '[numClasses, width]');
  const cls = int32Arg(owner, 'predictedClass', predictedClass, 1, '[batch]');
  const batch = u.shape[0] as number;
  if (cls.shape[0] !== batch) {
    throw new PiqInputError(
      `${owner}: 'predictedClass' must have ${batch} entries to match the features' batch size, got ${cls.shape[0]}.`,
    );
  }
  const width = table.shape[1] as number;
  const codeDim = u.shape[2] as number;
  const xShape = u.shape.slice();
  const eShape = cb.shape.slice();
  const search = customGradient(([x, e]) => {
    const rows = tf.gather(table, cls); // [batch, width]
    const flatRows = tf.reshape(rows, [-1]);
    const codes = tf.reshape(tf.gather(e as tf.Tensor, flatRows), [batch, width, codeDim]);
    const local = tf.argMin(squaredDistances(x as tf.Tensor, codes), -1); // [batch, n]
    const offsets = tf.reshape(tf.mul(tf.range(0, batch, 1, 'int32'), tf.scalar(width, 'int32')), [batch, 1]);
    return {
      value: tf.gather(flatRows, tf.add(local, offsets)),
      // Only shapes are captured: forward tensors are disposed before backprop runs.
      gradFunc: () => [tf.zeros(xShape), tf.zeros(eShape)],
    };
  }, 2);
  return search(u, cb) as tf.Tensor2D;
}
