import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { createInterpreter, type Interpreter } from '../../src';
import { squaresDataset, trainedTinyClassifier } from '../fixtures/synthetic';

let classifier: tfl.Sequential;
let images: tf.Tensor4D;

beforeAll(async () => {
  classifier = await trainedTinyClassifier();
  images = squaresDataset(32, 21).images;
});

/** An interpreter whose validation loss cannot change between epochs: no batch norm, and an Adam step far below float32 resolution. */
async function frozenInterpreter(): Promise<Interpreter> {
  return createInterpreter({ classifier, decoder: { norm: 'none' }, seed: 1 });
}

function weightNorm(it: Interpreter): number {
  return tf.tidy(() => tf.addN(it.model.decoder.trainableVariables.map((v) => tf.sum(tf.square(v)))).dataSync()[0] as number);
}

describe('Trainer.fit options', () => {
  it('halves the learning rate when the monitored validation loss stops improving', async () => {
    const it = await frozenInterpreter();
    const h = await it.fit(images, {
      epochs: 3,
      batchSize: 16,
      learningRate: 1e-30,
      validationData: images,
      lrSchedule: { monitor: 'loss', factor: 0.5, patience: 1, minLearningRate: 0 },
    });
    const val = h.epochs.map((e) => e.validation?.loss.total);
    expect(val[1]).toBe(val[0]); // the premise: nothing changes
    expect(h.epochs.map((e) => e.learningRate)).toEqual([1e-30, 1e-30, 5e-31]);
    it.dispose();
  });

  it('stops early after `patience` epochs without improvement', async () => {
    const it = await frozenInterpreter();
    const h = await it.fit(images, { epochs: 10, batchSize: 16, learningRate: 1e-30, validationData: images, earlyStopping: { monitor: 'loss', patience: 2 } });
    expect(h.stoppedEarly).toBe(true);
    expect(h.epochs.length).toBe(3);
    it.dispose();
  });

  it('reports validation loss terms and input fidelity every epoch', async () => {
    const it = await createInterpreter({ classifier });
    const h = await it.fit(images, { epochs: 2, batchSize: 16, validationData: images });
    for (const e of h.epochs) {
      expect(Object.keys(e.validation?.loss ?? {})).toEqual(expect.arrayContaining(['total', 'reconstruction', 'codebook', 'commitment']));
      expect(e.validation?.inputFidelity).toBeGreaterThanOrEqual(0);
      expect(e.validation?.inputFidelity).toBeLessThanOrEqual(1);
    }
    // Input fidelity, computed independently from interpret's plain data.
    const r = await it.interpret(images);
    const agree = r.predictedClass.filter((c, i) => c === r.interpretationClass[i]).length / r.batch;
    const again = await it.fit(images, { epochs: 1, batchSize: 64, learningRate: 1e-30, validationData: images });
    expect(again.epochs[0]?.validation?.inputFidelity).toBeCloseTo(agree, 6);
    it.dispose();
  });

  it('shrinks the weights with weight decay compared with the same run without it', async () => {
    const plain = await createInterpreter({ classifier, seed: 2 });
    const decayed = await createInterpreter({ classifier, seed: 2 });
    expect(weightNorm(decayed)).toBeCloseTo(weightNorm(plain), 4);
    await plain.fit(images, { epochs: 3, batchSize: 16, seed: 1, learningRate: 1e-2 });
    await decayed.fit(images, { epochs: 3, batchSize: 16, seed: 1, learningRate: 1e-2, weightDecay: 1 });
    expect(weightNorm(decayed)).toBeLessThan(weightNorm(plain));
    plain.dispose();
    decayed.dispose();
  });

  it('trains the same from an array, an async iterable and a tf.data-like source of the same batches', async () => {
    const batches = [tf.slice(images, [0, 0, 0, 0], [16, -1, -1, -1]), tf.slice(images, [16, 0, 0, 0], [16, -1, -1, -1])] as tf.Tensor4D[];
    const run = async (source: Parameters<Interpreter['fit']>[0]) => {
      const it = await createInterpreter({ classifier, seed: 4 });
      const h = await it.fit(source, { epochs: 2, logEvery: 1 });
      const w = it.model.decoder.trainableVariables.map((v) => Array.from(v.dataSync()));
      it.dispose();
      return { steps: h.steps, w };
    };
    async function* gen() {
      for (const b of batches) yield { xs: b };
    }
    const fromArray = await run(batches);
    const fromAsync = await run({ [Symbol.asyncIterator]: gen });
    const fromDataset = await run({
      iterator: async () => {
        let i = 0;
        // as tf.data does: a new tensor per element, handed to the consumer
        return { next: async () => (i < batches.length ? { value: tf.clone(batches[i++] as tf.Tensor4D), done: false } : { value: undefined, done: true }) as IteratorResult<tf.Tensor4D> };
      },
    });
    expect(fromArray.steps).toBe(4);
    expect(fromAsync).toEqual(fromArray);
    expect(fromDataset).toEqual(fromArray);
    tf.dispose(batches);
  });

  it('disposes the elements of a tf.data-like dataset once used, ys included, in training and validation (as fitDataset)', async () => {
    const x = tf.slice(images, [0, 0, 0, 0], [16, -1, -1, -1]) as tf.Tensor4D;
    const made: tf.Tensor[] = [];
    const dataset = {
      iterator: async () => {
        let i = 0;
        return {
          next: async () => {
            if (i++ >= 3) return { value: undefined, done: true } as IteratorResult<{ xs: tf.Tensor4D; ys: tf.Tensor1D }>;
            const value = { xs: tf.clone(x), ys: tf.zeros([16]) as tf.Tensor1D };
            made.push(value.xs, value.ys);
            return { value, done: false };
          },
        };
      },
    };
    const it = await createInterpreter({ classifier, seed: 4 });
    await it.fit(x, { epochs: 1, verbose: 0 }); // creates the optimizer state, kept between fits
    made.length = 0;
    const before = tf.memory().numTensors;
    const h = await it.fit(dataset, { epochs: 2, logEvery: 1, validationData: dataset, verbose: 0 });
    expect(h.steps).toBe(6);
    expect(made.length).toBeGreaterThan(0);
    expect(made).toHaveLength(2 * 3 * 2 + 2 * 3 * 2); // 2 epochs x 3 elements x (xs, ys), for training and validation
    expect(made.every((t) => t.isDisposed)).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
    it.dispose();
    x.dispose();
  });
});
