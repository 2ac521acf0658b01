// Audio front end: STFT spectrograms, inverse STFT with the original phase, WAV I/O, resampling.
export {
  spectrogram,
  spectrogramShape,
  resolveSpectrogramOptions,
  toSpectrogramImage,
  DEFAULT_SPECTROGRAM_OPTIONS,
  ESC50_SPECTROGRAM_PRESET,
  LOG_POWER_EPS,
} from './spectrogram';
export type {
  SpectrogramOptions,
  SpectrogramConfig,
  SpectrogramResult,
  SpectrogramWindow,
  SpectrogramCompression,
  SpectrogramMethod,
  SpectrogramPadMode,
  Waveform,
} from './spectrogram';
export { invertSpectrogram, interpretationToWaveform, DEFAULT_INTERPRETATION_TO_WAVEFORM_OPTIONS } from './inverse';
export type { InvertSpectrogramOptions, InterpretationToWaveformOptions, InterpretationAudioMode } from './inverse';
export { decodeWav, encodeWav, downmixToMono, DEFAULT_ENCODE_WAV_OPTIONS } from './wav';
export type { DecodeWavResult, EncodeWavOptions, WavFormat } from './wav';
export { resample, DEFAULT_RESAMPLE_OPTIONS } from './resample';
export type { ResampleOptions } from './resample';
