// Opt-in multi-threaded XNNPACK for the tfjs wasm backend (4.x). See docs/performance.md,
// "Multi-threaded wasm", for why each step is needed and what it measures.
//
// tfjs-backend-wasm ships a threaded build (`tfjs-backend-wasm-threaded-simd.wasm`) that comes
// up with one thread in Node and on 2-core browsers, for three reasons:
//  1. Node: the flag WASM_HAS_MULTITHREAD_SUPPORT is hard-wired to false (tfjs issue #3830).
//  2. Node: Emscripten's pthread workers are started from `blob:` URLs, which Node's
//     worker_threads rejects; the worker script and the module factory are written to temp
//     files instead (the worker script has a working Node path; the factory's source refers to
//     the bundle's module-level names `require$$0..4` and `commonjsGlobal`, defined in a prelude).
//  3. Everywhere: backend.cc caps the pool at `logical cores / 2` (os.cpus() in Node,
//     navigator.hardwareConcurrency in browsers) in a static initializer that runs while the
//     module is instantiated; the reported core count is raised to 2 × threads for that moment.
// Node built-ins are reached through `process.getBuiltinModule` at call time, so this module
// bundles for browsers; it never imports the wasm package (the caller passes it in).
import * as tf from '@tensorflow/tfjs-core';
import { PiqConfigError } from '../errors';
import { boolean, describe, optionKeys, optionsObject } from '../internal/checks';

const OWNER = 'enableWasmThreads';
const BACKEND = 'wasm';
const FLAG = 'WASM_HAS_MULTITHREAD_SUPPORT';
/**
 * The largest pool {@link enableWasmThreads} accepts: tfjs-backend-wasm's backend.cc caps the
 * XNNPACK pool at 8 threads, and Emscripten starts 8 pool workers.
 *
 * @category Backends
 */
export const MAX_WASM_THREADS = 8;
/** Text the threaded build's module-factory Blob starts with (tf-backend-wasm.node.js, `init`). */
const FACTORY_MARK = 'var WasmBackendModuleThreadedSimd';
/** Text only the pthread worker script's Blob contains. */
const WORKER_MARK = 'WasmBackendModuleThreadedSimd(Module)';

/**
 * The two functions of `@tensorflow/tfjs-backend-wasm` that {@link enableWasmThreads} calls:
 * pass the package's module namespace (`import * as wasm from '@tensorflow/tfjs-backend-wasm'`).
 *
 * @category Backends
 */
export interface WasmThreadsBackendModule {
  /** Sets the XNNPACK pool size used when the backend initialises. */
  setThreadsCount(numThreads: number): void;
  /** The pool size the initialised backend really uses. */
  getThreadsCount(): number;
}

/**
 * Options of {@link enableWasmThreads}.
 *
 * @category Backends
 */
export interface EnableWasmThreadsOptions {
  /**
   * XNNPACK pool size, the calling thread included: an integer from 1 to 8.
   * @defaultValue the number of logical cores (`os.cpus().length` in Node,
   * `navigator.hardwareConcurrency` in browsers), at most 8
   */
  threads?: number;
  /**
   * Terminate the pool workers the pool does not use (Emscripten starts 8; `threads − 1` are
   * used). Each is a V8 isolate with its own heap: trimming saves memory and changes no result.
   * @defaultValue true
   */
  trimIdleWorkers?: boolean;
}

const ENABLE_WASM_THREADS_KEYS = optionKeys<EnableWasmThreadsOptions>({ threads: true, trimIdleWorkers: true });

/**
 * What {@link enableWasmThreads} did, and how to undo it.
 *
 * @category Backends
 */
export interface WasmThreads {
  /** `getThreadsCount()` of the initialised backend: the pool size in use (equals the request). */
  threads: number;
  /** Logical cores the platform reports (`os.cpus().length` / `navigator.hardwareConcurrency`). */
  logicalCores: number;
  /** Where the backend was set up: `'node'` (file shim, core count lifted) or `'browser'`. */
  environment: 'node' | 'browser';
  /** Pool workers terminated because the pool does not use them. */
  idleWorkersTerminated: number;
  /**
   * Removes the threaded `'wasm'` backend (its pool threads stop; Node can exit) and registers
   * the wasm backend factory again, single-threaded, so `tf.setBackend('wasm')` still works.
   * Tensors on the removed backend become unusable: read back what you need first. Idempotent.
   */
  dispose(): void;
}

