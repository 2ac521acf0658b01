import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_INTERPRETER_DECODER,
  resolveInterpreterDecoderConfig,
  upsamplingPlan,
  type InterpreterDecoderOptions,
} from '../../src/decoder/decoder-config';
import { InterpreterDecoder } from '../../src/decoder/interpreter-decoder';
import { PiqConfigError, PiqInputError, PiqStateError } from '../../src/errors';
import { expectClose, expectNoTensorLeak, expectThrowsWithoutLeak } from '../helpers';

/** Deterministic values in [-1, 1] of the given shape (index arithmetic, no randomness). */
function wave(shape: number[], phase = 0): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(size);
  for (let i = 0; i < size; i++) data[i] = Math.sin(0.37 * i + phase) * Math.cos(0.11 * i);
  return tf.tensor(data, shape);
}

function values(weights: Record<string, tf.Tensor>): Record<string, number[]> {
  return Object.fromEntries(Object.entries(weights).map(([k, t]) => [k, Array.from(t.dataSync())]));
}

/** Runs fn on a fresh decoder and disposes it afterwards (after the promise settles for async fn). */
function withDecoder<T>(options: InterpreterDecoderOptions, fn: (d: InterpreterDecoder) => T): T {
  const d = new InterpreterDecoder(options);
  let out: T;
  try {
    out = fn(d);
  } catch (e) {
    d.dispose();
    throw e;
  }
  if (out instanceof Promise) return out.finally(() => d.dispose()) as T;
  d.dispose();
  return out;
}

describe('upsamplingPlan', () => {
  it('doubles each axis round(log2(target / grid)) times and reports the size reached', () => {
    // 7 → 14 → 28: exact.
    expect(upsamplingPlan([7, 7], [28, 28])).toEqual({ strides: [[2, 2], [2, 2]], size: [28, 28] });
    // log2(28/4) = 2.81 → 3 doublings: 4 → 32, resized down to 28.
    expect(upsamplingPlan([4, 4], [28, 28])).toEqual({ strides: [[2, 2], [2, 2], [2, 2]], size: [32, 32] });
    // Height 13 → 104 (log2 7.77 = 2.96 → 3), width 16 → 128 (log2 8.06 = 3.01 → 3).
    expect(upsamplingPlan([13, 16], [101, 129])).toEqual({ strides: [[2, 2], [2, 2], [2, 2]], size: [104, 128] });
    // Per-axis strides: width already at its size stays at stride 1.
    expect(upsamplingPlan([4, 16], [32, 16])).toEqual({ strides: [[2, 1], [2, 1], [2, 1]], size: [32, 16] });
    // Reference audio: 13x16 codes to 431x513: 5 doublings each (log2 33.2 = 5.05, log2 32.06 = 5.003) → 416x512.
    expect(upsamplingPlan([13, 16], [431, 513])).toEqual({ strides: Array(5).fill([2, 2]), size: [416, 512] });
    // Nothing to do when the grid already has the target size.
    expect(upsamplingPlan([5, 6], [5, 6])).toEqual({ strides: [], size: [5, 6] });
  });
});

describe('resolveInterpreterDecoderConfig', () => {
  it('fills the defaults: channels min(32, codeDim), no adapter for images, residual + downsample for spectrograms', () => {
    const image = resolveInterpreterDecoderConfig({ featureShape: [7, 7, 64], outputShape: [28, 28, 1] });
    expect(image).toEqual({
      featureShape: [7, 7, 64],
      outputShape: [28, 28, 1],
      preset: 'image',
      codeDim: 64,
      adapter: 'none',
      downsample: false,
      channels: 32,
      minChannels: DEFAULT_INTERPRETER_DECODER.minChannels,
      norm: 'batch',
      seed: 0,
    });
    const spec = resolveInterpreterDecoderConfig({ featureShape: [26, 32, 16], outputShape: [101, 129, 1], preset: 'spectrogram' });
    expect([spec.adapter, spec.downsample, spec.codeDim, spec.channels]).toEqual(['residual', true, 16, 16]);
    // Explicit options override the preset, including falsy ones (?? not ||).
    const explicit = resolveInterpreterDecoderConfig({ featureShape: [26, 32, 16], outputShape: [101, 129, 1], preset: 'spectrogram', downsample: false, adapter: 'none', seed: 0 });
    expect([explicit.adapter, explicit.downsample]).toEqual(['none', false]);
    expect(Object.isFrozen(DEFAULT_INTERPRETER_DECODER)).toBe(true);
  });
});

