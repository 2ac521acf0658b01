// `npm run bench:browser [-- --rounds 2] [--reps 10] [--workloads mnist,colour64]`: the PIQ train
// step and interpret on the wasm backend in headless Chromium, 1 and 2 threads.
//
// Builds bench/browser (Vite; COOP/COEP headers make the page cross-origin isolated, so the
// threaded wasm build can run), serves it with `vite preview` on 127.0.0.1 and opens it in
// /usr/bin/chromium (playwright-core) once per variant and round (variants alternate):
//   default, not isolated   a page without COOP/COEP: tfjs loads the single-threaded SIMD build
//   default                 the isolated page, tf.setBackend('wasm'): tfjs's own choice (threaded
//                           build, pool = hardwareConcurrency / 2, capped by backend.cc)
//   default, hc=4           the same with navigator.hardwareConcurrency reported as 4 (a Playwright
//                           init script): shows that the core count is what caps the pool
//   threads=1, threads=2    enableWasmThreads(wasm, { threads }) (lifts the cap in page code)
// Writes bench/results/speed-browser-latest.json and .md. Env CHROMIUM (default /usr/bin/chromium).
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { build, preview } from 'vite';
import { copyWasmBinaries } from '../examples/browser/prepare';
import type { BrowserBenchResult } from './browser/main';
import { parseArgs } from '../examples/shared/cli';
import { median } from './timing';
import type { Workload } from './workloads';

const here = fileURLToPath(new URL('./browser/', import.meta.url));
const CONFIG = join(here, 'vite.config.ts');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

interface Variant {
  name: string;
  query: string;
  /** navigator.hardwareConcurrency reported to the page (Playwright init script), if set. */
  hardwareConcurrency?: number;
}
const VARIANTS: Variant[] = [
  { name: 'default, not isolated', query: 'mode=default&isolated=0' },
  { name: 'default', query: 'mode=default' },
  { name: 'default, hardwareConcurrency 4', query: 'mode=default', hardwareConcurrency: 4 },
  { name: 'enableWasmThreads 1', query: 'mode=threads&threads=1' },
  { name: 'enableWasmThreads 2', query: 'mode=threads&threads=2' },
];

const args = parseArgs(process.argv.slice(2), { rounds: 'string', reps: 'string', workloads: 'string' } as const, 'npm run bench:browser -- [--rounds 2] [--reps 10] [--workloads mnist,colour64,colour128]');
const rounds = args.int('rounds', 2);
const reps = args.int('reps', 10);
const workloads = args.string('workloads', 'mnist').split(',') as Workload[];
const loadAverage = () => loadavg().map((v) => Number(v.toFixed(2)));

