// Options of Trainer.fit, their defaults and their one resolution (validated once, at the boundary).
import * as tf from '@tensorflow/tfjs-core';
import { PiqConfigError } from '../errors';
import { boolean, describe, finiteNumber, nonNegativeInt, oneOf, optionKeys, optionsObject, positiveInt } from '../internal/checks';
import { loadHandler, saveHandler, type SaveDestination } from '../io/artifact';
import { resolveCallbacks, type FitCallback, type Verbosity } from './callbacks';
import type { DataSource } from './data';

/** A validation quantity a schedule watches: input fidelity (higher is better) or the total loss (lower is better). */
type Monitor = 'inputFidelity' | 'loss';

/**
 * Reduce-on-plateau learning-rate schedule, checked after each epoch's validation. The defaults are
 * tf.keras's rule, not the reference's; the reference audio recipe's schedule (SpeechBrain
 * `ReduceLROnPlateau`, halving on validation input fidelity, patience 3, not before epoch 100,
 * floor 1e-8) is `{ rule: 'speechbrain', patience: 3, minEpochsBeforeReduce: 100, minLearningRate: 1e-8 }`
 * (the MNIST development code: `minEpochsBeforeReduce: 50`, `monitor: 'loss'`).
 *
 * @example
 * ```ts
 * await interpreter.fit(train, { epochs: 200, batchSize: 16, learningRate: 2e-4, weightDecay: 2e-6, validationData: valid,
 *   lrSchedule: { rule: 'speechbrain', patience: 3, minEpochsBeforeReduce: 100, minLearningRate: 1e-8 } });
 * ```
 * @category Training
 */
export interface PlateauScheduleOptions {
  /** Quantity watched: validation input fidelity (higher is better) or validation total loss (lower is better). @defaultValue 'inputFidelity' */
  monitor?: 'inputFidelity' | 'loss';
  /** Multiplier applied to the rate on a plateau. @defaultValue 0.5 */
  factor?: number;
  /**
   * Epochs without improvement tolerated. With `rule: 'keras'` the rate is reduced on the
   * `patience`-th such epoch in a row; with `rule: 'speechbrain'` on the (`patience` + 1)-th.
   * @defaultValue 2
   */
  patience?: number;
  /** Lowest learning rate. @defaultValue 1e-6 */
  minLearningRate?: number;
  /**
   * How epochs are counted. `'keras'`: an improvement must beat the best value (by more than 1e-9),
   * the rate falls on the `patience`-th epoch without one. `'speechbrain'`: the reference's
   * `ReduceLROnPlateau` — a value at least as good as the anchor (equality counts) is an improvement
   * and becomes the anchor; the rate falls on the (`patience` + 1)-th epoch without one; up to epoch
   * `minEpochsBeforeReduce` the anchor is simply the latest value.
   * @defaultValue 'keras'
   */
  rule?: 'keras' | 'speechbrain';
  /**
   * No reduction at the end of epochs 1 … N (1-based epochs of this `fit` call; a run resumed from a
   * checkpoint continues the count): the reference's `dont_halve_until_epoch` (100 for audio, 50 for MNIST). The earliest
   * reduction with the speechbrain rule is at the end of epoch N + patience + 1.
   * @defaultValue 0
   */
  minEpochsBeforeReduce?: number;
}

const PLATEAU_KEYS = optionKeys<PlateauScheduleOptions>({ monitor: true, factor: true, patience: true, minLearningRate: true, rule: true, minEpochsBeforeReduce: true });

/**
 * Early stopping on a validation quantity.
 * @category Training
 */
export interface EarlyStoppingOptions {
  /** Quantity watched, as for {@link PlateauScheduleOptions.monitor}. @defaultValue 'loss' */
  monitor?: 'inputFidelity' | 'loss';
  /** Epochs without improvement before stopping. @defaultValue 3 */
  patience?: number;
}

const EARLY_STOPPING_KEYS = optionKeys<EarlyStoppingOptions>({ monitor: true, patience: true });

/**
 * One progress report, sent every `logEvery` steps (values are read back from the device only then).
 * @category Training
 */
export interface StepProgress {
  /** 1-based global step. */
  step: number;
  /** 0-based epoch. */
  epoch: number;
  /** Batches done in this epoch, and the total when known. */
  batch: number;
  batchesPerEpoch?: number;
  /** Total loss and its named weighted terms at this step. */
  loss: Record<string, number>;
  /** Code usage perplexity of the batch. */
  perplexity: number;
  learningRate: number;
}

/**
 * Loss terms and input fidelity of a data source, from {@link Trainer.evaluate} and in
 * {@link EpochLog.validation}.
 * @category Training
 */
