// Internal: the validated arguments every classifier-based metric works from, and the one
// chunked pass that gathers class probabilities on x, mask-in and mask-out inputs.
import * as tf from '@tensorflow/tfjs-core';
import { decisionAgreement, prepareScoring, toLogitsAdapter, type ScoringContext } from '../classifier/scoring';
import { optionsObject } from '../internal/checks';
import { broadcastableMask, checkMasks, type MaskLayout } from './masks';
import { DEFAULT_METRIC_OPTIONS, type MetricOptions, type MetricResult } from './types';

/** Validated arguments of a classifier-based metric. */
export interface MetricContext extends ScoringContext {
  readonly owner: string;
  readonly masks: tf.Tensor;
  readonly layout: MaskLayout;
}

/** Validates classifier, inputs, masks and options once, at the public boundary. */
export function prepareContext(
  owner: string,
  classifier: unknown,
  inputs: unknown,
  masks: unknown,
  options: MetricOptions | undefined,
  unitRange: boolean,
  /** The option names of the calling metric: an unknown key is refused. */
  keys: readonly string[],
): MetricContext {
  optionsObject(owner, options, keys);
  const scoring = prepareScoring(owner, toLogitsAdapter(owner, classifier), inputs, options, DEFAULT_METRIC_OPTIONS.batchSize);
  const layout = checkMasks(owner, 'masks', masks, scoring.inputs, unitRange);
  return { ...scoring, owner, masks: masks as tf.Tensor, layout };
}

/** Which perturbed inputs a set of metrics needs. */
export interface PerturbationNeeds {
  maskIn: boolean;
  maskOut: boolean;
}

/** Per-example class probabilities gathered by {@link perturbationScores}. */
export interface PerturbationScores {
  /** The scored class c per example. */
  target: Int32Array;
  /** p_c(x). */
  pX: Float32Array;
  /** p_c(M ⊙ x), when requested. */
  pIn: Float32Array;
  /** argmax f(M ⊙ x), when requested. */
  argmaxIn: Int32Array;
  /** p_c((1 − M) ⊙ x), when requested. */
  pOut: Float32Array;
}

/**
 * Runs the classifier chunk by chunk on x, M ⊙ x and (1 − M) ⊙ x (as needed) and returns the
 * softmax probability of the scored class on each, as plain arrays.
 */
export async function perturbationScores(ctx: MetricContext, needs: PerturbationNeeds): Promise<PerturbationScores> {
  const n = ctx.count;
  const k = ctx.numClasses;
  const out: PerturbationScores = {
    target: new Int32Array(n),
    pX: new Float32Array(n),
    pIn: new Float32Array(needs.maskIn ? n : 0),
    argmaxIn: new Int32Array(needs.maskIn ? n : 0),
    pOut: new Float32Array(needs.maskOut ? n : 0),
  };
  for (let start = 0; start < n; start += ctx.batchSize) {
    const size = Math.min(ctx.batchSize, n - start);
    const probs = tf.tidy(() => {
      const x = tf.slice(ctx.inputs, start, size);
      const m = broadcastableMask(tf.slice(ctx.masks, start, size), ctx.layout, x.shape);
      const list: tf.Tensor[] = [tf.softmax(ctx.classifier.logits(x))];
      if (needs.maskIn) list.push(tf.softmax(ctx.classifier.logits(tf.mul(m, x))));
      if (needs.maskOut) list.push(tf.softmax(ctx.classifier.logits(tf.mul(tf.sub(1, m), x))));
      return list;
    });
    let data: Float32Array[];
    try {
      data = (await Promise.all(probs.map((t) => t.data()))) as Float32Array[];
    } finally {
      tf.dispose(probs);
    }
    const [px, pin, pout] = needs.maskIn ? [data[0], data[1], data[2]] : [data[0], undefined, data[1]];
    for (let r = 0; r < size; r++) {
      const i = start + r;
      const c = ctx.targets !== undefined ? (ctx.targets[i] as number) : argmaxRow(px as Float32Array, r * k, k);
      out.target[i] = c;
      out.pX[i] = (px as Float32Array)[r * k + c] as number;
      if (pin !== undefined) {
        out.pIn[i] = pin[r * k + c] as number;
        out.argmaxIn[i] = argmaxRow(pin, r * k, k);
      }
      if (pout !== undefined) out.pOut[i] = pout[r * k + c] as number;
    }
  }
  return out;
}

/** Index of the largest entry of `row[offset .. offset+length)` (first on ties). */
export function argmaxRow(values: ArrayLike<number>, offset: number, length: number): number {
  let best = 0;
  let bestValue = -Infinity;
  for (let k = 0; k < length; k++) {
    const v = values[offset + k] as number;
    if (v > bestValue) {
      bestValue = v;
      best = k;
    }
  }
  return best;
}

/** Wraps per-example values with their mean (double precision). */
export function toResult(values: Float32Array): MetricResult {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i] as number;
  return { values, mean: values.length > 0 ? sum / values.length : NaN };
}

/** Per-example formulas on gathered probabilities; see docs/evaluating-interpretations.md. */
export const perExample = {
  averageIncrease: (s: PerturbationScores): Float32Array =>
    s.pX.map((p, i) => ((s.pIn[i] as number) > p ? 100 : 0)),
  averageDrop: (s: PerturbationScores): Float32Array =>
    // p_c(x) = 0 only on float underflow; then nothing can drop and the score is 0.
    s.pX.map((p, i) => (p > 0 ? (100 * Math.max(0, p - (s.pIn[i] as number))) / p : 0)),
  averageGain: (s: PerturbationScores): Float32Array =>
    // p_c(x) = 1 (saturated) leaves no room to gain: 0 instead of 0/0.
    s.pX.map((p, i) => (p < 1 ? (100 * Math.max(0, (s.pIn[i] as number) - p)) / (1 - p) : 0)),
  faithfulness: (s: PerturbationScores): Float32Array => s.pX.map((p, i) => p - (s.pOut[i] as number)),
  maskInFaithfulness: (s: PerturbationScores): Float32Array => s.pX.map((p, i) => p - (s.pIn[i] as number)),
  inputFidelity: (s: PerturbationScores): Float32Array => decisionAgreement(s.target, s.argmaxIn),
};
