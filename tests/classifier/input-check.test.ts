// The one input check every classifier caller uses (adapter, Interpreter.interpret, Trainer,
// metrics, baselines), the reference-input check, and the scoring view of a classifier.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { checkInputBatch, checkReferenceInput } from '../../src/classifier/input-check';
import { decisionAgreement, prepareScoring, toLogitsAdapter } from '../../src/classifier/scoring';
import type { ClassifierAdapter, ClassifierOutputs } from '../../src/classifier/types';
import { PiqConfigError, PiqInputError } from '../../src/errors';
import { expectNoTensorLeak, expectThrowsWithoutLeak } from '../helpers';

const adapter = { inputShape: [2, 2, 1] };

describe('checkInputBatch', () => {
  it('returns a valid batch unchanged, leak-free', async () => {
    const x = tf.zeros([3, 2, 2, 1]);
    expect(await expectNoTensorLeak(() => checkInputBatch('Owner.m', 'input', x, adapter, { finite: true }))).toBe(x);
    x.dispose();
  });

  it('names owner and argument for each kind of bad input, in the order tensor, live, shape, dtype, size, values', async () => {
    const cases: Array<[() => tf.Tensor | unknown, RegExp]> = [
      [() => [1, 2], /^Owner\.m: 'input' must be a tf\.Tensor of shape \[batch, 2, 2, 1\], got an array of length 2\.$/],
      [() => tf.zeros([2, 2, 1]), /^Owner\.m: 'input' must have shape \[batch, 2, 2, 1\] to match the classifier, got \[2, 2, 1\]\. Add a batch dimension/],
      [() => tf.zeros([1, 3, 2, 1]), /^Owner\.m: 'input' must have shape \[batch, 2, 2, 1\] to match the classifier, got \[1, 3, 2, 1\]\.$/],
      [() => tf.zeros([1, 2, 2, 1], 'int32'), /^Owner\.m: 'input' must have dtype float32, got int32\. Cast it/],
      [() => tf.zeros([0, 2, 2, 1]), /^Owner\.m: 'input' must contain at least one example, got shape \[0, 2, 2, 1\]\.$/],
      [() => tf.fill([1, 2, 2, 1], Number.NaN), /^Owner\.m: 'input' must contain only finite values, got NaN or Infinity/],
    ];
    for (const [make, message] of cases) {
      const v = make();
      const e = await expectThrowsWithoutLeak(() => checkInputBatch('Owner.m', 'input', v, adapter, { finite: true }));
      expect(e).toBeInstanceOf(PiqInputError);
      expect(e.message).toMatch(message);
      if (v instanceof tf.Tensor) v.dispose();
    }
    const gone = tf.zeros([1, 2, 2, 1]);
    gone.dispose();
    expect(() => checkInputBatch('Owner.m', 'input', gone, adapter)).toThrow("Owner.m: 'input' is a disposed tensor. Pass a live tensor.");
  });

  it('checks only what it is asked to: dtype, empty batches and values can be left to the caller', () => {
    const ints = tf.zeros([0, 2, 2, 1], 'int32');
    expect(checkInputBatch('A.b', 'x', ints, adapter, { float32: false, nonEmpty: false })).toBe(ints);
    const nan = tf.fill([1, 2, 2, 1], Number.NaN);
    expect(checkInputBatch('A.b', 'x', nan, adapter)).toBe(nan);
    tf.dispose([ints, nan]);
  });

  it('matches any size where the adapter leaves a dimension open, and only asks for a batch axis without an input shape', () => {
    const x = tf.zeros([2, 5, 2, 1]);
    expect(checkInputBatch('A.b', 'x', x, { inputShape: [-1, 2, 1] })).toBe(x);
    expect(checkInputBatch('A.b', 'x', x, {})).toBe(x);
    const v = tf.zeros([4]);
    expect(() => checkInputBatch('A.b', 'x', v, {})).toThrow(/'x' must have shape \[batch, \.\.\.inputShape\] to match the classifier, got \[4\]\. Add a batch dimension/);
    tf.dispose([x, v]);
  });

  it('keeps a quoted label as given (batches of a data source)', () => {
    const x = tf.zeros([1, 3, 3, 1]);
    expect(() => checkInputBatch('Trainer.fit', "each batch of 'data'", x, adapter)).toThrow(/^Trainer\.fit: each batch of 'data' must have shape \[batch, 2, 2, 1\]/);
    x.dispose();
  });
});

