// The codebook as an object of its own (as vector-quantize-pytorch separates `Codebook` from
// `VectorQuantize`): it owns the code vectors and every piece of state around them — EMA averages,
// initialisation, dead-code restarts, usage statistics — and their saving. The VectorQuantizer
// keeps the quantizing itself.
import * as tf from '@tensorflow/tfjs-core';
import { PiqInputError } from '../errors';
import { describe, shapeStr } from '../internal/checks';
import { floatTensor } from '../internal/tensor-checks';
import { sumRowsByIndex } from '../ops/select-rows';
import { seedCodebookFromBatch } from './codebook-init';
import type { CodebookLayout } from './codebook-layout';
import type { VectorQuantizerConfig } from './vector-quantizer-options';

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

/** Stable names of the saved state (part of the artifact format: never rename). */
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

/** A batch of features `[N = batch · n, codeDim]` with the class of each example and the chosen rows. */
export interface CodeAssignment {
  features: tf.Tensor;
  predictedClass: tf.Tensor;
  codeIndices: tf.Tensor;
  batch: number;
  n: number;
}

/**
 * Internal to the quantizer: the code vectors `[codebookSize, codeDim]` and their state. Methods
 * take validated tensors (the VectorQuantizer checks its arguments); the VectorQuantizer disposes it.
 */
export class Codebook {
  /** The code vectors; trainable by gradient unless `update: 'ema'`. */
  readonly vectors: tf.Variable;
  private readonly emaClusterSize: tf.Variable | null;
  private readonly emaEmbedSum: tf.Variable | null;
  private readonly usageCounts: tf.Variable;
  private readonly sharedUsage: tf.Variable | null;
  private readonly stepsSinceUsed: tf.Variable;
  private readonly restartCount: tf.Variable;
  /** Owner class of each row (`numClasses` for shared rows), int32 `[codebookSize]`. */
  private readonly ownerOfRow: tf.Tensor;
  private seeded: boolean;
  private steps = 0;

  constructor(
    private readonly layout: CodebookLayout,
    private readonly config: VectorQuantizerConfig,
    /** The seed of every draw: `config.seed`, or a random one when that is null. */
    private readonly seed: number,
  ) {
    const K = layout.codebookSize;
    const C = layout.numClasses;
    const S = layout.sharedCodes;
    const ema = config.update === 'ema';
    this.seeded = config.init === 'uniform';
    const owners = new Int32Array(K);
    for (let k = 0; k < K; k++) {
      const c = layout.classOfRow(k);
      owners[k] = c < 0 ? C : c;
    }
    // tf.variable shares the initial tensor's data; the initial tensor itself is released.
    const variable = (init: tf.Tensor, trainable = false): tf.Variable => {
      const v = tf.variable(init, trainable);
      init.dispose();
      return v;
    };
    // uniform(−1/K, 1/K), as the reference initialises its codebook.
    this.vectors = variable(tf.randomUniform([K, config.codeDim], -1 / K, 1 / K, 'float32', seed), !ema);
    this.emaClusterSize = ema ? variable(tf.ones([K])) : null;
    this.emaEmbedSum = ema ? variable(this.vectors.clone()) : null;
    this.usageCounts = variable(tf.zeros([K]));
    this.sharedUsage = S > 0 ? variable(tf.zeros([C, S])) : null;
    this.stepsSinceUsed = variable(tf.zeros([K]));
    this.restartCount = variable(tf.scalar(0));
    this.ownerOfRow = tf.tensor1d(owners, 'int32');
  }

  /** False until the codebook was seeded from data (`init: 'data' | 'kmeans'`); true from the start for `'uniform'`. */
  get initialized(): boolean {
    return this.seeded;
  }

  /** Variables trained by gradient: `[vectors]` with `update: 'loss'`, none with `'ema'`. */
  get trainableVariables(): tf.Variable[] {
    return this.config.update === 'loss' ? [this.vectors] : [];
  }

  /**
   * Seeds the rows from a batch (see {@link seedCodebookFromBatch}); resets the EMA state and the
   * usage statistics. Reads the batch back to the host.
   */
  seedFromBatch(features: tf.Tensor, predictedClass: tf.Tensor, batch: number, n: number): void {
    const K = this.layout.codebookSize;
    const D = this.config.codeDim;
    const codebook = Float32Array.from(this.vectors.dataSync() as Float32Array);
    const host = { data: features.dataSync() as Float32Array, classes: predictedClass.dataSync() as Int32Array, batch, n };
    const iterations = this.config.init === 'kmeans' ? this.config.kmeansIterations : 0;
    seedCodebookFromBatch(codebook, this.layout, D, host, this.seed, iterations);
    tf.tidy(() => {
      const cb = tf.tensor2d(codebook, [K, D]);
      this.vectors.assign(cb);
      this.emaClusterSize?.assign(tf.ones([K]));
      this.emaEmbedSum?.assign(cb);
    });
    this.resetUsage();
    this.seeded = true;
  }

