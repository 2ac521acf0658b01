import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeWav, downmixToMono, encodeWav } from '../../src/audio';
import { DEFAULT_ENCODE_WAV_OPTIONS } from '../../src/audio/wav';
import { PiqConfigError, PiqInputError } from '../../src/errors';
import { expectNoTensorLeak, expectThrowsWithoutLeak } from '../helpers';
import { randomSignal } from './reference';

/** Writes a canonical 44-byte-header WAV by hand (independent of wavefile). */
function handMadeWav(format: 1 | 3, bits: number, channels: number, rate: number, frames: number[][]): Uint8Array {
  const bytesPer = bits / 8;
  const dataSize = frames.length * channels * bytesPer;
  const buf = new DataView(new ArrayBuffer(44 + dataSize));
  const str = (o: number, s: string) => [...s].forEach((c, i) => buf.setUint8(o + i, c.charCodeAt(0)));
  str(0, 'RIFF');
  buf.setUint32(4, 36 + dataSize, true);
  str(8, 'WAVE');
  str(12, 'fmt ');
  buf.setUint32(16, 16, true);
  buf.setUint16(20, format, true);
  buf.setUint16(22, channels, true);
  buf.setUint32(24, rate, true);
  buf.setUint32(28, rate * channels * bytesPer, true);
  buf.setUint16(32, channels * bytesPer, true);
  buf.setUint16(34, bits, true);
  str(36, 'data');
  buf.setUint32(40, dataSize, true);
  let o = 44;
  for (const frame of frames) {
    for (const v of frame) {
      if (format === 3) buf.setFloat32(o, v, true);
      else if (bits === 8) buf.setUint8(o, v);
      else if (bits === 16) buf.setInt16(o, v, true);
      else if (bits === 24) {
        const u = v < 0 ? v + 2 ** 24 : v;
        buf.setUint8(o, u & 0xff);
        buf.setUint8(o + 1, (u >> 8) & 0xff);
        buf.setUint8(o + 2, (u >> 16) & 0xff);
      } else buf.setInt32(o, v, true);
      o += bytesPer;
    }
  }
  return new Uint8Array(buf.buffer);
}

describe('decodeWav', () => {
  it('decodes unsigned 8-bit PCM with 128 as zero', () => {
    const r = decodeWav(handMadeWav(1, 8, 1, 8000, [[0], [64], [128], [255]]));
    expect(r.sampleRate).toBe(8000);
    expect(Array.from(r.channels[0]!)).toEqual([-1, -0.5, 0, 127 / 128]);
  });

  it('decodes 16-bit PCM in two channels', () => {
    const r = decodeWav(handMadeWav(1, 16, 2, 22050, [[-32768, 16384], [32767, -1]]));
    expect(r.sampleRate).toBe(22050);
    expect(r.channels.length).toBe(2);
    expect(Array.from(r.channels[0]!)).toEqual([-1, 32767 / 32768]);
    expect(Array.from(r.channels[1]!)).toEqual([0.5, -1 / 32768]);
  });

  it('decodes 24-bit and 32-bit integer PCM', () => {
    const r24 = decodeWav(handMadeWav(1, 24, 1, 16000, [[-8388608], [4194304], [-1]]));
    expect(Array.from(r24.channels[0]!)).toEqual([-1, 0.5, -1 / 8388608].map(Math.fround));
    const r32 = decodeWav(handMadeWav(1, 32, 1, 16000, [[-2147483648], [1073741824], [0]]));
    expect(Array.from(r32.channels[0]!)).toEqual([-1, 0.5, 0]);
    expect(r32.bitDepth).toBe('32');
  });

  it('decodes 32-bit float samples unchanged', () => {
    const r = decodeWav(handMadeWav(3, 32, 1, 44100, [[0.25], [-0.75], [1.5]]));
    expect(Array.from(r.channels[0]!)).toEqual([0.25, -0.75, 1.5]);
    expect(r.bitDepth).toBe('32f');
  });

  const fsdd = '/work/shared/data/fsdd/recordings/0_george_0.wav';
  it.skipIf(!existsSync(fsdd))('decodes a real FSDD recording: 8 kHz mono 16-bit', () => {
    const bytes = new Uint8Array(readFileSync(fsdd));
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    // This file has the canonical 44-byte header: data size at byte 40, first sample at 44.
    const expectedLength = view.getUint32(40, true) / 2;
    const r = decodeWav(bytes);
    expect(r.sampleRate).toBe(8000);
    expect(r.channels.length).toBe(1);
    expect(r.channels[0]!.length).toBe(expectedLength);
    expect(expectedLength).toBeGreaterThan(0);
    expect(r.channels[0]![0]).toBe(view.getInt16(44, true) / 32768);
    expect(r.channels[0]!.every((v) => v >= -1 && v < 1)).toBe(true);
  });
  if (!existsSync(fsdd)) console.warn(`FSDD recordings not found at ${fsdd}: the real-file decode test is skipped.`);

  it.each([
    ['empty bytes', new Uint8Array(0)],
    ['random bytes', new Uint8Array(200).map((_, i) => (i * 37) % 256)],
    ['a RIFF header without a fmt chunk', new TextEncoder().encode('RIFF\x24\x00\x00\x00WAVEjunk')],
    ['a truncated file', handMadeWav(1, 16, 1, 8000, [[1], [2], [3]]).slice(0, 20)],
  ])('throws PiqInputError naming the bytes for %s', async (_name, bytes) => {
    const err = await expectThrowsWithoutLeak(() => decodeWav(bytes));
    expect(err).toBeInstanceOf(PiqInputError);
    expect(err.message).toContain("'bytes'");
  });

  it('throws PiqInputError for an argument that is not a Uint8Array', async () => {
    const err = await expectThrowsWithoutLeak(() => decodeWav('file.wav' as unknown as Uint8Array));
    expect(err).toBeInstanceOf(PiqInputError);
    expect(err.message).toContain("'bytes'");
  });
});

