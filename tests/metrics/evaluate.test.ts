import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { PiqConfigError, PiqInputError } from '../../src/errors';
import { deletionCurve, insertionCurve } from '../../src/metrics/curves';
import { evaluateInterpretations } from '../../src/metrics/evaluate';
import { averageDrop, averageGain, averageIncrease, faithfulness, inputFidelity } from '../../src/metrics/faithfulness';
import { maskIoU, pointingGame } from '../../src/metrics/localization';
import { complexity, sparseness } from '../../src/metrics/mask-statistics';
import { METRIC_NAMES } from '../../src/metrics/types';
import { expectClose, expectNoTensorLeak, expectThrowsWithoutLeak } from '../helpers';
import { linear2x2, linearAdapter, MS, XS } from './fixtures';

const inputs = () => tf.tensor4d(XS.flat(), [3, 2, 2, 1]);
const masks3 = () => tf.tensor3d(MS.flat(), [3, 2, 2]);

describe('evaluateInterpretations', () => {
  it('computes the seven paper metrics by default, equal to the individual functions', async () => {
    const x = inputs();
    const m = masks3();
    const r = await expectNoTensorLeak(() => evaluateInterpretations(linear2x2, x, m, { batchSize: 2 }));
    expect(Object.keys(r.metrics)).toEqual([
      'averageIncrease',
      'averageDrop',
      'averageGain',
      'faithfulness',
      'inputFidelity',
      'sparseness',
      'complexity',
    ]);
    expect(r.count).toBe(3);
    expect(Array.from(r.target)).toEqual([0, 0, 1]);
    const single = {
      averageIncrease: await averageIncrease(linear2x2, x, m),
      averageDrop: await averageDrop(linear2x2, x, m),
      averageGain: await averageGain(linear2x2, x, m),
      faithfulness: await faithfulness(linear2x2, x, m),
      inputFidelity: await inputFidelity(linear2x2, x, m),
      sparseness: sparseness(m),
      complexity: complexity(m),
    };
    for (const [name, expected] of Object.entries(single)) {
      const got = r.metrics[name as keyof typeof single];
      expectClose(got?.values ?? [], expected.values, 1e-6);
      expect(got?.mean).toBeCloseTo(expected.mean, 6);
    }
    tf.dispose([x, m]);
  });

  it('computes curves and localisation metrics on request, in the requested order', async () => {
    const x = inputs();
    const m = masks3();
    const truth = tf.tensor3d([1, 0, 0, 0, 0, 1, 1, 0, 1, 0, 0, 0], [3, 2, 2]);
    const r = await expectNoTensorLeak(() =>
      evaluateInterpretations(linearAdapter(), x, m, {
        metrics: ['maskIoU', 'insertionAuc', 'deletionAuc', 'pointingGame'],
        curve: { steps: 4 },
        groundTruth: truth,
        iouThreshold: 0.3,
        target: [1, 1, 1],
      }),
    );
    expect(Object.keys(r.metrics)).toEqual(['maskIoU', 'insertionAuc', 'deletionAuc', 'pointingGame']);
    expect(Array.from(r.target)).toEqual([1, 1, 1]);
    const del = await deletionCurve(linear2x2, x, m, { steps: 4, target: [1, 1, 1] });
    const ins = await insertionCurve(linear2x2, x, m, { steps: 4, target: [1, 1, 1] });
    expectClose(r.metrics.deletionAuc?.values ?? [], del.auc, 1e-6);
    expectClose(r.metrics.insertionAuc?.values ?? [], ins.auc, 1e-6);
    expectClose(r.metrics.pointingGame?.values ?? [], pointingGame(m, truth).values);
    expectClose(r.metrics.maskIoU?.values ?? [], maskIoU(m, truth, { threshold: 0.3 }).values);
    tf.dispose([x, m, truth]);
  });

  it('accepts masks outside [0, 1] when no mask-in / mask-out metric is requested', async () => {
    const x = inputs();
    const signed = tf.tensor3d(XS.flat(), [3, 2, 2]);
    const r = await evaluateInterpretations(linear2x2, x, signed, { metrics: ['sparseness', 'deletionAuc'] });
    expectClose(r.metrics.sparseness?.values ?? [], sparseness(signed).values);
    const err = await expectThrowsWithoutLeak(() => evaluateInterpretations(linear2x2, x, signed));
    expect(err).toBeInstanceOf(PiqInputError);
    expect(err.message).toContain("evaluateInterpretations: 'masks' must hold values in [0, 1]");
    tf.dispose([x, signed]);
  });

  it('rejects unknown metric names, listing the valid ones, and empty metric lists', async () => {
    const x = inputs();
    const m = masks3();
    const err = await expectThrowsWithoutLeak(() =>
      evaluateInterpretations(linear2x2, x, m, { metrics: ['averageDrop', 'AUC' as never] }),
    );
    expect(err).toBeInstanceOf(PiqConfigError);
    expect(err.message).toContain("'metrics'");
    for (const name of METRIC_NAMES) expect(err.message).toContain(`'${name}'`);
    const empty = await expectThrowsWithoutLeak(() => evaluateInterpretations(linear2x2, x, m, { metrics: [] }));
    expect(empty).toBeInstanceOf(PiqConfigError);
    expect(empty.message).toContain("'metrics'");
    tf.dispose([x, m]);
  });

  it('requires groundTruth for the localisation metrics and validates curve options', async () => {
    const x = inputs();
    const m = masks3();
    const e1 = await expectThrowsWithoutLeak(() => evaluateInterpretations(linear2x2, x, m, { metrics: ['pointingGame'] }));
    expect(e1).toBeInstanceOf(PiqConfigError);
    expect(e1.message).toContain("'groundTruth'");
    const e2 = await expectThrowsWithoutLeak(() =>
      evaluateInterpretations(linear2x2, x, m, { metrics: ['deletionAuc'], curve: { steps: 1.5 } }),
    );
    expect(e2).toBeInstanceOf(PiqConfigError);
    expect(e2.message).toContain("evaluateInterpretations: 'steps'");
    const e3 = await expectThrowsWithoutLeak(() => evaluateInterpretations(linear2x2, x, m, { iouThreshold: Infinity }));
    expect(e3).toBeInstanceOf(PiqConfigError);
    expect(e3.message).toContain("'iouThreshold'");
    tf.dispose([x, m]);
  });
});
