// Faithfulness fine-tuning (Interpreter.finetune) and its loss terms (faithfulnessTerm).
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInterpreter, createLoss, energyMask, faithfulnessTerm, loadInterpreter, PiqConfigError, PiqStateError, type Interpreter } from '../../src';
import { finetuningModel, resolveFinetune } from '../../src/training/finetune';
import { memoryHandler } from '../fixtures/memory-handler';
import { squaresDataset, tinyClassifier } from '../fixtures/synthetic';
import { contextFixture, linearClassifier, valueOf } from '../losses/context';
import { expectNoTensorLeak, expectThrowsWithoutLeak } from '../helpers';

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

describe('faithfulnessTerm', () => {
  // One example, a 1×2×2×1 mask σ(z) on the input x, the linear classifier f(v) = v · W.
  const x = [0.9, 0.2, 0.6, 0.4];
  const z = [1.2, -0.4, 0.3, -2];
  const lin = linearClassifier(4, 3);
  afterAll(() => lin.dispose());
  const logits = (v: number[]) => [0, 1, 2].map((k) => v.reduce((s, vi, i) => s + vi * (lin.weights[i]?.[k] as number), 0));
  const softmax = (l: number[]) => {
    const m = Math.max(...l);
    const e = l.map((v) => Math.exp(v - m));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / s);
  };
  const m = z.map(sigmoid);
  const f0 = logits(x);
  const c = f0.indexOf(Math.max(...f0));
  const fixture = () => contextFixture({ shape: [1, 2, 2, 1], logits: z, input: x, classify: lin.classify, numClasses: 3 });

  it("'keep' is CE(f(M ⊙ x), c), 'remove' is −log(1 − p_c((1 − M) ⊙ x)), 'sparsity' is mean |M| (by hand)", () => {
    const f = fixture();
    const pin = softmax(logits(x.map((v, i) => (m[i] as number) * v)));
    const pout = softmax(logits(x.map((v, i) => (1 - (m[i] as number)) * v)));
    expect(valueOf(f, (ctx) => faithfulnessTerm({ term: 'keep' }).compute(ctx))).toBeCloseTo(-Math.log(pin[c] as number), 5);
    expect(valueOf(f, (ctx) => faithfulnessTerm({ term: 'remove' }).compute(ctx))).toBeCloseTo(-Math.log(1 - (pout[c] as number)), 5);
    expect(valueOf(f, (ctx) => faithfulnessTerm({ term: 'sparsity' }).compute(ctx))).toBeCloseTo(m.reduce((a, b) => a + b, 0) / 4, 6);
    f.dispose();
  });

  it('uses the reconstruction as the mask in reconstruction mode, and refuses a softplus output', async () => {
    const f = contextFixture({ shape: [1, 2, 2, 1], logits: z, input: x, classify: lin.classify, numClasses: 3, mode: 'reconstruction' });
    expect(valueOf(f, (ctx) => faithfulnessTerm({ term: 'sparsity' }).compute(ctx))).toBeCloseTo(m.reduce((a, b) => a + b, 0) / 4, 6);
    const built = f.build();
    const e = await expectThrowsWithoutLeak(() => faithfulnessTerm({ term: 'keep' }).compute({ ...built.ctx, outputActivation: 'softplus' }));
    built.dispose();
    expect(e).toBeInstanceOf(PiqConfigError);
    expect(e.message).toContain("faithfulnessTerm: the decoder output must be a sigmoid mask or reconstruction in [0, 1], got a softplus reconstruction");
    f.dispose();
  });

  it('is recreated by name from its config (save/load) and rejects an unknown term', async () => {
    expect(createLoss('faithfulnessTerm', { term: 'remove' }).getConfig()).toEqual({ term: 'remove' });
    const e = await expectThrowsWithoutLeak(() => faithfulnessTerm({ term: 'keepIn' as never }));
    expect(e.message).toContain("faithfulnessTerm: 'term' must be one of");
  });
});

