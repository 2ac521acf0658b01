// The audio-digits example's dataset helpers (examples/audio-digits/dataset.ts), on temporary folders
// of small synthetic WAV files in both accepted layouts. Expected values are worked out by hand.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeWav } from '../../src/audio';
import {
  fitLength,
  listClips,
  mixClips,
  overlapPairs,
  parseFsddName,
  parseIndexedName,
  peakNormalize,
  readClip,
  splitClips,
} from '../../examples/audio-digits/dataset';

let root: string;
/** A short clip whose first sample encodes (label, take) so we can tell files apart after reading. */
const clip = (value: number, n = 16, rate = 8000) => encodeWav(new Float32Array(n).fill(value), rate, { format: 'float32' });

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'piq-audio-digits-'));
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

function folder(name: string, files: Record<string, Uint8Array | string>): string {
  const dir = join(root, name);
  for (const [rel, content] of Object.entries(files)) {
    const path = join(dir, rel);
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, content);
  }
  return dir;
}

describe('file names', () => {
  it('parses {label}_{speaker}_{index}.wav, including speakers with underscores', () => {
    expect(parseFsddName('7_jackson_32.wav')).toEqual({ label: '7', speaker: 'jackson', index: 32 });
    expect(parseFsddName('/a/b/3_mary_ann_4.WAV')).toEqual({ label: '3', speaker: 'mary_ann', index: 4 });
    expect(parseFsddName('7_jackson.wav')).toBeNull();
    expect(parseFsddName('7_jackson_x.wav')).toBeNull();
  });

  it('reads the take index of a per-label file from its trailing integer and drops a label prefix from the speaker', () => {
    expect(parseIndexedName('7_jackson_3.wav', '7')).toEqual({ speaker: 'jackson', index: 3 });
    expect(parseIndexedName('bob-12.wav', 'dog')).toEqual({ speaker: 'bob', index: 12 });
    expect(parseIndexedName('5.wav', 'dog')).toEqual({ speaker: '', index: 5 });
    expect(parseIndexedName('bark.wav', 'dog')).toBeNull();
  });
});

describe('flat FSDD layout', () => {
  it('lists every clip with its label, speaker and take, sorts labels numerically and reports non-WAV files', () => {
    const dir = folder('flat', {
      '10_ann_0.wav': clip(0.1),
      '2_bob_7.wav': clip(0.2),
      '2_ann_5.wav': clip(0.3),
      '2_ann_4.wav': clip(0.4),
      '9_bob_0.wav': clip(0.5),
      'README.md': 'not audio',
    });
    const r = listClips(dir);
    expect(r.layout).toBe('flat');
    expect(r.labels).toEqual(['2', '9', '10']); // numeric order, not '10' < '2'
    expect(r.ignored).toEqual(['README.md']);
    expect(r.clips.map((c) => [c.label, c.labelIndex, c.speaker, c.index])).toEqual([
      ['2', 0, 'ann', 4],
      ['2', 0, 'ann', 5],
      ['2', 0, 'bob', 7],
      ['9', 1, 'bob', 0],
      ['10', 2, 'ann', 0],
    ]);
    expect(r.clips[0]?.path).toBe(join(dir, '2_ann_4.wav'));
  });

  it('splits takes 0-4 into the test set and the rest into training (FSDD official split)', () => {
    const files: Record<string, Uint8Array> = {};
    for (const take of [0, 1, 4, 5, 6, 49]) files[`3_eve_${take}.wav`] = clip(take / 100);
    const { clips } = listClips(folder('split', files));
    const { train, test } = splitClips(clips);
    expect(test.map((c) => c.index)).toEqual([0, 1, 4]);
    expect(train.map((c) => c.index)).toEqual([5, 6, 49]);
    expect(splitClips(clips, 2).test.map((c) => c.index)).toEqual([0, 1]);
  });

  it('refuses WAV files that do not follow the naming rule and names them', () => {
    const dir = folder('badflat', { '1_ann_0.wav': clip(0.1), 'hello.wav': clip(0.2) });
    expect(() => listClips(dir)).toThrow(/hello\.wav/);
  });
});

