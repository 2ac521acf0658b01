import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { BatchNormReluLayer } from '../../src/decoder/batch-norm-relu';
import { enableWasmTraining } from '../../src/index';
import { expectClose, expectNoTensorLeak, loadWasm, withBackend } from '../helpers';

/** Deterministic values of the given shape (index arithmetic, no randomness), mean and spread per channel. */
function wave(shape: number[], phase = 0): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  const c = shape[shape.length - 1] as number;
  const data = new Float32Array(size);
  for (let i = 0; i < size; i++) data[i] = 0.3 * (i % c) - 0.4 + (1 + (i % c)) * Math.sin(0.37 * i + phase) * Math.cos(0.11 * i);
  return tf.tensor(data, shape);
}

const SHAPE = [3, 4, 5, 3];
const WEIGHTS = (): tf.Tensor[] => [
  tf.tensor1d([1.5, -0.7, 0.9]), // gamma
  tf.tensor1d([0.2, 0.1, -0.3]), // beta
  tf.tensor1d([0.05, -0.1, 0.2]), // moving mean
  tf.tensor1d([1.2, 0.8, 2.5]), // moving variance
];

/** The reference: tfjs-layers' BatchNormalization, then ReLU (or nothing). */
function reference(relu: boolean): tfl.Sequential {
  const m = tfl.sequential();
  m.add(tfl.layers.batchNormalization({ inputShape: SHAPE.slice(1) }));
  if (relu) m.add(tfl.layers.reLU());
  m.setWeights(WEIGHTS());
  return m;
}

function fused(relu: boolean): tfl.Sequential {
  const m = tfl.sequential();
  m.add(new BatchNormReluLayer({ inputShape: SHAPE.slice(1), relu }));
  m.setWeights(WEIGHTS());
  return m;
}

/** Output, gradients (input, gamma, beta) of sum(y · w) in training mode, and the moving statistics after the step. */
function trainingStep(m: tfl.Sequential, x: tf.Tensor): { y: number[]; dx: number[]; dGamma: number[]; dBeta: number[]; moving: number[][] } {
  const w = wave(SHAPE, 1.3);
  const vars = m.trainableWeights.map((v) => (v as unknown as { val: tf.Variable }).val);
  let y: number[] = [];
  const { grads } = tf.variableGrads(() => {
    const out = m.apply(x, { training: true }) as tf.Tensor;
    y = Array.from(out.dataSync());
    return tf.sum(tf.mul(out, w)) as tf.Scalar;
  }, vars);
  const dx = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(m.apply(xx, { training: true }) as tf.Tensor, w)))(x);
  const result = {
    y,
    dx: Array.from(dx.dataSync()),
    dGamma: Array.from((grads[vars[0]!.name] as tf.Tensor).dataSync()),
    dBeta: Array.from((grads[vars[1]!.name] as tf.Tensor).dataSync()),
    // Two training calls were made (variableGrads and grad): the moving averages moved twice.
    moving: m.getWeights().slice(2).map((t) => Array.from(t.dataSync())),
  };
  tf.dispose([w, dx, ...Object.values(grads)]);
  return result;
}

describe('BatchNormReluLayer', () => {
  for (const relu of [true, false]) {
    const what = relu ? 'batch norm + ReLU' : 'batch norm alone';
    it(`gives tfjs-layers' ${what} outputs, gradients and moving statistics in training mode`, () => {
      const x = wave(SHAPE);
      const ref = trainingStep(reference(relu), x);
      const got = trainingStep(fused(relu), x);
      expectClose(got.y, ref.y, 1e-5);
      expectClose(got.dx, ref.dx, 1e-4);
      expectClose(got.dGamma, ref.dGamma, 1e-4);
      expectClose(got.dBeta, ref.dBeta, 1e-4);
      expectClose(got.moving[0] as number[], ref.moving[0] as number[], 1e-6);
      expectClose(got.moving[1] as number[], ref.moving[1] as number[], 1e-6);
      x.dispose();
    });

    it(`gives tfjs-layers' ${what} outputs in inference mode (moving statistics, which stay unchanged)`, () => {
      const x = wave(SHAPE, 0.5);
      const r = reference(relu);
      const f = fused(relu);
      expectClose(f.apply(x, { training: false }) as tf.Tensor, (r.apply(x, { training: false }) as tf.Tensor).dataSync(), 1e-6);
      expectClose(f.getWeights()[2] as tf.Tensor, new Float32Array([0.05, -0.1, 0.2]), 0);
      expectClose(f.getWeights()[3] as tf.Tensor, new Float32Array([1.2, 0.8, 2.5]), 0);
    });
  }

  it('normalises a hand-computed batch: per-channel mean 0 and biased variance 1 before gamma and beta', () => {
    // One channel, values 1, 2, 3, 6: mean 3, biased variance (4 + 1 + 0 + 9) / 4 = 3.5.
    const m = tfl.sequential();
    m.add(new BatchNormReluLayer({ inputShape: [2, 2, 1], relu: false, epsilon: 0 }));
    const y = m.apply(tf.tensor4d([1, 2, 3, 6], [1, 2, 2, 1]), { training: true }) as tf.Tensor;
    const s = Math.sqrt(3.5);
    expectClose(y, [-2 / s, -1 / s, 0, 3 / s], 1e-6);
    // moving ← moving − (moving − batch)·0.01: mean 0 → 0.03, variance 1 → 1.025.
    expectClose(m.getWeights()[2] as tf.Tensor, [0.03], 1e-7);
    expectClose(m.getWeights()[3] as tf.Tensor, [1.025], 1e-6);
  });

  it('keeps its weights in tfjs-layers order (gamma, beta trainable; moving mean, variance not) and serialises', async () => {
    const f = fused(true);
    expect(f.layers[0]!.weights.map((w) => w.name.split('/').pop())).toEqual(['gamma', 'beta', 'moving_mean', 'moving_variance']);
    expect(f.trainableWeights.length).toBe(2);
    const copy = await tfl.models.modelFromJSON({ modelTopology: f.toJSON(null, false) as never });
    copy.setWeights(f.getWeights());
    const x = wave(SHAPE);
    expectClose(copy.apply(x) as tf.Tensor, (f.apply(x) as tf.Tensor).dataSync(), 0);
    expect(copy.layers[0]).toBeInstanceOf(BatchNormReluLayer);
  });

  it('leaves no tensors behind in a training step with gradients, nor in inference', async () => {
    const f = fused(true);
    const x = wave(SHAPE);
    await expectNoTensorLeak(() => {
      const g = tf.grad((xx: tf.Tensor) => tf.sum(f.apply(xx, { training: true }) as tf.Tensor))(x);
      g.dispose();
      (f.apply(x, { training: true }) as tf.Tensor).dispose();
      (f.apply(x) as tf.Tensor).dispose();
    });
  });

  it('computes the same training step on wasm as on cpu', async () => {
    if (!(await loadWasm())) return;
    enableWasmTraining();
    const x = () => wave(SHAPE);
    const cpu = trainingStep(fused(true), x());
    const wasm = await withBackend('wasm', () => trainingStep(fused(true), x()));
    expectClose(wasm.y, cpu.y, 1e-5);
    expectClose(wasm.dx, cpu.dx, 1e-4);
    expectClose(wasm.dGamma, cpu.dGamma, 1e-4);
    expectClose(wasm.dBeta, cpu.dBeta, 1e-4);
  });
});
