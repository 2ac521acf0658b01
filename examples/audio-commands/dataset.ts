// The synthesised spoken-commands task: what `make-dataset.ts` generates (the plan, a pure function
// of the options), the manifest it writes, and the loader that checks the files against the manifest
// and splits them by speaker. Reading and preparing the clips reuses the audio-digits helpers
// (`listClips`, `readClip`, `fitLength`, `peakNormalize`): a generated folder is in their
// "one sub-folder per label" layout, `{word}/{speaker}_{take}.wav`.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { listClips, mulberry32, type Clip } from '../audio-digits/dataset';

/** The ten command words (the core of Google's Speech Commands), sorted: class i is COMMAND_WORDS[i]. */
export const COMMAND_WORDS = Object.freeze(['down', 'go', 'left', 'no', 'off', 'on', 'right', 'stop', 'up', 'yes']);

/** espeak-ng English accents (its `gmw/` voices; the MBROLA `mb-*` voices are not used). */
export const ESPEAK_ACCENTS = Object.freeze([
  'en',
  'en-029',
  'en-gb-scotland',
  'en-gb-x-gbclan',
  'en-gb-x-gbcwmd',
  'en-gb-x-rp',
  'en-us',
  'en-us-nyc',
]);
/** espeak-ng voice variants heard in training (each accent gets three of them). */
export const ESPEAK_TRAIN_VARIANTS = Object.freeze(['f1', 'f3', 'f4', 'f5', 'klatt', 'klatt3', 'm1', 'm2', 'm4', 'm5', 'm6', 'm7']);
/** espeak-ng voice variants heard only in the test split (each accent gets one). */
export const ESPEAK_TEST_VARIANTS = Object.freeze(['f2', 'klatt2', 'm3']);
/** flite voices heard in training; `kal` (the 8 kHz twin of kal16) and `awb_time` are not used. */
export const FLITE_TRAIN_VOICES = Object.freeze(['awb', 'kal16', 'slt']);
/** flite voices heard only in the test split. */
export const FLITE_TEST_VOICES = Object.freeze(['rms']);

export const NOISE_TYPES = Object.freeze(['brown', 'pink', 'white'] as const);
export type NoiseType = (typeof NOISE_TYPES)[number];
export const SNR_DB = Object.freeze([5, 10, 15, 20, 30]);
/** espeak-ng `-s` (words per minute; its default is 175) and `-p` (0–99; default 50). */
export const ESPEAK_SPEEDS = Object.freeze([130, 150, 170, 190, 210]);
export const ESPEAK_PITCHES = Object.freeze([25, 40, 50, 60, 75]);
/** flite `duration_stretch` (> 1 is slower) and a sox `pitch` shift in cents (flite voices ignore f0 settings unevenly). */
export const FLITE_STRETCHES = Object.freeze([0.8, 0.9, 1, 1.15, 1.3]);
export const FLITE_PITCH_CENTS = Object.freeze([-300, -150, 0, 150, 300]);

export type Split = 'train' | 'test';

export interface Speaker {
  /** File-name safe id, e.g. `espeak-en-us-m3` or `flite-rms`. */
  id: string;
  engine: 'espeak-ng' | 'flite';
  /** espeak-ng accent (`-v` language) or flite voice. */
  voice: string;
  /** espeak-ng variant (`+variant`), '' for flite. */
  variant: string;
  split: Split;
}

export interface ClipPlan {
  /** Path relative to the output folder: `{word}/{speaker}_{take}.wav`. */
  path: string;
  label: string;
  speaker: string;
  take: number;
  split: Split;
  /** espeak-ng: words per minute; flite: undefined. */
  speed?: number;
  /** espeak-ng: pitch 0–99; flite: undefined. */
  pitch?: number;
  /** flite: duration stretch; espeak-ng: undefined. */
  stretch?: number;
  /** flite: sox pitch shift in cents; espeak-ng: undefined. */
  pitchCents?: number;
  noise: NoiseType;
  /** Speech power (over the trimmed speech) over noise power (over the clip), in dB. */
  snrDb: number;
  /** Uniform in [0, 1): where the speech starts within the free space of the clip (fraction). */
  offsetFraction: number;
  /** Uniform in [0, 1): where the noise segment starts within the long noise recording (fraction). */
  noiseFraction: number;
}

export interface PlanOptions {
  seed: number;
  /** Takes per (training speaker, word). */
  trainTakes: number;
  /** Takes per (test speaker, word). */
  testTakes: number;
  words?: readonly string[];
}

