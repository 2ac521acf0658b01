import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { PiqInputError, PiqStateError, type FitHistory } from '../../src';
import { expectNoTensorLeak, expectThrowsWithoutLeak } from '../helpers';
import { fullState, makePoisonRun, weightsFinite } from '../fixtures/poison-run';

/** `images` with example `i` set to `value` at one pixel. */
function poisoned(images: tf.Tensor4D, i: number, value: number): tf.Tensor4D {
  const data = images.dataSync().slice();
  data[i * 64 + 10] = value;
  return tf.tensor4d(data, images.shape);
}

function batchesOf(images: tf.Tensor4D, size: number): tf.Tensor4D[] {
  return Array.from({ length: images.shape[0] / size }, (_, i) => tf.slice(images, [i * size, 0, 0, 0], [size, -1, -1, -1]) as tf.Tensor4D);
}

function lossDecreases(h: FitHistory): boolean {
  const [first, last] = [h.epochs[0]?.loss.total as number, h.epochs.at(-1)?.loss.total as number];
  return Number.isFinite(first) && Number.isFinite(last) && last < first;
}

describe('non-finite training data is refused before the step that would use it', () => {
  it('refuses a tensor source naming the example, before any step, and leaves the state untouched', async () => {
    const run = await makePoisonRun();
    await run.interpreter.fit(run.images, { ...run.options, maxSteps: 2 });
    const before = fullState(run.interpreter);
    for (const [i, v] of [[17, Number.NaN], [3, Number.POSITIVE_INFINITY], [31, Number.NEGATIVE_INFINITY]] as const) {
      const bad = poisoned(run.images, i, v);
      const e = await expectThrowsWithoutLeak(() => run.interpreter.fit(bad, { ...run.options, epochs: 1 }));
      expect(e).toBeInstanceOf(PiqInputError);
      expect(e.message).toBe(`Trainer.fit: 'data' must contain only finite values, got NaN or Infinity in example ${i} (0-based). Clean the data first; nothing was trained.`);
      bad.dispose();
    }
    const badValidation = poisoned(run.images, 5, Number.NaN);
    const e = await expectThrowsWithoutLeak(() => run.interpreter.fit(run.images, { ...run.options, validationData: badValidation }));
    expect(e.message).toMatch(/^Trainer\.fit: 'validationData' must contain only finite values, got NaN or Infinity in example 5 \(0-based\)/);
    badValidation.dispose();
    expect(fullState(run.interpreter)).toEqual(before);
    run.dispose();
  });

  it('refuses a batch of an iterable source naming batch and example; the steps before it stand and the next fit trains', async () => {
    // Reference: the same fit over the first two batches only.
    const ref = await makePoisonRun();
    const refBatches = batchesOf(ref.images, 8);
    await ref.interpreter.fit(ref.images, { ...ref.options, maxSteps: 2 });
    await ref.interpreter.fit(refBatches.slice(0, 2), { ...ref.options, epochs: 1 });
    const expected = fullState(ref.interpreter);
    tf.dispose(refBatches);
    ref.dispose();

    const run = await makePoisonRun();
    await run.interpreter.fit(run.images, { ...run.options, maxSteps: 2 }); // creates the Adam state
    const batches = batchesOf(run.images, 8);
    const bad = poisoned(batches[2] as tf.Tensor4D, 5, Number.NaN);
    const source = [batches[0] as tf.Tensor4D, batches[1] as tf.Tensor4D, bad, batches[3] as tf.Tensor4D];
    const e = await expectThrowsWithoutLeak(() => run.interpreter.fit(source, { ...run.options, epochs: 1, logEvery: 100 }));
    expect(e).toBeInstanceOf(PiqInputError);
    expect(e.message).toBe(
      "Trainer.fit: each batch of 'data' must contain only finite values, got NaN or Infinity in example 5 of batch 2 of epoch 0 (0-based). Clean the data; no step was taken on this batch.",
    );
    expect(fullState(run.interpreter)).toEqual(expected);
    const h = await run.interpreter.fit(run.images, { ...run.options, epochs: 6, logEvery: 1 });
    expect(lossDecreases(h)).toBe(true);
    expect(weightsFinite(run.interpreter)).toBe(true);
    const v = await expectThrowsWithoutLeak(() => run.interpreter.fit(run.images, { ...run.options, validationData: source }));
    expect(v.message).toMatch(/^Trainer\.evaluate: each batch of 'data' must contain only finite values, got NaN or Infinity in example 5 of batch 2 \(0-based\)/);
    tf.dispose([...batches, bad]);
    run.dispose();
  });
});

describe('recovery after divergence', () => {
  it('recovers from a huge learning rate: the next fit at a sane rate trains normally, and nothing leaks', async () => {
    const run = await makePoisonRun();
    await run.interpreter.fit(run.images, { ...run.options, maxSteps: 4 });
    const e = await expectThrowsWithoutLeak(() => run.interpreter.fit(run.images, { ...run.options, learningRate: 1e30, logEvery: 100, maxSteps: 3 }));
    expect(e).toBeInstanceOf(PiqStateError);
    expect(e.message).toMatch(/became non-finite .*at step 7 \(epoch 0\); the weights were restored to step 4/);
    const h = await expectNoTensorLeak(() => run.interpreter.fit(run.images, { ...run.options, epochs: 6, logEvery: 1 }));
    expect(lossDecreases(h)).toBe(true);
    expect(weightsFinite(run.interpreter)).toBe(true);
    run.dispose();
  });

  it('restores the last finite check when a step throws half-way (an error in a loss), and rethrows that error', async () => {
    const run = await makePoisonRun();
    await run.interpreter.fit(run.images, { ...run.options, maxSteps: 2 });
    const before = fullState(run.interpreter);
    const failing = { ...run.options, maxSteps: 4, logEvery: 100, onProgress: undefined };
    let steps = 0;
    const source = {
      *[Symbol.iterator]() {
        for (let i = 0; i < 4; i++) {
          if (++steps === 3) run.poison = 'throw'; // the loss throws on the third step of this fit
          yield tf.slice(run.images, [i * 8, 0, 0, 0], [8, -1, -1, -1]) as tf.Tensor4D;
        }
      },
    };
    const kept: tf.Tensor[] = [];
    const wrapped = { *[Symbol.iterator]() { for (const b of source) { kept.push(b); yield b; } } };
    const e = await expectThrowsWithoutLeak(async () => {
      try {
        await run.interpreter.fit(wrapped, failing);
      } finally {
        tf.dispose(kept);
      }
    });
    expect(e.message).toBe('poisoned loss threw');
    expect(fullState(run.interpreter)).toEqual(before);
    run.poison = 'off';
    run.dispose();
  });
});
