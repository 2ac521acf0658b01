import * as tf from '@tensorflow/tfjs-core';
import { PiqConfigError, PiqError, PiqStateError } from '../errors';
import { describe } from '../internal/checks';

/** The `format` field of every saved interpreter. */
export const ARTIFACT_FORMAT = 'piq-interpreter';
/**
 * Version of the saved-interpreter format this build writes and reads.
 * @category IO
 */
export const ARTIFACT_FORMAT_VERSION = 1;

/**
 * Where to save or load: a tf.io URL (`indexeddb://name`, `localstorage://name`, `downloads://name`,
 * `file://path` once a file-system router is registered — see `piq-tfjs/node`) or any `tf.io.IOHandler`.
 * @category IO
 */
export type SaveDestination = string | tf.io.IOHandler;

/** CRC-32 (IEEE) of byte arrays, chained. Detects truncation and corruption of saved artifacts. */
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(chunks: Uint8Array[]): string {
  let c = 0xffffffff;
  for (const bytes of chunks) {
    for (let i = 0; i < bytes.length; i++) c = (CRC_TABLE[(c ^ (bytes[i] as number)) & 0xff] as number) ^ (c >>> 8);
  }
  return ((c ^ 0xffffffff) >>> 0).toString(16).padStart(8, '0');
}

function weightBytes(data: tf.io.WeightData | undefined): Uint8Array[] {
  if (!data) return [];
  const arr = Array.isArray(data) ? data : [data];
  return arr.map((b) => new Uint8Array(b));
}

/** JSON-stable stringify (sorted keys) so the checksum does not depend on key order. */
function stableStringify(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .sort()
    .filter((k) => o[k] !== undefined)
    .map((k) => `${JSON.stringify(k)}:${stableStringify(o[k])}`)
    .join(',')}}`;
}

/** The checksum stored in an artifact: CRC-32 over the config JSON, the weight specs and the weight bytes. */
function artifactChecksum(config: unknown, specs: tf.io.WeightsManifestEntry[], data: tf.io.WeightData | undefined): string {
  const enc = new TextEncoder();
  return crc32([enc.encode(stableStringify(config)), enc.encode(stableStringify(specs)), ...weightBytes(data)]);
}

/**
 * Writes an artifact: resolves the destination's handler, checks that it can save, encodes
 * `config` and `weights` (checksummed, with the format version) and saves. The caller keeps
 * ownership of `weights`.
 */
export async function writeArtifact(
  owner: string,
  destination: SaveDestination,
  artifact: { config: unknown; weights: Record<string, tf.Tensor>; generatedBy: string },
  name = 'destination',
): Promise<tf.io.SaveResult> {
  const handler = saveHandler(owner, destination, name);
  if (typeof handler.save !== 'function') throw new PiqConfigError(`${owner}: '${name}' must resolve to a tf.io handler with save(), got ${describe(destination)} whose handler has no save(). Pass a URL or a tf.io.IOHandler with save().`);
  const encoded = await encodeArtifacts(artifact.config, artifact.weights, artifact.generatedBy);
  const putBack = keepLocalStorageEntries(handler);
  try {
    return await handler.save(encoded);
  } catch (e) {
    if (e instanceof PiqError) throw e;
    const kept = putBack === undefined ? '' : putBack() ? ' The previous save under that name was kept.' : ' The previous save under that name could not be put back.';
    throw withCause(
      new PiqStateError(
        `${owner}: saving to '${name}' failed: ${messageOf(e)}.${kept} If the storage is full (localStorage holds about 5 MB per site), free space or save to indexeddb:// or a file instead.`,
      ),
      e,
    );
  }
}

/**
 * tf.io's localStorage handler removes every entry of a model when a save fails (e.g. over quota),
 * the previous save under that name included. Copies those entries first; the returned function
 * puts them back and says whether that worked. Undefined for any other handler.
 */
