import * as tf from '@tensorflow/tfjs-core';
import { checkInputBatch } from '../classifier/input-check';
import { decisionAgreement } from '../classifier/scoring';
import { PiqConfigError, PiqInputError, PiqStateError } from '../errors';
import { boolean, describe, finiteNumber, oneOf, positiveInt, shapeStr } from '../internal/checks';
import { decodeArtifacts, encodeArtifacts, loadHandler, saveHandler, type SaveDestination } from '../io/artifact';
import { mulberry32 } from '../internal/random';
import { epochBatches, type DataSource } from './data';
import { PiqModel } from './piq-model';

/**
 * Reduce-on-plateau learning-rate schedule (the reference halves the rate when validation input fidelity stalls).
 * @category Training
 */
export interface PlateauScheduleOptions {
  /** Quantity watched: validation input fidelity (higher is better) or validation total loss (lower is better). @defaultValue 'FidIn' */
  monitor?: 'FidIn' | 'loss';
  /** Multiplier applied to the rate on a plateau. @defaultValue 0.5 */
  factor?: number;
  /** Epochs without improvement before reducing. @defaultValue 2 */
  patience?: number;
  /** Lowest learning rate. @defaultValue 1e-6 */
  minLearningRate?: number;
}

/**
 * Early stopping on a validation quantity.
 * @category Training
 */
export interface EarlyStoppingOptions {
  /** @defaultValue 'loss' */
  monitor?: 'FidIn' | 'loss';
  /** Epochs without improvement before stopping. @defaultValue 3 */
  patience?: number;
}

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
 * The record of one epoch.
 * @category Training
 */
export interface EpochLog {
  epoch: number;
  /** Mean of the logged training losses over the epoch, per term (plus `total`). */
  loss: Record<string, number>;
  /** Validation loss terms and input fidelity, when validation data was given. */
  validation?: { loss: Record<string, number>; FidIn: number };
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
  /** Per-step progress callback (every `logEvery` steps). @defaultValue undefined */
  onProgress?: (p: StepProgress) => void;
  /** Called after each epoch. @defaultValue undefined */
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

/**
 * Defaults of {@link CheckpointOptions}.
 *
 * @example
 * ```ts
 * console.log(DEFAULT_CHECKPOINT.unit); // 'epoch'
 * ```
 * @category Training
 */
export const DEFAULT_CHECKPOINT = Object.freeze({ unit: 'epoch' as 'step' | 'epoch' });

/**
 * Options of the {@link Trainer} constructor.
 *
 * @example
 * ```ts
 * const trainer = new Trainer(model, { modelConfig: () => ({ note: 'run 1' }) });
 * ```
 * @category Training
 */
export interface TrainerOptions {
  /**
   * JSON description of the model written into checkpoints next to the training state.
   * `Interpreter` passes its configuration, which makes its checkpoints loadable with `loadInterpreter`. @defaultValue undefined
   */
  modelConfig?: () => Record<string, unknown>;
}

/**
 * The training state a checkpoint holds besides the tensors (JSON; non-finite numbers are stored
 * as `{ "$nonFinite": "NaN" }`). Read it with {@link readCheckpointState}.
 *
 * @example
 * ```ts
 * const state = await readCheckpointState('indexeddb://run1');
 * console.log(state.globalStep, state.epoch, state.batchInEpoch); // 250 3 10
 * ```
 * @category Training
 */
export interface CheckpointState {
  /** Optimizer updates applied in total (the trainer's global step). */
  globalStep: number;
  /** Steps taken by the fit call(s) that wrote it (what `maxSteps` counts). */
  fitSteps: number;
  /** The epoch in progress (0-based) and the batches of it already done. */
  epoch: number;
  batchInEpoch: number;
  /** State of the shuffling random generator at the start of `epoch`. */
  epochRandomState: number;
  learningRate: number;
  /** Reduce-on-plateau and early-stopping trackers (`best` null before the first validation). */
  plateau: { best: number | null; wait: number } | null;
  earlyStopping: { best: number | null; wait: number } | null;
  stoppedEarly: boolean;
  /** Logs of the finished epochs, and the running loss sums of the epoch in progress. */
  epochs: EpochLog[];
  epochLossSums: Record<string, number>;
  epochLogged: number;
  /** Training seconds so far. */
  seconds: number;
  /** What must not change on resume: batch size, shuffling, seed, and the number of examples of a tensor source (else null). */
  fingerprint: { batchSize: number; shuffle: boolean; seed: number; examples: number | null };
}

/**
 * The `kind` marker in the (checksummed) configuration of a checkpoint artifact; plain interpreter saves have none.
 *
 * @example
 * ```ts
 * console.log(CHECKPOINT_KIND); // 'checkpoint'
 * ```
 * @category Training
 */
export const CHECKPOINT_KIND = 'checkpoint';

/**
 * What {@link Trainer.fit} returns.
 * @category Training
 */
export interface FitHistory {
  epochs: EpochLog[];
  steps: number;
  stoppedEarly: boolean;
  aborted: boolean;
  seconds: number;
}

/**
 * Defaults of {@link FitOptions}.
 * @category Training
 */
export const DEFAULT_FIT = Object.freeze({
  epochs: 10,
  batchSize: 64,
  learningRate: 1e-3,
  weightDecay: 0,
  shuffle: true,
  seed: 0,
  logEvery: 10,
  maxSteps: Number.POSITIVE_INFINITY,
});

const OWNER = 'Trainer.fit';

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof tf.Tensor);
}

