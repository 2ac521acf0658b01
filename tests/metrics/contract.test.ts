// Every metric through the same checks: one finite value per example, mean = average of the
// values, leak-free, independent of batchSize, inputs and masks left alive.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { deletionCurve, insertionCurve } from '../../src/metrics/curves';
import { evaluateInterpretations } from '../../src/metrics/evaluate';
import { averageDrop, averageGain, averageIncrease, faithfulness, inputFidelity, maskInFaithfulness } from '../../src/metrics/faithfulness';
import { maskIoU, pointingGame } from '../../src/metrics/localization';
import { complexity, sparseness } from '../../src/metrics/mask-statistics';
import { METRIC_NAMES, type MetricResult } from '../../src/metrics/types';
import { expectClose, expectNoTensorLeak } from '../helpers';

const N = 5;
/** Nonlinear 3-class classifier on [b, 4, 4, 2]. */
const classifier = (x: tf.Tensor) =>
  tf.matMul(tf.reshape(tf.tanh(x), [-1, 32]), tf.randomNormal([32, 3], 0, 1, 'float32', 5));

type Run = (x: tf.Tensor, m: tf.Tensor, g: tf.Tensor, batchSize: number) => Promise<MetricResult> | MetricResult;
const curveResult = (r: { auc: Float32Array; meanAuc: number }): MetricResult => ({ values: r.auc, mean: r.meanAuc });

const table: [string, Run][] = [
  ['averageIncrease', (x, m, _g, batchSize) => averageIncrease(classifier, x, m, { batchSize })],
  ['averageDrop', (x, m, _g, batchSize) => averageDrop(classifier, x, m, { batchSize })],
  ['averageGain', (x, m, _g, batchSize) => averageGain(classifier, x, m, { batchSize })],
  ['faithfulness', (x, m, _g, batchSize) => faithfulness(classifier, x, m, { batchSize })],
  ['inputFidelity', (x, m, _g, batchSize) => inputFidelity(classifier, x, m, { batchSize })],
  ['sparseness', (_x, m) => sparseness(m)],
  ['complexity', (_x, m) => complexity(m)],
  ['maskInFaithfulness', (x, m, _g, batchSize) => maskInFaithfulness(classifier, x, m, { batchSize })],
  ['deletionAuc', async (x, m, _g, batchSize) => curveResult(await deletionCurve(classifier, x, m, { batchSize, steps: 4 }))],
  ['insertionAuc', async (x, m, _g, batchSize) => curveResult(await insertionCurve(classifier, x, m, { batchSize, steps: 4 }))],
  ['pointingGame', (_x, m, g) => pointingGame(m, g)],
  ['maskIoU', (_x, m, g) => maskIoU(m, g)],
];

describe('metric contract table', () => {
  it('lists every metric name exactly once', () => {
    expect(table.map(([n]) => n)).toEqual([...METRIC_NAMES]);
  });

  it.each(table)('%s: finite per-example values, their mean, leak-free and independent of batchSize', async (name, run) => {
    const x = tf.randomNormal([N, 4, 4, 2], 0, 1, 'float32', 21);
    const m = tf.randomUniform([N, 4, 4], 0, 1, 'float32', 22);
    const g = tf.cast(tf.greater(tf.randomUniform([N, 4, 4], 0, 1, 'float32', 23), 0.5), 'float32');
    const a = await expectNoTensorLeak(() => run(x, m, g, 2));
    const b = await run(x, m, g, 32);
    expect(a.values).toBeInstanceOf(Float32Array);
    expect(a.values.length).toBe(N);
    for (const v of a.values) expect(Number.isFinite(v)).toBe(true);
    expect(a.mean).toBeCloseTo(Array.from(a.values).reduce((s, v) => s + v, 0) / N, 5);
    expectClose(a.values, b.values, 1e-5);
    // Through evaluateInterpretations too, with the same values.
    const all = await evaluateInterpretations(classifier, x, m, {
      metrics: [name as (typeof METRIC_NAMES)[number]],
      groundTruth: g,
      curve: { steps: 4 },
      batchSize: 3,
    });
    expectClose(all.metrics[name as (typeof METRIC_NAMES)[number]]?.values ?? [], a.values, 1e-5);
    expect([x, m, g].every((t) => !t.isDisposed)).toBe(true);
    tf.dispose([x, m, g]);
  });
});
