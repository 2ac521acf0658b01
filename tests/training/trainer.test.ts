import * as tf from '@tensorflow/tfjs-core';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadInterpreter, PiqConfigError, PiqStateError, type FitHistory, type Loss } from '../../src';
import { readCheckpointState } from '../../src/training/checkpoint';
import { Trainer } from '../../src/training/trainer';
import { reconstructionLoss } from '../../src/losses/builtin';
import { readArtifact } from '../../src/io/artifact';
import { fileSystem } from '../../src/node';
import { mulberry32 } from '../../src/internal/random';
import { expectNoTensorLeak, expectThrowsWithoutLeak } from '../helpers';
import { memoryHandler } from '../fixtures/memory-handler';
import { makeRun, RUN_STEPS, weightArrays } from '../fixtures/checkpoint-run';
import { tinyClassifier } from '../fixtures/synthetic';

/** A handler that keeps every checkpoint it is given (artifacts are immutable once saved). */
function recordingHandler(): tf.io.IOHandler & { saved: tf.io.ModelArtifacts[] } {
  const saved: tf.io.ModelArtifacts[] = [];
  return {
    saved,
    async save(a) {
      saved.push(a);
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    },
  };
}

const replay = (a: tf.io.ModelArtifacts): tf.io.IOHandler => ({ load: async () => a });

/** History without wall-clock fields, for exact comparison. */
function timeless(h: FitHistory): unknown {
  return { ...h, seconds: 0, epochs: h.epochs.map((e) => ({ ...e, seconds: 0 })) };
}

async function uninterrupted(quantizer: Record<string, unknown> = {}) {
  const run = await makeRun(quantizer);
  const history = await run.interpreter.fit(run.images, run.options);
  const weights = weightArrays(run.interpreter);
  run.dispose();
  return { history, weights };
}

describe('mulberry32 state', () => {
  it('continues the same sequence after its state is saved and restored', () => {
    const a = mulberry32(42);
    a();
    a();
    const state = a.getState();
    const expected = [a(), a(), a()];
    const b = mulberry32(0);
    b.setState(state);
    expect([b(), b(), b()]).toEqual(expected);
    expect(() => b.setState(-1)).toThrow(/'state' must be an integer in \[0, 2\^32\), got -1/);
  });
});

