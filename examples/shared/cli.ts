// Small helpers shared by the examples: argument parsing, backend choice, progress bars.
import * as tf from '@tensorflow/tfjs-core';

export function log(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

export function parseArgs(argv: string[], help: string) {
  const values = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--help' || a === '-h') {
      console.log(help);
      process.exit(0);
    }
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${JSON.stringify(a)}\n${help}`);
    const key = a.slice(2);
    const next = argv[i + 1];
    if (next !== undefined && !next.startsWith('--')) {
      values.set(key, next);
      i++;
    } else values.set(key, true);
  }
  return {
    flag: (k: string) => values.get(k) === true,
    string: (k: string, d: string) => {
      const v = values.get(k);
      return typeof v === 'string' ? v : d;
    },
    number: (k: string, d: number) => {
      const v = values.get(k);
      if (v === undefined) return d;
      const n = Number(v);
      if (!Number.isFinite(n) || n <= 0) throw new Error(`--${k} must be a positive number, got ${String(v)}`);
      return n;
    },
    int: (k: string, d: number) => {
      const v = values.get(k);
      if (v === undefined) return d;
      const n = Number(v);
      if (!Number.isInteger(n) || n <= 0) throw new Error(`--${k} must be a positive integer, got ${String(v)}`);
      return n;
    },
  };
}

/** Activates the asked backend: 'wasm' (with piq-tfjs's training kernels) or 'cpu'; falls back to cpu. */
export async function pickBackend(name: string): Promise<string> {
  await import('@tensorflow/tfjs-backend-cpu');
  if (name === 'wasm') {
    try {
      await import('@tensorflow/tfjs-backend-wasm');
      const { enableWasmTraining } = await import('piq-tfjs');
      // The fast kernels replace wasm's own (slow) Conv2DBackpropInput and Tile: an explicit opt-in.
      enableWasmTraining({ fastConvTranspose: true, fastTile: true });
      if (await tf.setBackend('wasm')) {
        await tf.ready();
        return 'wasm';
      }
    } catch (e) {
      log(`wasm backend unavailable (${(e as Error).message}); using cpu`);
    }
  } else if (name !== 'cpu') {
    throw new Error(`--backend must be wasm or cpu, got ${name}`);
  }
  await tf.setBackend('cpu');
  await tf.ready();
  return 'cpu';
}

export function progressBar(label: string, total: number) {
  const tty = process.stderr.isTTY === true;
  let n = 0;
  let lastPrinted = -1;
  const t0 = Date.now();
  const render = (note = '') => {
    const frac = total > 0 ? Math.min(1, n / total) : 1;
    const width = 24;
    const filled = Math.round(frac * width);
    const secs = ((Date.now() - t0) / 1000).toFixed(0);
    const line = `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${n}/${total} ${secs}s ${note}`;
    if (tty) process.stderr.write(`\r${line.padEnd(110).slice(0, 110)}`);
    else {
      const decile = Math.floor(frac * 4);
      if (decile !== lastPrinted) {
        lastPrinted = decile;
        process.stderr.write(`${line}\n`);
      }
    }
  };
  return {
    tick(note?: string) {
      n++;
      render(note);
    },
    set(value: number, note?: string) {
      n = value;
      render(note);
    },
    done(note = '') {
      n = total;
      render(note);
      if (tty) process.stderr.write('\n');
    },
  };
}
