// Settings of the short-time Fourier transform: options, defaults, the reference preset, their
// one resolution, and the frame arithmetic shared by the forward and inverse transforms.
import type * as tf from '@tensorflow/tfjs-core';
import { PiqConfigError, PiqInputError } from '../errors';
import { boolean, describe, finiteNumber, oneOf, optionKeys, optionsObject, positiveInt } from '../internal/checks';
import { isPowerOfTwo, type SpectrogramWindow } from './dft';

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
  /**
   * The sample rate, in Hz, the settings are meant for, as presets such as
   * {@link ESC50_SPECTROGRAM_PRESET} carry it. Informational: checked to be a positive number but
   * not used (the spectrogram does not resample; call `resample` to bring audio to this rate).
   * @defaultValue undefined
   */
  sampleRate?: number;
}

/** The keys of {@link SpectrogramOptions}. */
export const SPECTROGRAM_KEYS = optionKeys<SpectrogramOptions>({ nFFT: true, winLength: true, hop: true, window: true, center: true, padMode: true, compression: true, method: true, sampleRate: true });

/**
 * Fully resolved spectrogram settings: every {@link SpectrogramOptions} field filled in, as
 * {@link SpectrogramResult} carries them (pass them to the inverse functions).
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
 * import { spectrogram, ESC50_SPECTROGRAM_PRESET } from 'piq-tfjs/audio';
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
 */
export function resolveSpectrogramOptions(options: SpectrogramOptions = {}, owner = 'resolveSpectrogramOptions', keys: readonly string[] = SPECTROGRAM_KEYS): SpectrogramConfig {
  if (options === null || typeof options !== 'object') {
    throw new PiqConfigError(`${owner}: 'options' must be an object, got ${describe(options)}.`);
  }
  optionsObject(owner, options, keys);
  if (options.sampleRate !== undefined) finiteNumber(owner, 'sampleRate', options.sampleRate, { min: 0, minExclusive: true });
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
 * import { spectrogramShape, ESC50_SPECTROGRAM_PRESET } from 'piq-tfjs/audio';
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

/** Throws when a waveform is too short for `config`. */
export function checkLength(owner: string, numSamples: number, config: SpectrogramConfig): void {
  const min = minSamples(config);
  if (numSamples < min) {
    const how = config.center ? `center=true with padMode '${config.padMode}'` : 'center=false';
    throw new PiqInputError(
      `${owner}: 'waveform' must have at least ${min} samples for nFFT=${config.nFFT} and ${how}, got ${numSamples}. Pad the audio or use a smaller nFFT.`,
    );
  }
}

