// Short-time Fourier transform front end: waveform -> compressed magnitude + phase spectrogram.
// Two interchangeable implementations: 'fft' (fft.js in float64 on the CPU side, works on every
// backend because it only reads the data back) and 'dft-matmul' (a windowed DFT basis applied
// with one tfjs matMul; pure tfjs ops, so it also runs on backends without an FFT kernel).
import * as tf from '@tensorflow/tfjs-core';
import { PiqInputError } from '../errors';
import { checkFiniteArray, describe, shapeStr } from '../internal/checks';
import { assertFinite } from '../internal/tensor-checks';
import { makeWindow, RealDft, windowedDftBasis, windowOffset } from './dft';
import {
  checkLength,
  frameCount,
  LOG_POWER_EPS,
  resolveSpectrogramOptions,
  type SpectrogramCompression,
  type SpectrogramConfig,
  type SpectrogramOptions,
  type SpectrogramResult,
  type Waveform,
} from './spectrogram-config';

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
 * use {@link addChannelAxis}.
 *
 * @param waveform - `Float32Array` or float32 `Tensor1D` `[samples]` (batch 1), or `Tensor2D` `[batch, samples]`.
 * @param options - STFT settings; see {@link SpectrogramOptions}.
 * @returns New tensors owned by the caller, plus the resolved config.
 * @throws PiqConfigError for invalid options; PiqInputError for a bad, too short or non-finite waveform.
 *
 * @example
 * ```ts
 * import { spectrogram } from 'piq-tfjs/audio';
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
 * import { addChannelAxis } from 'piq-tfjs/audio';
 * const img = addChannelAxis(tf.zeros([2, 431, 513]) as tf.Tensor3D);
 * console.log(img.shape); // [2, 431, 513, 1]
 * ```
 * @category Audio
 */
export function addChannelAxis(spectrogramTensor: tf.Tensor3D): tf.Tensor4D {
  const owner = 'addChannelAxis';
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
