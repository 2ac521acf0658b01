import * as tf from '@tensorflow/tfjs-core';
import { PiqInputError } from '../errors';
import { positiveInt, shapeStr } from '../internal/checks';
import { floatTensor, rankIn, tensorArg } from '../internal/tensor-checks';
import { customGradient } from './custom-grad';

function indicesArg(owner: string, value: unknown): tf.Tensor1D {
  const idx = tensorArg(owner, 'indices', value);
  if (idx.dtype !== 'int32' || idx.rank !== 1) {
    throw new PiqInputError(
      `${owner}: 'indices' must be an int32 tensor of shape [n], got a ${idx.dtype} tensor of shape ${shapeStr(idx.shape)}.`,
    );
  }
  return idx as tf.Tensor1D;
}

function checkRange(owner: string, idx: tf.Tensor, numRows: number): void {
  const ok = tf.tidy(() => tf.logicalAnd(tf.all(tf.greaterEqual(idx, 0)), tf.all(tf.less(idx, numRows))).dataSync()[0]);
  if (!ok) throw new PiqInputError(`${owner}: 'indices' must lie in [0, ${numRows}), got an index outside that range.`);
}

function sumRows(values: tf.Tensor, indices: tf.Tensor1D, numRows: number): tf.Tensor2D {
  // ScatterNd adds updates that share an index, runs in O(n·dim) and exists on cpu, wasm and webgl;
  // UnsortedSegmentSum is missing on wasm and takes minutes on the cpu backend at K = 1024.
  return tf.tidy(
    () => tf.scatterND(tf.reshape(indices, [-1, 1]), values, [numRows, values.shape[1] as number]) as tf.Tensor2D,
  );
}

/**
 * Sums the rows of `values` `[n, dim]` into `numRows` buckets by `indices` int32 `[n]`:
 * `out[k] = Σ_{i: indices[i] = k} values[i]`, shape `[numRows, dim]`.
 *
 * Implemented with `tf.scatterND` (which adds duplicates), available and fast on cpu, wasm and webgl.
 * Not differentiable itself. Indices must lie in `[0, numRows)` (checked with one small read-back).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { sumRowsByIndex } from 'piq-tfjs';
 * sumRowsByIndex(tf.tensor2d([[1, 1], [2, 2], [3, 3]]), tf.tensor1d([2, 0, 2], 'int32'), 3).print();
 * // [[2, 2], [0, 0], [4, 4]]
 * ```
 * @category Ops
 */
export function sumRowsByIndex(values: tf.Tensor, indices: tf.Tensor, numRows: number): tf.Tensor2D {
  const owner = 'sumRowsByIndex';
  const v = floatTensor(owner, 'values', values);
  rankIn(owner, 'values', v, [2], '[n, dim]');
  const idx = indicesArg(owner, indices);
  if (idx.shape[0] !== v.shape[0]) {
    throw new PiqInputError(`${owner}: 'indices' must have ${v.shape[0]} entries, one per row of 'values', got ${idx.shape[0]}.`);
  }
  positiveInt(owner, 'numRows', numRows);
  checkRange(owner, idx, numRows);
  return sumRows(v, idx, numRows);
}

/**
 * Picks rows of a table by index, `table[indices]`, with a gradient that works on every backend.
 *
 * `table` `[numRows, dim]`, `indices` int32 `[n]` → `[n, dim]`. The forward pass is a gather;
 * the gradient with respect to `table` is {@link sumRowsByIndex} of the upstream gradient, because
 * `tf.gather`'s own gradient needs UnsortedSegmentSum, which the wasm backend lacks.
 * Indices must lie in `[0, numRows)` (checked with one small read-back).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { selectRows } from 'piq-tfjs';
 * const table = tf.tensor2d([[1, 2], [3, 4], [5, 6]]);
 * selectRows(table, tf.tensor1d([2, 0, 2], 'int32')).print(); // [[5, 6], [1, 2], [5, 6]]
 * ```
 * @category Ops
 */
export function selectRows(table: tf.Tensor, indices: tf.Tensor): tf.Tensor2D {
  const owner = 'selectRows';
  const t = floatTensor(owner, 'table', table);
  rankIn(owner, 'table', t, [2], '[numRows, dim]');
  const idx = indicesArg(owner, indices);
  const numRows = t.shape[0] as number;
  checkRange(owner, idx, numRows);
  const op = customGradient(([tab], save) => {
    save([idx]);
    return {
      // gatherND copies whole rows (wasm's GatherV2 is a per-element loop, ~10x slower here).
      value: tf.gatherND(tab as tf.Tensor, tf.reshape(idx, [-1, 1])),
      // Only the saved indices are used: forward tensors are disposed before backprop runs.
      gradFunc: (dy, saved) => sumRows(dy, saved[0] as tf.Tensor1D, numRows),
    };
  }, 1);
  return op(t) as tf.Tensor2D;
}
