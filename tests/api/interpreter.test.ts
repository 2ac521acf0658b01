import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { mkdtempSync, readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createInterpreter, loadInterpreter, PiqConfigError, PiqInputError, PiqStateError, type Loss, energyMask } from '../../src';
import { fileSystem, registerFileSystemRouter } from '../../src/node';
import { expectNoTensorLeak, expectThrowsWithoutLeak } from '../helpers';
import { memoryHandler } from '../fixtures/memory-handler';
import { squaresDataset, trainedTinyClassifier } from '../fixtures/synthetic';

let classifier: tfl.Sequential;
let data: ReturnType<typeof squaresDataset>;

beforeAll(async () => {
  classifier = await trainedTinyClassifier();
  data = squaresDataset(64, 11);
});

function weightsOf(model: tfl.LayersModel): Float32Array[] {
  return model.getWeights().map((w) => w.dataSync().slice() as Float32Array);
}

describe('createInterpreter', () => {
  it('taps the last spatial layer by default and says which one', async () => {
    const it = await expectNoTensorLeak(() => createInterpreter({ classifier }), 1000);
    const s = it.summary();
    expect(s.featureLayer).toBe('features');
    expect(s.featureShape).toEqual([4, 4, 8]);
    expect(s.codeShape).toEqual([4, 4, 8]);
    expect(s.codebookSize).toBe(2 * 16);
    expect(s.mode).toBe('reconstruction');
    it.dispose();
  });

  it('trains mask mode by default on balanced BCE, codebook, commitment and fidelity; reconstruction mode as the reference', async () => {
    const spec = (i: Awaited<ReturnType<typeof createInterpreter>>) => i.getConfig().losses.map((l) => ({ name: l.name, config: l.config, weight: l.weight }));
    const mask = await createInterpreter({ classifier, target: energyMask() });
    expect(spec(mask)).toEqual([
      { name: 'maskTarget', config: { kind: 'balanced-bce' }, weight: 1 },
      { name: 'codebook', config: {}, weight: 1 },
      { name: 'commitment', config: {}, weight: 1 },
      { name: 'fidelity', config: {}, weight: 1 },
    ]);
    mask.dispose();
    const recon = await createInterpreter({ classifier });
    expect(spec(recon)).toEqual([
      { name: 'reconstruction', config: { kind: 'bce' }, weight: 1 },
      { name: 'codebook', config: {}, weight: 1 },
      { name: 'commitment', config: {}, weight: 1 },
    ]);
    recon.dispose();
  });

  it('leaves no tensors behind once disposed', async () => {
    await expectNoTensorLeak(async () => {
      const it = await createInterpreter({ classifier, seed: 1 });
      it.dispose();
    });
  });

  it('rejects numClasses that do not match the logits, naming both', async () => {
    const e = await expectThrowsWithoutLeak(() => createInterpreter({ classifier, numClasses: 10 }));
    expect(e).toBeInstanceOf(PiqConfigError);
    expect(e.message).toMatch(/'numClasses' must match the classifier's logits \(2 classes\), got 10/);
  });

  it('rejects an unknown mode and a missing classifier', async () => {
    await expect(createInterpreter({ classifier, mode: 'heatmap' as never })).rejects.toThrow(/'mode' must be one of 'reconstruction', 'mask', got "heatmap"/);
    await expect(createInterpreter({} as never)).rejects.toThrow(/'classifier' is required/);
  });
});

describe('Interpreter.fit and interpret', () => {
  it('decreases the loss in a seeded run and is reproducible', async () => {
    const run = async () => {
      const it = await createInterpreter({ classifier, seed: 5, quantizer: { seed: 5 } });
      const losses: number[] = [];
      await it.fit(data.images, { epochs: 6, batchSize: 16, seed: 2, logEvery: 4, learningRate: 3e-3, onProgress: (p) => losses.push(p.loss.reconstruction as number) });
      it.dispose();
      return losses;
    };
    const a = await run();
    const b = await run();
    expect(a.length).toBe(6);
    expect(a[a.length - 1]).toBeLessThan((a[0] as number) * 0.9);
    expect(b).toEqual(a);
  });

  it('never changes the classifier: weights bit-identical after fit', async () => {
    const before = weightsOf(classifier);
    const it = await createInterpreter({ classifier });
    await it.fit(data.images, { epochs: 1, batchSize: 16 });
    it.dispose();
    const after = weightsOf(classifier);
    expect(after.length).toBe(before.length);
    after.forEach((w, i) => expect(Buffer.from(w.buffer).equals(Buffer.from((before[i] as Float32Array).buffer))).toBe(true));
  });

  it('leaves no tensors behind from fit (beyond the optimizer state) and interpret', async () => {
    const it = await createInterpreter({ classifier });
    await it.fit(data.images, { epochs: 1, batchSize: 32 }); // creates the Adam state
    await expectNoTensorLeak(() => it.fit(data.images, { epochs: 1, batchSize: 32, validationData: data.images }));
    await expectNoTensorLeak(() => it.interpret(data.images, { batchSize: 10 }));
    it.dispose();
  });

  it('returns plain data whose shapes and values are consistent', async () => {
    const it = await createInterpreter({ classifier });
    await it.fit(data.images, { epochs: 1, batchSize: 32 });
    const x = tf.slice(data.images, [0, 0, 0, 0], [5, -1, -1, -1]);
    const r = await it.interpret(x, { batchSize: 2 });
    expect(r.batch).toBe(5);
    expect(r.inputShape).toEqual([8, 8, 1]);
    expect(r.mask.length).toBe(5 * 64);
    expect(r.interpretation.length).toBe(5 * 64);
    expect(r.reconstruction).not.toBeNull();
    expect(r.codeIndices.length).toBe(5 * 16);
    // The classifier's own decision, computed independently.
    const direct = Array.from((tf.argMax(classifier.predict(x) as tf.Tensor, -1).dataSync()));
    expect(Array.from(r.predictedClass)).toEqual(direct);
    // Probabilities are a distribution per example.
    for (let i = 0; i < 5; i++) expect((r.probabilities[2 * i] as number) + (r.probabilities[2 * i + 1] as number)).toBeCloseTo(1, 5);
    // Codes come from the predicted class's block (16 rows per class, no shared rows).
    for (let i = 0; i < 5; i++) {
      const c = r.predictedClass[i] as number;
      for (const k of r.example(i).codeIndices) expect(Math.floor(k / 16)).toBe(c);
    }
    // Chunking does not change results.
    const r1 = await it.interpret(x, { batchSize: 64 });
    expect(Array.from(r1.interpretation)).toEqual(Array.from(r.interpretation));
    x.dispose();
    it.dispose();
  });

  it('learns masks that concentrate on the class-defining square (mask mode, energy target)', async () => {
    const it = await createInterpreter({ classifier, target: energyMask({ threshold: 0.5 }), seed: 3, quantizer: { init: 'data' } });
    await it.fit(data.images, { epochs: 25, batchSize: 16, learningRate: 1e-2 });
    const r = await it.interpret(data.images);
    let inside = 0;
    let outside = 0;
    let nIn = 0;
    for (let p = 0; p < r.mask.length; p++) {
      if (data.regions[p] === 1) {
        inside += r.mask[p] as number;
        nIn++;
      } else outside += r.mask[p] as number;
    }
    const meanIn = inside / nIn;
    const meanOut = outside / (r.mask.length - nIn);
    expect(meanIn).toBeGreaterThan(0.6);
    expect(meanOut).toBeLessThan(0.1);
    it.dispose();
  });

  it('rejects inputs that do not match the classifier', async () => {
    const it = await createInterpreter({ classifier });
    const rows = tf.zeros([8, 8]);
    let e = await expectThrowsWithoutLeak(() => it.interpret(rows));
    expect(e).toBeInstanceOf(PiqInputError);
    expect(e.message).toMatch(/'input' must have shape \[batch, 8, 8, 1\] to match the classifier, got \[8, 8\]\./);
    const ints = tf.zeros([2, 8, 8, 1], 'int32');
    e = await expectThrowsWithoutLeak(() => it.interpret(ints));
    expect(e.message).toMatch(/'input' must have dtype float32, got int32/);
    const nan = tf.fill([1, 8, 8, 1], Number.NaN);
    e = await expectThrowsWithoutLeak(() => it.interpret(nan));
    expect(e.message).toMatch(/finite/);
    const empty = tf.zeros([0, 8, 8, 1]) as tf.Tensor4D;
    e = await expectThrowsWithoutLeak(() => it.fit(empty));
    expect(e.message).toMatch(/'data' must contain at least one example/);
    const wrong = tf.zeros([4, 9, 8, 1]) as tf.Tensor4D;
    e = await expectThrowsWithoutLeak(() => it.fit(wrong));
    expect(e.message).toMatch(/\[batch, 8, 8, 1\].*got \[4, 9, 8, 1\]/);
    e = await expectThrowsWithoutLeak(() => it.fit([] as tf.Tensor4D[]));
    expect(e.message).toMatch(/at least one batch/);
    tf.dispose([rows, ints, nan, empty, wrong]);
    it.dispose();
    await expect(it.interpret(data.images)).rejects.toBeInstanceOf(PiqStateError);
  });

  it('stops on a non-finite loss with an error naming the step, keeping the last good weights', async () => {
    let calls = 0;
    const poison: Loss = {
      name: 'poison',
      getConfig: () => ({}),
      compute: (ctx) => tf.mul(tf.mean(ctx.decoderLogits), ++calls >= 5 ? Number.NaN : 0) as tf.Scalar,
    };
    const it = await createInterpreter({ classifier, losses: [{ loss: poison, weight: 1 }, { loss: (await import('../../src')).reconstructionLoss(), weight: 1 }] });
    await it.fit(data.images, { epochs: 1, maxSteps: 1 }); // step 1: creates the optimizer state
    const e = await expectThrowsWithoutLeak(() => it.fit(data.images, { epochs: 3, batchSize: 16, logEvery: 2 }));
    expect(e).toBeInstanceOf(PiqStateError);
    expect(e.message).toMatch(/non-finite .* at step 5 \(epoch 0\); the weights were restored to step 4/);
    const weights = it.model.trainableVariables.map((v) => Array.from(v.dataSync()));
    expect(weights.flat().every(Number.isFinite)).toBe(true);
    it.dispose();
  });

  it('can be cancelled with an AbortSignal', async () => {
    const it = await createInterpreter({ classifier });
    const ctrl = new AbortController();
    const h = await it.fit(data.images, { epochs: 5, batchSize: 8, signal: ctrl.signal, logEvery: 1, onProgress: (p) => p.step === 3 && ctrl.abort() });
    expect(h.aborted).toBe(true);
    expect(h.steps).toBe(3);
    it.dispose();
  });
});

describe('save and load', () => {
  it('round-trips through an in-memory handler with identical outputs and no leaks', async () => {
    const it = await createInterpreter({ classifier, quantizer: { layout: { sharedCodes: 2 } } });
    await it.fit(data.images, { epochs: 1, batchSize: 32 });
    const h = memoryHandler();
    await expectNoTensorLeak(() => it.save(h));
    const again = await loadInterpreter(h, { classifier });
    const [a, b] = [await it.interpret(data.images), await again.interpret(data.images)];
    expect(Array.from(b.interpretation)).toEqual(Array.from(a.interpretation));
    expect(Array.from(b.codeIndices)).toEqual(Array.from(a.codeIndices));
    expect(again.getConfig()).toEqual(it.getConfig());
    again.dispose();
    await expectNoTensorLeak(async () => (await loadInterpreter(h, { classifier })).dispose());
    it.dispose();
  });

  it('round-trips through the file system handler and file:// URLs', async () => {
    registerFileSystemRouter();
    const dir = mkdtempSync(join(tmpdir(), 'piq-'));
    const it = await createInterpreter({ classifier });
    await it.fit(data.images, { epochs: 1, batchSize: 32 });
    await it.save(`file://${dir}/a`);
    await it.save(fileSystem(join(dir, 'b')));
    const a = await loadInterpreter(`file://${dir}/a`, { classifier });
    const b = await loadInterpreter(fileSystem(join(dir, 'b')), { classifier });
    const [r0, r1, r2] = [await it.interpret(data.images), await a.interpret(data.images), await b.interpret(data.images)];
    expect(Array.from(r1.mask)).toEqual(Array.from(r0.mask));
    expect(Array.from(r2.mask)).toEqual(Array.from(r0.mask));
    // A second save replaces the weights file atomically and removes the stale one.
    await it.fit(data.images, { epochs: 1, batchSize: 32 });
    await it.save(`file://${dir}/a`);
    expect(readdirSync(join(dir, 'a')).filter((f) => f.endsWith('.bin')).length).toBe(1);
    [it, a, b].forEach((x) => x.dispose());
  });

  it('refuses artifacts of another format version, corrupted weights and missing weights', async () => {
    const it = await createInterpreter({ classifier });
    const h = memoryHandler();
    await it.save(h);
    const good = h.artifacts as tf.io.ModelArtifacts;
    const variant = (f: (a: tf.io.ModelArtifacts) => tf.io.ModelArtifacts) => ({ load: async () => f(structuredClone(good)) });
    let e = await expectThrowsWithoutLeak(() =>
      loadInterpreter(variant((a) => ({ ...a, modelTopology: { ...(a.modelTopology as object), formatVersion: 99 } })), { classifier }),
    );
    expect(e).toBeInstanceOf(PiqStateError);
    expect(e.message).toMatch(/format version 99, but this piq-tfjs reads version 1/);
    e = await expectThrowsWithoutLeak(() => loadInterpreter(variant((a) => ({ ...a, weightData: undefined })), { classifier }));
    expect(e.message).toMatch(/no weights/);
    e = await expectThrowsWithoutLeak(() =>
      loadInterpreter(
        variant((a) => {
          const bytes = new Uint8Array(a.weightData as ArrayBuffer);
          bytes[10] = (bytes[10] as number) ^ 0xff;
          return a;
        }),
        { classifier },
      ),
    );
    expect(e.message).toMatch(/checksum mismatch/);
    e = await expectThrowsWithoutLeak(() =>
      loadInterpreter(variant((a) => ({ ...a, weightData: (a.weightData as ArrayBuffer).slice(0, 100) })), { classifier }),
    );
    expect(e.message).toMatch(/truncated or corrupted/);
    e = await expectThrowsWithoutLeak(() => loadInterpreter(variant((a) => ({ ...a, modelTopology: { format: 'layers-model' } })), { classifier }));
    expect(e.message).toMatch(/must have format 'piq-interpreter'/);
    it.dispose();
  });

  it('detects a truncated weights file on disk', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'piq-'));
    const it = await createInterpreter({ classifier });
    await it.save(fileSystem(dir));
    const bin = readdirSync(dir).find((f) => f.endsWith('.bin')) as string;
    const bytes = readFileSync(join(dir, bin));
    writeFileSync(join(dir, bin), bytes.subarray(0, bytes.length - 8));
    await expect(loadInterpreter(fileSystem(dir), { classifier })).rejects.toThrow(/truncated or corrupted/);
    it.dispose();
  });

  it('refuses a classifier that does not match the saved interpreter', async () => {
    const it = await createInterpreter({ classifier });
    const h = memoryHandler();
    await it.save(h);
    const other = (x: tf.Tensor) => ({ features: tf.zeros([x.shape[0] as number, 4, 4, 8]), logits: tf.zeros([x.shape[0] as number, 3]) });
    await expect(loadInterpreter(h, { classifier: other, inputShape: [8, 8, 1] })).rejects.toThrow(/must match the saved interpreter .*2 classes.*got .*3 classes/);
    it.dispose();
  });
});