describe('InterpreterDecoder shapes', () => {
  const table: Array<{ name: string; options: InterpreterDecoderOptions; code: [number, number, number] }> = [
    { name: '[7,7,64] → [28,28,1]', options: { featureShape: [7, 7, 64], outputShape: [28, 28, 1] }, code: [7, 7, 64] },
    { name: '[4,4,128] → [28,28,1]', options: { featureShape: [4, 4, 128], outputShape: [28, 28, 1] }, code: [4, 4, 128] },
    { name: '[8,8,16] → [32,32,3]', options: { featureShape: [8, 8, 16], outputShape: [32, 32, 3] }, code: [8, 8, 16] },
    { name: '[4,4,32] → [64,64,3]', options: { featureShape: [4, 4, 32], outputShape: [64, 64, 3] }, code: [4, 4, 32] },
    { name: 'non-square [13,17,32] → [101,129,1]', options: { featureShape: [13, 17, 32], outputShape: [101, 129, 1] }, code: [13, 17, 32] },
    { name: '[26,32,16] → [101,129,1] with downsample', options: { featureShape: [26, 32, 16], outputShape: [101, 129, 1], downsample: true }, code: [13, 16, 16] },
    { name: 'spectrogram preset [10,13,8] → [40,51,1]', options: { featureShape: [10, 13, 8], outputShape: [40, 51, 1], preset: 'spectrogram' }, code: [5, 7, 8] },
    { name: 'codeDim change [6,6,8] → [24,24,2]', options: { featureShape: [6, 6, 8], outputShape: [24, 24, 2], codeDim: 12 }, code: [6, 6, 12] },
  ];

  for (const { name, options, code } of table) {
    it(`maps ${name} through the code shape ${JSON.stringify(code)}`, async () => {
      const d = new InterpreterDecoder(options);
      expect(d.codeShape).toEqual(code);
      const f = wave([1, ...options.featureShape]) as tf.Tensor4D;
      const encoded = d.encode(f);
      expect(encoded.shape).toEqual([1, ...code]);
      const decoded = await expectNoTensorLeak(() => d.decode(encoded), 1);
      expect(decoded.shape).toEqual([1, ...options.outputShape]);
      expect(Array.from(decoded.dataSync()).every(Number.isFinite)).toBe(true);
      tf.dispose([f, encoded, decoded]);
      d.dispose();
    });
  }

  it('computes the code shape with and without downsample (stride 2, rounding up)', () => {
    withDecoder({ featureShape: [26, 32, 16], outputShape: [101, 129, 1] }, (d) => expect(d.codeShape).toEqual([26, 32, 16]));
    withDecoder({ featureShape: [26, 32, 16], outputShape: [101, 129, 1], downsample: true }, (d) => expect(d.codeShape).toEqual([13, 16, 16]));
    withDecoder({ featureShape: [7, 9, 4], outputShape: [28, 36, 1], downsample: true, codeDim: 6 }, (d) => {
      expect(d.codeShape).toEqual([4, 5, 6]);
      const f = wave([2, 7, 9, 4]) as tf.Tensor4D;
      const c = d.encode(f);
      expect(c.shape).toEqual([2, 4, 5, 6]); // the adapter's real output agrees with codeShape
      tf.dispose([f, c]);
    });
  });

  it('keeps the whole code grid on the whole output: each code column drives the output near its own place', () => {
    // 16 code columns onto 129 output columns (128 after the stages, resized). A column-j impulse
    // should centre its response at (j + 0.5) / 16 · 129.
    withDecoder({ featureShape: [1, 16, 4], outputShape: [1, 129, 1], norm: 'none', channels: 8, seed: 3 }, (d) => {
      for (const j of [0, 7, 15]) {
        const out = tf.tidy(() => {
          const mask = tf.reshape(tf.oneHot(tf.tensor1d([j], 'int32'), 16), [1, 1, 16, 1]);
          const codes = tf.mul(mask, wave([1, 1, 16, 4], j)) as tf.Tensor4D;
          return tf.abs(d.decode(codes));
        });
        const a = Array.from(out.dataSync());
        out.dispose();
        const total = a.reduce((s, v) => s + v, 0);
        expect(total).toBeGreaterThan(0);
        const centre = a.reduce((s, v, i) => s + v * i, 0) / total;
        expect(Math.abs(centre - ((j + 0.5) / 16) * 129)).toBeLessThan(6);
      }
    });
  });
});

