import * as tf from '@tensorflow/tfjs-core';
import { PiqConfigError, PiqInputError, PiqStateError } from '../errors';
import { boolean, describe, finiteNumber, nonNegativeInt, oneOf, positiveInt, shapeStr } from '../internal/checks';
import { floatTensor, tensorArg } from '../internal/tensor-checks';
import { mulberry32, shuffleInPlace } from '../internal/random';
import { classRestrictedQuantize } from '../ops/class-restricted-nearest';
import { selectRows, sumRowsByIndex } from '../ops/select-rows';
import { stopGradient, straightThrough } from '../ops/straight-through';
import { CodebookLayout, type CodebookLayoutConfig, type CodebookLayoutOptions } from './codebook-layout';

/**
 * How the codebook starts: `'uniform'` draws uniform(−1/K, 1/K) as the reference does;
 * `'data'` copies random feature vectors of each class into that class's rows; `'kmeans'`
 * runs a few Lloyd iterations per class from that start. `'data'` and `'kmeans'` need one batch:
 * see {@link VectorQuantizer.initializeFromData}.
 * @category Quantizer
 */
export type CodebookInit = 'uniform' | 'data' | 'kmeans';

/**
 * How the codebook learns: `'loss'` (the reference) trains it by gradient through the codebook
 * loss; `'ema'` moves each used code to an exponential moving average of the features assigned
 * to it (in {@link VectorQuantizer.postStep}), and the codebook is then not trainable.
 * @category Quantizer
 */
export type CodebookUpdate = 'loss' | 'ema';

/**
 * Options for {@link VectorQuantizer}.
 * @category Quantizer
 */
export interface VectorQuantizerOptions {
  /** Dimension `D` of every code and feature vector (the features' last axis). */
  codeDim: number;
  /** Which rows belong to which class: layout options or a {@link CodebookLayout}. */
  layout: CodebookLayoutOptions | CodebookLayout;
  /**
   * Weight β of the commitment loss `β · mean((u − sg(e))²)`.
   * @defaultValue 1
   */
  commitmentWeight?: number;
  /**
   * Whether shared rows may be chosen when quantizing with `training: true`. The reference
   * excludes them in training and allows them at evaluation: pass `false` to reproduce it.
   * @defaultValue true
   */
  sharedCodesInTraining?: boolean;
  /**
   * How the codebook is initialised.
   * @defaultValue 'uniform'
   */
  init?: CodebookInit;
  /**
   * Lloyd iterations per class for `init: 'kmeans'`.
   * @defaultValue 10
   */
  kmeansIterations?: number;
  /**
   * How the codebook is updated.
   * @defaultValue 'loss'
   */
  update?: CodebookUpdate;
  /**
   * Decay γ of the moving averages for `update: 'ema'`, in [0, 1).
   * @defaultValue 0.99
   */
  emaDecay?: number;
  /**
   * Laplace smoothing ε of the EMA cluster sizes, > 0.
   * @defaultValue 1e-5
   */
  emaEpsilon?: number;
  /**
   * Re-seed a code after this many {@link VectorQuantizer.postStep} calls in a row in which its
   * class was present but the code was not chosen; 0 turns restarts off.
   * @defaultValue 0
   */
  deadCodeSteps?: number;
  /**
   * Seed of every random draw (uniform init, data/k-means sampling, restarts); runs with the
   * same seed and data are identical.
   * @defaultValue undefined (a random seed)
   */
  seed?: number;
}

/**
 * Resolved, JSON-serializable options of a {@link VectorQuantizer}: what `getConfig()` returns.
 * @category Quantizer
 */
export interface VectorQuantizerConfig {
  codeDim: number;
  layout: CodebookLayoutConfig;
  commitmentWeight: number;
  sharedCodesInTraining: boolean;
  init: CodebookInit;
  kmeansIterations: number;
  update: CodebookUpdate;
  emaDecay: number;
  emaEpsilon: number;
  deadCodeSteps: number;
  seed: number | null;
}

/**
 * Default values of the optional {@link VectorQuantizerOptions} fields.
 *
 * @example
 * ```ts
 * import { DEFAULT_VECTOR_QUANTIZER_OPTIONS } from 'piq-tfjs';
 * console.log(DEFAULT_VECTOR_QUANTIZER_OPTIONS.commitmentWeight); // 1
 * ```
 * @category Quantizer
 */
export const DEFAULT_VECTOR_QUANTIZER_OPTIONS = Object.freeze({
  commitmentWeight: 1,
  sharedCodesInTraining: true,
  init: 'uniform' as CodebookInit,
  kmeansIterations: 10,
  update: 'loss' as CodebookUpdate,
  emaDecay: 0.99,
  emaEpsilon: 1e-5,
  deadCodeSteps: 0,
  seed: null as number | null,
});

/**
 * Options of {@link VectorQuantizer.quantize}.
 * @category Quantizer
 */
export interface QuantizeOptions {
  /**
   * Training mode: decides whether shared rows are searched when `sharedCodesInTraining` is false.
   * @defaultValue false
   */
  training?: boolean;
  /**
   * Check that features are finite and class ids lie in `[0, numClasses)`. Costs one small
   * synchronous read-back; pass `false` in hot training loops whose inputs are known to be valid
   * (out-of-range ids then give undefined codes instead of an error).
   * @defaultValue true
   */
  validate?: boolean;
}

