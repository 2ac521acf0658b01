import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { PiqConfigError } from '../../src/errors';
import { reconstructionLoss, sparsityLoss, totalVariationLoss } from '../../src/losses/builtin';
import { combineLosses, createLoss, lossesFromSpec, registeredLosses, registerLoss, type LossSpec } from '../../src/losses/registry';
import type { Loss, WeightedLoss } from '../../src/losses/types';
import { expectNoTensorLeak, expectThrowsWithoutLeak } from '../helpers';
import { contextFixture, valueOf } from './context';

const BUILTIN_NAMES = ['reconstruction', 'maskTarget', 'codebook', 'commitment', 'fidelity', 'sparsity', 'totalVariation', 'lmac'];

const fx = contextFixture({
  shape: [1, 2, 3, 1],
  logits: [-1, 0.5, 2, 0.2, -0.3, 1.4],
  target: [0, 1, 1, 0, 0, 1],
});
afterAll(() => fx.dispose());

/** A loss whose compute must never run. */
const exploding: Loss = {
  name: 'exploding',
  getConfig: () => ({}),
  compute: () => {
    throw new Error('computed a weight-0 term');
  },
};

/** `mean(decoderOutput) · scale`, registered below as a custom loss. */
function scaledMean(config: Record<string, unknown>): Loss {
  const scale = typeof config.scale === 'number' ? config.scale : 1;
  return { name: 'scaledMean', getConfig: () => ({ scale }), compute: (ctx) => tf.tidy(() => tf.mul(tf.mean(ctx.decoderOutput), scale) as tf.Scalar) };
}

