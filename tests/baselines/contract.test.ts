// Every baseline attribution method through the same checks: shape, range, finiteness, leaks,
// chunking invariance, default target = prediction, and the shared error cases.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import type { ClassifierAdapter } from '../../src/classifier/types';
import {
  ATTRIBUTION_METHOD_NAMES,
  createAttributionMethod,
  type AttributionMethodName,
} from '../../src/baselines/create-attribution-method';
import type { AttributionMethod } from '../../src/baselines/types';
import { PiqConfigError, PiqInputError } from '../../src/errors';
import { expectClose, expectNoTensorLeak, expectThrowsWithoutLeak, withBackend } from '../helpers';

const H = 4;
const WIDTH = 4;
const C = 3;
const K = 3;

/** A small nonlinear adapter: features tanh(x) `[b, 4, 4, 3]`, head = seeded dense layer. */
function adapter(): ClassifierAdapter {
  const head = (f: tf.Tensor4D) =>
    tf.matMul(tf.reshape(f, [-1, H * WIDTH * C]), tf.randomNormal([H * WIDTH * C, K], 0, 1, 'float32', 3)) as tf.Tensor2D;
  return {
    inputShape: [H, WIDTH, C],
    featureShape: [H, WIDTH, C],
    numClasses: K,
    run: (x) => {
      const f = tf.tanh(x) as tf.Tensor4D;
      return { features: f, logits: head(f) };
    },
    logits: (x) => head(tf.tanh(x) as tf.Tensor4D),
    head,
  };
}

const table: [AttributionMethodName, () => AttributionMethod][] = [
  ['saliency', () => createAttributionMethod('saliency', adapter())],
  ['smoothGrad', () => createAttributionMethod('smoothGrad', adapter(), { samples: 3 })],
  ['integratedGradients', () => createAttributionMethod('integratedGradients', adapter(), { steps: 4 })],
  ['gradCam', () => createAttributionMethod('gradCam', adapter())],
  ['occlusion', () => createAttributionMethod('occlusion', adapter(), { window: 2, stride: 1 })],
];

describe.each(table)('attribution method contract: %s', (name, make) => {
  it('returns finite [batch, height, width] masks in [0, 1], leak-free, and leaves the inputs alive', async () => {
    const method = make();
    expect(method.name).toBe(name);
    const x = tf.randomNormal([5, H, WIDTH, C], 0, 1, 'float32', 11);
    const masks = await expectNoTensorLeak(() => method.explainTensors(x, { batchSize: 2 }), 1);
    expect(masks.shape).toEqual([5, H, WIDTH]);
    expect(masks.dtype).toBe('float32');
    const v = masks.dataSync();
    for (const a of v) {
      expect(Number.isFinite(a)).toBe(true);
      expect(a).toBeGreaterThanOrEqual(0);
      expect(a).toBeLessThanOrEqual(1);
    }
    // Each example spans the full range (min 0, max 1) after min-max normalisation.
    const per = tf.tidy(() => [Array.from(tf.min(masks, [1, 2]).dataSync()), Array.from(tf.max(masks, [1, 2]).dataSync())]);
    expectClose(per[0] as number[], [0, 0, 0, 0, 0]);
    expectClose(per[1] as number[], [1, 1, 1, 1, 1]);
    expect(x.isDisposed).toBe(false);
    tf.dispose([x, masks]);
  });

  it('does not depend on batchSize and explains the predicted class by default', async () => {
    const method = make();
    const x = tf.randomNormal([5, H, WIDTH, C], 0, 1, 'float32', 12);
    const predicted = tf.tidy(() => Array.from(tf.argMax(adapter().logits(x), 1).dataSync()));
    const a = await method.explainTensors(x, { batchSize: 2 });
    const b = await method.explainTensors(x, { batchSize: 5, target: predicted });
    expectClose(a, b.dataSync(), 1e-5);
    tf.dispose([x, a, b]);
  });

  it('gives the same masks on the wasm backend (no gather gradient needed)', async () => {
    const xs = Array.from(tf.tidy(() => tf.randomNormal([2, H, WIDTH, C], 0, 1, 'float32', 13).dataSync()));
    const onBackend = (backend: 'cpu' | 'wasm') =>
      withBackend(backend, async () => {
        const x = tf.tensor4d(xs, [2, H, WIDTH, C]);
        const masks = await make().explainTensors(x);
        const out = Array.from(masks.dataSync());
        tf.dispose([x, masks]);
        return out;
      });
    expectClose(await onBackend('wasm'), await onBackend('cpu'), 1e-3);
  });

  it('rejects bad inputs, targets and batch sizes, naming the argument', async () => {
    const method = make();
    const x = tf.ones([2, H, WIDTH, C]);
    const flat = tf.ones([2, H * WIDTH * C]);
    const nan = tf.fill([2, H, WIDTH, C], NaN);
    const cases: [() => Promise<unknown>, new (m: string) => Error, string][] = [
      [() => method.explain(flat), PiqInputError, "'inputs'"],
      [() => method.explain(nan), PiqInputError, "'inputs'"],
      [() => method.explain(x, { target: [0, K] }), PiqInputError, "'target'"],
      [() => method.explain(x, { target: [0] }), PiqInputError, "'target'"],
      [() => method.explain(x, { batchSize: -1 }), PiqConfigError, "'batchSize'"],
    ];
    for (const [call, cls, arg] of cases) {
      const err = await expectThrowsWithoutLeak(call);
      expect(err).toBeInstanceOf(cls);
      expect(err.message).toContain(arg);
      expect(err.message).toContain('.explain:');
    }
    tf.dispose([x, flat, nan]);
  });
});

describe('createAttributionMethod', () => {
  it('creates every listed method with its name', () => {
    const names = table.map(([n]) => n);
    expect([...ATTRIBUTION_METHOD_NAMES]).toEqual(names);
    for (const n of ATTRIBUTION_METHOD_NAMES) expect(createAttributionMethod(n, adapter()).name).toBe(n);
  });

  it('rejects an unknown name, listing the valid ones', async () => {
    const err = await expectThrowsWithoutLeak(() => createAttributionMethod('lime' as never, adapter()));
    expect(err).toBeInstanceOf(PiqConfigError);
    expect(err.message).toContain("createAttributionMethod: 'name'");
    for (const n of ATTRIBUTION_METHOD_NAMES) expect(err.message).toContain(`'${n}'`);
  });

  it('passes options through to the method', async () => {
    const err = await expectThrowsWithoutLeak(() => createAttributionMethod('occlusion', adapter(), { window: 1, stride: 2 }));
    expect(err).toBeInstanceOf(PiqConfigError);
    expect(err.message).toContain("'stride'");
  });
});
