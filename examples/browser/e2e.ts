// End-to-end test of the browser example (`npm run test:browser`):
//  1. prepare.ts fills public/ (running the demo's --quick mode first if its output is absent);
//  2. vite builds the page and `vite preview` serves it on 127.0.0.1;
//  3. headless Chromium (playwright-core, /usr/bin/chromium) opens it, picks digits, blends two,
//     draws one, and checks predictions and masks against the same models run in Node on the cpu
//     backend, that the mask canvas is not blank and differs between classes, then checks the wasm
//     backend (forced) and the fallback when WebGL is disabled; e2e-persistence.ts then saves to and
//     loads from browser storage across a reload, and checks that damaged saves are refused;
//  4. a screenshot goes to examples/browser/out/screenshot.png (PIQ_SCREENSHOT=<file.png> to choose;
//     the README's screenshot.png is refreshed only on purpose, so test runs never dirty the tree).
// Env: CHROMIUM (default /usr/bin/chromium), PIQ_REQUIRE_WEBGL=1 to fail when WebGL is unavailable,
// PIQ_CLASSIFIER_SAMPLES (see prepare.ts), PIQ_SCREENSHOT_OVERLAP=<file.png> for a screenshot of overlap mode.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { chromium, type Page } from 'playwright-core';
import { build, preview } from 'vite';
import { loadInterpreter } from 'piq-tfjs';
import { fileSystem } from 'piq-tfjs/node';
import { persistenceChecks } from './e2e-persistence';
import { EXAMPLE_DIR, prepare } from './prepare';
import type { LastResult, PixelInputCheck } from './main';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const CONFIG = join(EXAMPLE_DIR, 'vite.config.ts');
const SCREENSHOT = process.env.PIQ_SCREENSHOT ?? join(EXAMPLE_DIR, 'out', 'screenshot.png');


const t0 = Date.now();
function log(msg: string): void {
  process.stderr.write(`[e2e ${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}\n`);
}
let checks = 0;
function ok(msg: string): void {
  checks++;
  log(`ok ${checks} - ${msg}`);
}

/** Reference results: the same classifier and interpreter, run in Node on the cpu backend. */
async function nodeReference(p: ReturnType<typeof prepare>, inputs: Float32Array, count: number) {
  await tf.setBackend('cpu');
  const classifier = await tfl.loadLayersModel(fileSystem(p.classifierDir));
  const interpreter = await loadInterpreter(fileSystem(p.interpreterDir), { classifier });
  const x = tf.tensor4d(inputs, [count, 28, 28, 1]);
  const r = await interpreter.interpret(x);
  x.dispose();
  interpreter.dispose();
  classifier.dispose();
  return r;
}

/** Picks digit i in the page and waits for its result. */
async function click(page: Page, selector: string): Promise<LastResult> {
  const before = await page.evaluate(() => window.piqDemo.count);
  await page.click(selector);
  await page.waitForFunction((n) => window.piqDemo.count > n && document.getElementById('status')?.dataset.state === 'ready', before);
  return (await page.evaluate(() => window.piqDemo.last)) as LastResult;
}

/** The mask canvas's RGBA pixels, as drawn by piq-tfjs/visualize. */
async function maskCanvasPixels(page: Page): Promise<number[]> {
  return page.evaluate(() => {
    const c = document.getElementById('mask-canvas') as HTMLCanvasElement;
    const ctx = c.getContext('2d');
    if (!ctx) return [];
    return Array.from(ctx.getImageData(0, 0, c.width, c.height).data);
  });
}

function stdOf(values: number[]): number {
  const m = values.reduce((a, b) => a + b, 0) / values.length;
  return Math.sqrt(values.reduce((a, b) => a + (b - m) ** 2, 0) / values.length);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs((a[i] as number) - (b[i] as number)));
  return d;
}

/** The browser's class must equal Node's, unless the two top probabilities are a near tie in Node. */
function sameDecision(browser: number, node: number, nodeProbs: ArrayLike<number>): boolean {
  return browser === node || Math.abs((nodeProbs[node] as number) - (nodeProbs[browser] as number)) < 1e-3;
}