/** Like isRecord, without narrowing the caller's type. */
function isPlainObject(v: unknown): boolean {
  return isRecord(v);
}

function optionalObject(name: string, v: unknown): Record<string, unknown> | undefined {
  if (v === undefined || v === false) return undefined;
  if (!isRecord(v)) throw new PiqConfigError(`${OWNER}: '${name}' must be an options object or false, got ${describe(v)}.`);
  return v;
}

function resolveFit(o: FitOptions) {
  if (!isPlainObject(o)) throw new PiqConfigError(`${OWNER}: 'options' must be an object, got ${describe(o)}.`);
  const epochs = positiveInt(OWNER, 'epochs', o.epochs ?? DEFAULT_FIT.epochs);
  const batchSize = positiveInt(OWNER, 'batchSize', o.batchSize ?? DEFAULT_FIT.batchSize);
  const learningRate = finiteNumber(OWNER, 'learningRate', o.learningRate ?? DEFAULT_FIT.learningRate, { min: 0, minExclusive: true });
  const weightDecay = finiteNumber(OWNER, 'weightDecay', o.weightDecay ?? DEFAULT_FIT.weightDecay, { min: 0 });
  const shuffle = boolean(OWNER, 'shuffle', o.shuffle ?? DEFAULT_FIT.shuffle);
  const seed = o.seed ?? DEFAULT_FIT.seed;
  if (!Number.isInteger(seed)) throw new PiqConfigError(`${OWNER}: 'seed' must be an integer, got ${describe(seed)}.`);
  const logEvery = positiveInt(OWNER, 'logEvery', o.logEvery ?? DEFAULT_FIT.logEvery);
  const maxSteps = o.maxSteps === undefined || o.maxSteps === Number.POSITIVE_INFINITY ? DEFAULT_FIT.maxSteps : positiveInt(OWNER, 'maxSteps', o.maxSteps);
  const lrSchedule = optionalObject('lrSchedule', o.lrSchedule) as PlateauScheduleOptions | undefined;
  const earlyStopping = optionalObject('earlyStopping', o.earlyStopping) as EarlyStoppingOptions | undefined;
  const schedule = lrSchedule
    ? {
        monitor: oneOf(OWNER, 'lrSchedule.monitor', lrSchedule.monitor ?? 'FidIn', ['FidIn', 'loss'] as const),
        factor: finiteNumber(OWNER, 'lrSchedule.factor', lrSchedule.factor ?? 0.5, { min: 0, max: 1, minExclusive: true }),
        patience: positiveInt(OWNER, 'lrSchedule.patience', lrSchedule.patience ?? 2),
        minLearningRate: finiteNumber(OWNER, 'lrSchedule.minLearningRate', lrSchedule.minLearningRate ?? 1e-6, { min: 0 }),
      }
    : undefined;
  const early = earlyStopping
    ? {
        monitor: oneOf(OWNER, 'earlyStopping.monitor', earlyStopping.monitor ?? 'loss', ['FidIn', 'loss'] as const),
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
    if (!isPlainObject(o.checkpoint)) {
      throw new PiqConfigError(`${OWNER}: 'checkpoint' must be an object { every, unit?, destination }, got ${describe(o.checkpoint)}.`);
    }
    const every = positiveInt(OWNER, 'checkpoint.every', o.checkpoint.every);
    const unit = oneOf(OWNER, 'checkpoint.unit', o.checkpoint.unit ?? DEFAULT_CHECKPOINT.unit, ['step', 'epoch'] as const);
    const handler = saveHandler(OWNER, o.checkpoint.destination, 'checkpoint.destination');
    if (typeof handler.save !== 'function') throw new PiqConfigError(`${OWNER}: the handler for 'checkpoint.destination' cannot save.`);
    checkpoint = { every, unit, handler: handler as tf.io.IOHandler & { save: NonNullable<tf.io.IOHandler['save']> } };
  }
  const resume = o.resumeFrom === undefined ? undefined : loadHandler(OWNER, o.resumeFrom, 'resumeFrom');
  return { epochs, batchSize, learningRate, weightDecay, shuffle, seed, logEvery, maxSteps, schedule, early, onProgress: o.onProgress, checkpoint, resume };
}

type ResolvedFit = ReturnType<typeof resolveFit>;

