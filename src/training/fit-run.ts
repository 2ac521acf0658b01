// One call of Trainer.fit, step by step: resume, the epochs, each training step with its
// divergence guard, logging and checkpointing, and the end of an epoch (validation, learning-rate
// schedule, early stopping). The state of the run lives here; the trainer's own state (optimizer,
// learning rate, global step) in TrainerState.
import * as tf from '@tensorflow/tfjs-core';
import { checkInputBatch } from '../classifier/input-check';
import { PiqInputError, PiqStateError } from '../errors';
import { mulberry32, type SeededRandom } from '../internal/random';
import { restoreCheckpoint, writeCheckpoint, type CheckpointPosition, type CheckpointState } from './checkpoint';
import { epochBatches, type DataSource } from './data';
import type { EpochLog, EvaluationLog, FitHistory, ResolvedFit } from './fit-options';
import { PlateauSchedule } from './lr-schedule';
import { Plateau } from './plateau';
import { allTensorsFinite, disposeStepResult, evaluateModel, finiteFlag, trainStep, type StepResult, type TrainerState } from './trainer-steps';

const OWNER = 'Trainer.fit';

/** Where an epoch starts: from its beginning, or mid-epoch when resuming a checkpoint. */
interface EpochStart {
  epoch: number;
  batch: number;
  sums: Record<string, number>;
  logged: number;
}

/** The running record of the epoch in progress. */
interface EpochProgress {
  epoch: number;
  /** Wall-clock start of the epoch, ms. */
  started: number;
  /** Batches done (including those skipped on resume). */
  batches: number;
  /** Sums of the logged losses, per term, and how many steps were logged. */
  sums: Record<string, number>;
  logged: number;
  /** State of the shuffling random source at the start of the epoch. */
  randomState: number;
}

export class FitRun {
  private readonly history: FitHistory = { epochs: [], steps: 0, stoppedEarly: false, aborted: false, seconds: 0 };
  private readonly rand: SeededRandom;
  private readonly plateau: PlateauSchedule | undefined;
  private readonly early: Plateau | undefined;
  private readonly batchesPerEpoch: number | undefined;
  private readonly fingerprint: CheckpointState['fingerprint'];
  private readonly t0 = Date.now();
  private priorSeconds = 0;
  private start: EpochStart = { epoch: 0, batch: 0, sums: {}, logged: 0 };
  /** Copies of the trainable variables at the last step whose loss and weights were checked finite. */
  private snapshot: tf.Tensor[] = [];
  private lastGoodStep: number;
  private savedStep: number | undefined;

  constructor(
    private readonly trainer: TrainerState,
    private readonly data: DataSource,
    private readonly o: ResolvedFit,
  ) {
    this.rand = mulberry32(o.seed);
    this.plateau = o.schedule ? new PlateauSchedule(o.schedule) : undefined;
    this.early = o.early ? new Plateau(o.early.monitor === 'inputFidelity') : undefined;
    const examples = data instanceof tf.Tensor ? data.shape[0] : null;
    this.batchesPerEpoch = examples === null ? undefined : Math.ceil(examples / o.batchSize);
    this.fingerprint = { batchSize: o.batchSize, shuffle: o.shuffle, seed: o.seed, examples };
    this.lastGoodStep = trainer.step;
  }

  /** Runs the fit to the end (epochs, maxSteps, early stop or abort) and returns its history. */
  async run(): Promise<FitHistory> {
    this.trainer.learningRate = this.o.learningRate;
    if (this.o.resume) await this.resume(this.o.resume);
    this.snapshot = this.takeSnapshot();
    try {
      for (let epoch = this.start.epoch; epoch < this.o.epochs && !this.history.stoppedEarly; epoch++) {
        if (await this.runEpoch(epoch)) break;
      }
    } finally {
      tf.dispose(this.snapshot);
    }
    this.history.seconds = this.elapsed();
    return this.history;
  }

  /** Restores a checkpoint and continues from the position it records. */
  private async resume(source: NonNullable<ResolvedFit['resume']>): Promise<void> {
    const st = await restoreCheckpoint(this.trainer, source, this.fingerprint);
    this.history.epochs = st.epochs;
    this.history.steps = st.fitSteps;
    this.history.stoppedEarly = st.stoppedEarly;
    this.trainer.learningRate = st.learningRate;
    this.plateau?.setState(st.plateau);
    this.early?.setState(st.earlyStopping);
    this.rand.setState(st.epochRandomState);
    this.start = { epoch: st.epoch, batch: st.batchInEpoch, sums: { ...st.epochLossSums }, logged: st.epochLogged };
    this.priorSeconds = st.seconds;
    this.lastGoodStep = this.trainer.step;
  }

