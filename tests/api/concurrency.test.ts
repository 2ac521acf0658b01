// What happens when calls overlap: interpret / save / dispose / a second fit while a fit runs,
// and two interpreters sharing one classifier. Each has one defined outcome (it works, or a
// PiqStateError), and the state is never corrupted.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { createInterpreter, loadInterpreter, PiqStateError, type FitHistory, type Interpreter, type InterpretResult } from '../../src';
import { Trainer } from '../../src/training/trainer';
import { memoryHandler } from '../fixtures/memory-handler';
import { makeRun, weightArrays } from '../fixtures/checkpoint-run';
import { squaresDataset, tinyClassifier } from '../fixtures/synthetic';

const FIT = { epochs: 2, batchSize: 8, seed: 5, logEvery: 1, learningRate: 5e-3 } as const;

/** History without wall-clock fields, for exact comparison. */
function timeless(h: FitHistory): unknown {
  return { ...h, seconds: 0, epochs: h.epochs.map((e) => ({ ...e, seconds: 0 })) };
}

/**
 * Lets pending promise callbacks run. On the cpu backend a fit advances through promise callbacks
 * only (read-backs resolve at once), so this is where its steps interleave with other calls.
 */
const tick = () => Promise.resolve();

/** Calls `f` repeatedly while `running` has not settled; returns the results. */
async function whileRunning<T>(running: Promise<unknown>, f: () => Promise<T>): Promise<T[]> {
  let done = false;
  void running.then(
    () => (done = true),
    () => (done = true),
  );
  const out: T[] = [];
  while (!done) {
    out.push(await f());
    await tick();
  }
  return out;
}

function expectValid(r: InterpretResult, classifierClasses: Int32Array): void {
  expect(Array.from(r.predictedClass)).toEqual(Array.from(classifierClasses));
  expect(r.mask.every((v) => v >= 0 && v <= 1)).toBe(true);
  expect(r.interpretation.every(Number.isFinite)).toBe(true);
}

describe('overlapping calls on one interpreter', () => {
  it('interpret during fit works and does not change what fit computes', async () => {
    const ref = await makeRun();
    const refHistory = await ref.interpreter.fit(ref.images, FIT);
    const expected = weightArrays(ref.interpreter);
    ref.dispose();

    const run = await makeRun();
    const classes = tf.tidy(() => tf.argMax(run.interpreter.classifier.run(run.validation).logits, -1));
    const cls = (await classes.data()) as Int32Array;
    classes.dispose();
    const fitting = run.interpreter.fit(run.images, FIT);
    const results = await whileRunning(fitting, () => run.interpreter.interpret(run.validation, { batchSize: 3 }));
    const history = await fitting;
    expect(results.length).toBeGreaterThan(1);
    for (const r of results) expectValid(r, cls);
    expect(weightArrays(run.interpreter)).toEqual(expected);
    expect(timeless(history)).toEqual(timeless(refHistory));
    run.dispose();
  });

  it('interpret and save called from onProgress see the step reported there', async () => {
    const run = await makeRun();
    const mem = memoryHandler();
    let pending: Promise<[InterpretResult, unknown]> | undefined;
    await run.interpreter.fit(run.images, {
      ...FIT,
      onProgress: (p) => {
        if (p.step === 3) pending = Promise.all([run.interpreter.interpret(run.validation), run.interpreter.save(mem)]);
      },
    });
    const [during] = await (pending as Promise<[InterpretResult, unknown]>);
    const loaded = await loadInterpreter(mem, { classifier: run.interpreter.classifier });
    const again = await loaded.interpret(run.validation);
    expect(Array.from(during.interpretation)).toEqual(Array.from(again.interpretation));
    expect(Array.from(during.codeIndices)).toEqual(Array.from(again.codeIndices));
    loaded.dispose();
    run.dispose();
  });

  it('save during fit writes the state between two steps, never a mixture', async () => {
    const run = await makeRun();
    const states: Array<Record<string, number[]>> = [weightArrays(run.interpreter)];
    const fitting = run.interpreter.fit(run.images, { ...FIT, onProgress: () => void states.push(weightArrays(run.interpreter)) });
    const saves = await whileRunning(fitting, async () => {
      const mem = memoryHandler();
      await run.interpreter.save(mem);
      return mem;
    });
    await fitting;
    expect(saves.length).toBeGreaterThan(1);
    for (const mem of saves) {
      const loaded = await loadInterpreter(mem, { classifier: run.interpreter.classifier });
      const w = weightArrays(loaded);
      expect(states.some((s) => JSON.stringify(s) === JSON.stringify(w))).toBe(true);
      loaded.dispose();
    }
    run.dispose();
  });

  it('dispose during fit stops the fit with a PiqStateError and frees everything once it has stopped', async () => {
    const classifier = tinyClassifier(3);
    const { images } = squaresDataset(32, 4);
    const before = tf.memory().numTensors;
    const interpreter = await createInterpreter({ classifier, seed: 1 });
    let stepsSeen = 0;
    const fitting = interpreter.fit(images, { ...FIT, epochs: 50, onProgress: (p) => void (stepsSeen = p.step) });
    while (stepsSeen < 3) await tick();
    interpreter.dispose();
    expect(interpreter.isDisposed).toBe(true);
    await expect(interpreter.interpret(images)).rejects.toThrow(PiqStateError);
    const e = await fitting.then(
      () => undefined,
      (err: unknown) => err as Error,
    );
    expect(e).toBeInstanceOf(PiqStateError);
    expect(e?.message).toMatch(/^Trainer\.fit: the trainer was disposed during fit \(Interpreter\.dispose or Trainer\.dispose\); training stopped after step [3-9]\. Await fit/);
    expect(tf.memory().numTensors).toBe(before);
    images.dispose();
    classifier.dispose();
  });

  it('dispose during interpret lets the interpret finish, then frees the model', async () => {
    const run = await makeRun();
    const before = tf.memory().numTensors;
    const ref = await run.interpreter.interpret(run.validation);
    const interpreting = run.interpreter.interpret(run.validation, { batchSize: 2 }); // four chunks
    run.interpreter.dispose();
    const r = await interpreting;
    expect(Array.from(r.interpretation)).toEqual(Array.from(ref.interpretation));
    expect(run.interpreter.model.isDisposed).toBe(true);
    expect(tf.memory().numTensors).toBeLessThan(before);
    run.dispose();
  });

  it('refuses a second fit, or a manual trainStep, while a fit runs', async () => {
    const run = await makeRun();
    const fitting = run.interpreter.fit(run.images, FIT);
    await expect(run.interpreter.fit(run.images, FIT)).rejects.toThrow(/^Trainer\.fit: a fit is already running on this model\. Await it \(or stop it with 'signal'\) first\.$/);
    await fitting;
    const trainer = new Trainer(run.interpreter.model);
    const ctrl = new AbortController();
    const manual = trainer.fit(run.images, { ...FIT, signal: ctrl.signal });
    expect(() => trainer.trainStep(run.images)).toThrow(PiqStateError);
    ctrl.abort();
    expect((await manual).aborted).toBe(true);
    trainer.dispose();
    run.dispose();
  });
});

