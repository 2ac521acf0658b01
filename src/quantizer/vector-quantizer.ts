import * as tf from '@tensorflow/tfjs-core';
import { PiqConfigError, PiqInputError } from '../errors';
import { assertLive, boolean, describe, optionsObject, shapeStr } from '../internal/checks';
import { floatTensor, tensorArg } from '../internal/tensor-checks';
import { classRestrictedQuantize } from '../ops/class-restricted-nearest';
import { selectRows } from '../ops/select-rows';
import { stopGradient, straightThrough } from '../ops/straight-through';
import { Codebook, type CodebookUsage } from './codebook';
import { CodebookLayout } from './codebook-layout';
import {
  DEFAULT_QUANTIZE_OPTIONS,
  POST_STEP_KEYS,
  QUANTIZE_KEYS,
  resolveVectorQuantizerOptions,
  type PostStepOptions,
  type QuantizeOptions,
  type QuantizeResult,
  type VectorQuantizerConfig,
  type VectorQuantizerOptions,
} from './vector-quantizer-options';

const OWNER = 'VectorQuantizer';

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
  private readonly codebook: Codebook;
  /** Rows each class may use: with the shared rows (evaluation), and in training. */
  private readonly evalTable: tf.Tensor;
  private readonly trainTable: tf.Tensor;
  private disposed = false;

  constructor(options: VectorQuantizerOptions) {
    const { config, layout } = resolveVectorQuantizerOptions(options);
    this.config = config;
    this.layout = layout;
    this.codeDim = config.codeDim;
    this.codebook = new Codebook(layout, config, config.seed ?? Math.floor(Math.random() * 2 ** 31));
    const C = layout.numClasses;
    const evalT = layout.searchTable({ includeShared: true });
    const trainT = config.sharedCodesInTraining ? evalT : layout.searchTable({ includeShared: false });
    // Owned by this quantizer until dispose().
    this.evalTable = tf.tensor2d(evalT.rows, [C, evalT.width], 'int32');
    this.trainTable = trainT === evalT ? this.evalTable : tf.tensor2d(trainT.rows, [C, trainT.width], 'int32');
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
    return !this.disposed && !this.codebook.initialized;
  }

  /** Variables trained by gradient: `[codebook]` with `update: 'loss'`, none with `'ema'`. */
  get trainableVariables(): tf.Variable[] {
    this.assertLive('trainableVariables');
    return this.codebook.trainableVariables;
  }

  /** Whether {@link VectorQuantizer.dispose} was called. */
  get isDisposed(): boolean {
    return this.disposed;
  }

  /** A copy of the codebook, `[codebookSize, codeDim]`; the caller owns it. */
  getCodebook(): tf.Tensor2D {
    this.assertLive('getCodebook');
    return this.codebook.vectors.clone() as tf.Tensor2D;
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
    const o = optionsObject(where, options, QUANTIZE_KEYS);
    const training = boolean(where, 'training', o.training ?? DEFAULT_QUANTIZE_OPTIONS.training);
    const validate = boolean(where, 'validate', o.validate ?? DEFAULT_QUANTIZE_OPTIONS.validate);
    const { u, cls, batch, n } = this.checkShapes(where, features, predictedClass);
    if (validate) this.checkValues(where, u, cls, null);
    const D = this.codeDim;
    const K = this.codebookSize;
    const beta = this.config.commitmentWeight;
    const table = training ? this.trainTable : this.evalTable;
    const ema = this.config.update === 'ema';
    const codebook = this.codebook.vectors;
    return tf.tidy(() => {
      const u3 = tf.reshape(u, [batch, n, D]);
      // Codes come from the class's gathered block; the codebook gradient reaches only chosen rows.
      const { codeIndices: idx, codes: selected } = classRestrictedQuantize(u3, codebook, table, cls, { validate: false });
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
    const codebook = this.codebook.vectors;
    return tf.tidy(() =>
      tf.reshape(selectRows(codebook, tf.reshape(idx, [-1])), [...idx.shape, this.codeDim]),
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
    this.codebook.seedFromBatch(u, cls, batch, n);
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
    const validate = boolean(where, 'validate', optionsObject(where, options, POST_STEP_KEYS).validate ?? true);
    const { u, cls, batch, n } = this.checkShapes(where, features, predictedClass);
    const idx = tensorArg(where, 'codeIndices', codeIndices);
    const idxShape = u.shape.slice(0, -1);
    if (idx.dtype !== 'int32' || !tf.util.arraysEqual(idx.shape, idxShape)) {
      throw new PiqInputError(
        `${where}: 'codeIndices' must be an int32 tensor of shape ${shapeStr(idxShape)} (the features without their last axis), got ${describe(idx)}. Pass QuantizeResult.codeIndices.`,
      );
    }
    if (validate) this.checkValues(where, u, cls, idx);
    if (!this.codebook.initialized) {
      this.initializeFromData(u, cls);
      return;
    }
    this.codebook.update({ features: u, predictedClass: cls, codeIndices: idx, batch, n });
  }

  /** Codebook health as plain data: counts per code, per-class perplexity, dead codes, restarts. */
  usage(): CodebookUsage {
    this.assertLive('usage');
    return this.codebook.usage();
  }

  /** Clears the usage statistics (counts, steps since used, restart count, step counter). */
  resetUsage(): void {
    this.assertLive('resetUsage');
    this.codebook.resetUsage();
  }

  /**
   * Copies of all state, by stable path-like name (`'quantizer/codebook'`,
   * `'quantizer/ema_cluster_size'`, ...). The caller owns the returned tensors.
   */
  getWeights(): Record<string, tf.Tensor> {
    this.assertLive('getWeights');
    return this.codebook.getWeights();
  }

  /**
   * Restores state saved by {@link VectorQuantizer.getWeights}. `'quantizer/codebook'` is required;
   * other entries are optional (missing ones keep their current value, except that with
   * `update: 'ema'` a codebook given without EMA entries restarts the averages from it); names
   * outside `quantizer/` are ignored. Validates every entry before changing anything. The caller
   * keeps ownership of the given tensors.
   */
  setWeights(weights: Record<string, tf.Tensor>): void {
    this.assertLive('setWeights');
    this.codebook.setWeights(`${OWNER}.setWeights`, weights);
  }

  /** Frees all tensors and variables; any later use throws PiqStateError. Safe to call twice. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.codebook.dispose();
    if (this.trainTable !== this.evalTable) this.trainTable.dispose();
    this.evalTable.dispose();
  }

  private assertLive(method: string): void {
    assertLive(this.disposed, OWNER, method, 'quantizer', 'Create a new VectorQuantizer.');
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
}