/** JSON cannot hold NaN or ±Infinity: they are stored as `{ $nonFinite: 'NaN' }`. */
function encodeNonFinite(v: unknown): unknown {
  if (typeof v === 'number') return Number.isFinite(v) ? v : { $nonFinite: String(v) };
  if (Array.isArray(v)) return v.map(encodeNonFinite);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined).map(([k, x]) => [k, encodeNonFinite(x)]));
  return v;
}

function decodeNonFinite(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(decodeNonFinite);
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o.$nonFinite === 'string' && Object.keys(o).length === 1) return Number(o.$nonFinite);
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, decodeNonFinite(x)]));
  }
  return v;
}

/** Checks the structure of a decoded checkpoint state (a corrupted or foreign one throws). */
function checkState(owner: string, raw: unknown): CheckpointState {
  const s = decodeNonFinite(raw) as CheckpointState;
  if (!isRecord(s)) throw new PiqStateError(`${owner}: the checkpoint's training state is missing or malformed. Was it written by Trainer.fit({ checkpoint })?`);
  const int = (x: unknown) => typeof x === 'number' && Number.isInteger(x) && x >= 0;
  const tracker = (x: unknown) => x === null || (isRecord(x) && (x.best === null || typeof x.best === 'number') && int(x.wait));
  const ok =
    isPlainObject(s) &&
    int(s.globalStep) &&
    int(s.fitSteps) &&
    int(s.epoch) &&
    int(s.batchInEpoch) &&
    int(s.epochRandomState) &&
    typeof s.learningRate === 'number' &&
    s.learningRate > 0 &&
    tracker(s.plateau) &&
    tracker(s.earlyStopping) &&
    typeof s.stoppedEarly === 'boolean' &&
    Array.isArray(s.epochs) &&
    isPlainObject(s.epochLossSums) &&
    int(s.epochLogged) &&
    isPlainObject(s.fingerprint);
  if (!ok) throw new PiqStateError(`${owner}: the checkpoint's training state is missing or malformed. Was it written by Trainer.fit({ checkpoint })?`);
  return s;
}

/**
 * Reads the training state of a checkpoint (step, epoch, learning rate, loss history…) without
 * restoring anything. The artifact's format version and checksum are verified.
 *
 * @example
 * ```ts
 * import { readCheckpointState } from 'piq-tfjs';
 * import { fileSystem } from 'piq-tfjs/node';
 * const state = await readCheckpointState(fileSystem('./checkpoints/run1'));
 * console.log(state.globalStep, state.epoch); // 120 3
 * ```
 * @category Training
 */
export async function readCheckpointState(source: SaveDestination): Promise<CheckpointState> {
  const owner = 'readCheckpointState';
  const handler = loadHandler(owner, source, 'source');
  if (typeof handler.load !== 'function') throw new PiqConfigError(`${owner}: the handler for ${describe(source)} cannot load.`);
  const { config, weights } = decodeArtifacts(owner, await handler.load());
  for (const t of Object.values(weights)) t.dispose();
  const c = config as { kind?: unknown; training?: unknown } | null;
  if (!isRecord(c) || c.kind !== CHECKPOINT_KIND) {
    throw new PiqStateError(`${owner}: 'source' must be a checkpoint (kind '${CHECKPOINT_KIND}'), got an artifact of kind ${describe(isRecord(c) ? (c.kind ?? 'interpreter') : c)}.`);
  }
  return checkState(owner, c.training);
}

/** Tracks the best value of a monitored quantity and epochs since it improved. */
class Plateau {
  private best: number | undefined;
  wait = 0;
  constructor(private readonly higherIsBetter: boolean) {}
  getState(): { best: number | null; wait: number } {
    return { best: this.best ?? null, wait: this.wait };
  }
  setState(s: { best: number | null; wait: number } | null): void {
    this.best = s?.best ?? undefined;
    this.wait = s?.wait ?? 0;
  }
  update(v: number): boolean {
    const better = this.best === undefined || (this.higherIsBetter ? v > this.best + 1e-9 : v < this.best - 1e-9);
    if (better) {
      this.best = v;
      this.wait = 0;
    } else this.wait++;
    return better;
  }
}

/**
 * Trains a {@link PiqModel}: Adam (optional L2 weight decay), one `tf.tidy` per step, the classifier
 * in inference mode (never updated), loss read back every `logEvery` steps, validation each epoch
 * (loss terms and input fidelity), reduce-on-plateau, early stopping, cancellation, and divergence
 * protection: a non-finite loss (or non-finite weights) stops training with an error naming the
 * step and restores the weights of the last finite check. With `checkpoint` it saves resumable
 * checkpoints (never a non-finite one); `resumeFrom` continues from one bit-identically on the cpu backend.
 *
 * @example
 * ```ts
 * // model: a PiqModel; images: tf.Tensor4D [n, 28, 28, 1] in [0, 1]
 * const trainer = new Trainer(model);
 * const history = await trainer.fit(images, { epochs: 2, batchSize: 32 });
 * console.log(history.steps); // ceil(n / 32) * 2
 * trainer.dispose();
 * ```
 * @category Training
 */