describe('combineLosses', () => {
  it('returns a total equal to the weighted sum of the terms, with each weighted term under its key', () => {
    const combined = combineLosses([
      { loss: reconstructionLoss(), weight: 1 },
      { loss: sparsityLoss(), weight: 0.5 },
      { loss: totalVariationLoss(), weight: 2 },
    ]);
    const rec = valueOf(fx, (ctx) => reconstructionLoss().compute(ctx));
    const sp = valueOf(fx, (ctx) => sparsityLoss().compute(ctx));
    const tv = valueOf(fx, (ctx) => totalVariationLoss().compute(ctx));
    const { ctx, dispose } = fx.build();
    const { total, terms } = combined.compute(ctx);
    expect(total.dataSync()[0]).toBeCloseTo(rec + 0.5 * sp + 2 * tv, 5);
    expect(Object.keys(terms)).toEqual(['reconstruction', 'sparsity', 'totalVariation']);
    expect(terms.reconstruction?.dataSync()[0]).toBeCloseTo(rec, 6);
    expect(terms.sparsity?.dataSync()[0]).toBeCloseTo(0.5 * sp, 6);
    expect(terms.totalVariation?.dataSync()[0]).toBeCloseTo(2 * tv, 6);
    tf.dispose([total, ...Object.values(terms)]);
    dispose();
  });

  it('does not compute terms of weight 0 and leaves them out of the breakdown', () => {
    const combined = combineLosses([
      { loss: sparsityLoss(), weight: 1 },
      { loss: exploding, weight: 0 },
    ]);
    const { ctx, dispose } = fx.build();
    const { total, terms } = combined.compute(ctx);
    expect(Object.keys(terms)).toEqual(['sparsity']);
    expect(total.dataSync()[0]).toBeCloseTo(valueOf(fx, (c) => sparsityLoss().compute(c)), 6);
    tf.dispose([total, ...Object.values(terms)]);
    dispose();
  });

  it('returns a total of 0 and no terms when every weight is 0', () => {
    const { ctx, dispose } = fx.build();
    const { total, terms } = combineLosses([{ loss: exploding, weight: 0 }]).compute(ctx);
    expect(total.dataSync()[0]).toBe(0);
    expect(terms).toEqual({});
    total.dispose();
    dispose();
  });

  it('suffixes repeated names _2, _3 … and skips keys already taken explicitly', () => {
    const keys = combineLosses([
      { loss: sparsityLoss(), weight: 1 },
      { loss: sparsityLoss(), weight: 2, key: 'sparsity_2' },
      { loss: sparsityLoss(), weight: 3 },
      { loss: sparsityLoss(), weight: 4 },
    ]).items.map((it) => it.key);
    expect(keys).toEqual(['sparsity', 'sparsity_2', 'sparsity_3', 'sparsity_4']);
  });

  it('keeps every repeated term in the breakdown and the total', () => {
    const { ctx, dispose } = fx.build();
    const { total, terms } = combineLosses([
      { loss: sparsityLoss(), weight: 1 },
      { loss: sparsityLoss(), weight: 2 },
    ]).compute(ctx);
    const sp = valueOf(fx, (c) => sparsityLoss().compute(c));
    expect(Object.keys(terms)).toEqual(['sparsity', 'sparsity_2']);
    expect(total.dataSync()[0]).toBeCloseTo(3 * sp, 6);
    tf.dispose([total, ...Object.values(terms)]);
    dispose();
  });

  it('round-trips through getSpec and lossesFromSpec: same spec, same values', () => {
    const original = combineLosses([
      { loss: reconstructionLoss({ kind: 'l1' }), weight: 1.5 },
      { loss: sparsityLoss(), weight: 0.1, key: 'sparse' },
      { loss: sparsityLoss(), weight: 0.2 },
      { loss: totalVariationLoss(), weight: 0 },
    ]);
    const spec = original.getSpec();
    expect(spec).toEqual([
      { name: 'reconstruction', weight: 1.5, config: { kind: 'l1' }, key: 'reconstruction' },
      { name: 'sparsity', weight: 0.1, config: {}, key: 'sparse' },
      { name: 'sparsity', weight: 0.2, config: {}, key: 'sparsity' },
      { name: 'totalVariation', weight: 0, config: {}, key: 'totalVariation' },
    ]);
    const again = lossesFromSpec(JSON.parse(JSON.stringify(spec)) as LossSpec[]);
    expect(again.getSpec()).toEqual(spec);
    const total = (c: typeof original) =>
      tf.tidy(() => {
        const r = c.compute(fx.build().ctx);
        return r.total.dataSync()[0] as number;
      });
    expect(total(again)).toBe(total(original));
  });

  it('leaves no tensor behind: the caller owns exactly the total and the terms', async () => {
    const combined = combineLosses([
      { loss: reconstructionLoss(), weight: 1 },
      { loss: sparsityLoss(), weight: 0.3 },
    ]);
    const { ctx, dispose } = fx.build();
    await expectNoTensorLeak(() => {
      const { total, terms } = combined.compute(ctx);
      tf.dispose([total, ...Object.values(terms)]);
    });
    dispose();
  });

  it('leaves no tensor behind when a later term throws', async () => {
    const throwsLate: Loss = { name: 'late', getConfig: () => ({}), compute: () => { throw new Error('boom'); } };
    const combined = combineLosses([
      { loss: reconstructionLoss(), weight: 1 },
      { loss: sparsityLoss(), weight: 0.5 },
      { loss: throwsLate, weight: 1 },
    ]);
    const { ctx, dispose } = fx.build();
    const e = await expectThrowsWithoutLeak(() => combined.compute(ctx));
    expect(e.message).toBe('boom');
    dispose();
  });

  it('returns new tensors even when a loss returns one of the context tensors itself', () => {
    const passthrough: Loss = { name: 'raw', getConfig: () => ({}), compute: (ctx) => ctx.quantizer.codebookLoss };
    const { ctx, dispose } = fx.build();
    const { total, terms } = combineLosses([{ loss: passthrough, weight: 1 }]).compute(ctx);
    expect(terms.raw).not.toBe(ctx.quantizer.codebookLoss);
    tf.dispose([total, ...Object.values(terms)]);
    expect(ctx.quantizer.codebookLoss.isDisposed).toBe(false);
    dispose();
  });

  it('rejects a loss that returns a non-scalar with a PiqConfigError naming its key, without leaking', async () => {
    const vector: Loss = { name: 'vector', getConfig: () => ({}), compute: (ctx) => tf.mean(ctx.decoderOutput, [1, 2, 3]) as unknown as tf.Scalar };
    const { ctx, dispose } = fx.build();
    const e = await expectThrowsWithoutLeak(() => combineLosses([{ loss: sparsityLoss(), weight: 1 }, { loss: vector, weight: 1 }]).compute(ctx));
    expect(e).toBeInstanceOf(PiqConfigError);
    expect(e.message).toContain("loss 'vector' must return a scalar tensor, got a float32 tensor of shape [1]");
    dispose();
  });

  it.each([
    ['an empty list', [], "combineLosses: 'items' must be a non-empty array"],
    ['a non-array', { loss: sparsityLoss(), weight: 1 }, "combineLosses: 'items' must be a non-empty array"],
    ['a NaN weight', [{ loss: sparsityLoss(), weight: Number.NaN }], "combineLosses: 'items[0].weight' must be a finite number, got NaN"],
    ['an infinite weight', [{ loss: sparsityLoss(), weight: 1 }, { loss: sparsityLoss(), weight: -Infinity }], "combineLosses: 'items[1].weight' must be a finite number, got -Infinity"],
    ['a string weight', [{ loss: sparsityLoss(), weight: '1' }], "combineLosses: 'items[0].weight' must be a finite number"],
    ['an item that is not a Loss', [{ loss: sparsityLoss(), weight: 1 }, { loss: { name: 'x' }, weight: 1 }], "combineLosses: 'items[1].loss' must be a Loss"],
    ['a Loss without getConfig', [{ loss: { name: 'x', compute: () => tf.scalar(0) }, weight: 1 }], "combineLosses: 'items[0].loss' must be a Loss"],
    ['a null item', [null], "combineLosses: 'items[0].loss' must be a Loss"],
    ['an empty key', [{ loss: sparsityLoss(), weight: 1, key: '' }], "combineLosses: 'items[0].key' must be a non-empty string"],
    ['a duplicate explicit key', [{ loss: sparsityLoss(), weight: 1 }, { loss: totalVariationLoss(), weight: 1, key: 'sparsity' }], "combineLosses: 'items[1].key' must be unique among the terms, got 'sparsity' twice"],
  ])('rejects %s with a PiqConfigError that names the argument', async (_label, items, message) => {
    const e = await expectThrowsWithoutLeak(() => combineLosses(items as unknown as WeightedLoss[]));
    expect(e).toBeInstanceOf(PiqConfigError);
    expect(e.message).toContain(message);
  });
});