export interface EvaluationLog {
  /** Mean of each loss term (plus `total`) over the examples. */
  loss: Record<string, number>;
  /** Fraction of examples on whose interpretation the classifier keeps its decision. */
  inputFidelity: number;
}

/**
 * The record of one epoch.
 * @category Training
 */
export interface EpochLog {
  epoch: number;
  /** Mean of the logged training losses over the epoch, per term (plus `total`). */
  loss: Record<string, number>;
  /** Validation loss terms and input fidelity, when validation data was given. */
  validation?: EvaluationLog;
  learningRate: number;
  seconds: number;
}

/**
 * Options of {@link Trainer.fit}.
 * @category Training
 */
export interface FitOptions {
  /** @defaultValue 10 */
  epochs?: number;
  /** Batch size for tensor data. @defaultValue 64 */
  batchSize?: number;
  /** Adam learning rate. @defaultValue 1e-3 */
  learningRate?: number;
  /** L2 weight decay added to the gradients (as torch's Adam `weight_decay`; the reference uses 2e-6). @defaultValue 0 */
  weightDecay?: number;
  /** Data scored after each epoch (validation loss terms and input fidelity). @defaultValue undefined */
  validationData?: DataSource;
  /** Shuffle tensor data each epoch. @defaultValue true */
  shuffle?: boolean;
  /** Seed for shuffling. @defaultValue 0 */
  seed?: number;
  /** Read the loss back (and check it is finite) every this many steps. @defaultValue 10 */
  logEvery?: number;
  /**
   * Progress printed in Node, as tfjs-layers' `verbose`: `0` nothing, `1` a progress line redrawn
   * on stderr when it is a terminal (epoch, step, loss terms, steps/s, ETA; nothing otherwise),
   * `2` one line per epoch on stderr. Never prints in a browser. @defaultValue 1
   */
  verbose?: Verbosity;
  /**
   * tfjs-layers-style callbacks: one object or an array (`onTrainBegin`, `onEpochBegin`,
   * `onBatchBegin`, `onBatchEnd(batch, logs)`, `onEpochEnd(epoch, logs)`, `onTrainEnd`; async
   * allowed). `tfl.callbacks.earlyStopping()` and `tfvis.show.fitCallbacks()` work as they are.
   * See {@link FitCallback}. @defaultValue []
   */
  callbacks?: FitCallback | FitCallback[];
  /**
   * Per-step progress callback (every `logEvery` steps), with the global step, perplexity and
   * learning rate. `callbacks: { onBatchEnd }` is the tfjs-style equivalent. @defaultValue undefined
   */
  onProgress?: (p: StepProgress) => void;
  /**
   * Called after each epoch with its {@link EpochLog}. `callbacks: { onEpochEnd(epoch, logs) }` is
   * the tfjs-style equivalent. @defaultValue undefined
   */
  onEpochEnd?: (log: EpochLog) => void | Promise<void>;
  /** Learning-rate schedule; `false` to keep the rate fixed. @defaultValue false */
  lrSchedule?: PlateauScheduleOptions | false;
  /** Early stopping; needs validation data. @defaultValue false */
  earlyStopping?: EarlyStoppingOptions | false;
  /** Stops training (after the current step) when aborted; the history says `aborted: true`. @defaultValue undefined */
  signal?: AbortSignal;
  /** Stop after this many steps in total. @defaultValue Infinity */
  maxSteps?: number;
  /**
   * Save a resumable checkpoint (weights, optimizer state, random state, schedule state, loss
   * history) every `every` steps or epochs. A non-finite state is never saved. @defaultValue undefined
   */
  checkpoint?: CheckpointOptions;
  /**
   * Continue training from a checkpoint written by `checkpoint`: restores all of it and goes on so
   * that the result equals an uninterrupted run. Pass the same data and options. @defaultValue undefined
   */
  resumeFrom?: SaveDestination;
}

/** The keys of {@link FitOptions} (for the unknown-key check; `Interpreter.finetune` adds its own). */
export const FIT_KEYS = optionKeys<FitOptions>({
  epochs: true,
  batchSize: true,
  learningRate: true,
  weightDecay: true,
  validationData: true,
  shuffle: true,
  seed: true,
  logEvery: true,
  verbose: true,
  callbacks: true,
  onProgress: true,
  onEpochEnd: true,
  lrSchedule: true,
  earlyStopping: true,
  signal: true,
  maxSteps: true,
  checkpoint: true,
  resumeFrom: true,
});

/**
 * When and where {@link Trainer.fit} saves checkpoints.
 *
 * @example
 * ```ts
 * import { fileSystem } from 'piq-tfjs/node';
 * const dest = fileSystem('./checkpoints/run1');
 * await interpreter.fit(images, { epochs: 20, checkpoint: { every: 100, unit: 'step', destination: dest } });
 * // after a crash: the same call plus resumeFrom continues where the last checkpoint left off
 * await interpreter.fit(images, { epochs: 20, checkpoint: { every: 100, unit: 'step', destination: dest }, resumeFrom: dest });
 * ```
 * @category Training
 */
