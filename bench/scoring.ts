// The scoring shared by the quality benchmarks (bench/quality.ts on MNIST, bench/quality-audio.ts on
// spectrograms): every method's masks go through the same `evaluateInterpretations` call.
import * as tf from '@tensorflow/tfjs-core';
import { evaluateInterpretations, type AttributionMethod, type MetricName, type ScoringClassifier } from 'piq-tfjs';

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
] as const satisfies ReadonlyArray<readonly [string, MetricName]>;

export type MetricKey = (typeof METRICS)[number][0];
export type MetricScores = Record<MetricKey, number>;

/**
 * The table's metrics for masks `[n, h, w]` on inputs `x` (means over examples), plus `maskIoU`
 * against `groundTruth` when given. Deletion / insertion: `steps` steps towards `baseline`.
 */
export async function scoreMasks(
  classifier: ScoringClassifier,
  x: tf.Tensor,
  masks: tf.Tensor,
  o: { steps: number; baseline?: number; batchSize?: number; groundTruth?: tf.Tensor },
): Promise<MetricScores & { maskIoU?: number }> {
  const metrics: MetricName[] = METRICS.map(([, m]) => m);
  if (o.groundTruth) metrics.push('maskIoU');
  const report = await evaluateInterpretations(classifier, x, masks, {
    metrics,
    batchSize: o.batchSize ?? 64,
    curve: { steps: o.steps, baseline: o.baseline ?? 0 },
    ...(o.groundTruth ? { groundTruth: o.groundTruth } : {}),
  });
  const scores = {} as MetricScores & { maskIoU?: number };
  for (const [key, name] of METRICS) scores[key] = report.metrics[name]?.mean ?? NaN;
  if (o.groundTruth) scores.maskIoU = report.metrics.maskIoU?.mean ?? NaN;
  return scores;
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