/**
 * Default values of the optional {@link QuantizeOptions} fields.
 *
 * @example
 * ```ts
 * import { DEFAULT_QUANTIZE_OPTIONS } from 'piq-tfjs';
 * console.log(DEFAULT_QUANTIZE_OPTIONS); // { training: false, validate: true }
 * ```
 * @category Quantizer
 */
export const DEFAULT_QUANTIZE_OPTIONS = Object.freeze({ training: false, validate: true });

/**
 * Options of {@link VectorQuantizer.postStep}.
 * @category Quantizer
 */
export interface PostStepOptions {
  /**
   * Check that features are finite and class ids and code indices are in range (one small read-back).
   * @defaultValue true
   */
  validate?: boolean;
}

/**
 * What {@link VectorQuantizer.quantize} returns. The caller owns (and disposes) every tensor.
 * @category Quantizer
 */
export interface QuantizeResult {
  /** Quantized features, shape of the input; forward value = codes, gradient = identity to the features. */
  quantized: tf.Tensor;
  /** Global codebook row chosen per position, int32 `[batch, height, width]` (or `[batch, n]`). */
  codeIndices: tf.Tensor;
  /** Scalar `mean((e_k* − sg(u))²)`: trains the chosen codes (a zero scalar with `update: 'ema'`). */
  codebookLoss: tf.Scalar;
  /** Scalar `commitmentWeight · mean((u − sg(e_k*))²)`: pulls the features towards their codes. */
  commitmentLoss: tf.Scalar;
  /** Scalar `exp(entropy)` of the code usage in this batch (1 = one code, K = all codes equally). */
  perplexity: tf.Scalar;
}

/**
 * Code usage of one class, from {@link VectorQuantizer.usage}.
 * @category Quantizer
 */
export interface ClassCodeUsage {
  /** The class. */
  classIndex: number;
  /** Positions of this class quantized since the last reset. */
  assignments: number;
  /** Distinct rows (own block and shared) this class used. */
  usedCodes: number;
  /** `exp(entropy)` of this class's code distribution (0 when it has no assignments). */
  perplexity: number;
  /** Rows of this class's block not chosen for `deadCodeSteps` steps in which the class was present (0 when restarts are off). */
  deadCodes: number;
}

/**
 * Codebook health, as plain data, from {@link VectorQuantizer.usage}.
 * @category Quantizer
 */
export interface CodebookUsage {
  /** Times each row was chosen since the last reset, `[codebookSize]`. */
  counts: number[];
  /** Per row, the number of consecutive steps (with its class present) in which it was not chosen. */
  stepsSinceUsed: number[];
  /** `exp(entropy)` of the usage of the whole codebook. */
  perplexity: number;
  /** One entry per class. */
  perClass: ClassCodeUsage[];
  /** Total number of code restarts so far. */
  restartedCodes: number;
  /** Number of {@link VectorQuantizer.postStep} updates so far. */
  steps: number;
}

const OWNER = 'VectorQuantizer';
const W = {
  codebook: 'quantizer/codebook',
  emaClusterSize: 'quantizer/ema_cluster_size',
  emaEmbedSum: 'quantizer/ema_embed_sum',
  usageCounts: 'quantizer/usage_counts',
  sharedUsage: 'quantizer/shared_usage_by_class',
  stepsSinceUsed: 'quantizer/steps_since_used',
  restartCount: 'quantizer/restart_count',
  initialized: 'quantizer/initialized',
  steps: 'quantizer/steps',
} as const;

function perplexityOfCounts(counts: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i] as number;
  if (total <= 0) return 0;
  let h = 0;
  for (let i = 0; i < counts.length; i++) {
    const p = (counts[i] as number) / total;
    if (p > 0) h -= p * Math.log(p);
  }
  return Math.exp(h);
}

/** Resolves and validates {@link VectorQuantizerOptions}. */
function resolveVectorQuantizerOptions(options: VectorQuantizerOptions): {
  config: VectorQuantizerConfig;
  layout: CodebookLayout;
} {
  const where = `${OWNER}.constructor`;
  if (typeof options !== 'object' || options === null) {
    throw new PiqConfigError(`${where}: 'options' must be an object, got ${describe(options)}.`);
  }
  const d = DEFAULT_VECTOR_QUANTIZER_OPTIONS;
  const codeDim = positiveInt(where, 'codeDim', options.codeDim);
  if (typeof options.layout !== 'object' || options.layout === null) {
    throw new PiqConfigError(
      `${where}: 'layout' must be CodebookLayout options or a CodebookLayout, got ${describe(options.layout)}.`,
    );
  }
  const layout = options.layout instanceof CodebookLayout ? options.layout : new CodebookLayout(options.layout);
  const seedIn = options.seed ?? d.seed;
  if (seedIn !== null && (typeof seedIn !== 'number' || !Number.isInteger(seedIn))) {
    throw new PiqConfigError(`${where}: 'seed' must be an integer, got ${describe(seedIn)}.`);
  }
  const config: VectorQuantizerConfig = {
    codeDim,
    layout: layout.getConfig(),
    commitmentWeight: finiteNumber(where, 'commitmentWeight', options.commitmentWeight ?? d.commitmentWeight, { min: 0 }),
    sharedCodesInTraining: boolean(where, 'sharedCodesInTraining', options.sharedCodesInTraining ?? d.sharedCodesInTraining),
    init: oneOf(where, 'init', options.init ?? d.init, ['uniform', 'data', 'kmeans'] as const),
    kmeansIterations: nonNegativeInt(where, 'kmeansIterations', options.kmeansIterations ?? d.kmeansIterations),
    update: oneOf(where, 'update', options.update ?? d.update, ['loss', 'ema'] as const),
    emaDecay: finiteNumber(where, 'emaDecay', options.emaDecay ?? d.emaDecay, { min: 0 }),
    emaEpsilon: finiteNumber(where, 'emaEpsilon', options.emaEpsilon ?? d.emaEpsilon, { min: 0, minExclusive: true }),
    deadCodeSteps: nonNegativeInt(where, 'deadCodeSteps', options.deadCodeSteps ?? d.deadCodeSteps),
    seed: seedIn,
  };
  if (config.emaDecay >= 1) {
    throw new PiqConfigError(`${where}: 'emaDecay' must be < 1, got ${config.emaDecay}. Typical values are 0.9 to 0.999.`);
  }
  return { config, layout };
}

