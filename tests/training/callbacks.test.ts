// tfjs-layers-style callbacks of fit: hook order and arguments, async hooks, stopTraining (with
// the real tfl.callbacks.earlyStopping), a tfjs-vis-like object, setParams, and the History-like
// record next to the per-epoch logs.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInterpreter, PiqConfigError, type FitCallback, type FitLogs, type Interpreter } from '../../src';
import { epochLogs, historyOf, lossLogs } from '../../src/training/callbacks';
import { expectNoTensorLeak, expectThrowsWithoutLeak } from '../helpers';
import { squaresDataset, tinyClassifier } from '../fixtures/synthetic';

let classifier: tfl.Sequential;
let images: tf.Tensor4D;
let held: tf.Tensor4D;

beforeAll(() => {
  classifier = tinyClassifier(3);
  images = squaresDataset(12, 4).images; // 3 batches of 4
  held = squaresDataset(4, 9).images;
});

afterAll(() => {
  classifier.dispose();
  tf.dispose([images, held]);
});

async function fresh(): Promise<Interpreter> {
  return createInterpreter({ classifier, seed: 1 });
}

describe('fit callbacks', () => {
  it('calls every tfjs-layers hook in order, with (epoch, logs) and (batch, logs)', async () => {
    const interpreter = await fresh();
    const calls: string[] = [];
    const epochEnd: Array<[number, FitLogs | undefined]> = [];
    const batchEnd: Array<[number, FitLogs | undefined]> = [];
    const cb: FitCallback = {
      onTrainBegin: () => void calls.push('trainBegin'),
      onEpochBegin: (e) => void calls.push(`epochBegin ${e}`),
      onBatchBegin: (b, logs) => void calls.push(`batchBegin ${b} size ${logs?.size}`),
      onBatchEnd: (b, logs) => {
        calls.push(`batchEnd ${b}`);
        batchEnd.push([b, logs]);
      },
      onEpochEnd: (e, logs) => {
        calls.push(`epochEnd ${e}`);
        epochEnd.push([e, logs]);
      },
      onTrainEnd: () => void calls.push('trainEnd'),
    };
    const h = await interpreter.fit(images, { epochs: 2, batchSize: 4, shuffle: false, logEvery: 1, callbacks: cb, validationData: held });
    const epoch = (e: number) => [`epochBegin ${e}`, ...[0, 1, 2].flatMap((b) => [`batchBegin ${b} size 4`, `batchEnd ${b}`]), `epochEnd ${e}`];
    expect(calls).toEqual(['trainBegin', ...epoch(0), ...epoch(1), 'trainEnd']);
    // Epoch logs: tfjs names (`loss` is the total), the terms, and `val_` + the same.
    for (const [e, logs] of epochEnd) {
      const log = h.epochs[e]!;
      expect(logs?.loss).toBe(log.loss.total);
      expect(logs?.reconstruction).toBe(log.loss.reconstruction);
      expect(logs?.val_loss).toBe(log.validation?.loss.total);
      expect(logs?.val_inputFidelity).toBe(log.validation?.inputFidelity);
      expect(Object.keys(logs ?? {}).sort()).toEqual(['codebook', 'commitment', 'loss', 'reconstruction', 'val_codebook', 'val_commitment', 'val_inputFidelity', 'val_loss', 'val_reconstruction']);
    }
    // Batch logs with logEvery 1: every batch has its loss; the epoch's loss is their mean.
    expect(batchEnd.map(([b, l]) => [b, l?.batch, l?.size])).toEqual([0, 1, 2, 0, 1, 2].map((b) => [b, b, 4]));
    const first = batchEnd.slice(0, 3).map(([, l]) => l?.loss as number);
    expect(first.every(Number.isFinite)).toBe(true);
    expect(h.epochs[0]!.loss.total).toBeCloseTo((first[0]! + first[1]! + first[2]!) / 3, 5);
    expect(batchEnd[0]![1]?.perplexity).toBeGreaterThanOrEqual(1);
    interpreter.dispose();
  });

  it('gives batch logs the loss only on read-back steps (every logEvery steps and the end of an epoch)', async () => {
    const interpreter = await fresh();
    const withLoss: number[] = [];
    await interpreter.fit(images, { epochs: 1, batchSize: 2, shuffle: false, logEvery: 4, callbacks: { onBatchEnd: (b, l) => void (l && 'loss' in l && withLoss.push(b)) } });
    expect(withLoss).toEqual([3, 5]); // steps 4 and 6 (the last of the epoch)
    interpreter.dispose();
  });

  it('awaits async hooks before going on', async () => {
    const interpreter = await fresh();
    const order: string[] = [];
    const slow: FitCallback = {
      async onEpochEnd(e) {
        await new Promise((r) => setTimeout(r, 30));
        order.push(`slow ${e}`);
      },
    };
    const next: FitCallback = { onEpochBegin: (e) => void order.push(`begin ${e}`), onEpochEnd: (e) => void order.push(`next ${e}`) };
    await interpreter.fit(images, { epochs: 2, batchSize: 4, callbacks: [slow, next] });
    expect(order).toEqual(['begin 0', 'slow 0', 'next 0', 'begin 1', 'slow 1', 'next 1']);
    interpreter.dispose();
  });

  it('stops after the epoch in which a tf.callbacks.earlyStopping-like object sets model.stopTraining', async () => {
    const interpreter = await fresh();
    class StopAfter {
      model: { stopTraining: boolean } | undefined;
      constructor(private readonly epoch: number) {}
      setModel(m: { stopTraining: boolean }) {
        this.model = m;
      }
      async onEpochEnd(e: number) {
        if (e === this.epoch && this.model) this.model.stopTraining = true;
      }
    }
    const h = await interpreter.fit(images, { epochs: 5, batchSize: 4, callbacks: new StopAfter(1) });
    expect(h.stoppedEarly).toBe(true);
    expect(h.epochs.map((e) => e.epoch)).toEqual([0, 1]);
    expect(h.steps).toBe(6);
    interpreter.dispose();
  });

  it('works with the real tfl.callbacks.earlyStopping on val_loss', async () => {
    const interpreter = await fresh();
    // minDelta 1e9: no epoch after the first counts as an improvement, so patience 0 stops after epoch 1.
    const early = tfl.callbacks.earlyStopping({ monitor: 'val_loss', patience: 0, minDelta: 1e9 });
    const h = await interpreter.fit(images, { epochs: 5, batchSize: 4, validationData: held, callbacks: early });
    expect(h.stoppedEarly).toBe(true);
    expect(h.epochs.length).toBe(2);
    expect(h.history.val_loss).toHaveLength(2);
    interpreter.dispose();
  });

  it('stops mid-epoch after the batch whose onBatchEnd set stopTraining', async () => {
    const interpreter = await fresh();
    let model: { stopTraining: boolean } | undefined;
    const h = await interpreter.fit(images, {
      epochs: 3,
      batchSize: 4,
      callbacks: { setModel: (m) => void (model = m as { stopTraining: boolean }), onBatchEnd: (b) => void (b === 1 && model && (model.stopTraining = true)) },
    });
    expect(h.steps).toBe(2);
    expect(h.stoppedEarly).toBe(true);
    expect(h.epochs).toHaveLength(1); // the partial epoch's log
    interpreter.dispose();
  });

  it('feeds a tfjs-vis-like { onEpochEnd, onBatchEnd } object', async () => {
    const interpreter = await fresh();
    const plotted: Record<string, number[]> = { batch: [], epoch: [] };
    const tfvisLike = {
      onBatchEnd: async (_: number, logs?: FitLogs) => void (logs?.loss != null && plotted.batch!.push(logs.loss)),
      onEpochEnd: async (_: number, logs?: FitLogs) => void plotted.epoch!.push(logs?.loss as number),
    };
    const h = await interpreter.fit(images, { epochs: 2, batchSize: 4, logEvery: 1, callbacks: [tfvisLike] });
    expect(plotted.batch).toHaveLength(6);
    expect(plotted.epoch).toEqual(h.history.loss);
    interpreter.dispose();
  });

  it('passes tfjs-style params to setParams and the Trainer to setModel', async () => {
    const interpreter = await fresh();
    let params: Record<string, unknown> | undefined;
    let model: unknown;
    await interpreter.fit(images, { epochs: 1, batchSize: 5, verbose: 0, callbacks: { setParams: (p) => void (params = p), setModel: (m) => void (model = m) } });
    expect(params).toEqual({ epochs: 1, steps: 3, batchSize: 5, samples: 12, verbose: 0, doValidation: false, metrics: ['loss', 'reconstruction', 'codebook', 'commitment'] });
    expect((model as { stopTraining?: unknown }).stopTraining).toBe(false);
    expect(typeof (model as { fit?: unknown }).fit).toBe('function');
    interpreter.dispose();
  });

  it('leaves no tensor behind with callbacks', async () => {
    const interpreter = await fresh();
    await interpreter.fit(images, { epochs: 1, batchSize: 4 }); // optimizer and codebook exist afterwards
    await expectNoTensorLeak(() => interpreter.fit(images, { epochs: 1, batchSize: 4, logEvery: 1, callbacks: { onBatchEnd: () => undefined, onEpochEnd: () => undefined } }));
    interpreter.dispose();
  });

  it('rejects callbacks that are not callback objects, naming the entry', async () => {
    const interpreter = await fresh();
    const cases: Array<[unknown, string]> = [
      [5, "'callbacks' must be a callback object"],
      [[{ onEpochEnd: () => undefined }, null], "'callbacks[1]' must be a callback object"],
      [{ onEpochEnd: 'log' }, "'callbacks.onEpochEnd' must be a function, got \"log\""],
      [Object.create({ unrelated: 1 }), "'callbacks' must have at least one of onTrainBegin"],
    ];
    for (const [callbacks, msg] of cases) {
      const e = await expectThrowsWithoutLeak(() => interpreter.fit(images, { callbacks: callbacks as never }));
      expect(e).toBeInstanceOf(PiqConfigError);
      expect(e.message).toContain(`Trainer.fit: ${msg}`);
    }
    const v = await expectThrowsWithoutLeak(() => interpreter.fit(images, { verbose: 3 as never }));
    expect(v.message).toContain("Trainer.fit: 'verbose' must be one of 0, 1, 2, got 3.");
    interpreter.dispose();
  });
});