describe('InterpreterDecoder.encode', () => {
  it('is the identity without an adapter, returning a new tensor', () => {
    withDecoder({ featureShape: [4, 4, 8], outputShape: [16, 16, 1] }, (d) => {
      const f = wave([2, 4, 4, 8]) as tf.Tensor4D;
      const c = d.encode(f);
      expect(c).not.toBe(f);
      expectClose(c, f.dataSync(), 0);
      tf.dispose([f, c]);
    });
  });

  it('maps to codeDim with a residual adapter or a codeDim change, and is not the identity then', () => {
    for (const options of [
      { featureShape: [4, 4, 8], outputShape: [16, 16, 1], adapter: 'residual' as const },
      { featureShape: [4, 4, 8], outputShape: [16, 16, 1], codeDim: 5 },
    ]) {
      withDecoder(options, (d) => {
        const f = wave([2, 4, 4, 8]) as tf.Tensor4D;
        const c = d.encode(f);
        expect(c.shape).toEqual([2, 4, 4, options.codeDim ?? 8]);
        if (options.codeDim === undefined) {
          const diff = tf.max(tf.abs(tf.sub(c, f)));
          expect(diff.dataSync()[0]).toBeGreaterThan(1e-3);
          diff.dispose();
        }
        tf.dispose([f, c]);
      });
    }
  });

  it('rejects features of the wrong shape with a PiqInputError naming features', async () => {
    await withDecoder({ featureShape: [4, 4, 8], outputShape: [16, 16, 1] }, async (d) => {
      const bad = tf.zeros([2, 4, 4, 7]) as tf.Tensor4D;
      const err = await expectThrowsWithoutLeak(() => d.encode(bad));
      expect(err).toBeInstanceOf(PiqInputError);
      expect(err.message).toBe("InterpreterDecoder.encode: 'features' must have shape [batch, 4, 4, 8], got [2, 4, 4, 7].");
      const codes = tf.zeros([4, 4, 8]) as unknown as tf.Tensor4D;
      const err2 = await expectThrowsWithoutLeak(() => d.decode(codes));
      expect(err2).toBeInstanceOf(PiqInputError);
      expect(err2.message).toBe("InterpreterDecoder.decode: 'codes' must have shape [batch, 4, 4, 8], got [4, 4, 8].");
      const err3 = await expectThrowsWithoutLeak(() => d.decode('codes' as unknown as tf.Tensor4D));
      expect(err3.message).toMatch(/'codes' must have shape .* got "codes"/);
      tf.dispose([bad, codes]);
    });
  });
});