/**
 * Class-partitioned vector quantizer, the core of PIQ: each feature vector is replaced by its
 * nearest codebook row among the rows its example's predicted class may use (its block, plus
 * the shared rows), with a straight-through gradient.
 *
 * Trainer contract: call {@link VectorQuantizer.initializeFromData} once on the first batch
 * when {@link VectorQuantizer.needsDataInit} is true; call `quantize` inside the gradient tape
 * and add `codebookLoss + commitmentLoss` to the loss; after the optimizer step call
 * {@link VectorQuantizer.postStep} (usage statistics, EMA updates, dead-code restarts happen
 * there, outside the tape).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { VectorQuantizer } from 'piq-tfjs';
 * const vq = new VectorQuantizer({ codeDim: 2, layout: { numClasses: 2, codesPerClass: 3 }, seed: 1 });
 * const u = tf.randomNormal([4, 5, 5, 2]);
 * const cls = tf.tensor1d([0, 1, 1, 0], 'int32');
 * const r = vq.quantize(u, cls, { training: true });
 * console.log(r.quantized.shape, r.codeIndices.shape); // [4, 5, 5, 2] [4, 5, 5]
 * // rows of example 0 (class 0) are in 0..2, rows of example 1 (class 1) in 3..5
 * vq.postStep(u, cls, r.codeIndices);
 * console.log(vq.usage().steps); // 1
 * ```
 * @category Quantizer
 */
export class VectorQuantizer {
  /** The codebook layout. */
  readonly layout: CodebookLayout;
  /** Dimension of every code. */
  readonly codeDim: number;
  private readonly config: VectorQuantizerConfig;
  private readonly seedValue: number;
  private readonly codebook: tf.Variable;
  private readonly emaClusterSize: tf.Variable | null;
  private readonly emaEmbedSum: tf.Variable | null;
  private readonly usageCounts: tf.Variable;
  private readonly sharedUsage: tf.Variable | null;
  private readonly stepsSinceUsed: tf.Variable;
  private readonly restartCount: tf.Variable;
  private readonly evalTable: tf.Tensor;
  private readonly trainTable: tf.Tensor;
  private readonly ownerOfRow: tf.Tensor;
  private initialized: boolean;
  private steps = 0;
  private disposed = false;

  constructor(options: VectorQuantizerOptions) {
    const { config, layout } = resolveVectorQuantizerOptions(options);
    this.config = config;
    this.layout = layout;
    this.codeDim = config.codeDim;
    this.seedValue = config.seed ?? Math.floor(Math.random() * 2 ** 31);
    this.initialized = config.init === 'uniform';
    const K = layout.codebookSize;
    const C = layout.numClasses;
    const S = layout.sharedCodes;
    const D = config.codeDim;
    const ema = config.update === 'ema';
    const evalT = layout.searchTable({ includeShared: true });
    const trainT = config.sharedCodesInTraining ? evalT : layout.searchTable({ includeShared: false });
    const owners = new Int32Array(K);
    for (let k = 0; k < K; k++) {
      const c = layout.classOfRow(k);
      owners[k] = c < 0 ? C : c;
    }
    // All tensors below are owned by this quantizer until dispose().
    // tf.variable shares the initial tensor's data; the initial tensor itself is released.
    const variable = (init: tf.Tensor, trainable = false): tf.Variable => {
      const v = tf.variable(init, trainable);
      init.dispose();
      return v;
    };
    this.codebook = variable(tf.randomUniform([K, D], -1 / K, 1 / K, 'float32', this.seedValue), !ema);
    this.emaClusterSize = ema ? variable(tf.ones([K])) : null;
    this.emaEmbedSum = ema ? variable(this.codebook.clone()) : null;
    this.usageCounts = variable(tf.zeros([K]));
    this.sharedUsage = S > 0 ? variable(tf.zeros([C, S])) : null;
    this.stepsSinceUsed = variable(tf.zeros([K]));
    this.restartCount = variable(tf.scalar(0));
    this.evalTable = tf.tensor2d(evalT.rows, [C, evalT.width], 'int32');
    this.trainTable = trainT === evalT ? this.evalTable : tf.tensor2d(trainT.rows, [C, trainT.width], 'int32');
    this.ownerOfRow = tf.tensor1d(owners, 'int32');
  }