describe('History-like record', () => {
  it('holds one array per log name next to the per-epoch logs', async () => {
    const interpreter = await fresh();
    const h = await interpreter.fit(images, { epochs: 3, batchSize: 4, validationData: held });
    expect(h.history.loss).toEqual(h.epochs.map((e) => e.loss.total));
    expect(h.history.commitment).toEqual(h.epochs.map((e) => e.loss.commitment));
    expect(h.history.val_loss).toEqual(h.epochs.map((e) => e.validation?.loss.total));
    expect(h.history.val_inputFidelity).toEqual(h.epochs.map((e) => e.validation?.inputFidelity));
    interpreter.dispose();
  });

  it('is built from the epoch records by hand-checkable rules', () => {
    const epochs = [
      { loss: { total: 3, a: 1, b: 2 }, validation: { loss: { total: 5, a: 2, b: 3 }, inputFidelity: 0.5 } },
      { loss: { total: 2, a: 1, b: 1 } }, // a run cut short: no validation
    ];
    expect(lossLogs({ total: 3, a: 1 })).toEqual({ loss: 3, a: 1 });
    expect(epochLogs(epochs[0]!)).toEqual({ loss: 3, a: 1, b: 2, val_loss: 5, val_a: 2, val_b: 3, val_inputFidelity: 0.5 });
    expect(historyOf(epochs)).toEqual({ loss: [3, 2], a: [1, 1], b: [2, 1], val_loss: [5], val_a: [2], val_b: [3], val_inputFidelity: [0.5] });
  });
});
