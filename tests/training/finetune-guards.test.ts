// Interpreter.finetune follows fit's rules: option keys are checked, it excludes fit (and another
// finetune), interpret may run meanwhile, dispose stops it, and a diverging step is rolled back.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { createInterpreter, PiqConfigError, PiqStateError } from '../../src';
import { makePoisonRun, weightsFinite } from '../fixtures/poison-run';
import { squaresDataset, tinyClassifier } from '../fixtures/synthetic';
import { expectThrowsWithoutLeak } from '../helpers';

const FIT = { epochs: 2, batchSize: 8, seed: 5, logEvery: 1, learningRate: 5e-3, verbose: 0 } as const;
const tick = () => Promise.resolve();

/** Every weight of the interpreter as plain arrays. */
function weights(interpreter: { model: { getWeights(): Record<string, tf.Tensor> } }): Record<string, number[]> {
  const w = interpreter.model.getWeights();
  const out = Object.fromEntries(Object.entries(w).map(([k, t]) => [k, Array.from(t.dataSync())]));
  tf.dispose(Object.values(w));
  return out;
}

async function trained() {
  const classifier = tinyClassifier(3);
  const { images } = squaresDataset(32, 4);
  const interpreter = await createInterpreter({ classifier, seed: 1, quantizer: { layout: { codesPerClass: 2 } } });
  await interpreter.fit(images, { ...FIT, epochs: 1 });
  return {
    classifier,
    images,
    interpreter,
    dispose() {
      if (!interpreter.isDisposed) interpreter.dispose();
      images.dispose();
      classifier.dispose();
    },
  };
}

describe('Interpreter.finetune guards', () => {
  it('refuses unknown option keys, naming the closest known one (term weights and fit options alike)', async () => {
    const run = await trained();
    let e = await expectThrowsWithoutLeak(() => run.interpreter.finetune(run.images, { maskin: 1 } as never));
    expect(e).toBeInstanceOf(PiqConfigError);
    expect(e.message).toBe("Interpreter.finetune: 'options' must have only known keys, got 'maskin'. Did you mean 'maskIn'?");
    e = await expectThrowsWithoutLeak(() => run.interpreter.finetune(run.images, { epoch: 1 } as never));
    expect(e.message).toBe("Interpreter.finetune: 'options' must have only known keys, got 'epoch'. Did you mean 'epochs'?");
    e = await expectThrowsWithoutLeak(() => run.interpreter.finetune(run.images, { lrSchedule: { patince: 2 } } as never));
    expect(e.message).toMatch(/'lrSchedule' must have only known keys, got 'patince'\. Did you mean 'patience'\?/);
    run.dispose();
  });

  it('is refused while a fit runs, and a fit is refused while it runs; interpret works during it', async () => {
    const run = await trained();
    const fitting = run.interpreter.fit(run.images, FIT);
    await expect(run.interpreter.finetune(run.images, FIT)).rejects.toThrow(
      /^Interpreter\.finetune: a fit is already running on this interpreter\. Await it \(or stop it with 'signal'\) first\.$/,
    );
    await fitting;
    const tuning = run.interpreter.finetune(run.images, FIT);
    await expect(run.interpreter.fit(run.images, FIT)).rejects.toThrow(/^Interpreter\.fit: a finetune is already running on this interpreter\. Await it/);
    await expect(run.interpreter.finetune(run.images, FIT)).rejects.toThrow(/^Interpreter\.finetune: a finetune is already running on this interpreter\./);
    const r = await run.interpreter.interpret(run.images);
    expect(r.batch).toBe(32);
    expect(r.mask.every((v) => v >= 0 && v <= 1)).toBe(true);
    const h = await tuning;
    expect(h.steps).toBe(8);
    // Both are accepted again once it has ended.
    await run.interpreter.fit(run.images, { ...FIT, maxSteps: 1 });
    await run.interpreter.finetune(run.images, { ...FIT, maxSteps: 1 });
    expect(run.interpreter.getConfig().finetuned?.map((f) => f.steps)).toEqual([8, 1]);
    run.dispose();
  });

  it('dispose during finetune stops it with a PiqStateError and frees everything once it has stopped', async () => {
    const classifier = tinyClassifier(3);
    const { images } = squaresDataset(32, 4);
    const before = tf.memory().numTensors;
    const interpreter = await createInterpreter({ classifier, seed: 1, quantizer: { layout: { codesPerClass: 2 } } });
    await interpreter.fit(images, { ...FIT, maxSteps: 2 });
    let stepsSeen = 0;
    const tuning = interpreter.finetune(images, { ...FIT, epochs: 50, onProgress: (p) => void (stepsSeen = p.step) });
    while (stepsSeen < 3) await tick();
    interpreter.dispose();
    const e = await tuning.then(
      () => undefined,
      (err: unknown) => err as Error,
    );
    expect(e).toBeInstanceOf(PiqStateError);
    expect(e?.message).toMatch(/the trainer was disposed during fit/);
    expect(interpreter.model.isDisposed).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
    images.dispose();
    classifier.dispose();
  });

  it('rolls a diverging fine-tuning back to the last finite state, as fit does', async () => {
    const run = await makePoisonRun();
    await run.interpreter.fit(run.images, { ...run.options, maxSteps: 4, verbose: 0 });
    const before = weights(run.interpreter);
    run.poison = 'gradient';
    const e = await expectThrowsWithoutLeak(() => run.interpreter.finetune(run.images, { ...run.options, maxSteps: 4, verbose: 0 }));
    expect(e).toBeInstanceOf(PiqStateError);
    expect(e.message).toMatch(/became non-finite .*; the weights were restored to step 0/);
    expect(weightsFinite(run.interpreter)).toBe(true);
    expect(weights(run.interpreter)).toEqual(before);
    // Nothing is recorded for a fine-tuning that failed; a clean one afterwards trains normally.
    expect(run.interpreter.getConfig().finetuned).toBeUndefined();
    run.poison = 'off';
    const h = await run.interpreter.finetune(run.images, { ...run.options, maxSteps: 4, verbose: 0 });
    expect(h.steps).toBe(4);
    expect(weightsFinite(run.interpreter)).toBe(true);
    run.dispose();
  });
});
