import * as tf from '@tensorflow/tfjs-core';
import { checkInputBatch } from '../classifier/input-check';
import { PiqConfigError, PiqInputError, PiqStateError } from '../errors';
import { assertLive, describe, finiteNumber, optionKeys, optionsObject, positiveInt } from '../internal/checks';
import type { DataSource } from './data';
import { FitRun } from './fit-run';
import { DEFAULT_FIT, isRecord, resolveFit, type EvaluationLog, type FitHistory, type FitOptions } from './fit-options';
import { PiqModel } from './piq-model';
import { evaluateModel, trainStep, type TrainerState } from './trainer-steps';

const OWNER = 'Trainer.fit';

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

const TRAINER_KEYS = optionKeys<TrainerOptions>({ modelConfig: true });

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
  /** Optimizer, learning rate and global step, shared with the fit loop and checkpoints. */
  private readonly state: TrainerState;

  /**
   * Set to true during `fit` (by a callback, as tfjs-layers' early stopping sets
   * `model.stopTraining`) to end the run after the current batch; the history then says
   * `stoppedEarly: true`. Each `fit` starts with it false. Callbacks get this Trainer through
   * `setModel`.
   */
  stopTraining = false;

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
    if (!isRecord(options as unknown)) throw new PiqConfigError(`Trainer: 'options' must be an object, got ${describe(options)}.`);
    optionsObject('Trainer', options, TRAINER_KEYS);
    if (options.modelConfig !== undefined && typeof options.modelConfig !== 'function') {
      throw new PiqConfigError(`Trainer: 'modelConfig' must be a function returning a JSON object, got ${describe(options.modelConfig)}.`);
    }
    this.state = { model, optimizer: undefined, learningRate: DEFAULT_FIT.learningRate, step: 0, modelConfig: options.modelConfig, running: false, disposed: false };
  }

  /** Global step count (optimizer updates applied so far). */
  get steps(): number {
    return this.state.step;
  }

  /**
   * One optimisation step on a batch. Returns the total loss, its terms and the batch perplexity as
   * scalars the caller owns (nothing is read back from the device).
   */
  trainStep(x: tf.Tensor4D, weightDecay = 0, learningRate: number = this.state.learningRate): { total: tf.Scalar; terms: Record<string, tf.Scalar>; perplexity: tf.Scalar } {
    const owner = 'Trainer.trainStep';
    this.assertLive('trainStep');
    this.assertIdle(owner);
    checkInputBatch(owner, 'x', x, this.model.classifier, { nonEmpty: false });
    finiteNumber(owner, 'weightDecay', weightDecay, { min: 0 });
    finiteNumber(owner, 'learningRate', learningRate, { min: 0, minExclusive: true });
    return trainStep(this.state, x, weightDecay, learningRate, owner);
  }

  /**
   * Loss terms and input fidelity on a data source (inference mode, no updates).
   */
  async evaluate(data: DataSource, batchSize: number = DEFAULT_FIT.batchSize): Promise<EvaluationLog> {
    this.assertLive('evaluate');
    positiveInt('Trainer.evaluate', 'batchSize', batchSize);
    return evaluateModel('Trainer.evaluate', this.model, data, batchSize);
  }

  /**
   * Trains for `epochs` over `data`. See {@link FitOptions}.
   */
  async fit(data: DataSource, options: FitOptions = {}): Promise<FitHistory> {
    this.assertLive('fit');
    this.assertIdle(OWNER);
    const resolved = resolveFit(options);
    if (data instanceof tf.Tensor) {
      checkInputBatch(OWNER, 'data', data, this.model.classifier);
    } else if (data === null || typeof data !== 'object') {
      throw new PiqInputError(`${OWNER}: 'data' must be a tf.Tensor4D, an array of batches, an (async) iterable or a tf.data dataset, got ${describe(data)}.`);
    }
    // Each fit checks its first batch's range again (reconstruction mode): the data may differ from the last fit's.
    this.state.inputRangeChecked = false;
    this.state.running = true;
    try {
      return await new FitRun(this.state, data, resolved, this).run();
    } finally {
      this.state.running = false;
      if (this.state.disposed) this.release();
    }
  }

  /**
   * Frees the optimizer state (not the model). During a fit, the fit stops before its next step
   * (rejecting with a PiqStateError) and the state is freed when it ends.
   */
  dispose(): void {
    if (this.state.disposed) return;
    this.state.disposed = true;
    if (!this.state.running) this.release();
  }

  private release(): void {
    this.state.optimizer?.dispose();
    this.state.optimizer = undefined;
  }

  private assertLive(method: string): void {
    assertLive(this.state.disposed, 'Trainer', method, 'trainer', 'Create a new Trainer.');
    assertLive(this.model.isDisposed, 'Trainer', method, 'model', 'Build a new PiqModel.');
  }

  /** Refuses a second fit, or a manual step, while a fit runs (they would interleave with its steps). */
  private assertIdle(owner: string): void {
    if (this.state.running) {
      throw new PiqStateError(`${owner}: a fit is already running on this model. Await it (or stop it with 'signal') first.`);
    }
  }
}
