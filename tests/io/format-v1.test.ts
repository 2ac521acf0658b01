// Saved artifacts of formatVersion 1 keep loading. The fixtures in tests/fixtures/format-v1/ were
// written once by piq-tfjs 0.1.0 (before the architecture refactor of issue #12) and are never
// regenerated; every expected value below is read from those files independently of the loader
// (model.json parsed as JSON, the weight file decoded with tf.io.decodeWeights).
import * as tf from '@tensorflow/tfjs-core';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInterpreter, loadInterpreter, readCheckpointState } from '../../src';
import { fileSystem } from '../../src/node';
import { memoryHandler } from '../fixtures/memory-handler';
import { CHECKPOINT_DIR, EPOCHS, FIT, INTERPRETER_DIR, fixtureClassifier, fixtureData, interpreterOptions } from '../fixtures/format-v1/spec';
import { expectNoTensorLeak } from '../helpers';

const here = join(dirname(fileURLToPath(import.meta.url)), '../fixtures/format-v1');

/** The committed files of one artifact, read without piq-tfjs. */
function readRaw(dir: string): { config: Record<string, unknown>; topology: Record<string, unknown>; specs: tf.io.WeightsManifestEntry[]; bytes: Uint8Array } {
  const json = JSON.parse(readFileSync(join(here, dir, 'model.json'), 'utf8')) as tf.io.ModelJSON;
  const group = json.weightsManifest[0] as tf.io.WeightsManifestConfig[number];
  const bin = readdirSync(join(here, dir)).find((f) => f.endsWith('.bin')) as string;
  const topology = json.modelTopology as Record<string, unknown>;
  return { config: topology.config as Record<string, unknown>, topology, specs: group.weights, bytes: new Uint8Array(readFileSync(join(here, dir, bin))) };
}

function decodeRaw(raw: ReturnType<typeof readRaw>): Record<string, tf.Tensor> {
  const buf = raw.bytes.buffer.slice(raw.bytes.byteOffset, raw.bytes.byteOffset + raw.bytes.byteLength) as ArrayBuffer;
  return tf.io.decodeWeights(buf, raw.specs) as Record<string, tf.Tensor>;
}

let classifier: ReturnType<typeof fixtureClassifier>;
let data: ReturnType<typeof fixtureData>;

beforeAll(() => {
  classifier = fixtureClassifier();
  data = fixtureData();
});

afterAll(() => {
  classifier.dispose();
  data.images.dispose();
  data.validation.dispose();
});

describe('formatVersion 1 interpreter artifact', () => {
  it('is what the fixture claims: format piq-interpreter, version 1', () => {
    const raw = readRaw(INTERPRETER_DIR);
    expect(raw.topology.format).toBe('piq-interpreter');
    expect(raw.topology.formatVersion).toBe(1);
  });

  it('loads with its configuration and every weight unchanged', async () => {
    const raw = readRaw(INTERPRETER_DIR);
    await expectNoTensorLeak(async () => {
      const interpreter = await loadInterpreter(fileSystem(join(here, INTERPRETER_DIR)), { classifier });
      expect(interpreter.getConfig()).toEqual(raw.config);
      // Saved before the output head was configurable: read as the sigmoid.
      expect(raw.config.outputActivation).toBeUndefined();
      expect(interpreter.model.outputActivation).toBe('sigmoid');
      const expected = decodeRaw(raw);
      const loaded = { ...interpreter.model.decoder.getWeights(), ...interpreter.model.quantizer.getWeights() };
      expect(Object.keys(loaded).sort()).toEqual(Object.keys(expected).sort());
      for (const [name, t] of Object.entries(expected)) {
        const got = loaded[name] as tf.Tensor;
        expect(got.shape, name).toEqual(t.shape);
        expect(Array.from(got.dataSync()), name).toEqual(Array.from(t.dataSync()));
      }
      tf.dispose([...Object.values(expected), ...Object.values(loaded)]);
      interpreter.dispose();
    });
  });

  it('interprets: the decision is the classifier\'s own and the masks lie in [0, 1]', async () => {
    const interpreter = await loadInterpreter(fileSystem(join(here, INTERPRETER_DIR)), { classifier });
    const r = await interpreter.interpret(data.validation);
    const argmax = tf.tidy(() => tf.argMax(classifier.predict(data.validation) as tf.Tensor, -1).dataSync());
    expect(Array.from(r.predictedClass)).toEqual(Array.from(argmax));
    expect(r.mask.length).toBe(8 * 8 * 8);
    expect(Math.min(...r.mask)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...r.mask)).toBeLessThanOrEqual(1);
    interpreter.dispose();
  });

  it('saves again to the same weight bytes and configuration', async () => {
    const raw = readRaw(INTERPRETER_DIR);
    const interpreter = await loadInterpreter(fileSystem(join(here, INTERPRETER_DIR)), { classifier });
    const handler = memoryHandler();
    await interpreter.save(handler);
    const again = handler.artifacts as tf.io.ModelArtifacts;
    expect((again.modelTopology as Record<string, unknown>).config).toEqual(raw.config);
    expect(again.weightSpecs).toEqual(raw.specs);
    expect(new Uint8Array(again.weightData as ArrayBuffer)).toEqual(raw.bytes);
    interpreter.dispose();
  });
});

describe('formatVersion 1 checkpoint', () => {
  it('reads its training state: step, epoch and the validation history', async () => {
    const raw = readRaw(CHECKPOINT_DIR);
    const training = raw.config.training as { globalStep: number; epochs: Array<{ validation: Record<string, number> }> };
    const state = await readCheckpointState(fileSystem(join(here, CHECKPOINT_DIR)));
    expect(state.globalStep).toBe(training.globalStep);
    expect(state.globalStep).toBe(4);
    expect(state.epoch).toBe(EPOCHS);
    expect(state.epochs).toHaveLength(EPOCHS);
    // Saved before 0.2, the file names validation input fidelity `FidIn`; it is read as `inputFidelity`.
    const saved = training.epochs.map((e) => e.validation.FidIn);
    expect(saved.every((v) => typeof v === 'number' && v >= 0 && v <= 1)).toBe(true);
    expect(state.epochs.map((e) => e.validation?.inputFidelity)).toEqual(saved);
    expect(state.epochs.every((e) => !('FidIn' in (e.validation ?? {})))).toBe(true);
  });

  it('loads as an interpreter and resumes training where it stopped', async () => {
    const fromCheckpoint = await loadInterpreter(fileSystem(join(here, CHECKPOINT_DIR)), { classifier });
    expect(fromCheckpoint.summary().mode).toBe('mask');
    fromCheckpoint.dispose();
    const interpreter = await createInterpreter(interpreterOptions(classifier));
    const history = await interpreter.fit(data.images, { ...FIT, epochs: EPOCHS + 1, validationData: data.validation, resumeFrom: fileSystem(join(here, CHECKPOINT_DIR)) });
    expect(history.steps).toBe(6);
    expect(history.epochs).toHaveLength(EPOCHS + 1);
    expect(interpreter.model.quantizer.usage().steps).toBeGreaterThan(0);
    interpreter.dispose();
  });
});
