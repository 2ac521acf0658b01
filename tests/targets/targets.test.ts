import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { PiqConfigError, PiqInputError } from '../../src/errors';
import { DEFAULT_ENERGY_MASK_OPTIONS, createTarget, energyMask, inputTarget, registerTarget, type Target } from '../../src/targets/targets';
import { expectClose, expectNoTensorLeak, expectThrowsWithoutLeak } from '../helpers';

const cls = tf.tensor1d([0, 1], 'int32');
afterAll(() => cls.dispose());

/** Runs a target and reads the result back, freeing everything. */
function run(target: Target, data: number[], shape: [number, number, number, number]): { values: number[]; shape: number[] } {
  return tf.tidy(() => {
    const x = tf.tensor4d(data, shape);
    const t = target.compute(x, { predictedClass: cls });
    return { values: Array.from(t.dataSync()), shape: t.shape };
  });
}

describe('energyMask', () => {
  it('defaults to the reference threshold τ = 0.35', () => {
    expect(DEFAULT_ENERGY_MASK_OPTIONS.threshold).toBe(0.35);
    expect(Object.isFrozen(DEFAULT_ENERGY_MASK_OPTIONS)).toBe(true);
    expect(energyMask().getConfig()).toEqual({ threshold: 0.35 });
  });

  it('thresholds each example at τ times its own maximum', () => {
    // Example 0: max 4, τ·max = 1.4 → [0, 0, 1, 1]. Example 1: max 10, τ·max = 3.5 → [1, 0, 1, 0].
    // A batch-wide maximum (10) would have made example 0 all zeros.
    const r = run(energyMask(), [0, 1, 2, 4, 10, 3, 5, 1], [2, 2, 2, 1]);
    expect(r.shape).toEqual([2, 2, 2, 1]);
    expect(r.values).toEqual([0, 0, 1, 1, 1, 0, 1, 0]);
  });

  it('reduces a multi-channel input by its channel maximum, giving one target channel', () => {
    // Pixels (c0, c1): (0, 4), (1, 0), (2, 1), (0, 0.5) → channel max [4, 1, 2, 0.5]; τ·max = 0.35·4 = 1.4.
    const r = run(energyMask(), [0, 4, 1, 0, 2, 1, 0, 0.5], [1, 2, 2, 2]);
    expect(r.shape).toEqual([1, 2, 2, 1]);
    expect(r.values).toEqual([1, 0, 1, 0]);
  });

  it('is strict: a value equal to τ·max is 0; τ = 0 keeps every positive value and τ = 1 keeps none', () => {
    expect(run(energyMask({ threshold: 0.5 }), [2, 4, 1, 3], [1, 2, 2, 1]).values).toEqual([0, 1, 0, 1]);
    expect(run(energyMask({ threshold: 0 }), [0, 4, 0.01, 3], [1, 2, 2, 1]).values).toEqual([0, 1, 1, 1]);
    expect(run(energyMask({ threshold: 1 }), [2, 4, 1, 3], [1, 2, 2, 1]).values).toEqual([0, 0, 0, 0]);
  });

  it('gives an all-zero target for an all-zero example', () => {
    expect(run(energyMask(), [0, 0, 0, 0], [1, 2, 2, 1]).values).toEqual([0, 0, 0, 0]);
  });

  it('leaves no tensor behind and does not dispose its input', async () => {
    const x = tf.tensor4d([0, 1, 2, 4, 1, 1, 1, 1], [1, 2, 2, 2]);
    await expectNoTensorLeak(() => energyMask().compute(x, { predictedClass: cls }).dispose());
    expect(x.isDisposed).toBe(false);
    x.dispose();
  });

  it.each([
    ['below 0', -0.1, "energyMask: 'threshold' must be >= 0, got -0.1"],
    ['above 1', 1.5, "energyMask: 'threshold' must be <= 1, got 1.5"],
    ['NaN', Number.NaN, "energyMask: 'threshold' must be a finite number, got NaN"],
    ['a string', '0.3', "energyMask: 'threshold' must be a finite number, got \"0.3\""],
  ])("rejects a threshold %s with a PiqConfigError naming 'threshold'", async (_label, threshold, message) => {
    const e = await expectThrowsWithoutLeak(() => energyMask({ threshold: threshold as number }));
    expect(e).toBeInstanceOf(PiqConfigError);
    expect(e.message).toContain(message);
  });

  it("rejects options that are not an object with a PiqConfigError naming 'options'", async () => {
    const e = await expectThrowsWithoutLeak(() => energyMask(null as unknown as {}));
    expect(e).toBeInstanceOf(PiqConfigError);
    expect(e.message).toContain("energyMask: 'options' must be an object");
  });

  it("rejects an input that is not a rank-4 float tensor with a PiqInputError naming 'input'", async () => {
    const target = energyMask();
    const rank3 = tf.zeros([2, 2, 1]);
    const ints = tf.zeros([1, 2, 2, 1], 'int32');
    const cases: [unknown, string][] = [
      [rank3, "energyMask.compute: 'input' must have rank 4 ([batch, height, width, channels]), got rank 3"],
      [ints, "energyMask.compute: 'input' must have dtype float32, got int32"],
      [[1, 2], "energyMask.compute: 'input' must be a tf.Tensor, got an array of length 2"],
    ];
    for (const [input, message] of cases) {
      const e = await expectThrowsWithoutLeak(() => target.compute(input as tf.Tensor4D, { predictedClass: cls }));
      expect(e).toBeInstanceOf(PiqInputError);
      expect(e.message).toContain(message);
    }
    tf.dispose([rank3, ints]);
  });
});

