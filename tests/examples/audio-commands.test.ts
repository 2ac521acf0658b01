// The fast, pure pieces of the audio-commands task and the audio benchmark: mixing at an SNR, the
// generation plan (deterministic, speaker-independent split), manifest / checksum verification on a
// temporary folder, and the benchmark's custom per-band target. No tool is run
// (espeak-ng, flite, sox) and nothing is trained. Expected values are worked out by hand.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeWav } from 'piq-tfjs/audio';
import { gainForSnr, mixAtSnr, signalPower } from '../../examples/audio-digits/dataset';
import {
  COMMAND_WORDS,
  ESPEAK_TEST_VARIANTS,
  FLITE_TEST_VOICES,
  MANIFEST_FORMAT,
  assertVerified,
  commandSpeakers,
  fnv1a,
  loadCommandsSplit,
  planCommands,
  sha256,
  verifyManifest,
  type Manifest,
  type ManifestFile,
} from '../../examples/audio-commands/dataset';
import { energyMaskPerBand } from '../../bench/audio/settings';

describe('mixing at a signal-to-noise ratio', () => {
  it('measures mean power', () => {
    expect(signalPower(new Float32Array([3, 4]))).toBe(12.5); // (9 + 16) / 2
    expect(signalPower(new Float32Array(0))).toBe(0);
  });

  it('computes the gain that puts the noise snrDb below the signal', () => {
    expect(gainForSnr(1, 1, 0)).toBe(1);
    expect(gainForSnr(1, 1, 20)).toBeCloseTo(0.1, 12); // 10^(−20/20)
    expect(gainForSnr(4, 1, 0)).toBeCloseTo(2, 12); // equal power: g² · 1 = 4
    expect(gainForSnr(1, 4, -6)).toBeCloseTo(Math.sqrt(10 ** 0.6) / 2, 12);
    expect(() => gainForSnr(0, 1, 0)).toThrow(/silent/);
    expect(() => gainForSnr(1, 1, Number.NaN)).toThrow(/snrDb/);
  });

  it('mixes a + g·b so that a is snrDb above b, checked by hand', () => {
    // P(a) = 1, P(b) = (4 + 0 + 4 + 0) / 4 = 2; at 10·log10(2) dB: g = sqrt(1 / (2 · 2)) = 0.5.
    const a = new Float32Array([1, -1, 1, -1]);
    const b = new Float32Array([2, 0, 2, 0]);
    const mix = mixAtSnr(a, b, 10 * Math.log10(2));
    expect(Array.from(mix).map((v) => Number(v.toFixed(6)))).toEqual([2, -1, 2, -1]);
    // At 0 dB the scaled b has a's power: P(0.7071·b) = 1.
    const m0 = mixAtSnr(a, b, 0);
    const scaledB = Array.from(m0, (v, i) => v - (a[i] as number));
    expect(signalPower(scaledB)).toBeCloseTo(1, 6);
    expect(() => mixAtSnr(a, new Float32Array(3), 0)).toThrow(/same length/);
    expect(() => mixAtSnr(a, new Float32Array(4), 0)).toThrow(/silent/);
  });
});

