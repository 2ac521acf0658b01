// tfjs-layers-style training callbacks for Trainer.fit: the callback contract, the logs they
// receive (tfjs naming: `loss`, each loss term, `val_…`), the History-like record and the list
// that calls them in order. The progress printer (progress.ts) is one more callback of the list.
import * as tfl from '@tensorflow/tfjs-layers';
import { PiqConfigError } from '../errors';
import { describe, optionsObject } from '../internal/checks';

/** The parts of an EpochLog the logs are made of (declared here: fit-options.ts imports this module). */
interface EpochRecord {
  loss: Record<string, number>;
  validation?: { loss: Record<string, number>; inputFidelity: number };
}

/**
 * How much `fit` prints in Node: `0` nothing; `1` a progress line on stderr redrawn in place
 * (epoch, step, loss terms, steps/s, ETA), only when stderr is a terminal; `2` one line per epoch
 * on stderr, also when it is not a terminal (logs, CI). Nothing is ever written in a browser.
 * @category Training
 */
export type Verbosity = 0 | 1 | 2;

/**
 * Numbers a callback receives, named as tfjs-layers names them: `loss` (the total), one entry per
 * loss term (`reconstruction`, `codebook`, `commitment`, …) and, after validation, the same with a
 * `val_` prefix plus `val_inputFidelity`. Batch logs also hold `batch` and `size`.
 * @category Training
 */
export type FitLogs = Record<string, number>;

/**
 * A training callback, as tfjs-layers defines them (`tf.CustomCallbackArgs` / `tf.Callback`):
 * every hook is optional and may be async (`fit` awaits it). Objects from tfjs-layers
 * (`tfl.callbacks.earlyStopping(…)`) and tfjs-vis (`tfvis.show.fitCallbacks(…)`) plug in as they are.
 *
 * `setModel` receives the {@link Trainer} running the fit: setting its `stopTraining` to true (as
 * tfjs-layers' early stopping does with `this.model.stopTraining = true`) ends `fit` after the
 * current batch, with `stoppedEarly: true` in the history. Subclasses of tfjs-layers' `Callback`
 * (whose `setModel` accepts only a LayersModel) get the Trainer in their `model` field directly;
 * `stopTraining` is the only LayersModel member it offers.
 *
 * @example
 * ```ts
 * import * as tfl from '@tensorflow/tfjs-layers';
 * const history = await interpreter.fit(images, {
 *   epochs: 50,
 *   validationData: heldOut,
 *   callbacks: [
 *     tfl.callbacks.earlyStopping({ monitor: 'val_loss', patience: 3 }),
 *     { onEpochEnd: (epoch, logs) => console.log(epoch, logs?.loss, logs?.val_inputFidelity) },
 *   ],
 * });
 * console.log(history.history.val_loss.length, history.stoppedEarly); // e.g. 9 true
 * ```
 * @category Training
 */
export interface FitCallback {
  /** Before the first epoch. */
  onTrainBegin?(logs?: FitLogs): void | Promise<void>;
  /** After the last epoch (or an early stop), with the last epoch's logs. */
  onTrainEnd?(logs?: FitLogs): void | Promise<void>;
  /** Before each epoch (0-based). */
  onEpochBegin?(epoch: number, logs?: FitLogs): void | Promise<void>;
  /** After each epoch, with its mean training losses and its validation (`val_…`). */
  onEpochEnd?(epoch: number, logs?: FitLogs): void | Promise<void>;
  /** Before each batch (0-based within the epoch), with `batch` and `size`. */
  onBatchBegin?(batch: number, logs?: FitLogs): void | Promise<void>;
  /**
   * After each batch, with `batch` and `size`, and on the steps whose loss is read back from the
   * device (every `logEvery` steps and the last batch of an epoch) `loss`, each term and
   * `perplexity`. Set `logEvery: 1` to get the loss of every batch.
   */
  onBatchEnd?(batch: number, logs?: FitLogs): void | Promise<void>;
  /** tfjs-layers `Callback.setModel`: receives the Trainer (see above). */
  setModel?(model: unknown): void;
  /** tfjs-layers `Callback.setParams`: receives `{ epochs, steps, batchSize, samples, verbose, doValidation, metrics }` (`steps` and `samples` when known). */
  setParams?(params: Record<string, unknown>): void;
}

/** What callbacks may stop: the Trainer, through its `stopTraining` flag. */
export interface FitControl {
  stopTraining: boolean;
}

const HOOKS = ['onTrainBegin', 'onTrainEnd', 'onEpochBegin', 'onEpochEnd', 'onBatchBegin', 'onBatchEnd', 'setModel', 'setParams'] as const;

