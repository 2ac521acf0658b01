// Short-time Fourier transform front end: waveform -> compressed magnitude + phase spectrogram.
// Two interchangeable implementations: 'fft' (fft.js in float64 on the CPU side, works on every
// backend because it only reads the data back) and 'dft-matmul' (a windowed DFT basis applied
// with one tfjs matMul; pure tfjs ops, so it also runs on backends without an FFT kernel).
import * as tf from '@tensorflow/tfjs-core';
import { PiqConfigError, PiqInputError } from '../errors';
import { boolean, checkFiniteArray, describe, oneOf, positiveInt, shapeStr } from '../internal/checks';
import { assertFinite } from '../internal/tensor-checks';
import { isPowerOfTwo, makeWindow, RealDft, windowedDftBasis, windowOffset, type SpectrogramWindow } from './dft';

export type { SpectrogramWindow } from './dft';

/**
 * How the STFT magnitude is compressed before it is returned.
 * - `'log1p'`: `log(1 + |X|)`, the PIQ reference (`X = log1p|STFT|`).
 * - `'logPower'`: `10·log10(|X|² + 1e-10)`, decibels of power.
 * - `'none'`: the linear magnitude `|X|`.
 *
 * @category Audio
 */
export type SpectrogramCompression = 'log1p' | 'logPower' | 'none';

/**
 * Which implementation computes the transform: `'fft'` (radix-4 FFT from fft.js, in float64 on
 * the CPU side) or `'dft-matmul'` (one tfjs matMul against a precomputed windowed DFT basis).
 *
 * @category Audio
 */
export type SpectrogramMethod = 'fft' | 'dft-matmul';

/**
 * How `center: true` pads the signal by `floor(nFFT / 2)` samples on both sides:
 * `'reflect'` (torch.stft's default) or `'constant'` (zeros; SpeechBrain's STFT default, used by
 * the PIQ reference recipe).
 *
 * @category Audio
 */
export type SpectrogramPadMode = 'reflect' | 'constant';

/**
 * A waveform accepted by {@link spectrogram}: one clip as a `Float32Array` or `Tensor1D`
 * `[samples]`, or a batch as a `Tensor2D` `[batch, samples]`. Tensors must be float32.
 *
 * @category Audio
 */
export type Waveform = Float32Array | tf.Tensor1D | tf.Tensor2D;

const WINDOWS: readonly SpectrogramWindow[] = ['hamming', 'hann', 'rectangular'];
const COMPRESSIONS: readonly SpectrogramCompression[] = ['log1p', 'logPower', 'none'];
const METHODS: readonly SpectrogramMethod[] = ['fft', 'dft-matmul'];
const PAD_MODES: readonly SpectrogramPadMode[] = ['reflect', 'constant'];

/**
 * Power floor of the `'logPower'` compression, `10·log10(|X|² + LOG_POWER_EPS)`, so silence
 * maps to −100 dB instead of −Infinity.
 *
 * @example
 * ```ts
 * import { LOG_POWER_EPS } from 'piq-tfjs';
 * console.log(10 * Math.log10(LOG_POWER_EPS)); // -100
 * ```
 * @category Audio
 */
export const LOG_POWER_EPS = 1e-10;

/**
 * Options of {@link spectrogram} (and of the inverse functions, which need the same settings).
 *
 * @category Audio
 */
export interface SpectrogramOptions {
  /** FFT size in samples; the spectrogram has `floor(nFFT / 2) + 1` frequency bins. @defaultValue 1024 */
  nFFT?: number;
  /**
   * Window length in samples, at most `nFFT`; a shorter window is zero-padded and centred in the
   * frame (offset `floor((nFFT − winLength) / 2)`), like torch.stft.
   * @defaultValue nFFT
   */
  winLength?: number;
  /** Hop between frame starts, in samples. @defaultValue Math.floor(winLength / 4) (torch.stft's default) */
  hop?: number;
  /** Window shape; Hamming and Hann are periodic, like torch's defaults. @defaultValue 'hamming' */
  window?: SpectrogramWindow;
  /** Pad `floor(nFFT / 2)` samples on both sides so frame t is centred on sample t·hop. @defaultValue true */
  center?: boolean;
  /** Padding used when `center` is true. @defaultValue 'reflect' */
  padMode?: SpectrogramPadMode;
  /** Compression applied to the magnitude. @defaultValue 'log1p' */
  compression?: SpectrogramCompression;
  /**
   * Transform implementation. `'fft'` is the default: it measured faster on both the cpu and
   * the wasm backend (see docs/audio.md). When the default applies and `nFFT` is not a power of
   * two, `'dft-matmul'` is used instead; an explicit `'fft'` with such an `nFFT` falls back to a
   * direct (slower) DFT sum in JS.
   * @defaultValue 'fft'
   */
  method?: SpectrogramMethod;
}

