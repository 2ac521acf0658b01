// Failures of the storage behind a save or a load: every one ends in a PiqStateError that says
// what happened, and a failed save over a localStorage model puts the previous save back.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { createInterpreter } from '../../src';
import { PiqStateError } from '../../src/errors';
import { readArtifact, writeArtifact } from '../../src/io/artifact';
import { memoryHandler } from '../fixtures/memory-handler';
import { expectThrowsWithoutLeak } from '../helpers';
import { tinyClassifier } from '../fixtures/synthetic';

/** A Storage over a Map with a byte quota (2 bytes per UTF-16 unit, as browsers count). */
function quotaStorage(quota: number): Storage & { map: Map<string, string> } {
  const map = new Map<string, string>();
  const used = () => [...map].reduce((n, [k, v]) => n + 2 * (k.length + v.length), 0);
  return {
    map,
    get length() {
      return map.size;
    },
    clear: () => map.clear(),
    getItem: (k) => map.get(k) ?? null,
    key: (i) => [...map.keys()][i] ?? null,
    removeItem: (k) => void map.delete(k),
    setItem(k, v) {
      const old = map.get(k);
      map.set(k, v);
      if (used() > quota) {
        if (old === undefined) map.delete(k);
        else map.set(k, old);
        throw new Error("Failed to execute 'setItem' on 'Storage': Setting the value exceeded the quota.");
      }
    },
  };
}

/** Behaves like tf.io's localStorage handler: writes five entries, and on failure removes them all. */
function localStorageLike(LS: Storage, path: string): tf.io.IOHandler {
  const keys = Object.fromEntries(['info', 'model_topology', 'weight_specs', 'weight_data', 'model_metadata'].map((s) => [s, `tensorflowjs_models/${path}/${s}`]));
  return {
    LS,
    keys,
    async save(a: tf.io.ModelArtifacts) {
      try {
        LS.setItem(keys.info as string, '{}');
        LS.setItem(keys.model_topology as string, JSON.stringify(a.modelTopology));
        LS.setItem(keys.weight_specs as string, JSON.stringify(a.weightSpecs));
        LS.setItem(keys.weight_data as string, 'x'.repeat((a.weightData as ArrayBuffer).byteLength * 2));
        LS.setItem(keys.model_metadata as string, '{}');
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      } catch {
        for (const k of Object.values(keys)) LS.removeItem(k);
        throw new Error(`Failed to save model '${path}' to local storage: size quota being exceeded is a possible cause of this failure.`);
      }
    },
  } as tf.io.IOHandler;
}

describe('storage failures', () => {
  it('turns a failing load (missing or half-written artifact) into a PiqStateError with the cause', async () => {
    const cause = new Error("In local storage, the binary weight values of model 'piq' are missing.");
    const e = await expectThrowsWithoutLeak(() => readArtifact('loadInterpreter', { load: () => Promise.reject(cause) }));
    expect(e).toBeInstanceOf(PiqStateError);
    expect(e.message).toBe(
      "loadInterpreter: loading 'source' failed: In local storage, the binary weight values of model 'piq' are missing. The artifact is missing, incomplete (a half-written save) or corrupted; save it again.",
    );
    expect((e as { cause?: unknown }).cause).toBe(cause);
  });

  it('refuses malformed weight specs and weight data before reading them', async () => {
    const h = memoryHandler();
    const x = tf.tensor1d([1, 2]);
    await writeArtifact('T.save', h, { config: {}, weights: { x }, generatedBy: 'test' });
    x.dispose();
    const good = h.artifacts as tf.io.ModelArtifacts;
    for (const [bad, message] of [
      [{ ...good, weightSpecs: [{ name: 'x', shape: 'oops', dtype: 'float32' }] }, /weight specs are malformed/],
      [{ ...good, weightSpecs: [{ name: 'x', shape: [2], dtype: 'complex64' }] }, /weight specs are malformed/],
      [{ ...good, weightData: 'AAAA' }, /has no weights/],
    ] as const) {
      const e = await expectThrowsWithoutLeak(() => readArtifact('T.load', { load: async () => bad as unknown as tf.io.ModelArtifacts }));
      expect(e).toBeInstanceOf(PiqStateError);
      expect(e.message).toMatch(message);
    }
  });

  it('reports a save over quota clearly and puts the previous localStorage save back', async () => {
    const LS = quotaStorage(4000);
    const small = { x: tf.ones([10]) };
    await writeArtifact('Interpreter.save', localStorageLike(LS, 'piq'), { config: { v: 1 }, weights: small, generatedBy: 'test' });
    const before = new Map(LS.map);
    const big = { x: tf.ones([2000]) };
    const e = await expectThrowsWithoutLeak(() => writeArtifact('Interpreter.save', localStorageLike(LS, 'piq'), { config: { v: 2 }, weights: big, generatedBy: 'test' }));
    expect(e).toBeInstanceOf(PiqStateError);
    expect(e.message).toMatch(
      /^Interpreter\.save: saving to 'destination' failed: Failed to save model 'piq' to local storage: size quota being exceeded is a possible cause of this failure\. The previous save under that name was kept\. If the storage is full/,
    );
    expect(LS.map).toEqual(before);
    tf.dispose([small.x, big.x]);
  });

  it('turns any other failing save into a PiqStateError', async () => {
    const w = { x: tf.ones([2]) };
    const e = await expectThrowsWithoutLeak(() => writeArtifact('Interpreter.save', { save: () => Promise.reject(new Error('disk full.')) }, { config: {}, weights: w, generatedBy: 't' }));
    expect(e).toBeInstanceOf(PiqStateError);
    expect(e.message).toMatch(/^Interpreter\.save: saving to 'destination' failed: disk full\. If the storage is full/);
    w.x.dispose();
  });

  it('never saves an interpreter whose weights are not finite', async () => {
    const classifier = tinyClassifier(3);
    const interpreter = await createInterpreter({ classifier, seed: 1 });
    const w = interpreter.model.getWeights();
    const poisoned = tf.fill((w['decoder/0'] as tf.Tensor).shape, Number.NaN);
    interpreter.model.setWeights({ ...w, 'decoder/0': poisoned });
    tf.dispose([...Object.values(w), poisoned]);
    const h = memoryHandler();
    const e = await expectThrowsWithoutLeak(() => interpreter.save(h));
    expect(e).toBeInstanceOf(PiqStateError);
    expect(e.message).toMatch(/^Interpreter\.save: the weights must be finite to be saved, got NaN or Infinity\./);
    expect(h.artifacts).toBeUndefined();
    interpreter.dispose();
    classifier.dispose();
  });
});
