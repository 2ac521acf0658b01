/**
 * The audio front end of piq-tfjs (import from `piq-tfjs/audio`): STFT spectrograms of waveforms,
 * the inverse STFT with the original phase (to listen to an interpretation), WAV decoding and
 * encoding, and band-limited resampling. Browser-safe (no Node built-ins); works on every tfjs backend.
 *
 * @packageDocumentation
 */
export { spectrogram, addChannelAxis } from './spectrogram';
export {
  spectrogramShape,
  ESC50_SPECTROGRAM_PRESET,
  type SpectrogramOptions,
  type SpectrogramConfig,
  type SpectrogramResult,
  type SpectrogramWindow,
  type SpectrogramCompression,
  type SpectrogramMethod,
  type SpectrogramPadMode,
  type Waveform,
} from './spectrogram-config';
export {
  invertSpectrogram,
  interpretationToWaveform,
  type InvertSpectrogramOptions,
  type InterpretationToWaveformOptions,
  type InterpretationAudioMode,
} from './inverse';
export { decodeWav, encodeWav, downmixToMono, type DecodeWavResult, type EncodeWavOptions, type WavFormat } from './wav';
export { resample, type ResampleOptions } from './resample';
export { PiqConfigError, PiqError, PiqInputError, PiqStateError } from '../errors';