export class Trainer {
  private optimizer: tf.AdamOptimizer | undefined;
  private learningRate: number = DEFAULT_FIT.learningRate;
  private step = 0;
  private disposed = false;
  private readonly modelConfig: (() => Record<string, unknown>) | undefined;

  /**
   * @param model the PIQ system to train (its classifier is never updated).
   * @param options see {@link TrainerOptions}.
   */
  constructor(
    readonly model: PiqModel,
    options: TrainerOptions = {},
  ) {
    if (!(model instanceof PiqModel)) throw new PiqConfigError(`Trainer: 'model' must be a PiqModel, got ${describe(model)}.`);
    if (model.isDisposed) throw new PiqStateError(`Trainer: 'model' was disposed. Build a new PiqModel.`);
    if (!isPlainObject(options)) throw new PiqConfigError(`Trainer: 'options' must be an object, got ${describe(options)}.`);
    if (options.modelConfig !== undefined && typeof options.modelConfig !== 'function') {
      throw new PiqConfigError(`Trainer: 'modelConfig' must be a function returning a JSON object, got ${describe(options.modelConfig)}.`);
    }
    this.modelConfig = options.modelConfig;
  }

  /** Global step count (optimizer updates applied so far). */
  get steps(): number {
    return this.step;
  }

  /** Created on the first step, so a call that fails before training allocates nothing. */
  private ensureOptimizer(lr: number): tf.AdamOptimizer {
    this.optimizer ??= tf.train.adam(lr);
    // AdamOptimizer reads `learningRate` at each applyGradients call.
    (this.optimizer as unknown as { learningRate: number }).learningRate = lr;
    return this.optimizer;
  }

  private setLearningRate(lr: number): void {
    this.learningRate = lr;
  }

  private getLearningRate(): number {
    return this.learningRate;
  }

  /** The classifier's input check, for one batch (float32, its input shape). */
  private checkBatch(x: unknown, owner: string = OWNER, name = "each batch of 'data'"): void {
    checkInputBatch(owner, name, x, this.model.classifier, { nonEmpty: false });
  }

  /**
   * One optimisation step on a batch. Returns the total loss, its terms and the batch perplexity as
   * scalars the caller owns (nothing is read back from the device).
   */
  trainStep(x: tf.Tensor4D, weightDecay = 0, learningRate: number = this.learningRate): { total: tf.Scalar; terms: Record<string, tf.Scalar>; perplexity: tf.Scalar } {
    this.checkState('trainStep');
    this.checkBatch(x, 'Trainer.trainStep', 'x');
    finiteNumber('Trainer.trainStep', 'weightDecay', weightDecay, { min: 0 });
    finiteNumber('Trainer.trainStep', 'learningRate', learningRate, { min: 0, minExclusive: true });
    const model = this.model;
    const optimizer = this.ensureOptimizer(learningRate);
    const vars = model.trainableVariables;
    let kept: { terms: Record<string, tf.Scalar>; perplexity: tf.Scalar; encoded: tf.Tensor; cls: tf.Tensor1D; idx: tf.Tensor } | undefined;
    const total = tf.tidy(() => {
      const cls = model.classify(x);
      const target = model.target.compute(x, { predictedClass: cls.predictedClass });
      if (model.quantizer.needsDataInit) {
        tf.tidy(() => model.quantizer.initializeFromData(model.decoder.encode(cls.features, false), cls.predictedClass));
      }
      const { value, grads } = tf.variableGrads(() => {
        const fwd = model.forwardFrom(x, cls, true);
        const ctx = model.lossContext(x, target, fwd);
        const { total: t, terms } = model.loss.compute(ctx);
        kept = {
          terms: Object.fromEntries(Object.entries(terms).map(([k, v]) => [k, tf.keep(v)])),
          perplexity: tf.keep(fwd.perplexity),
          encoded: tf.keep(fwd.encoded),
          cls: tf.keep(cls.predictedClass),
          idx: tf.keep(fwd.codeIndices),
        };
        return t;
      }, vars);
      if (weightDecay > 0) {
        for (const v of vars) {
          const g = grads[v.name];
          if (g) grads[v.name] = tf.add(g, tf.mul(v, weightDecay));
        }
      }
      optimizer.applyGradients(grads as tf.NamedTensorMap as Parameters<tf.AdamOptimizer['applyGradients']>[0]);
      return value;
    });
    const k = kept as unknown as NonNullable<typeof kept>;
    tf.tidy(() => model.quantizer.postStep(k.encoded as tf.Tensor4D, k.cls, k.idx));
    k.encoded.dispose();
    k.cls.dispose();
    k.idx.dispose();
    this.step++;
    return { total, terms: k.terms, perplexity: k.perplexity };
  }

