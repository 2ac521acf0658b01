// Options, resolved configuration and call options of the VectorQuantizer (and its Codebook).
import type * as tf from '@tensorflow/tfjs-core';
import { PiqConfigError } from '../errors';
import { boolean, describe, finiteNumber, nonNegativeInt, oneOf, optionKeys, optionsObject, positiveInt } from '../internal/checks';
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

/** The keys of {@link VectorQuantizerOptions}. */
export const VECTOR_QUANTIZER_KEYS = optionKeys<VectorQuantizerOptions>({
  codeDim: true,
  layout: true,
  commitmentWeight: true,
  sharedCodesInTraining: true,
  init: true,
  kmeansIterations: true,
  update: true,
  emaDecay: true,
  emaEpsilon: true,
  deadCodeSteps: true,
  seed: true,
});

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
 */
export const DEFAULT_QUANTIZE_OPTIONS = Object.freeze({ training: false, validate: true });

/** The keys of {@link QuantizeOptions}. */
export const QUANTIZE_KEYS = optionKeys<QuantizeOptions>({ training: true, validate: true });

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

/** The keys of {@link PostStepOptions}. */
export const POST_STEP_KEYS = optionKeys<PostStepOptions>({ validate: true });

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

const OWNER = 'VectorQuantizer';

/** Resolves and validates {@link VectorQuantizerOptions}. */
export function resolveVectorQuantizerOptions(options: VectorQuantizerOptions): {
  config: VectorQuantizerConfig;
  layout: CodebookLayout;
} {
  const where = `${OWNER}.constructor`;
  if (typeof options !== 'object' || options === null) {
    throw new PiqConfigError(`${where}: 'options' must be an object, got ${describe(options)}.`);
  }
  optionsObject(where, options, VECTOR_QUANTIZER_KEYS);
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

