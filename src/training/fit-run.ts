// One call of Trainer.fit, step by step: resume, the epochs, each training step with its
// divergence guard, logging and checkpointing, and the end of an epoch (validation, learning-rate
// schedule, early stopping). The state of the run lives here; the trainer's own state (optimizer,
// learning rate, global step) in TrainerState; the way back from divergence in rollback.ts.
import * as tf from '@tensorflow/tfjs-core';
import { checkFiniteExamples, checkInputBatch } from '../classifier/input-check';
import { PiqInputError, PiqStateError } from '../errors';
import { mulberry32, type SeededRandom } from '../internal/random';
import { CallbackList, epochLogs, historyOf, lossLogs, type FitCallback, type FitControl } from './callbacks';
import { restoreCheckpoint, writeCheckpoint, type CheckpointPosition, type CheckpointState } from './checkpoint';
import { epochBatches, type DataSource } from './data';
import type { EpochLog, EvaluationLog, FitHistory, ResolvedFit } from './fit-options';
import { PlateauSchedule } from './lr-schedule';
import { Plateau } from './plateau';
import { createProgressLogger, nodeStderr } from './progress';
import { captureTrainer, Rollback, weightsFiniteFlag, type TrainerSnapshot } from './rollback';
import { allTensorsFinite, disposeStepResult, evaluateModel, trainStep, type StepResult, type TrainerState } from './trainer-steps';

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
  private readonly history: FitHistory = { epochs: [], history: { loss: [] }, steps: 0, stoppedEarly: false, aborted: false, seconds: 0 };
  private readonly callbacks: CallbackList;
  private readonly progress: FitCallback | undefined;
  private readonly rand: SeededRandom;
  private readonly plateau: PlateauSchedule | undefined;
  private readonly early: Plateau | undefined;
  private readonly batchesPerEpoch: number | undefined;
  private readonly fingerprint: CheckpointState['fingerprint'];
  private readonly t0 = Date.now();
  private priorSeconds = 0;
  private start: EpochStart = { epoch: 0, batch: 0, sums: {}, logged: 0 };
  /** The state at the last step whose loss and state were checked finite. */
  private rollback: Rollback | undefined;
  private savedStep: number | undefined;

  constructor(
    private readonly trainer: TrainerState,
    private readonly data: DataSource,
    private readonly o: ResolvedFit,
    /** The Trainer: callbacks receive it (`setModel`) and stop the run with its `stopTraining`. */
    private readonly control: FitControl,
  ) {
    this.rand = mulberry32(o.seed);
    this.plateau = o.schedule ? new PlateauSchedule(o.schedule) : undefined;
    this.early = o.early ? new Plateau(o.early.monitor === 'inputFidelity') : undefined;
    const examples = data instanceof tf.Tensor ? data.shape[0] : null;
    this.batchesPerEpoch = examples === null ? undefined : Math.ceil(examples / o.batchSize);
    this.fingerprint = { batchSize: o.batchSize, shuffle: o.shuffle, seed: o.seed, examples };
    const params = {
      epochs: o.epochs,
      steps: this.batchesPerEpoch,
      batchSize: o.batchSize,
      samples: examples ?? undefined,
      verbose: o.verbose,
      doValidation: o.validationData !== undefined,
      metrics: ['loss', ...trainer.model.loss.getSpec().map((t) => t.key)],
    };
    this.progress = createProgressLogger(params, nodeStderr());
    this.callbacks = new CallbackList(this.progress ? [this.progress, ...o.callbacks] : o.callbacks, params, control);
  }

  /** Runs the fit to the end (epochs, maxSteps, early stop or abort) and returns its history. */
  async run(): Promise<FitHistory> {
    // A tensor source is checked for NaN / Infinity once, before any step (other sources batch by batch).
    const fix = 'Clean the data first; nothing was trained.';
    if (this.data instanceof tf.Tensor) await checkFiniteExamples(OWNER, "'data'", this.data, '', fix);
    if (this.o.validationData instanceof tf.Tensor) await checkFiniteExamples(OWNER, "'validationData'", this.o.validationData, '', fix);
    this.trainer.learningRate = this.o.learningRate;
    if (this.o.resume) await this.resume(this.o.resume);
    this.rollback = await Rollback.start(OWNER, this.trainer);
    this.control.stopTraining = false;
    try {
      await this.callbacks.trainBegin();
      let epoch = this.start.epoch;
      for (; epoch < this.o.epochs && !this.history.stoppedEarly; epoch++) {
        if (await this.runEpoch(epoch)) break;
      }
      // Whatever logEvery is, a fit never returns normally with a non-finite state.
      await this.checkState(Math.min(epoch, this.o.epochs - 1));
    } catch (e) {
      await this.progress?.onTrainEnd?.(); // ends a live progress line before the error is printed
      throw e;
    } finally {
      this.rollback.dispose();
    }
    this.history.seconds = this.elapsed();
    this.history.history = historyOf(this.history.epochs);
    const last = this.history.epochs[this.history.epochs.length - 1];
    await this.callbacks.trainEnd(last ? epochLogs(last) : {});
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
    await this.callbacks.epochBegin(epoch);
    for await (const { batch, owned } of epochBatches(OWNER, this.data, this.o.batchSize, this.o.shuffle, this.rand, p.batches)) {
      let result: StepResult;
      const size = batch.shape[0];
      try {
        await this.callbacks.batchBegin(p.batches, size);
        result = await this.step(batch, p);
      } finally {
        if (owned) batch.dispose();
      }
      p.batches++;
      this.history.steps++;
      if (await this.afterStep(result, p, size)) {
        this.pushPartialLog(p);
        return true;
      }
    }
    if (p.batches === 0) throw new PiqInputError(`${OWNER}: 'data' must contain at least one batch, got an empty source.`);
    await this.endEpoch(p);
    return false;
  }

  /**
   * One training step, after checking the batch (a batch with NaN or Infinity is refused before the
   * step). A step that fails may have been half applied: the state goes back to the last finite
   * check, and a failure on non-finite weights is reported as divergence.
   */
  private async step(batch: tf.Tensor4D, p: EpochProgress): Promise<StepResult> {
    this.assertNotDisposed();
    const label = "each batch of 'data'";
    checkInputBatch(OWNER, label, batch, this.trainer.model.classifier, { nonEmpty: false });
    if (!(this.data instanceof tf.Tensor)) await checkFiniteExamples(OWNER, label, batch, ` of batch ${p.batches} of epoch ${p.epoch}`, 'Clean the data; no step was taken on this batch.');
    this.assertNotDisposed();
    try {
      return trainStep(this.trainer, batch, this.o.weightDecay, this.trainer.learningRate);
    } catch (e) {
      const finite = allTensorsFinite(this.trainer.model.trainableVariables);
      const diverged = await this.diverged('the weights became non-finite', this.trainer.step + 1, p.epoch, e);
      throw finite ? e : diverged;
    }
  }

  /**
   * Reads the step back when it is logged or checkpointed (checking loss and weights), reports
   * progress, honours the abort signal and saves step checkpoints. Returns true when the run ends here.
   */
  private async afterStep(result: StepResult, p: EpochProgress, size: number): Promise<boolean> {
    const step = this.trainer.step;
    const ckpt = this.o.checkpoint;
    const isLast = this.history.steps >= this.o.maxSteps;
    const logStep = step % this.o.logEvery === 0 || isLast || p.batches === this.batchesPerEpoch;
    const ckptStep = ckpt?.unit === 'step' && step % ckpt.every === 0;
    let batchLogs: Record<string, number> = { batch: p.batches - 1, size };
    if (logStep || ckptStep) {
      const loss = await this.checkStep(result, p.epoch);
      if (logStep) {
        for (const [k, v] of Object.entries(loss.values)) p.sums[k] = (p.sums[k] ?? 0) + v;
        p.logged++;
        this.o.onProgress?.({ step, epoch: p.epoch, batch: p.batches, batchesPerEpoch: this.batchesPerEpoch, loss: loss.values, perplexity: loss.perplexity, learningRate: this.trainer.learningRate });
        batchLogs = { ...batchLogs, ...lossLogs(loss.values), perplexity: loss.perplexity };
      }
    } else {
      disposeStepResult(result);
    }
    await this.callbacks.batchEnd(p.batches - 1, batchLogs);
    if (this.o.signal?.aborted) this.history.aborted = true;
    // A callback (e.g. tfjs-layers' early stopping) ended the run: stop after this batch.
    if (this.control.stopTraining) this.history.stoppedEarly = true;
    if (ckptStep || (ckpt && this.history.aborted)) {
      await this.save({ epoch: p.epoch, batchInEpoch: p.batches, epochRandomState: p.randomState, epochLossSums: { ...p.sums }, epochLogged: p.logged }, p.epoch);
    }
    return this.history.aborted || isLast || this.history.stoppedEarly;
  }

  /**
   * One read-back of the step's loss terms, its perplexity and whether the state after its update
   * is finite (the loss is computed before the update, so a finite loss does not prove finite
   * weights). Throws on divergence; otherwise the state becomes the way back. Disposes `result`.
   */
  private async checkStep(result: StepResult, epoch: number): Promise<{ values: Record<string, number>; perplexity: number }> {
    const names = ['total', ...Object.keys(result.terms)];
    const vals = await this.check(epoch, [result.total, ...Object.values(result.terms), result.perplexity], (v) => {
      const values = Object.fromEntries(names.map((n, i) => [n, v[i] as number]));
      return Object.values(values).every(Number.isFinite) ? undefined : `the loss became non-finite (${JSON.stringify(values)})`;
    }).finally(() => disposeStepResult(result));
    return { values: Object.fromEntries(names.map((n, i) => [n, vals[i] as number])), perplexity: vals[names.length] as number };
  }

  /** Checks the state when steps since the last check were not read back (end of an epoch or of the fit). */
  private async checkState(epoch: number): Promise<void> {
    if (this.rollback && this.rollback.step !== this.trainer.step) await this.check(epoch, [], () => undefined);
  }

  /**
   * Captures the state, reads `scalars` and the state's finiteness back at once, and either makes
   * the state the way back or (non-finite state, or `problem` names one in the values) restores the
   * last finite state and throws.
   */
  private async check(epoch: number, scalars: tf.Tensor[], problem: (values: Float32Array) => string | undefined): Promise<Float32Array> {
    const snapshot: TrainerSnapshot = await captureTrainer(OWNER, this.trainer);
    let values: Float32Array;
    try {
      const stacked = tf.tidy(() => tf.stack([...scalars, weightsFiniteFlag(snapshot.weights)]));
      values = (await stacked.data()) as Float32Array;
      stacked.dispose();
    } catch (e) {
      tf.dispose(Object.values(snapshot.weights));
      throw e;
    }
    const what = problem(values) ?? (values[scalars.length] === 1 ? undefined : 'the weights became non-finite');
    if (what !== undefined) {
      tf.dispose(Object.values(snapshot.weights));
      throw await this.diverged(what, this.trainer.step, epoch);
    }
    this.rollback?.commit(snapshot);
    return values;
  }

  /** Closes an epoch: its log, validation with the schedules it drives, the callback and the epoch checkpoint. */
  private async endEpoch(p: EpochProgress): Promise<void> {
    // The last batch of a source of unknown length is not known to be last when it is trained.
    await this.checkState(p.epoch);
    this.assertNotDisposed();
    const log: EpochLog = { epoch: p.epoch, loss: mean(p.sums, p.logged), learningRate: this.trainer.learningRate, seconds: 0 };
    if (this.o.validationData !== undefined) {
      log.validation = await evaluateModel('Trainer.evaluate', this.trainer.model, this.o.validationData, this.o.batchSize);
      this.applySchedules(log.validation, p.epoch);
    }
    log.seconds = (Date.now() - p.started) / 1000;
    this.history.epochs.push(log);
    await this.o.onEpochEnd?.(log);
    await this.callbacks.epochEnd(p.epoch, epochLogs(log));
    if (this.control.stopTraining) this.history.stoppedEarly = true;
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
    this.assertNotDisposed();
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
    if (!(await writeCheckpoint(this.trainer, ckpt.handler, state))) throw await this.diverged('the weights became non-finite', this.trainer.step, epoch);
    this.savedStep = this.trainer.step;
  }

  /** Restores the last finite state (weights, optimizer, step, learning rate) and describes the divergence. */
  private async diverged(what: string, step: number, epoch: number, cause?: unknown): Promise<PiqStateError> {
    const back = this.rollback as Rollback;
    await back.restore(OWNER, this.trainer);
    const kept = this.savedStep === undefined ? '' : ` The last checkpoint (step ${this.savedStep}) was kept.`;
    const e = new PiqStateError(
      `${OWNER}: ${what} at step ${step} (epoch ${epoch}); the weights were restored to step ${back.step}, the last finite check.${kept} The optimizer state, step count and learning rate went back with them. Lower the learning rate or check the data for NaN.`,
    );
    if (cause !== undefined) (e as { cause?: unknown }).cause = cause;
    return e;
  }

  /** A dispose() during the fit stops it before the next step (the trainer frees its state when the fit ends). */
  private assertNotDisposed(): void {
    const what = this.trainer.disposed ? 'trainer' : this.trainer.model.isDisposed ? 'model' : undefined;
    if (what) {
      throw new PiqStateError(
        `${OWNER}: the ${what} was disposed during fit (${what === 'trainer' ? 'Interpreter.dispose or Trainer.dispose' : 'PiqModel.dispose'}); training stopped after step ${this.trainer.step}. Await fit (or stop it with 'signal') before disposing.`,
      );
    }
  }

  private elapsed(): number {
    return this.priorSeconds + (Date.now() - this.t0) / 1000;
  }
}

function mean(sums: Record<string, number>, n: number): Record<string, number> {
  return Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, n ? v / n : Number.NaN]));
}
