// Fuzzing of saved files (fast-check, seeded): bytes of a saved interpreter and of a checkpoint
// (model.json and the weights file, as piq-tfjs/node writes them) are flipped, dropped, replaced or
// truncated. Loading must then either fail with a PiqError, or give exactly the saved model: never
// another exception, a hang or a silently different model. numRuns is sized so the file runs in
// a few seconds on the cpu backend; FUZZ_RUNS=<n> runs more.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInterpreter, loadInterpreter, PiqError, type Interpreter } from '../../src';
import { readArtifact } from '../../src/io/artifact';
import { readCheckpointState } from '../../src/training/checkpoint';
import { fileSystem } from '../../src/node';
import { squaresDataset, tinyClassifier } from '../fixtures/synthetic';
import { weightArrays } from '../fixtures/checkpoint-run';

const RUNS = Number(process.env.FUZZ_RUNS ?? 100);
const SEED = 16;
const FIT = { batchSize: 8, seed: 5, logEvery: 1, learningRate: 5e-3 } as const;

/** The files of a save: name → bytes. */
type Files = Record<string, Uint8Array>;

function readFiles(dir: string): Files {
  return Object.fromEntries(readdirSync(dir).map((f) => [f, new Uint8Array(readFileSync(join(dir, f)))]));
}

/** One corruption of one file. */
type Mutation =
  | { file: 'json' | 'weights'; op: 'flip'; at: number; bit: number }
  | { file: 'json' | 'weights'; op: 'replace'; at: number; byte: number }
  | { file: 'json' | 'weights'; op: 'drop'; at: number; count: number }
  | { file: 'json' | 'weights'; op: 'truncate'; at: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ file: fc.constantFrom('json' as const, 'weights' as const), op: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ file: fc.constantFrom('json' as const, 'weights' as const), op: fc.constant('replace' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ file: fc.constantFrom('json' as const, 'weights' as const), op: fc.constant('drop' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ file: fc.constantFrom('json' as const, 'weights' as const), op: fc.constant('truncate' as const), at: fc.nat() }),
);

function mutate(bytes: Uint8Array, m: Mutation): Uint8Array {
  const at = m.at % bytes.length;
  const out = bytes.slice();
  switch (m.op) {
    case 'flip':
      out[at] = (out[at] as number) ^ (1 << m.bit);
      return out;
    case 'replace':
      out[at] = m.byte === out[at] ? (m.byte + 1) % 256 : m.byte;
      return out;
    case 'drop':
      return Uint8Array.from([...bytes.subarray(0, at), ...bytes.subarray(at + m.count)]);
    case 'truncate':
      return bytes.slice(0, at);
  }
}

/** Writes `files` with one of them mutated into a fresh folder. */
function writeMutated(root: string, files: Files, m: Mutation, n: number): string {
  const dir = join(root, `case-${n}`);
  mkdirSync(dir);
  for (const [name, bytes] of Object.entries(files)) {
    const target = m.file === 'json' ? name === 'model.json' : name.endsWith('.bin');
    writeFileSync(join(dir, name), target ? mutate(bytes, m) : bytes);
  }
  return dir;
}

/** Runs `load`: a PiqError is fine (returns undefined); any other exception fails the property. */
async function loadOrPiqError<T>(load: () => Promise<T>): Promise<T | undefined> {
  try {
    return await load();
  } catch (e) {
    if (!(e instanceof PiqError)) throw new Error(`loading threw ${(e as Error)?.name ?? typeof e}, not a PiqError: ${(e as Error)?.message ?? String(e)}`);
    return undefined;
  }
}

/** Config and weights of an artifact as plain data. */
async function content(source: tf.io.IOHandler): Promise<unknown> {
  const { config, weights } = await readArtifact('test', source);
  const out = { config, weights: Object.fromEntries(Object.entries(weights).map(([k, t]) => [k, [t.dtype, t.shape, Array.from(t.dataSync())]])) };
  tf.dispose(Object.values(weights));
  return out;
}

