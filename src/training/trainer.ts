import * as tf from '@tensorflow/tfjs-core';
import { PiqConfigError, PiqInputError, PiqStateError } from '../errors';
import { boolean, describe, finiteNumber, oneOf, positiveInt, shapeStr } from '../internal/validate';
import { epochBatches, mulberry32, type DataSource } from './data';
import type { PiqModel } from './piq-model';

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
}

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

function resolveFit(o: FitOptions) {
  const epochs = positiveInt(OWNER, 'epochs', o.epochs ?? DEFAULT_FIT.epochs);
  const batchSize = positiveInt(OWNER, 'batchSize', o.batchSize ?? DEFAULT_FIT.batchSize);
  const learningRate = finiteNumber(OWNER, 'learningRate', o.learningRate ?? DEFAULT_FIT.learningRate, { min: 0, minExclusive: true });
  const weightDecay = finiteNumber(OWNER, 'weightDecay', o.weightDecay ?? DEFAULT_FIT.weightDecay, { min: 0 });
  const shuffle = boolean(OWNER, 'shuffle', o.shuffle ?? DEFAULT_FIT.shuffle);
  const seed = o.seed ?? DEFAULT_FIT.seed;
  if (!Number.isInteger(seed)) throw new PiqConfigError(`${OWNER}: 'seed' must be an integer, got ${describe(seed)}.`);
  const logEvery = positiveInt(OWNER, 'logEvery', o.logEvery ?? DEFAULT_FIT.logEvery);
  const maxSteps = o.maxSteps === undefined ? DEFAULT_FIT.maxSteps : positiveInt(OWNER, 'maxSteps', o.maxSteps);
  const schedule = o.lrSchedule
    ? {
        monitor: oneOf(OWNER, 'lrSchedule.monitor', o.lrSchedule.monitor ?? 'FidIn', ['FidIn', 'loss'] as const),
        factor: finiteNumber(OWNER, 'lrSchedule.factor', o.lrSchedule.factor ?? 0.5, { min: 0, max: 1, minExclusive: true }),
        patience: positiveInt(OWNER, 'lrSchedule.patience', o.lrSchedule.patience ?? 2),
        minLearningRate: finiteNumber(OWNER, 'lrSchedule.minLearningRate', o.lrSchedule.minLearningRate ?? 1e-6, { min: 0 }),
      }
    : undefined;
  const early = o.earlyStopping
    ? {
        monitor: oneOf(OWNER, 'earlyStopping.monitor', o.earlyStopping.monitor ?? 'loss', ['FidIn', 'loss'] as const),
        patience: positiveInt(OWNER, 'earlyStopping.patience', o.earlyStopping.patience ?? 3),
      }
    : undefined;
  if ((schedule || early) && o.validationData === undefined) {
    throw new PiqConfigError(`${OWNER}: 'validationData' is required when 'lrSchedule' or 'earlyStopping' is set, got undefined.`);
  }
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') {
    throw new PiqConfigError(`${OWNER}: 'onProgress' must be a function, got ${describe(o.onProgress)}.`);
  }
  return { epochs, batchSize, learningRate, weightDecay, shuffle, seed, logEvery, maxSteps, schedule, early, onProgress: o.onProgress };
}

/** Tracks the best value of a monitored quantity and epochs since it improved. */
class Plateau {
  private best: number | undefined;
  wait = 0;
  constructor(private readonly higherIsBetter: boolean) {}
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
 * protection: a non-finite loss stops training with an error naming the step and restores the
 * weights of the last finite check.
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

  constructor(readonly model: PiqModel) {}

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

  private checkBatch(x: tf.Tensor): void {
    const shape = this.model.classifier.inputShape;
    if (!(x instanceof tf.Tensor) || x.rank !== shape.length + 1 || shape.some((d, i) => x.shape[i + 1] !== d)) {
      throw new PiqInputError(
        `${OWNER}: each batch must have shape [batch, ${shape.join(', ')}] to match the classifier, got ${x instanceof tf.Tensor ? shapeStr(x.shape) : describe(x)}.`,
      );
    }
    if (x.dtype !== 'float32') {
      throw new PiqInputError(`${OWNER}: each batch must have dtype float32, got ${x.dtype}. Cast it with tf.cast(x, 'float32').`);
    }
  }

