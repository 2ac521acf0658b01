// `npm run bench:data-check`: what refusing NaN / Infinity in training data costs.
//
// Trainer.fit checks a tensor source once, before the first step (one flag per example read
// back, 4,096 examples at a time), and each batch of any other source before its step. This
// times, on the cpu and the wasm backend:
//   batch        the check of one MNIST-sized batch [64, 28, 28, 1] (what an iterable source pays per step)
//   source       the check of a 10,000-example tensor source [10000, 28, 28, 1] (paid once per fit)
//   train-step   Trainer.trainStep on the MNIST demo's model (batch 64), for scale
// Medians after warm-up; each backend in a child process of its own. Writes
// bench/results/data-check-latest.json. Options: --backends cpu,wasm | --cpu-steps <n> (default 2:
// a cpu step of the demo's model takes tens of seconds).
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { parseArgs } from '../examples/shared/cli';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsx = join(root, 'node_modules', '.bin', 'tsx');
const BATCH = 64;
const SOURCE = 10_000;

interface Row {
  backend: string;
  batchCheckMs: number;
  batchCheckReps: number;
  sourceCheckMs: number;
  sourceCheckReps: number;
  trainStepMs: number;
  trainStepReps: number;
  /** batchCheckMs / trainStepMs, in percent. */
  batchCheckPercentOfStep: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

async function time(fn: () => Promise<unknown>, warmup: number, reps: number): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    ts.push(performance.now() - t0);
  }
  return median(ts);
}

async function child(backend: 'cpu' | 'wasm', cpuSteps: number): Promise<void> {
  await import('@tensorflow/tfjs-backend-cpu');
  await import('@tensorflow/tfjs-layers');
  const { createInterpreter, Trainer, enableWasmTraining } = await import('../src/index');
  const { checkFiniteExamples } = await import('../src/classifier/input-check');
  const { buildClassifier, MNIST_INTERPRETER_SETTINGS } = await import('../examples/mnist/classifier');
  const { loadMnist } = await import('../examples/mnist/mnist-data');
  if (backend === 'wasm') {
    await import('@tensorflow/tfjs-backend-wasm');
    enableWasmTraining({ fastConvTranspose: true, fastTile: true });
  }
  if (!(await tf.setBackend(backend))) throw new Error(`${backend} backend failed to initialise`);
  await tf.ready();
  const digits = loadMnist('train', SOURCE);
  const source = tf.tensor4d(digits.images.subarray(0, SOURCE * 784), [SOURCE, 28, 28, 1]);
  const batch = tf.slice(source, [0, 0, 0, 0], [BATCH, -1, -1, -1]) as tf.Tensor4D;
  const check = (x: tf.Tensor) => checkFiniteExamples('bench', "'data'", x);
  const batchReps = 200;
  const sourceReps = 10;
  const batchCheckMs = await time(() => check(batch), 20, batchReps);
  const sourceCheckMs = await time(() => check(source), 2, sourceReps);
  const classifier = buildClassifier();
  const interpreter = await createInterpreter({ classifier, ...MNIST_INTERPRETER_SETTINGS });
  const trainer = new Trainer(interpreter.model);
  const step = async () => {
    const r = trainer.trainStep(batch);
    await r.total.data();
    tf.dispose([r.total, r.perplexity, ...Object.values(r.terms)]);
  };
  const trainStepReps = backend === 'cpu' ? cpuSteps : 20;
  const trainStepMs = await time(step, backend === 'cpu' ? 1 : 5, trainStepReps);
  trainer.dispose();
  interpreter.dispose();
  classifier.dispose();
  tf.dispose([batch, source]);
  const row: Row = {
    backend,
    batchCheckMs,
    batchCheckReps: batchReps,
    sourceCheckMs,
    sourceCheckReps: sourceReps,
    trainStepMs,
    trainStepReps,
    batchCheckPercentOfStep: (100 * batchCheckMs) / trainStepMs,
  };
  process.stdout.write(`\nPIQ_DATA_CHECK ${JSON.stringify(row)}\n`);
}

const args = parseArgs(
  process.argv.slice(2),
  { backends: 'string', 'cpu-steps': 'string', child: 'string' } as const,
  'npm run bench:data-check -- [--backends cpu,wasm] [--cpu-steps 2]',
);

function parent(): void {
  const backends = args.string('backends', 'cpu,wasm').split(',');
  const cpuSteps = args.int('cpu-steps', 2);
  const rows: Row[] = [];
  const load = [loadavg()[0] as number];
  const t0 = performance.now();
  for (const b of backends) {
    process.stderr.write(`[data-check] ${b}…\n`);
    const r = spawnSync(tsx, ['--tsconfig', join(root, 'tsconfig.test.json'), join(root, 'bench', 'data-check.ts'), '--child', b, '--cpu-steps', String(cpuSteps)], {
      cwd: root,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('PIQ_DATA_CHECK '));
    if (r.status !== 0 || !line) throw new Error(`${b} failed: ${(r.stderr ?? '').slice(-600)}`);
    rows.push(JSON.parse(line.slice('PIQ_DATA_CHECK '.length)) as Row);
  }
  load.push(loadavg()[0] as number);
  const out = {
    command: 'npm run bench:data-check',
    date: new Date().toISOString(),
    seconds: (performance.now() - t0) / 1000,
    machine: { cpus: cpus().length, model: cpus()[0]?.model ?? '', loadAverage1mStartEnd: load },
    node: process.version,
    tfjs: (tf as unknown as { version_core: string }).version_core,
    batchShape: [BATCH, 28, 28, 1],
    sourceShape: [SOURCE, 28, 28, 1],
    rows,
  };
  mkdirSync(join(root, 'bench', 'results'), { recursive: true });
  writeFileSync(join(root, 'bench', 'results', 'data-check-latest.json'), `${JSON.stringify(out, null, 2)}\n`);
  for (const r of rows) {
    console.log(
      `${r.backend}: batch check ${r.batchCheckMs.toFixed(2)} ms (${r.batchCheckPercentOfStep.toFixed(2)}% of a ${r.trainStepMs.toFixed(1)} ms train step); 10,000-example source ${r.sourceCheckMs.toFixed(1)} ms`,
    );
  }
}

const childBackend = args.optional('child');
if (childBackend !== undefined) {
  await child(childBackend as 'cpu' | 'wasm', args.int('cpu-steps', 2));
} else {
  parent();
}