describe('inputTarget', () => {
  it('returns a new tensor equal to the input, which the caller may dispose without touching the input', async () => {
    const x = tf.tensor4d([0.1, 0.9, 0.5, 0.3], [1, 2, 2, 1]);
    const target = inputTarget();
    expect(target.name).toBe('input');
    expect(target.getConfig()).toEqual({});
    await expectNoTensorLeak(() => {
      const t = target.compute(x, { predictedClass: cls });
      expect(t).not.toBe(x);
      expectClose(t, [0.1, 0.9, 0.5, 0.3]);
      t.dispose();
    });
    expect(x.isDisposed).toBe(false);
    x.dispose();
  });
});

describe('registerTarget and createTarget', () => {
  /** Marks the centre column of each example: a stand-in for an annotation model. */
  const centre = (config: Record<string, unknown>): Target => {
    const value = typeof config.value === 'number' ? config.value : 1;
    return {
      name: 'centre',
      getConfig: () => ({ value }),
      compute: (x) =>
        tf.tidy(() => {
          const [b, h, w] = x.shape;
          const col = Array.from({ length: w }, (_, j) => (j === Math.floor(w / 2) ? value : 0));
          return tf.tile(tf.reshape(tf.tensor1d(col), [1, 1, w, 1]), [b, h, 1, 1]) as tf.Tensor4D;
        }),
    };
  };

  it('recreates the built-in targets by name from their configs', () => {
    const t = createTarget('energyMask', energyMask({ threshold: 0.5 }).getConfig());
    expect(t.name).toBe('energyMask');
    expect(t.getConfig()).toEqual({ threshold: 0.5 });
    expect(run(t, [2, 4, 1, 3], [1, 2, 2, 1]).values).toEqual([0, 1, 0, 1]);
    expect(createTarget('input').name).toBe('input');
    expect(createTarget('energyMask').getConfig()).toEqual({ threshold: 0.35 });
  });

  it('makes a registered custom target available by name, with its config', () => {
    registerTarget('centre', centre);
    const t = createTarget('centre', { value: 0.5 });
    expect(t.getConfig()).toEqual({ value: 0.5 });
    expect(run(t, new Array<number>(6).fill(1), [1, 2, 3, 1]).values).toEqual([0, 0.5, 0, 0, 0.5, 0]);
  });

  it('computes the custom target without leaking', async () => {
    registerTarget('centre', centre);
    const x = tf.ones([2, 2, 3, 1]) as tf.Tensor4D;
    await expectNoTensorLeak(() => createTarget('centre').compute(x, { predictedClass: cls }).dispose());
    x.dispose();
  });

  it.each(['energyMask', 'input'])("refuses to replace the built-in target '%s'", async (name) => {
    const e = await expectThrowsWithoutLeak(() => registerTarget(name, centre));
    expect(e).toBeInstanceOf(PiqConfigError);
    expect(e.message).toContain(`registerTarget: 'name' must not be a built-in target name, got '${name}'`);
  });

  it('rejects an empty name or a non-function factory with a PiqConfigError naming the argument', async () => {
    const e1 = await expectThrowsWithoutLeak(() => registerTarget('', centre));
    expect(e1).toBeInstanceOf(PiqConfigError);
    expect(e1.message).toContain("registerTarget: 'name' must be a non-empty string");
    const e2 = await expectThrowsWithoutLeak(() => registerTarget('x', 'nope' as never));
    expect(e2).toBeInstanceOf(PiqConfigError);
    expect(e2.message).toContain("registerTarget: 'factory' must be a function");
  });

  it('rejects an unknown name with a PiqConfigError listing the registered targets', async () => {
    registerTarget('centre', centre);
    const e = await expectThrowsWithoutLeak(() => createTarget('segmenter'));
    expect(e).toBeInstanceOf(PiqConfigError);
    expect(e.message).toContain("createTarget: 'name' must be a registered target ('energyMask', 'input', 'centre'), got \"segmenter\"");
  });

  it("rejects a non-object 'config' with a PiqConfigError naming it", async () => {
    const e = await expectThrowsWithoutLeak(() => createTarget('energyMask', 0.3 as unknown as Record<string, unknown>));
    expect(e).toBeInstanceOf(PiqConfigError);
    expect(e.message).toContain("createTarget: 'config' must be a JSON object");
  });

  it('passes an invalid saved threshold to energyMask, whose validation names it', async () => {
    const e = await expectThrowsWithoutLeak(() => createTarget('energyMask', { threshold: 2 }));
    expect(e).toBeInstanceOf(PiqConfigError);
    expect(e.message).toContain("energyMask: 'threshold' must be <= 1, got 2");
  });
});
