// Everything a training step changes, captured and restored as one unit: the model's weights
// (decoder and adapter with batch-norm statistics; codebook with EMA averages, usage counters, step
// counter and init flag), Adam's state (iteration count, first and second moments, bias-correction
// powers), the global step and the learning rate. Checkpoints write this state; the fit loop keeps
// the last finite copy and restores it when training diverges.
import * as tf from '@tensorflow/tfjs-core';
import { optimizerWeights, restoreOptimizer } from './optimizer-state';
import { finiteFlag, type TrainerState } from './trainer-steps';

/** A copy of a trainer's state; the tensors are owned by the snapshot. */
export interface TrainerSnapshot {
  /** Model weights (as `PiqModel.getWeights` names them) and Adam state (`optimizer/…`, as checkpoints name it). */
  weights: Record<string, tf.Tensor>;
  step: number;
  learningRate: number;
}

/**
 * Copies the trainer's state. Cheap: tfjs clones share the data of their source, and training
 * replaces variable values (assign) instead of writing into them, so the copy stays as it was.
 */
export async function captureTrainer(owner: string, trainer: TrainerState): Promise<TrainerSnapshot> {
  const weights = trainer.model.getWeights();
  try {
    if (trainer.optimizer) {
      const adam = await optimizerWeights(owner, trainer.optimizer, trainer.model.trainableVariables);
      // The iteration count is a new tensor; the moments and powers are the optimizer's own variables.
      for (const [k, t] of Object.entries(adam)) weights[k] = k === 'optimizer/iterations' ? t : tf.clone(t);
    }
  } catch (e) {
    tf.dispose(Object.values(weights));
    throw e;
  }
  return { weights, step: trainer.step, learningRate: trainer.learningRate };
}

/** Scalar 1 when every float value of named weights (a snapshot's, a save's) is finite, else 0 (call inside a tidy). */
export function weightsFiniteFlag(weights: Record<string, tf.Tensor>): tf.Scalar {
  return finiteFlag(Object.values(weights).filter((t) => t.dtype === 'float32'));
}

/** Whether every float value of named weights is finite (one asynchronous read-back). */
export async function weightsAreFinite(weights: Record<string, tf.Tensor>): Promise<boolean> {
  const flag = tf.tidy(() => weightsFiniteFlag(weights));
  try {
    return (await flag.data())[0] === 1;
  } finally {
    flag.dispose();
  }
}

/**
 * Writes a state (a snapshot, or a checked checkpoint) into the trainer: model weights, a fresh
 * Adam holding the stored moments (none stored: no optimizer, as before the first step), the global
 * step and the learning rate. The caller keeps ownership of `weights`.
 */
export async function restoreTrainer(owner: string, trainer: TrainerState, s: TrainerSnapshot): Promise<void> {
  const vars = trainer.model.trainableVariables;
  trainer.model.setWeights(s.weights, owner);
  trainer.optimizer?.dispose();
  trainer.optimizer = undefined;
  const hasMoments = Object.keys(s.weights).some((k) => k.startsWith('optimizer/m/'));
  trainer.optimizer = hasMoments ? await restoreOptimizer(s.weights, vars, s.learningRate) : undefined;
  trainer.step = s.step;
  trainer.learningRate = s.learningRate;
}

/** The last state of a fit known to be finite, and the way back to it. */
export class Rollback {
  private constructor(private snapshot: TrainerSnapshot) {}

  /** Starts from the trainer's current state (the state a fit begins with). */
  static async start(owner: string, trainer: TrainerState): Promise<Rollback> {
    return new Rollback(await captureTrainer(owner, trainer));
  }

  /** Global step of the last finite state. */
  get step(): number {
    return this.snapshot.step;
  }

  /** Makes a checked, finite snapshot the new way back (takes ownership of it). */
  commit(s: TrainerSnapshot): void {
    tf.dispose(Object.values(this.snapshot.weights));
    this.snapshot = s;
  }

  /** Puts the trainer back to the last finite state. */
  async restore(owner: string, trainer: TrainerState): Promise<void> {
    await restoreTrainer(owner, trainer, this.snapshot);
  }

  dispose(): void {
    tf.dispose(Object.values(this.snapshot.weights));
  }
}
