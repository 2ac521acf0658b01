// `npm run bench:speed [-- --quick]`: speed of piq-tfjs's own training step against PyTorch.
//
// Workloads (--workloads, default all three):
//   mnist      the MNIST demo's PiqModel: 28x28x1, batch 64, 7x7x64 tap, K = 160
//   colour64   a 64x64x3 classifier (conv32 s2, conv64 s2, conv128 s2 = 'features' 8x8x128, global
//              average pool, dense 10) with piq-tfjs's default decoder for that tap; batch 16
//   colour128  the same at 128x128x3 (tap 16x16x128); batch 16
// For each tfjs backend present it times, in a child process of its own (so that peak RSS is per
// backend and the wasm thread pool is fixed per process):
//   vq-step     quantize (training) + gradient of codebook + commitment loss + Adam on the codebook
//   train-step  Trainer.trainStep on the workload's PiqModel
//   interpret   Interpreter.interpret of one batch (ms per batch; images/s too)
// Backends: wasm (fast kernels, the package's single-threaded build), wasm-2t (fast kernels,
// enableWasmThreads with 2 threads), wasm-1t (the threaded build with 1 thread; not in the default
// list), wasm-default (the package's own kernels), cpu, webgpu (when a GPU and the `webgpu` package
// are there). The colour workloads run on the wasm variants and webgpu only. Each child reports
// getThreadsCount() and the load average at its start and end.
// Plus the wall time of `npm run demo` (with --quick: `npm run demo -- --quick`; wasm only).
// PyTorch (`python3` with torch, see bench/speed_torch.py) runs the same step at 1 and at 2 threads
// in the same run, per workload (1 thread twice: first, and again right after the wasm run, as the
// machine's load drifts); `ratio` = tfjs / the fastest of these torch runs, so it never flatters tfjs.
// Timings are medians after warm-up. `tensorGrowth` = tf.memory().numTensors after the timed
// steps minus before (mnist on wasm: over 1,000 steps; --quick: 100; cpu: 2, and with --quick one
// cold step and no count; colour: over the timed steps plus 20, --quick 0). Writes
// bench/results/speed-latest.json and speed-latest.md.
//
// Options: --quick (a few minutes) | --workloads mnist,colour64,colour128 |
// --backends cpu,wasm,wasm-1t,wasm-2t,wasm-default,webgpu | --no-torch | --no-demo |
// --python <path> (default: /usr/bin/python3 if it has torch, else python3).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { parseArgs } from '../examples/shared/cli';
import { median, timeIt } from './timing';
import { WORKLOADS, type Workload } from './workloads';

type Backend = 'cpu' | 'wasm' | 'wasm-1t' | 'wasm-2t' | 'wasm-default' | 'webgpu';
type CaseName = 'vq-step' | 'train-step' | 'interpret' | 'demo';
type TimedKey = 'vqStepMs' | 'trainStepMs' | 'interpretBatchMs';

/** Backends the colour workloads run on (cpu takes minutes per step; wasm-default is superseded). */
const COLOUR_BACKENDS: readonly Backend[] = ['wasm', 'wasm-1t', 'wasm-2t', 'webgpu'];
const loadAverage = () => loadavg().map((v) => Number(v.toFixed(2)));

interface Case {
  case: CaseName;
  workload: Workload;
  backend: string;
  /** Which wasm kernels: piq-tfjs's opt-in replacements ('fast') or the package's own ('default'). */
  kernels?: 'fast' | 'default';
  /** wasm: the build ('simd' = the package's default, 'threaded-simd' = enableWasmThreads). */
  build?: 'simd' | 'threaded-simd';
  /** wasm: getThreadsCount() in the child. */
  threads?: number;
  batch?: number;
  msPerImage?: number;
  msMedian: number | null;
  torchMsMedian?: number;
  torchMs1Thread?: number;
  torchMs2Threads?: number;
  ratio?: number;
  peakRssMiB: number | null;
  tensorGrowth: number | null;
  /** Timed repetitions (train-step: also the steps the growth was measured over). */
  reps?: number;
  imagesPerSecond?: number;
  torchImagesPerSecond?: number;
  /** os.loadavg() (1, 5, 15 min) at the child's start and end. */
  loadAverage?: { start: number[]; end: number[] };
  note?: string;
}