describe('Trainer checkpoints and resume', () => {
  it('resumes from any checkpoint to weights and history bit-identical to an uninterrupted run', async () => {
    const ref = await uninterrupted();
    expect(ref.history.steps).toBe(RUN_STEPS);
    // The same run with a checkpoint every 5 steps (mid-epoch) and after each epoch.
    const run = await makeRun();
    const stepCk = recordingHandler();
    await run.interpreter.fit(run.images, { ...run.options, checkpoint: { every: 5, unit: 'step', destination: stepCk } });
    expect(weightArrays(run.interpreter)).toEqual(ref.weights); // checkpointing changes nothing
    run.dispose();
    expect(stepCk.saved.length).toBe(2); // steps 5 and 10
    const epochRun = await makeRun();
    const epochCk = recordingHandler();
    await epochRun.interpreter.fit(epochRun.images, { ...epochRun.options, checkpoint: { every: 1, destination: epochCk } });
    epochRun.dispose();
    expect(epochCk.saved.length).toBe(3);
    for (const artifact of [...stepCk.saved, epochCk.saved[0] as tf.io.ModelArtifacts, epochCk.saved[1] as tf.io.ModelArtifacts]) {
      const state = await readCheckpointState(replay(artifact));
      const resumed = await makeRun();
      const history = await resumed.interpreter.fit(resumed.images, { ...resumed.options, resumeFrom: replay(artifact) });
      expect(weightArrays(resumed.interpreter), `resumed from step ${state.globalStep}`).toEqual(ref.weights);
      expect(timeless(history)).toEqual(timeless(ref.history));
      resumed.dispose();
    }
  });

  it('checkpoints an aborted fit so that it can be resumed exactly', async () => {
    const ref = await uninterrupted();
    const run = await makeRun();
    const ck = memoryHandler();
    const ctrl = new AbortController();
    const h = await run.interpreter.fit(run.images, { ...run.options, signal: ctrl.signal, onProgress: (p) => p.step === 6 && ctrl.abort(), checkpoint: { every: 5, destination: ck } });
    expect(h.aborted).toBe(true);
    run.dispose();
    expect((await readCheckpointState(ck)).globalStep).toBe(6); // epoch checkpoints only, plus the one at the abort
    const resumed = await makeRun();
    const history = await resumed.interpreter.fit(resumed.images, { ...resumed.options, resumeFrom: ck });
    expect(weightArrays(resumed.interpreter)).toEqual(ref.weights);
    expect(timeless(history)).toEqual(timeless(ref.history));
    resumed.dispose();
  });

  it('restores the EMA codebook state exactly (update: ema)', async () => {
    const ref = await uninterrupted({ update: 'ema' });
    const run = await makeRun({ update: 'ema' });
    const ck = recordingHandler();
    await run.interpreter.fit(run.images, { ...run.options, checkpoint: { every: 7, unit: 'step', destination: ck } });
    run.dispose();
    const resumed = await makeRun({ update: 'ema' });
    await resumed.interpreter.fit(resumed.images, { ...resumed.options, resumeFrom: replay(ck.saved[0] as tf.io.ModelArtifacts) });
    const w = weightArrays(resumed.interpreter);
    expect(Object.keys(w)).toContain('quantizer/ema_cluster_size');
    expect(w).toEqual(ref.weights);
    resumed.dispose();
  });

  it('records the full training state and loads as an interpreter for inference', async () => {
    const run = await makeRun();
    const ck = memoryHandler();
    await run.interpreter.fit(run.images, { ...run.options, maxSteps: 6, checkpoint: { every: 6, unit: 'step', destination: ck } });
    const state = await readCheckpointState(ck);
    expect(state).toMatchObject({ globalStep: 6, fitSteps: 6, epoch: 1, batchInEpoch: 2, learningRate: 5e-3, stoppedEarly: false, fingerprint: { batchSize: 8, shuffle: true, seed: 5, examples: 32 } });
    expect(state.epochs.length).toBe(1);
    expect(state.plateau).not.toBeNull();
    const topo = (ck.artifacts as tf.io.ModelArtifacts).modelTopology as { format: string; config: { kind: string } };
    expect(topo.format).toBe('piq-interpreter');
    expect(topo.config.kind).toBe('checkpoint');
    const loaded = await loadInterpreter(ck, { classifier: run.interpreter.classifier });
    const [a, b] = [await run.interpreter.interpret(run.validation), await loaded.interpret(run.validation)];
    expect(Array.from(b.interpretation)).toEqual(Array.from(a.interpretation));
    loaded.dispose();
    run.dispose();
  });

  it('resumes after the process was killed (SIGKILL) mid-training, bit-identically', async () => {
    const ref = await uninterrupted();
    const dir = join(mkdtempSync(join(tmpdir(), 'piq-kill-')), 'ck');
    const child = spawn(process.execPath, ['--import', 'tsx', 'tests/fixtures/checkpoint-child.ts', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += String(d)));
    child.stderr.on('data', (d) => (output += String(d)));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const deadline = Date.now() + 40_000;
    while (!existsSync(join(dir, 'model.json'))) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no checkpoint appeared; child output:\n${output}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    child.kill('SIGKILL');
    await exited;
    expect(output).not.toMatch(/finished/);
    const state = await readCheckpointState(fileSystem(dir));
    expect(state.globalStep).toBeGreaterThanOrEqual(1);
    expect(state.globalStep).toBeLessThan(RUN_STEPS);
    const resumed = await makeRun();
    const history = await resumed.interpreter.fit(resumed.images, { ...resumed.options, resumeFrom: fileSystem(dir) });
    expect(weightArrays(resumed.interpreter)).toEqual(ref.weights);
    expect(timeless(history)).toEqual(timeless(ref.history));
    expect(JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')).modelTopology.config.kind).toBe('checkpoint');
    resumed.dispose();
  });

  it('never overwrites the last good checkpoint with a non-finite state', async () => {
    const run = await makeRun();
    const { createInterpreter } = await import('../../src');
    // Global step 1 creates the optimizer state; the loss is NaN from global step `poisonAt` on.
    // Checkpoints every 2 steps; logEvery 100, so only checkpoints and epoch ends read the loss.
    const cases = [
      // NaN at step 4, a checkpoint step: the checkpoint's own read-back finds it.
      { poisonAt: 4, message: /the loss became non-finite .* at step 4 \(epoch 0\); the weights were restored to step 2, the last finite check\. The last checkpoint \(step 2\) was kept\./, saved: [2] },
      // NaN at step 3 (no read-back): the loss of step 4, read by its checkpoint, is NaN.
      { poisonAt: 3, message: /the loss became non-finite .* at step 4 \(epoch 0\); the weights were restored to step 2, the last finite check\. The last checkpoint \(step 2\) was kept\./, saved: [2] },
      // A finite loss with a NaN gradient at step 4: the loss is fine, the update is not.
      { poisonAt: 4, gradientOnly: true, message: /the weights became non-finite at step 4 \(epoch 0\); the weights were restored to step 2, the last finite check\. The last checkpoint \(step 2\) was kept\./, saved: [2] },
    ];
    for (const c of cases) {
      let calls = 0;
      const poison: Loss = {
        name: 'poison',
        getConfig: () => ({}),
        compute: (ctx) => {
          const bad = ++calls >= c.poisonAt;
          // sqrt(0·m) is 0 with gradient 0·∞ = NaN.
          if (c.gradientOnly) return (bad ? tf.sqrt(tf.mul(tf.mean(ctx.decoderLogits), 0)) : tf.mul(tf.mean(ctx.decoderLogits), 0)) as tf.Scalar;
          return tf.mul(tf.mean(ctx.decoderLogits), bad ? Number.NaN : 0) as tf.Scalar;
        },
      };
      const it = await createInterpreter({ classifier: run.interpreter.classifier, losses: [{ loss: poison, weight: 1 }, { loss: reconstructionLoss(), weight: 1 }] });
      await it.fit(run.images, { batchSize: 8, maxSteps: 1 });
      const ck = recordingHandler();
      const e = await expectThrowsWithoutLeak(() => it.fit(run.images, { batchSize: 8, epochs: 2, logEvery: 100, checkpoint: { every: 2, unit: 'step', destination: ck } }));
      expect(e).toBeInstanceOf(PiqStateError);
      expect(e.message).toMatch(c.message);
      const steps = await Promise.all(ck.saved.map(async (a) => (await readCheckpointState(replay(a))).globalStep));
      expect(steps).toEqual(c.saved);
      const { weights } = await readArtifact('test', { load: async () => ck.saved.at(-1) as tf.io.ModelArtifacts });
      expect(Object.values(weights).every((t) => Array.from(t.dataSync()).every(Number.isFinite))).toBe(true);
      tf.dispose(Object.values(weights));
      expect(it.model.trainableVariables.every((v) => Array.from(v.dataSync()).every(Number.isFinite))).toBe(true);
      it.dispose();
    }
    run.dispose();
  });

  it('refuses a plain interpreter save, another model, and changed batch options as resume sources', async () => {
    const run = await makeRun();
    const plain = memoryHandler();
    await run.interpreter.save(plain);
    let e = await expectThrowsWithoutLeak(() => run.interpreter.fit(run.images, { ...run.options, resumeFrom: plain }));
    expect(e).toBeInstanceOf(PiqStateError);
    expect(e.message).toMatch(/'resumeFrom' must be a checkpoint \(kind 'checkpoint'\), got an artifact of kind "interpreter"/);
    const ck = memoryHandler();
    await run.interpreter.fit(run.images, { ...run.options, maxSteps: 2, checkpoint: { every: 1, unit: 'step', destination: ck } });
    e = await expectThrowsWithoutLeak(() => run.interpreter.fit(run.images, { ...run.options, batchSize: 4, resumeFrom: ck }));
    expect(e).toBeInstanceOf(PiqConfigError);
    expect(e.message).toMatch(/'batchSize' must be the same as in the run that wrote the checkpoint \(batchSize 8\), got 4/);
    const other = await makeRun({ layout: { codesPerClass: 5 } });
    e = await expectThrowsWithoutLeak(() => other.interpreter.fit(other.images, { ...other.options, resumeFrom: ck }));
    expect(e).toBeInstanceOf(PiqStateError);
    expect(e.message).toMatch(/must hold weight 'quantizer\/codebook' of shape \[10, \d+\] for this model, got \[7, \d+\]/);
    other.dispose();
    run.dispose();
  });

  it('leaves no tensors behind when saving checkpoints and resuming (beyond the optimizer state)', async () => {
    const run = await makeRun();
    const ck = memoryHandler();
    await run.interpreter.fit(run.images, { ...run.options, maxSteps: 1 }); // creates the Adam state
    await expectNoTensorLeak(() => run.interpreter.fit(run.images, { ...run.options, maxSteps: 3, checkpoint: { every: 1, unit: 'step', destination: ck } }));
    // Resuming replaces the optimizer state by one of the same size.
    await expectNoTensorLeak(() => run.interpreter.fit(run.images, { ...run.options, maxSteps: 4, resumeFrom: ck }));
    run.dispose();
  });

  it('validates the checkpoint and resume options', async () => {
    const run = await makeRun();
    const cases: Array<[unknown, RegExp]> = [
      [{ checkpoint: 5 }, /'checkpoint' must be an object \{ every, unit\?, destination \}, got 5/],
      [{ checkpoint: { every: 0, destination: memoryHandler() } }, /'checkpoint\.every' must be a positive integer, got 0/],
      [{ checkpoint: { every: 1, unit: 'batch', destination: memoryHandler() } }, /'checkpoint\.unit' must be one of 'step', 'epoch', got "batch"/],
      [{ checkpoint: { every: 1, destination: 42 } }, /'checkpoint\.destination' must be a URL string or a tf\.io\.IOHandler with save\(\), got 42/],
      [{ checkpoint: { every: 1, destination: 'nowhere://x' } }, /'checkpoint\.destination' must be a URL with a registered tf\.io save handler, got "nowhere:\/\/x"/],
      [{ resumeFrom: {} }, /'resumeFrom' must be a URL string or a tf\.io\.IOHandler with load\(\), got an object/],
    ];
    for (const [opts, message] of cases) {
      const e = await expectThrowsWithoutLeak(() => run.interpreter.fit(run.images, opts as never));
      expect(e).toBeInstanceOf(PiqConfigError);
      expect(e.message).toMatch(message);
    }
    expect(() => new Trainer(run.interpreter.model, { modelConfig: 3 as never })).toThrow(/'modelConfig' must be a function/);
    expect(() => new Trainer({} as never)).toThrow(/Trainer: 'model' must be a PiqModel, got an object/);
    run.dispose();
    tinyClassifier().dispose();
  });
});
