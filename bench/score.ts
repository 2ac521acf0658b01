// The scoring shared by `npm run bench:quality`, `npm run bench:finetune-sweep` and `npm run bench:audio`:
// every method's masks go through the same evaluateInterpretations call (the library's metrics).
import * as tf from '@tensorflow/tfjs-core';
import { evaluateInterpretations, type AttributionMethod, type ClassifierAdapter, type MetricName, type ScoringClassifier } from 'piq-tfjs';

/** The metrics of the tables, in order: JSON key, evaluateInterpretations name. */
export const METRICS = [
  ['AI', 'averageIncrease'],
  ['AD', 'averageDrop'],
  ['AG', 'averageGain'],
  ['FF', 'faithfulness'],
  ['FidIn', 'inputFidelity'],
  ['SPS', 'sparseness'],
  ['COMP', 'complexity'],
  ['deletionAUC', 'deletionAuc'],
  ['insertionAUC', 'insertionAuc'],
  ['maskInFF', 'maskInFaithfulness'],
] as const satisfies ReadonlyArray<readonly [string, MetricName]>;

export type MetricKey = (typeof METRICS)[number][0];
export type MetricScores = Record<MetricKey, number>;
export type MethodScores = MetricScores & { overlapKept: number; msPerExplanation: number };

/**
 * The table's metrics for masks `[n, h, w]` on inputs `x` (means over examples), plus `maskIoU`
 * against `groundTruth` when given. Deletion / insertion: `steps` steps towards `baseline` (default 0).
 */
export async function scoreMetrics(
  classifier: ScoringClassifier,
  x: tf.Tensor,
  masks: tf.Tensor,
  o: { steps: number; baseline?: number; groundTruth?: tf.Tensor },
): Promise<MetricScores & { maskIoU?: number }> {
  const metrics: MetricName[] = METRICS.map(([, m]) => m);
  if (o.groundTruth) metrics.push('maskIoU');
  const report = await evaluateInterpretations(classifier, x, masks, {
    metrics,
    batchSize: 64,
    curve: { steps: o.steps, baseline: o.baseline ?? 0 },
    ...(o.groundTruth ? { groundTruth: o.groundTruth } : {}),
  });
  const scores = {} as MetricScores & { maskIoU?: number };
  for (const [key, name] of METRICS) scores[key] = report.metrics[name]?.mean ?? NaN;
  if (o.groundTruth) scores.maskIoU = report.metrics.maskIoU?.mean ?? NaN;
  return scores;
}

/** Scores masks of digits `x` and of mixtures `mix` (overlap kept = Fid-In on the mixtures). Disposes nothing. */
export async function scoreMasks(
  adapter: ClassifierAdapter,
  x: tf.Tensor4D,
  masks: tf.Tensor,
  mix: tf.Tensor4D,
  mixMasks: tf.Tensor,
  steps: number,
): Promise<MethodScores> {
  const scores = await scoreMetrics(adapter, x, masks, { steps });
  // Overlap test: Fid-In on mixtures (is argmax f(M ⊙ mixture) the mixture's predicted digit?).
  const overlap = await evaluateInterpretations(adapter, mix, mixMasks, { metrics: ['inputFidelity'], batchSize: 64 });
  return { ...scores, overlapKept: overlap.metrics.inputFidelity?.mean ?? NaN, msPerExplanation: 0 };
}

/** `method.explainTensors(x)` after a two-example warm-up (kernel set-up), with the wall time per example. */
export async function timedExplain(method: AttributionMethod, x: tf.Tensor, batchSize: number): Promise<{ masks: tf.Tensor3D; msPerExplanation: number }> {
  const warm = tf.slice(x, 0, Math.min(2, x.shape[0] as number));
  (await method.explainTensors(warm, { batchSize })).dispose();
  warm.dispose();
  const start = performance.now();
  const masks = await method.explainTensors(x, { batchSize });
  await masks.data();
  return { masks, msPerExplanation: (performance.now() - start) / (x.shape[0] as number) };
}

/** Explains and scores one method; times the explanations of `x` after a warm-up on two digits. */
export async function scoreMethod(
  method: AttributionMethod,
  adapter: ClassifierAdapter,
  x: tf.Tensor4D,
  mix: tf.Tensor4D,
  o: { batchSize: number; steps: number },
): Promise<MethodScores> {
  const { masks, msPerExplanation } = await timedExplain(method, x, o.batchSize);
  const mixMasks = await method.explainTensors(mix, { batchSize: o.batchSize });
  try {
    return { ...(await scoreMasks(adapter, x, masks, mix, mixMasks, o.steps)), msPerExplanation };
  } finally {
    tf.dispose([masks, mixMasks]);
  }
}