async function main(): Promise<void> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: apt-get install -y chromium (or set CHROMIUM)`);
  const t0 = performance.now();
  const loadAtStart = loadAverage();
  copyWasmBinaries(join(here, 'public', 'wasm'));
  await build({ configFile: CONFIG, logLevel: 'warn' });
  const server = await preview({ configFile: CONFIG, logLevel: 'warn', preview: { host: '127.0.0.1', port: 4319, strictPort: false } });
  const url = server.resolvedUrls?.local[0];
  if (!url) throw new Error('vite preview did not report a URL');
  const userDataDir = mkdtempSync(join(tmpdir(), 'piq-bench-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, headless: true, args: FLAGS });
  const runs: Array<{ variant: string; round: number; loadAverage: { start: number[]; end: number[] }; result: BrowserBenchResult }> = [];
  try {
    for (const workload of workloads) {
      for (let round = 0; round < rounds; round++) {
        for (const v of VARIANTS) {
          const page = await context.newPage();
          if (v.hardwareConcurrency !== undefined) {
            // A string, not a function: tsx's transform would wrap a function's inner arrows in a helper the page lacks.
            await page.addInitScript(`Object.defineProperty(Navigator.prototype, 'hardwareConcurrency', { get: () => ${v.hardwareConcurrency}, configurable: true });`);
          }
          const pageErrors: string[] = [];
          page.on('pageerror', (e) => pageErrors.push(e.message));
          const start = loadAverage();
          await page.goto(`${url}?${v.query}&workload=${workload}&reps=${reps}`);
          try {
            await page.waitForFunction(() => window.piqBench?.done === true, undefined, { timeout: 300_000, polling: 500 });
          } catch (e) {
            throw new Error(`${v.name} (${workload}) did not finish; page errors: ${pageErrors.slice(0, 3).join(' | ') || 'none'}`, { cause: e });
          }
          const state = await page.evaluate(() => window.piqBench);
          await page.close();
          if (state.error || !state.result) throw new Error(`${v.name} (${workload}): ${state.error ?? 'no result'}`);
          const r = state.result;
          runs.push({ variant: v.name, round, loadAverage: { start, end: loadAverage() }, result: r });
          console.log(`${workload} round ${round + 1} ${v.name}: threads ${r.threads}, isolated ${r.crossOriginIsolated}, train step ${r.trainStepMs.toFixed(1)} ms, interpret ${r.interpretBatchMs.toFixed(1)} ms, init ${r.initMs.toFixed(0)} ms`);
        }
      }
    }
  } finally {
    await context.close();
    rmSync(userDataDir, { recursive: true, force: true });
    await new Promise<void>((resolve) => server.httpServer.close(() => resolve()));
  }

  const summary = workloads.flatMap((workload) =>
    VARIANTS.map((v) => {
      const rs = runs.filter((r) => r.variant === v.name && r.result.workload === workload).map((r) => r.result);
      const first = rs[0] as BrowserBenchResult;
      return {
        workload,
        variant: v.name,
        threads: first.threads,
        crossOriginIsolated: first.crossOriginIsolated,
        hardwareConcurrency: first.hardwareConcurrency,
        trainStepMs: median(rs.map((r) => r.trainStepMs)),
        interpretBatchMs: median(rs.map((r) => r.interpretBatchMs)),
        trainStepMsPerRound: rs.map((r) => Number(r.trainStepMs.toFixed(1))),
        interpretBatchMsPerRound: rs.map((r) => Number(r.interpretBatchMs.toFixed(1))),
        tensorGrowth: Math.max(...rs.map((r) => r.tensorGrowth)),
      };
    }),
  );
  const speedUp = workloads.map((workload) => {
    const one = summary.find((s) => s.workload === workload && s.variant === 'enableWasmThreads 1');
    const two = summary.find((s) => s.workload === workload && s.variant === 'enableWasmThreads 2');
    return { workload, trainStep: one && two ? one.trainStepMs / two.trainStepMs : null, interpret: one && two ? one.interpretBatchMs / two.interpretBatchMs : null };
  });
  const machine = {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    chromium: runs[0]?.result.userAgent ?? 'unknown',
    rounds,
    reps,
    loadAverageAtStart: loadAtStart,
    loadAverageAtEnd: loadAverage(),
    seconds: Number(((performance.now() - t0) / 1000).toFixed(1)),
    date: new Date().toISOString(),
  };
  const dir = fileURLToPath(new URL('./results/', import.meta.url));
  writeFileSync(join(dir, 'speed-browser-latest.json'), `${JSON.stringify({ machine, summary, speedUp, runs }, null, 2)}\n`);
  const md = [
    '# `npm run bench:browser` — latest run',
    '',
    `${machine.date}; ${machine.cpu}, ${machine.cores} cores; ${machine.chromium}; headless, ${rounds} rounds per variant (alternated), medians of ${reps} steps each after warm-up; ${machine.seconds} s; load average ${JSON.stringify(machine.loadAverageAtStart)} → ${JSON.stringify(machine.loadAverageAtEnd)}.`,
    '',
    '| workload | variant | cross-origin isolated | hardwareConcurrency | getThreadsCount() | train step ms | interpret ms (batch) | tensor growth |',
    '|---|---|---|---|---|---|---|---|',
    ...summary.map((s) => `| ${s.workload} | ${s.variant} | ${s.crossOriginIsolated} | ${s.hardwareConcurrency} | ${s.threads} | ${s.trainStepMs.toFixed(1)} (${s.trainStepMsPerRound.join(', ')}) | ${s.interpretBatchMs.toFixed(1)} (${s.interpretBatchMsPerRound.join(', ')}) | ${s.tensorGrowth} |`),
    '',
    ...speedUp.map((s) => `${s.workload}: enableWasmThreads 2 vs 1: train step ×${s.trainStep?.toFixed(2) ?? '–'}, interpret ×${s.interpret?.toFixed(2) ?? '–'}.`),
    '',
  ].join('\n');
  writeFileSync(join(dir, 'speed-browser-latest.md'), md);
  console.log(md);
}

await main();