/** The minimal shapes of the Node built-ins used here (src compiles without @types/node). */
interface NodeOs {
  cpus(): unknown[];
  tmpdir(): string;
}
interface NodeFs {
  mkdtempSync(prefix: string): string;
  writeFileSync(file: string, data: string): void;
  rmSync(path: string, options: { recursive: boolean; force: boolean }): void;
}
interface NodePath {
  join(...parts: string[]): string;
}
interface PoolWorker {
  terminate(): unknown;
  unref?: () => void;
}
interface EmscriptenPThread {
  unusedWorkers: PoolWorker[];
  runningWorkers: PoolWorker[];
}

function isNode(): boolean {
  return tf.env().getBool('IS_NODE');
}

/** Node built-ins, reached lazily so that bundlers for the browser see no import. */
function nodeBuiltins(): { os: NodeOs; fs: NodeFs; path: NodePath } {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown; version?: string } }).process;
  const get = proc?.getBuiltinModule;
  if (typeof get !== 'function') {
    throw new PiqConfigError(
      `${OWNER}: needs process.getBuiltinModule (Node >= 20.16), got Node ${proc?.version ?? 'unknown'}. Fix: upgrade Node.`,
    );
  }
  return { os: get.call(proc, 'os') as NodeOs, fs: get.call(proc, 'fs') as NodeFs, path: get.call(proc, 'path') as NodePath };
}

function logicalCores(): number {
  if (isNode()) return nodeBuiltins().os.cpus().length;
  const n = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
  return typeof n === 'number' && n > 0 ? n : 1;
}

type BackendFactory = Parameters<typeof tf.registerBackend>[1];

/** The engine's initialised backends and factories (public fields of tfjs-core's Engine). */
function engineState(): { initialised: boolean; factory: BackendFactory | null; priority: number } {
  const engine = tf.engine() as unknown as {
    registry: Record<string, unknown>;
    registryFactory: Record<string, { priority: number } | undefined>;
  };
  return {
    initialised: BACKEND in engine.registry,
    factory: tf.findBackendFactory(BACKEND) as BackendFactory | null,
    priority: engine.registryFactory[BACKEND]?.priority ?? 2,
  };
}

/**
 * Node: the Blob → file shim and the core-count lift, active until the returned restore runs.
 * Only Blobs whose text is the threaded build's factory or worker script are written to files.
 */
function installNodeShim(threads: number): () => void {
  const { os, fs, path } = nodeBuiltins();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'piq-wasm-threads-'));
  const factoryFile = path.join(dir, 'factory.cjs');
  const workerFile = path.join(dir, 'worker.cjs');
  const prelude =
    `globalThis.require$$0=require('fs');globalThis.require$$1=require('path');` +
    `globalThis.require$$3=require('perf_hooks');globalThis.require$$4=require('os');globalThis.commonjsGlobal=globalThis;` +
    `URL.createObjectURL=()=>${JSON.stringify(factoryFile)};URL.revokeObjectURL=()=>{};\n`;
  const workerBlobs = new WeakSet<Blob>();
  const OrigBlob = globalThis.Blob;
  const origCreateObjectURL = URL.createObjectURL;
  const origCpus = os.cpus;
  function ShimBlob(parts?: BlobPart[], options?: BlobPropertyBag): Blob {
    const blob = new OrigBlob(parts, options);
    if (Array.isArray(parts) && parts.every((p) => typeof p === 'string')) {
      const text = parts.join('');
      if (text.startsWith(FACTORY_MARK)) fs.writeFileSync(factoryFile, text);
      else if (text.includes(WORKER_MARK)) {
        fs.writeFileSync(workerFile, prelude + text);
        workerBlobs.add(blob);
      }
    }
    return blob; // a real Blob: Emscripten posts the factory Blob to every worker
  }
  ShimBlob.prototype = OrigBlob.prototype;
  globalThis.Blob = ShimBlob as unknown as typeof Blob;
  URL.createObjectURL = (obj: Blob | MediaSource) => (obj instanceof OrigBlob && workerBlobs.has(obj) ? workerFile : origCreateObjectURL.call(URL, obj));
  os.cpus = function cpus() {
    const real = origCpus.call(os);
    return real.length >= 2 * threads ? real : Array.from({ length: 2 * threads }, (_, i) => real[i % Math.max(1, real.length)]);
  };
  return () => {
    globalThis.Blob = OrigBlob;
    URL.createObjectURL = origCreateObjectURL;
    os.cpus = origCpus;
    // Every worker has read both files before the module resolves (Emscripten waits for all of them).
    fs.rmSync(dir, { recursive: true, force: true });
  };
}