export interface CheckpointOptions {
  /** Save every this many units (global steps, or epochs of this fit). */
  every: number;
  /** Unit of `every`. @defaultValue 'epoch' */
  unit?: 'step' | 'epoch';
  /** Where to save: a tf.io URL (`indexeddb://…`, `file://…` with `piq-tfjs/node`) or a tf.io.IOHandler. Each checkpoint replaces the previous one. */
  destination: SaveDestination;
}

const CHECKPOINT_KEYS = optionKeys<CheckpointOptions>({ every: true, unit: true, destination: true });

/**
 * Defaults of {@link CheckpointOptions}.
 */
export const DEFAULT_CHECKPOINT = Object.freeze({ unit: 'epoch' as 'step' | 'epoch' });

/**
 * Per-epoch numbers by log name, as tfjs-layers' `History.history`: `loss` always (one entry per
 * epoch), and `reconstruction`, `codebook`, `val_loss`, `val_inputFidelity`, … as logged.
 * @category Training
 */
export type FitHistoryRecord = { loss: number[] } & Record<string, number[]>;

/**
 * What {@link Trainer.fit} returns.
 * @category Training
 */
export interface FitHistory {
  /** One record per epoch (the last one partial when the run was cut short mid-epoch). */
  epochs: EpochLog[];
  /**
   * The same numbers as tfjs-layers' `History.history`: one array per log name (`loss`, each loss
   * term, `val_loss`, `val_<term>`, `val_inputFidelity`), one entry per epoch that logged it, so
   * `history.history.loss[i]` is `epochs[i].loss.total`. Plots with `tfvis.show.history`.
   */
  history: FitHistoryRecord;
  steps: number;
  stoppedEarly: boolean;
  aborted: boolean;
  seconds: number;
}

/**
 * Defaults of {@link FitOptions}.
 */
export const DEFAULT_FIT = Object.freeze({
  epochs: 10,
  batchSize: 64,
  learningRate: 1e-3,
  weightDecay: 0,
  shuffle: true,
  seed: 0,
  logEvery: 10,
  verbose: 1 as Verbosity,
  maxSteps: Number.POSITIVE_INFINITY,
});

const OWNER = 'Trainer.fit';

/** A plain options object (not an array or a tensor). */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof tf.Tensor);
}

function optionalObject(name: string, v: unknown, keys: readonly string[]): Record<string, unknown> | undefined {
  if (v === undefined || v === false) return undefined;
  if (!isRecord(v)) throw new PiqConfigError(`${OWNER}: '${name}' must be an options object or false, got ${describe(v)}.`);
  return optionsObject(OWNER, v, keys, name);
}

function monitorOf(name: string, value: unknown): Monitor {
  if (value === 'FidIn') {
    throw new PiqConfigError(`${OWNER}: '${name}' must be one of 'inputFidelity', 'loss', got "FidIn". 'FidIn' was renamed 'inputFidelity'.`);
  }
  return oneOf(OWNER, name, value, ['inputFidelity', 'loss'] as const);
}