describe('InterpreterDecoder training', () => {
  for (const options of [
    { featureShape: [6, 6, 8], outputShape: [12, 12, 1], preset: 'spectrogram' as const, seed: 4 },
    { featureShape: [3, 3, 8], outputShape: [12, 12, 2], codeDim: 6, channels: 8, seed: 5 },
    { featureShape: [3, 3, 4], outputShape: [6, 6, 1], adapter: 'residual' as const, norm: 'none' as const, seed: 6 },
  ]) {
    it(`gives every trainable variable a non-zero, finite gradient (${JSON.stringify(options)})`, () => {
      withDecoder(options, (d) => {
        const vars = d.trainableVariables;
        expect(vars.length).toBeGreaterThan(0);
        expect(vars.every((v) => v instanceof tf.Variable && v.trainable)).toBe(true);
        const f = wave([3, ...options.featureShape]) as tf.Tensor4D;
        const target = tf.tidy(() => tf.step(wave([3, ...options.outputShape], 1)));
        const { value, grads } = tf.variableGrads(
          () => tf.losses.sigmoidCrossEntropy(target, d.decode(d.encode(f, true), true)) as tf.Scalar,
          vars,
        );
        expect(Number.isFinite(value.dataSync()[0])).toBe(true);
        for (const v of vars) {
          const g = grads[v.name];
          expect(g, v.name).toBeDefined();
          const a = Array.from(g!.dataSync());
          expect(a.every(Number.isFinite), v.name).toBe(true);
          // Well above float noise: a bias in front of batch norm would get ~1e-9 here.
          expect(Math.max(...a.map(Math.abs)), v.name).toBeGreaterThan(1e-5);
        }
        tf.dispose([f, target, value, grads as unknown as tf.Tensor[]]);
      });
    });
  }

  it('counts parameters as the layers dictate (hand arithmetic)', () => {
    // One stage 2→4: transposed conv 4x4, 4→4 channels (+4 bias without norm); output conv 3x3, 4→1 (+1 bias).
    withDecoder({ featureShape: [2, 2, 4], outputShape: [4, 4, 1], channels: 4, norm: 'none' }, (d) => expect(d.countParams()).toBe(4 * 4 * 4 * 4 + 4 + (3 * 3 * 4 + 1)));
    // With batch norm: no bias before it, then gamma, beta, moving mean and variance (4 each).
    withDecoder({ featureShape: [2, 2, 4], outputShape: [4, 4, 1], channels: 4 }, (d) => expect(d.countParams()).toBe(4 * 4 * 4 * 4 + 4 * 4 + (3 * 3 * 4 + 1)));
  });

  it('uses no tensors beyond its outputs in encode/decode, in training mode too', async () => {
    await withDecoder({ featureShape: [6, 6, 8], outputShape: [12, 12, 1], preset: 'spectrogram' }, async (d) => {
      const f = wave([2, 6, 6, 8]) as tf.Tensor4D;
      for (const training of [false, true]) {
        await expectNoTensorLeak(() => {
          const c = d.encode(f, training);
          const out = d.decode(c, training);
          tf.dispose([c, out]);
        });
      }
      await expectNoTensorLeak(() => d.trainableVariables);
      await expectNoTensorLeak(() => d.countParams());
      f.dispose();
    });
  });
});