interface ChildResult {
  backend: string;
  workload: Workload;
  threads: number | null;
  batch: number;
  loadAverage: { start: number[]; end: number[] };
  vqStepMs: number;
  trainStepMs: number;
  interpretBatchMs: number;
  trainReps: number;
  growthSteps: number;
  tensorGrowth: number | null;
  peakRssMiB: number;
}

interface TorchResult {
  threads: number;
  /** The BLAS library the torch process loaded (the reference BLAS makes torch many times slower). */
  blas?: string;
  workload?: Workload;
  torch: string;
  loadAverage?: { start: number[]; end: number[] };
  vqStepMs: number;
  trainStepMs: number;
  interpretBatchMs: number;
  peakRssMiB: number;
}

const root = fileURLToPath(new URL('..', import.meta.url));
const tsx = join(root, 'node_modules', '.bin', 'tsx');

// ------------------------------------------------------------------ child: one backend
async function child(backend: Backend, workload: Workload, quick: boolean): Promise<void> {
  const loadAtStart = loadAverage();
  await import('@tensorflow/tfjs-backend-cpu');
  const { Trainer, enableWasmTraining, enableWasmThreads } = await import('../src/index');
  let threads: number | null = null;
  if (backend.startsWith('wasm')) {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    enableWasmTraining(backend === 'wasm-default' ? {} : { fastConvTranspose: true, fastTile: true });
    if (backend === 'wasm-1t' || backend === 'wasm-2t') {
      // The pool's workers are unref'd: the child exits by itself when done.
      await enableWasmThreads(wasm, { threads: backend === 'wasm-2t' ? 2 : 1 });
    } else if (!(await tf.setBackend('wasm'))) throw new Error('wasm backend failed to initialise');
    threads = wasm.getThreadsCount();
  } else if (backend === 'webgpu') {
    await setUpWebGpu();
  } else {
    await tf.setBackend('cpu');
  }
  await tf.ready();
  const sync = async (t: tf.Tensor) => {
    await t.data();
  };
  const slow = backend === 'cpu';
  const colour = workload !== 'mnist';
  const { batch: BATCH } = WORKLOADS[workload];
  const { buildWorkload } = await import('./workloads');
  const { loadMnist } = await import('../examples/mnist/mnist-data');
  const { x, classifier, interpreter } = await buildWorkload(workload, colour ? undefined : loadMnist('train', BATCH).images);
  const model = interpreter.model;

  // vq-step: the quantizer alone (features as a variable, so their gradient is computed as in the full step).
  const cls0 = model.classify(x);
  const u = tf.variable(model.decoder.encode(cls0.features, false), false, 'bench_vq_features');
  if (model.quantizer.needsDataInit) model.quantizer.initializeFromData(u, cls0.predictedClass);
  const codebookVars = model.quantizer.trainableVariables;
  const vqOpt = tf.train.adam(1e-3);
  const vqStep = async () => {
    const loss = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => {
        const r = model.quantizer.quantize(u, cls0.predictedClass, { training: true });
        return tf.add(r.codebookLoss, r.commitmentLoss) as tf.Scalar;
      }, [...codebookVars, u]);
      vqOpt.applyGradients(Object.fromEntries(codebookVars.map((v) => [v.name, grads[v.name] as tf.Tensor])) as tf.NamedTensorMap as Parameters<tf.AdamOptimizer['applyGradients']>[0]);
      return value;
    });
    await sync(loss);
    loss.dispose();
  };
  const vqStepMs = await timeIt(vqStep, 3, slow ? 5 : colour ? 10 : 20);
  if (process.env.PIQ_SPEED_DEBUG) console.error(`vq-step ${vqStepMs.toFixed(1)} ms`);
  vqOpt.dispose();
  u.dispose();
  tf.dispose([cls0.features, cls0.logits, cls0.predictedClass]);

  // train-step: the library's own step.
  const trainer = new Trainer(model);
  const trainStep = async () => {
    const r = trainer.trainStep(x);
    await sync(r.total);
    r.total.dispose();
    r.perplexity.dispose();
    for (const t of Object.values(r.terms)) t.dispose();
  };
  // cpu: tens of seconds per step, so few steps; the growth is counted over the timed steps too.
  // With --quick, cpu times ONE cold step (it includes the codebook's data initialisation and the
  // optimizer's first allocation) and counts no growth.
  const coldCpu = slow && quick;
  const trainReps = slow ? (quick ? 1 : 2) : colour ? (quick ? 5 : 10) : quick ? 15 : 30;
  const extraSteps = slow ? 0 : colour ? (quick ? 0 : 20) : backend === 'wasm-default' ? (quick ? 10 : 200) : quick ? 85 : 970;
  if (!coldCpu) for (let i = 0; i < (slow ? 1 : colour ? 2 : 5); i++) await trainStep(); // warm-up (the first also initialises the codebook)
  const before = tf.memory().numTensors;
  const trainStepMs = await timeIt(trainStep, 0, trainReps);
  for (let i = 0; i < extraSteps; i++) await trainStep();
  const growthSteps = coldCpu ? 0 : trainReps + extraSteps;
  const tensorGrowth = coldCpu ? null : tf.memory().numTensors - before;

  // interpret: one batch of 64, everything read back as plain arrays.
  const interpretBatchMs = await timeIt(
    async () => {
      await interpreter.interpret(x, { batchSize: BATCH });
    },
    2,
    slow ? 3 : colour ? 7 : 15,
  );
  trainer.dispose();
  interpreter.dispose();
  classifier.dispose();
  x.dispose();
  const result: ChildResult = {
    backend,
    workload,
    threads,
    batch: BATCH,
    loadAverage: { start: loadAtStart, end: loadAverage() },
    vqStepMs,
    trainStepMs,
    interpretBatchMs,
    trainReps,
    growthSteps,
    tensorGrowth,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
  };
  process.stdout.write(`\nPIQ_SPEED_RESULT ${JSON.stringify(result)}\n`);
}

