// PiqModel's weights (decoder + quantizer, assembled in one place) and the classifier's decision on
// an interpretation (the basis of input fidelity).
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInterpreter } from '../../src/api/create-interpreter';
import type { Interpreter } from '../../src/api/interpreter';
import { PiqStateError } from '../../src/errors';
import { expectNoTensorLeak, expectThrowsWithoutLeak } from '../helpers';
import { squaresDataset, tinyClassifier } from '../fixtures/synthetic';

const classifier = tinyClassifier(3);
let a: Interpreter;
let b: Interpreter;

beforeAll(async () => {
  a = await createInterpreter({ classifier, seed: 1, quantizer: { layout: { codesPerClass: 3, sharedCodes: 1 }, update: 'ema' } });
  b = await createInterpreter({ classifier, seed: 2, quantizer: { layout: { codesPerClass: 3, sharedCodes: 1 }, update: 'ema' } });
});

afterAll(() => {
  a.dispose();
  b.dispose();
  classifier.dispose();
});

const values = (w: Record<string, tf.Tensor>) => Object.fromEntries(Object.entries(w).map(([k, t]) => [k, Array.from(t.dataSync())]));

describe('PiqModel weights', () => {
  it('getWeights holds every decoder and quantizer weight, as copies the caller owns', async () => {
    await expectNoTensorLeak(() => {
      const w = a.model.getWeights();
      const names = Object.keys(w);
      const parts = { ...a.model.decoder.getWeights(), ...a.model.quantizer.getWeights() };
      expect(names.sort()).toEqual(Object.keys(parts).sort());
      tf.dispose(Object.values(parts));
      expect(names).toContain('quantizer/ema_embed_sum');
      expect(names.some((n) => n.startsWith('decoder/'))).toBe(true);
      tf.dispose(Object.values(w));
      // Disposing the copies leaves the model usable.
      const again = a.model.getWeights();
      tf.dispose(Object.values(again));
    });
  });

  it('setWeights copies another model of the same configuration exactly, leak-free', async () => {
    const wb = b.model.getWeights();
    const expected = values(wb);
    await expectNoTensorLeak(() => a.model.setWeights(wb));
    const wa = a.model.getWeights();
    expect(values(wa)).toEqual(expected);
    tf.dispose([...Object.values(wa), ...Object.values(wb)]);
  });

  it('checkWeights and setWeights reject a missing or reshaped weight, naming it, and change nothing', async () => {
    const before = a.model.getWeights();
    const w = b.model.getWeights();
    const codebook = w['quantizer/codebook'] as tf.Tensor;
    w['quantizer/codebook'] = tf.zeros([2, 3]);
    const e = await expectThrowsWithoutLeak(() => a.model.setWeights(w, 'loadInterpreter'));
    expect(e).toBeInstanceOf(PiqStateError);
    expect(e.message).toMatch(/^loadInterpreter: the saved weights must hold weight 'quantizer\/codebook' of shape \[\d+, 8\] for this model, got \[2, 3\]/);
    const decoder0 = w['decoder/0'] as tf.Tensor;
    delete w['decoder/0'];
    expect(() => a.model.checkWeights(w)).toThrow(/^PiqModel\.checkWeights: the saved weights must hold weight 'decoder\/0' of shape .* got none/);
    const after = a.model.getWeights();
    expect(values(after)).toEqual(values(before));
    tf.dispose([...Object.values(before), ...Object.values(after), ...Object.values(w), codebook, decoder0]);
  });
});

describe('PiqModel.interpretationClass', () => {
  it("is the classifier's argmax on the interpretation, computed independently with predict", async () => {
    const { images } = squaresDataset(6, 3);
    await expectNoTensorLeak(() => {
      tf.tidy(() => {
        const fwd = a.model.forward(images);
        const got = Array.from(a.model.interpretationClass(fwd).dataSync());
        const expected = Array.from(tf.argMax(classifier.predict(fwd.interpretation) as tf.Tensor, -1).dataSync());
        expect(got).toEqual(expected);
      });
    });
    images.dispose();
  });
});

describe('PiqModel after dispose', () => {
  it('refuses getWeights, setWeights and interpretationClass with PiqStateError', async () => {
    const c = await createInterpreter({ classifier, seed: 3 });
    const model = c.model;
    c.dispose();
    expect(() => model.getWeights()).toThrow("PiqModel.getWeights: the model was disposed. Build a new PiqModel.");
    expect(() => model.setWeights({})).toThrow(PiqStateError);
    const x = tf.zeros([1, 8, 8, 1]) as tf.Tensor4D;
    expect(() => model.interpretationClass({ interpretation: x })).toThrow(/interpretationClass: the model was disposed/);
    x.dispose();
  });
});