describe('InterpreterDecoder weights', () => {
  const options: InterpreterDecoderOptions = { featureShape: [6, 6, 8], outputShape: [12, 12, 1], preset: 'spectrogram' };

  it('round-trips getWeights/setWeights into a decoder built with another seed, batch-norm statistics included', async () => {
    const a = new InterpreterDecoder({ ...options, seed: 1 });
    const b = new InterpreterDecoder({ ...options, seed: 2 });
    const f = wave([2, 6, 6, 8]) as tf.Tensor4D;
    // A training-mode pass moves a's batch-norm statistics away from their initial values.
    tf.tidy(() => a.decode(a.encode(f, true), true));
    const run = (d: InterpreterDecoder) => tf.tidy(() => Array.from(d.decode(d.encode(f)).dataSync()));
    expect(run(b)).not.toEqual(run(a));
    const weights = await expectNoTensorLeak(() => a.getWeights(), 1000);
    expect(Object.keys(weights).every((k) => /^(adapter|decoder)\/\d+$/.test(k))).toBe(true);
    await expectNoTensorLeak(() => b.setWeights(weights));
    tf.dispose(Object.values(weights)); // b keeps its own references
    expect(run(b)).toEqual(run(a));
    expect(values(b.getWeights())).toEqual(values(a.getWeights()));
    f.dispose();
    a.dispose();
    b.dispose();
  });

  it('returns copies from getWeights that the caller may dispose freely', async () => {
    await withDecoder(options, async (d) => {
      await expectNoTensorLeak(() => tf.dispose(Object.values(d.getWeights())));
      const f = wave([1, 6, 6, 8]) as tf.Tensor4D;
      const out = d.decode(d.encode(f));
      expect(out.isDisposed).toBe(false);
      tf.dispose([f, out]);
    });
  });

  it('rejects missing, mis-shaped or unexpected weights with a PiqStateError, changing nothing', async () => {
    const d = new InterpreterDecoder({ ...options, seed: 1 });
    const other = new InterpreterDecoder({ ...options, seed: 2 });
    const before = values(d.getWeights());
    const w = other.getWeights();
    const { ['decoder/0']: dropped, ...missing } = w;
    const e1 = await expectThrowsWithoutLeak(() => d.setWeights(missing));
    expect(e1).toBeInstanceOf(PiqStateError);
    expect(e1.message).toMatch(/^InterpreterDecoder\.setWeights: weight 'decoder\/0' is missing/);

    const wrong = tf.zeros([3]);
    const e2 = await expectThrowsWithoutLeak(() => d.setWeights({ ...w, 'decoder/0': wrong }));
    expect(e2).toBeInstanceOf(PiqStateError);
    expect(e2.message).toContain(`weight 'decoder/0' must have shape [${w['decoder/0']!.shape.join(', ')}], got [3].`);

    const extra = tf.zeros([1]);
    const e3 = await expectThrowsWithoutLeak(() => d.setWeights({ ...w, 'adapter/99': extra, 'quantizer/codebook': extra }));
    expect(e3).toBeInstanceOf(PiqStateError);
    expect(e3.message).toMatch(/'weights' must hold exactly this decoder's \d+ weights, got unexpected 'adapter\/99'/);
    expect(e3.message).not.toContain('quantizer');

    const e4 = await expectThrowsWithoutLeak(() => d.setWeights({ ...w, 'adapter/0': [1, 2] as unknown as tf.Tensor }));
    expect(e4).toBeInstanceOf(PiqStateError);
    expect(e4.message).toMatch(/weight 'adapter\/0' must be a live tf\.Tensor, got an array of length 2/);

    // A decoder saved without an adapter does not load into one with an adapter, and vice versa.
    const plain = new InterpreterDecoder({ ...options, preset: 'image' });
    const pw = plain.getWeights();
    const e5 = await expectThrowsWithoutLeak(() => d.setWeights(pw));
    expect(e5).toBeInstanceOf(PiqStateError);
    expect(e5.message).toMatch(/'adapter\/0' is missing/);
    const e6 = await expectThrowsWithoutLeak(() => plain.setWeights(w));
    expect(e6).toBeInstanceOf(PiqStateError);

    expect(values(d.getWeights())).toEqual(before); // nothing was half-applied
    expect(dropped).toBeDefined();
    tf.dispose([wrong, extra, ...Object.values(w), ...Object.values(pw)]);
    d.dispose();
    other.dispose();
    plain.dispose();
  });
});

describe('InterpreterDecoder configuration', () => {
  it('round-trips getConfig/fromConfig through JSON, rebuilding the same weights from the seed', () => {
    const a = new InterpreterDecoder({ featureShape: [6, 6, 8], outputShape: [12, 12, 1], preset: 'spectrogram', codeDim: 4, seed: 9 });
    const config = JSON.parse(JSON.stringify(a.getConfig()));
    const b = InterpreterDecoder.fromConfig(config);
    expect(b.getConfig()).toEqual(a.getConfig());
    expect(b.codeShape).toEqual(a.codeShape);
    expect(values(b.getWeights())).toEqual(values(a.getWeights()));
    // getConfig returns a copy: editing it does not change the decoder.
    const c = a.getConfig();
    c.featureShape[0] = 99;
    expect(a.config.featureShape[0]).toBe(6);
    tf.dispose([...Object.values(a.getWeights())]);
    a.dispose();
    b.dispose();
  });

  it('builds the same weights for the same seed and different weights for different seeds', () => {
    const options: InterpreterDecoderOptions = { featureShape: [4, 4, 8], outputShape: [16, 16, 1], adapter: 'residual' };
    const w = (seed: number) => withDecoder({ ...options, seed }, (d) => {
      const ws = d.getWeights();
      const v = values(ws);
      tf.dispose(Object.values(ws));
      return v;
    });
    const s1 = w(1);
    expect(w(1)).toEqual(s1);
    const s2 = w(2);
    // Every kernel differs (biases and batch-norm parameters start at constants).
    const kernels = Object.keys(s1).filter((k) => (s1[k] as number[]).length > 16);
    expect(kernels.length).toBeGreaterThan(2);
    for (const k of kernels) expect(s2[k], k).not.toEqual(s1[k]);
  });
});

describe('InterpreterDecoder with a custom decoder network', () => {
  const customFor = (outChannels: number, inShape: number[] = [7, 7, 8]) =>
    tfl.sequential({
      layers: [
        tfl.layers.upSampling2d({ inputShape: inShape, size: [4, 4] }),
        tfl.layers.conv2d({ filters: outChannels, kernelSize: 3, padding: 'same', kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) }),
      ],
    });

  it('accepts a tfjs-layers model whose shapes fit, owns it and restores it with fromConfigAsync', async () => {
    const custom = customFor(1);
    const d = new InterpreterDecoder({ featureShape: [7, 7, 8], outputShape: [28, 28, 1] }, custom);
    expect(d.getConfig().customDecoderTopology).toBeDefined();
    const codes = wave([2, 7, 7, 8]) as tf.Tensor4D;
    const out = await expectNoTensorLeak(() => d.decode(codes), 1);
    expect(out.shape).toEqual([2, 28, 28, 1]);
    const expected = custom.predict(codes) as tf.Tensor;
    expectClose(out, expected.dataSync(), 1e-6);
    expect(d.trainableVariables.length).toBe(2);
    const restored = await InterpreterDecoder.fromConfigAsync(JSON.parse(JSON.stringify(d.getConfig())));
    const weights = d.getWeights();
    restored.setWeights(weights);
    const again = restored.decode(codes);
    expectClose(again, out.dataSync(), 1e-6);
    const err = await expectThrowsWithoutLeak(() => InterpreterDecoder.fromConfig(d.getConfig()));
    expect(err).toBeInstanceOf(PiqConfigError);
    expect(err.message).toMatch(/fromConfigAsync/);
    tf.dispose([codes, out, expected, again, ...Object.values(weights)]);
    d.dispose();
    restored.dispose();
    expect(() => custom.predict(tf.zeros([1, 7, 7, 8]))).toThrow(/disposed/);
  });

  it('rejects a custom decoder whose shapes do not fit, naming customDecoder, expected and actual, without leaking', async () => {
    const wrongOut = customFor(3);
    const e1 = await expectThrowsWithoutLeak(() => new InterpreterDecoder({ featureShape: [7, 7, 8], outputShape: [28, 28, 1], adapter: 'residual' }, wrongOut));
    expect(e1).toBeInstanceOf(PiqConfigError);
    expect(e1.message).toMatch(
      /^InterpreterDecoder: 'customDecoder' must be a tf\.LayersModel with one input \[batch, 7, 7, 8\] and one output \[batch, 28, 28, 1\], got inputs \[null, 7, 7, 8\] and outputs \[null, 28, 28, 3\]\./,
    );
    const wrongIn = customFor(1, [7, 7, 4]);
    const e2 = await expectThrowsWithoutLeak(() => new InterpreterDecoder({ featureShape: [7, 7, 8], outputShape: [28, 28, 1] }, wrongIn));
    expect(e2.message).toMatch(/got inputs \[null, 7, 7, 4\]/);
    const e3 = await expectThrowsWithoutLeak(() => new InterpreterDecoder({ featureShape: [7, 7, 8], outputShape: [28, 28, 1] }, {} as tfl.LayersModel));
    expect(e3).toBeInstanceOf(PiqConfigError);
    expect(e3.message).toMatch(/'customDecoder' must be .* got an object/);
    // A rejected model still belongs to the caller: it is not disposed.
    const p = wrongOut.predict(tf.zeros([1, 7, 7, 8])) as tf.Tensor;
    expect(p.shape).toEqual([1, 28, 28, 3]);
    p.dispose();
    wrongOut.dispose();
    wrongIn.dispose();
  });
});