describe('disposing the parts of a bare Trainer during its fit', () => {
  for (const part of ['trainer', 'model'] as const) {
    it(`stops the fit with a PiqStateError when the ${part} is disposed`, async () => {
      const run = await makeRun();
      const trainer = new Trainer(run.interpreter.model);
      let stepsSeen = 0;
      const fitting = trainer.fit(run.images, { ...FIT, epochs: 50, onProgress: (p) => void (stepsSeen = p.step) });
      while (stepsSeen < 2) await tick();
      if (part === 'trainer') trainer.dispose();
      else run.interpreter.model.dispose();
      const owner = part === 'trainer' ? 'Interpreter\\.dispose or Trainer\\.dispose' : 'PiqModel\\.dispose';
      await expect(fitting).rejects.toThrow(new RegExp(`^Trainer\\.fit: the ${part} was disposed during fit \\(${owner}\\); training stopped after step \\d+\\.`));
      expect(() => trainer.trainStep(run.images)).toThrow(PiqStateError);
      trainer.dispose();
      run.dispose();
    });
  }
});

describe('two interpreters on one classifier', () => {
  async function pair(classifier: tfl.LayersModel): Promise<[Interpreter, Interpreter]> {
    return [await createInterpreter({ classifier, seed: 1 }), await createInterpreter({ classifier, seed: 2, mode: 'mask' })];
  }

  it('train concurrently to the same weights as alone, leave the classifier untouched, and dispose independently', async () => {
    const classifier = tinyClassifier(3);
    const { images } = squaresDataset(32, 4);
    const classifierWeights = classifier.getWeights().map((w) => Array.from(w.dataSync()));
    const [a0, b0] = await pair(classifier);
    await a0.fit(images, FIT);
    await b0.fit(images, FIT);
    const alone = [weightArrays(a0), weightArrays(b0)];
    a0.dispose();
    b0.dispose();

    const [a, b] = await pair(classifier);
    const order: string[] = [];
    const logged = (name: string) => ({ ...FIT, onProgress: () => void order.push(name) });
    await Promise.all([a.fit(images, logged('a')), b.fit(images, logged('b')), a.interpret(images), b.interpret(images)]);
    expect(order.indexOf('b')).toBeLessThan(order.lastIndexOf('a')); // the two fits did interleave
    expect([weightArrays(a), weightArrays(b)]).toEqual(alone);
    expect(classifier.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(classifierWeights);
    a.dispose();
    const r = await b.interpret(images);
    expect(r.interpretation.every(Number.isFinite)).toBe(true);
    const p = classifier.predict(images) as tf.Tensor;
    expect(Array.from(await p.data()).every(Number.isFinite)).toBe(true);
    p.dispose();
    b.dispose();
    images.dispose();
    classifier.dispose();
  });
});