/** WebGPU in Node: the `webgpu` package (Dawn) and @tensorflow/tfjs-backend-webgpu; needs a GPU. */
async function setUpWebGpu(): Promise<void> {
  const dawn = 'webgpu';
  const backendPkg = '@tensorflow/tfjs-backend-webgpu';
  const { create, globals } = (await import(dawn)) as { create: (o: string[]) => unknown; globals: object };
  Object.assign(globalThis, globals);
  Object.defineProperty(globalThis, 'navigator', { value: { gpu: create([]) }, configurable: true });
  await import(backendPkg);
  if (!(await tf.setBackend('webgpu'))) throw new Error('no WebGPU adapter (WebGPU in Node needs an NVIDIA GPU with a Vulkan driver)');
}

// ------------------------------------------------------------------ parent
function runChild(backend: Backend, workload: Workload, quick: boolean): ChildResult | { error: string } {
  const args = ['--tsconfig', join(root, 'tsconfig.test.json'), join(root, 'bench', 'speed.ts'), '--child', backend, '--workload', workload, ...(quick ? ['--quick'] : [])];
  const r = spawnSync(tsx, args, { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('PIQ_SPEED_RESULT '));
  if (r.status !== 0 || !line) {
    const err = (r.stderr ?? '').split('\n').filter((l) => /Error|error/.test(l)).slice(0, 2).join(' ').slice(0, 300);
    return { error: err || `exit ${r.status}` };
  }
  return JSON.parse(line.slice('PIQ_SPEED_RESULT '.length)) as ChildResult;
}

function findPython(explicit: string | undefined): string | undefined {
  const candidates = explicit ? [explicit] : ['/usr/bin/python3', 'python3'];
  for (const py of candidates) {
    try {
      execFileSync(py, ['-c', 'import torch'], { stdio: 'ignore', env: { ...process.env, OMP_NUM_THREADS: '1' } });
      return py;
    } catch {
      /* next */
    }
  }
  return undefined;
}

function runTorch(py: string, threads: number, workload: Workload, quick: boolean): TorchResult | undefined {
  const t = String(threads);
  const colour = workload !== 'mnist';
  const reps = colour ? (quick ? '5' : '10') : quick ? '15' : '30';
  const start = loadAverage();
  const r = spawnSync(py, [join(root, 'bench', 'speed_torch.py'), '--threads', t, '--workload', workload, '--reps', reps, '--budget', quick ? '12' : '60'], {
    encoding: 'utf8',
    env: { ...process.env, OMP_NUM_THREADS: t, OPENBLAS_NUM_THREADS: t, MKL_NUM_THREADS: t },
  });
  const line = (r.stdout ?? '').trim().split('\n').pop();
  if (r.status !== 0 || !line) {
    console.error(`torch (${workload}, ${threads} threads) failed: ${(r.stderr ?? '').slice(-300)}`);
    return undefined;
  }
  return { ...(JSON.parse(line) as TorchResult), loadAverage: { start, end: loadAverage() } };
}

function runDemo(backend: 'wasm' | 'cpu', quick: boolean): { seconds: number; peakRssMiB: number | null } | { error: string } {
  const out = mkdtempSync(join(tmpdir(), 'piq-speed-demo-'));
  const demoArgs = ['--tsconfig', join(root, 'tsconfig.test.json'), join(root, 'examples', 'mnist', 'demo.ts'), ...(quick ? ['--quick'] : []), '--backend', backend, '--out', out];
  const t0 = performance.now();
  // GNU time reports the peak RSS of the largest process in the tree (%M, KiB).
  const hasTime = spawnSync('/usr/bin/time', ['-f', '%M', 'true'], { encoding: 'utf8' }).status === 0;
  const r = hasTime
    ? spawnSync('/usr/bin/time', ['-f', 'PIQ_MAXRSS_KIB %M', tsx, ...demoArgs], { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
    : spawnSync(tsx, demoArgs, { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const seconds = (performance.now() - t0) / 1000;
  rmSync(out, { recursive: true, force: true });
  if (r.status !== 0) return { error: (r.stderr ?? '').split('\n').filter((l) => l.trim()).slice(-2).join(' ').slice(0, 300) };
  const m = /PIQ_MAXRSS_KIB (\d+)/.exec(r.stderr ?? '');
  return { seconds, peakRssMiB: m ? Number(m[1]) / 1024 : null };
}

function fmt(v: number | null | undefined, digits = 1): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits);
}

const HELP = `npm run bench:speed -- [options]
  --quick                 under 5 minutes (fewer steps; cpu: one cold step)
  --backends <list>       comma-separated: wasm,wasm-2t,wasm-default,cpu,webgpu (default all)
  --workloads <list>      comma-separated: mnist,colour64,colour128 (default all)
  --no-torch              leave PyTorch out (no ratios)
  --no-demo               do not time npm run demo
  --python <path>         python with torch (default /usr/bin/python3 if it has torch, else python3)`;
const FLAGS = { quick: 'boolean', backends: 'string', workloads: 'string', workload: 'string', 'no-torch': 'boolean', 'no-demo': 'boolean', python: 'string', child: 'string' } as const;
const args = parseArgs(process.argv.slice(2), FLAGS, HELP);

/** PyTorch runs of one workload: 1 thread (one or two runs) and 2 threads. */
interface TorchRuns {
  oneThread: TorchResult[];
  twoThreads: TorchResult | null;
}

const fastest = (xs: Array<number | undefined>): number | undefined => {
  const vs = xs.filter((v): v is number => v !== undefined);
  return vs.length ? Math.min(...vs) : undefined;
};

async function parent(): Promise<void> {
  const quick = args.flag('quick');
  const backends = args.string('backends', 'wasm,wasm-2t,wasm-default,cpu,webgpu').split(',') as Backend[];
  const workloads = args.string('workloads', 'mnist,colour64,colour128').split(',') as Workload[];
  for (const w of workloads) if (!(w in WORKLOADS)) throw new Error(`--workloads: unknown workload '${w}' (mnist, colour64, colour128)`);
  const t0 = performance.now();
  const machine = {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    tfjs: tf.version_core,
    loadAverageAtStart: loadAverage(),
    date: new Date().toISOString(),
    quick,
  } as Record<string, unknown>;

  const py = args.flag('no-torch') ? undefined : findPython(args.optional('python'));
  if (!py) console.error('torch: not found (install python3-torch, or pass --python); ratios are left out');
  const torch: Partial<Record<Workload, TorchRuns>> = {};
  const cases: Case[] = [];
  const childResults: ChildResult[] = [];

  for (const workload of workloads) {
    const { batch } = WORKLOADS[workload];
    // PyTorch at 1 and 2 threads, in this same run, right before this workload's tfjs runs.
    const runs: TorchRuns = { oneThread: [], twoThreads: null };
    if (py) {
      console.error(`torch ${workload}: 1 thread ...`);
      const one = runTorch(py, 1, workload, quick);
      if (one) runs.oneThread.push(one);
      console.error(`torch ${workload}: 2 threads ...`);
      runs.twoThreads = runTorch(py, 2, workload, quick) ?? null;
      machine.torch ??= one?.torch ?? runs.twoThreads?.torch;
      machine.torchBlas ??= one?.blas ?? runs.twoThreads?.blas;
      if (/\/blas\/libblas/.test(String(machine.torchBlas))) {
        console.error(`torch uses the REFERENCE BLAS (${String(machine.torchBlas)}): its times are several-fold too slow and the ratios flatter tfjs. Install OpenBLAS: apt-get install -y libopenblas0-pthread`);
      }
      torch[workload] = runs;
    }
    // torch at 1 thread runs again after the (first) wasm run (the machine's load drifts): the faster
    // of the two runs counts, so the ratio never flatters tfjs.
    let ranAgain = false;
    const torchAgain = () => {
      if (!py || runs.oneThread.length === 0 || ranAgain) return;
      ranAgain = true;
      console.error(`torch ${workload}: 1 thread, again ...`);
      const again = runTorch(py, 1, workload, quick);
      if (again) runs.oneThread.push(again);
    };
    const results: Array<{ b: Backend; r: ChildResult | { error: string } }> = [];
    for (const b of backends) {
      if (workload !== 'mnist' && !COLOUR_BACKENDS.includes(b)) continue;
      console.error(`tfjs ${b} ${workload} ...`);
      results.push({ b, r: runChild(b, workload, quick) });
      if (b === 'wasm') torchAgain(); // right after the library's wasm step, so the two are close in time
    }
    torchAgain();
    const oneThread = (k: TimedKey) => fastest(runs.oneThread.map((r) => r[k]));
    const withTorch = (c: Case, k: TimedKey): Case => {
      const t = fastest([oneThread(k), runs.twoThreads?.[k]]);
      if (t === undefined || c.msMedian === null) return c;
      return { ...c, torchMsMedian: t, torchMs1Thread: oneThread(k), torchMs2Threads: runs.twoThreads?.[k], ratio: c.msMedian / t };
    };
    for (const { b, r } of results) {
      const label = b === 'cpu' || b === 'webgpu' ? b : 'wasm';
      const kernels: Case['kernels'] = b === 'wasm-default' ? 'default' : label === 'wasm' ? 'fast' : undefined;
      const build: Case['build'] = b === 'wasm-1t' || b === 'wasm-2t' ? 'threaded-simd' : label === 'wasm' ? 'simd' : undefined;
      if ('error' in r) {
        console.error(`  ${b} ${workload}: skipped (${r.error})`);
        if (b !== 'webgpu') cases.push({ case: 'train-step', workload, backend: label, kernels, build, msMedian: null, peakRssMiB: null, tensorGrowth: null, note: `failed: ${r.error}` });
        else machine.webgpu = `skipped: ${r.error || 'not available'}`;
        continue;
      }
      childResults.push(r);
      const base = { workload, backend: label, kernels, build, threads: r.threads ?? undefined, batch, peakRssMiB: r.peakRssMiB, loadAverage: r.loadAverage };
      cases.push(withTorch({ case: 'vq-step', ...base, msMedian: r.vqStepMs, tensorGrowth: null }, 'vqStepMs'));
      cases.push(
        withTorch(
          { case: 'train-step', ...base, msMedian: r.trainStepMs, msPerImage: r.trainStepMs / batch, tensorGrowth: r.tensorGrowth, reps: r.trainReps, note: r.tensorGrowth === null ? 'one cold step (--quick), growth not counted' : `tensor growth over ${r.growthSteps} steps` },
          'trainStepMs',
        ),
      );
      const ic = withTorch({ case: 'interpret', ...base, msMedian: r.interpretBatchMs, msPerImage: r.interpretBatchMs / batch, tensorGrowth: null, imagesPerSecond: (batch * 1000) / r.interpretBatchMs, note: `ms per batch of ${batch}` }, 'interpretBatchMs');
      if (ic.torchMsMedian) ic.torchImagesPerSecond = (batch * 1000) / ic.torchMsMedian;
      cases.push(ic);
    }
  }
  if (!args.flag('no-demo')) {
    // The cpu demo takes hours (tens of seconds per step): wasm only.
    console.error(`demo (wasm${quick ? ', --quick' : ''}) ...`);
    const d = runDemo('wasm', quick);
    cases.push(
      'error' in d
        ? { case: 'demo', workload: 'mnist', backend: 'wasm', msMedian: null, peakRssMiB: null, tensorGrowth: null, note: `failed: ${d.error}` }
        : { case: 'demo', workload: 'mnist', backend: 'wasm', msMedian: d.seconds * 1000, peakRssMiB: d.peakRssMiB, tensorGrowth: null, note: `npm run demo${quick ? ' -- --quick' : ''}: wall time of one run (kernels as examples/shared/cli.ts enables them)` },
    );
  }
  machine.seconds = Number(((performance.now() - t0) / 1000).toFixed(1));
  machine.loadAverageAtEnd = loadAverage();

  // 2 threads against 1 (the package's single-threaded build), same kernels, same workload.
  const find = (workload: Workload, c: CaseName, build: Case['build'], threads: number) =>
    cases.find((k) => k.workload === workload && k.case === c && k.kernels === 'fast' && k.build === build && k.threads === threads && k.msMedian !== null);
  const threadSpeedUp = workloads.flatMap((workload) =>
    (['train-step', 'interpret', 'vq-step'] as const).flatMap((c) => {
      const one = find(workload, c, 'simd', 1);
      const two = find(workload, c, 'threaded-simd', 2);
      if (!one?.msMedian || !two?.msMedian) return [];
      return [{ workload, case: c, ms1Thread: one.msMedian, ms2Threads: two.msMedian, speedUp: one.msMedian / two.msMedian }];
    }),
  );
  // How the time per step grows with the input: train step and interpret per image, per workload.
  const perImage = (workload: Workload, c: 'train-step' | 'interpret', build: Case['build'], threads: number) => find(workload, c, build, threads)?.msPerImage;
  const torchPerImage = (workload: Workload, k: TimedKey, threads: 1 | 2) => {
    const runs = torch[workload];
    const ms = threads === 1 ? fastest((runs?.oneThread ?? []).map((r) => r[k])) : runs?.twoThreads?.[k];
    return ms === undefined ? undefined : ms / WORKLOADS[workload].batch;
  };
  const scaling = workloads.map((workload) => ({
    workload,
    input: `${WORKLOADS[workload].size}x${WORKLOADS[workload].size}x${WORKLOADS[workload].channels}`,
    tap: WORKLOADS[workload].tap,
    batch: WORKLOADS[workload].batch,
    trainStepMsPerImage: {
      wasm1Thread: perImage(workload, 'train-step', 'simd', 1),
      wasm2Threads: perImage(workload, 'train-step', 'threaded-simd', 2),
      torch1Thread: torchPerImage(workload, 'trainStepMs', 1),
      torch2Threads: torchPerImage(workload, 'trainStepMs', 2),
    },
    interpretMsPerImage: {
      wasm1Thread: perImage(workload, 'interpret', 'simd', 1),
      wasm2Threads: perImage(workload, 'interpret', 'threaded-simd', 2),
      torch1Thread: torchPerImage(workload, 'interpretBatchMs', 1),
      torch2Threads: torchPerImage(workload, 'interpretBatchMs', 2),
    },
  }));

  // Table.
  const rows = cases.map((c) => [
    c.workload,
    c.case,
    c.backend + (c.kernels ? ` (${c.kernels}${c.build === 'threaded-simd' ? ', threaded' : ''})` : ''),
    c.threads === undefined ? '–' : String(c.threads),
    fmt(c.msMedian),
    fmt(c.torchMs1Thread),
    fmt(c.torchMs2Threads),
    c.ratio === undefined ? '–' : c.ratio.toFixed(2),
    fmt(c.peakRssMiB, 0),
    c.tensorGrowth === null ? '–' : String(c.tensorGrowth),
    c.loadAverage ? `${fmt(c.loadAverage.start[0], 2)}→${fmt(c.loadAverage.end[0], 2)}` : '–',
  ]);
  const head = ['workload', 'case', 'backend', 'threads', 'tfjs ms', 'torch 1t ms', 'torch 2t ms', 'ratio', 'peak RSS MiB', 'tensor growth', 'load avg'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (r: string[]) => r.map((v, i) => v.padEnd(widths[i] as number)).join('  ');
  console.log(line(head));
  for (const r of rows) console.log(line(r));
  for (const [workload, runs] of Object.entries(torch)) {
    const ones = runs.oneThread.map((r) => fmt(r.trainStepMs)).join(' / ');
    console.log(`torch ${workload} train step at 1 thread, before / after the tfjs runs: ${ones} ms; 2 threads ${fmt(runs.twoThreads?.trainStepMs)} ms`);
  }
  for (const s of threadSpeedUp) console.log(`wasm 2 threads vs 1, ${s.workload} ${s.case}: ${fmt(s.ms1Thread)} -> ${fmt(s.ms2Threads)} ms (x${s.speedUp.toFixed(2)})`);
  for (const s of scaling) {
    const t = s.trainStepMsPerImage;
    console.log(`${s.input} (tap ${s.tap}, batch ${s.batch}) train step ms per image: wasm 1t ${fmt(t.wasm1Thread, 2)}, wasm 2t ${fmt(t.wasm2Threads, 2)}, torch 1t ${fmt(t.torch1Thread, 2)}, torch 2t ${fmt(t.torch2Threads, 2)}`);
  }
  console.log(`ratio = tfjs / the faster torch run (same step, same workload, same run); interpret: ms per batch; load average ${JSON.stringify(machine.loadAverageAtStart)} -> ${JSON.stringify(machine.loadAverageAtEnd)}`);
  const dir = join(root, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'speed-latest.json');
  writeFileSync(file, `${JSON.stringify({ machine, torch, threadSpeedUp, scaling, cases }, null, 2)}\n`);
  writeFileSync(join(dir, 'speed-latest.md'), markdown(machine, cases, threadSpeedUp, scaling));
  console.log(`written: ${file} and speed-latest.md (${machine.seconds} s)`);
}

/** The small Markdown summary written next to speed-latest.json. */
function markdown(
  machine: Record<string, unknown>,
  cases: Case[],
  threadSpeedUp: Array<{ workload: Workload; case: string; ms1Thread: number; ms2Threads: number; speedUp: number }>,
  scaling: Array<{ input: string; tap: string; batch: number; trainStepMsPerImage: Record<string, number | undefined>; interpretMsPerImage: Record<string, number | undefined> }>,
): string {
  const out: string[] = [];
  out.push('# `npm run bench:speed` — latest run', '');
  out.push(
    `${String(machine.date)}; ${String(machine.cpu)}, ${String(machine.cores)} cores; Node ${String(machine.node)}, tfjs ${String(machine.tfjs)}, torch ${String(machine.torch ?? '–')} (BLAS: ${String(machine.torchBlas ?? '–').split(', ').pop()}); ` +
      `${machine.quick ? '`--quick`, ' : ''}${String(machine.seconds)} s; load average ${JSON.stringify(machine.loadAverageAtStart)} → ${JSON.stringify(machine.loadAverageAtEnd)} (1, 5, 15 min).`,
    '',
  );
  out.push('| workload | case | backend | threads | tfjs ms | torch 1t ms | torch 2t ms | ratio | peak RSS MiB | tensor growth | load avg (1 min) |', '|---|---|---|---|---|---|---|---|---|---|---|');
  for (const c of cases) {
    out.push(
      `| ${c.workload} | ${c.case} | ${c.backend}${c.kernels ? ` (${c.kernels}${c.build === 'threaded-simd' ? ', threaded' : ''})` : ''} | ${c.threads ?? '–'} | ${fmt(c.msMedian)} | ${fmt(c.torchMs1Thread)} | ${fmt(c.torchMs2Threads)} | ${c.ratio === undefined ? '–' : c.ratio.toFixed(2)} | ${fmt(c.peakRssMiB, 0)} | ${c.tensorGrowth ?? '–'} | ${c.loadAverage ? `${fmt(c.loadAverage.start[0], 2)} → ${fmt(c.loadAverage.end[0], 2)}` : '–'} |`,
    );
  }
  if (threadSpeedUp.length) {
    out.push('', '## wasm: 2 threads (`enableWasmThreads`) against 1 (the package\'s build), fast kernels', '', '| workload | case | 1 thread ms | 2 threads ms | speed-up |', '|---|---|---|---|---|');
    for (const s of threadSpeedUp) out.push(`| ${s.workload} | ${s.case} | ${fmt(s.ms1Thread)} | ${fmt(s.ms2Threads)} | ${s.speedUp.toFixed(2)}× |`);
  }
  out.push('', '## Time per image against input size', '', '| input | tap | batch | train step ms/image: wasm 1t / 2t | torch 1t / 2t | interpret ms/image: wasm 1t / 2t | torch 1t / 2t |', '|---|---|---|---|---|---|---|');
  for (const s of scaling) {
    const t = s.trainStepMsPerImage;
    const i = s.interpretMsPerImage;
    out.push(`| ${s.input} | ${s.tap} | ${s.batch} | ${fmt(t.wasm1Thread, 2)} / ${fmt(t.wasm2Threads, 2)} | ${fmt(t.torch1Thread, 2)} / ${fmt(t.torch2Threads, 2)} | ${fmt(i.wasm1Thread, 2)} / ${fmt(i.wasm2Threads, 2)} | ${fmt(i.torch1Thread, 2)} / ${fmt(i.torch2Threads, 2)} |`);
  }
  out.push('', 'ratio = tfjs / the faster PyTorch run (1 or 2 threads) of the same step in the same run. Medians after warm-up. See docs/performance.md.', '');
  return out.join('\n');
}

const childBackend = args.optional('child');
if (childBackend !== undefined) {
  await child(childBackend as Backend, args.string('workload', 'mnist') as Workload, args.flag('quick'));
} else {
  await parent();
}
