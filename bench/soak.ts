// `npm run soak`: a long training run that fails when memory grows. Not part of `npm test`.
//
// Per backend (wasm with piq-tfjs's training kernels, then cpu), in a child process of its own
// (`node --expose-gc`), one `Interpreter.fit` of STEPS steps (default 10,000) on a small model:
//   classifier  a fixed function: input [8, 8, 1]; features = 2x2 average pooling tiled to 4
//               channels [4, 4, 4]; logits = a seeded linear map of the 64 pixels to 2 classes
//   interpreter createInterpreter defaults (reconstruction mode, batch-norm decoder that up-samples
//               4x4 → 8x8) with decoder channels 8, 2 classes x 4 codes + 1 shared code, dead-code
//               restarts after 50 steps; trainable parameters: printed and saved with the results
//   data        256 seeded synthetic images (a bright 3x3 square in one of two quadrants) in batches
//               of 16 (16 steps per epoch), 32 validation images evaluated after every epoch
//   also        a checkpoint every 1,000 steps (piq-tfjs/node fileSystem, a temporary folder), and
//               an `interpret` of the validation images started from onProgress every SAMPLE steps
// Every SAMPLE steps (default 500; from onProgress, after a forced garbage collection) it records
// tf.memory().numTensors, tf.memory().numBytes, the wasm heap size (wasm only) and process RSS and
// V8 heap used and ArrayBuffer memory. Growth is judged on the second half of the run (samples at steps >= STEPS / 2):
//   tensors, tfjs bytes, wasm heap   must not change at all (max - min = 0)
//   RSS                              least-squares slope <= 1 MiB per 1,000 steps
//   V8 heap used                     least-squares slope <= 0.5 MiB per 1,000 steps
//   ArrayBuffers                     growth of the floor <= 0.5 MiB per 1,000 steps: the minimum of the
//                                    last half of the samples against the minimum of the first half
//                                    (of the second half of the run), over the steps between their middles.
//                                    ArrayBuffers still referenced by an interpret in flight, or released
//                                    by V8 only after a later collection, come and go between samples
//                                    (0.1 to 11 MiB on cpu); what is kept for good raises the floor.
// Writes bench/results/soak-latest.json and soak-latest.md, and exits 1 when a backend grows.
// Options: --steps <n> | --every <n> | --backends wasm,cpu
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { parseArgs } from '../examples/shared/cli';

const root = fileURLToPath(new URL('..', import.meta.url));
const MiB = 1024 * 1024;
const LIMITS = { rssMiBPer1kSteps: 1, heapUsedMiBPer1kSteps: 0.5, arrayBuffersMiBPer1kSteps: 0.5 } as const;

interface Sample {
  step: number;
  seconds: number;
  tensors: number;
  tfjsBytes: number;
  wasmHeapBytes: number | null;
  rssBytes: number;
  heapUsedBytes: number;
  /** Memory of ArrayBuffers (the cpu backend keeps tensor data in typed arrays). */
  arrayBuffersBytes: number;
}

interface BackendResult {
  backend: string;
  steps: number;
  seconds: number;
  msPerStep: number;
  trainableParams: number;
  samples: Sample[];
  /** Over the second half of the run. */
  growth: { tensors: number; tfjsBytes: number; wasmHeapBytes: number | null; rssMiBPer1kSteps: number; heapUsedMiBPer1kSteps: number; arrayBuffersMiBPer1kSteps: number };
  failures: string[];
}

const args = parseArgs(
  process.argv.slice(2),
  { steps: 'string', every: 'string', backends: 'string', child: 'string' } as const,
  'npm run soak -- [--steps 10000] [--every 500] [--backends wasm,cpu]',
);