describe('Interpreter.finetune', () => {
  let classifier: tfl.Sequential;
  let images: tf.Tensor4D;
  let interpreter: Interpreter;
  beforeAll(async () => {
    classifier = tinyClassifier();
    const { images: im, labels } = squaresDataset(32, 5);
    images = im;
    const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 2);
    classifier.compile({ optimizer: tf.train.adam(0.02), loss: 'categoricalCrossentropy' });
    await classifier.fit(images, y, { epochs: 8, batchSize: 16, verbose: 0 });
    y.dispose();
    interpreter = await createInterpreter({ classifier, featureLayer: 'features', quantizer: { layout: { codesPerClass: 2 } } });
    await interpreter.fit(images, { epochs: 2, batchSize: 16 });
  });
  afterAll(() => {
    interpreter.dispose();
    images.dispose();
    classifier.dispose();
  });

  it('sends gradients from the terms through the frozen classifier into the decoder, and trains no classifier weight', () => {
    const model = finetuningModel(interpreter.model, { maskIn: 1, maskOut: 1, sparsity: 0, piqWeight: 0 });
    const vars = model.trainableVariables;
    const clsVars = classifier.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
    const norms = tf.tidy(() => {
      const cls = model.classify(images);
      const target = model.target.compute(images, { predictedClass: cls.predictedClass });
      const { grads } = tf.variableGrads(() => model.loss.compute(model.lossContext(images, target, model.forwardFrom(images, cls, true))).total, [...vars, ...clsVars]);
      const norm = (vs: tf.Variable[]) => vs.reduce((s, v) => s + (grads[v.name] ? (tf.sum(tf.abs(grads[v.name] as tf.Tensor)).dataSync()[0] as number) : 0), 0);
      return { decoder: norm(interpreter.model.decoder.trainableVariables), classifier: norm(clsVars) };
    });
    // With the PIQ losses weighted 0, the decoder depends on the loss only through the classifier.
    expect(norms.decoder).toBeGreaterThan(0);
    // The path through the classifier is differentiable (its weights would get gradients if asked) …
    expect(norms.classifier).toBeGreaterThan(0);
    // … but they are outside the trained variable list.
    expect(vars.some((v) => clsVars.includes(v))).toBe(false);
  });

  it('changes the decoder, never the classifier, records itself in the configuration and survives save/load', async () => {
    const clsBefore = classifier.getWeights().map((w) => Array.from(w.dataSync()));
    const decBefore = interpreter.model.decoder.getWeights();
    const before = Object.values(decBefore).map((t) => Array.from(t.dataSync()));
    tf.dispose(Object.values(decBefore));
    const history = await expectNoTensorLeak(() => interpreter.finetune(images, { epochs: 1, batchSize: 16, maskIn: 1, maskOut: 2, sparsity: 0.5 }));
    expect(history.steps).toBe(2);
    expect(Object.keys(history.epochs[0]?.loss ?? {})).toEqual(expect.arrayContaining(['reconstruction', 'codebook', 'commitment', 'finetune.keep', 'finetune.remove', 'finetune.sparsity']));
    expect(classifier.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(clsBefore);
    const decAfter = interpreter.model.decoder.getWeights();
    expect(Object.values(decAfter).map((t) => Array.from(t.dataSync()))).not.toEqual(before);
    tf.dispose(Object.values(decAfter));
    expect(interpreter.getConfig().finetuned).toEqual([{ maskIn: 1, maskOut: 2, sparsity: 0.5, piqWeight: 1, steps: 2 }]);
    // The interpreter's own losses are unchanged (the terms belong to the fine-tuning).
    expect(interpreter.getConfig().losses.map((l) => l.key)).toEqual(['reconstruction', 'codebook', 'commitment']);
    const h = memoryHandler();
    await interpreter.save(h);
    const again = await loadInterpreter(h, { classifier });
    expect(again.getConfig().finetuned).toEqual(interpreter.getConfig().finetuned);
    again.dispose();
  });

  it('works on a spectrogram-shaped mask-mode interpreter (energy target, non-square input)', async () => {
    // A "spectrogram": 24 frames × 20 bins, log1p-like values ≥ 0; a tiny conv classifier with a 6×5 tap.
    const clf = tfl.sequential({
      layers: [
        tfl.layers.conv2d({ inputShape: [24, 20, 1], filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) }),
        tfl.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', name: 'tap', kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }),
        tfl.layers.flatten(),
        tfl.layers.dense({ units: 3, kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }) }),
      ],
    });
    const spec = tf.tidy(() => tf.log1p(tf.mul(tf.randomUniform([6, 24, 20, 1], 0, 1, 'float32', 8), 5)) as tf.Tensor4D);
    const it2 = await createInterpreter({ classifier: clf, target: energyMask(), decoder: { preset: 'spectrogram' }, quantizer: { layout: { codesPerClass: 2 } } });
    await it2.fit(spec, { epochs: 1, batchSize: 6 });
    const history = await expectNoTensorLeak(() => it2.finetune(spec, { epochs: 2, batchSize: 6, logEvery: 1 }));
    const losses = history.epochs.map((e) => e.loss);
    expect(losses.every((l) => Object.values(l).every(Number.isFinite))).toBe(true);
    expect(Object.keys(losses[0] ?? {})).toEqual(expect.arrayContaining(['maskTarget', 'finetune.keep', 'finetune.remove', 'finetune.sparsity']));
    const r = await it2.interpret(spec);
    expect(r.mask.length).toBe(6 * 24 * 20);
    it2.dispose();
    spec.dispose();
    clf.dispose();
  });

  const errors: Array<[string, () => Promise<unknown>, typeof PiqConfigError | typeof PiqStateError, string]> = [
    ['a negative weight', () => interpreter.finetune(images, { maskOut: -1 }), PiqConfigError, "Interpreter.finetune: 'maskOut' must be"],
    ['a NaN weight', () => interpreter.finetune(images, { piqWeight: Number.NaN }), PiqConfigError, "Interpreter.finetune: 'piqWeight' must be"],
    ['all term weights 0', () => interpreter.finetune(images, { maskIn: 0, maskOut: 0, sparsity: 0 }), PiqConfigError, "at least one of 'maskIn', 'maskOut', 'sparsity' must be > 0"],
    ['options that are not an object', () => interpreter.finetune(images, 3 as never), PiqConfigError, "Interpreter.finetune: 'options' must be an object"],
    ['a bad fit option', () => interpreter.finetune(images, { epochs: 0 }), PiqConfigError, "'epochs' must be a positive integer"],
  ];
  for (const [bad, call, cls, text] of errors) {
    it(`rejects ${bad}`, async () => {
      const e = await expectThrowsWithoutLeak(call);
      expect(e).toBeInstanceOf(cls);
      expect(e.message).toContain(text);
    });
  }

  it('rejects a softplus (reconstruction: mse) interpreter and a disposed one', async () => {
    const mse = await createInterpreter({ classifier, featureLayer: 'features', reconstruction: 'mse', quantizer: { layout: { codesPerClass: 2 } } });
    let e = await expectThrowsWithoutLeak(() => mse.finetune(images));
    expect(e).toBeInstanceOf(PiqConfigError);
    expect(e.message).toContain("got reconstruction: 'mse' (softplus)");
    mse.dispose();
    e = await expectThrowsWithoutLeak(() => mse.finetune(images));
    expect(e).toBeInstanceOf(PiqStateError);
    expect(e.message).toContain('Interpreter.finetune: the interpreter was disposed');
  });

  it('fills fine-tuning defaults and passes the other options on to fit', () => {
    const { weights, fit } = resolveFinetune({ batchSize: 8, maskIn: 2 });
    // The defaults of bench/results/finetune-sweep.md's row 1 / 1 / 4 / 1 / 0.002.
    expect(weights).toEqual({ maskIn: 2, maskOut: 1, sparsity: 4, piqWeight: 1 });
    expect(fit).toEqual({ epochs: 1, learningRate: 2e-3, batchSize: 8 });
  });
});
