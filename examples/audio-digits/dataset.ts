// Reading a folder of labelled WAV clips for the audio-digits example, and the train/test split.
// Two layouts are accepted:
//   flat       folder/{label}_{speaker}_{index}.wav          (the Free Spoken Digit Dataset layout)
//   per-label  folder/{label}/{anything ending in _<index> or <index>}.wav
// The split follows FSDD's official rule: takes (indices) 0 .. testTakes-1 are the test set.
// Nothing is skipped silently: files that are not .wav are returned in `ignored`; .wav files
// whose name does not follow the layout make `listClips` throw, naming them.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { decodeWav, downmixToMono, resample } from 'piq-tfjs/audio';

export type FolderLayout = 'flat' | 'per-label';

export interface Clip {
  /** Absolute (or as given) path of the WAV file. */
  path: string;
  /** Label name: the digit for FSDD (the file-name prefix, or the sub-folder name). */
  label: string;
  /** Index of `label` in {@link ClipListResult.labels}. */
  labelIndex: number;
  /** Speaker name, or '' when the name has none. */
  speaker: string;
  /** Take number (the trailing integer of the file name). */
  index: number;
}

export interface ClipListResult {
  layout: FolderLayout;
  /** Sorted label names (numerically when all are integers); class i is labels[i]. */
  labels: string[];
  /** Clips sorted by label, speaker, index. */
  clips: Clip[];
  /** Paths (relative to the folder) of entries that are not WAV files and were not read. */
  ignored: string[];
}

const FLAT_NAME = /^([^_]+)_(.+)_(\d+)\.wav$/i;
const INDEXED_NAME = /^(?:(.*?)[_-])?(\d+)\.wav$/i;
const isWav = (name: string) => /\.wav$/i.test(name);

/** Parses an FSDD file name `{label}_{speaker}_{index}.wav`; null when it does not match. */
export function parseFsddName(name: string): { label: string; speaker: string; index: number } | null {
  const m = FLAT_NAME.exec(basename(name));
  if (!m) return null;
  return { label: m[1] as string, speaker: m[2] as string, index: Number(m[3]) };
}

/**
 * Parses a file name inside a label sub-folder: the take index is the trailing integer
 * (`7_jackson_3.wav`, `jackson-3.wav`, `3.wav`); the speaker is the part before it, without an
 * FSDD label prefix equal to the folder's label. Null when there is no trailing integer.
 */
export function parseIndexedName(name: string, label: string): { speaker: string; index: number } | null {
  const m = INDEXED_NAME.exec(basename(name));
  if (!m) return null;
  let speaker = m[1] ?? '';
  if (speaker.startsWith(`${label}_`)) speaker = speaker.slice(label.length + 1);
  return { speaker, index: Number(m[2]) };
}