describe('registerLoss, createLoss and lossesFromSpec', () => {
  it('lists the built-in losses as registered', () => {
    expect(registeredLosses()).toEqual(expect.arrayContaining(BUILTIN_NAMES));
  });

  it('lets a custom loss survive lossesFromSpec by its registered name, with its config', () => {
    registerLoss('scaledMean', scaledMean);
    expect(registeredLosses()).toContain('scaledMean');
    const original = combineLosses([
      { loss: reconstructionLoss(), weight: 1 },
      { loss: scaledMean({ scale: 3 }), weight: 0.5 },
    ]);
    const again = lossesFromSpec(JSON.parse(JSON.stringify(original.getSpec())) as LossSpec[]);
    expect(again.items[1]?.loss.name).toBe('scaledMean');
    expect(again.items[1]?.loss.getConfig()).toEqual({ scale: 3 });
    expect(again.getSpec()).toEqual(original.getSpec());
    const mean = valueOf(fx, (ctx) => tf.mean(ctx.decoderOutput) as tf.Scalar);
    expect(valueOf(fx, (ctx) => (again.items[1] as { loss: Loss }).loss.compute(ctx))).toBeCloseTo(3 * mean, 6);
  });

  it('replaces the factory when a custom name is registered again', () => {
    registerLoss('twice', () => ({ name: 'twice', getConfig: () => ({ v: 1 }), compute: () => tf.scalar(1) }));
    registerLoss('twice', () => ({ name: 'twice', getConfig: () => ({ v: 2 }), compute: () => tf.scalar(2) }));
    expect(createLoss('twice').getConfig()).toEqual({ v: 2 });
  });

  it.each(BUILTIN_NAMES)("refuses to replace the built-in loss '%s'", async (name) => {
    const e = await expectThrowsWithoutLeak(() => registerLoss(name, () => sparsityLoss()));
    expect(e).toBeInstanceOf(PiqConfigError);
    expect(e.message).toContain(`registerLoss: 'name' must not be a built-in loss name, got '${name}'`);
    // The built-in still answers.
    expect(createLoss(name, name === 'reconstruction' || name === 'maskTarget' ? { kind: 'bce' } : {}).name).toBe(name);
  });

  it("rejects an empty name or a non-function factory with a PiqConfigError naming the argument", async () => {
    const e1 = await expectThrowsWithoutLeak(() => registerLoss('', scaledMean));
    expect(e1).toBeInstanceOf(PiqConfigError);
    expect(e1.message).toContain("registerLoss: 'name' must be a non-empty string, got \"\"");
    const e2 = await expectThrowsWithoutLeak(() => registerLoss(42 as unknown as string, scaledMean));
    expect(e2.message).toContain("registerLoss: 'name' must be a non-empty string, got 42");
    const e3 = await expectThrowsWithoutLeak(() => registerLoss('noFactory', {} as never));
    expect(e3).toBeInstanceOf(PiqConfigError);
    expect(e3.message).toContain("registerLoss: 'factory' must be a function");
  });

  it('rejects an unknown name in createLoss with a PiqConfigError listing every registered name', async () => {
    registerLoss('listedCustom', scaledMean);
    const e = await expectThrowsWithoutLeak(() => createLoss('nope'));
    expect(e).toBeInstanceOf(PiqConfigError);
    expect(e.message).toContain("createLoss: 'name' must be a registered loss (");
    for (const n of [...BUILTIN_NAMES, 'listedCustom']) expect(e.message).toContain(`'${n}'`);
    expect(e.message).toContain('got "nope". Call registerLoss first');
  });

  it("rejects a non-object 'config' in createLoss with a PiqConfigError naming it", async () => {
    for (const bad of [null, 3, ['bce']]) {
      const e = await expectThrowsWithoutLeak(() => createLoss('sparsity', bad as unknown as Record<string, unknown>));
      expect(e).toBeInstanceOf(PiqConfigError);
      expect(e.message).toContain("createLoss: 'config' must be a JSON object");
    }
  });

  it('passes invalid saved options to the factory, whose validation names them', async () => {
    const e = await expectThrowsWithoutLeak(() => createLoss('lmac', { maskIn: 'four' }));
    expect(e).toBeInstanceOf(PiqConfigError);
    expect(e.message).toContain("lmacLoss: 'maskIn' must be a finite number");
  });

  it('rejects a spec that is not an array, or an item that is not a LossSpec, naming it', async () => {
    const e1 = await expectThrowsWithoutLeak(() => lossesFromSpec({} as unknown as LossSpec[]));
    expect(e1).toBeInstanceOf(PiqConfigError);
    expect(e1.message).toContain("lossesFromSpec: 'spec' must be an array, got an object");
    const e2 = await expectThrowsWithoutLeak(() => lossesFromSpec([{ name: 'sparsity', weight: 1, config: {}, key: 'sparsity' }, null as unknown as LossSpec]));
    expect(e2).toBeInstanceOf(PiqConfigError);
    expect(e2.message).toContain("lossesFromSpec: 'spec[1]' must be a LossSpec");
    const e3 = await expectThrowsWithoutLeak(() => lossesFromSpec([{ name: 'unregistered', weight: 1, config: {}, key: 'k' }]));
    expect(e3.message).toContain("createLoss: 'name' must be a registered loss");
  });

  it('creates losses without allocating tensors', async () => {
    await expectNoTensorLeak(() => {
      lossesFromSpec(combineLosses([{ loss: sparsityLoss(), weight: 1 }, { loss: reconstructionLoss(), weight: 1 }]).getSpec());
      createLoss('lmac', { maskIn: 1, maskOut: 1, sparsity: 1 });
    });
  });
});
