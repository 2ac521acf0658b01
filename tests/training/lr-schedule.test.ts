// Reduce-on-plateau rules. The 'speechbrain' rule is checked against the test vector of the
// issue-#13 specification: SpeechBrain's verbatim ReduceLROnPlateau (speechbrain/nnet/schedulers.py
// @ 9c826ef3 L981-1003) run in PyTorch with lr0 2e-4, patience 3, dont_halve_until_epoch 4 on 16
// monitored values (reference_numbers.json → reduce_lr_on_plateau_vector).
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { createInterpreter, PiqConfigError, toClassifierAdapter } from '../../src';
import { PlateauSchedule, type ResolvedPlateauSchedule } from '../../src/training/lr-schedule';
import { expectThrowsWithoutLeak } from '../helpers';

const VALUES = [-0.5, -0.6, -0.55, -0.58, -0.61, -0.6, -0.59, -0.58, -0.57, -0.56, -0.62, -0.61, -0.61, -0.6, -0.6, -0.59];
// The learning rate after each epoch and SpeechBrain's patience counter after each epoch, from PyTorch.
const REFERENCE_LR = [2e-4, 2e-4, 2e-4, 2e-4, 2e-4, 2e-4, 2e-4, 2e-4, 1e-4, 1e-4, 1e-4, 1e-4, 1e-4, 1e-4, 5e-5, 5e-5];
const REFERENCE_COUNTER = [0, 0, 0, 0, 0, 1, 2, 3, 0, 1, 0, 1, 2, 3, 0, 1];

function schedule(o: Partial<ResolvedPlateauSchedule>): PlateauSchedule {
  return new PlateauSchedule({ monitor: 'loss', factor: 0.5, patience: 3, minLearningRate: 1e-8, rule: 'speechbrain', minEpochsBeforeReduce: 4, ...o });
}

describe("lrSchedule rule 'speechbrain'", () => {
  it("reproduces SpeechBrain's ReduceLROnPlateau on the specification's 16-epoch vector (monitor: loss, the values as given)", () => {
    const s = schedule({});
    let lr = 2e-4;
    const lrs: number[] = [];
    const counters: number[] = [];
    VALUES.forEach((v, i) => {
      lr = s.next(i + 1, v, lr);
      lrs.push(lr);
      counters.push(s.wait);
    });
    expect(counters).toEqual(REFERENCE_COUNTER);
    lrs.forEach((v, i) => expect(v, `epoch ${i + 1}`).toBeCloseTo(REFERENCE_LR[i] as number, 15));
  });

  it('gives the same schedule on input fidelity (higher is better) when the reference monitors −Fid-In', () => {
    const s = schedule({ monitor: 'inputFidelity' });
    let lr = 2e-4;
    const lrs = VALUES.map((v, i) => (lr = s.next(i + 1, -v, lr)));
    lrs.forEach((v, i) => expect(v).toBeCloseTo(REFERENCE_LR[i] as number, 15));
  });

  it("counts equality as an improvement where 'keras' does not", () => {
    const flat = [0.8, 0.8, 0.8, 0.8, 0.8];
    const sb = schedule({ monitor: 'inputFidelity', patience: 2, minEpochsBeforeReduce: 0 });
    const keras = schedule({ monitor: 'inputFidelity', patience: 2, minEpochsBeforeReduce: 0, rule: 'keras' });
    let a = 1;
    let b = 1;
    const sbLrs = flat.map((v, i) => (a = sb.next(i + 1, v, a)));
    const kerasLrs = flat.map((v, i) => (b = keras.next(i + 1, v, b)));
    expect(sbLrs).toEqual([1, 1, 1, 1, 1]);
    // keras: the first value is the best; epochs 2 and 3 do not improve → reduce after epoch 3; again after 5.
    expect(kerasLrs).toEqual([1, 1, 0.5, 0.5, 0.25]);
  });

  it("keeps the 'keras' rule's earlier behaviour by default and holds it until minEpochsBeforeReduce", () => {
    const falling = [1, 1, 1, 1, 1, 1];
    const k = schedule({ rule: 'keras', patience: 2, minEpochsBeforeReduce: 3 });
    let lr = 1;
    const lrs = falling.map((v, i) => (lr = k.next(i + 1, v, lr)));
    // Epochs 1-3: no reduction; the best stays 1 from epoch 1; epochs 4 and 5 make two non-improving epochs → halve after 5.
    expect(lrs).toEqual([1, 1, 1, 1, 0.5, 0.5]);
  });
});

describe('fit with the reference schedule', () => {
  const classifier = () =>
    toClassifierAdapter((x: tf.Tensor) => tf.tidy(() => ({ features: tf.tile(x, [1, 1, 1, 2]) as tf.Tensor4D, logits: tf.concat([tf.reshape(tf.mean(x, [1, 2, 3]), [-1, 1]), tf.zeros([x.shape[0] as number, 1])], 1) as tf.Tensor2D })), { inputShape: [4, 4, 1] });

  it("never halves while validation input fidelity stays equal (rule 'speechbrain'), and rejects bad options", async () => {
    const interpreter = await createInterpreter({ classifier: classifier(), decoder: { channels: 4 }, quantizer: { layout: { codesPerClass: 2 } } });
    const x = tf.tidy(() => tf.mul(tf.ones([4, 4, 4, 1]), 0.5) as tf.Tensor4D);
    const h = await interpreter.fit(x, { epochs: 6, batchSize: 4, learningRate: 1e-3, validationData: x, lrSchedule: { rule: 'speechbrain', patience: 1, minEpochsBeforeReduce: 1 } });
    const fids = h.epochs.map((e) => e.validation?.inputFidelity);
    expect(new Set(fids).size).toBe(1); // one class only → fidelity constant
    expect(h.epochs.map((e) => e.learningRate)).toEqual([1e-3, 1e-3, 1e-3, 1e-3, 1e-3, 1e-3]);
    for (const [opts, arg] of [
      [{ rule: 'pytorch' }, 'lrSchedule.rule'],
      [{ minEpochsBeforeReduce: -1 }, 'lrSchedule.minEpochsBeforeReduce'],
      [{ minEpochsBeforeReduce: 1.5 }, 'lrSchedule.minEpochsBeforeReduce'],
    ] as const) {
      const e = await expectThrowsWithoutLeak(() => interpreter.fit(x, { validationData: x, lrSchedule: opts as never }));
      expect(e).toBeInstanceOf(PiqConfigError);
      expect(e.message).toContain(`'${arg}' must`);
    }
    interpreter.dispose();
    x.dispose();
  });
});
