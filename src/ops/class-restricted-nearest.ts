import * as tf from '@tensorflow/tfjs-core';
import { PiqConfigError, PiqInputError } from '../errors';
import { describe, optionKeys, optionsObject, shapeStr } from '../internal/checks';
import { floatTensor, rankIn, tensorArg } from '../internal/tensor-checks';
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

interface SearchArgs {
  u: tf.Tensor; // [batch, n, codeDim]
  cb: tf.Tensor; // [codebookSize, codeDim]
  table: tf.Tensor; // int32 [numClasses, width]
  cls: tf.Tensor; // int32 [batch]
  batch: number;
  n: number;
  width: number;
  codeDim: number;
}

/**
 * Options of the class-restricted search ops.
 * @category Ops
 */
export interface ClassRestrictedSearchOptions {
  /**
   * Check values (class ids inside the row table, row ids inside the codebook, finite features) with one small
   * device read-back. Turn off in hot loops whose inputs are known good (VectorQuantizer does its own check).
   * @defaultValue true
   */
  validate?: boolean;
}

const SEARCH_KEYS = optionKeys<ClassRestrictedSearchOptions>({ validate: true });

function checkValues(owner: string, a: SearchArgs): void {
  const numClasses = a.table.shape[0] as number;
  const numRows = a.cb.shape[0] as number;
  const [clsOk, rowsOk, finite] = tf.tidy(() => {
    const c = tf.logicalAnd(tf.all(tf.greaterEqual(a.cls, 0)), tf.all(tf.less(a.cls, numClasses)));
    const r = tf.logicalAnd(tf.all(tf.greaterEqual(a.table, 0)), tf.all(tf.less(a.table, numRows)));
    const f = tf.all(tf.isFinite(a.u));
    return tf.stack([tf.cast(c, 'int32'), tf.cast(r, 'int32'), tf.cast(f, 'int32')]).dataSync();
  });
  if (!clsOk) throw new PiqInputError(`${owner}: 'predictedClass' must hold class ids in [0, ${numClasses}) (one line of 'rowTable' per class), got an id outside that range.`);
  if (!rowsOk) throw new PiqInputError(`${owner}: 'rowTable' must hold codebook rows in [0, ${numRows}), got a row outside that range.`);
  if (!finite) throw new PiqInputError(`${owner}: 'features' must contain only finite values, got NaN or Infinity.`);
}

function checkArgs(owner: string, features: unknown, codebook: unknown, rowTable: unknown, predictedClass: unknown, options: ClassRestrictedSearchOptions = {}): SearchArgs {
  const validate = optionsObject(owner, options, SEARCH_KEYS).validate ?? true;
  if (typeof validate !== 'boolean') throw new PiqConfigError(`${owner}: 'options.validate' must be true or false, got ${describe(validate)}.`);
  const a = checkShapes(owner, features, codebook, rowTable, predictedClass);
  if (validate) checkValues(owner, a);
  return a;
}

function checkShapes(owner: string, features: unknown, codebook: unknown, rowTable: unknown, predictedClass: unknown): SearchArgs {
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
  return { u, cb, table, cls, batch, n: u.shape[1] as number, width: table.shape[1] as number, codeDim: u.shape[2] as number };
}

/**
 * The search itself (run only inside custom-gradient forward functions, so none of its gathers is
 * recorded on a gradient tape). Returns the allowed rows per example, their codes, and the local
 * and global index of the nearest one.
 *
 * Rows are gathered with `tf.gatherND` (indices `[m, 1]`), not `tf.gather`: the same copy, but
 * wasm's `GatherV2` is a per-element loop (1,024 rows of 64: 1.5 ms) while its `GatherNd` copies
 * whole rows (0.13 ms).
 */