/**
 * Fully resolved spectrogram settings (what {@link resolveSpectrogramOptions} returns and
 * {@link SpectrogramResult} carries).
 *
 * @category Audio
 */
export interface SpectrogramConfig {
  nFFT: number;
  winLength: number;
  hop: number;
  window: SpectrogramWindow;
  center: boolean;
  padMode: SpectrogramPadMode;
  compression: SpectrogramCompression;
  method: SpectrogramMethod;
}

/**
 * Defaults of {@link SpectrogramOptions}. `winLength` defaults to `nFFT` and `hop` to
 * `Math.floor(winLength / 4)`, so they are not listed.
 *
 * @example
 * ```ts
 * import { DEFAULT_SPECTROGRAM_OPTIONS } from 'piq-tfjs';
 * console.log(DEFAULT_SPECTROGRAM_OPTIONS.nFFT); // 1024
 * ```
 * @category Audio
 */
export const DEFAULT_SPECTROGRAM_OPTIONS = Object.freeze({
  nFFT: 1024,
  window: 'hamming',
  center: true,
  padMode: 'reflect',
  compression: 'log1p',
  method: 'fft',
} as const satisfies Omit<SpectrogramConfig, 'winLength' | 'hop'>);

/**
 * The PIQ reference audio settings (SpeechBrain ESC-50 recipe): 16 kHz audio, `n_fft` 1024,
 * window 23.2199 ms = 372 samples, hop 11.6099 ms = 186 samples, periodic Hamming window,
 * centred frames with zero padding (SpeechBrain's STFT uses `pad_mode="constant"`), and
 * `X = log1p|STFT|`. A 5 s clip gives 431 frames × 513 bins. `sampleRate` is informative: resample
 * your audio to it first.
 *
 * @example
 * ```ts
 * import { spectrogram, ESC50_SPECTROGRAM_PRESET } from 'piq-tfjs';
 * const { magnitude, phase } = spectrogram(new Float32Array(80000), ESC50_SPECTROGRAM_PRESET);
 * console.log(magnitude.shape); // [1, 431, 513]
 * magnitude.dispose(); phase.dispose();
 * ```
 * @category Audio
 */
export const ESC50_SPECTROGRAM_PRESET = Object.freeze({
  sampleRate: 16000,
  nFFT: 1024,
  winLength: 372,
  hop: 186,
  window: 'hamming',
  center: true,
  padMode: 'constant',
  compression: 'log1p',
} as const satisfies SpectrogramOptions & { sampleRate: number });

/**
 * Result of {@link spectrogram}. The caller owns (and must dispose) both tensors.
 *
 * @category Audio
 */
export interface SpectrogramResult {
  /** Compressed magnitude, `[batch, frames, bins]` (frames = time, bins = frequency, DC first). */
  magnitude: tf.Tensor3D;
  /** Phase in radians in [−π, π], `atan2(im, re)`, `[batch, frames, bins]`. */
  phase: tf.Tensor3D;
  /** The resolved settings; pass them (with `length: numSamples`) to the inverse functions. */
  config: SpectrogramConfig;
  /** Samples per example of the input waveform. */
  numSamples: number;
}

/**
 * Fills the defaults of {@link SpectrogramOptions} with `??`, validates every field once and
 * returns the resolved {@link SpectrogramConfig}.
 *
 * @example
 * ```ts
 * import { resolveSpectrogramOptions } from 'piq-tfjs';
 * const cfg = resolveSpectrogramOptions({ nFFT: 512 });
 * console.log(cfg.winLength, cfg.hop, cfg.method); // 512 128 'fft'
 * ```
 * @category Audio
 */
