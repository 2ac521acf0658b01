// `npm run bench:kernels [-- --threads 2] [--rounds 5] [--reps 15] [--workloads mnist,colour64]`:
// before/after timings of the single-thread items of docs/performance.md, on wasm (fast kernels),
// each A/B pair alternated `rounds` times in ONE process so that both sides see the same load:
//   sub-filter     the conv-transpose sub-filters: tf ops (pad, 6-D Reverse + Transpose; before)
//                  against one JS loop (after, WASM_FAST_PATHS.loopSubFilter); plus what a cache hit
//                  would cost (uploading the cached values), the alternative that was not kept
//   filter-grad    Conv2DBackpropFilter of the decoder's output conv (16 -> 1 or 3 channels, 3x3,
//                  stride 1): the general formulation (before) against the narrow one (after)
//   distance       the quantizer's batched distance matMul [B, n, D]·[B, D, 16] (kept) against one
//                  GEMM with all 160 codes [B·n, D]·[D, 160] (the alternative)
//   train-step / interpret   the whole step of bench/workloads.ts with both fast paths off / on
// Per item: the median over rounds of each round's minimum over `reps` calls (ms). Writes
// bench/results/kernels-latest.json and kernels-latest.md, with the load average.
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as wasm from '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-layers';
import { enableWasmThreads, enableWasmTraining, Trainer } from '../src/index';
import { phaseSubFilter, phaseSubFilterOps, WASM_FAST_PATHS } from '../src/backends/wasm-fast-paths';
import { loadMnist } from '../examples/mnist/mnist-data';
import { parseArgs } from '../examples/shared/cli';
import { median } from './timing';
import { buildWorkload, WORKLOADS, type Workload } from './workloads';

const args = parseArgs(process.argv.slice(2), { threads: 'string', rounds: 'string', reps: 'string', workloads: 'string' } as const, 'npm run bench:kernels -- [--threads 1] [--rounds 5] [--reps 15] [--workloads mnist,colour64]');
const threads = args.int('threads', 1);
const rounds = args.int('rounds', 5);
const reps = args.int('reps', 15);
const workloads = args.string('workloads', 'mnist,colour64').split(',') as Workload[];
const loadAverage = () => loadavg().map((v) => Number(v.toFixed(2)));
const loadAtStart = loadAverage();
const t0 = performance.now();

enableWasmTraining({ fastConvTranspose: true, fastTile: true });
if (threads > 1) await enableWasmThreads(wasm, { threads });
else await tf.setBackend('wasm');


/** Minimum over `n` calls of fn (which returns a tensor that is read back and disposed). */
async function minMs(fn: () => tf.Tensor | Promise<void>, n = reps): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < n; i++) {
    const s = performance.now();
    const r = await fn();
    if (r instanceof tf.Tensor) {
      r.dataSync();
      r.dispose();
    }
    best = Math.min(best, performance.now() - s);
  }
  return best;
}

interface Row {
  item: string;
  shape: string;
  beforeMs: number;
  afterMs: number;
  /** A third variant where one was measured (the sub-filter cache hit). */
  otherMs?: number;
  other?: string;
}
const rows: Row[] = [];

/** Alternates before/after (and other) `rounds` times; medians of the per-round minima. */
async function ab(item: string, shape: string, before: () => unknown, after: () => unknown, other?: { name: string; fn: () => unknown }, n = reps): Promise<void> {
  const b: number[] = [];
  const a: number[] = [];
  const o: number[] = [];
  for (let r = 0; r < rounds; r++) {
    b.push(await minMs(before as () => tf.Tensor, n));
    a.push(await minMs(after as () => tf.Tensor, n));
    if (other) o.push(await minMs(other.fn as () => tf.Tensor, n));
  }
  const row: Row = { item, shape, beforeMs: median(b), afterMs: median(a) };
  if (other) Object.assign(row, { other: other.name, otherMs: median(o) });
  rows.push(row);
  console.log(`${item} ${shape}: before ${row.beforeMs.toFixed(3)} ms, after ${row.afterMs.toFixed(3)} ms${other ? `, ${other.name} ${row.otherMs?.toFixed(3)} ms` : ''}`);
}

// ---- sub-filter: decoder transposed convs (k4 s2): MNIST 64->32->16, colour 128->32->16->16.
for (const [ci, co] of [[32, 64], [16, 32], [32, 128], [16, 16]] as const) {
  const filter = tf.randomUniform([4, 4, ci, co], -1, 1, 'float32', 1);
  const cached = phaseSubFilter(filter, 2, 2, 2, 2).dataSync().slice();
  await ab(
    'sub-filter',
    `[4,4,${ci},${co}] s2`,
    () => phaseSubFilterOps(filter, 2, 2, 2, 2),
    () => phaseSubFilter(filter, 2, 2, 2, 2),
    { name: 'cache hit (upload)', fn: () => tf.tensor4d(cached, [2, 2, co, 4 * ci]) },
  );
  filter.dispose();
}

