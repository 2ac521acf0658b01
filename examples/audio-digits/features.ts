// Waveforms → log1p-magnitude spectrogram images for the audio-digits example.
import * as tf from '@tensorflow/tfjs-core';
import { addChannelAxis, spectrogram, spectrogramShape, type SpectrogramOptions } from 'piq-tfjs/audio';

/**
 * The example's STFT: 256-point (32 ms at 8 kHz) Hann frames every 128 samples, zero-padded centred
 * frames, log1p magnitudes. One second at 8 kHz gives 63 frames × 129 bins (0–4 kHz, 31.25 Hz apart).
 */
export const SPECTROGRAM_OPTIONS: Readonly<SpectrogramOptions> = Object.freeze({
  nFFT: 256,
  hop: 128,
  window: 'hann',
  center: true,
  padMode: 'constant',
  compression: 'log1p',
});

/** `[frames, bins]` of one clip of `numSamples` samples with {@link SPECTROGRAM_OPTIONS}. */
export function imageShape(numSamples: number, options: SpectrogramOptions = SPECTROGRAM_OPTIONS): [number, number] {
  const s = spectrogramShape(numSamples, options);
  return [s.frames, s.bins];
}

/**
 * Spectrogram images `[n, frames, bins, 1]` of equal-length waveforms, computed in chunks
 * (magnitudes only; the phase is dropped). The caller owns the returned tensor.
 */
export function spectrogramImages(waves: readonly Float32Array[], options: SpectrogramOptions = SPECTROGRAM_OPTIONS, chunk = 64): tf.Tensor4D {
  const n = waves.length;
  if (n === 0) throw new Error('spectrogramImages: no waveforms');
  const len = (waves[0] as Float32Array).length;
  const [frames, bins] = imageShape(len, options);
  const out = new Float32Array(n * frames * bins);
  for (let s = 0; s < n; s += chunk) {
    const b = Math.min(chunk, n - s);
    const flat = new Float32Array(b * len);
    for (let i = 0; i < b; i++) flat.set(waves[s + i] as Float32Array, i * len);
    const wave = tf.tensor2d(flat, [b, len]);
    const spec = spectrogram(wave, options);
    const image = addChannelAxis(spec.magnitude); // [b, frames, bins, 1]
    out.set(image.dataSync() as Float32Array, s * frames * bins);
    tf.dispose([wave, spec.magnitude, spec.phase, image]);
  }
  return tf.tensor4d(out, [n, frames, bins, 1]);
}
