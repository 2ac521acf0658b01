// Leak-freedom of the public API on its success paths (error paths: tests/contracts/validation.test.ts
// runs every bad input under expectThrowsWithoutLeak), a 1,000-step training loop whose tensor count
// and byte count stay flat, and chunked interpretation whose results and peak memory do not depend
// on how many chunks the batch is cut into.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  averageDrop,
  classRestrictedNearest,
  CodebookLayout,
  complexity,
  createAttributionMethod,
  createInterpreter,
  deletionCurve,
  energyMask,
  evaluateInterpretations,
  integratedGradients,
  InterpreterDecoder,
  loadInterpreter,
  maskIoU,
  Occlusion,
  Saliency,
  selectRows,
  SmoothGrad,
  squaredDistances,
  stopGradient,
  straightThrough,
  toClassifierAdapter,
  Trainer,
  VectorQuantizer,
  type Interpreter,
} from '../../src';
import { addChannelAxis, interpretationToWaveform, invertSpectrogram, spectrogram } from '../../src/audio';
import { expectNoTensorLeak } from '../helpers';
import { memoryHandler } from '../fixtures/memory-handler';

/** A 4x4x1 classifier: features = the input tiled to 2 channels, logits = [mean, 1 − mean]. */
function tinyFunctionClassifier() {
  return toClassifierAdapter(
    (x: tf.Tensor) =>
      tf.tidy(() => {
        const m = tf.reshape(tf.mean(x, [1, 2, 3]), [-1, 1]);
        return { features: tf.tile(x, [1, 1, 1, 2]) as tf.Tensor4D, logits: tf.concat([tf.mul(m, 4), tf.sub(2, tf.mul(m, 4))], 1) as tf.Tensor2D };
      }),
    { inputShape: [4, 4, 1] },
  );
}

function images(n: number, seed = 1): tf.Tensor4D {
  let s = seed;
  const data = Float32Array.from({ length: n * 16 }, () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31));
  return tf.tensor4d(data, [n, 4, 4, 1]);
}

let x: tf.Tensor4D;
let masks: tf.Tensor4D;
let interpreter: Interpreter;
const logits = (t: tf.Tensor) => tf.tidy(() => tf.concat([tf.reshape(tf.mean(t, [1, 2, 3]), [-1, 1]), tf.zeros([t.shape[0] as number, 1])], 1) as tf.Tensor2D);

beforeAll(async () => {
  x = images(4);
  masks = tf.tidy(() => tf.cast(tf.greater(images(4, 7), 0.5), 'float32') as tf.Tensor4D);
  interpreter = await createInterpreter({ classifier: tinyFunctionClassifier(), quantizer: { layout: { codesPerClass: 2 } } });
  await interpreter.fit(x, { epochs: 1, batchSize: 4 }); // creates the optimizer state once
});

afterAll(() => {
  tf.dispose([x, masks]);
  interpreter.dispose();
});

/** Runs a call whose tensor results are disposed by the test: whatever else remains is a leak. */
async function noLeak(call: () => unknown): Promise<void> {
  await expectNoTensorLeak(async () => {
    const out = await call();
    disposeAll(out);
  });
}
function disposeAll(v: unknown): void {
  if (v instanceof tf.Tensor) v.dispose();
  else if (Array.isArray(v)) v.forEach(disposeAll);
  else if (v && typeof v === 'object' && !ArrayBuffer.isView(v)) Object.values(v).forEach(disposeAll);
}