describe('one sub-folder per label', () => {
  it('takes labels from folder names and take indices from trailing integers', () => {
    const dir = folder('perlabel', {
      'dog/dog_bob_0.wav': clip(0.1),
      'dog/bob-7.wav': clip(0.2),
      'cat/3.wav': clip(0.3),
      'cat/notes.txt': 'x',
      'LICENSE': 'x',
    });
    const r = listClips(dir);
    expect(r.layout).toBe('per-label');
    expect(r.labels).toEqual(['cat', 'dog']);
    expect(r.ignored.sort()).toEqual(['LICENSE', join('cat', 'notes.txt')].sort());
    expect(r.clips.map((c) => [c.label, c.labelIndex, c.speaker, c.index])).toEqual([
      ['cat', 0, '', 3],
      ['dog', 1, 'bob', 0],
      ['dog', 1, 'bob', 7],
    ]);
    const { train, test } = splitClips(r.clips);
    expect(test.map((c) => `${c.label}/${c.index}`)).toEqual(['cat/3', 'dog/0']);
    expect(train.map((c) => `${c.label}/${c.index}`)).toEqual(['dog/7']);
  });

  it('accepts FSDD-named files inside digit folders with the same labels as the flat layout', () => {
    const dir = folder('digits', { '0/0_ann_1.wav': clip(0.1), '1/1_ann_9.wav': clip(0.2) });
    const r = listClips(dir);
    expect(r.clips.map((c) => [c.label, c.labelIndex, c.speaker, c.index])).toEqual([
      ['0', 0, 'ann', 1],
      ['1', 1, 'ann', 9],
    ]);
  });

  it('refuses a WAV file without a take index, an empty folder and a folder mixing both layouts', () => {
    expect(() => listClips(folder('noindex', { 'cat/meow.wav': clip(0.1) }))).toThrow(/cat[/\\]meow\.wav/);
    mkdirSync(join(root, 'empty'));
    expect(() => listClips(join(root, 'empty'))).toThrow(/no WAV clips/);
    expect(() => listClips(folder('mixed', { '1_ann_0.wav': clip(0.1), 'dog/bob_1.wav': clip(0.2) }))).toThrow(/both/);
  });
});

describe('reading and preparing clips', () => {
  it('reads a clip back as mono samples, averaging stereo channels', () => {
    const dir = folder('read', {
      'mono.wav': encodeWav(new Float32Array([0.5, -0.25, 0]), 8000, { format: 'float32' }),
      'stereo.wav': encodeWav([new Float32Array([0.5, 1]), new Float32Array([0.25, 0])], 8000, { format: 'float32' }),
    });
    expect(Array.from(readClip(join(dir, 'mono.wav'), 8000))).toEqual([0.5, -0.25, 0]);
    expect(Array.from(readClip(join(dir, 'stereo.wav'), 8000))).toEqual([0.375, 0.5]);
  });

  it('resamples a 16 kHz clip to the requested 8 kHz (ceil(n / 2) samples)', () => {
    const dir = folder('rate', { 'a.wav': clip(0, 101, 16000) });
    expect(readClip(join(dir, 'a.wav'), 8000).length).toBe(51);
  });

  it('centres short clips in zeros and keeps the middle of long ones', () => {
    expect(Array.from(fitLength(new Float32Array([1, 2]), 5))).toEqual([0, 1, 2, 0, 0]);
    expect(Array.from(fitLength(new Float32Array([1, 2, 3, 4, 5]), 2))).toEqual([2, 3]);
    expect(Array.from(fitLength(new Float32Array([1, 2, 3]), 3))).toEqual([1, 2, 3]);
  });

  it('peak-normalises, leaves silence unchanged and mixes 0.8 / 0.2 of two normalised clips', () => {
    expect(Array.from(peakNormalize(new Float32Array([0.25, -0.5])))).toEqual([0.5, -1]);
    expect(Array.from(peakNormalize(new Float32Array([0, 0])))).toEqual([0, 0]);
    // a → [0.5, -1], b → [1, 0.5]; 0.8·a + 0.2·b = [0.6, -0.7]
    const mix = mixClips(new Float32Array([0.25, -0.5]), new Float32Array([4, 2]));
    expect(mix[0]).toBeCloseTo(0.6, 6);
    expect(mix[1]).toBeCloseTo(-0.7, 6);
    expect(() => mixClips(new Float32Array(2), new Float32Array(3))).toThrow(/same length/);
  });

  it('pairs spread-out dominant clips with clips of another label, deterministically', () => {
    const labels = Int32Array.from({ length: 40 }, (_, i) => Math.floor(i / 4)); // 10 labels × 4 clips
    const pairs = overlapPairs(labels, 10, 3);
    expect(pairs.map(([a]) => a)).toEqual([0, 4, 8, 12, 16, 20, 24, 28, 32, 36]); // floor(q·40/10)
    for (const [a, b] of pairs) expect(labels[b]).not.toBe(labels[a]);
    expect(overlapPairs(labels, 10, 3)).toEqual(pairs);
    expect(overlapPairs(labels, 100, 3)).toHaveLength(40);
    expect(overlapPairs(Int32Array.from([1, 1, 1]), 3)).toEqual([]); // no other label to pair with
  });
});
