// `npm run make:audio-commands [-- --out <dir>]`: synthesises the spoken-commands task with Debian's
// espeak-ng and flite, mixes each word with sox-generated noise at a planned SNR, and writes
// 8 kHz 16-bit mono WAVs in the per-label layout `{word}/{speaker}_{take}.wav` plus manifest.json
// (options, tool versions, speakers and their split, every file's parameters and SHA-256).
// Deterministic: the plan is a pure function of the seed (dataset.ts), sox runs with -R (fixed
// seeds) and -D (no dither), and the outputs are byte-identical from run to run with the same tools.
// Needs: apt-get install -y espeak-ng flite sox.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { decodeWav, downmixToMono, encodeWav } from 'piq-tfjs/audio';
import { log, parseArgs, progressBar } from '../shared/cli';
import { gainForSnr, signalPower } from '../audio-digits/dataset';
import {
  COMMAND_WORDS,
  DEFAULT_PLAN_OPTIONS,
  MANIFEST_FILE,
  MANIFEST_FORMAT,
  NOISE_TYPES,
  assertVerified,
  planCommands,
  readManifest,
  sha256,
  verifyManifest,
  type ClipPlan,
  type Manifest,
  type ManifestFile,
  type NoiseType,
  type PlanOptions,
  type Speaker,
} from './dataset';

const run = promisify(execFile);

export const SAMPLE_RATE = 8000;
export const SECONDS = 1;
/** Peak of each written clip (the loader peak-normalises anyway; this keeps sox from clipping). */
const PEAK = 0.9;
/** Seconds of each noise type generated once and cut into per-clip segments. */
const NOISE_SECONDS = 30;

const HELP = `npm run make:audio-commands -- [options]
  --out <dir>          output folder (default .cache/audio-commands)
  --seed <n>           plan seed (default ${DEFAULT_PLAN_OPTIONS.seed})
  --train-takes <n>    takes per training speaker and word (default ${DEFAULT_PLAN_OPTIONS.trainTakes})
  --test-takes <n>     takes per test speaker and word (default ${DEFAULT_PLAN_OPTIONS.testTakes})
  --jobs <n>           clips synthesised in parallel (default 2)
  --check              only verify an existing folder against its manifest (SHA-256 of every file)
  --force              regenerate even if the folder already holds a dataset that verifies`;
const FLAGS = { out: 'string', seed: 'string', 'train-takes': 'string', 'test-takes': 'string', jobs: 'string', check: 'boolean', force: 'boolean' } as const;

async function toolVersions(): Promise<Record<string, string>> {
  const first = async (cmd: string, args: string[]) => {
    const text = (out: { stdout?: unknown; stderr?: unknown }) =>
      `${String(out.stdout ?? '')}${String(out.stderr ?? '')}`.split('\n').map((l) => l.trim()).filter(Boolean).join(' | ');
    try {
      return text(await run(cmd, args));
    } catch (e) {
      // flite --version prints its version and exits 1.
      const printed = text(e as { stdout?: unknown; stderr?: unknown });
      if ((e as { code?: unknown }).code !== 'ENOENT' && printed.includes('version')) return printed;
      throw new Error(`${cmd} is not installed or failed (${(e as Error).message.split('\n')[0]}). Install it: apt-get update && apt-get install -y espeak-ng flite sox`);
    }
  };
  return { 'espeak-ng': await first('espeak-ng', ['--version']), flite: await first('flite', ['--version']), sox: await first('sox', ['--version']) };
}

function readMono(path: string): Float32Array {
  const wav = decodeWav(new Uint8Array(readFileSync(path)));
  if (wav.sampleRate !== SAMPLE_RATE) throw new Error(`${path}: expected ${SAMPLE_RATE} Hz from sox, got ${wav.sampleRate}`);
  return downmixToMono(wav.channels);
}

async function makeNoise(dir: string, type: NoiseType): Promise<Float32Array> {
  const path = join(dir, `noise-${type}.wav`);
  await run('sox', ['-R', '-D', '-n', '-r', String(SAMPLE_RATE), '-c', '1', '-e', 'signed', '-b', '16', path, 'synth', String(NOISE_SECONDS), `${type}noise`]);
  return readMono(path);
}