function search(a: SearchArgs, u: tf.Tensor, cb: tf.Tensor): { flatRows: tf.Tensor; codes: tf.Tensor; local: tf.Tensor; global: tf.Tensor } {
  const flatRows = tf.reshape(tf.gather(a.table, a.cls), [-1, 1]); // [batch·width, 1]
  // Only batch·width rows are gathered per example, never n·codeDim values for the distances.
  const codes = tf.reshape(tf.gatherND(cb, flatRows), [a.batch, a.width, a.codeDim]);
  const local = tf.argMin(squaredDistances(u, codes), -1); // [batch, n]; first entry wins ties
  const offsets = tf.reshape(tf.mul(tf.range(0, a.batch, 1, 'int32'), tf.scalar(a.width, 'int32')), [a.batch, 1]);
  const global = tf.reshape(tf.gatherND(flatRows, tf.expandDims(tf.add(local, offsets), -1)), [a.batch, a.n]);
  return { flatRows, codes, local, global };
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
 * Class ids must lie in `[0, numClasses)` and table rows in `[0, codebookSize)`; this and finite
 * features are checked with one small read-back unless `options.validate` is false.
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
  options: ClassRestrictedSearchOptions = {},
): tf.Tensor2D {
  const a = checkArgs('classRestrictedNearest', features, codebook, rowTable, predictedClass, options);
  const xShape = a.u.shape.slice();
  const eShape = a.cb.shape.slice();
  const op = customGradient(([x, e]) => ({
    value: search(a, x as tf.Tensor, e as tf.Tensor).global,
    // Only shapes are captured: forward tensors are disposed before backprop runs.
    gradFunc: () => [tf.zeros(xShape), tf.zeros(eShape)],
  }), 2);
  return op(a.u, a.cb) as tf.Tensor2D;
}

/**
 * What {@link classRestrictedQuantize} returns. The caller owns both tensors.
 * @category Ops
 */
export interface ClassRestrictedQuantizeResult {
  /** GLOBAL codebook row chosen per position, int32 `[batch, n]`. */
  codeIndices: tf.Tensor2D;
  /** The chosen codes `[batch, n, codeDim]`; differentiable with respect to the codebook only. */
  codes: tf.Tensor3D;
}

/**
 * Class-restricted nearest-code search that also returns the chosen codes, with a gradient to
 * the codebook that reaches exactly the chosen rows.
 *
 * Same arguments and search as {@link classRestrictedNearest}. The codes are copied from the
 * codebook rows with `tf.gatherND` (whole rows per index; on wasm 10x faster than `tf.gather` and
 * than a one-hot product); the codebook gradient adds each position's gradient to its chosen row
 * with `tf.scatterND` (wasm has no gradient for the gathers).
 * No gradient flows to `features` through the codes (use {@link straightThrough} for that).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { classRestrictedQuantize } from 'piq-tfjs';
 * const codebook = tf.tensor2d([[0], [1], [10], [11]]);
 * const table = tf.tensor2d([[0, 1], [2, 3]], [2, 2], 'int32');
 * const { codeIndices, codes } = classRestrictedQuantize(
 *   tf.tensor3d([[[0.9]], [[0.9]]]), codebook, table, tf.tensor1d([0, 1], 'int32'));
 * codeIndices.print(); // [[1], [2]]
 * codes.print(); // [[[1]], [[10]]]
 * ```
 * @category Ops
 */
export function classRestrictedQuantize(
  features: tf.Tensor,
  codebook: tf.Tensor,
  rowTable: tf.Tensor,
  predictedClass: tf.Tensor,
  options: ClassRestrictedSearchOptions = {},
): ClassRestrictedQuantizeResult {
  const a = checkArgs('classRestrictedQuantize', features, codebook, rowTable, predictedClass, options);
  const numRows = a.cb.shape[0] as number;
  // The indices are a side output of the custom-gradient op: kept out of its scope, owned here.
  const side: { indices: tf.Tensor | null } = { indices: null };
  const op = customGradient(([e], save) => {
    const s = search(a, a.u, e as tf.Tensor);
    side.indices = tf.keep(s.global);
    const rows = tf.expandDims(s.global, -1); // [batch, n, 1]
    save([rows]);
    return {
      // A row copy (gatherND: one contiguous row per index, fast on wasm), exact.
      value: tf.gatherND(e as tf.Tensor, rows), // [batch, n, codeDim]
      gradFunc: (dy, saved) => {
        const [r] = saved as [tf.Tensor];
        // scatterND adds duplicates: every position that chose a row adds its gradient to that row.
        return tf.scatterND(r, dy, [numRows, a.codeDim]);
      },
    };
  }, 1);
  let codes: tf.Tensor | null = null;
  try {
    codes = op(a.cb);
    const codeIndices = tf.clone(side.indices as tf.Tensor) as tf.Tensor2D;
    return { codeIndices, codes: codes as tf.Tensor3D };
  } catch (err) {
    codes?.dispose();
    throw err;
  } finally {
    side.indices?.dispose();
  }
}