function keepLocalStorageEntries(handler: tf.io.IOHandler): (() => boolean) | undefined {
  const h = handler as { LS?: Storage; keys?: Record<string, string> };
  const ls = h.LS;
  if (!ls || typeof ls.getItem !== 'function' || !h.keys || typeof h.keys !== 'object') return undefined;
  const entries = Object.values(h.keys).map((k) => [k, ls.getItem(k)] as const);
  if (entries.every(([, v]) => v === null)) return undefined; // no previous save
  return () => {
    try {
      for (const [k, v] of entries) {
        if (v === null) ls.removeItem(k);
        else ls.setItem(k, v);
      }
      return true;
    } catch {
      for (const [k] of entries) ls.removeItem(k); // never leave a half-restored save behind
      return false;
    }
  };
}

function messageOf(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).replace(/\.$/, '');
}

function withCause<E extends Error>(e: E, cause: unknown): E {
  (e as { cause?: unknown }).cause = cause;
  return e;
}

/**
 * Reads an artifact: resolves the source's handler, checks that it can load, loads and decodes it
 * (format, version, size and checksum verified). The caller owns the returned weights.
 */
export async function readArtifact(
  owner: string,
  source: SaveDestination,
  name = 'source',
): Promise<{ config: unknown; weights: Record<string, tf.Tensor> }> {
  const handler = loadHandler(owner, source, name);
  if (typeof handler.load !== 'function') throw new PiqConfigError(`${owner}: '${name}' must resolve to a tf.io handler with load(), got ${describe(source)} whose handler has no load(). Pass a URL or a tf.io.IOHandler with load().`);
  let artifacts: tf.io.ModelArtifacts;
  try {
    artifacts = await handler.load();
  } catch (e) {
    if (e instanceof PiqError) throw e;
    throw withCause(
      new PiqStateError(`${owner}: loading '${name}' failed: ${messageOf(e)}. The artifact is missing, incomplete (a half-written save) or corrupted; save it again.`),
      e,
    );
  }
  return decodeArtifacts(owner, artifacts);
}

/** Encodes named weights and a JSON config into tf.io ModelArtifacts of our format. */
async function encodeArtifacts(config: unknown, weights: Record<string, tf.Tensor>, generatedBy: string): Promise<tf.io.ModelArtifacts> {
  const names = Object.keys(weights).sort();
  const { data, specs } = await tf.io.encodeWeights(names.map((name) => ({ name, tensor: weights[name] as tf.Tensor })));
  const checksum = artifactChecksum(config, specs, data);
  return {
    format: ARTIFACT_FORMAT,
    generatedBy,
    convertedBy: null,
    modelTopology: { format: ARTIFACT_FORMAT, formatVersion: ARTIFACT_FORMAT_VERSION, checksum, config: config as tf.io.ModelJSON['modelTopology'] } as unknown as tf.io.ModelJSON['modelTopology'],
    weightSpecs: specs,
    weightData: data,
  };
}