/** The clip's speech (synthesised, resampled to 8 kHz, silence trimmed at both ends). */
async function synthesise(work: string, s: Speaker, c: ClipPlan): Promise<Float32Array> {
  const raw = join(work, 'raw.wav');
  const speech = join(work, 'speech.wav');
  if (s.engine === 'espeak-ng') {
    await run('espeak-ng', ['-v', `${s.voice}+${s.variant}`, '-s', String(c.speed), '-p', String(c.pitch), '-w', raw, c.label]);
  } else {
    await run('flite', ['-voice', s.voice, '--setf', `duration_stretch=${c.stretch}`, '-t', c.label, '-o', raw]);
  }
  // Normalise first so the trim threshold (0.2% of full scale for 10 ms) is relative to the word's peak:
  // quiet voices (kal16) and weak final fricatives ('off') keep their edges.
  const trim = ['silence', '1', '0.01', '0.2%'];
  const effects = [...(c.pitchCents ? ['pitch', String(c.pitchCents)] : []), 'norm', '-1', ...trim, 'reverse', ...trim, 'reverse'];
  await run('sox', ['-R', '-D', raw, '-r', String(SAMPLE_RATE), '-c', '1', '-e', 'signed', '-b', '16', speech, ...effects]);
  const samples = readMono(speech);
  if (samples.length === 0) throw new Error(`${c.path}: the synthesised speech is empty after silence trimming (${s.id}, '${c.label}')`);
  return samples;
}

/** Pads (or centre-crops) the speech into the clip, adds the planned noise segment at the planned SNR with sox, writes the WAV. */
async function mixAndWrite(work: string, outPath: string, speech: Float32Array, noise: Float32Array, c: ClipPlan): Promise<void> {
  const length = SAMPLE_RATE * SECONDS;
  let s = speech;
  if (s.length > length) {
    const start = Math.floor((s.length - length) / 2);
    s = s.subarray(start, start + length);
  }
  const padded = new Float32Array(length);
  padded.set(s, Math.floor(c.offsetFraction * (length - s.length + 1)));
  const noiseStart = Math.floor(c.noiseFraction * (noise.length - length + 1));
  const segment = noise.slice(noiseStart, noiseStart + length);
  // SNR: speech power over the speech's own samples, noise power over the clip.
  const g = gainForSnr(signalPower(s), signalPower(segment), c.snrDb);
  let peak = 0;
  for (let i = 0; i < length; i++) peak = Math.max(peak, Math.abs((padded[i] as number) + g * (segment[i] as number)));
  const k = PEAK / peak;
  const speechPath = join(work, 'padded.wav');
  const noisePath = join(work, 'noise.wav');
  writeFileSync(speechPath, encodeWav(padded, SAMPLE_RATE, { format: 'float32' }));
  writeFileSync(noisePath, encodeWav(segment, SAMPLE_RATE, { format: 'float32' }));
  mkdirSync(dirname(outPath), { recursive: true });
  await run('sox', ['-R', '-D', '-m', '-v', k.toPrecision(9), speechPath, '-v', (k * g).toPrecision(9), noisePath, '-e', 'signed', '-b', '16', outPath]);
}

export interface GenerateOptions extends Partial<PlanOptions> {
  out: string;
  jobs?: number;
  command?: string;
}