describe('the generation plan', () => {
  it('hashes with FNV-1a (published test vectors)', () => {
    expect(fnv1a('')).toBe(0x811c9dc5);
    expect(fnv1a('a')).toBe(0xe40c292c);
    expect(fnv1a('foobar')).toBe(0xbf9cf968);
  });

  it('has 27 training and 9 test speakers, and no test voice is ever heard in training', () => {
    const speakers = commandSpeakers();
    const train = speakers.filter((s) => s.split === 'train');
    const test = speakers.filter((s) => s.split === 'test');
    expect([train.length, test.length]).toEqual([27, 9]);
    expect(new Set(speakers.map((s) => s.id)).size).toBe(36);
    // Test espeak-ng variants and flite voices never occur in a training speaker.
    for (const s of train) {
      expect(ESPEAK_TEST_VARIANTS).not.toContain(s.variant);
      expect(FLITE_TEST_VOICES).not.toContain(s.voice);
    }
    expect(speakers.map((s) => s.id)).toEqual([...speakers.map((s) => s.id)].sort());
  });

  it('plans every (word, speaker, take) once, sorted, with parameters that do not depend on the other clips', () => {
    const p = planCommands({ seed: 3, trainTakes: 2, testTakes: 1 });
    expect(p.clips).toHaveLength(10 * (27 * 2 + 9 * 1));
    expect(p.clips.map((c) => c.path)).toEqual([...p.clips.map((c) => c.path)].sort());
    expect(new Set(p.clips.map((c) => c.path)).size).toBe(p.clips.length);
    expect(new Set(p.clips.map((c) => c.label))).toEqual(new Set(COMMAND_WORDS));
    // Deterministic, and a clip's parameters stay the same when more takes are planned.
    expect(planCommands({ seed: 3, trainTakes: 2, testTakes: 1 })).toEqual(p);
    const more = new Map(planCommands({ seed: 3, trainTakes: 4, testTakes: 3 }).clips.map((c) => [c.path, c]));
    for (const c of p.clips) expect(more.get(c.path)).toEqual(c);
    // Another seed changes the parameters.
    const other = planCommands({ seed: 4, trainTakes: 2, testTakes: 1 });
    expect(other.clips.some((c, i) => c.snrDb !== p.clips[i]?.snrDb || c.offsetFraction !== p.clips[i]?.offsetFraction)).toBe(true);
    // espeak-ng clips carry speed and pitch, flite clips stretch and a pitch shift.
    const e = p.clips.find((c) => c.speaker.startsWith('espeak-'));
    const f = p.clips.find((c) => c.speaker.startsWith('flite-'));
    expect([typeof e?.speed, typeof e?.pitch, e?.stretch]).toEqual(['number', 'number', undefined]);
    expect([typeof f?.stretch, typeof f?.pitchCents, f?.speed]).toEqual(['number', 'number', undefined]);
    expect(() => planCommands({ trainTakes: 0 })).toThrow(/trainTakes/);
  });
});

