// WAV decoding/encoding through the `wavefile` package (pure JS, no Node built-ins).
// Reading files is the caller's job: pass bytes (fetch().arrayBuffer(), fs.readFileSync, ...).
import * as wavefileModule from 'wavefile';
import { PiqConfigError, PiqInputError, PiqStateError } from '../errors';
import { describe, oneOf, optionKeys, optionsObject, positiveInt } from '../internal/checks';

// wavefile ships an ES module ("module": index.js, named export WaveFile) that bundlers pick,
// and a UMD/CJS build ("main") that Node loads. Node's ESM loader exposes that CJS build as a
// namespace with only `default` (= module.exports), so look in both places. The namespace is
// copied first so bundlers do not warn about a statically missing `default` export.
type WaveFileCtor = typeof wavefileModule.WaveFile;
function findWaveFile(): WaveFileCtor {
  const ns: Record<string, unknown> = { ...wavefileModule };
  const fromDefault = ns['default'] as { WaveFile?: WaveFileCtor } | undefined;
  const ctor = (ns['WaveFile'] as WaveFileCtor | undefined) ?? fromDefault?.WaveFile;
  if (typeof ctor !== 'function') {
    throw new PiqStateError("decodeWav/encodeWav: the 'wavefile' package did not provide WaveFile. Reinstall wavefile (^11).");
  }
  return ctor;
}
let waveFileCtor: WaveFileCtor | undefined;
/** Resolved on first use, so importing this module never throws. */
function WaveFileClass(): WaveFileCtor {
  waveFileCtor ??= findWaveFile();
  return waveFileCtor;
}

/**
 * Sample encodings {@link encodeWav} can write: 16-bit integer PCM or 32-bit IEEE float.
 *
 * @category Audio
 */
export type WavFormat = 'pcm16' | 'float32';

/**
 * Options of {@link encodeWav}.
 *
 * @category Audio
 */
export interface EncodeWavOptions {
  /** Sample encoding. `'pcm16'` clips to [−1, 1) and rounds to 1/32768 steps. @defaultValue 'pcm16' */
  format?: WavFormat;
}

const ENCODE_WAV_KEYS = optionKeys<EncodeWavOptions>({ format: true });

/**
 * Defaults of {@link EncodeWavOptions}.
 */
export const DEFAULT_ENCODE_WAV_OPTIONS = Object.freeze({ format: 'pcm16' } as const);

/**
 * A decoded WAV file: samples as floats in [−1, 1], one array per channel.
 *
 * @category Audio
 */
export interface DecodeWavResult {
  /** Samples per second. */
  sampleRate: number;
  /** One `Float32Array` per channel, all of the same length. */
  channels: Float32Array[];
  /** The file's sample encoding as wavefile names it: '8', '16', '24', '32', '32f', '64', '8a', '8m', '4'. */
  bitDepth: string;
}

interface WaveFileInternals {
  fmt: { audioFormat: number; numChannels: number; sampleRate: number; bitsPerSample: number };
  bitDepth: string;
  getSamples(interleaved?: boolean, outputObject?: Float64ArrayConstructor): Float64Array | Float64Array[];
  fromALaw(bitDepth?: string): void;
  fromMuLaw(bitDepth?: string): void;
  fromIMAADPCM(bitDepth?: string): void;
}

const FORMATS: readonly WavFormat[] = ['pcm16', 'float32'];

/**
 * Decodes the bytes of a WAV file to float samples in [−1, 1], one `Float32Array` per channel.
 * Reads 8-bit (unsigned), 16/24/32-bit integer PCM, 32/64-bit float, and A-law, μ-law and
 * IMA-ADPCM (converted through 16-bit). Pure JS; works in browsers. A data chunk shorter than
 * its header declares (a truncated download) is decoded as far as it goes, as wavefile does.
 *
 * @param bytes - The whole file, e.g. `new Uint8Array(await (await fetch(url)).arrayBuffer())`.
 * @throws PiqInputError naming 'bytes' when they are not a readable WAV file.
 *
 * @example
 * ```ts
 * import { readFileSync } from 'node:fs';
 * import { decodeWav, downmixToMono } from 'piq-tfjs/audio';
 * const { sampleRate, channels } = decodeWav(readFileSync('0_george_0.wav'));
 * console.log(sampleRate, channels.length); // 8000 1
 * const mono = downmixToMono(channels);
 * ```
 * @category Audio
 */