  /** Builds a fresh quantizer (new weights) from {@link VectorQuantizer.getConfig}'s output. */
  static fromConfig(config: VectorQuantizerConfig): VectorQuantizer {
    if (typeof config !== 'object' || config === null) {
      throw new PiqConfigError(`${OWNER}.fromConfig: 'config' must be an object, got ${describe(config)}.`);
    }
    return new VectorQuantizer({
      ...config,
      layout: CodebookLayout.fromConfig(config.layout),
      seed: config.seed ?? undefined,
    });
  }

  /** The resolved, JSON-serializable configuration. */
  getConfig(): VectorQuantizerConfig {
    this.assertLive('getConfig');
    return { ...this.config, layout: { ...this.config.layout } };
  }

  /** Number of codebook rows `K`. */
  get codebookSize(): number {
    return this.layout.codebookSize;
  }

  /** Whether {@link VectorQuantizer.initializeFromData} still has to run (`init` is `'data'` or `'kmeans'` and no batch was seen). */
  get needsDataInit(): boolean {
    return !this.disposed && !this.initialized;
  }

  /** Variables trained by gradient: `[codebook]` with `update: 'loss'`, none with `'ema'`. */
  get trainableVariables(): tf.Variable[] {
    this.assertLive('trainableVariables');
    return this.config.update === 'loss' ? [this.codebook] : [];
  }

  /** Whether {@link VectorQuantizer.dispose} was called. */
  get isDisposed(): boolean {
    return this.disposed;
  }

  /** A copy of the codebook, `[codebookSize, codeDim]`; the caller owns it. */
  getCodebook(): tf.Tensor2D {
    this.assertLive('getCodebook');
    return this.codebook.clone() as tf.Tensor2D;
  }

  /**
   * Quantizes `features` `[batch, height, width, codeDim]` (or `[batch, n, codeDim]`) with the
   * rows allowed to each example's class, `predictedClass` int32 `[batch]`.
   *
   * Only the allowed rows are gathered per example and compared (no full-codebook mask). Safe
   * under `tf.grad` / `tf.variableGrads` on every backend: the codebook receives the gradient of
   * `codebookLoss` only in the chosen rows; the features receive the straight-through gradient of
   * `quantized` plus the commitment gradient. With `validate` (default) it reads back one small
   * tensor to check for NaN features and out-of-range class ids.
   */
  quantize(features: tf.Tensor, predictedClass: tf.Tensor, options: QuantizeOptions = {}): QuantizeResult {
    const where = `${OWNER}.quantize`;
    this.assertLive('quantize');
    const training = boolean(where, 'training', options.training ?? DEFAULT_QUANTIZE_OPTIONS.training);
    const validate = boolean(where, 'validate', options.validate ?? DEFAULT_QUANTIZE_OPTIONS.validate);
    const { u, cls, batch, n } = this.checkShapes(where, features, predictedClass);
    if (validate) this.checkValues(where, u, cls, null);
    const D = this.codeDim;
    const K = this.codebookSize;
    const beta = this.config.commitmentWeight;
    const table = training ? this.trainTable : this.evalTable;
    const ema = this.config.update === 'ema';
    return tf.tidy(() => {
      const u3 = tf.reshape(u, [batch, n, D]);
      // Codes come from the class's gathered block; the codebook gradient reaches only chosen rows.
      const { codeIndices: idx, codes: selected } = classRestrictedQuantize(u3, this.codebook, table, cls, { validate: false });
      const flatIdx = tf.reshape(idx, [-1]);
      const codebookLoss = ema ? tf.scalar(0) : tf.mean(tf.square(tf.sub(selected, stopGradient(u3))));
      const commitmentLoss = tf.mul(tf.mean(tf.square(tf.sub(u3, stopGradient(selected)))), beta);
      const quantized = tf.reshape(straightThrough(u3, selected), u.shape);
      const counts = tf.bincount(flatIdx as tf.Tensor1D, tf.tensor1d([], 'float32'), K);
      const p = tf.div(counts, batch * n);
      const perplexity = tf.exp(tf.neg(tf.sum(tf.mul(p, tf.log(tf.maximum(p, 1e-30))))));
      return {
        quantized,
        codeIndices: tf.reshape(idx, u.shape.slice(0, -1)),
        codebookLoss: codebookLoss as tf.Scalar,
        commitmentLoss: commitmentLoss as tf.Scalar,
        perplexity: perplexity as tf.Scalar,
      };
    });
  }

  /**
   * Decodes global code indices (int32, any shape) back to code vectors `[...shape, codeDim]`.
   * Differentiable with respect to the codebook on every backend. Reads back two numbers to check
   * the index range.
   */
  codesFromIndices(codeIndices: tf.Tensor): tf.Tensor {
    const where = `${OWNER}.codesFromIndices`;
    this.assertLive('codesFromIndices');
    const idx = tensorArg(where, 'codeIndices', codeIndices);
    if (idx.dtype !== 'int32') {
      throw new PiqInputError(
        `${where}: 'codeIndices' must have dtype int32, got ${idx.dtype}. Pass QuantizeResult.codeIndices or cast with tf.cast(x, 'int32').`,
      );
    }
    if (idx.size === 0) return tf.zeros([...idx.shape, this.codeDim]);
    const [lo, hi] = tf.tidy(() => tf.stack([tf.min(idx), tf.max(idx)]).dataSync());
    if ((lo as number) < 0 || (hi as number) >= this.codebookSize) {
      throw new PiqInputError(
        `${where}: 'codeIndices' must lie in [0, ${this.codebookSize}), got values from ${lo} to ${hi}.`,
      );
    }
    return tf.tidy(() =>
      tf.reshape(selectRows(this.codebook, tf.reshape(idx, [-1])), [...idx.shape, this.codeDim]),
    );
  }