export function resolveSpectrogramOptions(options: SpectrogramOptions = {}, owner = 'resolveSpectrogramOptions'): SpectrogramConfig {
  if (options === null || typeof options !== 'object') {
    throw new PiqConfigError(`${owner}: 'options' must be an object, got ${describe(options)}.`);
  }
  const d = DEFAULT_SPECTROGRAM_OPTIONS;
  const nFFT = positiveInt(owner, 'nFFT', options.nFFT ?? d.nFFT);
  const winLength = positiveInt(owner, 'winLength', options.winLength ?? nFFT);
  if (winLength > nFFT) {
    throw new PiqConfigError(
      `${owner}: 'winLength' must be <= nFFT (${nFFT}), got ${winLength}. Use a shorter window or a larger nFFT.`,
    );
  }
  const hop = positiveInt(owner, 'hop', options.hop ?? Math.max(1, Math.floor(winLength / 4)));
  const window = oneOf(owner, 'window', options.window ?? d.window, WINDOWS);
  const center = boolean(owner, 'center', options.center ?? d.center);
  const padMode = oneOf(owner, 'padMode', options.padMode ?? d.padMode, PAD_MODES);
  const compression = oneOf(owner, 'compression', options.compression ?? d.compression, COMPRESSIONS);
  let method: SpectrogramMethod;
  if (options.method === undefined) {
    method = d.method === 'fft' && !isPowerOfTwo(nFFT) ? 'dft-matmul' : d.method;
  } else {
    method = oneOf(owner, 'method', options.method, METHODS);
  }
  return { nFFT, winLength, hop, window, center, padMode, compression, method };
}

/** @internal Fewest samples a waveform needs under `config` (reflect padding needs more than nFFT/2). */
export function minSamples(config: SpectrogramConfig): number {
  if (!config.center) return config.nFFT;
  return config.padMode === 'reflect' ? Math.floor(config.nFFT / 2) + 1 : 1;
}

/**
 * Returns the `[frames, bins]` a spectrogram of `numSamples` samples will have under `options`,
 * without computing it (useful to size a decoder).
 *
 * @example
 * ```ts
 * import { spectrogramShape, ESC50_SPECTROGRAM_PRESET } from 'piq-tfjs';
 * console.log(spectrogramShape(80000, ESC50_SPECTROGRAM_PRESET)); // { frames: 431, bins: 513 }
 * ```
 * @category Audio
 */
export function spectrogramShape(numSamples: number, options: SpectrogramOptions = {}): { frames: number; bins: number } {
  const owner = 'spectrogramShape';
  const config = resolveSpectrogramOptions(options, owner);
  positiveInt(owner, 'numSamples', numSamples);
  checkLength(owner, numSamples, config);
  return { frames: frameCount(numSamples, config), bins: Math.floor(config.nFFT / 2) + 1 };
}

/** @internal Frames of a `numSamples` signal under `config`. */
export function frameCount(numSamples: number, config: SpectrogramConfig): number {
  const pad = config.center ? Math.floor(config.nFFT / 2) : 0;
  return 1 + Math.floor((numSamples + 2 * pad - config.nFFT) / config.hop);
}

function checkLength(owner: string, numSamples: number, config: SpectrogramConfig): void {
  const min = minSamples(config);
  if (numSamples < min) {
    const how = config.center ? `center=true with padMode '${config.padMode}'` : 'center=false';
    throw new PiqInputError(
      `${owner}: 'waveform' must have at least ${min} samples for nFFT=${config.nFFT} and ${how}, got ${numSamples}. Pad the audio or use a smaller nFFT.`,
    );
  }
}

/** Validates the waveform argument and returns its [batch, samples] layout. */
function waveformLayout(owner: string, waveform: unknown): { batch: number; samples: number } {
  if (waveform instanceof Float32Array) return { batch: 1, samples: waveform.length };
  if (!(waveform instanceof tf.Tensor)) {
    throw new PiqInputError(
      `${owner}: 'waveform' must be a Float32Array or a float32 tf.Tensor1D [samples] / Tensor2D [batch, samples], got ${describe(waveform)}.`,
    );
  }
  if (waveform.isDisposed) throw new PiqInputError(`${owner}: 'waveform' is a disposed tensor. Pass a live tensor.`);
  if (waveform.dtype !== 'float32') {
    throw new PiqInputError(`${owner}: 'waveform' must have dtype float32, got ${waveform.dtype}. Cast it with tf.cast(x, 'float32').`);
  }
  if (waveform.rank === 1) return { batch: 1, samples: waveform.shape[0] as number };
  if (waveform.rank === 2) {
    const [batch, samples] = waveform.shape as [number, number];
    if (batch < 1) throw new PiqInputError(`${owner}: 'waveform' must have batch >= 1, got shape ${shapeStr(waveform.shape)}.`);
    return { batch, samples };
  }
  throw new PiqInputError(
    `${owner}: 'waveform' must have rank 1 [samples] or 2 [batch, samples], got rank ${waveform.rank} with shape ${shapeStr(waveform.shape)}. Downmix channels first (downmixToMono).`,
  );
}