  /**
   * One optimisation step on a batch. Returns the total loss, its terms and the batch perplexity as
   * scalars the caller owns (nothing is read back from the device).
   */
  trainStep(x: tf.Tensor4D, weightDecay = 0, learningRate: number = this.learningRate): { total: tf.Scalar; terms: Record<string, tf.Scalar>; perplexity: tf.Scalar } {
    this.checkState('trainStep');
    this.checkBatch(x);
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
    const model = this.model;
    const sums: Record<string, number> = {};
    let n = 0;
    let kept = 0;
    for await (const { batch, owned } of epochBatches('Trainer.evaluate', data, batchSize, false, Math.random)) {
      try {
        this.checkBatch(batch);
        const b = batch.shape[0];
        const out = tf.tidy(() => {
          const cls = model.classify(batch);
          const target = model.target.compute(batch, { predictedClass: cls.predictedClass });
          const fwd = model.forwardFrom(batch, cls, false);
          const { total, terms } = model.loss.compute(model.lossContext(batch, target, fwd));
          const agree = tf.sum(tf.cast(tf.equal(tf.argMax(model.classifier.logits(fwd.interpretation), -1), fwd.predictedClass), 'float32'));
          const names = ['total', ...Object.keys(terms)];
          return { names, values: tf.stack([total, ...Object.values(terms), agree]) };
        });
        const vals = await out.values.data();
        out.values.dispose();
        out.names.forEach((name, i) => (sums[name] = (sums[name] ?? 0) + (vals[i] as number) * b));
        kept += vals[out.names.length] as number;
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
      this.checkBatch(data);
      if (data.shape[0] === 0) throw new PiqInputError(`${OWNER}: 'data' must contain at least one example, got shape ${shapeStr(data.shape)}.`);
    }
    this.setLearningRate(o.learningRate);
    const rand = mulberry32(o.seed);
    const history: FitHistory = { epochs: [], steps: 0, stoppedEarly: false, aborted: false, seconds: 0 };
    const t0 = Date.now();
    const plateau = o.schedule ? new Plateau(o.schedule.monitor === 'FidIn') : undefined;
    const early = o.early ? new Plateau(o.early.monitor === 'FidIn') : undefined;
    const batchesPerEpoch = data instanceof tf.Tensor ? Math.ceil(data.shape[0] / o.batchSize) : undefined;
    let snapshot = this.snapshot();
    let lastGoodStep = this.step;
    try {
      outer: for (let epoch = 0; epoch < o.epochs; epoch++) {
        const te = Date.now();
        const sums: Record<string, number> = {};
        let logged = 0;
        let batchIndex = 0;
        let seen = 0;
        for await (const { batch, owned } of epochBatches(OWNER, data, o.batchSize, o.shuffle, rand)) {
          let result: ReturnType<Trainer['trainStep']> | undefined;
          try {
            result = this.trainStep(batch, o.weightDecay, this.learningRate);
          } finally {
            if (owned) batch.dispose();
          }
          batchIndex++;
          seen++;
          history.steps++;
          const isLast = history.steps >= o.maxSteps;
          if (this.step % o.logEvery === 0 || isLast || batchIndex === batchesPerEpoch) {
            const names = ['total', ...Object.keys(result.terms)];
            const stacked = tf.stack([result.total, ...Object.values(result.terms), result.perplexity]);
            const vals = await stacked.data();
            stacked.dispose();
            const loss = Object.fromEntries(names.map((n, i) => [n, vals[i] as number]));
            disposeResult(result);
            if (!Object.values(loss).every(Number.isFinite)) {
              this.restore(snapshot);
              throw new PiqStateError(
                `${OWNER}: the loss became non-finite (${JSON.stringify(loss)}) at step ${this.step} (epoch ${epoch}); the weights were restored to step ${lastGoodStep}, the last finite check. Lower the learning rate or check the data for NaN.`,
              );
            }
            disposeSnapshot(snapshot);
            snapshot = this.snapshot();
            lastGoodStep = this.step;
            for (const [k, v] of Object.entries(loss)) sums[k] = (sums[k] ?? 0) + v;
            logged++;
            o.onProgress?.({ step: this.step, epoch, batch: batchIndex, batchesPerEpoch, loss, perplexity: vals[names.length] as number, learningRate: this.getLearningRate() });
          } else {
            disposeResult(result);
          }
          if (options.signal?.aborted) {
            history.aborted = true;
          }
          if (history.aborted || isLast) {
            history.epochs.push({ epoch, loss: mean(sums, logged), learningRate: this.getLearningRate(), seconds: (Date.now() - te) / 1000 });
            break outer;
          }
        }
        if (seen === 0) throw new PiqInputError(`${OWNER}: 'data' must contain at least one batch, got an empty source.`);
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
        if (history.stoppedEarly) break;
      }
    } finally {
      disposeSnapshot(snapshot);
    }
    history.seconds = (Date.now() - t0) / 1000;
    return history;
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

function disposeSnapshot(s: tf.Tensor[]): void {
  for (const t of s) t.dispose();
}

function mean(sums: Record<string, number>, n: number): Record<string, number> {
  return Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, n ? v / n : Number.NaN]));
}
