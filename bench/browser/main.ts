// The browser speed benchmark's page: times the PIQ train step and interpret of bench/workloads.ts
// on the wasm backend (fast kernels), the way bench/speed.ts's Node child does, and publishes the
// result as `window.piqBench`. Query: `mode=default` (tf.setBackend('wasm'): what tfjs picks on
// its own) or `mode=threads&threads=N` (enableWasmThreads), `workload=mnist|colour64|colour128`,
// `reps=N`.
import * as tf from '@tensorflow/tfjs-core';
import * as wasm from '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-layers';
import { enableWasmThreads, enableWasmTraining, Trainer } from '../../src/index';
import { timeIt } from '../timing';
import { buildWorkload, WORKLOADS, type Workload } from '../workloads';

/** What the page measured. */
export interface BrowserBenchResult {
  mode: 'default' | 'threads';
  threadsRequested: number | null;
  /** getThreadsCount() of the initialised backend. */
  threads: number;
  workload: Workload;
  batch: number;
  crossOriginIsolated: boolean;
  hardwareConcurrency: number;
  simd: boolean;
  multithreadSupported: boolean;
  initMs: number;
  trainStepMs: number;
  interpretBatchMs: number;
  reps: number;
  tensorGrowth: number;
  userAgent: string;
}

declare global {
  interface Window {
    piqBench: { done: boolean; error: string | null; result: BrowserBenchResult | null };
  }
}

window.piqBench = { done: false, error: null, result: null };

async function run(): Promise<BrowserBenchResult> {
  const q = new URLSearchParams(location.search);
  const mode = q.get('mode') === 'threads' ? 'threads' : 'default';
  const threadsRequested = mode === 'threads' ? Number(q.get('threads') ?? '2') : null;
  const workload = (q.get('workload') ?? 'mnist') as Workload;
  const reps = Number(q.get('reps') ?? '10');
  const hardwareConcurrency = navigator.hardwareConcurrency;
  wasm.setWasmPaths(new URL('wasm/', location.href).href);
  enableWasmTraining({ fastConvTranspose: true, fastTile: true });
  const t0 = performance.now();
  if (threadsRequested !== null) await enableWasmThreads(wasm, { threads: threadsRequested });
  else if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend failed to initialise');
  const initMs = performance.now() - t0;

  const w = await buildWorkload(workload);
  const trainer = new Trainer(w.interpreter.model);
  const step = async () => {
    const r = trainer.trainStep(w.x);
    await r.total.data();
    tf.dispose([r.total, r.perplexity, ...Object.values(r.terms)]);
  };
  await step(); // initialises the codebook from data
  const before = tf.memory().numTensors;
  const trainStepMs = await timeIt(step, 2, reps);
  const tensorGrowth = tf.memory().numTensors - before;
  const interpretBatchMs = await timeIt(
    async () => {
      await w.interpreter.interpret(w.x, { batchSize: WORKLOADS[workload].batch });
    },
    2,
    reps,
  );
  trainer.dispose();
  w.dispose();
  return {
    mode,
    threadsRequested,
    threads: wasm.getThreadsCount(),
    workload,
    batch: WORKLOADS[workload].batch,
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
    hardwareConcurrency,
    simd: (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) as boolean,
    multithreadSupported: (await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')) as boolean,
    initMs,
    trainStepMs,
    interpretBatchMs,
    reps,
    tensorGrowth,
    userAgent: navigator.userAgent,
  };
}

const status = document.getElementById('status') as HTMLElement;
run()
  .then((result) => {
    window.piqBench = { done: true, error: null, result };
    status.textContent = 'done';
    (document.getElementById('out') as HTMLElement).textContent = JSON.stringify(result, null, 2);
  })
  .catch((e: unknown) => {
    window.piqBench = { done: true, error: e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : String(e), result: null };
    status.textContent = 'error';
  });
