// The browser example: loads the MNIST classifier and the PIQ interpreter trained by
// `npm run demo`, lets the user draw or pick digits (or blend two), and shows the prediction, the
// mask, the mask over the input and the interpretation. Backend: WebGL, falling back to wasm, then cpu.
// `?backend=wasm` (or cpu) forces one.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { loadInterpreter, type Interpreter, type InterpretResult } from 'piq-tfjs';
import { drawToCanvas, heatmap, maskOverlay, toRgba } from 'piq-tfjs/visualize';

const SIZE = 28;
const PIXELS = SIZE * SIZE;

interface DigitsFile {
  labels: number[];
  testIndices: number[];
  pixels: string;
}

/** The page's last interpretation, exposed as `window.piqDemo.last` for the end-to-end test. */
export interface LastResult {
  source: 'digit' | 'overlap' | 'drawing';
  digits: number[];
  predictedClass: number;
  interpretationClass: number;
  probabilities: number[];
  milliseconds: number;
  input: number[];
  mask: number[];
}

interface DemoState {
  ready: boolean;
  backend: string;
  backendNote: string;
  renderer: string;
  count: number;
  warmupMilliseconds: number;
  last: LastResult | null;
  error: string | null;
  labels: number[];
  /** For the end-to-end test: test digit `i` interpreted from an ImageData, a canvas and the tensor of the same bytes. */
  checkPixelInputs?: (i: number) => Promise<PixelInputCheck>;
}

/** Masks and decisions of one digit given as pixels and as a tensor (see `checkPixelInputs`). */
export interface PixelInputCheck {
  imageData: { predictedClass: number; mask: number[] };
  canvas: { predictedClass: number; mask: number[] };
  tensor: { predictedClass: number; mask: number[] };
}

declare global {
  interface Window {
    piqDemo: DemoState;
  }
}

const state: DemoState = {
  ready: false,
  backend: '',
  backendNote: '',
  renderer: '',
  count: 0,
  warmupMilliseconds: NaN,
  last: null,
  error: null,
  labels: [],
};
window.piqDemo = state;

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el as T;
};

function setStatus(text: string, kind: 'loading' | 'ready' | 'busy' | 'error'): void {
  const el = $('status');
  el.textContent = text;
  el.dataset.state = kind;
  el.className = kind === 'error' ? 'error' : '';
}

// ---------------------------------------------------------------- backend