/** Least-squares slope of y over x. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += ((xs[i] as number) - mx) * ((ys[i] as number) - my);
    den += ((xs[i] as number) - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

/** Per unit of x: min of ys over the second half of the points minus min over the first half, over the distance between the halves' middles. */
function floorGrowth(x: number[], ys: number[]): number {
  const h = Math.floor(ys.length / 2);
  if (h < 1) return 0;
  const mid = (xs: number[]) => ((xs[0] as number) + (xs[xs.length - 1] as number)) / 2;
  const dx = mid(x.slice(h)) - mid(x.slice(0, h));
  return dx > 0 ? (Math.min(...ys.slice(h)) - Math.min(...ys.slice(0, h))) / dx : 0;
}

const spread = (ys: number[]) => Math.max(...ys) - Math.min(...ys);

function judge(backend: string, steps: number, samples: Sample[]): Pick<BackendResult, 'growth' | 'failures'> {
  const half = samples.filter((s) => s.step >= steps / 2);
  const x = half.map((s) => s.step / 1000);
  const wasm = half.every((s) => s.wasmHeapBytes !== null) ? spread(half.map((s) => s.wasmHeapBytes as number)) : null;
  const growth = {
    tensors: spread(half.map((s) => s.tensors)),
    tfjsBytes: spread(half.map((s) => s.tfjsBytes)),
    wasmHeapBytes: wasm,
    rssMiBPer1kSteps: slope(x, half.map((s) => s.rssBytes / MiB)),
    heapUsedMiBPer1kSteps: slope(x, half.map((s) => s.heapUsedBytes / MiB)),
    arrayBuffersMiBPer1kSteps: floorGrowth(half.map((s) => s.step / 1000), half.map((s) => s.arrayBuffersBytes / MiB)),
  };
  const failures: string[] = [];
  if (half.length < 3) failures.push(`${backend}: only ${half.length} samples in the second half`);
  if (growth.tensors !== 0) failures.push(`${backend}: the tensor count changed by up to ${growth.tensors} in the second half`);
  if (growth.tfjsBytes !== 0) failures.push(`${backend}: tfjs bytes changed by up to ${growth.tfjsBytes} in the second half`);
  if (wasm !== null && wasm !== 0) failures.push(`${backend}: the wasm heap grew by ${wasm} bytes in the second half`);
  if (growth.rssMiBPer1kSteps > LIMITS.rssMiBPer1kSteps) failures.push(`${backend}: RSS grows ${growth.rssMiBPer1kSteps.toFixed(2)} MiB per 1,000 steps (limit ${LIMITS.rssMiBPer1kSteps})`);
  if (growth.heapUsedMiBPer1kSteps > LIMITS.heapUsedMiBPer1kSteps) {
    failures.push(`${backend}: V8 heap used grows ${growth.heapUsedMiBPer1kSteps.toFixed(2)} MiB per 1,000 steps (limit ${LIMITS.heapUsedMiBPer1kSteps})`);
  }
  if (growth.arrayBuffersMiBPer1kSteps > LIMITS.arrayBuffersMiBPer1kSteps) {
    failures.push(`${backend}: ArrayBuffer memory grows ${growth.arrayBuffersMiBPer1kSteps.toFixed(2)} MiB per 1,000 steps (limit ${LIMITS.arrayBuffersMiBPer1kSteps})`);
  }
  return { growth, failures };
}

/** The seeded synthetic set of the soak: a bright 3x3 square in the top-left or bottom-right quadrant. */
function squares(n: number, seed: number): tf.Tensor4D {
  let s = seed >>> 0;
  const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
  const data = new Float32Array(n * 64);
  for (let i = 0; i < n; i++) {
    const o = i % 2 === 0 ? 0 : 4;
    const oy = o + Math.floor(rand() * 2);
    const ox = o + Math.floor(rand() * 2);
    for (let p = 0; p < 64; p++) data[i * 64 + p] = rand() * 0.1;
    for (let y = oy; y < oy + 3; y++) for (let x = ox; x < ox + 3; x++) data[i * 64 + y * 8 + x] = 0.9 + rand() * 0.1;
  }
  return tf.tensor4d(data, [n, 8, 8, 1]);
}