describe('InterpreterDecoder lifecycle and option errors', () => {
  it('frees its variables on dispose and throws PiqStateError from every method afterwards', async () => {
    const before = tf.memory().numTensors;
    const d = new InterpreterDecoder({ featureShape: [6, 6, 8], outputShape: [12, 12, 1], preset: 'spectrogram' });
    expect(tf.memory().numTensors).toBeGreaterThan(before);
    d.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(d.isDisposed).toBe(true);
    d.dispose(); // idempotent
    const f = tf.zeros([1, 6, 6, 8]) as tf.Tensor4D;
    const calls: Array<[string, () => unknown]> = [
      ['encode', () => d.encode(f)],
      ['decode', () => d.decode(f)],
      ['trainableVariables', () => d.trainableVariables],
      ['getWeights', () => d.getWeights()],
      ['setWeights', () => d.setWeights({})],
      ['countParams', () => d.countParams()],
    ];
    for (const [method, call] of calls) {
      const err = await expectThrowsWithoutLeak(call);
      expect(err, method).toBeInstanceOf(PiqStateError);
      expect(err.message).toBe(`InterpreterDecoder.${method}: the decoder was disposed. Create a new one.`);
    }
    f.dispose();
  });

  const base = { featureShape: [7, 7, 8], outputShape: [28, 28, 1] };
  const cases: Array<{ what: string; options: unknown; message: RegExp }> = [
    { what: 'non-positive channels', options: { ...base, channels: 0 }, message: /'channels' must be a positive integer, got 0\./ },
    { what: 'negative minChannels', options: { ...base, minChannels: -2 }, message: /'minChannels' must be a positive integer, got -2\./ },
    { what: 'fractional codeDim', options: { ...base, codeDim: 2.5 }, message: /'codeDim' must be a positive integer, got 2\.5\./ },
    { what: 'an unknown preset', options: { ...base, preset: 'audio' }, message: /'preset' must be one of 'image', 'spectrogram', 'reference-mnist', 'reference-audio', got "audio"\./ },
    { what: 'an unknown adapter', options: { ...base, adapter: 'dense' }, message: /'adapter' must be one of 'none', 'residual', got "dense"\./ },
    { what: 'an unknown norm', options: { ...base, norm: 'layer' }, message: /'norm' must be one of 'batch', 'none', got "layer"\./ },
    { what: 'a non-boolean downsample', options: { ...base, downsample: 1 }, message: /'downsample' must be true or false, got 1\./ },
    { what: 'a fractional seed', options: { ...base, seed: 0.5 }, message: /'seed' must be an integer, got 0\.5\./ },
    { what: 'a featureShape that is not [h, w, c]', options: { ...base, featureShape: [7, 7] }, message: /'featureShape' must be \[height, width, channels\] of positive integers, got \[7,7\]\./ },
    { what: 'a featureShape with a zero', options: { ...base, featureShape: [7, 0, 8] }, message: /'featureShape' must be .* got \[7,0,8\]\./ },
    { what: 'a missing outputShape', options: { featureShape: [7, 7, 8] }, message: /'outputShape' must be .* got undefined\./ },
    { what: 'a code grid larger than the output', options: { featureShape: [8, 8, 4], outputShape: [4, 6, 1] }, message: /the code grid \[8, 8\] must not be larger than the output \[4, 6\]\. .*downsample: true/ },
    { what: 'options that are not an object', options: null, message: /'options' must be an object, got null\./ },
  ];
  for (const { what, options, message } of cases) {
    it(`rejects ${what} with a PiqConfigError, without leaking`, async () => {
      const err = await expectThrowsWithoutLeak(() => new InterpreterDecoder(options as InterpreterDecoderOptions));
      expect(err).toBeInstanceOf(PiqConfigError);
      expect(err.message).toMatch(/^InterpreterDecoder: /);
      expect(err.message).toMatch(message);
    });
  }

  it('accepts a grid that only fits the output after downsampling', () => {
    withDecoder({ featureShape: [8, 8, 4], outputShape: [4, 6, 1], downsample: true }, (d) => expect(d.codeShape).toEqual([4, 4, 4]));
  });
});