/** Name of the GPU renderer behind WebGL (SwiftShader in headless Chromium), or '' if unknown. */
function webglRenderer(): string {
  try {
    const gl = document.createElement('canvas').getContext('webgl2') ?? document.createElement('canvas').getContext('webgl');
    if (!gl) return '';
    const ext = gl.getExtension('WEBGL_debug_renderer_info');
    return String(gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
  } catch {
    return '';
  }
}

async function pickBackend(): Promise<void> {
  setWasmPaths(new URL('wasm/', location.href).href);
  const forced = new URLSearchParams(location.search).get('backend');
  const order = ['webgl', 'wasm', 'cpu'];
  const tries = forced && order.includes(forced) ? [forced, ...order.filter((b) => b !== forced)] : order;
  const failures: string[] = [];
  for (const name of tries) {
    try {
      if (!(await tf.setBackend(name))) {
        failures.push(`${name} unavailable`);
        continue;
      }
      await tf.ready();
      // A backend can initialise yet fail on first use (e.g. WebGL without float textures): probe it.
      const probe = tf.tidy(() => tf.add(tf.tensor1d([1, 2]), tf.scalar(1)).dataSync());
      if (probe[0] !== 2 || probe[1] !== 3) throw new Error('wrong result on a probe op');
      state.backend = name;
      break;
    } catch (e) {
      failures.push(`${name} failed: ${(e as Error).message}`);
    }
  }
  if (!state.backend) throw new Error(`no tfjs backend works here (${failures.join('; ')})`);
  if (state.backend === 'webgl') state.renderer = webglRenderer();
  const fellBack = failures.length > 0 && !(forced && forced === state.backend);
  state.backendNote = forced === state.backend
    ? `forced with ?backend=${forced}`
    : fellBack
      ? `fell back: ${failures.join('; ')}`
      : state.renderer ? `renderer: ${state.renderer}` : 'first choice';
  $('backend').textContent = state.backend;
  const note = $('backend-note');
  note.textContent = state.backendNote;
  note.className = fellBack ? 'pill warn' : 'pill';
}

// ---------------------------------------------------------------- rendering

function drawGray(pixels: ArrayLike<number>, canvas: HTMLCanvasElement): void {
  drawToCanvas(toRgba(Float32Array.from(pixels), SIZE, SIZE, 1, { min: 0, max: 1 }), canvas);
}

function renderResult(input: Float32Array, r: InterpretResult, ms: number, source: LastResult['source'], digits: number[]): void {
  const ex = r.example(0);
  drawGray(input, $<HTMLCanvasElement>('input-canvas'));
  drawToCanvas(heatmap(ex.mask, SIZE, SIZE, { colormap: 'magma' }), $<HTMLCanvasElement>('mask-canvas'));
  drawToCanvas(maskOverlay(input, ex.mask, SIZE, SIZE, 1, { colormap: 'magma', alpha: 0.6 }), $<HTMLCanvasElement>('overlay-canvas'));
  drawGray(ex.interpretation, $<HTMLCanvasElement>('interpretation-canvas'));

  const probs = Array.from(ex.probabilities);
  const pred = $('prediction');
  pred.textContent = `${ex.predictedClass} (${((probs[ex.predictedClass] ?? 0) * 100).toFixed(1)}%)`;
  pred.dataset.class = String(ex.predictedClass);
  $('interpretation-class').textContent =
    `${ex.interpretationClass} ${ex.interpretationClass === ex.predictedClass ? '(faithful)' : '(differs from the prediction)'}`;
  $('time').textContent = `${ms.toFixed(1)} ms on ${state.backend}`;
  const box = $('probs');
  box.replaceChildren();
  probs.forEach((p, c) => {
    const label = document.createElement('span');
    label.textContent = String(c);
    const track = document.createElement('div');
    track.className = c === ex.predictedClass ? 'track top' : 'track';
    const fill = document.createElement('div');
    fill.className = 'fill';
    fill.style.width = `${(p * 100).toFixed(1)}%`;
    track.append(fill);
    const wrap = document.createElement('div');
    wrap.className = c === ex.predictedClass ? 'top' : '';
    wrap.append(track);
    const value = document.createElement('span');
    value.textContent = `${(p * 100).toFixed(1)}%`;
    box.append(label, wrap, value);
  });

  state.last = {
    source,
    digits,
    predictedClass: ex.predictedClass,
    interpretationClass: ex.interpretationClass,
    probabilities: probs,
    milliseconds: ms,
    input: Array.from(input),
    mask: Array.from(ex.mask),
  };
  state.count++;
}

// ---------------------------------------------------------------- interpretation

let interpreter: Interpreter | null = null;
let queue: Promise<void> = Promise.resolve();

/** Interprets one 28x28 image (values in [0, 1]); calls are serialised. */
function interpretPixels(input: Float32Array, source: LastResult['source'], digits: number[]): Promise<void> {
  queue = queue.then(async () => {
    if (!interpreter) return;
    setStatus('interpreting…', 'busy');
    const x = tf.tensor4d(input, [1, SIZE, SIZE, 1]);
    try {
      const t0 = performance.now();
      const r = await interpreter.interpret(x);
      const ms = performance.now() - t0;
      renderResult(input, r, ms, source, digits);
      setStatus('ready', 'ready');
    } catch (e) {
      state.error = (e as Error).message;
      setStatus(`error: ${state.error}`, 'error');
    } finally {
      x.dispose();
    }
  });
  return queue;
}

/**
 * Interprets test digit `i` three ways: as an `ImageData` (grey bytes in R, G and B), as a canvas
 * holding it, and as the tensor those bytes stand for (`byte / 255`, the default `inputRange`).
 */
function checkPixelInputs(i: number): Promise<PixelInputCheck> {
  const run = queue.then(async (): Promise<PixelInputCheck> => {
    if (!interpreter) throw new Error('the interpreter is not loaded');
    const bytes = Array.from(digitPixels[i] ?? [], (v) => Math.round(v * 255));
    const rgba = new Uint8ClampedArray(PIXELS * 4);
    bytes.forEach((b, p) => rgba.set([b, b, b, 255], p * 4));
    const imageData = new ImageData(rgba, SIZE, SIZE);
    const canvas = document.createElement('canvas');
    canvas.width = SIZE;
    canvas.height = SIZE;
    canvas.getContext('2d')?.putImageData(imageData, 0, 0);
    const x = tf.tidy(() => tf.div(tf.tensor4d(Float32Array.from(bytes), [1, SIZE, SIZE, 1]), 255));
    try {
      const pick = (r: InterpretResult) => ({ predictedClass: r.predictedClass[0] as number, mask: Array.from(r.mask) });
      return {
        imageData: pick(await interpreter.interpret(imageData)),
        canvas: pick(await interpreter.interpret(canvas)),
        tensor: pick(await interpreter.interpret(x)),
      };
    } finally {
      x.dispose();
    }
  });
  queue = run.then(
    () => undefined,
    () => undefined,
  );
  return run;
}
state.checkPixelInputs = checkPixelInputs;

// ---------------------------------------------------------------- test digits and overlap mode

let digitPixels: Float32Array[] = [];
let slotA: number | null = null;
let slotB: number | null = null;
let nextSlot: 'A' | 'B' = 'A';

function overlapOn(): boolean {
  return $<HTMLInputElement>('overlap').checked;
}

function showSlots(): void {
  const buttons = Array.from(document.querySelectorAll<HTMLButtonElement>('#gallery button'));
  buttons.forEach((b, i) => {
    b.classList.toggle('a', i === slotA);
    b.classList.toggle('b', overlapOn() && i === slotB);
  });
  const name = (i: number | null) => (i === null ? '–' : `a ${state.labels[i]} (#${i})`);
  $('slots').textContent = overlapOn()
    ? `Overlap (pixel-wise max) of A: ${name(slotA)} and B: ${name(slotB)}. Next click sets ${nextSlot}.`
    : 'Click a digit to interpret it.';
}

function interpretSelection(): Promise<void> {
  if (slotA === null) return Promise.resolve();
  const a = digitPixels[slotA] as Float32Array;
  if (!overlapOn() || slotB === null) return interpretPixels(a, 'digit', [slotA]);
  const b = digitPixels[slotB] as Float32Array;
  const mix = new Float32Array(PIXELS);
  for (let p = 0; p < PIXELS; p++) mix[p] = Math.max(a[p] as number, b[p] as number);
  return interpretPixels(mix, 'overlap', [slotA, slotB]);
}

function pick(i: number): Promise<void> {
  if (overlapOn()) {
    if (nextSlot === 'A') slotA = i;
    else slotB = i;
    nextSlot = nextSlot === 'A' ? 'B' : 'A';
  } else {
    slotA = i;
  }
  showSlots();
  return interpretSelection();
}

async function loadDigits(): Promise<void> {
  const file = (await (await fetch(new URL('digits.json', location.href))).json()) as DigitsFile;
  const bytes = Uint8Array.from(atob(file.pixels), (ch) => ch.charCodeAt(0));
  state.labels = file.labels;
  digitPixels = file.labels.map((_, k) => Float32Array.from(bytes.subarray(k * PIXELS, (k + 1) * PIXELS), (b) => b / 255));
  const gallery = $('gallery');
  file.labels.forEach((label, i) => {
    const button = document.createElement('button');
    button.dataset.digit = String(i);
    button.dataset.label = String(label);
    button.title = `MNIST test digit #${file.testIndices[i]} (label ${label})`;
    const c = document.createElement('canvas');
    c.className = 'pixel';
    drawGray(digitPixels[i] as Float32Array, c);
    const caption = document.createElement('span');
    caption.textContent = String(label);
    button.append(c, caption);
    button.addEventListener('click', () => void pick(i));
    gallery.append(button);
  });
}

// ---------------------------------------------------------------- drawing pad

/** Turns the pad drawing into an MNIST-like 28x28 image: fit the ink in 20x20, centre its mass. */
function padToDigit(pad: HTMLCanvasElement): Float32Array | null {
  const ctx = pad.getContext('2d', { willReadFrequently: true });
  if (!ctx) return null;
  const { width, height } = pad;
  const data = ctx.getImageData(0, 0, width, height).data;
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if ((data[(y * width + x) * 4] as number) > 0) {
        x0 = Math.min(x0, x);
        x1 = Math.max(x1, x);
        y0 = Math.min(y0, y);
        y1 = Math.max(y1, y);
      }
    }
  }
  if (x1 < 0) return null;
  const w = x1 - x0 + 1;
  const h = y1 - y0 + 1;
  const scale = 20 / Math.max(w, h);
  const small = document.createElement('canvas');
  small.width = SIZE;
  small.height = SIZE;
  const sctx = small.getContext('2d', { willReadFrequently: true });
  if (!sctx) return null;
  sctx.fillStyle = '#000';
  sctx.fillRect(0, 0, SIZE, SIZE);
  sctx.imageSmoothingEnabled = true;
  sctx.imageSmoothingQuality = 'high';
  const dw = w * scale;
  const dh = h * scale;
  sctx.drawImage(pad, x0, y0, w, h, (SIZE - dw) / 2, (SIZE - dh) / 2, dw, dh);
  const px = sctx.getImageData(0, 0, SIZE, SIZE).data;
  const img = new Float32Array(PIXELS);
  let mass = 0;
  let cx = 0;
  let cy = 0;
  for (let p = 0; p < PIXELS; p++) {
    const v = (px[p * 4] as number) / 255;
    img[p] = v;
    mass += v;
    cx += v * (p % SIZE);
    cy += v * Math.floor(p / SIZE);
  }
  if (mass === 0) return null;
  const sx = Math.round(SIZE / 2 - 0.5 - cx / mass);
  const sy = Math.round(SIZE / 2 - 0.5 - cy / mass);
  const out = new Float32Array(PIXELS);
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      const fx = x - sx;
      const fy = y - sy;
      if (fx >= 0 && fx < SIZE && fy >= 0 && fy < SIZE) out[y * SIZE + x] = img[fy * SIZE + fx] as number;
    }
  }
  return out;
}