// ---- filter-grad: the output conv's filter gradient (x [N, H, W, 16] -> Cout channels, 3x3 same).
for (const [n, hw, cout] of [[64, 28, 1], [16, 64, 3], [16, 128, 3]] as const) {
  const x = tf.randomUniform([n, hw, hw, 16], -1, 1, 'float32', 2);
  const dy = tf.randomUniform([n, hw, hw, cout], -1, 1, 'float32', 3);
  const run = (narrow: boolean) => () => {
    WASM_FAST_PATHS.narrowFilterGradient = narrow;
    return tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 16, cout] }) as tf.Tensor;
  };
  await ab('filter-grad', `x [${n},${hw},${hw},16] -> ${cout}`, run(false), run(true), undefined, Math.max(3, Math.round(reps / (hw >= 128 ? 4 : 1))));
  WASM_FAST_PATHS.narrowFilterGradient = true;
  tf.dispose([x, dy]);
}

// ---- distance: [B, n, D]·[B, D, 16] batched (kept) vs one [B·n, D]·[D, 160] GEMM (alternative).
for (const [b, n, d] of [[64, 49, 64], [16, 64, 128], [16, 256, 128]] as const) {
  const u = tf.randomUniform([b, n, d], -1, 1, 'float32', 4) as tf.Tensor3D;
  const eT = tf.randomUniform([b, d, 16], -1, 1, 'float32', 5) as tf.Tensor3D;
  const u2 = tf.reshape(u, [b * n, d]) as tf.Tensor2D;
  const cbT = tf.randomUniform([d, 160], -1, 1, 'float32', 6) as tf.Tensor2D;
  await ab('distance', `[${b},${n},${d}]`, () => tf.matMul(u, eT), () => tf.matMul(u, eT), { name: 'one GEMM, 160 codes', fn: () => tf.matMul(u2, cbT) });
  tf.dispose([u, eT, u2, cbT]);
}

// ---- whole step: both fast paths off (before) / on (after).
const setPaths = (on: boolean) => {
  WASM_FAST_PATHS.loopSubFilter = on;
  WASM_FAST_PATHS.narrowFilterGradient = on;
};
for (const workload of workloads) {
  const w = await buildWorkload(workload, workload === 'mnist' ? loadMnist('train', WORKLOADS.mnist.batch).images : undefined);
  const trainer = new Trainer(w.interpreter.model);
  const step = (on: boolean) => async () => {
    setPaths(on);
    const r = trainer.trainStep(w.x);
    await r.total.data();
    tf.dispose([r.total, r.perplexity, ...Object.values(r.terms)]);
  };
  const interpret = (on: boolean) => async () => {
    setPaths(on);
    await w.interpreter.interpret(w.x, { batchSize: w.x.shape[0] });
  };
  for (let i = 0; i < 3; i++) await step(true)();
  const stepReps = workload === 'mnist' ? 7 : 3;
  await ab('train-step', workload, step(false), step(true), undefined, stepReps);
  await ab('interpret', workload, interpret(false), interpret(true), undefined, stepReps);
  setPaths(true);
  trainer.dispose();
  w.dispose();
}

const result = {
  machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version, tfjs: tf.version_core, threads: wasm.getThreadsCount(), rounds, reps, loadAverageAtStart: loadAtStart, loadAverageAtEnd: loadAverage(), seconds: Number(((performance.now() - t0) / 1000).toFixed(1)), date: new Date().toISOString() },
  rows,
};
const dir = fileURLToPath(new URL('./results/', import.meta.url));
const suffix = threads > 1 ? `-${threads}t` : '';
writeFileSync(join(dir, `kernels-latest${suffix}.json`), `${JSON.stringify(result, null, 2)}\n`);
const md = [
  `# \`npm run bench:kernels${threads > 1 ? ` -- --threads ${threads}` : ''}\` — latest run`,
  '',
  `${result.machine.date}; ${result.machine.cpu}, ${result.machine.cores} cores; wasm with ${result.machine.threads} thread(s); ${rounds} rounds of ${reps} calls, median of the per-round minima; ${result.machine.seconds} s; load average ${JSON.stringify(loadAtStart)} → ${JSON.stringify(result.machine.loadAverageAtEnd)}.`,
  '',
  '| item | shape | before ms | after ms | other variant | other ms |',
  '|---|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.item} | ${r.shape} | ${r.beforeMs.toFixed(3)} | ${r.afterMs.toFixed(3)} | ${r.other ?? '–'} | ${r.otherMs === undefined ? '–' : r.otherMs.toFixed(3)} |`),
  '',
  'distance: "before" and "after" are the same (kept) batched matMul; "other" is the one-GEMM alternative. See docs/performance.md.',
  '',
].join('\n');
writeFileSync(join(dir, `kernels-latest${suffix}.md`), md);
console.log(`written: bench/results/kernels-latest${suffix}.json and .md`);
if (threads > 1) tf.removeBackend('wasm');