describe('checkReferenceInput', () => {
  it('accepts the shape of one input or of the batch and rejects others, NaN included', async () => {
    const inputs = tf.zeros([3, 2, 2, 1]);
    const one = tf.ones([2, 2, 1]);
    const all = tf.ones([3, 2, 2, 1]);
    expect(checkReferenceInput('o', 'baseline', one, inputs)).toBe(one);
    expect(checkReferenceInput('o', 'baseline', all, inputs)).toBe(all);
    const wrong = tf.ones([2, 2]);
    const nan = tf.fill([2, 2, 1], Number.NaN);
    expect((await expectThrowsWithoutLeak(() => checkReferenceInput('o', 'baseline', wrong, inputs))).message).toBe(
      "o: 'baseline' must be a number or a tensor of shape [2, 2, 1] or [3, 2, 2, 1], got [2, 2]. Pass one baseline for all inputs or one per input.",
    );
    expect(() => checkReferenceInput('o', 'baseline', nan, inputs)).toThrow(/'baseline' must contain only finite values/);
    tf.dispose([inputs, one, all, wrong, nan]);
  });
});

describe('toLogitsAdapter and prepareScoring', () => {
  it('uses an adapter whole, calling its methods on the adapter itself (class instances work)', async () => {
    class Doubler implements ClassifierAdapter {
      readonly inputShape = [2] as const;
      readonly featureShape = [1, 1, 2] as const;
      readonly numClasses = 2;
      private readonly factor = 2;
      run(x: tf.Tensor): ClassifierOutputs {
        return { features: tf.reshape(x, [-1, 1, 1, 2]) as tf.Tensor4D, logits: this.logits(x) };
      }
      logits(x: tf.Tensor): tf.Tensor2D {
        return tf.mul(x, this.factor) as tf.Tensor2D;
      }
      head = (f: tf.Tensor4D): tf.Tensor2D => tf.reshape(tf.mul(f, this.factor), [-1, 2]) as tf.Tensor2D;
    }
    const view = toLogitsAdapter('o', new Doubler());
    expect(view.numClasses).toBe(2);
    expect(view.inputShape).toEqual([2]);
    const x = tf.tensor2d([[1, 3]]);
    await expectNoTensorLeak(() => {
      tf.tidy(() => {
        expect(Array.from(view.logits(x).dataSync())).toEqual([2, 6]);
        expect(Array.from(view.run?.(x).logits.dataSync() ?? [])).toEqual([2, 6]);
        expect(Array.from(view.head?.(tf.reshape(x, [1, 1, 1, 2]) as tf.Tensor4D).dataSync() ?? [])).toEqual([2, 6]);
      });
    });
    x.dispose();
  });

  it('treats a logits function as an adapter that only has logits, and checks what it returns', () => {
    const view = toLogitsAdapter('o', (x: tf.Tensor) => tf.sum(x, 1));
    expect(view.inputShape).toBeUndefined();
    const x = tf.ones([2, 3]);
    expect(() => view.logits(x)).toThrow(PiqConfigError);
    expect(() => toLogitsAdapter('o', { run: () => 0 })).toThrow(/'classifier' must be a tf.LayersModel, a tf.GraphModel, a ClassifierAdapter or a function/);
    x.dispose();
  });

  it('prepares inputs, batch size, class count and targets once for metrics and baselines', () => {
    const x = tf.tensor2d([[1, 0], [0, 1], [2, 2]]);
    const ctx = prepareScoring('o', toLogitsAdapter('o', (t: tf.Tensor) => tf.concat([t, tf.zeros([t.shape[0] as number, 1])], 1)), x, { target: [2, 0, 1] }, 32);
    expect([ctx.count, ctx.batchSize, ctx.numClasses]).toEqual([3, 32, 3]);
    expect(Array.from(ctx.targets ?? [])).toEqual([2, 0, 1]);
    expect(() => prepareScoring('o', toLogitsAdapter('o', (t: tf.Tensor) => t), x, { target: [0, 1, 2] }, 8)).toThrow(/'target' must hold integer class indices in \[0, 1\], got 2 at index 2/);
    x.dispose();
  });
});

describe('decisionAgreement', () => {
  it('is 1 where the decision on the interpretation equals the decision on the input', () => {
    expect(Array.from(decisionAgreement([0, 1, 2, 2], new Int32Array([0, 2, 2, 1])))).toEqual([1, 0, 1, 0]);
    expect(decisionAgreement([], []).length).toBe(0);
  });
});
