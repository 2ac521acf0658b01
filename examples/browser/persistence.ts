// Page script of persistence.html, driven by e2e-persistence.ts: exposes `window.piqPersistence`
// to save the demo's interpreter to browser storage, load it back (after a reload), and damage
// saves on purpose (a quota filled up first, entries removed, weights truncated or swapped).
// Runs on the cpu backend, so interpretations can be compared bit for bit.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import { createInterpreter, loadInterpreter, PiqError, type Interpreter } from 'piq-tfjs';

/** One interpretation of the test digits, as plain numbers (float32 values are exact as doubles). */
export interface PersistedResult {
  predictedClass: number[];
  mask: number[];
  interpretation: number[];
  codeIndices: number[];
}

/** How a save or load attempt ended. */
export type Outcome = { ok: true } | { ok: false; name: string; piqError: boolean; message: string };

export interface PersistenceApi {
  ready: boolean;
  error: string | null;
  /** Interprets the test digits with the interpreter loaded from `url` ('http' = the served model). */
  interpretFrom(url: string): Promise<PersistedResult>;
  /** Saves the served interpreter (or, with `bigger`, a freshly created one with a larger codebook) to `url`. */
  save(url: string, options?: { bigger?: boolean }): Promise<Outcome>;
  load(url: string): Promise<Outcome>;
  /** Fills localStorage with filler entries until the quota is reached; returns the characters stored. */
  fillLocalStorage(): number;
  clearFiller(): void;
  /** tf.io's localStorage entry `tensorflowjs_models/<name>/<part>`. */
  localStorageEntry(name: string, part: string): string | null;
  setLocalStorageEntry(name: string, part: string, value: string | null): void;
  /** Replaces the stored weights of an indexeddb:// model by their first `bytes` bytes. */
  truncateIndexedDbWeights(name: string, bytes: number): Promise<number>;
  /** Deletes the model record of an indexeddb:// model, leaving its info record (a half-finished save). */
  deleteIndexedDbModelRecord(name: string): Promise<void>;
}

declare global {
  interface Window {
    piqPersistence: PersistenceApi;
  }
}

let classifier: tfl.LayersModel;
let served: Interpreter;
let digits: tf.Tensor4D;
const FILLER = 'piq-e2e-filler/';

async function outcome(f: () => Promise<unknown>): Promise<Outcome> {
  try {
    await f();
    return { ok: true };
  } catch (e) {
    const err = e as Error;
    return { ok: false, name: err?.name ?? typeof e, piqError: e instanceof PiqError, message: err?.message ?? String(e) };
  }
}

async function interpretWith(interpreter: Interpreter): Promise<PersistedResult> {
  const r = await interpreter.interpret(digits);
  return { predictedClass: Array.from(r.predictedClass), mask: Array.from(r.mask), interpretation: Array.from(r.interpretation), codeIndices: Array.from(r.codeIndices) };
}

/** Opens tf.io's IndexedDB database and runs `f` on its model store. */
function withModelStore<T>(mode: IDBTransactionMode, f: (store: IDBObjectStore, done: (v: T) => void, fail: (e: unknown) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open('tensorflowjs', 1);
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const db = open.result;
      const tx = db.transaction('models_store', mode);
      f(
        tx.objectStore('models_store'),
        (v) => {
          tx.oncomplete = () => {
            db.close();
            resolve(v);
          };
        },
        (e) => {
          db.close();
          reject(e);
        },
      );
    };
  });
}

const api: PersistenceApi = {
  ready: false,
  error: null,
  async interpretFrom(url) {
    if (url === 'http') return interpretWith(served);
    const loaded = await loadInterpreter(url, { classifier });
    try {
      return await interpretWith(loaded);
    } finally {
      loaded.dispose();
    }
  },
  async save(url, options = {}) {
    return outcome(async () => {
      if (!options.bigger) return served.save(url);
      const big = await createInterpreter({ classifier, seed: 3, quantizer: { layout: { codesPerClass: 400 } } });
      try {
        return await big.save(url);
      } finally {
        big.dispose();
      }
    });
  },
  async load(url) {
    return outcome(async () => (await loadInterpreter(url, { classifier })).dispose());
  },
  fillLocalStorage() {
    // Halve the chunk on each refusal: ends with the storage full to within one character.
    let stored = 0;
    let chunk = 1 << 20;
    for (let i = 0; chunk > 0; i++) {
      try {
        localStorage.setItem(`${FILLER}${i}`, 'x'.repeat(chunk));
        stored += chunk;
      } catch {
        chunk >>= 1;
      }
    }
    return stored;
  },
  clearFiller() {
    for (const k of Object.keys(localStorage)) if (k.startsWith(FILLER)) localStorage.removeItem(k);
  },
  localStorageEntry(name, part) {
    return localStorage.getItem(`tensorflowjs_models/${name}/${part}`);
  },
  setLocalStorageEntry(name, part, value) {
    const key = `tensorflowjs_models/${name}/${part}`;
    if (value === null) localStorage.removeItem(key);
    else localStorage.setItem(key, value);
  },
  truncateIndexedDbWeights(name, bytes) {
    return withModelStore<number>('readwrite', (store, done, fail) => {
      const get = store.get(name);
      get.onerror = () => fail(get.error);
      get.onsuccess = () => {
        const record = get.result as { modelArtifacts: tf.io.ModelArtifacts };
        const data = record.modelArtifacts.weightData as ArrayBuffer;
        record.modelArtifacts.weightData = data.slice(0, bytes);
        const put = store.put(record);
        put.onerror = () => fail(put.error);
        done(data.byteLength);
      };
    });
  },
  deleteIndexedDbModelRecord(name) {
    return withModelStore<void>('readwrite', (store, done, fail) => {
      const del = store.delete(name);
      del.onerror = () => fail(del.error);
      done(undefined);
    });
  },
};
window.piqPersistence = api;

async function main(): Promise<void> {
  await tf.setBackend('cpu');
  const models = new URL('models/', location.href).href;
  classifier = await tfl.loadLayersModel(`${models}classifier/model.json`);
  served = await loadInterpreter(`${models}interpreter/model.json`, { classifier });
  const file = (await (await fetch(new URL('digits.json', location.href))).json()) as { labels: number[]; pixels: string };
  const bytes = Uint8Array.from(atob(file.pixels), (c) => c.charCodeAt(0));
  digits = tf.tensor4d(Float32Array.from(bytes, (b) => b / 255), [file.labels.length, 28, 28, 1]);
  api.ready = true;
  document.getElementById('status')!.textContent = 'ready';
}

main().catch((e: unknown) => {
  api.error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  document.getElementById('status')!.textContent = api.error;
});
