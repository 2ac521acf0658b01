// enableWasmThreads: the threaded XNNPACK build of the wasm backend in Node.
//
// The thread pool is fixed when the backend initialises, once per process, so the runs with
// threads happen in child processes (tests/fixtures/wasm-threads-child.ts): the package's own
// non-threaded build, the threaded build with 1 thread (without dispose(): the process must still
// exit) and with 2 threads (dispose(), then the single-threaded backend again). Their conv2d,
// matMul and three PIQ training steps must be bit-identical, and match a float64 reference.
// The argument checks run in this process.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { enableWasmThreads, PiqConfigError, type WasmThreadsBackendModule } from '../../src';
import { MAX_WASM_THREADS } from '../../src/backends/wasm-threads';
import { expectThrowsWithoutLeak } from '../helpers';

const root = fileURLToPath(new URL('../../', import.meta.url));
const CHILD = 'tests/fixtures/wasm-threads-child.ts';
const CORES = cpus().length;

interface ChildResult {
  mode: string;
  threads: number;
  handleThreads: number | null;
  idleWorkersTerminated: number | null;
  tmpDirsCreated: number;
  tensorGrowth: number;
  conv: string;
  matMul: string;
  weights: string;
  losses: number[];
  reinit: { threads: number; matMulSame: boolean } | null;
}

/** Runs the child; resolves with its exit code, signal and parsed result line. */
function runChild(args: string[]): Promise<{ code: number | null; signal: string | null; result: ChildResult | null; stderr: string; tmpLeft: string[] }> {
  // A temp folder of its own (os.tmpdir() follows TMPDIR), to check that the shim's files are removed.
  const tmp = mkdtempSync(join(tmpdir(), 'piq-threads-test-'));
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], { cwd: root, env: { ...process.env, TMPDIR: tmp } });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += String(d)));
    p.stderr.on('data', (d) => (err += String(d)));
    // The child must exit by itself: a hung pool would be killed here and fail the test.
    const timer = setTimeout(() => p.kill('SIGKILL'), 120_000);
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith('WASM_THREADS_RESULT '));
      const tmpLeft = readdirSync(tmp).filter((n) => n.startsWith('piq-wasm-threads-')); // (tsx keeps its cache there too)
      rmSync(tmp, { recursive: true, force: true });
      resolve({ tmpLeft, code, signal, result: line ? (JSON.parse(line.slice('WASM_THREADS_RESULT '.length)) as ChildResult) : null, stderr: err.slice(-2000) });
    });
  });
}

const floats = (b64: string) => {
  const buf = Buffer.from(b64, 'base64');
  return new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
};

/** The child's seeded data (same LCG). */
function seeded(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  });
}

/** Largest |a − ref| relative to the largest |ref|. */
function relErr(a: Float32Array, ref: Float64Array): number {
  let d = 0;
  let m = 0;
  for (let i = 0; i < ref.length; i++) {
    d = Math.max(d, Math.abs((a[i] as number) - (ref[i] as number)));
    m = Math.max(m, Math.abs(ref[i] as number));
  }
  return d / m;
}

describe.skipIf(CORES < 2)('enableWasmThreads: two threads in Node (child processes)', () => {
  it('getThreadsCount() is 2; conv2d, matMul and 3 PIQ train steps are bit-identical to the 1-thread and non-threaded builds; the processes exit', async () => {
    const [plain, one, two] = await Promise.all([runChild(['default']), runChild(['1', 'keep']), runChild(['2'])]);
    for (const r of [plain, one, two]) {
      expect(r.signal, `child was killed (did not exit by itself): ${r.stderr}`).toBeNull();
      expect(r.code, r.stderr).toBe(0);
      expect(r.result).not.toBeNull();
    }
    const [p, o, t] = [plain.result, one.result, two.result] as [ChildResult, ChildResult, ChildResult];
    expect([p.threads, o.threads, t.threads]).toEqual([1, 1, 2]);
    expect([o.handleThreads, t.handleThreads]).toEqual([1, 2]);
    // Emscripten starts 8 pool workers; a pool of n threads uses n − 1 of them.
    expect([o.idleWorkersTerminated, t.idleWorkersTerminated]).toEqual([8, 7]);
    // The temp files of the worker shim are gone once enableWasmThreads returns.
    expect([o.tmpDirsCreated, t.tmpDirsCreated]).toEqual([0, 0]);
    expect([...plain.tmpLeft, ...one.tmpLeft, ...two.tmpLeft]).toEqual([]);
    expect([p.tensorGrowth, o.tensorGrowth, t.tensorGrowth]).toEqual([0, 0, 0]);
    for (const key of ['conv', 'matMul', 'weights'] as const) {
      expect(o[key], `${key}: threaded 1 thread vs non-threaded`).toBe(p[key]);
      expect(t[key], `${key}: threaded 2 threads vs non-threaded`).toBe(p[key]);
    }
    expect(t.losses).toEqual(p.losses);
    expect(o.losses).toEqual(p.losses);
    // The losses are finite and the step trains.
    expect(p.losses.every(Number.isFinite)).toBe(true);
    expect(p.losses[2] as number).toBeLessThan(p.losses[0] as number);
    // After dispose(), 'wasm' initialises again (single-threaded) with the same matMul.
    expect(t.reinit).toEqual({ threads: 1, matMulSame: true });

    // Independent float64 reference of the conv2d and matMul.
    const [N, H, W, C, F] = [4, 16, 16, 8, 32];
    const xs = seeded(N * H * W * C, 1);
    const ws = seeded(3 * 3 * C * F, 2);
    const conv = new Float64Array(N * H * W * F);
    for (let n = 0; n < N; n++)
      for (let i = 0; i < H; i++)
        for (let j = 0; j < W; j++)
          for (let a = 0; a < 3; a++)
            for (let b = 0; b < 3; b++) {
              const y = i + a - 1;
              const x = j + b - 1;
              if (y < 0 || y >= H || x < 0 || x >= W) continue;
              for (let c = 0; c < C; c++) {
                const v = xs[((n * H + y) * W + x) * C + c] as number;
                for (let f = 0; f < F; f++) conv[((n * H + i) * W + j) * F + f]! += v * (ws[((a * 3 + b) * C + c) * F + f] as number);
              }
            }
    expect(relErr(floats(t.conv), conv)).toBeLessThan(1e-5);
    const [M, K, P] = [96, 256, 80];
    const am = seeded(M * K, 3);
    const bm = seeded(K * P, 4);
    const mm = new Float64Array(M * P);
    for (let i = 0; i < M; i++) for (let k = 0; k < K; k++) for (let j = 0; j < P; j++) mm[i * P + j]! += (am[i * K + k] as number) * (bm[k * P + j] as number);
    expect(relErr(floats(t.matMul), mm)).toBeLessThan(1e-5);
  }, 240_000);
});

