// Inverse STFT by weighted overlap-add (torch.istft's algorithm) and the PIQ "listen to an
// interpretation" helper: mask the spectrogram, keep the ORIGINAL phase, invert.
// Computed in float64 on the CPU side (reads the tensors back), so it runs on every backend.
import * as tf from '@tensorflow/tfjs-core';
import { PiqConfigError, PiqInputError } from '../errors';
import { checkFiniteArray, describe, oneOf, optionKeys, positiveInt, shapeStr } from '../internal/checks';
import { makeWindow, RealDft, windowOffset } from './dft';
import {
  LOG_POWER_EPS,
  resolveSpectrogramOptions,
  SPECTROGRAM_KEYS,
  type SpectrogramCompression,
  type SpectrogramConfig,
  type SpectrogramOptions,
} from './spectrogram-config';

/**
 * Options of {@link invertSpectrogram}: the settings the spectrogram was computed with (the
 * `method` field is ignored) plus the output length.
 *
 * @category Audio
 */
export interface InvertSpectrogramOptions extends SpectrogramOptions {
  /**
   * Samples per output example; the signal is trimmed or zero-padded to it, like torch.istft's
   * `length`. Pass {@link SpectrogramResult.numSamples} to get the original length back.
   * @defaultValue (frames − 1)·hop + nFFT − 2·floor(nFFT / 2) when `center`, else nFFT + (frames − 1)·hop
   */
  length?: number;
}

const INVERT_KEYS = optionKeys<InvertSpectrogramOptions>({ ...spectrogramKeyFlags(), length: true });

/**
 * How {@link interpretationToWaveform} turns a mask `M` and a compressed spectrogram `X` into a
 * magnitude: `'reference'` decompresses the masked spectrogram, `|Y| = expm1(M ⊙ X)` for log1p
 * (what the PIQ reference recipe does); `'linear'` masks the linear magnitude,
 * `|Y| = M ⊙ expm1(X) = M ⊙ |STFT|`.
 *
 * @category Audio
 */
export type InterpretationAudioMode = 'reference' | 'linear';

/**
 * Options of {@link interpretationToWaveform}.
 *
 * @category Audio
 */
export interface InterpretationToWaveformOptions extends InvertSpectrogramOptions {
  /** How the mask is applied; see {@link InterpretationAudioMode}. @defaultValue 'reference' */
  mode?: InterpretationAudioMode;
}

const TO_WAVEFORM_KEYS = optionKeys<InterpretationToWaveformOptions>({ ...spectrogramKeyFlags(), length: true, mode: true });

/**
 * Defaults of {@link InterpretationToWaveformOptions} beyond the spectrogram settings.
 */
export const DEFAULT_INTERPRETATION_TO_WAVEFORM_OPTIONS = Object.freeze({ mode: 'reference' } as const);

const MODES: readonly InterpretationAudioMode[] = ['reference', 'linear'];
/** torch.istft refuses a window envelope below this; we output 0 there instead. */
const ENVELOPE_FLOOR = 1e-11;

interface SpectrumData {
  data: Float32Array;
  batch: number;
  frames: number;
  bins: number;
  shape: number[];
}

/** Reads a [frames, bins], [batch, frames, bins] or [batch, frames, bins, 1] float32 tensor. */
function readSpectrum(owner: string, name: string, value: unknown): SpectrumData {
  if (!(value instanceof tf.Tensor)) {
    throw new PiqInputError(`${owner}: '${name}' must be a float32 tf.Tensor [batch, frames, bins], got ${describe(value)}.`);
  }
  if (value.isDisposed) throw new PiqInputError(`${owner}: '${name}' is a disposed tensor. Pass a live tensor.`);
  if (value.dtype !== 'float32') {
    throw new PiqInputError(`${owner}: '${name}' must have dtype float32, got ${value.dtype}. Cast it with tf.cast(x, 'float32').`);
  }
  const s = value.shape;
  let dims: [number, number, number];
  if (value.rank === 2) dims = [1, s[0] as number, s[1] as number];
  else if (value.rank === 3) dims = [s[0] as number, s[1] as number, s[2] as number];
  else if (value.rank === 4 && s[3] === 1) dims = [s[0] as number, s[1] as number, s[2] as number];
  else {
    throw new PiqInputError(
      `${owner}: '${name}' must have shape [batch, frames, bins] (or [batch, frames, bins, 1] or [frames, bins]), got ${shapeStr(s)}.`,
    );
  }
  const [batch, frames, bins] = dims;
  if (batch < 1 || frames < 1) {
    throw new PiqInputError(`${owner}: '${name}' must have at least one example and one frame, got shape ${shapeStr(s)}.`);
  }
  const data = value.dataSync() as Float32Array;
  checkFiniteArray(owner, name, data);
  return { data, batch, frames, bins, shape: dims };
}

function checkBins(owner: string, name: string, spec: SpectrumData, config: SpectrogramConfig): void {
  const expected = Math.floor(config.nFFT / 2) + 1;
  if (spec.bins !== expected) {
    throw new PiqInputError(
      `${owner}: '${name}' must have floor(nFFT / 2) + 1 = ${expected} bins on its last axis for nFFT=${config.nFFT}, got ${spec.bins} (shape ${shapeStr(spec.shape)}). Pass the nFFT the spectrogram was computed with.`,
    );
  }
}

