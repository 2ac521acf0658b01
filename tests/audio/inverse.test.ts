import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import {
  ESC50_SPECTROGRAM_PRESET,
  interpretationToWaveform,
  invertSpectrogram,
  spectrogram,
  type InvertSpectrogramOptions,
  type SpectrogramOptions,
} from '../../src/audio';
import { PiqConfigError, PiqInputError } from '../../src/errors';
import { expectNoTensorLeak, expectThrowsWithoutLeak, loadWasm, withBackend } from '../helpers';
import { randomSignal } from './reference';

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>, from = 0, to = a.length): number {
  let m = 0;
  for (let i = from; i < to; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

/** spectrogram -> invertSpectrogram, returning the reconstruction as a Float32Array. */
function roundTrip(x: Float32Array, opts: SpectrogramOptions): Float32Array {
  const s = spectrogram(x, opts);
  const y = invertSpectrogram(s.magnitude, s.phase, { ...s.config, length: s.numSamples });
  const out = y.dataSync() as Float32Array;
  tf.dispose([s.magnitude, s.phase, y]);
  return out;
}

describe('invertSpectrogram', () => {
  it.each([
    ['hamming', 64, 64, 16, 'reflect'],
    ['hann', 64, 64, 16, 'reflect'],
    ['rectangular', 64, 64, 32, 'reflect'],
    ['hamming', 64, 40, 10, 'reflect'],
    ['hann', 32, 20, 5, 'constant'],
    ['hamming', 30, 24, 6, 'reflect'],
  ] as const)(
    'reproduces the waveform, edges included, for a centred %s window (nFFT %i, winLength %i, hop %i, %s padding)',
    (window, nFFT, winLength, hop, padMode) => {
      const x = randomSignal(501, nFFT + winLength);
      for (const method of ['fft', 'dft-matmul'] as const) {
        const y = roundTrip(x, { nFFT, winLength, hop, window, padMode, method, compression: 'none' });
        expect(y.length).toBe(x.length);
        expect(maxAbsDiff(y, x), method).toBeLessThan(1e-5);
      }
    },
  );

  it('reproduces the waveform through log1p compression (the default) and through logPower', () => {
    const x = randomSignal(700, 21);
    expect(maxAbsDiff(roundTrip(x, { nFFT: 128, hop: 32 }), x)).toBeLessThan(1e-5);
    expect(maxAbsDiff(roundTrip(x, { nFFT: 128, hop: 32, compression: 'logPower' }), x)).toBeLessThan(1e-4);
  });

  it('reproduces a clip computed with the ESC-50 reference preset', () => {
    const x = randomSignal(16000, 22);
    expect(maxAbsDiff(roundTrip(x, ESC50_SPECTROGRAM_PRESET), x)).toBeLessThan(1e-5);
  });

  it('reproduces the covered part of the signal without centring and zeroes the uncovered edges', () => {
    // nFFT 64, window 40 at offset 12: samples 0..11 are under no window; the last frame ends
    // at 64 + 6·16 = 160, so samples from 160 on are uncovered too.
    const x = randomSignal(170, 23);
    const y = roundTrip(x, { nFFT: 64, winLength: 40, hop: 16, center: false, compression: 'none' });
    expect(y.length).toBe(170);
    expect(maxAbsDiff(y, x, 12, 148)).toBeLessThan(1e-5);
    expect(Array.from(y.slice(0, 12))).toEqual(new Array(12).fill(0));
    expect(Array.from(y.slice(160))).toEqual(new Array(10).fill(0));
  });

  it('returns torch.istft length by default and trims or zero-pads to an explicit length', () => {
    const x = randomSignal(300, 24);
    const s = spectrogram(x, { nFFT: 64, hop: 16, compression: 'none' });
    const frames = s.magnitude.shape[1]; // 1 + floor(300 / 16) = 19
    expect(frames).toBe(19);
    const d = invertSpectrogram(s.magnitude, s.phase, s.config);
    expect(d.shape).toEqual([1, (frames - 1) * 16]);
    const longer = invertSpectrogram(s.magnitude, s.phase, { ...s.config, length: 400 });
    const data = longer.dataSync();
    expect(maxAbsDiff(data, x, 0, 300)).toBeLessThan(1e-5);
    // The frames end at sample (frames − 1)·hop + nFFT/2 = 320; beyond, the output is zero-padded.
    expect(Array.from(data.slice(320))).toEqual(new Array(80).fill(0));
    expect(data[319]).not.toBe(0);
    tf.dispose([s.magnitude, s.phase, d, longer]);
  });

  it('inverts each example of a batch, accepting [batch, frames, bins, 1]', () => {
    const a = randomSignal(256, 25);
    const b = randomSignal(256, 26);
    const wave = tf.tensor2d([Array.from(a), Array.from(b)]);
    const s = spectrogram(wave as tf.Tensor2D, { nFFT: 64, hop: 16 });
    const mag4 = tf.expandDims(s.magnitude, -1);
    const y = invertSpectrogram(mag4, s.phase, { ...s.config, length: 256 });
    expect(y.shape).toEqual([2, 256]);
    const data = y.dataSync();
    expect(maxAbsDiff(data.slice(0, 256), a)).toBeLessThan(1e-5);
    expect(maxAbsDiff(data.slice(256), b)).toBeLessThan(1e-5);
    tf.dispose([wave, s.magnitude, s.phase, mag4, y]);
  });

  it('gives the same waveform on the wasm backend', async () => {
    if (!(await loadWasm())) {
      console.warn('wasm backend could not initialise here: cross-backend check skipped');
      return;
    }
    const x = randomSignal(400, 27);
    const onWasm = await withBackend('wasm', () => {
      expect(tf.getBackend()).toBe('wasm');
      return roundTrip(x, { nFFT: 64, winLength: 50, hop: 12, method: 'dft-matmul' });
    });
    expect(maxAbsDiff(onWasm, x)).toBeLessThan(1e-5);
  });

  it('leaves only the returned tensor behind and does not dispose its inputs', async () => {
    const s = spectrogram(randomSignal(200, 28), { nFFT: 32 });
    await expectNoTensorLeak(() => invertSpectrogram(s.magnitude, s.phase, s.config).dispose());
    expect(s.magnitude.isDisposed || s.phase.isDisposed).toBe(false);
    tf.dispose([s.magnitude, s.phase]);
  });

  describe('rejects bad arguments with an error naming the argument', () => {
    const s = spectrogram(randomSignal(200, 29), { nFFT: 32, hop: 8 });
    const cfg: InvertSpectrogramOptions = s.config;

    it('throws PiqInputError when magnitude and phase shapes differ', async () => {
      const ph = tf.slice(s.phase, [0, 0, 0], [1, 10, -1]);
      const err = await expectThrowsWithoutLeak(() => invertSpectrogram(s.magnitude, ph, cfg));
      expect(err).toBeInstanceOf(PiqInputError);
      expect(err.message).toContain("'phase'");
      ph.dispose();
    });

    it('throws PiqInputError when the bins do not match nFFT', async () => {
      const err = await expectThrowsWithoutLeak(() => invertSpectrogram(s.magnitude, s.phase, { ...cfg, nFFT: 64 }));
      expect(err).toBeInstanceOf(PiqInputError);
      expect(err.message).toContain("'magnitude'");
      expect(err.message).toContain('33 bins');
    });

    it('throws PiqInputError for NaN values and non-tensor arguments', async () => {
      const nan = tf.fill(s.magnitude.shape, Number.NaN);
      const e1 = await expectThrowsWithoutLeak(() => invertSpectrogram(nan, s.phase, cfg));
      expect(e1).toBeInstanceOf(PiqInputError);
      expect(e1.message).toContain("'magnitude'");
      const e2 = await expectThrowsWithoutLeak(() => invertSpectrogram(s.magnitude, [1, 2] as unknown as tf.Tensor, cfg));
      expect(e2).toBeInstanceOf(PiqInputError);
      expect(e2.message).toContain("'phase'");
      nan.dispose();
    });

    it('throws PiqConfigError for a hop longer than the window, a bad length or bad STFT options', async () => {
      for (const [opts, name] of [
        [{ ...cfg, hop: 40 }, 'hop'],
        [{ ...cfg, length: 0 }, 'length'],
        [{ ...cfg, length: 1.5 }, 'length'],
        [{ ...cfg, nFFT: -1 }, 'nFFT'],
        [{ ...cfg, winLength: 64 }, 'winLength'],
      ] as const) {
        const err = await expectThrowsWithoutLeak(() => invertSpectrogram(s.magnitude, s.phase, opts));
        expect(err).toBeInstanceOf(PiqConfigError);
        expect(err.message).toContain(`'${name}'`);
      }
    });
  });
});

describe('interpretationToWaveform', () => {
  const x = randomSignal(1000, 30);
  const opts = { nFFT: 128, winLength: 100, hop: 25 };

  it.each(['reference', 'linear'] as const)('reproduces the waveform for a mask of ones (%s mode)', (mode) => {
    const s = spectrogram(x, opts);
    const ones = tf.onesLike(s.magnitude);
    const y = interpretationToWaveform(ones, s.magnitude, s.phase, { ...s.config, length: s.numSamples, mode });
    expect(maxAbsDiff(y.dataSync(), x)).toBeLessThan(1e-5);
    tf.dispose([s.magnitude, s.phase, ones, y]);
  });

  it("scales the waveform by c for a constant mask c in 'linear' mode (the STFT is linear)", () => {
    const s = spectrogram(x, opts);
    const half = tf.fill(s.magnitude.shape, 0.3);
    const y = interpretationToWaveform(half, s.magnitude, s.phase, { ...s.config, length: 1000, mode: 'linear' });
    expect(maxAbsDiff(y.dataSync(), x.map((v) => 0.3 * v))).toBeLessThan(1e-5);
    tf.dispose([s.magnitude, s.phase, half, y]);
  });

  it("applies the mask to log-magnitudes in 'reference' mode: |Y| = expm1(M ⊙ X)", () => {
    // A one-frame spectrogram with hand-set values: nFFT 4 (3 bins), rectangular window, no
    // centring, hop 4, so the output is exactly the inverse DFT of one frame.
    const X = tf.tensor3d([[[Math.log1p(4), Math.log1p(2), Math.log1p(0)]]]);
    const phase = tf.zeros([1, 1, 3]);
    const mask = tf.tensor3d([[[0.5, 1, 1]]]);
    const cfg = { nFFT: 4, hop: 4, window: 'rectangular', center: false } as const;
    const ref = interpretationToWaveform(mask, X, phase, { ...cfg, mode: 'reference' });
    const lin = interpretationToWaveform(mask, X, phase, { ...cfg, mode: 'linear' });
    // reference: |Y| = [expm1(0.5·log 5), 2, 0] = [√5 − 1, 2, 0]; linear: [0.5·4, 2, 0] = [2, 2, 0].
    // x[n] = (Y0 + 2·Y1·cos(πn/2) + Y2·(−1)^n) / 4.
    const a = Math.sqrt(5) - 1;
    const expect4 = (y0: number) => [0, 1, 2, 3].map((n) => (y0 + 2 * 2 * Math.cos((Math.PI * n) / 2)) / 4);
    expect(maxAbsDiff(ref.dataSync(), expect4(a))).toBeLessThan(1e-6);
    expect(maxAbsDiff(lin.dataSync(), expect4(2))).toBeLessThan(1e-6);
    tf.dispose([X, phase, mask, ref, lin]);
  });

  it('accepts the decoder layout [batch, frames, bins, 1] for the mask and leaks nothing', async () => {
    const s = spectrogram(x, opts);
    const mask4 = tf.ones([...s.magnitude.shape, 1]);
    await expectNoTensorLeak(() => {
      const y = interpretationToWaveform(mask4, s.magnitude, s.phase, { ...s.config, length: 1000 });
      expect(y.shape).toEqual([1, 1000]);
      y.dispose();
    });
    tf.dispose([s.magnitude, s.phase, mask4]);
  });

  it('throws PiqInputError naming the mask or phase when shapes differ, and PiqConfigError for an unknown mode', async () => {
    const s = spectrogram(x, opts);
    const small = tf.ones([1, 3, 65]);
    const e1 = await expectThrowsWithoutLeak(() => interpretationToWaveform(small, s.magnitude, s.phase, s.config));
    expect(e1).toBeInstanceOf(PiqInputError);
    expect(e1.message).toContain("'mask'");
    const ones = tf.onesLike(s.magnitude);
    const e2 = await expectThrowsWithoutLeak(() => interpretationToWaveform(ones, s.magnitude, small, s.config));
    expect(e2).toBeInstanceOf(PiqInputError);
    expect(e2.message).toContain("'phase'");
    const e3 = await expectThrowsWithoutLeak(() =>
      interpretationToWaveform(ones, s.magnitude, s.phase, { ...s.config, mode: 'db' as 'linear' }),
    );
    expect(e3).toBeInstanceOf(PiqConfigError);
    expect(e3.message).toContain("'mode'");
    tf.dispose([s.magnitude, s.phase, small, ones]);
  });
});