  /**
   * Seeds the codebook from a batch: each class's rows get random feature vectors of that
   * class's examples (`init: 'data'`, or `'uniform'` when called explicitly), refined by
   * `kmeansIterations` Lloyd iterations per class with `init: 'kmeans'`; shared rows get random
   * feature vectors of any class. Classes absent from the batch keep their rows. Resets EMA state
   * and usage statistics. Runs outside any gradient tape; reads the batch back to the host.
   */
  initializeFromData(features: tf.Tensor, predictedClass: tf.Tensor): void {
    const where = `${OWNER}.initializeFromData`;
    this.assertLive('initializeFromData');
    const { u, cls, batch, n } = this.checkShapes(where, features, predictedClass);
    this.checkValues(where, u, cls, null);
    const D = this.codeDim;
    const K = this.codebookSize;
    const data = u.dataSync() as Float32Array;
    const classes = cls.dataSync() as Int32Array;
    const codebook = Float32Array.from(this.codebook.dataSync() as Float32Array);
    const rand = mulberry32(this.seedValue ^ 0x5bd1e995);
    const byClass: number[][] = Array.from({ length: this.layout.numClasses }, () => []);
    const all: number[] = [];
    for (let b = 0; b < batch; b++) {
      for (let j = 0; j < n; j++) {
        const pos = b * n + j;
        byClass[classes[b] as number]?.push(pos);
        all.push(pos);
      }
    }
    const seedRows = (rows: number[], positions: number[]): void => {
      if (positions.length === 0) return;
      const order = shuffleInPlace(positions.slice(), rand);
      rows.forEach((row, i) => {
        const pos = order[i % order.length] as number;
        codebook.set(data.subarray(pos * D, pos * D + D), row * D);
      });
    };
    const layout = this.layout;
    for (let c = 0; c < layout.numClasses; c++) {
      const rows = layout.allowedRows(c, { includeShared: false });
      const positions = byClass[c] as number[];
      seedRows(rows, positions);
      if (this.config.init === 'kmeans' && positions.length > 0) {
        this.lloyd(codebook, rows, positions, data);
      }
    }
    const sb = layout.sharedBlock();
    seedRows(
      Array.from({ length: sb.size }, (_, i) => sb.start + i),
      all,
    );
    tf.tidy(() => {
      const cb = tf.tensor2d(codebook, [K, D]);
      this.codebook.assign(cb);
      this.emaClusterSize?.assign(tf.ones([K]));
      this.emaEmbedSum?.assign(cb);
    });
    this.resetUsage();
    this.initialized = true;
  }