/** Generates the dataset into `out` (see the file header) and returns its manifest. */
export async function generateCommands(o: GenerateOptions): Promise<Manifest> {
  const planOptions: PlanOptions = {
    seed: o.seed ?? DEFAULT_PLAN_OPTIONS.seed,
    trainTakes: o.trainTakes ?? DEFAULT_PLAN_OPTIONS.trainTakes,
    testTakes: o.testTakes ?? DEFAULT_PLAN_OPTIONS.testTakes,
  };
  const plan = planCommands(planOptions);
  const tools = await toolVersions();
  const out = resolve(o.out);
  if (existsSync(out) && readdirSync(out).length > 0 && !existsSync(join(out, MANIFEST_FILE))) {
    throw new Error(`${out}: exists, is not empty and holds no ${MANIFEST_FILE}; refusing to write into it. Choose another --out.`);
  }
  // Regenerating: remove only what a previous run wrote (the word folders and the manifest).
  for (const w of COMMAND_WORDS) rmSync(join(out, w), { recursive: true, force: true });
  rmSync(join(out, MANIFEST_FILE), { force: true });
  mkdirSync(out, { recursive: true });
  const tmp = mkdtempSync(join(tmpdir(), 'piq-audio-commands-'));
  try {
    const noises = new Map<NoiseType, Float32Array>();
    for (const t of NOISE_TYPES) noises.set(t, await makeNoise(tmp, t));
    const speakers = new Map(plan.speakers.map((s) => [s.id, s]));
    const files: ManifestFile[] = new Array(plan.clips.length);
    const bar = progressBar('synthesising', plan.clips.length);
    let next = 0;
    const jobs = Math.max(1, o.jobs ?? 2);
    await Promise.all(
      Array.from({ length: jobs }, async (_, w) => {
        const work = join(tmp, `worker${w}`);
        mkdirSync(work);
        for (let i = next++; i < plan.clips.length; i = next++) {
          const c = plan.clips[i] as ClipPlan;
          const speaker = speakers.get(c.speaker) as Speaker;
          const speech = await synthesise(work, speaker, c);
          const outPath = join(out, c.path);
          await mixAndWrite(work, outPath, speech, noises.get(c.noise) as Float32Array, c);
          const bytes = readFileSync(outPath);
          files[i] = { ...c, sha256: sha256(bytes), bytes: bytes.length, speechSamples: speech.length };
          bar.tick(c.path);
        }
      }),
    );
    bar.done();
    const manifest: Manifest = {
      format: MANIFEST_FORMAT,
      generator: 'examples/audio-commands/make-dataset.ts',
      command: o.command ?? 'generateCommands()',
      options: { ...planOptions, sampleRate: SAMPLE_RATE, seconds: SECONDS, words: [...COMMAND_WORDS] },
      tools,
      speakers: plan.speakers,
      files,
    };
    writeFileSync(join(out, MANIFEST_FILE), `${JSON.stringify(manifest, null, 1)}\n`);
    writeFileSync(join(out, 'README.txt'), readme(manifest));
    return manifest;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function readme(m: Manifest): string {
  const count = (split: string) => m.files.filter((f) => f.split === split).length;
  const spk = (split: string) => m.speakers.filter((s) => s.split === split).map((s) => s.id).join(', ');
  return `Synthesised spoken commands for piq-tfjs (generated by ${m.generator}; not a recording of any person).
Words (classes): ${m.options.words.join(' ')}. ${m.options.sampleRate} Hz, 16-bit mono, ${m.options.seconds} s per clip.
Train: ${count('train')} clips from ${spk('train')}.
Test (speakers never heard in training): ${count('test')} clips from ${spk('test')}.
Tools: ${Object.entries(m.tools).map(([k, v]) => `${k}: ${v}`).join('; ')}.
Licences: see examples/audio-commands/README.md in piq-tfjs. In short: the clips are program output of
espeak-ng (GPL-3.0-or-later; GPL-3 section 2: output is covered only if, given its content, it
constitutes a covered work - a synthesised word does not), flite and its CMU voices (BSD-style CMU
licence), and sox (GPL-2+/LGPL) noise. No MBROLA voice is used.
manifest.json lists every file with its parameters and SHA-256.
`;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const args = parseArgs(argv, FLAGS, HELP);
  const out = resolve(args.string('out', '.cache/audio-commands'));
  const seed = Number(args.string('seed', String(DEFAULT_PLAN_OPTIONS.seed)));
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`--seed must be a non-negative integer, got ${args.string('seed', '')}`);
  if (args.flag('check') || (existsSync(join(out, MANIFEST_FILE)) && !args.flag('force'))) {
    const t0 = Date.now();
    const m = readManifest(out);
    assertVerified(out, verifyManifest(out, m));
    log(`${out}: ${m.files.length} clips match manifest.json (SHA-256 checked in ${((Date.now() - t0) / 1000).toFixed(1)} s)${args.flag('check') ? '' : '; pass --force to regenerate'}`);
    return;
  }
  const t0 = Date.now();
  const m = await generateCommands({
    out,
    seed,
    trainTakes: args.int('train-takes', DEFAULT_PLAN_OPTIONS.trainTakes),
    testTakes: args.int('test-takes', DEFAULT_PLAN_OPTIONS.testTakes),
    jobs: args.int('jobs', 2),
    command: `npm run make:audio-commands${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
  });
  const train = m.files.filter((f) => f.split === 'train').length;
  log(`wrote ${m.files.length} clips (${train} train / ${m.files.length - train} test) to ${out} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

const invoked = process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname);
if (invoked) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