if (CORES < 2) {
  it.skip(`enableWasmThreads with 2 threads: skipped, this machine reports ${CORES} logical core (os.cpus()); the test needs at least 2`, () => undefined);
}

describe('enableWasmThreads: argument and state errors', () => {
  const fakeModule: WasmThreadsBackendModule = { setThreadsCount: () => undefined, getThreadsCount: () => 1 };

  it('refuses a value that is not the wasm package', async () => {
    for (const bad of [undefined, null, 3, {}, { setThreadsCount: () => undefined }]) {
      const e = await expectThrowsWithoutLeak(() => enableWasmThreads(bad as unknown as WasmThreadsBackendModule));
      expect(e).toBeInstanceOf(PiqConfigError);
      expect(e.message).toMatch(/^enableWasmThreads: 'wasmBackend' must be the @tensorflow\/tfjs-backend-wasm module.*Fix: pass the module namespace/);
    }
  });

  it('refuses bad options: threads < 1, non-integer, above the pool limit, not a number; trimIdleWorkers not boolean', async () => {
    for (const threads of [0, -1, 1.5, Number.NaN, MAX_WASM_THREADS + 1, '2']) {
      const e = await expectThrowsWithoutLeak(() => enableWasmThreads(fakeModule, { threads: threads as number }));
      expect(e).toBeInstanceOf(PiqConfigError);
      expect(e.message).toContain(`enableWasmThreads: 'threads' must be an integer from 1 to ${MAX_WASM_THREADS}`);
      expect(e.message).toContain(`got ${typeof threads === 'string' ? JSON.stringify(threads) : Number.isNaN(threads) ? 'NaN' : String(threads)}`);
    }
    const e = await expectThrowsWithoutLeak(() => enableWasmThreads(fakeModule, { trimIdleWorkers: 'yes' as unknown as boolean }));
    expect(e.message).toBe("enableWasmThreads: 'trimIdleWorkers' must be true or false, got \"yes\".");
    const o = await expectThrowsWithoutLeak(() => enableWasmThreads(fakeModule, null as unknown as object));
    expect(o.message).toBe("enableWasmThreads: 'options' must be an object, got null.");
  });

  it('refuses to run when the wasm backend is not registered', async () => {
    expect(tf.findBackendFactory('wasm')).toBeNull(); // this file never imports the wasm package before here
    const e = await expectThrowsWithoutLeak(() => enableWasmThreads(fakeModule, { threads: 2 }));
    expect(e.message).toMatch(/^enableWasmThreads: the 'wasm' backend is not registered.*Fix: load the @tensorflow\/tfjs-backend-wasm package/);
  });

  it('refuses to run after the wasm backend was initialised, and leaves it untouched', async () => {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    expect(await tf.setBackend('wasm')).toBe(true);
    await tf.setBackend('cpu');
    const e = await expectThrowsWithoutLeak(() => enableWasmThreads(wasm, { threads: 2 }));
    expect(e).toBeInstanceOf(PiqConfigError);
    expect(e.message).toMatch(/^enableWasmThreads: the 'wasm' backend must not be initialised yet, got an initialised one.*Fix: call enableWasmThreads before/);
    expect(wasm.getThreadsCount()).toBe(1);
    expect(tf.getBackend()).toBe('cpu');
  });
});