/** Browser: report at least 2 × threads cores while the module instantiates (backend.cc's cap). */
function installBrowserShim(threads: number): () => void {
  const nav = (globalThis as { navigator?: object }).navigator;
  const reported = (nav as { hardwareConcurrency?: number } | undefined)?.hardwareConcurrency ?? 0;
  if (!nav || reported >= 2 * threads) return () => undefined;
  Object.defineProperty(nav, 'hardwareConcurrency', { value: 2 * threads, configurable: true });
  return () => {
    delete (nav as { hardwareConcurrency?: number }).hardwareConcurrency;
  };
}

/**
 * Initialises the tfjs `'wasm'` backend with its multi-threaded XNNPACK build and makes it the
 * active backend, so convolutions and matrix products run on several cores (measured speed-ups,
 * and when a second thread does not help, in docs/performance.md). Explicit opt-in.
 *
 * - Node (>= 20.16): applies the smallest shim that makes the threaded build run (the threads
 *   flag, the pthread worker scripts as temp files instead of `blob:` URLs, and the core count
 *   the pool is capped by); everything is restored and the temp files are deleted before this
 *   returns. The pool's workers are unref'd, so they do not keep the process alive; `dispose()`
 *   stops them and frees their memory before that.
 * - Browsers: the page must be cross-origin isolated (COOP `same-origin` + COEP `require-corp`
 *   headers) so that `SharedArrayBuffer` exists; only the core-count cap is lifted
 *   (`navigator.hardwareConcurrency` reports at least `2 × threads` while the module loads).
 *
 * Call it after importing the wasm package and before anything initialises the wasm backend
 * (the first tensor, `tf.ready()` or `tf.setBackend('wasm')`: importing the package makes wasm
 * the default backend). Results are bit-identical to the single-threaded build (XNNPACK splits
 * the output, not the sums). Combine with {@link enableWasmTraining} in any order.
 *
 * @param wasmBackend the `@tensorflow/tfjs-backend-wasm` module namespace (this library never
 *   imports a backend itself).
 * @param options pool size and worker trimming; see {@link EnableWasmThreadsOptions}.
 * @returns the pool size in use and a `dispose()` that removes the threaded backend.
 * @throws PiqConfigError for a bad argument, when the wasm backend is not registered or already
 *   initialised, on a page that is not cross-origin isolated, or when the pool comes up smaller
 *   than asked (the backend is removed again first).
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import * as wasm from '@tensorflow/tfjs-backend-wasm';
 * import '@tensorflow/tfjs-layers';
 * import { enableWasmThreads, enableWasmTraining } from 'piq-tfjs';
 *
 * enableWasmTraining({ fastConvTranspose: true, fastTile: true });
 * const threads = await enableWasmThreads(wasm, { threads: 2 }); // also does tf.setBackend('wasm')
 * console.log(tf.getBackend(), threads.threads, wasm.getThreadsCount()); // 'wasm' 2 2
 * // ... train and interpret ...
 * threads.dispose(); // stops the pool so that Node can exit
 * ```
 * @category Backends
 */