export const DEFAULT_PLAN_OPTIONS: Readonly<PlanOptions> = Object.freeze({ seed: 1, trainTakes: 8, testTakes: 4 });

/** The speakers, sorted by id: 24 espeak-ng + 3 flite in training, 8 espeak-ng + 1 flite in test. */
export function commandSpeakers(): Speaker[] {
  const speakers: Speaker[] = [];
  ESPEAK_ACCENTS.forEach((accent, i) => {
    for (let k = 0; k < 3; k++) {
      const variant = ESPEAK_TRAIN_VARIANTS[(3 * i + k) % ESPEAK_TRAIN_VARIANTS.length] as string;
      speakers.push({ id: `espeak-${accent}-${variant}`, engine: 'espeak-ng', voice: accent, variant, split: 'train' });
    }
    const variant = ESPEAK_TEST_VARIANTS[i % ESPEAK_TEST_VARIANTS.length] as string;
    speakers.push({ id: `espeak-${accent}-${variant}`, engine: 'espeak-ng', voice: accent, variant, split: 'test' });
  });
  for (const v of FLITE_TRAIN_VOICES) speakers.push({ id: `flite-${v}`, engine: 'flite', voice: v, variant: '', split: 'train' });
  for (const v of FLITE_TEST_VOICES) speakers.push({ id: `flite-${v}`, engine: 'flite', voice: v, variant: '', split: 'test' });
  return speakers.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** FNV-1a 32-bit hash of a string: a per-clip seed that does not depend on generation order. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

const pick = <T>(rand: () => number, items: readonly T[]): T => items[Math.floor(rand() * items.length)] as T;

/**
 * Every clip to generate, sorted by path; a pure function of the options. Each clip's parameters
 * come from its own generator seeded by hash(seed, speaker, word, take), so adding a speaker or a
 * take never changes the other clips.
 */
export function planCommands(options: Partial<PlanOptions> = {}): { speakers: Speaker[]; clips: ClipPlan[] } {
  const o = { ...DEFAULT_PLAN_OPTIONS, ...options };
  for (const k of ['trainTakes', 'testTakes'] as const) {
    if (!Number.isInteger(o[k]) || o[k] < 1) throw new Error(`planCommands: ${k} must be a positive integer, got ${o[k]}`);
  }
  if (!Number.isInteger(o.seed) || o.seed < 0) throw new Error(`planCommands: seed must be a non-negative integer, got ${o.seed}`);
  const words = [...(o.words ?? COMMAND_WORDS)].sort();
  const speakers = commandSpeakers();
  const clips: ClipPlan[] = [];
  for (const word of words) {
    if (!/^[a-z]+$/.test(word)) throw new Error(`planCommands: words must be lower-case letters only, got ${JSON.stringify(word)}`);
    for (const s of speakers) {
      const takes = s.split === 'train' ? o.trainTakes : o.testTakes;
      for (let take = 0; take < takes; take++) {
        const rand = mulberry32(fnv1a(`${o.seed}|${s.id}|${word}|${take}`));
        const clip: ClipPlan = {
          path: `${word}/${s.id}_${take}.wav`,
          label: word,
          speaker: s.id,
          take,
          split: s.split,
          noise: pick(rand, NOISE_TYPES),
          snrDb: pick(rand, SNR_DB),
          offsetFraction: rand(),
          noiseFraction: rand(),
        };
        if (s.engine === 'espeak-ng') {
          clip.speed = pick(rand, ESPEAK_SPEEDS);
          clip.pitch = pick(rand, ESPEAK_PITCHES);
        } else {
          clip.stretch = pick(rand, FLITE_STRETCHES);
          clip.pitchCents = pick(rand, FLITE_PITCH_CENTS);
        }
        clips.push(clip);
      }
    }
  }
  clips.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { speakers, clips };
}

// ---- manifest

export const MANIFEST_FILE = 'manifest.json';
export const MANIFEST_FORMAT = 'piq-tfjs-audio-commands/1';

export interface ManifestFile extends ClipPlan {
  sha256: string;
  bytes: number;
  /** Samples of speech after silence trimming (before padding to the clip length). */
  speechSamples: number;
}

export interface Manifest {
  format: string;
  generator: string;
  command: string;
  options: PlanOptions & { sampleRate: number; seconds: number; words: string[] };
  tools: Record<string, string>;
  speakers: Speaker[];
  files: ManifestFile[];
}

/** SHA-256 (hex) of bytes. */
export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Reads and shape-checks `dir/manifest.json`. */
export function readManifest(dir: string): Manifest {
  const path = join(dir, MANIFEST_FILE);
  if (!existsSync(path)) {
    throw new Error(`${path}: not found. Generate the dataset first: npm run make:audio-commands -- --out ${dir}`);
  }
  const m = JSON.parse(readFileSync(path, 'utf8')) as Manifest;
  if (m.format !== MANIFEST_FORMAT) throw new Error(`${path}: format must be '${MANIFEST_FORMAT}', got ${JSON.stringify(m.format)}. Regenerate the dataset.`);
  if (!Array.isArray(m.files) || !Array.isArray(m.speakers)) throw new Error(`${path}: 'files' and 'speakers' must be arrays. Regenerate the dataset.`);
  return m;
}

export interface VerifyResult {
  /** Files whose SHA-256 or size differs from the manifest. */
  changed: string[];
  /** Files listed in the manifest but absent. */
  missing: string[];
  /** WAV files in the folder that the manifest does not list. */
  unlisted: string[];
  /** Speakers that appear in both splits (must be empty: the split is speaker-independent). */
  sharedSpeakers: string[];
}

/** Checks every file against the manifest (size, SHA-256), lists extra WAV files, and checks the speaker split. */
export function verifyManifest(dir: string, manifest: Manifest = readManifest(dir)): VerifyResult {
  const changed: string[] = [];
  const missing: string[] = [];
  for (const f of manifest.files) {
    const p = join(dir, f.path);
    if (!existsSync(p)) {
      missing.push(f.path);
      continue;
    }
    const bytes = readFileSync(p);
    if (bytes.length !== f.bytes || sha256(bytes) !== f.sha256) changed.push(f.path);
  }
  const listed = new Set(manifest.files.map((f) => f.path));
  const unlisted = listClips(dir)
    .clips.map((c) => relative(dir, c.path).split(sep).join('/'))
    .filter((p) => !listed.has(p));
  const splitsOf = new Map<string, Set<Split>>();
  for (const f of manifest.files) {
    const s = splitsOf.get(f.speaker) ?? new Set<Split>();
    s.add(f.split);
    splitsOf.set(f.speaker, s);
  }
  const sharedSpeakers = [...splitsOf].filter(([, s]) => s.size > 1).map(([id]) => id).sort();
  return { changed, missing, unlisted, sharedSpeakers };
}

/** Throws, naming the files, unless {@link verifyManifest} found nothing wrong. */
export function assertVerified(dir: string, r: VerifyResult): void {
  const problems = [
    r.missing.length ? `${r.missing.length} missing (${r.missing.slice(0, 3).join(', ')})` : '',
    r.changed.length ? `${r.changed.length} changed since generation (${r.changed.slice(0, 3).join(', ')})` : '',
    r.unlisted.length ? `${r.unlisted.length} not in the manifest (${r.unlisted.slice(0, 3).join(', ')})` : '',
    r.sharedSpeakers.length ? `speakers in both splits: ${r.sharedSpeakers.join(', ')}` : '',
  ].filter(Boolean);
  if (problems.length > 0) throw new Error(`${dir}: does not match its manifest: ${problems.join('; ')}. Regenerate it with npm run make:audio-commands.`);
}

/**
 * The clips of a generated folder (via `listClips`), split by the manifest's speaker-independent
 * split, after checking every file against the manifest (`verify: false` skips the SHA-256 pass).
 */
export function loadCommandsSplit(dir: string, o: { verify?: boolean } = {}): { labels: string[]; train: Clip[]; test: Clip[]; manifest: Manifest } {
  const manifest = readManifest(dir);
  if (o.verify !== false) assertVerified(dir, verifyManifest(dir, manifest));
  const splitOf = new Map(manifest.files.map((f) => [f.path, f.split] as const));
  const listing = listClips(dir);
  const train: Clip[] = [];
  const test: Clip[] = [];
  for (const c of listing.clips) {
    const rel = relative(dir, c.path).split(sep).join('/');
    const split = splitOf.get(rel);
    if (split === undefined) throw new Error(`${dir}: ${rel} is not in the manifest. Regenerate the dataset.`);
    (split === 'test' ? test : train).push(c);
  }
  return { labels: listing.labels, train, test, manifest };
}