  /** One epoch; returns true when the run ends inside it (maxSteps or abort). */
  private async runEpoch(epoch: number): Promise<boolean> {
    const resumed = epoch === this.start.epoch;
    const p: EpochProgress = {
      epoch,
      started: Date.now(),
      batches: resumed ? this.start.batch : 0,
      sums: resumed ? this.start.sums : {},
      logged: resumed ? this.start.logged : 0,
      randomState: this.rand.getState(),
    };
    if (this.history.steps >= this.o.maxSteps) {
      // Resumed from a checkpoint taken at the last allowed step: finish as that run did.
      if (p.batches > 0) this.pushPartialLog(p);
      return true;
    }
    for await (const { batch, owned } of epochBatches(OWNER, this.data, this.o.batchSize, this.o.shuffle, this.rand, p.batches)) {
      let result: StepResult;
      try {
        result = this.step(batch, epoch);
      } finally {
        if (owned) batch.dispose();
      }
      p.batches++;
      this.history.steps++;
      if (await this.afterStep(result, p)) {
        this.pushPartialLog(p);
        return true;
      }
    }
    if (p.batches === 0) throw new PiqInputError(`${OWNER}: 'data' must contain at least one batch, got an empty source.`);
    await this.endEpoch(p);
    return false;
  }

  /** One training step; a failure that left non-finite weights is reported as divergence. */
  private step(batch: tf.Tensor4D, epoch: number): StepResult {
    checkInputBatch(OWNER, "each batch of 'data'", batch, this.trainer.model.classifier, { nonEmpty: false });
    try {
      return trainStep(this.trainer, batch, this.o.weightDecay, this.trainer.learningRate);
    } catch (e) {
      // A step that fails on non-finite values (e.g. the quantizer rejecting NaN features)
      // after an update made the weights non-finite is divergence, not a data error.
      if (!allTensorsFinite(this.trainer.model.trainableVariables)) throw this.diverged('the weights became non-finite', this.trainer.step + 1, epoch, e);
      throw e;
    }
  }

  /**
   * Reads the step back when it is logged or checkpointed (checking loss and weights), reports
   * progress, honours the abort signal and saves step checkpoints. Returns true when the run ends here.
   */
  private async afterStep(result: StepResult, p: EpochProgress): Promise<boolean> {
    const step = this.trainer.step;
    const ckpt = this.o.checkpoint;
    const isLast = this.history.steps >= this.o.maxSteps;
    const logStep = step % this.o.logEvery === 0 || isLast || p.batches === this.batchesPerEpoch;
    const ckptStep = ckpt?.unit === 'step' && step % ckpt.every === 0;
    if (logStep || ckptStep) {
      const loss = await this.checkStep(result, p.epoch);
      if (logStep) {
        for (const [k, v] of Object.entries(loss.values)) p.sums[k] = (p.sums[k] ?? 0) + v;
        p.logged++;
        this.o.onProgress?.({ step, epoch: p.epoch, batch: p.batches, batchesPerEpoch: this.batchesPerEpoch, loss: loss.values, perplexity: loss.perplexity, learningRate: this.trainer.learningRate });
      }
    } else {
      disposeStepResult(result);
    }
    if (this.o.signal?.aborted) this.history.aborted = true;
    if (ckptStep || (ckpt && this.history.aborted)) {
      await this.save({ epoch: p.epoch, batchInEpoch: p.batches, epochRandomState: p.randomState, epochLossSums: { ...p.sums }, epochLogged: p.logged }, p.epoch);
    }
    return this.history.aborted || isLast;
  }

  /**
   * One read-back of the step's loss terms, its perplexity and whether its update left the weights
   * finite (the loss is computed before the update, so a finite loss does not prove finite weights).
   * Throws on divergence; otherwise moves the last-good snapshot to this step. Disposes `result`.
   */
  private async checkStep(result: StepResult, epoch: number): Promise<{ values: Record<string, number>; perplexity: number }> {
    const names = ['total', ...Object.keys(result.terms)];
    const vars = this.trainer.model.trainableVariables;
    const stacked = tf.tidy(() => tf.stack([result.total, ...Object.values(result.terms), result.perplexity, finiteFlag(vars)]));
    const vals = await stacked.data();
    stacked.dispose();
    disposeStepResult(result);
    const values = Object.fromEntries(names.map((n, i) => [n, vals[i] as number]));
    const step = this.trainer.step;
    if (!Object.values(values).every(Number.isFinite)) throw this.diverged(`the loss became non-finite (${JSON.stringify(values)})`, step, epoch);
    if (vals[names.length + 1] !== 1) throw this.diverged('the weights became non-finite', step, epoch);
    tf.dispose(this.snapshot);
    this.snapshot = this.takeSnapshot();
    this.lastGoodStep = step;
    return { values, perplexity: vals[names.length] as number };
  }