describe('encodeWav', () => {
  const x = randomSignal(1000, 40);

  it('round-trips 16-bit PCM within one quantisation step (1/32768) and defaults to pcm16', async () => {
    const bytes = await expectNoTensorLeak(() => encodeWav(x, 16000));
    expect(DEFAULT_ENCODE_WAV_OPTIONS.format).toBe('pcm16');
    expect(bytes.length).toBe(44 + 2 * 1000);
    const r = decodeWav(bytes);
    expect(r.sampleRate).toBe(16000);
    expect(r.bitDepth).toBe('16');
    const y = r.channels[0]!;
    for (let i = 0; i < x.length; i++) expect(Math.abs(y[i]! - x[i]!)).toBeLessThanOrEqual(1 / 32768);
  });

  it('clips 16-bit PCM to the representable range', () => {
    const y = decodeWav(encodeWav(new Float32Array([2, -2, 1, -1]), 8000)).channels[0]!;
    expect(Array.from(y)).toEqual([32767 / 32768, -1, 32767 / 32768, -1]);
  });

  it('round-trips 32-bit float exactly, in several channels', () => {
    const b = randomSignal(1000, 41);
    const r = decodeWav(encodeWav([x, b], 44100, { format: 'float32' }));
    expect(r.bitDepth).toBe('32f');
    expect(r.sampleRate).toBe(44100);
    expect(r.channels[0]).toEqual(x);
    expect(r.channels[1]).toEqual(b);
  });

  it('throws PiqConfigError for a bad sample rate or format and PiqInputError for bad samples', async () => {
    const cases: [() => unknown, typeof PiqConfigError | typeof PiqInputError, string][] = [
      [() => encodeWav(x, 0), PiqConfigError, 'sampleRate'],
      [() => encodeWav(x, 8000.5), PiqConfigError, 'sampleRate'],
      [() => encodeWav(x, 8000, { format: 'mp3' as 'pcm16' }), PiqConfigError, 'format'],
      [() => encodeWav(new Float32Array([0, Number.NaN]), 8000), PiqInputError, 'samples'],
      [() => encodeWav([x, new Float32Array(3)], 8000), PiqInputError, 'samples'],
      [() => encodeWav([], 8000), PiqInputError, 'samples'],
    ];
    for (const [fn, cls, name] of cases) {
      const err = await expectThrowsWithoutLeak(fn);
      expect(err).toBeInstanceOf(cls);
      expect(err.message).toContain(`'${name}'`);
    }
  });
});

describe('downmixToMono', () => {
  it('averages the channels into a new array', () => {
    const a = new Float32Array([1, 0.5, -1]);
    const out = downmixToMono([a, new Float32Array([0, 0.5, 1])]);
    expect(Array.from(out)).toEqual([0.5, 0.5, 0]);
    const copy = downmixToMono([a]);
    expect(copy).toEqual(a);
    expect(copy).not.toBe(a);
  });

  it('throws PiqInputError naming the channels for empty or mismatched input', async () => {
    for (const bad of [[], [new Float32Array(2), new Float32Array(3)], 'x']) {
      const err = await expectThrowsWithoutLeak(() => downmixToMono(bad as Float32Array[]));
      expect(err).toBeInstanceOf(PiqInputError);
      expect(err.message).toContain("'channels'");
    }
  });
});