  /**
   * Bookkeeping after the optimizer step, outside the gradient tape: usage statistics, EMA codebook
   * update (`update: 'ema'`) and dead-code restarts (`deadCodeSteps > 0`). Pass the features and
   * classes given to `quantize` and its `codeIndices`. If {@link VectorQuantizer.needsDataInit} is
   * still true, this call initialises from the batch instead (and records no usage for it).
   * Reads back one scalar per call when restarts are on (to skip the restart work when no code is dead).
   */
  postStep(features: tf.Tensor, predictedClass: tf.Tensor, codeIndices: tf.Tensor, options: PostStepOptions = {}): void {
    const where = `${OWNER}.postStep`;
    this.assertLive('postStep');
    const validate = boolean(where, 'validate', options.validate ?? true);
    const { u, cls, batch, n } = this.checkShapes(where, features, predictedClass);
    const idx = tensorArg(where, 'codeIndices', codeIndices);
    const idxShape = u.shape.slice(0, -1);
    if (idx.dtype !== 'int32' || !tf.util.arraysEqual(idx.shape, idxShape)) {
      throw new PiqInputError(
        `${where}: 'codeIndices' must be an int32 tensor of shape ${shapeStr(idxShape)} (the features without their last axis), got ${describe(idx)}. Pass QuantizeResult.codeIndices.`,
      );
    }
    if (validate) this.checkValues(where, u, cls, idx);
    if (!this.initialized) {
      this.initializeFromData(u, cls);
      return;
    }
    const D = this.codeDim;
    const K = this.codebookSize;
    const C = this.layout.numClasses;
    const S = this.layout.sharedCodes;
    const N = batch * n;
    const cfg = this.config;
    const sharedStart = this.layout.sharedBlock().start;
    const holder: { dead: tf.Tensor | null } = { dead: null };
    tf.tidy(() => {
      const uFlat = tf.reshape(u, [N, D]);
      const flatIdx = tf.reshape(idx, [N]);
      const posClass = tf.reshape(tf.tile(tf.reshape(cls, [batch, 1]), [1, n]), [N]);
      const empty = tf.tensor1d([], 'float32');
      const counts = tf.bincount(flatIdx as tf.Tensor1D, empty, K);
      this.usageCounts.assign(tf.add(this.usageCounts, counts));
      if (this.sharedUsage) {
        const local = tf.sub(flatIdx, tf.scalar(sharedStart, 'int32'));
        const inShared = tf.logicalAnd(tf.greaterEqual(local, tf.scalar(0, 'int32')), tf.less(local, tf.scalar(S, 'int32')));
        // Non-shared positions map to C·S, which bincount ignores.
        const key = tf.where(inShared, tf.add(tf.mul(posClass, tf.scalar(S, 'int32')), local), tf.fill([N], C * S, 'int32'));
        const byClass = tf.reshape(tf.bincount(key as tf.Tensor1D, empty, C * S), [C, S]);
        this.sharedUsage.assign(tf.add(this.sharedUsage, byClass));
      }
      const used = tf.greater(counts, 0);
      if (this.emaClusterSize && this.emaEmbedSum) {
        const g = cfg.emaDecay;
        const sums = sumRowsByIndex(uFlat, flatIdx, K); // [K, D]
        const size = tf.add(tf.mul(this.emaClusterSize, g), tf.mul(counts, 1 - g));
        const embed = tf.add(tf.mul(this.emaEmbedSum, g), tf.mul(sums, 1 - g));
        const total = tf.sum(size);
        const eps = cfg.emaEpsilon;
        const smoothed = tf.mul(tf.div(tf.add(size, eps), tf.add(total, K * eps)), total);
        const fresh = tf.div(embed, tf.reshape(smoothed, [K, 1]));
        this.emaClusterSize.assign(size);
        this.emaEmbedSum.assign(embed);
        // Only codes chosen in this step move; unused codes keep their exact value.
        this.codebook.assign(tf.where(tf.reshape(used, [K, 1]), fresh, this.codebook));
      }
      // A step counts against a row only when its owner was present (shared rows: when they are searchable in training).
      const present = tf.cast(tf.greater(tf.bincount(cls as tf.Tensor1D, empty, C), 0), 'float32');
      const sharedActive = tf.tensor1d([cfg.sharedCodesInTraining ? 1 : 0]);
      const ownerPresent = tf.gather(tf.concat([present, sharedActive]), this.ownerOfRow);
      const next = tf.where(used, tf.zerosLike(this.stepsSinceUsed), tf.add(this.stepsSinceUsed, ownerPresent));
      this.stepsSinceUsed.assign(next);
      if (cfg.deadCodeSteps > 0) holder.dead = tf.keep(tf.greaterEqual(next, cfg.deadCodeSteps));
    });
    const dead = holder.dead;
    if (dead) {
      try {
        if ((tf.tidy(() => tf.any(dead).dataSync()[0]) as number) !== 0) this.restart(u, cls, dead, batch, n);
      } finally {
        dead.dispose();
      }
    }
    this.steps += 1;
  }

  /** Codebook health as plain data: counts per code, per-class perplexity, dead codes, restarts. */
  usage(): CodebookUsage {
    this.assertLive('usage');
    const counts = Array.from(this.usageCounts.dataSync());
    const stepsSinceUsed = Array.from(this.stepsSinceUsed.dataSync());
    const shared = this.sharedUsage ? this.sharedUsage.dataSync() : new Float32Array(0);
    const S = this.layout.sharedCodes;
    const T = this.config.deadCodeSteps;
    const perClass: ClassCodeUsage[] = [];
    for (let c = 0; c < this.layout.numClasses; c++) {
      const b = this.layout.blockOf(c);
      const dist = counts.slice(b.start, b.start + b.size);
      for (let s = 0; s < S; s++) dist.push(shared[c * S + s] as number);
      const assignments = dist.reduce((a, x) => a + x, 0);
      let dead = 0;
      if (T > 0) for (let k = b.start; k < b.start + b.size; k++) if ((stepsSinceUsed[k] as number) >= T) dead++;
      perClass.push({
        classIndex: c,
        assignments,
        usedCodes: dist.filter((x) => x > 0).length,
        perplexity: perplexityOfCounts(dist),
        deadCodes: dead,
      });
    }
    return {
      counts,
      stepsSinceUsed,
      perplexity: perplexityOfCounts(counts),
      perClass,
      restartedCodes: this.restartCount.dataSync()[0] as number,
      steps: this.steps,
    };
  }

  /** Clears the usage statistics (counts, steps since used, restart count, step counter). */
  resetUsage(): void {
    this.assertLive('resetUsage');
    tf.tidy(() => {
      this.usageCounts.assign(tf.zerosLike(this.usageCounts));
      this.sharedUsage?.assign(tf.zerosLike(this.sharedUsage));
      this.stepsSinceUsed.assign(tf.zerosLike(this.stepsSinceUsed));
      this.restartCount.assign(tf.scalar(0));
    });
    this.steps = 0;
  }

  /**
   * Copies of all state, by stable path-like name (`'quantizer/codebook'`,
   * `'quantizer/ema_cluster_size'`, ...). The caller owns the returned tensors.
   */
  getWeights(): Record<string, tf.Tensor> {
    this.assertLive('getWeights');
    const out: Record<string, tf.Tensor> = {
      [W.codebook]: this.codebook.clone(),
      [W.usageCounts]: this.usageCounts.clone(),
      [W.stepsSinceUsed]: this.stepsSinceUsed.clone(),
      [W.restartCount]: this.restartCount.clone(),
      [W.initialized]: tf.scalar(this.initialized ? 1 : 0),
      [W.steps]: tf.scalar(this.steps),
    };
    if (this.sharedUsage) out[W.sharedUsage] = this.sharedUsage.clone();
    if (this.emaClusterSize) out[W.emaClusterSize] = this.emaClusterSize.clone();
    if (this.emaEmbedSum) out[W.emaEmbedSum] = this.emaEmbedSum.clone();
    return out;
  }

