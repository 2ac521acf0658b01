import { describe, expect, it } from 'vitest';
import { resample } from '../../src/audio';
import { DEFAULT_RESAMPLE_OPTIONS } from '../../src/audio/resample';
import { PiqConfigError, PiqInputError } from '../../src/errors';
import { expectNoTensorLeak, expectThrowsWithoutLeak } from '../helpers';

function sine(freq: number, rate: number, seconds: number, amp = 1): Float32Array {
  return Float32Array.from({ length: Math.round(rate * seconds) }, (_, i) => amp * Math.sin((2 * Math.PI * freq * i) / rate));
}

/**
 * Least-squares fit of a·sin + b·cos at `freq` over the interior (10 %–90 %) of `y`:
 * returns the amplitude √(a² + b²) and the RMS of what the fit leaves over.
 */
function fitSine(y: Float32Array, freq: number, rate: number): { amplitude: number; residualRms: number } {
  const from = Math.floor(y.length * 0.1);
  const to = Math.floor(y.length * 0.9);
  let ss = 0, cc = 0, sc = 0, ys = 0, yc = 0;
  for (let i = from; i < to; i++) {
    const s = Math.sin((2 * Math.PI * freq * i) / rate);
    const c = Math.cos((2 * Math.PI * freq * i) / rate);
    ss += s * s; cc += c * c; sc += s * c; ys += y[i]! * s; yc += y[i]! * c;
  }
  const det = ss * cc - sc * sc;
  const a = (ys * cc - yc * sc) / det;
  const b = (yc * ss - ys * sc) / det;
  let r = 0;
  for (let i = from; i < to; i++) {
    const f = a * Math.sin((2 * Math.PI * freq * i) / rate) + b * Math.cos((2 * Math.PI * freq * i) / rate);
    r += (y[i]! - f) ** 2;
  }
  return { amplitude: Math.hypot(a, b), residualRms: Math.sqrt(r / (to - from)) };
}

function interiorRms(y: Float32Array): number {
  const from = Math.floor(y.length * 0.1);
  const to = Math.floor(y.length * 0.9);
  let s = 0;
  for (let i = from; i < to; i++) s += y[i]! ** 2;
  return Math.sqrt(s / (to - from));
}

describe('resample', () => {
  it.each([
    [1000, 16000, 8000],
    [1000, 8000, 16000],
    [440, 44100, 16000],
    [300, 16000, 11025],
    [1500, 16000, 12345.5],
  ])('keeps the frequency and amplitude of a %i Hz sine from %i Hz to %f Hz', (freq, from, to) => {
    const y = resample(sine(freq, from, 0.5, 0.8), from, to);
    expect(y.length).toBe(Math.ceil((Math.round(from * 0.5) * to) / from));
    const fit = fitSine(y, freq, to);
    expect(fit.amplitude).toBeGreaterThan(0.8 * 0.995);
    expect(fit.amplitude).toBeLessThan(0.8 * 1.005);
    expect(fit.residualRms).toBeLessThan(1e-3);
  });

  it('removes content above the new Nyquist frequency instead of aliasing it', () => {
    // 6 kHz at 16 kHz -> 8 kHz would alias to 2 kHz; it must be attenuated by > 60 dB.
    const y = resample(sine(6000, 16000, 0.5), 16000, 8000);
    expect(interiorRms(y)).toBeLessThan(Math.SQRT1_2 * 1e-3);
    // Just above the new Nyquist (4.4 kHz) is attenuated too, while 3 kHz passes.
    expect(interiorRms(resample(sine(4400, 16000, 0.5), 16000, 8000))).toBeLessThan(Math.SQRT1_2 * 1e-2);
    expect(interiorRms(resample(sine(3000, 16000, 0.5), 16000, 8000))).toBeGreaterThan(Math.SQRT1_2 * 0.99);
  });

  it('returns a copy for equal rates and creates no tensors', async () => {
    const x = sine(100, 8000, 0.01);
    const y = await expectNoTensorLeak(() => resample(x, 8000, 8000));
    expect(y).toEqual(x);
    expect(y).not.toBe(x);
    expect(Object.isFrozen(DEFAULT_RESAMPLE_OPTIONS)).toBe(true);
  });

  it('throws PiqConfigError naming bad rates or options and PiqInputError for bad samples', async () => {
    const x = sine(100, 8000, 0.01);
    const bad = x.slice();
    bad[3] = Number.NaN;
    const cases: [() => unknown, typeof PiqConfigError | typeof PiqInputError, string][] = [
      [() => resample(x, 0, 8000), PiqConfigError, 'fromRate'],
      [() => resample(x, 8000, -1), PiqConfigError, 'toRate'],
      [() => resample(x, 8000, Number.NaN), PiqConfigError, 'toRate'],
      [() => resample(x, 8000, 4000, { zeroCrossings: 0 }), PiqConfigError, 'zeroCrossings'],
      [() => resample(x, 8000, 4000, { rolloff: 1.5 }), PiqConfigError, 'rolloff'],
      [() => resample(bad, 8000, 4000), PiqInputError, 'samples'],
      [() => resample([1, 2] as unknown as Float32Array, 8000, 4000), PiqInputError, 'samples'],
    ];
    for (const [fn, cls, name] of cases) {
      const err = await expectThrowsWithoutLeak(fn);
      expect(err).toBeInstanceOf(cls);
      expect(err.message).toContain(`'${name}'`);
    }
  });
});