async function main(): Promise<void> {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} not found: apt-get install -y chromium chromium-driver`);
  const p = prepare();
  const n = p.digits.labels.length;
  log(`built test digits: ${n}; building the page with vite`);
  await build({ configFile: CONFIG, logLevel: 'warn' });
  const server = await preview({ configFile: CONFIG, logLevel: 'warn', preview: { host: '127.0.0.1', port: 4318, strictPort: false } });
  const url = server.resolvedUrls?.local[0];
  assert.ok(url, 'vite preview did not report a URL');
  log(`serving ${url}`);

  // Overlap pair used below: the first digit of class 3 and the first of class 7.
  const [pairA, pairB] = [p.digits.labels.indexOf(3), p.digits.labels.indexOf(7)];
  const mix = new Float32Array(784);
  for (let q = 0; q < 784; q++) mix[q] = Math.max(p.digitPixels[pairA * 784 + q] as number, p.digitPixels[pairB * 784 + q] as number);
  const refInputs = new Float32Array((n + 1) * 784);
  refInputs.set(p.digitPixels);
  refInputs.set(mix, n * 784);
  const ref = await nodeReference(p, refInputs, n + 1);
  log(`node reference (cpu): predictions ${Array.from(ref.predictedClass.subarray(0, n)).join(' ')}; labels ${p.digits.labels.join(' ')}`);

  const userDataDir = mkdtempSync(join(tmpdir(), 'piq-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: 1080, height: 720 },
  });
  const pageErrors: string[] = [];
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') log(`console.${m.type()}: ${m.text()}`);
    });

    // ---- WebGL (or fallback) page
    await page.goto(url);
    await page.waitForFunction(() => window.piqDemo.count >= 1 || window.piqDemo.error !== null, undefined, { timeout: 120_000 });
    const info = await page.evaluate(() => ({ ...window.piqDemo, last: null }));
    assert.equal(info.error, null, `page error: ${String(info.error)}`);
    assert.ok(['webgl', 'wasm', 'cpu'].includes(info.backend));
    const shown = await page.textContent('#backend');
    assert.equal(shown, info.backend, 'the page shows the active backend');
    log(`backend: ${info.backend} (${info.backendNote}); warm-up ${info.warmupMilliseconds.toFixed(0)} ms`);
    if (process.env.PIQ_REQUIRE_WEBGL === '1') assert.equal(info.backend, 'webgl', 'WebGL was required');
    ok(`page loaded the classifier and interpreter on ${info.backend}, and shows the backend`);

    // ---- each class: prediction and mask agree with Node
    const masks: number[][] = [];
    let worstMask = 0;
    let mismatches = 0;
    const times: number[] = [];
    for (let c = 0; c < 10; c++) {
      const i = p.digits.labels.indexOf(c);
      const last = await click(page, `#gallery button[data-digit="${i}"]`);
      const nodeEx = ref.example(i);
      assert.deepEqual(last.digits, [i]);
      assert.ok(maxAbsDiff(last.input, p.digitPixels.subarray(i * 784, (i + 1) * 784)) < 1e-6, 'page input equals the test digit');
      if (!sameDecision(last.predictedClass, nodeEx.predictedClass, nodeEx.probabilities)) mismatches++;
      assert.equal(await page.getAttribute('#prediction', 'data-class'), String(last.predictedClass));
      worstMask = Math.max(worstMask, maxAbsDiff(last.mask, nodeEx.mask));
      times.push(last.milliseconds);
      const pixels = await maskCanvasPixels(page);
      assert.equal(pixels.length, 28 * 28 * 4, 'mask canvas is 28x28');
      const lum = pixels.filter((_, k) => k % 4 !== 3);
      assert.ok(stdOf(lum) > 5, `mask canvas of class ${c} is not blank (std ${stdOf(lum).toFixed(1)})`);
      masks.push(pixels);
    }
    assert.equal(mismatches, 0, `${mismatches} predictions differ from Node's`);
    ok(`predictions of one digit per class equal the Node/cpu ones (labels 0-9 -> ${ref.predictedClass.length ? Array.from({ length: 10 }, (_, c) => ref.predictedClass[p.digits.labels.indexOf(c)]).join(' ') : ''})`);
    assert.ok(worstMask < 0.05, `masks match Node's within 0.05 (worst ${worstMask})`);
    ok(`masks match the Node/cpu masks (max |difference| ${worstMask.toExponential(2)})`);
    ok('mask canvases are not blank');
    let minDiff = Infinity;
    for (let a = 0; a < 10; a++) {
      for (let b = a + 1; b < 10; b++) {
        const ma = masks[a] as number[];
        const mb = masks[b] as number[];
        const d = ma.reduce((s, v, k) => s + Math.abs(v - (mb[k] as number)), 0) / ma.length;
        minDiff = Math.min(minDiff, d);
      }
    }
    assert.ok(minDiff > 1, `mask canvases differ between classes (min mean |difference| ${minDiff.toFixed(2)})`);
    ok(`mask canvases differ between every pair of classes (min mean |difference| ${minDiff.toFixed(1)} / 255)`);
    times.sort((a, b) => a - b);
    log(`time per interpretation on ${info.backend}: median ${(times[5] as number).toFixed(1)} ms (min ${(times[0] as number).toFixed(1)}, max ${(times[9] as number).toFixed(1)})`);
    const timeText = (await page.textContent('#time')) ?? '';
    assert.match(timeText, /ms on /);
    ok(`the page shows the time per interpretation ("${timeText}")`);

    // ---- pixels: an ImageData and a canvas interpret exactly like the tensor of the same bytes
    for (const i of [pairA, pairB]) {
      const px = (await page.evaluate((k) => window.piqDemo.checkPixelInputs?.(k), i)) as PixelInputCheck | undefined;
      assert.ok(px, 'the page exposes checkPixelInputs');
      for (const kind of ['imageData', 'canvas'] as const) {
        assert.equal(px[kind].predictedClass, px.tensor.predictedClass, `${kind} decision equals the tensor path`);
        assert.equal(px[kind].mask.length, 784);
        const d = maxAbsDiff(px[kind].mask, px.tensor.mask);
        assert.ok(d <= 1e-6, `${kind} mask equals the tensor path (max |difference| ${d})`);
      }
    }
    ok('interpret(ImageData) and interpret(canvas) equal interpret(tensor of the same bytes / 255) on the page');

    // ---- screenshot of one digit (the first 7)
    await click(page, `#gallery button[data-digit="${pairB}"]`);
    mkdirSync(dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    log(`screenshot: ${SCREENSHOT}`);

    // ---- overlap mode: A = class 3, B = class 7
    await click(page, `#gallery button[data-digit="${pairA}"]`);
    const beforeToggle = await page.evaluate(() => window.piqDemo.count);
    await page.check('#overlap');
    await page.waitForFunction((k) => window.piqDemo.count > k, beforeToggle);
    const mixed = await click(page, `#gallery button[data-digit="${pairB}"]`);
    assert.equal(mixed.source, 'overlap');
    assert.deepEqual(mixed.digits, [pairA, pairB]);
    assert.ok(maxAbsDiff(mixed.input, mix) < 1e-6, 'overlap input is the pixel-wise max of the two digits');
    const nodeMix = ref.example(n);
    assert.ok(sameDecision(mixed.predictedClass, nodeMix.predictedClass, nodeMix.probabilities), 'overlap prediction equals Node');
    assert.ok(maxAbsDiff(mixed.mask, nodeMix.mask) < 0.05);
    ok(`overlap mode blends two digits (pixel-wise max) and matches Node: predicted ${mixed.predictedClass}, interpretation classified ${mixed.interpretationClass}`);
    if (process.env.PIQ_SCREENSHOT_OVERLAP) await page.screenshot({ path: process.env.PIQ_SCREENSHOT_OVERLAP, fullPage: true });

    // ---- drawing: a vertical stroke
    await page.uncheck('#overlap');
    await page.waitForFunction(() => document.getElementById('status')?.dataset.state === 'ready');
    await page.click('#clear');
    const box = await page.locator('#pad').boundingBox();
    assert.ok(box);
    const beforeDraw = await page.evaluate(() => window.piqDemo.count);
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.15);
    await page.mouse.down();
    for (let s = 1; s <= 12; s++) await page.mouse.move(box.x + box.width * (0.5 + 0.01 * s / 12), box.y + box.height * (0.15 + (0.7 * s) / 12));
    await page.mouse.up();
    await page.waitForFunction((k) => window.piqDemo.count > k && document.getElementById('status')?.dataset.state === 'ready', beforeDraw);
    const drawn = (await page.evaluate(() => window.piqDemo.last)) as LastResult;
    assert.equal(drawn.source, 'drawing');
    assert.ok(stdOf(drawn.input) > 0.1, 'drawn digit reaches the interpreter');
    log(`drawn vertical stroke -> predicted ${drawn.predictedClass} (p=${(drawn.probabilities[drawn.predictedClass] ?? 0).toFixed(2)})`);
    ok('a digit drawn on the pad is interpreted');

    // ---- forced fallback: the wasm backend (binaries served from public/wasm)
    await page.goto(`${url}?backend=wasm`);
    await page.waitForFunction(() => window.piqDemo.count >= 1 || window.piqDemo.error !== null, undefined, { timeout: 120_000 });
    const wasm = await page.evaluate(() => ({ backend: window.piqDemo.backend, error: window.piqDemo.error, last: window.piqDemo.last }));
    assert.equal(wasm.error, null);
    assert.equal(wasm.backend, 'wasm');
    assert.equal(await page.textContent('#backend'), 'wasm');
    const first = ref.example(0);
    assert.ok(wasm.last && sameDecision(wasm.last.predictedClass, first.predictedClass, first.probabilities));
    ok(`?backend=wasm runs on wasm and agrees with Node (predicted ${wasm.last?.predictedClass} for digit 0, ${wasm.last?.milliseconds.toFixed(1)} ms)`);

    assert.deepEqual(pageErrors, [], 'no uncaught page errors');
    ok('no uncaught page errors');
  } finally {
    await context.close();
    rmSync(userDataDir, { recursive: true, force: true });
  }

  // ---- saving to and loading from indexeddb:// and localstorage://, across a reload, and damaged saves
  await persistenceChecks({ chromium: CHROMIUM, flags: FLAGS, url, ok, log });

  // ---- no WebGL (getContext('webgl2' / 'webgl' / 'experimental-webgl') returns null, as on a machine without it):
  // the page falls back to wasm and says so
  const noGlDir = mkdtempSync(join(tmpdir(), 'piq-chromium-'));
  const noGl = await chromium.launchPersistentContext(noGlDir, { executablePath: CHROMIUM, headless: true, args: FLAGS });
  try {
    await noGl.addInitScript(() => {
      for (const proto of [HTMLCanvasElement.prototype, OffscreenCanvas.prototype] as Array<{ getContext: (...a: unknown[]) => unknown }>) {
        const original = proto.getContext;
        proto.getContext = function (this: unknown, type: unknown, ...rest: unknown[]) {
          return typeof type === 'string' && type.includes('webgl') ? null : original.call(this, type, ...rest);
        };
      }
    });
    const page = noGl.pages()[0] ?? (await noGl.newPage());
    await page.goto(url);
    await page.waitForFunction(() => window.piqDemo.count >= 1 || window.piqDemo.error !== null, undefined, { timeout: 120_000 });
    const s = await page.evaluate(() => ({ backend: window.piqDemo.backend, note: window.piqDemo.backendNote, error: window.piqDemo.error }));
    assert.equal(s.error, null);
    assert.equal(s.backend, 'wasm');
    assert.match((await page.textContent('#backend-note')) ?? '', /fell back: webgl/);
    ok(`without WebGL the page falls back to wasm and says so ("${s.note}")`);
  } finally {
    await noGl.close();
    await server.close();
    rmSync(noGlDir, { recursive: true, force: true });
  }
  log(`all ${checks} checks passed`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