function sortLabels(labels: Iterable<string>): string[] {
  const all = [...new Set(labels)];
  const numeric = all.every((l) => /^-?\d+$/.test(l));
  return all.sort(numeric ? (a, b) => Number(a) - Number(b) : (a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Lists the labelled clips of a folder in either layout (see the file header). Throws when the
 * folder holds no clips, mixes both layouts, or has WAV files whose names do not follow the layout.
 */
export function listClips(folder: string): ClipListResult {
  const entries = readdirSync(folder, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const wavFiles = entries.filter((e) => e.isFile() && isWav(e.name));
  const dirs = entries.filter((e) => e.isDirectory());
  const ignored: string[] = [];
  const raw: Array<Omit<Clip, 'labelIndex'>> = [];
  let layout: FolderLayout;
  if (wavFiles.length > 0) {
    if (dirs.some((d) => readdirSync(join(folder, d.name)).some(isWav))) {
      throw new Error(`${folder}: holds WAV files both at the top level and in sub-folders; use one layout (flat {label}_{speaker}_{index}.wav, or one sub-folder per label).`);
    }
    layout = 'flat';
    const bad: string[] = [];
    for (const e of wavFiles) {
      const p = parseFsddName(e.name);
      if (p) raw.push({ path: join(folder, e.name), ...p });
      else bad.push(e.name);
    }
    if (bad.length > 0) {
      throw new Error(`${folder}: ${bad.length} WAV file(s) do not match {label}_{speaker}_{index}.wav: ${bad.slice(0, 5).join(', ')}${bad.length > 5 ? ', …' : ''}. Rename them or use one sub-folder per label.`);
    }
    for (const e of entries) if (!(e.isFile() && isWav(e.name))) ignored.push(e.name);
  } else {
    layout = 'per-label';
    const bad: string[] = [];
    for (const e of entries) if (!e.isDirectory()) ignored.push(e.name);
    for (const d of dirs) {
      const sub = join(folder, d.name);
      for (const name of readdirSync(sub).sort()) {
        const full = join(sub, name);
        if (!isWav(name) || !statSync(full).isFile()) {
          ignored.push(relative(folder, full));
          continue;
        }
        const p = parseIndexedName(name, d.name);
        if (p) raw.push({ path: full, label: d.name, ...p });
        else bad.push(relative(folder, full));
      }
    }
    if (bad.length > 0) {
      throw new Error(`${folder}: ${bad.length} WAV file(s) have no take index (a trailing _<n> or <n> before .wav): ${bad.slice(0, 5).join(', ')}${bad.length > 5 ? ', …' : ''}.`);
    }
  }
  if (raw.length === 0) {
    throw new Error(`${folder}: no WAV clips found. Expected {label}_{speaker}_{index}.wav files, or one sub-folder of WAV files per label.`);
  }
  const labels = sortLabels(raw.map((c) => c.label));
  const clips = raw
    .map((c) => ({ ...c, labelIndex: labels.indexOf(c.label) }))
    .sort((a, b) => a.labelIndex - b.labelIndex || (a.speaker < b.speaker ? -1 : a.speaker > b.speaker ? 1 : 0) || a.index - b.index || (a.path < b.path ? -1 : 1));
  return { layout, labels, clips, ignored };
}

/** FSDD's official split: takes 0 .. testTakes-1 (of every label and speaker) are the test set. */
export function splitClips(clips: readonly Clip[], testTakes = 5): { train: Clip[]; test: Clip[] } {
  if (!Number.isInteger(testTakes) || testTakes < 0) throw new Error(`testTakes must be a non-negative integer, got ${testTakes}`);
  const train: Clip[] = [];
  const test: Clip[] = [];
  for (const c of clips) (c.index < testTakes ? test : train).push(c);
  return { train, test };
}

/** Reads a WAV file as mono samples at `sampleRate` (downmixed and resampled when needed). */
export function readClip(path: string, sampleRate: number): Float32Array {
  const wav = decodeWav(new Uint8Array(readFileSync(path)));
  const mono = downmixToMono(wav.channels);
  return wav.sampleRate === sampleRate ? mono : resample(mono, wav.sampleRate, sampleRate);
}

/** Centres `samples` in exactly `length` samples: zero-padded on both sides, or the middle kept. */
export function fitLength(samples: Float32Array, length: number): Float32Array {
  const out = new Float32Array(length);
  if (samples.length <= length) out.set(samples, Math.floor((length - samples.length) / 2));
  else {
    const start = Math.floor((samples.length - length) / 2);
    out.set(samples.subarray(start, start + length));
  }
  return out;
}

/** Scales a clip so its largest absolute sample is `peak` (silence is returned unchanged, as a copy). */
export function peakNormalize(samples: Float32Array, peak = 1): Float32Array {
  let m = 0;
  for (let i = 0; i < samples.length; i++) m = Math.max(m, Math.abs(samples[i] as number));
  const out = new Float32Array(samples);
  if (m > 0) for (let i = 0; i < out.length; i++) out[i] = ((out[i] as number) * peak) / m;
  return out;
}

/** The overlap-test mixture: `wa · a + wb · b` after peak-normalising each clip (same length). */
export function mixClips(a: Float32Array, b: Float32Array, wa = 0.8, wb = 0.2): Float32Array {
  if (a.length !== b.length) throw new Error(`mixClips: clips must have the same length, got ${a.length} and ${b.length}`);
  const na = peakNormalize(a);
  const nb = peakNormalize(b);
  const out = new Float32Array(a.length);
  for (let i = 0; i < out.length; i++) out[i] = wa * (na[i] as number) + wb * (nb[i] as number);
  return out;
}

/** mulberry32: a small seeded generator of uniform numbers in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Deterministic overlap pairs over `labels`: `min(count, n)` dominant clips spread evenly over the
 * list (i = floor(q·n / count)), each paired with the first clip, from a seeded random start, whose
 * label differs. Returns [dominant, other] index pairs.
 */
export function overlapPairs(labels: ArrayLike<number>, count: number, seed = 1): Array<[number, number]> {
  const n = labels.length;
  const rand = mulberry32(seed);
  const pairs: Array<[number, number]> = [];
  const m = Math.min(count, n);
  for (let q = 0; q < m; q++) {
    const i = Math.floor((q * n) / m);
    const start = Math.floor(rand() * n);
    for (let k = 0; k < n; k++) {
      const j = (start + k) % n;
      if (labels[j] !== labels[i]) {
        pairs.push([i, j]);
        break;
      }
    }
  }
  return pairs;
}

/** Mean power `Σ x² / n` of a clip (0 for an empty clip). */
export function signalPower(samples: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < samples.length; i++) s += (samples[i] as number) ** 2;
  return samples.length > 0 ? s / samples.length : 0;
}

/**
 * The gain `g` that puts a noise (or interfering clip) of mean power `noisePower` at `snrDb` below a
 * signal of mean power `signalPower`: `10·log10(signalPower / (g²·noisePower)) = snrDb`, so
 * `g = sqrt(signalPower / (noisePower · 10^(snrDb/10)))`.
 */
export function gainForSnr(signalPower: number, noisePower: number, snrDb: number): number {
  if (!(signalPower > 0) || !(noisePower > 0)) {
    throw new Error(`gainForSnr: both powers must be > 0, got signal ${signalPower} and noise ${noisePower} (a silent clip cannot be mixed at an SNR)`);
  }
  if (!Number.isFinite(snrDb)) throw new Error(`gainForSnr: snrDb must be a finite number of dB, got ${snrDb}`);
  return Math.sqrt(signalPower / (noisePower * 10 ** (snrDb / 10)));
}

/**
 * The controlled overlap mixture `a + g·b` of two equal-length clips, with `g` chosen so that `a`
 * is `snrDb` dB above `b` over the whole clip (mean powers; 0 dB = equal energy). Not normalised:
 * peak-normalise the result to feed the classifier the range it was trained on.
 */
export function mixAtSnr(a: Float32Array, b: Float32Array, snrDb: number): Float32Array {
  if (a.length !== b.length) throw new Error(`mixAtSnr: clips must have the same length, got ${a.length} and ${b.length}`);
  const g = gainForSnr(signalPower(a), signalPower(b), snrDb);
  const out = new Float32Array(a.length);
  for (let i = 0; i < out.length; i++) out[i] = (a[i] as number) + g * (b[i] as number);
  return out;
}
