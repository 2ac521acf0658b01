import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { addChannelAxis, ESC50_SPECTROGRAM_PRESET, spectrogram, spectrogramShape, type SpectrogramMethod, type SpectrogramOptions } from '../../src/audio';
import { DEFAULT_SPECTROGRAM_OPTIONS, resolveSpectrogramOptions } from '../../src/audio/spectrogram-config';
import { PiqConfigError, PiqInputError } from '../../src/errors';
import { expectClose, expectNoTensorLeak, expectThrowsWithoutLeak, loadWasm, withBackend } from '../helpers';
import { angleDiff, randomSignal, refStft, type RefStftSettings, type RefWindow } from './reference';

const METHODS: SpectrogramMethod[] = ['fft', 'dft-matmul'];
const WINDOWS: RefWindow[] = ['hamming', 'hann', 'rectangular'];

function compare(x: Float32Array, s: RefStftSettings, method: SpectrogramMethod): void {
  const ref = refStft(x, s);
  const res = spectrogram(x, { ...s, compression: 'none', method });
  try {
    const frames = ref.re.length;
    const bins = Math.floor(s.nFFT / 2) + 1;
    expect(res.magnitude.shape).toEqual([1, frames, bins]);
    expect(res.phase.shape).toEqual([1, frames, bins]);
    const mag = res.magnitude.dataSync();
    const ph = res.phase.dataSync();
    for (let t = 0; t < frames; t++) {
      for (let k = 0; k < bins; k++) {
        const r = ref.re[t]![k]!;
        const q = ref.im[t]![k]!;
        const m = Math.hypot(r, q);
        const i = t * bins + k;
        expect(Math.abs(mag[i]! - m), `magnitude at frame ${t}, bin ${k}`).toBeLessThan(2e-5 * Math.max(1, m));
        // Phase is only well defined away from zero magnitude.
        if (m > 1e-3) expect(angleDiff(ph[i]!, Math.atan2(q, r)), `phase at frame ${t}, bin ${k}`).toBeLessThan(1e-3);
      }
    }
  } finally {
    res.magnitude.dispose();
    res.phase.dispose();
  }
}

