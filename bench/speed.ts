// `npm run bench:speed [-- --quick]`: speed of piq-tfjs's own training step against PyTorch.
//
// For each tfjs backend present (cpu, wasm with piq-tfjs's kernels, wasm with its default
// kernels, webgpu when a GPU and the `webgpu` package are there) it times, in a child process
// of its own (so that peak RSS is per backend):
//   vq-step     quantize (training) + gradient of codebook + commitment loss + Adam on the codebook
//   train-step  Trainer.trainStep on the MNIST demo's PiqModel (batch 64, 7x7x64 tap, K = 160)
//   interpret   Interpreter.interpret of one batch of 64 digits (ms per batch; images/s too)
// and the wall time of `npm run demo` (with --quick: `npm run demo -- --quick`; wasm only). PyTorch (`python3` with torch, see bench/speed_torch.py)
// runs the same step at 1 and at 2 threads in the same run (1 thread twice: first, and again right
// after the wasm run, as the machine's load drifts); `ratio` = tfjs / the fastest of these torch
// runs, so it never flatters tfjs.
// Timings are medians after warm-up. `tensorGrowth` = tf.memory().numTensors after the timed
// steps minus before (over 1,000 steps on wasm; --quick: 100; cpu: 2, and with --quick one cold
// step and no count, since a cpu step takes tens of seconds). Writes bench/results/speed-latest.json.
//
// Options: --quick (under 5 minutes) | --backends cpu,wasm,wasm-default,webgpu | --no-torch |
// --no-demo | --python <path> (default: /usr/bin/python3 if it has torch, else python3).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { parseArgs } from '../examples/shared/cli';

type Backend = 'cpu' | 'wasm' | 'wasm-default' | 'webgpu';
type CaseName = 'vq-step' | 'train-step' | 'interpret' | 'demo';

interface Case {
  case: CaseName;
  backend: string;
  /** Which wasm kernels: piq-tfjs's opt-in replacements ('fast') or the package's own ('default'). */
  kernels?: 'fast' | 'default';
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
  note?: string;
}

interface ChildResult {
  backend: string;
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
  torch: string;
  vqStepMs: number;
  trainStepMs: number;
  interpretBatchMs: number;
  peakRssMiB: number;
}

const BATCH = 64;
const root = fileURLToPath(new URL('..', import.meta.url));
const tsx = join(root, 'node_modules', '.bin', 'tsx');

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