async function child(backend: 'wasm' | 'cpu', steps: number, every: number): Promise<void> {
  await import('@tensorflow/tfjs-backend-cpu');
  await import('@tensorflow/tfjs-layers');
  const { createInterpreter, enableWasmTraining } = await import('../src/index');
  const { fileSystem } = await import('../src/node/index');
  if (backend === 'wasm') {
    await import('@tensorflow/tfjs-backend-wasm');
    enableWasmTraining({ fastConvTranspose: true, fastTile: true });
  }
  if (!(await tf.setBackend(backend))) throw new Error(`${backend} backend failed to initialise`);
  await tf.ready();
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc (npm run soak does)');
  const weights = tf.randomNormal([64, 2], 0, 0.5, 'float32', 7);
  const classifier = (x: tf.Tensor) => ({
    features: tf.tile(tf.avgPool(x as tf.Tensor4D, 2, 2, 'valid'), [1, 1, 1, 4]) as tf.Tensor4D,
    logits: tf.matMul(tf.reshape(x, [-1, 64]), weights) as tf.Tensor2D,
  });
  const images = squares(256, 1);
  const validation = squares(32, 2);
  const interpreter = await createInterpreter({
    classifier,
    inputShape: [8, 8, 1],
    seed: 1,
    decoder: { channels: 8 },
    quantizer: { layout: { codesPerClass: 4, sharedCodes: 1 }, deadCodeSteps: 50 },
  });
  const ckDir = mkdtempSync(join(tmpdir(), 'piq-soak-'));
  const samples: Sample[] = [];
  let interpreting: Promise<unknown> = Promise.resolve();
  let interprets = 0;
  const heap = () => (backend === 'wasm' ? (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.buffer.byteLength : null);
  const t0 = performance.now();
  const sample = (step: number) => {
    gc();
    const m = tf.memory();
    const u = process.memoryUsage();
    samples.push({ step, seconds: (performance.now() - t0) / 1000, tensors: m.numTensors, tfjsBytes: m.numBytes, wasmHeapBytes: heap(), rssBytes: u.rss, heapUsedBytes: u.heapUsed, arrayBuffersBytes: u.arrayBuffers });
    process.stderr.write(`[soak ${backend}] step ${step}: ${m.numTensors} tensors, ${(u.rss / MiB).toFixed(1)} MiB RSS, ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
  };
  const history = await interpreter.fit(images, {
    epochs: Math.ceil(steps / 16),
    maxSteps: steps,
    batchSize: 16,
    seed: 3,
    learningRate: 2e-3,
    logEvery: every,
    validationData: validation,
    checkpoint: { every: 1000, unit: 'step', destination: fileSystem(ckDir) },
    onProgress: (p) => {
      if (p.step % every !== 0) return;
      sample(p.step);
      // One interpret in flight at a time, overlapping the next steps; its result is dropped.
      interpreting = interpreting.then(() => interpreter.interpret(validation, { batchSize: 8 })).then(() => void interprets++);
    },
  });
  await interpreting;
  const seconds = (performance.now() - t0) / 1000;
  const trainableParams = interpreter.summary().trainableParams;
  interpreter.dispose();
  tf.dispose([weights, images, validation]);
  rmSync(ckDir, { recursive: true, force: true });
  if (interprets !== samples.length) throw new Error(`${interprets} interprets for ${samples.length} samples`);
  const result: BackendResult = { backend, steps: history.steps, seconds, msPerStep: (1000 * seconds) / history.steps, trainableParams, samples, ...judge(backend, steps, samples) };
  process.stdout.write(`\nPIQ_SOAK_RESULT ${JSON.stringify(result)}\n`);
}

function markdown(out: { date: string; steps: number; every: number; machine: unknown; results: BackendResult[]; pass: boolean }): string {
  const lines = [
    `# Soak run (\`npm run soak\`)`,
    '',
    `${out.date}; ${out.steps.toLocaleString('en')} steps per backend, sampled every ${out.every}; machine ${JSON.stringify(out.machine)}.`,
    `Growth is judged on the second half: tensors, tfjs bytes and wasm heap must not change; RSS slope <= ${LIMITS.rssMiBPer1kSteps} MiB and V8 heap-used slope <= ${LIMITS.heapUsedMiBPer1kSteps} MiB per 1,000 steps; the floor of ArrayBuffer memory (minimum of the later samples against the minimum of the earlier ones) may rise <= ${LIMITS.arrayBuffersMiBPer1kSteps} MiB per 1,000 steps.`,
    '',
    `**${out.pass ? 'PASS' : 'FAIL'}**`,
    '',
    '| backend | steps | ms / step | trainable params | tensors (2nd half spread) | tfjs bytes (spread) | wasm heap (spread) | RSS MiB / 1k steps | V8 heap MiB / 1k steps | ArrayBuffers MiB / 1k steps | verdict |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...out.results.map(
      (r) =>
        `| ${r.backend} | ${r.steps} | ${r.msPerStep.toFixed(1)} | ${r.trainableParams} | ${r.growth.tensors} | ${r.growth.tfjsBytes} | ${r.growth.wasmHeapBytes ?? '–'} | ${r.growth.rssMiBPer1kSteps.toFixed(3)} | ${r.growth.heapUsedMiBPer1kSteps.toFixed(3)} | ${r.growth.arrayBuffersMiBPer1kSteps.toFixed(3)} | ${r.failures.length ? r.failures.join('; ') : 'flat'} |`,
    ),
    '',
  ];
  for (const r of out.results) {
    lines.push(`## ${r.backend}`, '', '| step | s | tensors | tfjs bytes | wasm heap MiB | RSS MiB | V8 heap used MiB | ArrayBuffers MiB |', '|---|---|---|---|---|---|---|---|');
    for (const s of r.samples) {
      lines.push(`| ${s.step} | ${s.seconds.toFixed(0)} | ${s.tensors} | ${s.tfjsBytes} | ${s.wasmHeapBytes === null ? '–' : (s.wasmHeapBytes / MiB).toFixed(1)} | ${(s.rssBytes / MiB).toFixed(1)} | ${(s.heapUsedBytes / MiB).toFixed(1)} | ${(s.arrayBuffersBytes / MiB).toFixed(2)} |`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

function parent(): void {
  const steps = args.int('steps', 10_000);
  const every = args.int('every', 500);
  const backends = args.string('backends', 'wasm,cpu').split(',');
  const load = [loadavg()[0] as number];
  const results: BackendResult[] = [];
  for (const b of backends) {
    const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', join(root, 'bench', 'soak.ts'), '--child', b, '--steps', String(steps), '--every', String(every)], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 64 * 1024 * 1024,
    });
    const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('PIQ_SOAK_RESULT '));
    if (r.status !== 0 || !line) throw new Error(`${b}: the soak child failed (exit ${r.status})`);
    results.push(JSON.parse(line.slice('PIQ_SOAK_RESULT '.length)) as BackendResult);
  }
  load.push(loadavg()[0] as number);
  const pass = results.every((r) => r.failures.length === 0);
  const out = {
    command: 'npm run soak',
    date: new Date().toISOString(),
    steps,
    every,
    limits: LIMITS,
    machine: { cpus: cpus().length, model: cpus()[0]?.model ?? '', loadAverage1mStartEnd: load },
    node: process.version,
    tfjs: (tf as unknown as { version_core: string }).version_core,
    pass,
    results,
  };
  mkdirSync(join(root, 'bench', 'results'), { recursive: true });
  writeFileSync(join(root, 'bench', 'results', 'soak-latest.json'), `${JSON.stringify(out, null, 2)}\n`);
  writeFileSync(join(root, 'bench', 'results', 'soak-latest.md'), markdown(out));
  for (const r of results) console.log(`${r.backend}: ${r.steps} steps, ${r.msPerStep.toFixed(1)} ms/step; ${r.failures.length ? r.failures.join('; ') : 'flat'}`);
  if (!pass) process.exit(1);
}

const childBackend = args.optional('child');
if (childBackend !== undefined) await child(childBackend as 'wasm' | 'cpu', args.int('steps', 10_000), args.int('every', 500));
else parent();