function checkSameShape(owner: string, name: string, a: SpectrumData, refName: string, ref: SpectrumData): void {
  if (a.batch !== ref.batch || a.frames !== ref.frames || a.bins !== ref.bins) {
    throw new PiqInputError(
      `${owner}: '${name}' must have the same [batch, frames, bins] as '${refName}' ${shapeStr(ref.shape)}, got ${shapeStr(a.shape)}.`,
    );
  }
}

/** The spectrogram's option names as flags, for the key lists of the options that extend them. */
function spectrogramKeyFlags(): Record<keyof Required<SpectrogramOptions>, true> {
  return Object.fromEntries(SPECTROGRAM_KEYS.map((k) => [k, true])) as Record<keyof Required<SpectrogramOptions>, true>;
}

function resolveInverse(owner: string, options: InvertSpectrogramOptions, keys: readonly string[]): { config: SpectrogramConfig; length: number | undefined } {
  const config = resolveSpectrogramOptions(options, owner, keys);
  if (config.hop > config.winLength) {
    throw new PiqConfigError(
      `${owner}: 'hop' must be <= winLength (${config.winLength}) to invert (frames must overlap), got ${config.hop}.`,
    );
  }
  const length = options.length === undefined ? undefined : positiveInt(owner, 'length', options.length);
  return { config, length };
}

/** Linear magnitude from a compressed value (inverse of the spectrogram's compression). */
function decompress(v: number, compression: SpectrogramCompression): number {
  if (compression === 'log1p') return Math.expm1(v);
  if (compression === 'logPower') return Math.sqrt(Math.max(10 ** (v / 10) - LOG_POWER_EPS, 0));
  return v;
}

/** Weighted overlap-add inverse STFT of linear magnitude + phase; returns [batch, length]. */
function istft(
  magnitude: Float64Array,
  phase: Float32Array,
  batch: number,
  frames: number,
  config: SpectrogramConfig,
  length: number | undefined,
): tf.Tensor2D {
  const { nFFT, winLength, hop, center } = config;
  const bins = Math.floor(nFFT / 2) + 1;
  const pad = center ? Math.floor(nFFT / 2) : 0;
  const off = windowOffset(nFFT, winLength);
  const w = makeWindow(config.window, winLength);
  const total = nFFT + hop * (frames - 1);
  const outLen = length ?? Math.max(0, total - 2 * pad);
  // Σ_t w²[n − t·hop]: dividing by it undoes analysis + synthesis windowing (torch.istft).
  const envelope = new Float64Array(total);
  for (let t = 0; t < frames; t++) {
    for (let m = 0; m < winLength; m++) {
      const j = t * hop + off + m;
      envelope[j] = (envelope[j] as number) + (w[m] as number) ** 2;
    }
  }
  const dft = new RealDft(nFFT);
  const re = new Float64Array(bins);
  const im = new Float64Array(bins);
  const frame = new Float64Array(nFFT);
  const y = new Float64Array(total);
  const out = new Float32Array(batch * outLen);
  for (let b = 0; b < batch; b++) {
    y.fill(0);
    for (let t = 0; t < frames; t++) {
      const row = (b * frames + t) * bins;
      for (let k = 0; k < bins; k++) {
        const m = magnitude[row + k] as number;
        const p = phase[row + k] as number;
        re[k] = m * Math.cos(p);
        im[k] = m * Math.sin(p);
      }
      dft.inverse(re, im, off, winLength, frame);
      const start = t * hop + off;
      for (let m = 0; m < winLength; m++) {
        y[start + m] = (y[start + m] as number) + (frame[off + m] as number) * (w[m] as number);
      }
    }
    for (let i = 0; i < outLen; i++) {
      const j = pad + i;
      const e = j < total ? (envelope[j] as number) : 0;
      out[b * outLen + i] = e > ENVELOPE_FLOOR ? (y[j] as number) / e : 0;
    }
  }
  return tf.tensor2d(out, [batch, outLen]);
}