  /** Closes an epoch: its log, validation with the schedules it drives, the callback and the epoch checkpoint. */
  private async endEpoch(p: EpochProgress): Promise<void> {
    const log: EpochLog = { epoch: p.epoch, loss: mean(p.sums, p.logged), learningRate: this.trainer.learningRate, seconds: 0 };
    if (this.o.validationData !== undefined) {
      log.validation = await evaluateModel('Trainer.evaluate', this.trainer.model, this.o.validationData, this.o.batchSize);
      this.applySchedules(log.validation, p.epoch);
    }
    log.seconds = (Date.now() - p.started) / 1000;
    this.history.epochs.push(log);
    await this.o.onEpochEnd?.(log);
    const ckpt = this.o.checkpoint;
    if (ckpt?.unit === 'epoch' && (p.epoch + 1) % ckpt.every === 0) {
      await this.save({ epoch: p.epoch + 1, batchInEpoch: 0, epochRandomState: this.rand.getState(), epochLossSums: {}, epochLogged: 0 }, p.epoch);
    }
  }

  /** Reduce-on-plateau and early stopping on this epoch's validation. */
  private applySchedules(v: EvaluationLog, epoch: number): void {
    const { schedule, early } = this.o;
    const watched = (monitor: 'inputFidelity' | 'loss') => (monitor === 'inputFidelity' ? v.inputFidelity : (v.loss.total as number));
    if (this.plateau && schedule) {
      this.trainer.learningRate = this.plateau.next(epoch + 1, watched(schedule.monitor), this.trainer.learningRate);
    }
    if (this.early && early) {
      this.early.update(watched(early.monitor));
      if (this.early.wait >= early.patience) this.history.stoppedEarly = true;
    }
  }

  /** The log of an epoch cut short (maxSteps, abort). */
  private pushPartialLog(p: EpochProgress): void {
    this.history.epochs.push({ epoch: p.epoch, loss: mean(p.sums, p.logged), learningRate: this.trainer.learningRate, seconds: (Date.now() - p.started) / 1000 });
  }

  /** Saves a checkpoint (when asked for); a non-finite model is never saved and stops the run. */
  private async save(position: CheckpointPosition, epoch: number): Promise<void> {
    const ckpt = this.o.checkpoint;
    if (!ckpt) return;
    const state: CheckpointState = {
      globalStep: this.trainer.step,
      fitSteps: this.history.steps,
      ...position,
      learningRate: this.trainer.learningRate,
      plateau: this.plateau?.getState() ?? null,
      earlyStopping: this.early?.getState() ?? null,
      stoppedEarly: this.history.stoppedEarly,
      epochs: this.history.epochs,
      seconds: this.elapsed(),
      fingerprint: this.fingerprint,
    };
    if (!(await writeCheckpoint(this.trainer, ckpt.handler, state))) throw this.diverged('the weights became non-finite', this.trainer.step, epoch);
    this.savedStep = this.trainer.step;
  }

  /** Restores the last finite weights and describes the divergence. */
  private diverged(what: string, step: number, epoch: number, cause?: unknown): PiqStateError {
    this.trainer.model.trainableVariables.forEach((v, i) => {
      const s = this.snapshot[i];
      if (s) v.assign(s);
    });
    const kept = this.savedStep === undefined ? '' : ` The last checkpoint (step ${this.savedStep}) was kept.`;
    const e = new PiqStateError(
      `${OWNER}: ${what} at step ${step} (epoch ${epoch}); the weights were restored to step ${this.lastGoodStep}, the last finite check.${kept} Lower the learning rate or check the data for NaN.`,
    );
    if (cause !== undefined) (e as { cause?: unknown }).cause = cause;
    return e;
  }

  private takeSnapshot(): tf.Tensor[] {
    return this.trainer.model.trainableVariables.map((v) => tf.clone(v));
  }

  private elapsed(): number {
    return this.priorSeconds + (Date.now() - this.t0) / 1000;
  }
}

function mean(sums: Record<string, number>, n: number): Record<string, number> {
  return Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, n ? v / n : Number.NaN]));
}
