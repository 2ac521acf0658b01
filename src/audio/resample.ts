// Band-limited resampling with a Kaiser-windowed sinc (the method of resampy / torchaudio's
// sinc_interp_kaiser). Polyphase: for rational ratios with a small enough numerator the filter
// taps of each output phase are computed once.
import { PiqConfigError, PiqInputError } from '../errors';
import { checkFiniteArray, describe, finiteNumber, optionKeys, optionsObject, positiveInt } from '../internal/checks';

/**
 * Options of {@link resample}.
 *
 * @category Audio
 */
export interface ResampleOptions {
  /** Zero crossings of the sinc on each side: longer filters give a sharper cutoff. @defaultValue 32 */
  zeroCrossings?: number;
  /** Cutoff as a fraction of the lower Nyquist frequency (leaves room for the transition band). @defaultValue 0.94 */
  rolloff?: number;
  /** Kaiser window β (about 8.6 gives ~85 dB stopband attenuation). @defaultValue 8.6 */
  beta?: number;
}

const RESAMPLE_KEYS = optionKeys<ResampleOptions>({ zeroCrossings: true, rolloff: true, beta: true });

/**
 * Defaults of {@link ResampleOptions}.
 */
export const DEFAULT_RESAMPLE_OPTIONS = Object.freeze({ zeroCrossings: 32, rolloff: 0.94, beta: 8.6 } as const);

/** Modified Bessel function of the first kind, order 0 (power series; converges fast for β ≤ 20). */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 200; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Largest number of cached polyphase filters (rational ratios with a larger numerator are computed per sample). */
const MAX_PHASES = 4096;

/**
 * Changes the sample rate of a signal with a Kaiser-windowed sinc low-pass filter, so content
 * above the new Nyquist frequency is removed instead of aliasing (when downsampling). The
 * output has `ceil(samples.length · toRate / fromRate)` samples; samples beyond the ends count
 * as zero. Returns a copy when the rates are equal.
 *
 * @param samples - One channel (downmix first with {@link downmixToMono}).
 * @param fromRate - The signal's sample rate in Hz.
 * @param toRate - The wanted sample rate in Hz.
 * @throws PiqConfigError for non-positive rates or bad options; PiqInputError for non-finite samples.
 *
 * @example
 * ```ts
 * import { resample } from 'piq-tfjs/audio';
 * const x = Float32Array.from({ length: 44100 }, (_, i) => Math.sin((2 * Math.PI * 440 * i) / 44100));
 * const y = resample(x, 44100, 16000);
 * console.log(y.length); // 16000, still a 440 Hz sine of amplitude 1
 * ```
 * @category Audio
 */
export function resample(samples: Float32Array, fromRate: number, toRate: number, options: ResampleOptions = {}): Float32Array {
  const owner = 'resample';
  if (!(samples instanceof Float32Array)) {
    throw new PiqInputError(`${owner}: 'samples' must be a Float32Array, got ${describe(samples)}.`);
  }
  finiteNumber(owner, 'fromRate', fromRate, { min: 0, minExclusive: true });
  finiteNumber(owner, 'toRate', toRate, { min: 0, minExclusive: true });
  if (options === null || typeof options !== 'object') {
    throw new PiqConfigError(`${owner}: 'options' must be an object, got ${describe(options)}.`);
  }
  optionsObject(owner, options, RESAMPLE_KEYS);
  const d = DEFAULT_RESAMPLE_OPTIONS;
  const zeroCrossings = positiveInt(owner, 'zeroCrossings', options.zeroCrossings ?? d.zeroCrossings);
  const rolloff = finiteNumber(owner, 'rolloff', options.rolloff ?? d.rolloff, { min: 0, minExclusive: true, max: 1 });
  const beta = finiteNumber(owner, 'beta', options.beta ?? d.beta, { min: 0 });
  checkFiniteArray(owner, 'samples', samples);
  if (fromRate === toRate) return samples.slice();

  const n = samples.length;
  const ratio = toRate / fromRate;
  const outLen = Math.ceil(n * ratio);
  // Cutoff in cycles per input sample (×2: fraction of the input Nyquist).
  const cutoff = rolloff * Math.min(1, ratio);
  const halfWidth = zeroCrossings / cutoff; // filter half-length, in input samples
  const i0Beta = besselI0(beta);
  const kernel = (delta: number): number => {
    // delta: distance in input samples between the output instant and an input sample.
    const u = delta / halfWidth;
    if (u <= -1 || u >= 1) return 0;
    const x = Math.PI * cutoff * delta;
    const sinc = x === 0 ? 1 : Math.sin(x) / x;
    return cutoff * sinc * (besselI0(beta * Math.sqrt(1 - u * u)) / i0Beta);
  };
  const taps = Math.ceil(halfWidth);
  const out = new Float32Array(outLen);

  // Output j sits at input time j·fromRate/toRate. For integer rates with a reduced numerator
  // L = toRate/g ≤ MAX_PHASES, the fractional part takes only L values: cache those filters.
  const integerRates = Number.isInteger(fromRate) && Number.isInteger(toRate);
  const g = integerRates ? gcd(fromRate, toRate) : 1;
  const up = integerRates ? toRate / g : 0;
  const down = integerRates ? fromRate / g : 0;
  const filterLen = 2 * taps + 1;
  const cache = integerRates && up <= MAX_PHASES ? new Map<number, Float64Array>() : undefined;
  const filterFor = (frac: number, phase: number): Float64Array => {
    let f = cache?.get(phase);
    if (f) return f;
    f = new Float64Array(filterLen);
    for (let k = -taps; k <= taps; k++) f[k + taps] = kernel(frac - k);
    cache?.set(phase, f);
    return f;
  };
  for (let j = 0; j < outLen; j++) {
    let base: number;
    let frac: number;
    let phase = -1;
    if (integerRates) {
      const num = j * down; // exact in integers: input time = num / up
      base = Math.floor(num / up);
      phase = num - base * up;
      frac = phase / up;
    } else {
      const t = j / ratio;
      base = Math.floor(t);
      frac = t - base;
    }
    const f = filterFor(frac, phase);
    let acc = 0;
    const lo = Math.max(-taps, -base);
    const hi = Math.min(taps, n - 1 - base);
    for (let k = lo; k <= hi; k++) acc += (samples[base + k] as number) * (f[k + taps] as number);
    out[j] = acc;
  }
  return out;
}