export async function enableWasmThreads(wasmBackend: WasmThreadsBackendModule, options: EnableWasmThreadsOptions = {}): Promise<WasmThreads> {
  const mod = wasmBackend as Partial<WasmThreadsBackendModule> | null | undefined;
  if (typeof mod !== 'object' || mod === null || typeof mod.setThreadsCount !== 'function' || typeof mod.getThreadsCount !== 'function') {
    throw new PiqConfigError(
      `${OWNER}: 'wasmBackend' must be the @tensorflow/tfjs-backend-wasm module (with setThreadsCount and getThreadsCount), got ${describe(wasmBackend)}. Fix: pass the module namespace of the @tensorflow/tfjs-backend-wasm package (see the example in the API docs).`,
    );
  }
  optionsObject(OWNER, options, ENABLE_WASM_THREADS_KEYS);
  const trim = boolean(OWNER, 'trimIdleWorkers', options.trimIdleWorkers ?? true);
  const node = isNode();
  const cores = logicalCores();
  const threads = options.threads ?? Math.min(MAX_WASM_THREADS, Math.max(1, cores));
  if (typeof threads !== 'number' || !Number.isInteger(threads) || threads < 1 || threads > MAX_WASM_THREADS) {
    throw new PiqConfigError(
      `${OWNER}: 'threads' must be an integer from 1 to ${MAX_WASM_THREADS} (the wasm backend's pool limit), got ${describe(threads)}. Fix: pass e.g. { threads: 2 }.`,
    );
  }
  const state = engineState();
  if (state.factory === null) {
    throw new PiqConfigError(
      `${OWNER}: the '${BACKEND}' backend is not registered, got no factory for it. Fix: load the @tensorflow/tfjs-backend-wasm package (a side-effect import) before calling ${OWNER}, and keep it.`,
    );
  }
  if (state.initialised) {
    throw new PiqConfigError(
      `${OWNER}: the '${BACKEND}' backend must not be initialised yet, got an initialised one (its thread pool is fixed at initialisation). Fix: call ${OWNER} before the first tensor, tf.ready() or tf.setBackend('wasm'), or dispose() an earlier ${OWNER} result first.`,
    );
  }
  if (node) {
    // Registered by the wasm package at import; tf.env().set throws for an unknown flag.
    tf.env().set(FLAG, true);
  } else if (!(await tf.env().getAsync(FLAG))) {
    throw new PiqConfigError(
      `${OWNER}: needs a cross-origin-isolated page (SharedArrayBuffer and wasm threads), got crossOriginIsolated = ${String((globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated)}. Fix: serve the page with 'Cross-Origin-Opener-Policy: same-origin' and 'Cross-Origin-Embedder-Policy: require-corp'.`,
    );
  }
  mod.setThreadsCount(threads);
  const restore = node ? installNodeShim(threads) : installBrowserShim(threads);
  let ok: boolean;
  try {
    ok = await tf.setBackend(BACKEND);
  } finally {
    restore();
  }
  const backend = ok ? (tf.engine() as unknown as { registry: Record<string, unknown> }).registry[BACKEND] : undefined;
  let disposed = false;
  const dispose = () => {
    if (disposed) return;
    disposed = true;
    const { factory, priority } = engineState();
    const registry = (tf.engine() as unknown as { registry: Record<string, unknown> }).registry;
    if (factory !== null && (backend === undefined || registry[BACKEND] === backend)) {
      tf.removeBackend(BACKEND); // the backend's dispose() terminates every pool worker
      tf.registerBackend(BACKEND, factory, priority);
    }
    if (node) tf.env().set(FLAG, false); // a later initialisation is the default, single-threaded one
  };
  if (!ok) {
    dispose();
    throw new PiqConfigError(`${OWNER}: the threaded '${BACKEND}' backend failed to initialise, got tf.setBackend('wasm') = false. Fix: see the console for the wasm error; setWasmPaths must point at a folder with tfjs-backend-wasm-threaded-simd.wasm.`);
  }
  const actual = mod.getThreadsCount();
  if (actual !== threads) {
    dispose();
    throw new PiqConfigError(
      `${OWNER}: the wasm pool must have ${threads} threads, got ${actual} (the backend was removed again). Fix: do not call setWasmPath (it forces the single-threaded build); use setWasmPaths.`,
    );
  }
  let idleWorkersTerminated = 0;
  const pthread = (backend as { wasm?: { PThread?: EmscriptenPThread } } | undefined)?.wasm?.PThread;
  if (trim && pthread) {
    for (const w of pthread.unusedWorkers) {
      w.terminate();
      idleWorkersTerminated++;
    }
    pthread.unusedWorkers.length = 0;
  }
  // The pool threads run for the backend's lifetime; unref'd, they do not keep Node alive
  // (Emscripten itself unrefs a worker when its thread ends).
  if (node && pthread) for (const w of pthread.runningWorkers) w.unref?.();
  return { threads: actual, logicalCores: cores, environment: node ? 'node' : 'browser', idleWorkersTerminated, dispose };
}