  /**
   * Restores state saved by {@link VectorQuantizer.getWeights}. `'quantizer/codebook'` is required;
   * other entries are optional (missing ones keep their current value, except that with
   * `update: 'ema'` a codebook given without EMA entries restarts the averages from it); names
   * outside `quantizer/` are ignored. Validates every entry before changing anything. The caller
   * keeps ownership of the given tensors.
   */
  setWeights(weights: Record<string, tf.Tensor>): void {
    const where = `${OWNER}.setWeights`;
    this.assertLive('setWeights');
    if (typeof weights !== 'object' || weights === null) {
      throw new PiqInputError(`${where}: 'weights' must be an object of named tensors, got ${describe(weights)}.`);
    }
    const K = this.codebookSize;
    const expected: Record<string, { shape: number[]; target: tf.Variable | null }> = {
      [W.codebook]: { shape: [K, this.codeDim], target: this.codebook },
      [W.usageCounts]: { shape: [K], target: this.usageCounts },
      [W.stepsSinceUsed]: { shape: [K], target: this.stepsSinceUsed },
      [W.restartCount]: { shape: [], target: this.restartCount },
      [W.initialized]: { shape: [], target: null },
      [W.steps]: { shape: [], target: null },
    };
    if (this.sharedUsage) expected[W.sharedUsage] = { shape: this.sharedUsage.shape, target: this.sharedUsage };
    if (this.emaClusterSize) expected[W.emaClusterSize] = { shape: [K], target: this.emaClusterSize };
    if (this.emaEmbedSum) expected[W.emaEmbedSum] = { shape: [K, this.codeDim], target: this.emaEmbedSum };
    if (!(W.codebook in weights)) {
      throw new PiqInputError(`${where}: 'weights' must contain '${W.codebook}', got keys ${JSON.stringify(Object.keys(weights))}.`);
    }
    for (const [name, value] of Object.entries(weights)) {
      if (!name.startsWith('quantizer/')) continue;
      const spec = expected[name];
      if (!spec) {
        throw new PiqInputError(
          `${where}: 'weights' must only hold names of this configuration (${Object.keys(expected).join(', ')}), got unknown entry '${name}'.`,
        );
      }
      const t = floatTensor(where, `weights['${name}']`, value);
      if (!tf.util.arraysEqual(t.shape, spec.shape)) {
        throw new PiqInputError(
          `${where}: 'weights['${name}']' must have shape ${shapeStr(spec.shape)}, got ${shapeStr(t.shape)}. Was it saved with another configuration?`,
        );
      }
    }
    // A codebook without EMA state: restart the averages from it (cluster size 1 per code).
    if (this.emaClusterSize && this.emaEmbedSum && !(W.emaClusterSize in weights) && !(W.emaEmbedSum in weights)) {
      const size = this.emaClusterSize;
      const sum = this.emaEmbedSum;
      tf.tidy(() => {
        size.assign(tf.ones([K]));
        sum.assign(tf.clone(weights[W.codebook] as tf.Tensor));
      });
    }
    for (const [name, value] of Object.entries(weights)) {
      const spec = expected[name];
      if (!spec) continue;
      if (spec.target) {
        const target = spec.target;
        tf.tidy(() => target.assign(tf.clone(value)));
      } else if (name === W.initialized) {
        this.initialized = (value.dataSync()[0] as number) !== 0;
      } else if (name === W.steps) {
        this.steps = value.dataSync()[0] as number;
      }
    }
  }

