/// <reference types="node" />
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { PiqConfigError, PiqStateError } from '../errors';
import { crc32 } from '../io/artifact';

const MODEL_JSON = 'model.json';

function concat(data: tf.io.WeightData | undefined): Uint8Array {
  if (!data) return new Uint8Array(0);
  const parts = (Array.isArray(data) ? data : [data]).map((b) => new Uint8Array(b));
  const total = parts.reduce((n, p) => n + p.byteLength, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}

/**
 * A tf.io handler that saves to and loads from a folder on the local file system, in the
 * standard tfjs layout (`model.json` + a weights file), without tfjs-node.
 *
 * Saving is atomic: the weights go to a new file named by their checksum, `model.json` is written
 * to a temporary name and renamed over the old one (an atomic step on POSIX file systems), and
 * only then are stale weight files removed. A crash at any point leaves the previous save readable.
 *
 * @example
 * ```ts
 * import { fileSystem } from 'piq-tfjs/node';
 * await interpreter.save(fileSystem('./out/piq-mnist'));
 * const again = await loadInterpreter(fileSystem('./out/piq-mnist'), { classifier: model });
 * ```
 * @category IO
 */
export function fileSystem(path: string): tf.io.IOHandler {
  if (typeof path !== 'string' || path.length === 0) {
    throw new PiqConfigError(`fileSystem: 'path' must be a non-empty folder path, got ${JSON.stringify(path)}.`);
  }
  const dir = resolve(path.startsWith('file://') ? path.slice('file://'.length) : path);
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      await mkdir(dir, { recursive: true });
      const bytes = concat(artifacts.weightData);
      const weightsName = `weights-${crc32([bytes])}-${bytes.byteLength}.bin`;
      const tmpWeights = join(dir, `.${weightsName}.tmp-${process.pid}-${Date.now()}`);
      await writeFile(tmpWeights, bytes);
      await rename(tmpWeights, join(dir, weightsName));
      const json: tf.io.ModelJSON & Record<string, unknown> = {
        modelTopology: artifacts.modelTopology ?? {},
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
        weightsManifest: [{ paths: [weightsName], weights: artifacts.weightSpecs ?? [] }],
      };
      const tmpJson = join(dir, `.${MODEL_JSON}.tmp-${process.pid}-${Date.now()}`);
      await writeFile(tmpJson, JSON.stringify(json));
      await rename(tmpJson, join(dir, MODEL_JSON));
      for (const f of await readdir(dir)) {
        if (/^weights-[0-9a-f]{8}-\d+\.bin$/.test(f) && f !== weightsName) await rm(join(dir, f), { force: true });
      }
      return {
        modelArtifactsInfo: {
          dateSaved: new Date(),
          modelTopologyType: 'JSON',
          modelTopologyBytes: JSON.stringify(json.modelTopology).length,
          weightSpecsBytes: JSON.stringify(artifacts.weightSpecs ?? []).length,
          weightDataBytes: bytes.byteLength,
        },
      };
    },
    async load(): Promise<tf.io.ModelArtifacts> {
      let text: string;
      try {
        text = await readFile(join(dir, MODEL_JSON), 'utf8');
      } catch (e) {
        throw new PiqStateError(`fileSystem.load: cannot read ${join(dir, MODEL_JSON)}: ${(e as Error).message}`);
      }
      let json: tf.io.ModelJSON;
      try {
        json = JSON.parse(text) as tf.io.ModelJSON;
      } catch {
        throw new PiqStateError(`fileSystem.load: ${join(dir, MODEL_JSON)} is not valid JSON (truncated or corrupted).`);
      }
      const specs: tf.io.WeightsManifestEntry[] = [];
      const buffers: Uint8Array[] = [];
      for (const group of json.weightsManifest ?? []) {
        specs.push(...group.weights);
        for (const p of group.paths) {
          try {
            buffers.push(new Uint8Array(await readFile(join(dir, p))));
          } catch (e) {
            throw new PiqStateError(`fileSystem.load: weights file ${join(dir, p)} is missing: ${(e as Error).message}`);
          }
        }
      }
      const all = concat(buffers.map((b) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer));
      return {
        modelTopology: json.modelTopology,
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy,
        weightSpecs: specs,
        weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer,
      };
    },
  };
}

let registered = false;
/** Set while a router asks tf.io who else handles a URL, so it does not answer itself. */
let asking = false;

/**
 * A router that handles `file://` URLs only when no other registered router does (tfjs-node's, for
 * one): it asks tf.io at each lookup, so the order in which the two were registered does not matter
 * and a URL never gets two handlers (tf.io refuses to save then).
 */
function deferringRouter(others: (url: string) => unknown[]): (url: string | string[]) => tf.io.IOHandler | null {
  return (url) => {
    if (asking || typeof url !== 'string' || !url.startsWith('file://')) return null;
    asking = true;
    try {
      if (others(url).length > 0) return null;
    } finally {
      asking = false;
    }
    return fileSystem(url);
  };
}

/**
 * Registers `file://` URLs with tf.io so `interpreter.save('file://./out/x')` and
 * `loadInterpreter('file://./out/x', …)` work in Node without tfjs-node. In Node, `import
 * 'piq-tfjs'` already does this (the package's `node` export condition); call it yourself only
 * when a bundler gave you the browser build. Idempotent; leaves `file://` to any other router
 * (e.g. tfjs-node's), whichever was registered first.
 *
 * @example
 * ```ts
 * import { registerFileSystemRouter } from 'piq-tfjs/node';
 * registerFileSystemRouter();
 * await interpreter.save('file://./out/piq-mnist');
 * ```
 * @category IO
 */
export function registerFileSystemRouter(): void {
  if (registered) return;
  registered = true;
  type Router = Parameters<typeof tf.io.registerSaveRouter>[0];
  tf.io.registerSaveRouter(deferringRouter((url) => tf.io.getSaveHandlers(url)) as unknown as Router);
  tf.io.registerLoadRouter(deferringRouter((url) => tf.io.getLoadHandlers(url)) as unknown as Router);
}
