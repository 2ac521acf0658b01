import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { PiqStateError, type FitHistory } from '../../src';
import { expectThrowsWithoutLeak } from '../helpers';
import { fullState, makePoisonRun, trainerState, weightsFinite } from '../fixtures/poison-run';

/** History without wall-clock fields, for exact comparison. */
function timeless(h: FitHistory): unknown {
  return { ...h, seconds: 0, epochs: h.epochs.map((e) => ({ ...e, seconds: 0 })) };
}

/** Mean logged total loss of the first and last epochs of a history. */
function firstAndLastLoss(h: FitHistory): [number, number] {
  return [h.epochs[0]?.loss.total as number, h.epochs.at(-1)?.loss.total as number];
}

describe('divergence rollback', () => {
  it('trains normally on clean data after a fit stopped on a NaN gradient (Adam moments restored)', async () => {
    const run = await makePoisonRun();
    const { interpreter: it1, images } = run;
    await it1.fit(images, { ...run.options, maxSteps: 4 }); // Adam state exists from here on
    run.poison = 'gradient';
    const e = await expectThrowsWithoutLeak(() => it1.fit(images, { ...run.options, maxSteps: 4 }));
    expect(e).toBeInstanceOf(PiqStateError);
    // Step 5 makes the weights NaN, so the loss of step 6 (the next check) is NaN.
    expect(e.message).toMatch(/the loss became non-finite .* at step 6 \(epoch 0\); the weights were restored to step 4, the last finite check\. The optimizer state, step count and learning rate went back with them\./);
    run.poison = 'off';
    const h = await it1.fit(images, { ...run.options, epochs: 6, logEvery: 1 });
    expect(weightsFinite(it1)).toBe(true);
    const [first, last] = firstAndLastLoss(h);
    expect(Number.isFinite(first) && Number.isFinite(last)).toBe(true);
    expect(last).toBeLessThan(first);
    run.dispose();
  });

  for (const update of ['loss', 'ema'] as const) {
    it(`continues after the stop exactly as if the poisoned fit had never run (codebook update '${update}')`, async () => {
      const ref = await makePoisonRun({ update });
      await ref.interpreter.fit(ref.images, { ...ref.options, maxSteps: 4 });
      const refHistory = await ref.interpreter.fit(ref.images, { ...ref.options, maxSteps: 6 });
      const expected = fullState(ref.interpreter);
      ref.dispose();

      const run = await makePoisonRun({ update });
      await run.interpreter.fit(run.images, { ...run.options, maxSteps: 4 });
      run.poison = 'loss';
      await expect(run.interpreter.fit(run.images, { ...run.options, maxSteps: 3 })).rejects.toThrow(/the loss became non-finite .* at step 6 .*restored to step 4/);
      run.poison = 'off';
      const history = await run.interpreter.fit(run.images, { ...run.options, maxSteps: 6 });
      const got = fullState(run.interpreter);
      expect(got).toEqual(expected);
      expect(timeless(history)).toEqual(timeless(refHistory));
      run.dispose();
    });
  }

  it('restores every piece of state a step changes to the last finite check, the learning rate included', async () => {
    const run = await makePoisonRun({ update: 'ema' });
    await run.interpreter.fit(run.images, { ...run.options, maxSteps: 2 });
    const validation = tf.slice(run.images, 0, 8) as tf.Tensor4D;
    let atCheck: Record<string, number[] | number> | undefined;
    const poisonedRates: number[] = [];
    run.onCompute = () => void (run.poison !== 'off' && poisonedRates.push(trainerState(run.interpreter).learningRate));
    const e = await expectThrowsWithoutLeak(() =>
      run.interpreter.fit(run.images, {
        ...run.options,
        epochs: 3,
        // Validation input fidelity drops after epoch 1 in this seeded run (0.375 → 0.25), so the rate halves then.
        validationData: validation,
        lrSchedule: { monitor: 'inputFidelity', patience: 1, factor: 0.5 },
        onProgress: (p) => {
          // Called after the check of step p.step (the last of epoch 1) passed; poison from the next step on.
          if (p.step === 10) {
            atCheck = fullState(run.interpreter);
            run.poison = 'gradient';
          }
        },
      }),
    );
    expect(e.message).toMatch(/became non-finite .*at step 12 \(epoch 2\); the weights were restored to step 10/);
    expect(atCheck?.step).toBe(10);
    // Epoch 1's validation ran at 5e-3; steps 11 and 12 at the halved rate.
    expect(poisonedRates).toEqual([5e-3, 2.5e-3, 2.5e-3]);
    expect(fullState(run.interpreter)).toEqual(atCheck); // learningRate 5e-3 again, as at step 10
    validation.dispose();
    run.dispose();
  });
});

describe('a fit never returns normally with non-finite weights', () => {
  it('checks the state at the end of an epoch of an iterable source and at the end of the fit, whatever logEvery is', async () => {
    const run = await makePoisonRun();
    const batches = Array.from({ length: 4 }, (_, i) => tf.slice(run.images, [i * 8, 0, 0, 0], [8, -1, -1, -1]) as tf.Tensor4D);
    await run.interpreter.fit(batches, { ...run.options, epochs: 1 });
    run.poison = 'gradient';
    // An array of batches: the fit does not know which batch is an epoch's last, and logEvery is never reached.
    const e = await expectThrowsWithoutLeak(() => run.interpreter.fit(batches, { ...run.options, epochs: 1, logEvery: 100 }));
    expect(e).toBeInstanceOf(PiqStateError);
    expect(e.message).toMatch(/the weights became non-finite at step 8 \(epoch 0\); the weights were restored to step 4/);
    expect(weightsFinite(run.interpreter)).toBe(true);
    // An aborted fit is checked too.
    const ctrl = new AbortController();
    let calls = 0;
    const source = {
      *[Symbol.iterator]() {
        for (const b of batches) {
          if (++calls === 2) ctrl.abort();
          yield b;
        }
      },
    };
    const e2 = await expectThrowsWithoutLeak(() => run.interpreter.fit(source, { ...run.options, logEvery: 100, signal: ctrl.signal }));
    expect(e2.message).toMatch(/the weights became non-finite at step 6 \(epoch 0\); the weights were restored to step 4/);
    expect(weightsFinite(run.interpreter)).toBe(true);
    tf.dispose(batches);
    run.dispose();
  });
});