const basisCache = new Map<string, Float32Array>();
function cachedBasis(config: SpectrogramConfig): Float32Array {
  const key = `${config.nFFT}/${config.winLength}/${config.window}`;
  let basis = basisCache.get(key);
  if (!basis) {
    basis = windowedDftBasis(config.nFFT, config.winLength, config.window);
    if (basisCache.size >= 8) basisCache.clear();
    basisCache.set(key, basis);
  }
  return basis;
}

function compressValue(mag: number, compression: SpectrogramCompression): number {
  if (compression === 'log1p') return Math.log1p(mag);
  if (compression === 'logPower') return 10 * Math.log10(mag * mag + LOG_POWER_EPS);
  return mag;
}

/** 'fft' route: float64 STFT in JS over the waveform's samples, [batch * samples] row-major. */
function stftFft(data: Float32Array, batch: number, samples: number, config: SpectrogramConfig): [Float32Array, Float32Array, number] {
  const { nFFT, winLength, hop, center, padMode, compression } = config;
  const pad = center ? Math.floor(nFFT / 2) : 0;
  const frames = frameCount(samples, config);
  const bins = Math.floor(nFFT / 2) + 1;
  const off = windowOffset(nFFT, winLength);
  const w = makeWindow(config.window, winLength);
  const dft = new RealDft(nFFT);
  const frame = new Float64Array(nFFT);
  const re = new Float64Array(bins);
  const im = new Float64Array(bins);
  const mag = new Float32Array(batch * frames * bins);
  const phase = new Float32Array(batch * frames * bins);
  const reflect = padMode === 'reflect';
  for (let b = 0; b < batch; b++) {
    const base = b * samples;
    for (let t = 0; t < frames; t++) {
      const start = t * hop - pad + off; // index in the unpadded signal of window sample 0
      for (let m = 0; m < winLength; m++) {
        let i = start + m;
        let v = 0;
        if (i >= 0 && i < samples) v = data[base + i] as number;
        else if (reflect) {
          i = i < 0 ? -i : 2 * (samples - 1) - i;
          v = data[base + i] as number;
        }
        frame[off + m] = v * (w[m] as number);
      }
      dft.forward(frame, off, winLength, re, im);
      const row = (b * frames + t) * bins;
      for (let k = 0; k < bins; k++) {
        const r = re[k] as number;
        const q = im[k] as number;
        mag[row + k] = compressValue(Math.sqrt(r * r + q * q), compression);
        phase[row + k] = Math.atan2(q, r);
      }
    }
  }
  return [mag, phase, frames];
}

/** 'dft-matmul' route: pad, gather frames, one matMul against the windowed basis. */
function stftMatMul(x: tf.Tensor2D, config: SpectrogramConfig, frames: number): [tf.Tensor3D, tf.Tensor3D] {
  const { nFFT, winLength, hop, center, padMode, compression } = config;
  const [batch] = x.shape;
  const bins = Math.floor(nFFT / 2) + 1;
  const pad = center ? Math.floor(nFFT / 2) : 0;
  const off = windowOffset(nFFT, winLength);
  return tf.tidy(() => {
    let padded: tf.Tensor2D = x;
    if (pad > 0) {
      padded = padMode === 'reflect' ? tf.mirrorPad(x, [[0, 0], [pad, pad]], 'reflect') : tf.pad(x, [[0, 0], [pad, pad]]);
    }
    // Only the winLength samples under the (zero-padded) window contribute, so frames are
    // gathered at that length and the basis rows carry the window and the frame offset.
    const idx = new Int32Array(frames * winLength);
    for (let t = 0; t < frames; t++) for (let m = 0; m < winLength; m++) idx[t * winLength + m] = t * hop + off + m;
    const framed = tf.gather(padded, tf.tensor2d(idx, [frames, winLength], 'int32'), 1);
    const basis = tf.tensor2d(cachedBasis(config), [winLength, 2 * bins]);
    const spec = tf.matMul(tf.reshape(framed, [batch * frames, winLength]), basis);
    const re = tf.slice(spec, [0, 0], [batch * frames, bins]);
    const im = tf.slice(spec, [0, bins], [batch * frames, bins]);
    const power = tf.add(tf.square(re), tf.square(im));
    let mag: tf.Tensor;
    if (compression === 'log1p') mag = tf.log1p(tf.sqrt(power));
    else if (compression === 'logPower') mag = tf.mul(tf.log(tf.add(power, LOG_POWER_EPS)), 10 / Math.LN10);
    else mag = tf.sqrt(power);
    const phase = tf.atan2(im, re);
    return [tf.reshape(mag, [batch, frames, bins]), tf.reshape(phase, [batch, frames, bins])] as [tf.Tensor3D, tf.Tensor3D];
  });
}