describe('manifest and checksums', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'piq-audio-commands-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const wav = (v: number) => encodeWav(new Float32Array(8).fill(v), 8000, { format: 'float32' });
  const entry = (path: string, speaker: string, split: 'train' | 'test', bytes: Uint8Array): ManifestFile => ({
    path,
    label: path.split('/')[0] as string,
    speaker,
    take: Number(/_(\d+)\.wav$/.exec(path)?.[1]),
    split,
    noise: 'pink',
    snrDb: 10,
    offsetFraction: 0,
    noiseFraction: 0,
    sha256: sha256(bytes),
    bytes: bytes.length,
    speechSamples: 8,
  });
  /** A generated-looking folder: up/a_0 (train), up/b_0 (test), yes/a_1 (train). */
  function makeFolder(name: string, mutate?: (m: Manifest) => void): { dir: string; manifest: Manifest } {
    const dir = join(root, name);
    const files: Record<string, Uint8Array> = { 'up/spk-a_0.wav': wav(0.1), 'up/spk-b_0.wav': wav(0.2), 'yes/spk-a_1.wav': wav(0.3) };
    for (const [p, bytes] of Object.entries(files)) {
      mkdirSync(join(dir, p, '..'), { recursive: true });
      writeFileSync(join(dir, p), bytes);
    }
    const manifest: Manifest = {
      format: MANIFEST_FORMAT,
      generator: 'test',
      command: 'test',
      options: { seed: 1, trainTakes: 1, testTakes: 1, sampleRate: 8000, seconds: 1, words: ['up', 'yes'] },
      tools: {},
      speakers: [],
      files: [
        entry('up/spk-a_0.wav', 'spk-a', 'train', files['up/spk-a_0.wav'] as Uint8Array),
        entry('up/spk-b_0.wav', 'spk-b', 'test', files['up/spk-b_0.wav'] as Uint8Array),
        entry('yes/spk-a_1.wav', 'spk-a', 'train', files['yes/spk-a_1.wav'] as Uint8Array),
      ],
    };
    mutate?.(manifest);
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
    return { dir, manifest };
  }

  it('computes SHA-256 (FIPS 180-2 test vector)', () => {
    expect(sha256(new TextEncoder().encode('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('accepts an intact folder and splits it by the manifest', () => {
    const { dir } = makeFolder('ok');
    expect(verifyManifest(dir)).toEqual({ changed: [], missing: [], unlisted: [], sharedSpeakers: [] });
    const s = loadCommandsSplit(dir);
    expect(s.labels).toEqual(['up', 'yes']);
    expect(s.train.map((c) => [c.label, c.speaker, c.index])).toEqual([
      ['up', 'spk-a', 0],
      ['yes', 'spk-a', 1],
    ]);
    expect(s.test.map((c) => [c.label, c.speaker, c.index, c.labelIndex])).toEqual([['up', 'spk-b', 0, 0]]);
  });

  it('names changed, missing and unlisted files, and speakers in both splits', () => {
    const { dir } = makeFolder('bad');
    writeFileSync(join(dir, 'up/spk-a_0.wav'), wav(0.5)); // same size, other bytes
    rmSync(join(dir, 'yes/spk-a_1.wav'));
    writeFileSync(join(dir, 'yes/spk-c_4.wav'), wav(0.1));
    const r = verifyManifest(dir);
    expect(r).toEqual({ changed: ['up/spk-a_0.wav'], missing: ['yes/spk-a_1.wav'], unlisted: ['yes/spk-c_4.wav'], sharedSpeakers: [] });
    expect(() => assertVerified(dir, r)).toThrow(/1 missing \(yes\/spk-a_1\.wav\); 1 changed since generation \(up\/spk-a_0\.wav\); 1 not in the manifest/);
    expect(() => loadCommandsSplit(dir)).toThrow(/up\/spk-a_0\.wav/);

    const { dir: shared } = makeFolder('shared', (m) => {
      (m.files[1] as ManifestFile).speaker = 'spk-a'; // spk-a now in train and test
    });
    expect(verifyManifest(shared).sharedSpeakers).toEqual(['spk-a']);
    expect(() => loadCommandsSplit(shared)).toThrow(/speakers in both splits: spk-a/);
  });

  it('refuses a folder without a manifest or with another format, naming the fix', () => {
    const dir = join(root, 'empty');
    mkdirSync(dir);
    expect(() => loadCommandsSplit(dir)).toThrow(/manifest\.json: not found.*make:audio-commands/);
    const { dir: old } = makeFolder('old', (m) => {
      m.format = 'something-else/0';
    });
    expect(() => loadCommandsSplit(old)).toThrow(/format must be/);
  });
});

describe("the benchmark's custom target", () => {
  it('energyMaskPerBand thresholds each frequency band at τ of its own maximum', () => {
    // frames × bins = [[1, 10], [2, 5]]; band maxima [2, 10]; τ 0.5 → thresholds [1, 5].
    const x = tf.tensor4d([1, 10, 2, 5], [1, 2, 2, 1]);
    const t = energyMaskPerBand({ threshold: 0.5 }).compute(x, { predictedClass: tf.tensor1d([0], 'int32') });
    expect(Array.from(t.dataSync())).toEqual([0, 1, 1, 0]); // 1 > 1 no, 10 > 5, 2 > 1, 5 > 5 no
    expect(energyMaskPerBand({ threshold: 0.2 }).getConfig()).toEqual({ threshold: 0.2 });
    expect(() => energyMaskPerBand({ threshold: 2 })).toThrow(/threshold/);
    tf.dispose([x, t]);
  });
});