  /**
   * One step of bookkeeping after the optimizer step: usage counts, the EMA update of the chosen
   * rows (`update: 'ema'`), steps since each row was used and dead-code restarts (`deadCodeSteps > 0`).
   */
  update(a: CodeAssignment): void {
    const { features: u, predictedClass: cls, codeIndices: idx, batch, n } = a;
    const K = this.layout.codebookSize;
    const C = this.layout.numClasses;
    const S = this.layout.sharedCodes;
    const D = this.config.codeDim;
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
        this.vectors.assign(tf.where(tf.reshape(used, [K, 1]), fresh, this.vectors));
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

  /** Re-seeds dead rows with random feature vectors of their owner class from this batch. */
  private restart(u: tf.Tensor, cls: tf.Tensor, dead: tf.Tensor, batch: number, n: number): void {
    const K = this.layout.codebookSize;
    const N = batch * n;
    const C = this.layout.numClasses;
    tf.tidy(() => {
      const uFlat = tf.reshape(u, [N, this.config.codeDim]);
      const posClass = tf.reshape(tf.tile(tf.reshape(cls, [batch, 1]), [1, n]), [1, N]);
      const owner = tf.reshape(this.ownerOfRow, [K, 1]);
      const candidate = tf.logicalOr(tf.equal(owner, posClass), tf.equal(owner, tf.scalar(C, 'int32')));
      const r = tf.randomUniform([K, N], 0, 1, 'float32', `${this.seed}:restart:${this.steps}`);
      const score = tf.where(candidate, r, tf.fill([K, N], -1));
      const chosen = tf.argMax(score, 1);
      const restart = tf.logicalAnd(dead, tf.greaterEqual(tf.max(score, 1), 0));
      const restart2 = tf.reshape(restart, [K, 1]);
      const rows = tf.gather(uFlat, chosen);
      this.vectors.assign(tf.where(restart2, rows, this.vectors));
      this.stepsSinceUsed.assign(tf.where(restart, tf.zerosLike(this.stepsSinceUsed), this.stepsSinceUsed));
      if (this.emaClusterSize && this.emaEmbedSum) {
        this.emaClusterSize.assign(tf.where(restart, tf.onesLike(this.emaClusterSize), this.emaClusterSize));
        this.emaEmbedSum.assign(tf.where(restart2, rows, this.emaEmbedSum));
      }
      this.restartCount.assign(tf.add(this.restartCount, tf.sum(tf.cast(restart, 'float32'))));
    });
  }

  /** Codebook health as plain data: counts per code, per-class perplexity, dead codes, restarts. */
  usage(): CodebookUsage {
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
      const assignments = dist.reduce((acc, x) => acc + x, 0);
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
    tf.tidy(() => {
      this.usageCounts.assign(tf.zerosLike(this.usageCounts));
      this.sharedUsage?.assign(tf.zerosLike(this.sharedUsage));
      this.stepsSinceUsed.assign(tf.zerosLike(this.stepsSinceUsed));
      this.restartCount.assign(tf.scalar(0));
    });
    this.steps = 0;
  }

  /** Copies of all state by stable name (`'quantizer/codebook'`, …); the caller owns them. */
  getWeights(): Record<string, tf.Tensor> {
    const out: Record<string, tf.Tensor> = {
      [W.codebook]: this.vectors.clone(),
      [W.usageCounts]: this.usageCounts.clone(),
      [W.stepsSinceUsed]: this.stepsSinceUsed.clone(),
      [W.restartCount]: this.restartCount.clone(),
      [W.initialized]: tf.scalar(this.seeded ? 1 : 0),
      [W.steps]: tf.scalar(this.steps),
    };
    if (this.sharedUsage) out[W.sharedUsage] = this.sharedUsage.clone();
    if (this.emaClusterSize) out[W.emaClusterSize] = this.emaClusterSize.clone();
    if (this.emaEmbedSum) out[W.emaEmbedSum] = this.emaEmbedSum.clone();
    return out;
  }

  /**
   * Restores state saved by {@link Codebook.getWeights}; see {@link VectorQuantizer.setWeights}.
   * Validates every entry before changing anything.
   */
  setWeights(where: string, weights: Record<string, tf.Tensor>): void {
    if (typeof weights !== 'object' || weights === null) {
      throw new PiqInputError(`${where}: 'weights' must be an object of named tensors, got ${describe(weights)}.`);
    }
    const K = this.layout.codebookSize;
    const D = this.config.codeDim;
    const expected: Record<string, { shape: number[]; target: tf.Variable | null }> = {
      [W.codebook]: { shape: [K, D], target: this.vectors },
      [W.usageCounts]: { shape: [K], target: this.usageCounts },
      [W.stepsSinceUsed]: { shape: [K], target: this.stepsSinceUsed },
      [W.restartCount]: { shape: [], target: this.restartCount },
      [W.initialized]: { shape: [], target: null },
      [W.steps]: { shape: [], target: null },
    };
    if (this.sharedUsage) expected[W.sharedUsage] = { shape: this.sharedUsage.shape, target: this.sharedUsage };
    if (this.emaClusterSize) expected[W.emaClusterSize] = { shape: [K], target: this.emaClusterSize };
    if (this.emaEmbedSum) expected[W.emaEmbedSum] = { shape: [K, D], target: this.emaEmbedSum };
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
        this.seeded = (value.dataSync()[0] as number) !== 0;
      } else if (name === W.steps) {
        this.steps = value.dataSync()[0] as number;
      }
    }
  }

  /** Frees every variable and tensor. */
  dispose(): void {
    this.vectors.dispose();
    this.emaClusterSize?.dispose();
    this.emaEmbedSum?.dispose();
    this.usageCounts.dispose();
    this.sharedUsage?.dispose();
    this.stepsSinceUsed.dispose();
    this.restartCount.dispose();
    this.ownerOfRow.dispose();
  }
}