/** Checks `callbacks` (one callback object or an array of them) and returns them as an array. */
export function resolveCallbacks(owner: string, value: unknown): FitCallback[] {
  if (value === undefined) return [];
  const list = Array.isArray(value) ? value : [value];
  list.forEach((cb, i) => {
    const name = Array.isArray(value) ? `callbacks[${i}]` : 'callbacks';
    if (typeof cb !== 'object' || cb === null) {
      throw new PiqConfigError(`${owner}: '${name}' must be a callback object such as { onEpochEnd(epoch, logs) { … } }, got ${describe(cb)}.`);
    }
    // A plain object literal is checked like an options object (a misspelt hook would never run);
    // class instances (tfjs-layers callbacks) may carry state of their own.
    if (Object.getPrototypeOf(cb) === Object.prototype) optionsObject(owner, cb as object, HOOKS, name);
    const hooks = HOOKS.filter((h) => (cb as Record<string, unknown>)[h] !== undefined);
    const bad = hooks.find((h) => typeof (cb as Record<string, unknown>)[h] !== 'function');
    if (bad !== undefined) throw new PiqConfigError(`${owner}: '${name}.${bad}' must be a function, got ${describe((cb as Record<string, unknown>)[bad])}.`);
    if (hooks.length === 0) {
      throw new PiqConfigError(`${owner}: '${name}' must have at least one of ${HOOKS.slice(0, 6).join(', ')}, got an object without any. Check the spelling of the hook names.`);
    }
  });
  return list as FitCallback[];
}

/** The tfjs-style logs of an epoch: `loss` (the total), each term, `val_` + the same, `val_inputFidelity`. */
export function epochLogs(log: EpochRecord): FitLogs {
  const out: FitLogs = lossLogs(log.loss);
  if (log.validation) {
    for (const [k, v] of Object.entries(lossLogs(log.validation.loss))) out[`val_${k}`] = v;
    out.val_inputFidelity = log.validation.inputFidelity;
  }
  return out;
}

/** Loss terms as logs: `total` is named `loss`, as in tfjs. */
export function lossLogs(loss: Record<string, number>): FitLogs {
  const out: FitLogs = {};
  for (const [k, v] of Object.entries(loss)) out[k === 'total' ? 'loss' : k] = v;
  return out;
}

/** A tfjs-layers `History.history`: one array per log name, one entry per epoch that logged it. */
export function historyOf(epochs: readonly EpochRecord[]): { loss: number[] } & Record<string, number[]> {
  const history: { loss: number[] } & Record<string, number[]> = { loss: [] };
  for (const e of epochs) for (const [k, v] of Object.entries(epochLogs(e))) (history[k] ??= []).push(v);
  return history;
}

/** Facts about the run given to `setParams` and the progress printer. */
export interface FitParams {
  epochs: number;
  /** Batches per epoch, when the data is a tensor. */
  steps: number | undefined;
  batchSize: number;
  samples: number | undefined;
  verbose: Verbosity;
  doValidation: boolean;
  metrics: string[];
}

/** Callbacks (the progress printer first, then the user's), called in order and awaited. */
export class CallbackList {
  constructor(
    private readonly list: readonly FitCallback[],
    params: FitParams,
    control: FitControl,
  ) {
    const { steps, samples, ...rest } = params;
    const tfjsParams: Record<string, unknown> = { ...rest, ...(steps === undefined ? {} : { steps }), ...(samples === undefined ? {} : { samples }) };
    for (const cb of list) {
      cb.setParams?.(tfjsParams);
      // tfjs-layers' Callback.setModel accepts only a LayersModel: its public `model` field is set instead.
      if (cb instanceof tfl.Callback) (cb as unknown as { model: unknown }).model = control;
      else cb.setModel?.(control);
    }
  }

  async trainBegin(): Promise<void> {
    for (const cb of this.list) await cb.onTrainBegin?.({});
  }

  async trainEnd(logs: FitLogs): Promise<void> {
    for (const cb of this.list) await cb.onTrainEnd?.({ ...logs });
  }

  async epochBegin(epoch: number): Promise<void> {
    for (const cb of this.list) await cb.onEpochBegin?.(epoch, {});
  }

  async epochEnd(epoch: number, logs: FitLogs): Promise<void> {
    // Each callback gets its own copy: one may not change what the next sees.
    for (const cb of this.list) await cb.onEpochEnd?.(epoch, { ...logs });
  }

  async batchBegin(batch: number, size: number): Promise<void> {
    for (const cb of this.list) await cb.onBatchBegin?.(batch, { batch, size });
  }

  async batchEnd(batch: number, logs: FitLogs): Promise<void> {
    for (const cb of this.list) await cb.onBatchEnd?.(batch, { ...logs });
  }
}