// ------------------------------------------------------------------ child: one backend
async function child(backend: Backend, quick: boolean): Promise<void> {
  await import('@tensorflow/tfjs-backend-cpu');
  const { createInterpreter, Trainer, enableWasmTraining } = await import('../src/index');
  const { buildClassifier, MNIST_INTERPRETER_SETTINGS } = await import('../examples/mnist/classifier');
  const { loadMnist } = await import('../examples/mnist/mnist-data');
  if (backend === 'wasm' || backend === 'wasm-default') {
    await import('@tensorflow/tfjs-backend-wasm');
    enableWasmTraining(backend === 'wasm' ? { fastConvTranspose: true, fastTile: true } : {});
    if (!(await tf.setBackend('wasm'))) throw new Error('wasm backend failed to initialise');
  } else if (backend === 'webgpu') {
    await setUpWebGpu();
  } else {
    await tf.setBackend('cpu');
  }
  await tf.ready();
  const sync = async (t: tf.Tensor) => {
    await t.data();
  };
  const timeIt = async (fn: () => Promise<void>, warmup: number, reps: number): Promise<number> => {
    for (let i = 0; i < warmup; i++) await fn();
    const ts: number[] = [];
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now();
      await fn();
      ts.push(performance.now() - t0);
    }
    return median(ts);
  };
  const slow = backend === 'cpu';
  const digits = loadMnist('train', BATCH);
  const x = tf.tensor4d(digits.images.subarray(0, BATCH * 784), [BATCH, 28, 28, 1]);
  // Random (seeded) classifier weights: the timing does not depend on them.
  const classifier = buildClassifier();
  const interpreter = await createInterpreter({ classifier, ...MNIST_INTERPRETER_SETTINGS });
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
  const vqStepMs = await timeIt(vqStep, 3, slow ? 5 : 20);
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
  const trainReps = slow ? (quick ? 1 : 2) : quick ? 15 : 30;
  const extraSteps = slow ? 0 : backend === 'wasm-default' ? (quick ? 10 : 200) : quick ? 85 : 970;
  if (!coldCpu) for (let i = 0; i < (slow ? 1 : 5); i++) await trainStep(); // warm-up (the first also initialises the codebook)
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
    slow ? 3 : 15,
  );
  trainer.dispose();
  interpreter.dispose();
  classifier.dispose();
  x.dispose();
  const result: ChildResult = {
    backend,
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
function runChild(backend: Backend, quick: boolean): ChildResult | { error: string } {
  const args = ['--tsconfig', join(root, 'tsconfig.test.json'), join(root, 'bench', 'speed.ts'), '--child', backend, ...(quick ? ['--quick'] : [])];
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

function runTorch(py: string, threads: number, quick: boolean): TorchResult | undefined {
  const t = String(threads);
  const r = spawnSync(py, [join(root, 'bench', 'speed_torch.py'), '--threads', t, '--reps', quick ? '15' : '30', '--budget', quick ? '12' : '60'], {
    encoding: 'utf8',
    env: { ...process.env, OMP_NUM_THREADS: t, OPENBLAS_NUM_THREADS: t, MKL_NUM_THREADS: t },
  });
  const line = (r.stdout ?? '').trim().split('\n').pop();
  if (r.status !== 0 || !line) {
    console.error(`torch (${threads} threads) failed: ${(r.stderr ?? '').slice(-300)}`);
    return undefined;
  }
  return JSON.parse(line) as TorchResult;
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
  --backends <list>       comma-separated: cpu,wasm,wasm-default,webgpu (default all)
  --no-torch              leave PyTorch out (no ratios)
  --no-demo               do not time npm run demo
  --python <path>         python with torch (default /usr/bin/python3 if it has torch, else python3)`;
const FLAGS = { quick: 'boolean', backends: 'string', 'no-torch': 'boolean', 'no-demo': 'boolean', python: 'string', child: 'string' } as const;
const args = parseArgs(process.argv.slice(2), FLAGS, HELP);

async function parent(): Promise<void> {
  const quick = args.flag('quick');
  const backends = args.string('backends', 'wasm,wasm-default,cpu,webgpu').split(',') as Backend[];
  const t0 = performance.now();
  const machine = {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    tfjs: tf.version_core,
    loadAverageAtStart: (await import('node:os')).loadavg().map((v) => Number(v.toFixed(2))),
    date: new Date().toISOString(),
    quick,
  } as Record<string, unknown>;

  // PyTorch at 1 and 2 threads, in this same run.
  let torch1: TorchResult | undefined;
  let torch2: TorchResult | undefined;
  const py = args.flag('no-torch') ? undefined : findPython(args.optional('python'));
  if (py) {
    console.error(`torch: ${py}, 1 thread ...`);
    torch1 = runTorch(py, 1, quick);
    console.error('torch: 2 threads ...');
    torch2 = runTorch(py, 2, quick);
    machine.torch = torch1?.torch ?? torch2?.torch;
  } else {
    console.error('torch: not found (install python3-torch, or pass --python); ratios are left out');
  }
  // torch at 1 thread runs again after the tfjs runs (the machine's load drifts): the faster of the
  // two runs counts, so the ratio never flatters tfjs.
  const torch1Runs: TorchResult[] = torch1 ? [torch1] : [];
  const oneThread = (k: 'vqStepMs' | 'trainStepMs' | 'interpretBatchMs') => {
    const vs = torch1Runs.map((r) => r[k]);
    return vs.length ? Math.min(...vs) : undefined;
  };
  const best = (k: 'vqStepMs' | 'trainStepMs' | 'interpretBatchMs') => {
    const vs = [oneThread(k), torch2?.[k]].filter((v): v is number => v !== undefined);
    return vs.length ? Math.min(...vs) : undefined;
  };

  const cases: Case[] = [];
  const childResults: Array<{ b: Backend; r: ChildResult | { error: string } }> = [];
  let ranAgain = false;
  const torchAgain = () => {
    if (!py || !torch1 || ranAgain) return;
    ranAgain = true;
    console.error('torch: 1 thread, again ...');
    const again = runTorch(py, 1, quick);
    if (again) torch1Runs.push(again);
  };
  for (const b of backends) {
    console.error(`tfjs ${b} ...`);
    childResults.push({ b, r: runChild(b, quick) });
    if (b === 'wasm') torchAgain(); // right after the library's wasm step, so the two are close in time
  }
  torchAgain();
  const withTorch = (c: Case, k: 'vqStepMs' | 'trainStepMs' | 'interpretBatchMs'): Case => {
    const t = best(k);
    if (t === undefined || c.msMedian === null) return c;
    return { ...c, torchMsMedian: t, torchMs1Thread: oneThread(k), torchMs2Threads: torch2?.[k], ratio: c.msMedian / t };
  };
  for (const { b, r } of childResults) {
    const label = b === 'wasm-default' ? 'wasm' : b;
    const kernels: Case['kernels'] = b === 'wasm' ? 'fast' : b === 'wasm-default' ? 'default' : undefined;
    if ('error' in r) {
      console.error(`  ${b}: skipped (${r.error})`);
      if (b !== 'webgpu') cases.push({ case: 'train-step', backend: label, kernels, msMedian: null, peakRssMiB: null, tensorGrowth: null, note: `failed: ${r.error}` });
      else machine.webgpu = `skipped: ${r.error || 'not available'}`;
      continue;
    }
    const base = { backend: label, kernels, peakRssMiB: r.peakRssMiB };
    cases.push(withTorch({ case: 'vq-step', ...base, msMedian: r.vqStepMs, tensorGrowth: null }, 'vqStepMs'));
    cases.push(withTorch({ case: 'train-step', ...base, msMedian: r.trainStepMs, tensorGrowth: r.tensorGrowth, reps: r.trainReps, note: r.tensorGrowth === null ? 'one cold step (--quick), growth not counted' : `tensor growth over ${r.growthSteps} steps` }, 'trainStepMs'));
    const ic = withTorch({ case: 'interpret', ...base, msMedian: r.interpretBatchMs, tensorGrowth: null, imagesPerSecond: (BATCH * 1000) / r.interpretBatchMs, note: `ms per batch of ${BATCH}` }, 'interpretBatchMs');
    if (ic.torchMsMedian) ic.torchImagesPerSecond = (BATCH * 1000) / ic.torchMsMedian;
    cases.push(ic);
  }
  if (!args.flag('no-demo')) {
    // The cpu demo takes hours (tens of seconds per step): wasm only.
    console.error(`demo (wasm${quick ? ', --quick' : ''}) ...`);
    const d = runDemo('wasm', quick);
    cases.push(
      'error' in d
        ? { case: 'demo', backend: 'wasm', msMedian: null, peakRssMiB: null, tensorGrowth: null, note: `failed: ${d.error}` }
        : { case: 'demo', backend: 'wasm', msMedian: d.seconds * 1000, peakRssMiB: d.peakRssMiB, tensorGrowth: null, note: `npm run demo${quick ? ' -- --quick' : ''}: wall time of one run (kernels as examples/shared/cli.ts enables them)` },
    );
  }
  machine.seconds = Number(((performance.now() - t0) / 1000).toFixed(1));
  machine.loadAverageAtEnd = (await import('node:os')).loadavg().map((v) => Number(v.toFixed(2)));

  // Table.
  const rows = cases.map((c) => [
    c.case,
    c.backend + (c.kernels ? ` (${c.kernels})` : ''),
    fmt(c.msMedian),
    fmt(c.torchMs1Thread),
    fmt(c.torchMs2Threads),
    c.ratio === undefined ? '–' : c.ratio.toFixed(2),
    fmt(c.peakRssMiB, 0),
    c.tensorGrowth === null ? '–' : String(c.tensorGrowth),
  ]);
  const head = ['case', 'backend', 'tfjs ms', 'torch 1t ms', 'torch 2t ms', 'ratio', 'peak RSS MiB', 'tensor growth'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (r: string[]) => r.map((v, i) => v.padEnd(widths[i] as number)).join('  ');
  console.log(line(head));
  for (const r of rows) console.log(line(r));
  if (torch1) {
    const runs = torch1Runs.map((r) => fmt(r.trainStepMs)).join(' / ');
    console.log(`torch train step at 1 thread, before / after the tfjs runs: ${runs} ms; peak RSS ${fmt(torch1.peakRssMiB, 0)} MiB (1 thread), ${fmt(torch2?.peakRssMiB, 0)} MiB (2 threads)`);
  }
  console.log(`ratio = tfjs / the faster torch run (same step, same run); interpret: ms per batch of ${BATCH}; load average ${JSON.stringify(machine.loadAverageAtStart)} -> ${JSON.stringify(machine.loadAverageAtEnd)}`);
  const dir = join(root, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'speed-latest.json');
  writeFileSync(file, `${JSON.stringify({ machine, torch: { oneThread: torch1Runs, twoThreads: torch2 ?? null }, cases }, null, 2)}\n`);
  console.log(`written: ${file} (${machine.seconds} s)`);
}

const childBackend = args.optional('child');
if (childBackend !== undefined) {
  await child(childBackend as Backend, args.flag('quick'));
} else {
  await parent();
}