export function decodeWav(bytes: Uint8Array): DecodeWavResult {
  const owner = 'decodeWav';
  if (!(bytes instanceof Uint8Array)) {
    throw new PiqInputError(`${owner}: 'bytes' must be a Uint8Array holding a WAV file, got ${describe(bytes)}. Wrap an ArrayBuffer with new Uint8Array(buf).`);
  }
  const WaveFile = WaveFileClass();
  let wav: WaveFileInternals;
  try {
    wav = new WaveFile(bytes) as unknown as WaveFileInternals;
  } catch (e) {
    throw new PiqInputError(
      `${owner}: 'bytes' must be a valid WAV (RIFF/RIFX/RF64) file, got ${bytes.length} bytes that do not parse (${(e as Error).message}). Check that the file is a complete .wav.`,
    );
  }
  const depth = wav.bitDepth;
  try {
    if (depth === '8a') wav.fromALaw('16');
    else if (depth === '8m') wav.fromMuLaw('16');
    else if (depth === '4') wav.fromIMAADPCM('16');
  } catch (e) {
    throw new PiqInputError(`${owner}: 'bytes' hold a compressed WAV (bit depth '${depth}') that failed to decode (${(e as Error).message}).`);
  }
  const decodedDepth = wav.bitDepth;
  const { numChannels, sampleRate } = wav.fmt;
  if (!(numChannels >= 1) || !(sampleRate > 0)) {
    throw new PiqInputError(`${owner}: 'bytes' must describe at least 1 channel and a positive sample rate, got ${numChannels} channels at ${sampleRate} Hz.`);
  }
  let raw: Float64Array[];
  try {
    const s = wav.getSamples(false, Float64Array);
    raw = numChannels === 1 ? [s as Float64Array] : (s as Float64Array[]);
  } catch (e) {
    throw new PiqInputError(`${owner}: 'bytes' hold sample data that cannot be read (${(e as Error).message}). Check that the file is not truncated.`);
  }
  // Integer PCM: signed full scale 2^(bits−1); 8-bit WAV is unsigned with 128 as zero.
  let scale = 1;
  let zero = 0;
  if (!decodedDepth.endsWith('f') && decodedDepth !== '64') {
    const bits = Number.parseInt(decodedDepth, 10);
    if (!Number.isFinite(bits)) {
      throw new PiqInputError(`${owner}: 'bytes' use an unsupported sample encoding '${decodedDepth}'. Convert the file to 16-bit PCM.`);
    }
    scale = 1 / 2 ** (bits - 1);
    zero = bits === 8 ? 128 : 0;
  }
  const channels = raw.map((ch) => {
    const out = new Float32Array(ch.length);
    for (let i = 0; i < ch.length; i++) out[i] = ((ch[i] as number) - zero) * scale;
    return out;
  });
  return { sampleRate, channels, bitDepth: depth };
}

/**
 * Averages the channels of a multi-channel signal into one mono channel (a copy, even for one
 * channel).
 *
 * @example
 * ```ts
 * import { downmixToMono } from 'piq-tfjs/audio';
 * console.log(downmixToMono([new Float32Array([1, 0]), new Float32Array([0, 0])])); // Float32Array [0.5, 0]
 * ```
 * @category Audio
 */
