// Small helpers shared by the examples: argument parsing, backend choice, progress bars.
import { parseArgs as nodeParseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';

export function log(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

/** The flags a program takes: `'string'` takes a value (`--out dir`), `'boolean'` does not (`--quick`). */
export type FlagSpec = Record<string, 'string' | 'boolean'>;

type FlagOf<S extends FlagSpec, T> = Extract<{ [K in keyof S]: S[K] extends T ? K : never }[keyof S], string>;

/**
 * Parses `argv` with node:util's `parseArgs` in strict mode against `spec` (every flag the program
 * takes; `--help`/`-h` is added): an unknown or misspelt flag (`--quik`), a missing value or a
 * stray positional stops the program with node's message and the help text. The accessors accept
 * only declared names (checked by the compiler) and validate numbers.
 */
export function parseArgs<const S extends FlagSpec>(argv: string[], spec: S, help: string) {
  const options = Object.fromEntries(Object.entries(spec).map(([name, type]) => [name, { type }]));
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = nodeParseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false }));
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${help}`);
  }
  if (values.help === true) {
    console.log(help);
    process.exit(0);
  }
  const numeric = (k: string, d: number, integer: boolean) => {
    const v = values[k];
    if (v === undefined) return d;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
      throw new Error(`--${k} must be a positive ${integer ? 'integer' : 'number'}, got ${String(v)}`);
    }
    return n;
  };
  return {
    flag: (k: FlagOf<S, 'boolean'>) => values[k] === true,
    string: (k: FlagOf<S, 'string'>, d: string) => (typeof values[k] === 'string' ? (values[k] as string) : d),
    /** The value, or undefined when the flag was not given. */
    optional: (k: FlagOf<S, 'string'>) => values[k] as string | undefined,
    number: (k: FlagOf<S, 'string'>, d: number) => numeric(k, d, false),
    int: (k: FlagOf<S, 'string'>, d: number) => numeric(k, d, true),
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
