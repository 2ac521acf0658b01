// fit's `verbose` progress: what the printer writes on a terminal and elsewhere, that it stays
// silent outside Node, and (in a real pseudo-terminal, through `script`) that a fit shows it.
import * as tf from '@tensorflow/tfjs-core';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInterpreter } from '../../src';
import type { FitParams } from '../../src/training/callbacks';
import { createProgressLogger, formatDuration, formatValue, nodeStderr, type ProgressSink } from '../../src/training/progress';
import { squaresDataset, tinyClassifier } from '../fixtures/synthetic';

const params = (o: Partial<FitParams> = {}): FitParams => ({ epochs: 2, steps: 4, batchSize: 8, samples: 32, verbose: 1, doValidation: false, metrics: ['loss'], ...o });

function sink(isTTY: boolean, columns = 200): ProgressSink & { out: string } {
  const s = { out: '', isTTY, columns, write: (t: string) => void (s.out += t) };
  return s;
}

describe('progress printer', () => {
  it('prints nothing for verbose 0, nor for verbose 1 when stderr is not a terminal, nor outside Node', () => {
    expect(createProgressLogger(params({ verbose: 0 }), sink(true))).toBeUndefined();
    expect(createProgressLogger(params({ verbose: 1 }), sink(false))).toBeUndefined();
    expect(createProgressLogger(params({ verbose: 2 }), undefined)).toBeUndefined();
    // A browser has no process: the default sink is then absent.
    const saved = Object.getOwnPropertyDescriptor(globalThis, 'process') as PropertyDescriptor;
    let inBrowser: ProgressSink | undefined;
    try {
      Object.defineProperty(globalThis, 'process', { value: undefined, configurable: true, writable: true });
      inBrowser = nodeStderr();
    } finally {
      Object.defineProperty(globalThis, 'process', saved);
    }
    expect(inBrowser).toBeUndefined();
    expect(nodeStderr()).toBeDefined();
  });

  it('redraws one line on a terminal: epoch, bar, step, loss terms, steps/s, ETA; a summary line per epoch', async () => {
    const s = sink(true);
    const p = createProgressLogger(params(), s)!;
    p.onEpochBegin?.(0);
    await new Promise((r) => setTimeout(r, 20));
    p.onBatchEnd?.(0, { batch: 0, size: 8, loss: 0.51234, reconstruction: 0.4 });
    expect(s.out.startsWith('\rEpoch 1/2 [=====>..............] 1/4 · loss 0.5123 · reconstruction 0.4 · ')).toBe(true);
    expect(s.out).toMatch(/ steps\/s · ETA \d+s\x1b\[K$/);
    s.out = '';
    p.onBatchEnd?.(1, { batch: 1, size: 8 }); // within 100 ms of the last draw, not the last batch: no redraw
    expect(s.out).toBe('');
    p.onBatchEnd?.(3, { batch: 3, size: 8, loss: 0.25 }); // the last batch always draws
    expect(s.out).toContain('[====================] 4/4 · loss 0.25 · ');
    s.out = '';
    p.onEpochEnd?.(0, { loss: 0.3, val_loss: 0.35 });
    expect(s.out).toMatch(/^\rEpoch 1\/2 · 4 steps · \d+s · [\d.e+-]+ steps\/s · loss 0\.3 · val_loss 0\.35\x1b\[K\n$/);
  });

  it('cuts lines to the terminal width and ends a line cut short by the end of training', () => {
    const s = sink(true, 40);
    const p = createProgressLogger(params({ steps: undefined }), s)!;
    p.onEpochBegin?.(0);
    p.onBatchEnd?.(0, { batch: 0, size: 8, loss: 1, reconstruction: 1, codebook: 1, commitment: 1 });
    const line = s.out.slice(1, s.out.indexOf('\x1b[K'));
    expect(line.length).toBe(39);
    expect(line.endsWith('…')).toBe(true);
    expect(line.startsWith('Epoch 1/2 1 steps · loss 1')).toBe(true); // no bar or ETA without a known epoch length
    p.onTrainEnd?.();
    expect(s.out.endsWith('\n')).toBe(true);
  });

  it('prints one plain line per epoch for verbose 2, also when not a terminal', () => {
    const s = sink(false);
    const p = createProgressLogger(params({ verbose: 2 }), s)!;
    for (const e of [0, 1]) {
      p.onEpochBegin?.(e);
      for (let b = 0; b < 4; b++) p.onBatchEnd?.(b, { batch: b, size: 8, loss: 1 });
      p.onEpochEnd?.(e, { loss: 1 - e / 2 });
    }
    const lines = s.out.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^Epoch 1\/2 · 4 steps · \d+s( · [\d.e+-]+ steps\/s)? · loss 1$/);
    expect(lines[1]).toMatch(/^Epoch 2\/2 · 4 steps · .* · loss 0\.5$/);
    expect(s.out).not.toContain('\r');
  });

  it('formats numbers and durations compactly', () => {
    expect([0.512345, 12.3456, 1234.5, 0, 1.5e-5, 2e6, Number.NaN].map(formatValue)).toEqual(['0.5123', '12.35', '1235', '0', '1.50e-5', '2.00e+6', 'NaN']);
    expect([0.4, 45, 125, 3725].map(formatDuration)).toEqual(['0s', '45s', '2m05s', '1h02m']);
  });
});

describe('fit with verbose', () => {
  let classifier: ReturnType<typeof tinyClassifier>;
  let images: tf.Tensor4D;
  beforeAll(() => {
    classifier = tinyClassifier(3);
    images = squaresDataset(8, 4).images;
  });
  afterAll(() => {
    classifier.dispose();
    images.dispose();
  });

  async function capture(isTTY: boolean, verbose: 0 | 1 | 2 | undefined): Promise<string> {
    const interpreter = await createInterpreter({ classifier });
    const err = process.stderr;
    const write = err.write;
    const tty = Object.getOwnPropertyDescriptor(err, 'isTTY');
    let out = '';
    err.write = ((chunk: string) => ((out += String(chunk)), true)) as typeof err.write;
    Object.defineProperty(err, 'isTTY', { value: isTTY, configurable: true });
    try {
      await interpreter.fit(images, { epochs: 2, batchSize: 4, ...(verbose === undefined ? {} : { verbose }) });
    } finally {
      err.write = write;
      if (tty) Object.defineProperty(err, 'isTTY', tty);
      else delete (err as { isTTY?: boolean }).isTTY;
      interpreter.dispose();
    }
    return out;
  }

  it('shows progress on a terminal by default (verbose 1), nothing with verbose 0 or without a terminal', async () => {
    const shown = await capture(true, undefined);
    expect(shown).toContain('\rEpoch 1/2 [');
    expect(shown).toMatch(/\rEpoch 2\/2 · 2 steps · .* · loss [\d.]+ · reconstruction [\d.]+ · codebook /);
    expect(shown).toMatch(/steps\/s · ETA \d+s/);
    expect(shown.endsWith('\x1b[K\n')).toBe(true);
    expect(await capture(true, 0)).toBe('');
    expect(await capture(false, undefined)).toBe('');
    expect((await capture(false, 2)).split('\n').filter(Boolean)).toHaveLength(2);
  });

  it.skipIf(!existsSync('/usr/bin/script'))('draws the progress line in a real pseudo-terminal (util-linux script)', () => {
    // `script` gives the child a pty for stdout and stderr; the child runs a tiny fit with the defaults.
    const out = execFileSync('script', ['-qec', 'npx tsx --tsconfig tsconfig.test.json tests/fixtures/progress-child.ts', '/dev/null'], {
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, COLUMNS: '120' },
    });
    expect(out).toContain('\rEpoch 1/2 [');
    expect(out).toMatch(/steps\/s · ETA \d+s/);
    expect(out).toMatch(/Epoch 2\/2 · 2 steps · /);
    expect(out).toContain('child done');
  }, 130_000);
});