  /**
   * Loss terms and input fidelity on a data source (inference mode, no updates).
   */
  async evaluate(data: DataSource, batchSize: number = DEFAULT_FIT.batchSize): Promise<{ loss: Record<string, number>; FidIn: number }> {
    this.checkState('evaluate');
    positiveInt('Trainer.evaluate', 'batchSize', batchSize);
    if (data instanceof tf.Tensor) this.checkBatch(data, 'Trainer.evaluate', 'data');
    const model = this.model;
    const sums: Record<string, number> = {};
    let n = 0;
    let kept = 0;
    for await (const { batch, owned } of epochBatches('Trainer.evaluate', data, batchSize, false, Math.random)) {
      try {
        this.checkBatch(batch, 'Trainer.evaluate');
        const b = batch.shape[0];
        const out = tf.tidy(() => {
          const cls = model.classify(batch);
          const target = model.target.compute(batch, { predictedClass: cls.predictedClass });
          const fwd = model.forwardFrom(batch, cls, false);
          const { total, terms } = model.loss.compute(model.lossContext(batch, target, fwd));
          const names = ['total', ...Object.keys(terms)];
          // One read-back: the loss terms, then the decisions on the inputs and on the interpretations.
          const decisions = tf.cast(tf.concat([fwd.predictedClass, model.interpretationClass(fwd)]), 'float32');
          return { names, values: tf.concat([tf.stack([total, ...Object.values(terms)]), decisions]) };
        });
        const vals = await out.values.data();
        out.values.dispose();
        out.names.forEach((name, i) => (sums[name] = (sums[name] ?? 0) + (vals[i] as number) * b));
        const at = out.names.length;
        kept += decisionAgreement(vals.subarray(at, at + b), vals.subarray(at + b, at + 2 * b)).reduce((a, v) => a + v, 0);
        n += b;
      } finally {
        if (owned) batch.dispose();
      }
    }
    if (n === 0) throw new PiqInputError(`Trainer.evaluate: 'data' must contain at least one example, got an empty source.`);
    const loss = Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / n]));
    return { loss, FidIn: kept / n };
  }

  /**
   * Trains for `epochs` over `data`. See {@link FitOptions}.
   */
  async fit(data: DataSource, options: FitOptions = {}): Promise<FitHistory> {
    this.checkState('fit');
    const o = resolveFit(options);
    if (data instanceof tf.Tensor) {
      checkInputBatch(OWNER, 'data', data, this.model.classifier);
    } else if (data === null || typeof data !== 'object') {
      throw new PiqInputError(`${OWNER}: 'data' must be a tf.Tensor4D, an array of batches, an (async) iterable or a tf.data dataset, got ${describe(data)}.`);
    }
    const t0 = Date.now();
    const rand = mulberry32(o.seed);
    const history: FitHistory = { epochs: [], steps: 0, stoppedEarly: false, aborted: false, seconds: 0 };
    const plateau = o.schedule ? new Plateau(o.schedule.monitor === 'FidIn') : undefined;
    const early = o.early ? new Plateau(o.early.monitor === 'FidIn') : undefined;
    const examples = data instanceof tf.Tensor ? data.shape[0] : null;
    const batchesPerEpoch = examples === null ? undefined : Math.ceil(examples / o.batchSize);
    const fingerprint = { batchSize: o.batchSize, shuffle: o.shuffle, seed: o.seed, examples };
    this.setLearningRate(o.learningRate);
    let startEpoch = 0;
    let startBatch = 0;
    let startSums: Record<string, number> = {};
    let startLogged = 0;
    let priorSeconds = 0;
    if (o.resume) {
      const st = await this.restoreCheckpoint(o.resume, fingerprint);
      history.epochs = st.epochs;
      history.steps = st.fitSteps;
      history.stoppedEarly = st.stoppedEarly;
      this.setLearningRate(st.learningRate);
      plateau?.setState(st.plateau);
      early?.setState(st.earlyStopping);
      rand.setState(st.epochRandomState);
      startEpoch = st.epoch;
      startBatch = st.batchInEpoch;
      startSums = { ...st.epochLossSums };
      startLogged = st.epochLogged;
      priorSeconds = st.seconds;
    }
    const elapsed = () => priorSeconds + (Date.now() - t0) / 1000;
    const ckpt = o.checkpoint;
    let savedStep: number | undefined;
    let snapshot = this.snapshot();
    let lastGoodStep = this.step;
    const diverged = (what: string, step: number, epoch: number, cause?: unknown): PiqStateError => {
      this.restore(snapshot);
      const kept = savedStep === undefined ? '' : ` The last checkpoint (step ${savedStep}) was kept.`;
      const e = new PiqStateError(
        `${OWNER}: ${what} at step ${step} (epoch ${epoch}); the weights were restored to step ${lastGoodStep}, the last finite check.${kept} Lower the learning rate or check the data for NaN.`,
      );
      if (cause !== undefined) (e as { cause?: unknown }).cause = cause;
      return e;
    };
    const save = async (state: Omit<CheckpointState, 'globalStep' | 'fitSteps' | 'learningRate' | 'plateau' | 'earlyStopping' | 'stoppedEarly' | 'epochs' | 'seconds' | 'fingerprint'>, epoch: number) => {
      if (!ckpt) return;
      const full: CheckpointState = {
        globalStep: this.step,
        fitSteps: history.steps,
        ...state,
        learningRate: this.getLearningRate(),
        plateau: plateau?.getState() ?? null,
        earlyStopping: early?.getState() ?? null,
        stoppedEarly: history.stoppedEarly,
        epochs: history.epochs,
        seconds: elapsed(),
        fingerprint,
      };
      if (!(await this.writeCheckpoint(ckpt.handler, full))) throw diverged('the weights became non-finite', this.step, epoch);
      savedStep = this.step;
    };
    try {
      outer: for (let epoch = startEpoch; epoch < o.epochs && !history.stoppedEarly; epoch++) {
        const te = Date.now();
        const resumed = epoch === startEpoch;
        const sums: Record<string, number> = resumed ? startSums : {};
        let logged = resumed ? startLogged : 0;
        const skip = resumed ? startBatch : 0;
        let batchIndex = skip;
        const epochRandomState = rand.getState();
        const partialLog = () => history.epochs.push({ epoch, loss: mean(sums, logged), learningRate: this.getLearningRate(), seconds: (Date.now() - te) / 1000 });
        if (history.steps >= o.maxSteps) {
          // Resumed from a checkpoint taken at the last allowed step: finish as that run did.
          if (batchIndex > 0) partialLog();
          break;
        }
        for await (const { batch, owned } of epochBatches(OWNER, data, o.batchSize, o.shuffle, rand, skip)) {
          let result: ReturnType<Trainer['trainStep']>;
          try {
            result = this.trainStep(batch, o.weightDecay, this.learningRate);
          } catch (e) {
            // A step that fails on non-finite values (e.g. the quantizer rejecting NaN features)
            // after an update made the weights non-finite is divergence, not a data error.
            if (!allFinite(this.model.trainableVariables)) throw diverged('the weights became non-finite', this.step + 1, epoch, e);
            throw e;
          } finally {
            if (owned) batch.dispose();
          }
          batchIndex++;
          history.steps++;
          const isLast = history.steps >= o.maxSteps;
          const logStep = this.step % o.logEvery === 0 || isLast || batchIndex === batchesPerEpoch;
          const ckptStep = ckpt?.unit === 'step' && this.step % ckpt.every === 0;
          if (logStep || ckptStep) {
            const names = ['total', ...Object.keys(result.terms)];
            // One read-back: the loss terms, the perplexity and whether this step's update left the weights finite
            // (the loss is computed before the update, so a finite loss does not prove finite weights).
            const stacked = tf.tidy(() => tf.stack([result.total, ...Object.values(result.terms), result.perplexity, finiteFlag(this.model.trainableVariables)]));
            const vals = await stacked.data();
            stacked.dispose();
            disposeResult(result);
            const loss = Object.fromEntries(names.map((n, i) => [n, vals[i] as number]));
            if (!Object.values(loss).every(Number.isFinite)) throw diverged(`the loss became non-finite (${JSON.stringify(loss)})`, this.step, epoch);
            if (vals[names.length + 1] !== 1) throw diverged('the weights became non-finite', this.step, epoch);
            disposeSnapshot(snapshot);
            snapshot = this.snapshot();
            lastGoodStep = this.step;
            if (logStep) {
              for (const [k, v] of Object.entries(loss)) sums[k] = (sums[k] ?? 0) + v;
              logged++;
              o.onProgress?.({ step: this.step, epoch, batch: batchIndex, batchesPerEpoch, loss, perplexity: vals[names.length] as number, learningRate: this.getLearningRate() });
            }
          } else {
            disposeResult(result);
          }
          if (options.signal?.aborted) history.aborted = true;
          if (ckptStep || (ckpt && history.aborted)) {
            await save({ epoch, batchInEpoch: batchIndex, epochRandomState, epochLossSums: { ...sums }, epochLogged: logged }, epoch);
          }
          if (history.aborted || isLast) {
            partialLog();
            break outer;
          }
        }
        if (batchIndex === 0) throw new PiqInputError(`${OWNER}: 'data' must contain at least one batch, got an empty source.`);
        const log: EpochLog = { epoch, loss: mean(sums, logged), learningRate: this.getLearningRate(), seconds: 0 };
        if (options.validationData !== undefined) {
          log.validation = await this.evaluate(options.validationData, o.batchSize);
          const v = log.validation;
          if (plateau && o.schedule) {
            plateau.update(o.schedule.monitor === 'FidIn' ? v.FidIn : (v.loss.total as number));
            if (plateau.wait >= o.schedule.patience) {
              this.setLearningRate(Math.max(o.schedule.minLearningRate, this.getLearningRate() * o.schedule.factor));
              plateau.wait = 0;
            }
          }
          if (early && o.early) {
            early.update(o.early.monitor === 'FidIn' ? v.FidIn : (v.loss.total as number));
            if (early.wait >= o.early.patience) history.stoppedEarly = true;
          }
        }
        log.seconds = (Date.now() - te) / 1000;
        history.epochs.push(log);
        await options.onEpochEnd?.(log);
        if (ckpt?.unit === 'epoch' && (epoch + 1) % ckpt.every === 0) {
          await save({ epoch: epoch + 1, batchInEpoch: 0, epochRandomState: rand.getState(), epochLossSums: {}, epochLogged: 0 }, epoch);
        }
      }
    } finally {
      disposeSnapshot(snapshot);
    }
    history.seconds = elapsed();
    return history;
  }

  /**
   * Writes a checkpoint: decoder and quantizer weights (as `Interpreter.save`), the Adam state
   * (`optimizer/iterations`, `optimizer/acc_beta1|2`, `optimizer/m/<i>`, `optimizer/v/<i>` in the
   * order of the trainable variables) and the training state. Returns false, saving nothing, when
   * a weight is not finite.
   */
  private async writeCheckpoint(handler: { save: NonNullable<tf.io.IOHandler['save']> }, state: CheckpointState): Promise<boolean> {
    const owned: Record<string, tf.Tensor> = { ...this.model.decoder.getWeights(), ...this.model.quantizer.getWeights() };
    const weights: Record<string, tf.Tensor> = { ...owned };
    try {
      if (!allFinite(Object.values(owned).filter((t) => t.dtype === 'float32'))) return false;
      if (this.optimizer) {
        const ow = await this.optimizer.getWeights(); // [iter, m_0..m_{n-1}, v_0..v_{n-1}]; the moments are the optimizer's own variables
        const iter = ow[0] as { name: string; tensor: tf.Tensor };
        owned['optimizer/iterations'] = iter.tensor;
        weights['optimizer/iterations'] = iter.tensor;
        // Adam keeps its moments in the key order of the gradient map (integer-like variable names
        // first), named `<variable>/m|v`: store them by the index of the variable in
        // model.trainableVariables instead, which does not depend on generated names.
        const vars = this.model.trainableVariables;
        for (const w of ow.slice(1)) {
          const kind = w.name.endsWith('/m') ? 'm' : 'v';
          const i = vars.findIndex((v) => `${v.name}/${kind}` === w.name);
          if (i < 0) throw new PiqStateError(`${OWNER}: the optimizer holds state for '${w.name}', which is not a trainable variable of this model. Use one Trainer per model.`);
          weights[`optimizer/${kind}/${i}`] = w.tensor;
        }
        // Adam's bias-correction powers: restoring them exactly (instead of recomputing beta^t)
        // keeps a resumed run bit-identical.
        const acc = this.optimizer as unknown as { accBeta1?: tf.Variable; accBeta2?: tf.Variable };
        if (acc.accBeta1 instanceof tf.Tensor && acc.accBeta2 instanceof tf.Tensor) {
          weights['optimizer/acc_beta1'] = acc.accBeta1;
          weights['optimizer/acc_beta2'] = acc.accBeta2;
        }
      }
      const config = { ...(this.modelConfig?.() ?? {}), kind: CHECKPOINT_KIND, training: encodeNonFinite(state) };
      const artifacts = await encodeArtifacts(config, weights, 'piq-tfjs Trainer checkpoint');
      await handler.save(artifacts);
      return true;
    } finally {
      for (const t of Object.values(owned)) t.dispose();
    }
  }

  /** Restores a checkpoint into the model and this trainer; validates everything before changing anything. */
  private async restoreCheckpoint(handler: tf.io.IOHandler, fingerprint: CheckpointState['fingerprint']): Promise<CheckpointState> {
    if (typeof handler.load !== 'function') throw new PiqConfigError(`${OWNER}: the 'resumeFrom' handler cannot load.`);
    const { config, weights } = decodeArtifacts(OWNER, await handler.load());
    try {
      const c = config as { kind?: unknown; training?: unknown } | null;
      if (!isRecord(c) || c.kind !== CHECKPOINT_KIND) {
        throw new PiqStateError(
          `${OWNER}: 'resumeFrom' must be a checkpoint (kind '${CHECKPOINT_KIND}'), got an artifact of kind ${describe(isRecord(c) ? (c.kind ?? 'interpreter') : c)}. Write checkpoints with fit({ checkpoint }).`,
        );
      }
      const state = checkState(OWNER, c.training);
      const saved = state.fingerprint;
      for (const k of ['batchSize', 'shuffle', 'seed', 'examples'] as const) {
        if (saved[k] !== fingerprint[k]) {
          throw new PiqConfigError(
            `${OWNER}: '${k === 'examples' ? 'data' : k}' must be the same as in the run that wrote the checkpoint (${k} ${describe(saved[k])}), got ${describe(fingerprint[k])}. Resume with the same data and options.`,
          );
        }
      }
      const current = { ...this.model.decoder.getWeights(), ...this.model.quantizer.getWeights() };
      try {
        for (const [name, t] of Object.entries(current)) {
          const w = weights[name];
          if (!w || !tf.util.arraysEqual(w.shape, t.shape)) {
            throw new PiqStateError(
              `${OWNER}: the checkpoint must hold weight '${name}' of shape ${shapeStr(t.shape)} for this model, got ${w ? shapeStr(w.shape) : 'none'}. It was written for another model configuration.`,
            );
          }
        }
      } finally {
        for (const t of Object.values(current)) t.dispose();
      }
      const vars = this.model.trainableVariables;
      const moments = Object.keys(weights).filter((k) => k.startsWith('optimizer/m/')).length;
      if (moments > 0) {
        const shapes = (k: 'm' | 'v') => vars.map((_, i) => shapeStr(weights[`optimizer/${k}/${i}`]?.shape ?? []));
        const want = vars.map((v) => shapeStr(v.shape)).join(', ');
        if (moments !== vars.length || shapes('m').join(', ') !== want || shapes('v').join(', ') !== want) {
          throw new PiqStateError(
            `${OWNER}: the checkpoint's optimizer state must match the model's trainable variables (${want}), got moments of shapes (${shapes('m').join(', ')}). It was written for another model configuration.`,
          );
        }
      }
      // Everything checked: write.
      this.model.decoder.setWeights(weights);
      this.model.quantizer.setWeights(weights);
      this.optimizer?.dispose();
      this.optimizer = undefined;
      if (moments > 0) {
        const opt = tf.train.adam(state.learningRate);
        const iter = weights['optimizer/iterations'] ?? tf.scalar(0, 'int32');
        try {
          // The order in which applyGradients will visit the variables: the key order of the gradient map.
          const index = new Map(vars.map((v, i) => [v.name, i]));
          const order = Object.keys(Object.fromEntries(vars.map((v) => [v.name, 0])));
          const moment = (kind: 'm' | 'v') => order.map((name) => ({ name: `${name}/${kind}`, tensor: weights[`optimizer/${kind}/${index.get(name)}`] as tf.Tensor }));
          await opt.setWeights([{ name: 'iter', tensor: iter }, ...moment('m'), ...moment('v')]);
        } finally {
          if (iter !== weights['optimizer/iterations']) iter.dispose();
        }
        const acc = opt as unknown as { accBeta1?: tf.Variable; accBeta2?: tf.Variable };
        const b1 = weights['optimizer/acc_beta1'];
        const b2 = weights['optimizer/acc_beta2'];
        if (b1 && b2 && acc.accBeta1 instanceof tf.Variable && acc.accBeta2 instanceof tf.Variable) {
          acc.accBeta1.assign(b1);
          acc.accBeta2.assign(b2);
        }
        this.optimizer = opt;
      }
      this.step = state.globalStep;
      return state;
    } finally {
      for (const t of Object.values(weights)) t.dispose();
    }
  }

  private snapshot(): tf.Tensor[] {
    return this.model.trainableVariables.map((v) => tf.clone(v));
  }

  private restore(snap: tf.Tensor[]): void {
    this.model.trainableVariables.forEach((v, i) => {
      const s = snap[i];
      if (s) v.assign(s);
    });
  }

  private checkState(method: string): void {
    if (this.disposed) throw new PiqStateError(`Trainer.${method}: the trainer was disposed.`);
    if (this.model.isDisposed) throw new PiqStateError(`Trainer.${method}: the model was disposed.`);
  }

  /** Frees the optimizer state (not the model). */
  dispose(): void {
    if (this.disposed) return;
    this.optimizer?.dispose();
    this.optimizer = undefined;
    this.disposed = true;
  }
}

function disposeResult(r: { total: tf.Scalar; terms: Record<string, tf.Scalar>; perplexity: tf.Scalar }): void {
  r.total.dispose();
  r.perplexity.dispose();
  for (const t of Object.values(r.terms)) t.dispose();
}

/** Whether every value of every tensor is finite (one read-back). */
function allFinite(ts: tf.Tensor[]): boolean {
  return tf.tidy(() => finiteFlag(ts).dataSync()[0]) === 1;
}

/** Scalar 1 when every value of every tensor is finite, else 0 (float32; call inside a tidy). */
function finiteFlag(ts: tf.Tensor[]): tf.Scalar {
  if (ts.length === 0) return tf.scalar(1);
  return tf.cast(tf.all(tf.stack(ts.map((t) => tf.all(tf.isFinite(t))))), 'float32') as tf.Scalar;
}

function disposeSnapshot(s: tf.Tensor[]): void {
  for (const t of s) t.dispose();
}

function mean(sums: Record<string, number>, n: number): Record<string, number> {
  return Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, n ? v / n : Number.NaN]));
}
