// What one training or evaluation step does, on the state a Trainer shares with its fit loop and
// its checkpoints. Arguments are validated by the callers (Trainer, FitRun).
import * as tf from '@tensorflow/tfjs-core';
import { decisionAgreement } from '../classifier/scoring';
import { PiqInputError } from '../errors';
import { checkFiniteExamples, checkInputBatch } from '../classifier/input-check';
import { epochBatches, type DataSource } from './data';
import { checkReconstructionRange } from './input-range';
import type { EvaluationLog } from './fit-options';
import type { PiqModel } from './piq-model';

/** The mutable state of a Trainer: shared by its steps, its fit loop and its checkpoints. */
export interface TrainerState {
  readonly model: PiqModel;
  /** Created on the first step, so a call that fails before training allocates nothing. */
  optimizer: tf.AdamOptimizer | undefined;
  learningRate: number;
  /** Optimizer updates applied so far (the global step). */
  step: number;
  /** JSON description of the model written into checkpoints. */
  readonly modelConfig: (() => Record<string, unknown>) | undefined;
  /** Whether the reconstruction-mode input range was checked (reset by each fit; see input-range.ts). */
  inputRangeChecked?: boolean;
  /** True while a fit runs: a second fit or a trainStep is refused meanwhile. */
  running: boolean;
  /** Set by `Trainer.dispose`: a running fit stops before its next step and frees the optimizer when it ends. */
  disposed: boolean;
}

/** The scalars of one step, owned by the caller. */
export interface StepResult {
  total: tf.Scalar;
  terms: Record<string, tf.Scalar>;
  perplexity: tf.Scalar;
}

function ensureOptimizer(state: TrainerState, lr: number): tf.AdamOptimizer {
  state.optimizer ??= tf.train.adam(lr);
  // AdamOptimizer reads `learningRate` at each applyGradients call.
  (state.optimizer as unknown as { learningRate: number }).learningRate = lr;
  return state.optimizer;
}

/**
 * One optimisation step on a batch: classifier (inference mode), target, first-batch codebook
 * seeding, loss and gradients inside one tidy, Adam with optional L2 weight decay, then the
 * quantizer's bookkeeping outside the tape. Nothing is read back from the device.
 */
export function trainStep(state: TrainerState, x: tf.Tensor4D, weightDecay: number, learningRate: number, owner = 'Trainer.fit'): StepResult {
  const model = state.model;
  if (!state.inputRangeChecked) {
    checkReconstructionRange(owner, model, x);
    state.inputRangeChecked = true;
  }
  const optimizer = ensureOptimizer(state, learningRate);
  const vars = model.trainableVariables;
  type Kept = { terms: Record<string, tf.Scalar>; perplexity: tf.Scalar; encoded: tf.Tensor; cls: tf.Tensor1D; idx: tf.Tensor };
  let kept: Kept | undefined;
  const release = (k: Kept | undefined) => k && tf.dispose([...Object.values(k.terms), k.perplexity, k.encoded, k.cls, k.idx]);
  let total: tf.Scalar;
  try {
    total = tf.tidy(() => {
      const cls = model.classify(x);
      const target = model.target.compute(x, { predictedClass: cls.predictedClass });
      if (model.quantizer.needsDataInit) {
        // Encoded as the training forward pass encodes (batch statistics), without moving the batch-norm averages.
        tf.tidy(() => model.quantizer.initializeFromData(model.decoder.encode(cls.features, true, { updateStatistics: false }), cls.predictedClass));
      }
      const { value, grads } = gradsOrThrow(() => {
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
  } catch (e) {
    // A failed step leaves nothing behind (the fit loop restores the state it may have half changed).
    release(kept as Kept | undefined);
    throw e;
  }
  const k = kept as unknown as Kept;
  try {
    tf.tidy(() => model.quantizer.postStep(k.encoded as tf.Tensor4D, k.cls, k.idx));
  } catch (e) {
    tf.dispose([total, k.perplexity, ...Object.values(k.terms)]);
    throw e;
  } finally {
    tf.dispose([k.encoded, k.cls, k.idx]);
  }
  state.step++;
  return { total, terms: k.terms, perplexity: k.perplexity };
}

/**
 * `tf.variableGrads`, except that an error thrown by `f` leaves nothing behind: tfjs frees the
 * tensors its gradient tape saved only when the backward pass runs, so the tape is completed on a
 * constant before the error is rethrown.
 */
function gradsOrThrow(f: () => tf.Scalar, vars: tf.Variable[]): { value: tf.Scalar; grads: tf.NamedTensorMap } {
  let failure: { error: unknown } | undefined;
  try {
    const out = tf.variableGrads(() => {
      try {
        return f();
      } catch (error) {
        failure = { error };
        return tf.scalar(0);
      }
    }, vars);
    if (!failure) return out;
    tf.dispose([out.value, ...Object.values(out.grads)]);
  } catch (e) {
    if (!failure) throw e; // tfjs refuses the constant (no variable reaches it): the tape is freed by then
  }
  throw (failure as { error: unknown }).error;
}

/** Loss terms and input fidelity on a data source (inference mode, no updates). */
export async function evaluateModel(owner: string, model: PiqModel, data: DataSource, batchSize: number): Promise<EvaluationLog> {
  const sums: Record<string, number> = {};
  let n = 0;
  let kept = 0;
  const fix = 'Clean the data first.';
  if (data instanceof tf.Tensor) {
    checkInputBatch(owner, 'data', data, model.classifier, { nonEmpty: false });
    await checkFiniteExamples(owner, "'data'", data, '', fix);
  }
  let index = 0;
  for await (const { batch, owned } of epochBatches(owner, data, batchSize, false, Math.random)) {
    try {
      checkInputBatch(owner, "each batch of 'data'", batch, model.classifier, { nonEmpty: false });
      if (!(data instanceof tf.Tensor)) await checkFiniteExamples(owner, "each batch of 'data'", batch, ` of batch ${index}`, fix);
      index++;
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
  if (n === 0) throw new PiqInputError(`${owner}: 'data' must contain at least one example, got an empty source.`);
  const loss = Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / n]));
  return { loss, inputFidelity: kept / n };
}

/** Frees the scalars of a step. */
export function disposeStepResult(r: StepResult): void {
  r.total.dispose();
  r.perplexity.dispose();
  for (const t of Object.values(r.terms)) t.dispose();
}

/** Scalar 1 when every value of every tensor is finite, else 0 (float32; call inside a tidy). */
export function finiteFlag(ts: tf.Tensor[]): tf.Scalar {
  if (ts.length === 0) return tf.scalar(1);
  return tf.cast(tf.all(tf.stack(ts.map((t) => tf.all(tf.isFinite(t))))), 'float32') as tf.Scalar;
}

/** Whether every value of every tensor is finite (one read-back). */
export function allTensorsFinite(ts: tf.Tensor[]): boolean {
  return tf.tidy(() => finiteFlag(ts).dataSync()[0]) === 1;
}
