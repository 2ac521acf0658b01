// The scoring shared by `npm run bench:quality` and `npm run bench:finetune-sweep`: one method's
// masks on digits and on two-digit mixtures, through evaluateInterpretations (the library's metrics).
import * as tf from '@tensorflow/tfjs-core';
import { evaluateInterpretations, type AttributionMethod, type ClassifierAdapter, type MetricName } from 'piq-tfjs';

/** The metrics of the tables, in order: JSON key, evaluateInterpretations name. */
export const METRICS: ReadonlyArray<[string, MetricName]> = [
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
];

export type MethodScores = Record<
  'AI' | 'AD' | 'AG' | 'FF' | 'FidIn' | 'SPS' | 'COMP' | 'deletionAUC' | 'insertionAUC' | 'maskInFF' | 'overlapKept' | 'msPerExplanation',
  number
>;

/** Scores masks of digits `x` and of mixtures `mix` (overlap kept = Fid-In on the mixtures). Disposes nothing. */
export async function scoreMasks(
  adapter: ClassifierAdapter,
  x: tf.Tensor4D,
  masks: tf.Tensor,
  mix: tf.Tensor4D,
  mixMasks: tf.Tensor,
  steps: number,
): Promise<MethodScores> {
  const report = await evaluateInterpretations(adapter, x, masks, { metrics: METRICS.map(([, m]) => m), batchSize: 64, curve: { steps, baseline: 0 } });
  // Overlap test: Fid-In on mixtures (is argmax f(M ⊙ mixture) the mixture's predicted digit?).
  const overlap = await evaluateInterpretations(adapter, mix, mixMasks, { metrics: ['inputFidelity'], batchSize: 64 });
  const scores = {} as MethodScores;
  for (const [key, name] of METRICS) scores[key as keyof MethodScores] = report.metrics[name]?.mean ?? NaN;
  scores.overlapKept = overlap.metrics.inputFidelity?.mean ?? NaN;
  scores.msPerExplanation = 0;
  return scores;
}

/** Explains and scores one method; times the explanations of `x` after a warm-up on two digits. */
export async function scoreMethod(
  method: AttributionMethod,
  adapter: ClassifierAdapter,
  x: tf.Tensor4D,
  mix: tf.Tensor4D,
  o: { batchSize: number; steps: number },
): Promise<MethodScores> {
  const warm = tf.slice(x, 0, 2);
  (await method.explainTensors(warm, { batchSize: o.batchSize })).dispose();
  warm.dispose();
  const start = performance.now();
  const masks = await method.explainTensors(x, { batchSize: o.batchSize });
  await masks.data();
  const msPerExplanation = (performance.now() - start) / x.shape[0];
  const mixMasks = await method.explainTensors(mix, { batchSize: o.batchSize });
  try {
    return { ...(await scoreMasks(adapter, x, masks, mix, mixMasks, o.steps)), msPerExplanation };
  } finally {
    tf.dispose([masks, mixMasks]);
  }
}