export function downmixToMono(channels: Float32Array[]): Float32Array {
  const owner = 'downmixToMono';
  if (!Array.isArray(channels) || channels.length === 0 || !channels.every((c) => c instanceof Float32Array)) {
    throw new PiqInputError(`${owner}: 'channels' must be a non-empty array of Float32Array, got ${describe(channels)}.`);
  }
  const n = (channels[0] as Float32Array).length;
  if (!channels.every((c) => c.length === n)) {
    throw new PiqInputError(`${owner}: 'channels' must all have the same length, got lengths ${channels.map((c) => c.length).join(', ')}.`);
  }
  const out = new Float32Array(n);
  for (const c of channels) for (let i = 0; i < n; i++) out[i] = (out[i] as number) + (c[i] as number);
  const k = channels.length;
  if (k > 1) for (let i = 0; i < n; i++) out[i] = (out[i] as number) / k;
  return out;
}

/**
 * Encodes float samples (nominally in [−1, 1]) as the bytes of a WAV file: 16-bit PCM (values
 * clipped to [−1, 32767/32768], rounded to the nearest 1/32768) or 32-bit float (exact).
 *
 * @param samples - One channel, or one `Float32Array` per channel (same lengths).
 * @param sampleRate - Samples per second, a positive integer.
 * @param options - {@link EncodeWavOptions}.
 * @returns The file's bytes; save them (Node: `fs.writeFileSync`) or wrap them in a `Blob` of type 'audio/wav'.
 * @throws PiqInputError for non-finite or mismatched samples; PiqConfigError for a bad rate or format.
 *
 * @example
 * ```ts
 * import { encodeWav, decodeWav } from 'piq-tfjs/audio';
 * const bytes = encodeWav(new Float32Array([0, 0.5, -0.5]), 8000, { format: 'pcm16' });
 * console.log(bytes.length, decodeWav(bytes).channels[0]); // 50 Float32Array [0, 0.5, -0.5]
 * ```
 * @category Audio
 */
export function encodeWav(samples: Float32Array | Float32Array[], sampleRate: number, options: EncodeWavOptions = {}): Uint8Array {
  const owner = 'encodeWav';
  const rate = positiveInt(owner, 'sampleRate', sampleRate);
  if (options === null || typeof options !== 'object') {
    throw new PiqConfigError(`${owner}: 'options' must be an object, got ${describe(options)}.`);
  }
  optionsObject(owner, options, ENCODE_WAV_KEYS);
  const format = oneOf(owner, 'format', options.format ?? DEFAULT_ENCODE_WAV_OPTIONS.format, FORMATS);
  const channels = samples instanceof Float32Array ? [samples] : samples;
  if (!Array.isArray(channels) || channels.length === 0 || !channels.every((c) => c instanceof Float32Array)) {
    throw new PiqInputError(`${owner}: 'samples' must be a Float32Array or a non-empty array of Float32Array, got ${describe(samples)}.`);
  }
  const n = (channels[0] as Float32Array).length;
  if (!channels.every((c) => c.length === n)) {
    throw new PiqInputError(`${owner}: 'samples' channels must all have the same length, got lengths ${channels.map((c) => c.length).join(', ')}.`);
  }
  for (const c of channels) {
    for (let i = 0; i < c.length; i++) {
      if (!Number.isFinite(c[i])) {
        throw new PiqInputError(`${owner}: 'samples' must contain only finite values, got ${describe(c[i])} at index ${i}.`);
      }
    }
  }
  let data: ArrayLike<number>[];
  if (format === 'pcm16') {
    data = channels.map((c) => {
      const q = new Int16Array(c.length);
      for (let i = 0; i < c.length; i++) q[i] = Math.max(-32768, Math.min(32767, Math.round((c[i] as number) * 32768)));
      return q;
    });
  } else {
    data = channels;
  }
  const WaveFile = WaveFileClass();
  const wav = new WaveFile();
  // wavefile wants plain arrays for multi-channel input (one per channel).
  const arg = data.length === 1 ? Array.from(data[0] as ArrayLike<number>) : data.map((d) => Array.from(d));
  wav.fromScratch(channels.length, rate, format === 'pcm16' ? '16' : '32f', arg);
  return wav.toBuffer();
}