describe('loading corrupted artifacts ends in a PiqError or the exact saved model', () => {
  const root = mkdtempSync(join(tmpdir(), 'piq-fuzz-'));
  const classifier = tinyClassifier(3);
  const { images } = squaresDataset(16, 4);
  let interpreter: Interpreter;
  let saved: Files;
  let checkpoint: Files;
  let cases = 0;

  beforeAll(async () => {
    interpreter = await createInterpreter({ classifier, seed: 1, quantizer: { layout: { codesPerClass: 2, sharedCodes: 1 } }, decoder: { channels: 8 } });
    const ckDir = join(root, 'checkpoint');
    await interpreter.fit(images, { ...FIT, maxSteps: 3, checkpoint: { every: 3, unit: 'step', destination: fileSystem(ckDir) } });
    const saveDir = join(root, 'save');
    await interpreter.save(fileSystem(saveDir));
    saved = readFiles(saveDir);
    checkpoint = readFiles(ckDir);
  });

  afterAll(() => {
    interpreter.dispose();
    classifier.dispose();
    images.dispose();
    rmSync(root, { recursive: true, force: true });
  });

  it('a saved interpreter (loadInterpreter)', async () => {
    const expected = weightArrays(interpreter);
    const config = interpreter.getConfig();
    const before = tf.memory().numTensors;
    await fc.assert(
      fc.asyncProperty(mutation, async (m) => {
        const dir = writeMutated(root, saved, m, cases++);
        const loaded = await loadOrPiqError(() => loadInterpreter(fileSystem(dir), { classifier }));
        if (loaded) {
          // A corruption the format does not cover (e.g. in generatedBy) must leave the model as saved.
          expect(loaded.getConfig()).toEqual(config);
          expect(weightArrays(loaded)).toEqual(expected);
          loaded.dispose();
        }
        rmSync(dir, { recursive: true, force: true });
      }),
      { seed: SEED, numRuns: RUNS * 2, timeout: 10_000 },
    );
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a change outside what the checksum covers (generatedBy) loads the exact saved model', async () => {
    const json = JSON.parse(new TextDecoder().decode(saved['model.json'])) as { generatedBy: string };
    const edited = { ...saved, 'model.json': new TextEncoder().encode(JSON.stringify({ ...json, generatedBy: `${json.generatedBy} (edited)` })) };
    const dir = join(root, 'edited');
    mkdirSync(dir);
    for (const [name, bytes] of Object.entries(edited)) writeFileSync(join(dir, name), bytes);
    const loaded = await loadInterpreter(fileSystem(dir), { classifier });
    expect(weightArrays(loaded)).toEqual(weightArrays(interpreter));
    loaded.dispose();
  });

  it('a checkpoint (readCheckpointState, the artifact reader, and resuming from it)', async () => {
    const original = join(root, 'checkpoint');
    const expectedState = await readCheckpointState(fileSystem(original));
    const expectedContent = await content(fileSystem(original));
    await fc.assert(
      fc.asyncProperty(mutation, async (m) => {
        const dir = writeMutated(root, checkpoint, m, cases++);
        const state = await loadOrPiqError(() => readCheckpointState(fileSystem(dir)));
        if (state) expect(state).toEqual(expectedState);
        const got = await loadOrPiqError(() => content(fileSystem(dir)));
        if (got) expect(got).toEqual(expectedContent);
        rmSync(dir, { recursive: true, force: true });
      }),
      { seed: SEED + 1, numRuns: RUNS * 2, timeout: 10_000 },
    );
    // Resuming trains, so fewer runs: a corrupted checkpoint is refused before anything changes.
    const target = await createInterpreter({ classifier, seed: 1, quantizer: { layout: { codesPerClass: 2, sharedCodes: 1 } }, decoder: { channels: 8 } });
    const checkpointed = weightArrays(interpreter); // the checkpoint was written at the end of that fit
    await fc.assert(
      fc.asyncProperty(mutation, async (m) => {
        const dir = writeMutated(root, checkpoint, m, cases++);
        const prior = weightArrays(target);
        const h = await loadOrPiqError(() => target.fit(images, { ...FIT, maxSteps: 3, resumeFrom: fileSystem(dir) }));
        if (h) {
          // Accepted only when the content is intact: it resumes at step 3, with nothing left to do.
          expect(h.steps).toBe(3);
          expect(weightArrays(target)).toEqual(checkpointed);
        } else {
          expect(weightArrays(target)).toEqual(prior); // refused before anything changed
        }
        rmSync(dir, { recursive: true, force: true });
      }),
      { seed: SEED + 2, numRuns: Math.ceil(RUNS / 2), timeout: 10_000 },
    );
    target.dispose();
  });
});