function setupPad(): void {
  const pad = $<HTMLCanvasElement>('pad');
  const ctx = pad.getContext('2d', { willReadFrequently: true });
  if (!ctx) return;
  const clear = () => {
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, pad.width, pad.height);
  };
  clear();
  let drawing = false;
  let last: { x: number; y: number } | null = null;
  const point = (e: PointerEvent) => {
    const r = pad.getBoundingClientRect();
    return { x: ((e.clientX - r.left) * pad.width) / r.width, y: ((e.clientY - r.top) * pad.height) / r.height };
  };
  pad.addEventListener('pointerdown', (e) => {
    drawing = true;
    last = point(e);
    pad.setPointerCapture(e.pointerId);
  });
  pad.addEventListener('pointermove', (e) => {
    if (!drawing || !last) return;
    const p = point(e);
    ctx.strokeStyle = '#fff';
    ctx.lineWidth = 18;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.beginPath();
    ctx.moveTo(last.x, last.y);
    ctx.lineTo(p.x, p.y);
    ctx.stroke();
    last = p;
  });
  const end = () => {
    if (!drawing) return;
    drawing = false;
    last = null;
    const img = padToDigit(pad);
    if (img) void interpretPixels(img, 'drawing', []);
  };
  pad.addEventListener('pointerup', end);
  pad.addEventListener('pointercancel', end);
  $('clear').addEventListener('click', clear);
}