describe('public calls leave no tensors behind (success paths)', () => {
  const cases: Array<[string, () => unknown]> = [
    ['squaredDistances', () => tf.tidy(() => squaredDistances(tf.ones([3, 2]), tf.zeros([4, 2])))],
    ['classRestrictedNearest', () => tf.tidy(() => classRestrictedNearest(tf.ones([2, 3, 2]), tf.zeros([4, 2]), tf.tensor2d([[0, 1], [2, 3]], [2, 2], 'int32'), tf.tensor1d([0, 1], 'int32')))],
    ['straightThrough and stopGradient', () => tf.tidy(() => [straightThrough(tf.ones([2, 2]), tf.zeros([2, 2])), stopGradient(tf.ones([2]))])],
    ['selectRows', () => tf.tidy(() => selectRows(tf.ones([4, 2]), tf.tensor1d([0, 3], 'int32')))],
    ['CodebookLayout methods', () => new CodebookLayout({ numClasses: 3, codesPerClass: 2, sharedCodes: 1 }).searchTable()],
    [
      'VectorQuantizer lifecycle',
      () => {
        const vq = new VectorQuantizer({ codeDim: 2, layout: { numClasses: 2, codesPerClass: 2 }, init: 'kmeans', deadCodeSteps: 1, seed: 1 });
        const u = tf.randomUniform([2, 3, 2], -1, 1, 'float32', 3);
        const c = tf.tensor1d([0, 1], 'int32');
        vq.initializeFromData(u, c);
        const r = vq.quantize(u, c, { training: true });
        vq.postStep(u, c, r.codeIndices);
        const back = vq.codesFromIndices(r.codeIndices);
        vq.usage();
        const w = vq.getWeights();
        vq.setWeights(w);
        vq.resetUsage();
        tf.dispose([u, c, back, ...Object.values(r), ...Object.values(w)]);
        vq.dispose();
      },
    ],
    [
      'InterpreterDecoder lifecycle',
      () => {
        const d = new InterpreterDecoder({ featureShape: [4, 4, 2], outputShape: [4, 4, 1], adapter: 'residual' });
        const out = tf.tidy(() => d.decode(d.encode(tf.ones([1, 4, 4, 2]), true), true));
        const w = d.getWeights();
        d.setWeights(w);
        d.layerSummary();
        tf.dispose([out, ...Object.values(w)]);
        d.dispose();
      },
    ],
    ['ClassifierAdapter.run', () => tinyFunctionClassifier().run(x)],
    ['energyMask.compute', () => tf.tidy(() => energyMask().compute(x, { predictedClass: tf.tensor1d([0, 1, 0, 1], 'int32') }))],
    ['Trainer.trainStep and evaluate', async () => {
      const t = new Trainer(interpreter.model);
      const r = t.trainStep(x);
      await t.evaluate(x, 2);
      t.dispose();
      return r;
    }],
    ['Interpreter.fit (after the optimizer exists), interpret, summary, getConfig', async () => {
      await interpreter.fit(x, { epochs: 1, batchSize: 2, validationData: x, lrSchedule: {}, earlyStopping: {} });
      await interpreter.interpret(x, { batchSize: 3 });
      interpreter.summary();
      interpreter.getConfig();
    }],
    ['Interpreter.finetune (a fresh optimizer, disposed at the end)', async () => {
      await interpreter.finetune(x, { epochs: 1, batchSize: 2 });
    }],
    ['Interpreter.save and loadInterpreter', async () => {
      const h = memoryHandler();
      await interpreter.save(h);
      (await loadInterpreter(h, { classifier: interpreter.classifier })).dispose();
    }],
    ['metrics', async () => {
      await averageDrop(logits, x, masks, { batchSize: 3 });
      await deletionCurve(logits, x, masks, { steps: 3 });
      complexity(masks);
      maskIoU(masks, masks);
      await evaluateInterpretations(logits, x, masks, { metrics: ['averageIncrease', 'averageDrop', 'averageGain', 'faithfulness', 'inputFidelity', 'sparseness', 'complexity', 'maskInFaithfulness'] });
    }],
    ['baselines', async () => [
      await new Saliency(logits).explainTensors(x),
      await new SmoothGrad(logits, { samples: 2 }).explainTensors(x),
      await integratedGradients(logits, x, { steps: 3 }),
      await new Occlusion(logits, { window: 2 }).explainTensors(x),
      await createAttributionMethod('saliency', logits).explainTensors(x),
    ]],
    ['audio', () => {
      const s = spectrogram(new Float32Array(4096).map((_, i) => Math.sin(i / 5)), { nFFT: 256, hop: 64 });
      const img = addChannelAxis(s.magnitude);
      const linear = tf.exp(s.magnitude);
      const wave = invertSpectrogram(linear, s.phase, { ...s.config, length: s.numSamples });
      const mask = tf.onesLike(s.magnitude);
      const audio = interpretationToWaveform(mask, s.magnitude, s.phase, { ...s.config, length: s.numSamples });
      return [s.magnitude, s.phase, img, linear, wave, mask, audio];
    }],
  ];
  for (const [name, call] of cases) {
    it(`${name}`, async () => {
      await noLeak(call);
    });
  }
});

describe('long training', () => {
  it('keeps tensor count and bytes flat over 1,000 steps', async () => {
    const it1 = await createInterpreter({ classifier: tinyFunctionClassifier(), decoder: { channels: 4 }, quantizer: { layout: { codesPerClass: 2 } } });
    const data = images(8, 3);
    const samples: Array<{ step: number; tensors: number; bytes: number }> = [];
    const history = await it1.fit(data, {
      epochs: 10_000,
      maxSteps: 1000,
      batchSize: 4,
      logEvery: 50,
      learningRate: 1e-3,
      onProgress: (p) => {
        const m = tf.memory();
        samples.push({ step: p.step, tensors: m.numTensors, bytes: m.numBytes });
      },
    });
    expect(history.steps).toBe(1000);
    const after = samples.filter((s) => s.step >= 100);
    expect(after.length).toBeGreaterThan(10);
    const first = after[0] as (typeof after)[number];
    for (const s of after) {
      expect(s.tensors, `tensors at step ${s.step}`).toBe(first.tensors);
      expect(s.bytes, `bytes at step ${s.step}`).toBe(first.bytes);
    }
    it1.dispose();
    data.dispose();
  });
});

describe('chunked interpretation', () => {
  it('gives the same results whatever the chunk size', async () => {
    const batch = images(7, 5);
    const whole = await interpreter.interpret(batch, { batchSize: 64 });
    for (const batchSize of [1, 3]) {
      const r = await interpreter.interpret(batch, { batchSize });
      expect(Array.from(r.interpretation)).toEqual(Array.from(whole.interpretation));
      expect(Array.from(r.codeIndices)).toEqual(Array.from(whole.codeIndices));
      expect(Array.from(r.probabilities)).toEqual(Array.from(whole.probabilities));
    }
    batch.dispose();
  });

  it('holds no more tensors at its peak for 16 chunks than for 2', async () => {
    // The classifier runs once per chunk (and once more on the chunk's interpretation): it samples
    // the live tensor count each time, which shows whether earlier chunks are still held.
    let peak = 0;
    const base = tinyFunctionClassifier();
    const spy = toClassifierAdapter(
      (t: tf.Tensor) => {
        peak = Math.max(peak, tf.memory().numTensors);
        return base.run(t as tf.Tensor4D);
      },
      { inputShape: [4, 4, 1] },
    );
    const it2 = await createInterpreter({ classifier: spy, quantizer: { layout: { codesPerClass: 2 } } });
    const peaks: number[] = [];
    for (const n of [4, 32]) {
      const batch = images(n, 9);
      const before = tf.memory().numTensors;
      peak = 0;
      await it2.interpret(batch, { batchSize: 2 });
      peaks.push(peak - before);
      batch.dispose();
    }
    expect(peaks[1]).toBe(peaks[0]);
    it2.dispose();
  });
});