/** Validates and decodes artifacts of our format. Throws PiqStateError on anything unexpected. */
function decodeArtifacts(owner: string, artifacts: tf.io.ModelArtifacts | undefined): { config: unknown; weights: Record<string, tf.Tensor> } {
  if (!artifacts || typeof artifacts !== 'object') {
    throw new PiqStateError(`${owner}: 'source' must return model artifacts from load(), got ${describe(artifacts)}. Check the path or URL.`);
  }
  const topo = artifacts.modelTopology as { format?: unknown; formatVersion?: unknown; checksum?: unknown; config?: unknown } | undefined;
  if (!topo || typeof topo !== 'object' || topo.format !== ARTIFACT_FORMAT) {
    throw new PiqStateError(
      `${owner}: the artifact must have format '${ARTIFACT_FORMAT}', got ${describe(topo?.format ?? artifacts.format)}. Is this a piq-tfjs interpreter (not the classifier)?`,
    );
  }
  if (topo.formatVersion !== ARTIFACT_FORMAT_VERSION) {
    throw new PiqStateError(
      `${owner}: the artifact has format version ${describe(topo.formatVersion)}, but this piq-tfjs reads version ${ARTIFACT_FORMAT_VERSION}. Load it with the piq-tfjs version that saved it.`,
    );
  }
  const specs = artifacts.weightSpecs;
  const data = artifacts.weightData;
  const buffers = Array.isArray(data) ? data : [data];
  if (!specs || !data || !buffers.every((b) => b instanceof ArrayBuffer)) {
    throw new PiqStateError(`${owner}: the artifact has no weights (weightSpecs or weightData missing). The save is incomplete.`);
  }
  if (!Array.isArray(specs) || !specs.every(isWeightSpec)) {
    throw new PiqStateError(`${owner}: the artifact's weight specs are malformed: each must have a name, a shape of sizes and dtype float32 or int32, got ${describe(Array.isArray(specs) ? (specs as unknown[]).find((x) => !isWeightSpec(x)) : specs)}. The artifact is corrupted; re-save it.`);
  }
  const expectedBytes = specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1) * 4, 0);
  const gotBytes = weightBytes(data).reduce((n, b) => n + b.byteLength, 0);
  if (gotBytes !== expectedBytes) {
    throw new PiqStateError(`${owner}: the weights must be ${expectedBytes} bytes, got ${gotBytes}. The file is truncated or corrupted.`);
  }
  const checksum = artifactChecksum(topo.config, specs, artifacts.weightData);
  if (topo.checksum !== checksum) {
    throw new PiqStateError(`${owner}: checksum mismatch (stored ${describe(topo.checksum)}, computed '${checksum}'). The artifact is corrupted; re-save it.`);
  }
  const weights = tf.io.decodeWeights(data, specs) as Record<string, tf.Tensor>;
  return { config: topo.config, weights };
}

/** A weight spec as our writer makes them (no quantization; float32 or int32). */
function isWeightSpec(s: unknown): s is tf.io.WeightsManifestEntry {
  const w = s as Partial<tf.io.WeightsManifestEntry> | null;
  return (
    typeof w === 'object' &&
    w !== null &&
    typeof w.name === 'string' &&
    Array.isArray(w.shape) &&
    w.shape.every((d) => Number.isSafeInteger(d) && d >= 0) &&
    (w.dtype === 'float32' || w.dtype === 'int32') &&
    w.quantization === undefined
  );
}

/** Resolves a destination (URL or handler) for saving. */
export function saveHandler(owner: string, dest: SaveDestination, name = 'destination'): tf.io.IOHandler {
  if (typeof dest !== 'string') {
    if (!dest || typeof (dest as tf.io.IOHandler).save !== 'function') {
      throw new PiqConfigError(`${owner}: '${name}' must be a URL string or a tf.io.IOHandler with save(), got ${describe(dest)}.`);
    }
    return dest;
  }
  const handlers = tf.io.getSaveHandlers(dest);
  const h = handlers[0];
  if (!h) throw new PiqConfigError(`${owner}: '${name}' must be a URL with a registered tf.io save handler, got ${JSON.stringify(dest)}. ${routerHint(dest)}`);
  return h;
}

/** Resolves a source (URL or handler) for loading. */
export function loadHandler(owner: string, src: SaveDestination, name = 'source'): tf.io.IOHandler {
  if (typeof src !== 'string') {
    if (!src || typeof (src as tf.io.IOHandler).load !== 'function') {
      throw new PiqConfigError(`${owner}: '${name}' must be a URL string or a tf.io.IOHandler with load(), got ${describe(src)}.`);
    }
    return src;
  }
  const h = tf.io.getLoadHandlers(src)[0];
  if (!h) throw new PiqConfigError(`${owner}: '${name}' must be a URL with a registered tf.io load handler, got ${JSON.stringify(src)}. ${routerHint(src)}`);
  return h;
}

function routerHint(url: string): string {
  return url.startsWith('file://')
    ? "In Node, call registerFileSystemRouter() from 'piq-tfjs/node' first (or pass fileSystem(path))."
    : 'Use indexeddb://, localstorage://, downloads://, a registered scheme, or pass a tf.io.IOHandler.';
}