describe('spectrogram', () => {
  describe.each(METHODS)("with method '%s'", (method) => {
    it.each(WINDOWS)('matches a naive DFT for a %s window, centred frames with reflect padding', (window) => {
      compare(randomSignal(57, 1), { nFFT: 16, winLength: 16, hop: 4, window, center: true, padMode: 'reflect' }, method);
    });

    it.each(WINDOWS)('matches a naive DFT for a %s window without centring', (window) => {
      compare(randomSignal(61, 2), { nFFT: 16, winLength: 16, hop: 5, window, center: false, padMode: 'reflect' }, method);
    });

    it.each(WINDOWS)('matches a naive DFT for a %s window shorter than nFFT, zero-padded in the middle of the frame', (window) => {
      compare(randomSignal(70, 3), { nFFT: 32, winLength: 13, hop: 6, window, center: true, padMode: 'reflect' }, method);
      compare(randomSignal(70, 4), { nFFT: 32, winLength: 20, hop: 7, window, center: false, padMode: 'reflect' }, method);
    });

    it('matches a naive DFT with zero (constant) centre padding, as SpeechBrain pads', () => {
      compare(randomSignal(40, 5), { nFFT: 32, winLength: 12, hop: 6, window: 'hamming', center: true, padMode: 'constant' }, method);
    });

    it('matches a naive DFT for an nFFT that is not a power of two (even and odd)', () => {
      compare(randomSignal(50, 6), { nFFT: 12, winLength: 10, hop: 3, window: 'hann', center: true, padMode: 'reflect' }, method);
      compare(randomSignal(50, 7), { nFFT: 15, winLength: 15, hop: 4, window: 'hamming', center: false, padMode: 'reflect' }, method);
    });

    it('applies log1p and logPower compression to the magnitude', () => {
      const x = randomSignal(64, 8);
      const s: RefStftSettings = { nFFT: 16, winLength: 16, hop: 8, window: 'hamming', center: true, padMode: 'reflect' };
      const ref = refStft(x, s);
      const mags = ref.re.flatMap((row, t) => row.map((r, k) => Math.hypot(r, ref.im[t]![k]!)));
      const a = spectrogram(x, { ...s, method, compression: 'log1p' });
      const b = spectrogram(x, { ...s, method, compression: 'logPower' });
      expectClose(a.magnitude, mags.map((m) => Math.log1p(m)), 2e-5);
      expectClose(b.magnitude, mags.map((m) => 10 * Math.log10(m * m + 1e-10)), 1e-3);
      tf.dispose([a.magnitude, a.phase, b.magnitude, b.phase]);
    });

    it('puts a pure sine in the bin of its frequency', () => {
      const sr = 8000;
      const x = Float32Array.from({ length: 2048 }, (_, i) => Math.sin((2 * Math.PI * 1000 * i) / sr));
      const { magnitude, phase } = spectrogram(x, { nFFT: 256, hop: 128, method });
      const peaks = tf.tidy(() => tf.argMax(magnitude, 2).dataSync());
      // 1000 Hz / (8000 Hz / 256) = bin 32, in every frame away from the reflect-padded ends
      // (reflecting a sine about its first sample flips its phase there and smears the edge frames).
      expect(Array.from(peaks).slice(1, -1)).toEqual(new Array(peaks.length - 2).fill(32));
      tf.dispose([magnitude, phase]);
    });

    it('transforms each row of a [batch, samples] tensor like the single clip', () => {
      const a = randomSignal(100, 9);
      const b = randomSignal(100, 10);
      const opts: SpectrogramOptions = { nFFT: 32, winLength: 24, hop: 8, method };
      const batch = tf.tensor2d([Array.from(a), Array.from(b)]);
      const both = spectrogram(batch as tf.Tensor2D, opts);
      const one = spectrogram(b, opts);
      const second = tf.slice(both.magnitude, [1, 0, 0], [1, -1, -1]);
      expect(both.magnitude.shape[0]).toBe(2);
      expectClose(second, Array.from(one.magnitude.dataSync()), 1e-5);
      tf.dispose([batch, both.magnitude, both.phase, one.magnitude, one.phase, second]);
    });

    it('leaves no tensors behind beyond the two it returns, and does not dispose the input', async () => {
      const x = tf.tensor1d(randomSignal(300, 11));
      await expectNoTensorLeak(() => {
        const r = spectrogram(x as tf.Tensor1D, { nFFT: 64, method });
        expect(tf.memory().numTensors).toBeGreaterThanOrEqual(3);
        r.magnitude.dispose();
        r.phase.dispose();
      });
      expect(x.isDisposed).toBe(false);
      x.dispose();
    });
  });

  it('gives the same result with both methods on the cpu and the wasm backends', async () => {
    const ok = await loadWasm();
    if (!ok) {
      console.warn('wasm backend could not initialise here: cross-backend check skipped');
      return;
    }
    const x = randomSignal(800, 12);
    const opts: SpectrogramOptions = { nFFT: 128, winLength: 100, hop: 32, window: 'hann' };
    const run = (method: SpectrogramMethod): [Float32Array, Float32Array] => {
      const r = spectrogram(x, { ...opts, method });
      const out: [Float32Array, Float32Array] = [r.magnitude.dataSync() as Float32Array, r.phase.dataSync() as Float32Array];
      tf.dispose([r.magnitude, r.phase]);
      return out;
    };
    const cpu = { fft: run('fft'), mm: run('dft-matmul') };
    const wasm = await withBackend('wasm', () => {
      expect(tf.getBackend()).toBe('wasm');
      return expectNoTensorLeak(() => ({ fft: run('fft'), mm: run('dft-matmul') }));
    });
    for (const [name, got] of [['wasm fft', wasm.fft], ['wasm dft-matmul', wasm.mm], ['cpu dft-matmul', cpu.mm]] as const) {
      const [mag, ph] = got;
      for (let i = 0; i < mag.length; i++) {
        expect(Math.abs(mag[i]! - cpu.fft[0][i]!), `${name} magnitude ${i}`).toBeLessThan(1e-4);
        if (Math.expm1(cpu.fft[0][i]!) > 1e-2) expect(angleDiff(ph[i]!, cpu.fft[1][i]!), `${name} phase ${i}`).toBeLessThan(1e-3);
      }
    }
  });

  it('reproduces the reference ESC-50 layout: 5 s at 16 kHz gives 431 frames × 513 bins', () => {
    expect(spectrogramShape(80000, ESC50_SPECTROGRAM_PRESET)).toEqual({ frames: 431, bins: 513 });
    const r = spectrogram(randomSignal(16000, 13), ESC50_SPECTROGRAM_PRESET);
    // 1 + floor(16000 / 186) frames.
    expect(r.magnitude.shape).toEqual([1, 87, 513]);
    expect(r.config).toMatchObject({ nFFT: 1024, winLength: 372, hop: 186, window: 'hamming', padMode: 'constant', compression: 'log1p' });
    tf.dispose([r.magnitude, r.phase]);
  });

  it('resolves defaults with winLength = nFFT and hop = winLength / 4, like torch.stft', () => {
    expect(resolveSpectrogramOptions({})).toEqual({
      nFFT: 1024, winLength: 1024, hop: 256, window: 'hamming', center: true, padMode: 'reflect', compression: 'log1p', method: 'fft',
    });
    expect(DEFAULT_SPECTROGRAM_OPTIONS.method).toBe('fft');
    expect(Object.isFrozen(DEFAULT_SPECTROGRAM_OPTIONS)).toBe(true);
    expect(resolveSpectrogramOptions({ nFFT: 100 }).method).toBe('dft-matmul');
    expect(resolveSpectrogramOptions({ nFFT: 100, method: 'fft' }).method).toBe('fft');
  });

  describe('rejects bad arguments with an error naming the argument', () => {
    const x = randomSignal(256, 14);
    it.each([
      [{ nFFT: 0 }, 'nFFT'],
      [{ nFFT: 12.5 }, 'nFFT'],
      [{ nFFT: -4 }, 'nFFT'],
      [{ nFFT: 64, hop: 0 }, 'hop'],
      [{ nFFT: 64, hop: -3 }, 'hop'],
      [{ nFFT: 64, winLength: 65 }, 'winLength'],
      [{ nFFT: 64, window: 'blackman' }, 'window'],
      [{ nFFT: 64, compression: 'sqrt' }, 'compression'],
      [{ nFFT: 64, method: 'cuda' }, 'method'],
      [{ nFFT: 64, padMode: 'edge' }, 'padMode'],
      [{ nFFT: 64, center: 1 }, 'center'],
    ])('options %j throw PiqConfigError naming %s', async (opts, name) => {
      const err = await expectThrowsWithoutLeak(() => spectrogram(x, opts as SpectrogramOptions));
      expect(err).toBeInstanceOf(PiqConfigError);
      expect(err.message).toContain(`'${name}'`);
    });

    it.each(METHODS)("throws PiqInputError for a waveform too short for the frame ('%s')", async (method) => {
      const reflect = await expectThrowsWithoutLeak(() => spectrogram(new Float32Array(32), { nFFT: 64, method }));
      expect(reflect).toBeInstanceOf(PiqInputError);
      expect(reflect.message).toContain("'waveform'");
      expect(reflect.message).toContain('at least 33 samples');
      const noCenter = await expectThrowsWithoutLeak(() => spectrogram(new Float32Array(63), { nFFT: 64, center: false, method }));
      expect(noCenter.message).toContain('at least 64 samples');
      // Zero padding has no minimum beyond one sample.
      const ok = spectrogram(new Float32Array(5), { nFFT: 64, padMode: 'constant', method });
      expect(ok.magnitude.shape).toEqual([1, 1 + Math.floor(5 / 16), 33]);
      tf.dispose([ok.magnitude, ok.phase]);
    });

    it.each(METHODS)("throws PiqInputError for NaN samples in arrays and tensors ('%s')", async (method) => {
      const bad = x.slice();
      bad[7] = Number.NaN;
      const e1 = await expectThrowsWithoutLeak(() => spectrogram(bad, { nFFT: 64, method }));
      expect(e1).toBeInstanceOf(PiqInputError);
      expect(e1.message).toContain("'waveform'");
      const t = tf.tensor1d(bad);
      const e2 = await expectThrowsWithoutLeak(() => spectrogram(t as tf.Tensor1D, { nFFT: 64, method }));
      expect(e2).toBeInstanceOf(PiqInputError);
      expect(e2.message).toContain("'waveform'");
      t.dispose();
    });

    it('throws PiqInputError for a waveform of the wrong type, rank or dtype', async () => {
      const r3 = tf.zeros([1, 2, 300]);
      const i32 = tf.zeros([300], 'int32');
      for (const bad of [[1, 2, 3], r3, i32, 'x']) {
        const err = await expectThrowsWithoutLeak(() => spectrogram(bad as unknown as Float32Array, { nFFT: 64 }));
        expect(err).toBeInstanceOf(PiqInputError);
        expect(err.message).toContain("'waveform'");
      }
      tf.dispose([r3, i32]);
    });
  });
});

describe('addChannelAxis', () => {
  it('adds a trailing channel axis without touching the input', async () => {
    const s = tf.ones([2, 5, 9]) as tf.Tensor3D;
    await expectNoTensorLeak(() => {
      const img = addChannelAxis(s);
      expect(img.shape).toEqual([2, 5, 9, 1]);
      img.dispose();
    });
    expect(s.isDisposed).toBe(false);
    s.dispose();
  });

  it('throws PiqInputError naming the argument for a tensor that is not rank 3', async () => {
    const bad = tf.ones([5, 9]);
    const err = await expectThrowsWithoutLeak(() => addChannelAxis(bad as unknown as tf.Tensor3D));
    expect(err).toBeInstanceOf(PiqInputError);
    expect(err.message).toContain("'spectrogramTensor'");
    bad.dispose();
  });
});