/**
 * Inverts a (compressed) magnitude spectrogram with a given phase back to a waveform by
 * weighted overlap-add, like torch.istft: each frame is inverse-transformed, multiplied by the
 * window, overlap-added, and divided by the summed squared window. With the magnitude and phase
 * of {@link spectrogram} and `length: numSamples` it reproduces the waveform (max abs error
 * below 1e-5 in the tests, edges included, for `center: true`).
 *
 * The magnitude is decompressed according to `compression` first (expm1 for `'log1p'`).
 * Samples no window covers (possible only with `center: false` and a window shorter than `nFFT`
 * or one that is zero at its ends) come out as 0; torch.istft raises an error there instead.
 * Computed in float64 on the CPU side; works on every backend.
 *
 * @param magnitude - `[batch, frames, bins]` (also `[batch, frames, bins, 1]` or `[frames, bins]`), float32.
 * @param phase - Same shape as `magnitude`, radians.
 * @param options - The settings used by {@link spectrogram} (e.g. its `config`), plus `length`.
 * @returns A new `Tensor2D` `[batch, samples]` owned by the caller (read it with `await t.data()`).
 * @throws PiqInputError for mismatched or non-finite inputs or a wrong number of bins; PiqConfigError for invalid options.
 *
 * @example
 * ```ts
 * import { spectrogram, invertSpectrogram } from 'piq-tfjs/audio';
 * const x = Float32Array.from({ length: 4000 }, (_, i) => Math.sin(i / 10));
 * const s = spectrogram(x, { nFFT: 256, hop: 64 });
 * const y = invertSpectrogram(s.magnitude, s.phase, { ...s.config, length: s.numSamples });
 * console.log(y.shape); // [1, 4000], equal to x within 1e-5
 * s.magnitude.dispose(); s.phase.dispose(); y.dispose();
 * ```
 * @category Audio
 */
export function invertSpectrogram(magnitude: tf.Tensor, phase: tf.Tensor, options: InvertSpectrogramOptions = {}): tf.Tensor2D {
  const owner = 'invertSpectrogram';
  const { config, length } = resolveInverse(owner, options, INVERT_KEYS);
  const mag = readSpectrum(owner, 'magnitude', magnitude);
  checkBins(owner, 'magnitude', mag, config);
  const ph = readSpectrum(owner, 'phase', phase);
  checkSameShape(owner, 'phase', ph, 'magnitude', mag);
  const linear = new Float64Array(mag.data.length);
  for (let i = 0; i < linear.length; i++) linear[i] = decompress(mag.data[i] as number, config.compression);
  return istft(linear, ph.data, mag.batch, mag.frames, config, length);
}

/**
 * Turns a PIQ audio interpretation (a mask over the spectrogram) into a waveform you can listen
 * to: applies the mask, attaches the ORIGINAL phase and inverts the STFT.
 *
 * - `mode: 'reference'` (default): `|Y| = expm1(M ⊙ X)`, exactly the PIQ reference recipe, with
 *   `X` the log1p magnitude. The mask acts on log-magnitudes, so it attenuates more gently than
 *   a linear mask.
 * - `mode: 'linear'`: `|Y| = M ⊙ expm1(X) = M ⊙ |STFT|`, a plain linear mask.
 *
 * With another `compression`, expm1 is replaced by that compression's inverse. A mask of ones
 * reproduces the input waveform in both modes.
 *
 * @param mask - `[batch, frames, bins]` or `[batch, frames, bins, 1]` (the decoder's output), usually in [0, 1].
 * @param logMagnitude - The spectrogram's compressed magnitude `X`, same frames and bins.
 * @param phase - The spectrogram's phase, same shape as `logMagnitude`.
 * @param options - The spectrogram settings, `length` and `mode`.
 * @returns A new `Tensor2D` `[batch, samples]` owned by the caller; encode it with {@link encodeWav}.
 * @throws PiqInputError for mismatched shapes or non-finite values; PiqConfigError for invalid options.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { spectrogram, interpretationToWaveform, ESC50_SPECTROGRAM_PRESET } from 'piq-tfjs/audio';
 * const s = spectrogram(new Float32Array(16000).map(() => Math.random() - 0.5), ESC50_SPECTROGRAM_PRESET);
 * const mask = tf.onesLike(s.magnitude); // a real mask comes from the interpreter
 * const audio = interpretationToWaveform(mask, s.magnitude, s.phase, { ...s.config, length: s.numSamples, mode: 'reference' });
 * console.log(audio.shape); // [1, 16000]
 * tf.dispose([s.magnitude, s.phase, mask, audio]);
 * ```
 * @category Audio
 */
export function interpretationToWaveform(
  mask: tf.Tensor,
  logMagnitude: tf.Tensor,
  phase: tf.Tensor,
  options: InterpretationToWaveformOptions = {},
): tf.Tensor2D {
  const owner = 'interpretationToWaveform';
  const { config, length } = resolveInverse(owner, options, TO_WAVEFORM_KEYS);
  const mode = oneOf(owner, 'mode', options.mode ?? DEFAULT_INTERPRETATION_TO_WAVEFORM_OPTIONS.mode, MODES);
  const x = readSpectrum(owner, 'logMagnitude', logMagnitude);
  checkBins(owner, 'logMagnitude', x, config);
  const m = readSpectrum(owner, 'mask', mask);
  checkSameShape(owner, 'mask', m, 'logMagnitude', x);
  const ph = readSpectrum(owner, 'phase', phase);
  checkSameShape(owner, 'phase', ph, 'logMagnitude', x);
  const c = config.compression;
  const linear = new Float64Array(x.data.length);
  for (let i = 0; i < linear.length; i++) {
    const mi = m.data[i] as number;
    const xi = x.data[i] as number;
    linear[i] = mode === 'reference' ? decompress(mi * xi, c) : mi * decompress(xi, c);
  }
  return istft(linear, ph.data, x.batch, x.frames, config, length);
}