// ---------------------------------------------------------------- start

async function main(): Promise<void> {
  await pickBackend();
  setupPad();
  await loadDigits();
  const models = new URL('models/', location.href).href;
  const classifier = await tfl.loadLayersModel(`${models}classifier/model.json`);
  interpreter = await loadInterpreter(`${models}interpreter/model.json`, { classifier });

  // The first call compiles WebGL shaders / warms caches; it is timed apart from the others.
  const t0 = performance.now();
  const warm = tf.zeros([1, SIZE, SIZE, 1]);
  await interpreter.interpret(warm);
  warm.dispose();
  state.warmupMilliseconds = performance.now() - t0;
  $('warmup').textContent = `(warm-up call at load: ${state.warmupMilliseconds.toFixed(0)} ms)`;

  $('overlap').addEventListener('change', () => {
    nextSlot = 'B';
    slotB = null;
    showSlots();
    void interpretSelection();
  });
  $('random-pair').addEventListener('click', () => {
    const n = digitPixels.length;
    const a = Math.floor(Math.random() * n);
    let b = Math.floor(Math.random() * n);
    while (state.labels[b] === state.labels[a]) b = Math.floor(Math.random() * n);
    $<HTMLInputElement>('overlap').checked = true;
    slotA = a;
    slotB = b;
    nextSlot = 'A';
    showSlots();
    void interpretSelection();
  });
  state.ready = true;
  setStatus('ready', 'ready');
  await pick(0);
}

main().catch((e: unknown) => {
  state.error = e instanceof Error ? e.message : String(e);
  setStatus(`error: ${state.error}`, 'error');
  console.error(e);
});