/**
 * Computes the short-time Fourier transform of a waveform and returns its compressed magnitude
 * and its phase, each `[batch, frames, bins]` with `bins = floor(nFFT / 2) + 1`.
 *
 * Matches torch.stft (`onesided`, unnormalised, periodic window, window centred in the frame)
 * followed by the chosen compression; with {@link ESC50_SPECTROGRAM_PRESET} it matches the
 * PIQ reference `X = log1p|STFT|`. Works on every backend (no FFT kernel needed). The `'fft'`
 * method reads tensor input back synchronously. A 2-D CNN expects `[batch, frames, bins, 1]`:
 * use {@link toSpectrogramImage}.
 *
 * @param waveform - `Float32Array` or float32 `Tensor1D` `[samples]` (batch 1), or `Tensor2D` `[batch, samples]`.
 * @param options - STFT settings; see {@link SpectrogramOptions}.
 * @returns New tensors owned by the caller, plus the resolved config.
 * @throws PiqConfigError for invalid options; PiqInputError for a bad, too short or non-finite waveform.
 *
 * @example
 * ```ts
 * import { spectrogram } from 'piq-tfjs';
 * const sr = 8000;
 * const tone = Float32Array.from({ length: sr }, (_, i) => Math.sin((2 * Math.PI * 1000 * i) / sr));
 * const { magnitude, phase } = spectrogram(tone, { nFFT: 256, hop: 64 });
 * console.log(magnitude.shape); // [1, 126, 129]; the peak is in bin 1000 / (8000 / 256) = 32
 * magnitude.dispose(); phase.dispose();
 * ```
 * @category Audio
 */
export function spectrogram(waveform: Waveform, options: SpectrogramOptions = {}): SpectrogramResult {
  const owner = 'spectrogram';
  const config = resolveSpectrogramOptions(options, owner);
  const { batch, samples } = waveformLayout(owner, waveform);
  checkLength(owner, samples, config);
  const bins = Math.floor(config.nFFT / 2) + 1;

  if (config.method === 'fft') {
    const data = waveform instanceof Float32Array ? waveform : (waveform.dataSync() as Float32Array);
    checkFiniteArray(owner, 'waveform', data);
    const [mag, phase, frames] = stftFft(data, batch, samples, config);
    return {
      magnitude: tf.tensor3d(mag, [batch, frames, bins]),
      phase: tf.tensor3d(phase, [batch, frames, bins]),
      config,
      numSamples: samples,
    };
  }

  if (waveform instanceof Float32Array) checkFiniteArray(owner, 'waveform', waveform);
  else assertFinite(owner, 'waveform', waveform);
  const frames = frameCount(samples, config);
  const [magnitude, phase] = tf.tidy(() => {
    const x2 = waveform instanceof Float32Array ? tf.tensor2d(waveform, [1, samples]) : tf.reshape(waveform, [batch, samples]) as tf.Tensor2D;
    return stftMatMul(x2, config, frames);
  });
  return { magnitude, phase, config, numSamples: samples };
}

/**
 * Adds the trailing channel axis a 2-D CNN expects: `[batch, frames, bins]` →
 * `[batch, frames, bins, 1]` (time along height, frequency along width). Returns a new tensor;
 * the input is not disposed.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { toSpectrogramImage } from 'piq-tfjs';
 * const img = toSpectrogramImage(tf.zeros([2, 431, 513]) as tf.Tensor3D);
 * console.log(img.shape); // [2, 431, 513, 1]
 * ```
 * @category Audio
 */
export function toSpectrogramImage(spectrogramTensor: tf.Tensor3D): tf.Tensor4D {
  const owner = 'toSpectrogramImage';
  if (!(spectrogramTensor instanceof tf.Tensor)) {
    throw new PiqInputError(`${owner}: 'spectrogramTensor' must be a tf.Tensor3D [batch, frames, bins], got ${describe(spectrogramTensor)}.`);
  }
  if (spectrogramTensor.isDisposed) throw new PiqInputError(`${owner}: 'spectrogramTensor' is a disposed tensor. Pass a live tensor.`);
  if (spectrogramTensor.rank !== 3) {
    throw new PiqInputError(
      `${owner}: 'spectrogramTensor' must have rank 3 [batch, frames, bins], got rank ${spectrogramTensor.rank} with shape ${shapeStr(spectrogramTensor.shape)}.`,
    );
  }
  return tf.expandDims(spectrogramTensor, -1) as tf.Tensor4D;
}