/** Fills the defaults of {@link FitOptions} and validates every field once. */
export function resolveFit(options: FitOptions) {
  const o = optionsObject<FitOptions>(OWNER, options, FIT_KEYS);
  const epochs = positiveInt(OWNER, 'epochs', o.epochs ?? DEFAULT_FIT.epochs);
  const batchSize = positiveInt(OWNER, 'batchSize', o.batchSize ?? DEFAULT_FIT.batchSize);
  const learningRate = finiteNumber(OWNER, 'learningRate', o.learningRate ?? DEFAULT_FIT.learningRate, { min: 0, minExclusive: true });
  const weightDecay = finiteNumber(OWNER, 'weightDecay', o.weightDecay ?? DEFAULT_FIT.weightDecay, { min: 0 });
  const shuffle = boolean(OWNER, 'shuffle', o.shuffle ?? DEFAULT_FIT.shuffle);
  const seed = o.seed ?? DEFAULT_FIT.seed;
  if (!Number.isInteger(seed)) throw new PiqConfigError(`${OWNER}: 'seed' must be an integer, got ${describe(seed)}.`);
  const logEvery = positiveInt(OWNER, 'logEvery', o.logEvery ?? DEFAULT_FIT.logEvery);
  const maxSteps = o.maxSteps === undefined || o.maxSteps === Number.POSITIVE_INFINITY ? DEFAULT_FIT.maxSteps : positiveInt(OWNER, 'maxSteps', o.maxSteps);
  const verbose = oneOf(OWNER, 'verbose', o.verbose ?? DEFAULT_FIT.verbose, [0, 1, 2] as const);
  const callbacks = resolveCallbacks(OWNER, o.callbacks);
  const lrSchedule = optionalObject('lrSchedule', o.lrSchedule, PLATEAU_KEYS) as PlateauScheduleOptions | undefined;
  const earlyStopping = optionalObject('earlyStopping', o.earlyStopping, EARLY_STOPPING_KEYS) as EarlyStoppingOptions | undefined;
  const schedule = lrSchedule
    ? {
        monitor: monitorOf('lrSchedule.monitor', lrSchedule.monitor ?? 'inputFidelity'),
        factor: finiteNumber(OWNER, 'lrSchedule.factor', lrSchedule.factor ?? 0.5, { min: 0, max: 1, minExclusive: true }),
        patience: positiveInt(OWNER, 'lrSchedule.patience', lrSchedule.patience ?? 2),
        minLearningRate: finiteNumber(OWNER, 'lrSchedule.minLearningRate', lrSchedule.minLearningRate ?? 1e-6, { min: 0 }),
        rule: oneOf(OWNER, 'lrSchedule.rule', lrSchedule.rule ?? 'keras', ['keras', 'speechbrain'] as const),
        minEpochsBeforeReduce: nonNegativeInt(OWNER, 'lrSchedule.minEpochsBeforeReduce', lrSchedule.minEpochsBeforeReduce ?? 0),
      }
    : undefined;
  const early = earlyStopping
    ? {
        monitor: monitorOf('earlyStopping.monitor', earlyStopping.monitor ?? 'loss'),
        patience: positiveInt(OWNER, 'earlyStopping.patience', earlyStopping.patience ?? 3),
      }
    : undefined;
  if ((schedule || early) && o.validationData === undefined) {
    throw new PiqConfigError(`${OWNER}: 'validationData' is required when 'lrSchedule' or 'earlyStopping' is set, got undefined.`);
  }
  for (const name of ['onProgress', 'onEpochEnd'] as const) {
    if (o[name] !== undefined && typeof o[name] !== 'function') {
      throw new PiqConfigError(`${OWNER}: '${name}' must be a function, got ${describe(o[name])}.`);
    }
  }
  if (o.signal !== undefined && (typeof o.signal !== 'object' || o.signal === null || typeof (o.signal as { aborted?: unknown }).aborted !== 'boolean')) {
    throw new PiqConfigError(`${OWNER}: 'signal' must be an AbortSignal, got ${describe(o.signal)}. Pass new AbortController().signal.`);
  }
  if (o.validationData !== undefined && (o.validationData === null || typeof o.validationData !== 'object')) {
    throw new PiqConfigError(`${OWNER}: 'validationData' must be a tf.Tensor4D, an array of batches or an (async) iterable, got ${describe(o.validationData)}.`);
  }
  let checkpoint: { every: number; unit: 'step' | 'epoch'; handler: tf.io.IOHandler & { save: NonNullable<tf.io.IOHandler['save']> } } | undefined;
  if (o.checkpoint !== undefined) {
    if (!isRecord(o.checkpoint)) {
      throw new PiqConfigError(`${OWNER}: 'checkpoint' must be an object { every, unit?, destination }, got ${describe(o.checkpoint)}.`);
    }
    const c = optionsObject<CheckpointOptions>(OWNER, o.checkpoint as CheckpointOptions, CHECKPOINT_KEYS, 'checkpoint');
    const every = positiveInt(OWNER, 'checkpoint.every', c.every);
    const unit = oneOf(OWNER, 'checkpoint.unit', c.unit ?? DEFAULT_CHECKPOINT.unit, ['step', 'epoch'] as const);
    const handler = saveHandler(OWNER, c.destination as SaveDestination, 'checkpoint.destination');
    if (typeof handler.save !== 'function') throw new PiqConfigError(`${OWNER}: the handler for 'checkpoint.destination' cannot save.`);
    checkpoint = { every, unit, handler: handler as tf.io.IOHandler & { save: NonNullable<tf.io.IOHandler['save']> } };
  }
  const resume = o.resumeFrom === undefined ? undefined : loadHandler(OWNER, o.resumeFrom, 'resumeFrom');
  return {
    epochs,
    batchSize,
    learningRate,
    weightDecay,
    shuffle,
    seed,
    logEvery,
    maxSteps,
    schedule,
    early,
    checkpoint,
    resume,
    validationData: o.validationData,
    verbose,
    callbacks,
    onProgress: o.onProgress,
    onEpochEnd: o.onEpochEnd,
    signal: o.signal,
  };
}


/** What {@link resolveFit} returns. */
export type ResolvedFit = ReturnType<typeof resolveFit>;