  /** Frees all tensors and variables; any later use throws PiqStateError. Safe to call twice. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.codebook.dispose();
    this.emaClusterSize?.dispose();
    this.emaEmbedSum?.dispose();
    this.usageCounts.dispose();
    this.sharedUsage?.dispose();
    this.stepsSinceUsed.dispose();
    this.restartCount.dispose();
    if (this.trainTable !== this.evalTable) this.trainTable.dispose();
    this.evalTable.dispose();
    this.ownerOfRow.dispose();
  }

  private assertLive(method: string): void {
    if (this.disposed) {
      throw new PiqStateError(`${OWNER}.${method}: the quantizer is disposed. Create a new VectorQuantizer.`);
    }
  }

  private checkShapes(
    where: string,
    features: unknown,
    predictedClass: unknown,
  ): { u: tf.Tensor; cls: tf.Tensor; batch: number; n: number } {
    const u = floatTensor(where, 'features', features);
    if (u.rank !== 3 && u.rank !== 4) {
      throw new PiqInputError(
        `${where}: 'features' must have rank 4 [batch, height, width, ${this.codeDim}] or rank 3 [batch, n, ${this.codeDim}], got shape ${shapeStr(u.shape)}.`,
      );
    }
    if (u.shape[u.rank - 1] !== this.codeDim) {
      throw new PiqInputError(
        `${where}: 'features' must have last dimension codeDim = ${this.codeDim}, got shape ${shapeStr(u.shape)}. Project the features to ${this.codeDim} channels or change codeDim.`,
      );
    }
    const cls = tensorArg(where, 'predictedClass', predictedClass);
    if (cls.dtype !== 'int32') {
      throw new PiqInputError(
        `${where}: 'predictedClass' must have dtype int32, got ${cls.dtype}. Use tf.argMax(logits, -1) or tf.cast(x, 'int32').`,
      );
    }
    const batch = u.shape[0] as number;
    if (cls.rank !== 1 || cls.shape[0] !== batch) {
      throw new PiqInputError(
        `${where}: 'predictedClass' must have shape [${batch}] to match the features' batch size, got ${shapeStr(cls.shape)}.`,
      );
    }
    const n = u.shape.slice(1, -1).reduce((a, b) => a * b, 1);
    return { u, cls, batch, n };
  }

  /** One combined read-back: features finite, class ids in range, code indices in range. */
  private checkValues(where: string, u: tf.Tensor, cls: tf.Tensor, idx: tf.Tensor | null): void {
    if (u.size === 0) return;
    const v = tf.tidy(() => {
      const parts = [
        tf.cast(tf.all(tf.isFinite(u)), 'float32'),
        tf.cast(tf.min(cls), 'float32'),
        tf.cast(tf.max(cls), 'float32'),
      ];
      if (idx) parts.push(tf.cast(tf.min(idx), 'float32'), tf.cast(tf.max(idx), 'float32'));
      return tf.stack(parts).dataSync();
    });
    if (v[0] !== 1) {
      throw new PiqInputError(`${where}: 'features' must contain only finite values, got NaN or Infinity. Check the adapter's output.`);
    }
    const C = this.layout.numClasses;
    if ((v[1] as number) < 0 || (v[2] as number) >= C) {
      throw new PiqInputError(
        `${where}: 'predictedClass' must hold class ids in [0, ${C}), got values from ${v[1]} to ${v[2]}.`,
      );
    }
    if (idx && ((v[3] as number) < 0 || (v[4] as number) >= this.codebookSize)) {
      throw new PiqInputError(
        `${where}: 'codeIndices' must lie in [0, ${this.codebookSize}), got values from ${v[3]} to ${v[4]}.`,
      );
    }
  }

  /** Lloyd iterations on the host for the rows of one class. */
  private lloyd(codebook: Float32Array, rows: number[], positions: number[], data: Float32Array): void {
    const D = this.codeDim;
    const m = rows.length;
    const sums = new Float64Array(m * D);
    const cnt = new Float64Array(m);
    for (let it = 0; it < this.config.kmeansIterations; it++) {
      sums.fill(0);
      cnt.fill(0);
      for (const pos of positions) {
        let best = 0;
        let bestD = Infinity;
        for (let r = 0; r < m; r++) {
          const base = (rows[r] as number) * D;
          let dist = 0;
          for (let d = 0; d < D; d++) {
            const diff = (data[pos * D + d] as number) - (codebook[base + d] as number);
            dist += diff * diff;
          }
          if (dist < bestD) {
            bestD = dist;
            best = r;
          }
        }
        cnt[best] = (cnt[best] as number) + 1;
        for (let d = 0; d < D; d++) sums[best * D + d] = (sums[best * D + d] as number) + (data[pos * D + d] as number);
      }
      for (let r = 0; r < m; r++) {
        const c = cnt[r] as number;
        if (c === 0) continue; // an empty cluster keeps its centroid
        const base = (rows[r] as number) * D;
        for (let d = 0; d < D; d++) codebook[base + d] = (sums[r * D + d] as number) / c;
      }
    }
  }

  /** Re-seeds dead rows with random feature vectors of their owner class from this batch. */
  private restart(u: tf.Tensor, cls: tf.Tensor, dead: tf.Tensor, batch: number, n: number): void {
    const K = this.codebookSize;
    const N = batch * n;
    const C = this.layout.numClasses;
    tf.tidy(() => {
      const uFlat = tf.reshape(u, [N, this.codeDim]);
      const posClass = tf.reshape(tf.tile(tf.reshape(cls, [batch, 1]), [1, n]), [1, N]);
      const owner = tf.reshape(this.ownerOfRow, [K, 1]);
      const candidate = tf.logicalOr(tf.equal(owner, posClass), tf.equal(owner, tf.scalar(C, 'int32')));
      const r = tf.randomUniform([K, N], 0, 1, 'float32', `${this.seedValue}:restart:${this.steps}`);
      const score = tf.where(candidate, r, tf.fill([K, N], -1));
      const chosen = tf.argMax(score, 1);
      const restart = tf.logicalAnd(dead, tf.greaterEqual(tf.max(score, 1), 0));
      const restart2 = tf.reshape(restart, [K, 1]);
      const rows = tf.gather(uFlat, chosen);
      this.codebook.assign(tf.where(restart2, rows, this.codebook));
      this.stepsSinceUsed.assign(tf.where(restart, tf.zerosLike(this.stepsSinceUsed), this.stepsSinceUsed));
      if (this.emaClusterSize && this.emaEmbedSum) {
        this.emaClusterSize.assign(tf.where(restart, tf.onesLike(this.emaClusterSize), this.emaClusterSize));
        this.emaEmbedSum.assign(tf.where(restart2, rows, this.emaEmbedSum));
      }
      this.restartCount.assign(tf.add(this.restartCount, tf.sum(tf.cast(restart, 'float32'))));
    });
  }
}
