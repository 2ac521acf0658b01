// One table per public entry point of `piq-tfjs` and `piq-tfjs/node`: each bad input, the error
// class it must raise, and the argument its message must name. Every case also checks the message
// pattern `<Owner>.<method>: '<arg>' must …, got <actual>.` (owner prefix, quoted argument,
// "must", "got") and that the failing call leaves no tensor behind.
// Cases marked `gap` document current behaviour that breaks the contract (a raw tfjs error or
// garbage accepted) in files owned by others; they run with `it.fails` until fixed.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as piq from '../../src';
import {
  averageDrop,
  averageGain,
  averageIncrease,
  classRestrictedNearest,
  CodebookLayout,
  combineLosses,
  complexity,
  createAttributionMethod,
  createInterpreter,
  createLoss,
  createTarget,
  deletionCurve,
  energyMask,
  evaluateInterpretations,
  faithfulness,
  GradCam,
  inputFidelity,
  insertionCurve,
  IntegratedGradients,
  integratedGradients,
  InterpreterDecoder,
  lmacLoss,
  loadInterpreter,
  lossesFromSpec,
  maskIoU,
  maskTargetLoss,
  Occlusion,
  PiqConfigError,
  PiqInputError,
  PiqModel,
  PiqStateError,
  pointingGame,
  reconstructionLoss,
  registerLoss,
  registerTarget,
  Saliency,
  selectRows,
  SmoothGrad,
  sparseness,
  squaredDistances,
  stopGradient,
  straightThrough,
  toClassifierAdapter,
  Trainer,
  VectorQuantizer,
  type Interpreter,
} from '../../src';
import { addChannelAxis, decodeWav, downmixToMono, encodeWav, interpretationToWaveform, invertSpectrogram, resample, spectrogram, spectrogramShape } from '../../src/audio';
import { fileSystem } from '../../src/node';
import { expectThrowsWithoutLeak } from '../helpers';
import { memoryHandler } from '../fixtures/memory-handler';
import { squaresDataset, tinyClassifier } from '../fixtures/synthetic';

type ErrorClass = typeof PiqConfigError | typeof PiqInputError | typeof PiqStateError;
interface Case {
  /** What is wrong, in words. */
  bad: string;
  call: () => unknown;
  error: ErrorClass;
  /** The argument (or option path) the message must quote. */
  arg: string;
  /** Message prefix when it differs from the table's owner (e.g. 'Interpreter.fit'). */
  owner?: string;
  /** Disposed-state errors say "disposed" instead of "must … got". */
  disposed?: boolean;
  /** Use of a disposed object: no argument to quote; the message names the method and says "disposed". */
  state?: boolean;
  /** Known contract violation in another owner's file (listed in the robustness report). */
  gap?: string;
}

let count = 0;
function table(entry: string, cases: () => Case[]): void {
  describe(entry, () => {
    // Cases are built lazily (fixtures exist only after beforeAll); names are known up front.
    const probe = describeCases(entry, cases);
    for (const [i, label, gap] of probe) {
      count++;
      const run = gap ? it.fails : it;
      run(`${label}${gap ? ` (gap: ${gap})` : ''}`, async () => {
        const c = cases()[i] as Case;
        const e = await expectThrowsWithoutLeak(c.call);
        expect(e, `${c.bad}: ${e.message}`).toBeInstanceOf(c.error);
        const owner = c.owner ?? entry;
        expect(e.message.startsWith(`${owner}`), `message must start with '${owner}': ${e.message}`).toBe(true);
        if (c.state) {
          expect(e.message).toMatch(/dispos/);
          return;
        }
        expect(e.message, 'message must quote the argument').toContain(`'${c.arg}'`);
        if (c.disposed) expect(e.message).toMatch(/dispos/);
        else expect(e.message, 'message must say what was expected and what it got').toMatch(/(must|required|only)[\s\S]*got /);
      });
    }
  });
}

/** Case labels, known before the fixtures exist (cases only reference fixtures inside their calls). */
function describeCases(entry: string, cases: () => Case[]): Array<[number, string, string | undefined]> {
  void entry;
  return cases().map((c, i) => [i, c.state ? `refuses ${c.bad} with ${c.error.name}` : `rejects ${c.bad} with ${c.error.name} naming '${c.arg}'`, c.gap]);
}

// ---- fixtures -----------------------------------------------------------------------------------
const F = {} as {
  x: tf.Tensor4D; // [2, 4, 4, 1]
  masks: tf.Tensor4D; // [2, 4, 4, 1] in [0, 1]
  logits: (x: tf.Tensor) => tf.Tensor2D;
  adapter: piq.ClassifierAdapter;
  vq: VectorQuantizer;
  deadVq: VectorQuantizer;
  layout: CodebookLayout;
  decoder: InterpreterDecoder;
  classifier: tfl.Sequential;
  interpreter: Interpreter;
  dead: Interpreter;
  images: tf.Tensor4D; // [4, 8, 8, 1]
  disposedTensor: tf.Tensor;
  wave: tf.Tensor2D;
};

beforeAll(async () => {
  F.x = tf.tensor4d(Array.from({ length: 32 }, (_, i) => (i % 7) / 7), [2, 4, 4, 1]);
  F.masks = tf.tensor4d(Array.from({ length: 32 }, (_, i) => (i % 3) / 2), [2, 4, 4, 1]);
  F.logits = (x: tf.Tensor) => tf.tidy(() => tf.concat([tf.reshape(tf.mean(x, [1, 2, 3]), [-1, 1]), tf.zeros([x.shape[0] as number, 1])], 1) as tf.Tensor2D);
  F.adapter = toClassifierAdapter((x: tf.Tensor) => ({ features: tf.tile(x, [1, 1, 1, 2]) as tf.Tensor4D, logits: F.logits(x) }), { inputShape: [4, 4, 1] });
  F.vq = new VectorQuantizer({ codeDim: 2, layout: { numClasses: 2, codesPerClass: 2 }, seed: 0 });
  F.deadVq = new VectorQuantizer({ codeDim: 2, layout: { numClasses: 2, codesPerClass: 2 }, seed: 0 });
  F.deadVq.dispose();
  F.layout = new CodebookLayout({ numClasses: 2, codesPerClass: 2 });
  F.decoder = new InterpreterDecoder({ featureShape: [4, 4, 2], outputShape: [4, 4, 1] });
  F.classifier = tinyClassifier(3);
  F.interpreter = await createInterpreter({ classifier: F.classifier });
  F.dead = await createInterpreter({ classifier: F.classifier });
  F.dead.dispose();
  F.images = squaresDataset(4, 2).images;
  F.disposedTensor = tf.zeros([2, 4, 4, 1]);
  F.disposedTensor.dispose();
  F.wave = tf.zeros([1, 2048]) as tf.Tensor2D;
});

afterAll(() => {
  tf.dispose([F.x, F.masks, F.images, F.wave]);
  F.vq.dispose();
  F.decoder.dispose();
  F.interpreter.dispose();
  F.classifier.dispose();
});

// Cases create their bad tensors inside `call` and dispose them in `finally`, so leaks are the callee's.
function using<R>(make: () => tf.Tensor[], f: (...ts: tf.Tensor[]) => R): () => Promise<unknown> {
  return async () => {
    const ts = make();
    try {
      return await f(...ts);
    } finally {
      tf.dispose(ts);
    }
  };
}

// ---- L0 ops -------------------------------------------------------------------------------------
table('squaredDistances', () => [
  { bad: 'a non-tensor features', call: () => squaredDistances([1, 2] as never, F.x), error: PiqInputError, arg: 'features' },
  { bad: 'codes of another width', call: using(() => [tf.zeros([3, 2]), tf.zeros([4, 3])], (a, b) => squaredDistances(a!, b!)), error: PiqInputError, arg: 'codes' },
  { bad: 'rank-1 codes', call: using(() => [tf.zeros([3, 2]), tf.zeros([4])], (a, b) => squaredDistances(a!, b!)), error: PiqInputError, arg: 'codes' },
  { bad: 'int32 features', call: using(() => [tf.zeros([3, 2], 'int32'), tf.zeros([4, 2])], (a, b) => squaredDistances(a!, b!)), error: PiqInputError, arg: 'features' },
  { bad: 'a disposed features tensor', call: () => squaredDistances(F.disposedTensor, F.x), error: PiqInputError, arg: 'features', disposed: true },
]);

table('classRestrictedNearest', () => [
  {
    bad: 'a class id out of range',
    call: using(() => [tf.zeros([2, 3, 2]), tf.zeros([4, 2]), tf.tensor2d([[0, 1], [2, 3]], [2, 2], 'int32'), tf.tensor1d([0, 5], 'int32')], (u, e, r, c) => classRestrictedNearest(u!, e!, r!, c!)),
    error: PiqInputError,
    arg: 'predictedClass',
  },
  {
    bad: 'a float row table',
    call: using(() => [tf.zeros([2, 3, 2]), tf.zeros([4, 2]), tf.zeros([2, 2]), tf.tensor1d([0, 1], 'int32')], (u, e, r, c) => classRestrictedNearest(u!, e!, r!, c!)),
    error: PiqInputError,
    arg: 'rowTable',
  },
  {
    bad: 'a row table pointing outside the codebook',
    call: using(() => [tf.zeros([2, 3, 2]), tf.zeros([4, 2]), tf.tensor2d([[0, 9], [2, 3]], [2, 2], 'int32'), tf.tensor1d([0, 1], 'int32')], (u, e, r, c) => classRestrictedNearest(u!, e!, r!, c!)),
    error: PiqInputError,
    arg: 'rowTable',
  },
  {
    bad: 'NaN features',
    call: using(() => [tf.fill([2, 3, 2], Number.NaN), tf.zeros([4, 2]), tf.tensor2d([[0, 1], [2, 3]], [2, 2], 'int32'), tf.tensor1d([0, 1], 'int32')], (u, e, r, c) => classRestrictedNearest(u!, e!, r!, c!)),
    error: PiqInputError,
    arg: 'features',
  },
]);

table('straightThrough', () => [
  { bad: 'codes of another shape', call: using(() => [tf.zeros([2, 3]), tf.zeros([3, 2])], (a, b) => straightThrough(a!, b!)), error: PiqInputError, arg: 'codes' },
  { bad: 'a non-tensor features', call: () => straightThrough('x' as never, F.x), error: PiqInputError, arg: 'features' },
]);

table('stopGradient', () => [{ bad: 'a non-tensor', call: () => stopGradient(3 as never), error: PiqInputError, arg: 'x' }]);

table('selectRows', () => [
  { bad: 'float indices', call: using(() => [tf.zeros([4, 2]), tf.zeros([2])], (a, b) => selectRows(a!, b!)), error: PiqInputError, arg: 'indices' },
  { bad: 'indices out of range', call: using(() => [tf.zeros([4, 2]), tf.tensor1d([0, 7], 'int32')], (a, b) => selectRows(a!, b!)), error: PiqInputError, arg: 'indices' },
  { bad: 'a rank-1 table', call: using(() => [tf.zeros([4]), tf.tensor1d([0], 'int32')], (a, b) => selectRows(a!, b!)), error: PiqInputError, arg: 'table' },
]);

// ---- L1 quantizer, decoder, classifier ---------------------------------------------------------
table('CodebookLayout', () => [
  { bad: 'zero classes', call: () => new CodebookLayout({ numClasses: 0, codesPerClass: 2 }), error: PiqConfigError, arg: 'numClasses' },
  { bad: 'fractional codesPerClass', call: () => new CodebookLayout({ numClasses: 2, codesPerClass: 1.5 }), error: PiqConfigError, arg: 'codesPerClass' },
  { bad: 'negative sharedCodes', call: () => new CodebookLayout({ numClasses: 2, codesPerClass: 2, sharedCodes: -1 }), error: PiqConfigError, arg: 'sharedCodes' },
  { bad: 'an unknown sharedPlacement', call: () => new CodebookLayout({ numClasses: 2, codesPerClass: 2, sharedPlacement: 'middle' as never }), error: PiqConfigError, arg: 'sharedPlacement' },
  { bad: 'options that are not an object', call: () => new CodebookLayout(null as never), error: PiqConfigError, arg: 'options' },
  { bad: 'a class id out of range in allowedRows', call: () => F.layout.allowedRows(2), error: PiqInputError, arg: 'classIndex', owner: 'CodebookLayout.allowedRows' },
  { bad: 'a row out of range in classOfRow', call: () => F.layout.classOfRow(-1), error: PiqInputError, arg: 'row', owner: 'CodebookLayout.classOfRow' },
]);

table('VectorQuantizer', () => [
  { bad: 'a negative codeDim', call: () => new VectorQuantizer({ codeDim: -1, layout: { numClasses: 2, codesPerClass: 2 } }), error: PiqConfigError, arg: 'codeDim' },
  { bad: 'emaDecay of 1', call: () => new VectorQuantizer({ codeDim: 2, update: 'ema', emaDecay: 1, layout: { numClasses: 2, codesPerClass: 2 } }), error: PiqConfigError, arg: 'emaDecay' },
  { bad: 'an unknown init', call: () => new VectorQuantizer({ codeDim: 2, init: 'zeros' as never, layout: { numClasses: 2, codesPerClass: 2 } }), error: PiqConfigError, arg: 'init' },
  { bad: 'rank-2 features in quantize', call: using(() => [tf.zeros([1, 2]), tf.tensor1d([0], 'int32')], (u, c) => F.vq.quantize(u!, c!)), error: PiqInputError, arg: 'features', owner: 'VectorQuantizer.quantize' },
  { bad: 'features of the wrong codeDim', call: using(() => [tf.zeros([1, 3, 5]), tf.tensor1d([0], 'int32')], (u, c) => F.vq.quantize(u!, c!)), error: PiqInputError, arg: 'features', owner: 'VectorQuantizer.quantize' },
  { bad: 'float class ids', call: using(() => [tf.zeros([1, 3, 2]), tf.tensor1d([0])], (u, c) => F.vq.quantize(u!, c!)), error: PiqInputError, arg: 'predictedClass', owner: 'VectorQuantizer.quantize' },
  { bad: 'class ids of another batch size', call: using(() => [tf.zeros([1, 3, 2]), tf.tensor1d([0, 1], 'int32')], (u, c) => F.vq.quantize(u!, c!)), error: PiqInputError, arg: 'predictedClass', owner: 'VectorQuantizer.quantize' },
  { bad: 'a class id out of range', call: using(() => [tf.zeros([1, 3, 2]), tf.tensor1d([2], 'int32')], (u, c) => F.vq.quantize(u!, c!)), error: PiqInputError, arg: 'predictedClass', owner: 'VectorQuantizer.quantize' },
  { bad: 'Infinity in the features', call: using(() => [tf.fill([1, 3, 2], Number.POSITIVE_INFINITY), tf.tensor1d([0], 'int32')], (u, c) => F.vq.quantize(u!, c!)), error: PiqInputError, arg: 'features', owner: 'VectorQuantizer.quantize' },
  { bad: 'a non-boolean training option', call: using(() => [tf.zeros([1, 3, 2]), tf.tensor1d([0], 'int32')], (u, c) => F.vq.quantize(u!, c!, { training: 1 as never })), error: PiqConfigError, arg: 'training', owner: 'VectorQuantizer.quantize' },
  { bad: 'code indices out of range in postStep', call: using(() => [tf.zeros([1, 3, 2]), tf.tensor1d([0], 'int32'), tf.tensor2d([[0, 1, 9]], [1, 3], 'int32')], (u, c, k) => F.vq.postStep(u!, c!, k!)), error: PiqInputError, arg: 'codeIndices', owner: 'VectorQuantizer.postStep' },
  { bad: 'a codebook of another shape in setWeights', call: using(() => [tf.zeros([3, 2])], (w) => F.vq.setWeights({ 'quantizer/codebook': w! })), error: PiqInputError, arg: "weights['quantizer/codebook']", owner: 'VectorQuantizer.setWeights' },
  { bad: 'an unknown weight name', call: using(() => [tf.zeros([4, 2]), tf.zeros([1])], (w, x) => F.vq.setWeights({ 'quantizer/codebook': w!, 'quantizer/bogus': x! })), error: PiqInputError, arg: 'weights', owner: 'VectorQuantizer.setWeights' },
  { bad: 'use after dispose', call: () => F.deadVq.getCodebook(), error: PiqStateError, arg: '', owner: 'VectorQuantizer.getCodebook', state: true },
]);

table('InterpreterDecoder', () => [
  { bad: 'a rank-2 featureShape', call: () => new InterpreterDecoder({ featureShape: [4, 4], outputShape: [4, 4, 1] }), error: PiqConfigError, arg: 'featureShape' },
  { bad: 'a non-integer outputShape', call: () => new InterpreterDecoder({ featureShape: [4, 4, 2], outputShape: [4, 4.5, 1] }), error: PiqConfigError, arg: 'outputShape' },
  { bad: 'an unknown preset', call: () => new InterpreterDecoder({ featureShape: [4, 4, 2], outputShape: [4, 4, 1], preset: 'video' as never }), error: PiqConfigError, arg: 'preset' },
  { bad: 'features of another shape in encode', call: using(() => [tf.zeros([1, 3, 3, 2])], (f) => F.decoder.encode(f as tf.Tensor4D)), error: PiqInputError, arg: 'features', owner: 'InterpreterDecoder.encode' },
  { bad: 'codes of another shape in decode', call: using(() => [tf.zeros([1, 4, 4, 7])], (f) => F.decoder.decode(f as tf.Tensor4D)), error: PiqInputError, arg: 'codes', owner: 'InterpreterDecoder.decode' },
  { bad: 'a weight of another shape in setWeights', call: using(() => [tf.zeros([1])], (w) => F.decoder.setWeights({ 'decoder/0': w! })), error: PiqStateError, arg: 'decoder/0', owner: 'InterpreterDecoder.setWeights' },
]);

table('toClassifierAdapter', () => [
  { bad: 'a function without inputShape', call: () => toClassifierAdapter(F.logits as never), error: PiqConfigError, arg: 'inputShape' },
  { bad: 'an unknown outputKind', call: () => toClassifierAdapter(F.logits as never, { inputShape: [4, 4, 1], outputKind: 'scores' as never }), error: PiqConfigError, arg: 'outputKind' },
  { bad: 'a number as classifier', call: () => toClassifierAdapter(42 as never), error: PiqConfigError, arg: 'classifier' },
  { bad: 'a featureLayer the model lacks', call: () => toClassifierAdapter(F.classifier, { featureLayer: 'nope' }), error: PiqConfigError, arg: 'featureLayer' },
  { bad: 'a function returning only logits', call: () => toClassifierAdapter(F.logits as never, { inputShape: [4, 4, 1] }), error: PiqConfigError, arg: 'classifier' },
  { bad: 'an input of another shape in run', call: using(() => [tf.zeros([1, 5, 5, 1])], (x) => F.adapter.run(x as tf.Tensor4D)), error: PiqInputError, arg: 'input', owner: 'ClassifierAdapter' },
]);

// ---- L2 targets, losses, training ---------------------------------------------------------------
table('energyMask', () => [
  { bad: 'a threshold above 1', call: () => energyMask({ threshold: 2 }), error: PiqConfigError, arg: 'threshold' },
  { bad: 'a NaN threshold', call: () => energyMask({ threshold: Number.NaN }), error: PiqConfigError, arg: 'threshold' },
]);
table('createTarget', () => [{ bad: 'an unknown name', call: () => createTarget('nope'), error: PiqConfigError, arg: 'name' }]);
table('registerTarget', () => [
  { bad: 'an empty name', call: () => registerTarget('', () => energyMask()), error: PiqConfigError, arg: 'name' },
  { bad: 'a factory that is not a function', call: () => registerTarget('x', 3 as never), error: PiqConfigError, arg: 'factory' },
]);
table('reconstructionLoss', () => [{ bad: 'an unknown kind', call: () => reconstructionLoss({ kind: 'huber' as never }), error: PiqConfigError, arg: 'kind' }]);
table('maskTargetLoss', () => [{ bad: 'an unknown kind', call: () => maskTargetLoss({ kind: 'l2' as never }), error: PiqConfigError, arg: 'kind' }]);
// Negative loss weights are allowed on purpose (a term can be a reward, as L-MAC's mask-out term is).
table('lmacLoss', () => [{ bad: 'a NaN weight', call: () => lmacLoss({ maskOut: Number.NaN }), error: PiqConfigError, arg: 'maskOut' }]);
table('createLoss', () => [{ bad: 'an unknown name', call: () => createLoss('nope'), error: PiqConfigError, arg: 'name' }]);
table('registerLoss', () => [
  { bad: 'a built-in name', call: () => registerLoss('reconstruction', () => reconstructionLoss()), error: PiqConfigError, arg: 'name' },
  { bad: 'a factory that is not a function', call: () => registerLoss('mine', null as never), error: PiqConfigError, arg: 'factory' },
]);
table('combineLosses', () => [
  { bad: 'an empty list', call: () => combineLosses([]), error: PiqConfigError, arg: 'items' },
  { bad: 'a loss without compute', call: () => combineLosses([{ loss: { name: 'x' } as never, weight: 1 }]), error: PiqConfigError, arg: 'items[0].loss' },
]);
table('lossesFromSpec', () => [{ bad: 'a spec that is not an array', call: () => lossesFromSpec({} as never), error: PiqConfigError, arg: 'spec' }]);

table('PiqModel', () => [
  {
    bad: 'a quantizer whose codeDim differs from the decoder',
    call: () => {
      const quantizer = new VectorQuantizer({ codeDim: 3, layout: { numClasses: 2, codesPerClass: 1 } });
      try {
        return new PiqModel({ classifier: F.adapter, decoder: F.decoder, quantizer, mode: 'reconstruction', target: piq.inputTarget(), loss: combineLosses([{ loss: reconstructionLoss(), weight: 1 }]) });
      } finally {
        quantizer.dispose();
      }
    },
    error: PiqConfigError,
    arg: 'codeDim',
  },
]);

table('Trainer.fit', () => [
  { bad: 'zero epochs', call: () => F.interpreter.fit(F.images, { epochs: 0 }), error: PiqConfigError, arg: 'epochs' },
  { bad: 'a fractional batchSize', call: () => F.interpreter.fit(F.images, { batchSize: 2.5 }), error: PiqConfigError, arg: 'batchSize' },
  { bad: 'a negative learning rate', call: () => F.interpreter.fit(F.images, { learningRate: -1 }), error: PiqConfigError, arg: 'learningRate' },
  { bad: 'an Infinite weight decay', call: () => F.interpreter.fit(F.images, { weightDecay: Number.POSITIVE_INFINITY }), error: PiqConfigError, arg: 'weightDecay' },
  { bad: 'a non-integer seed', call: () => F.interpreter.fit(F.images, { seed: 0.5 }), error: PiqConfigError, arg: 'seed' },
  { bad: 'a string shuffle', call: () => F.interpreter.fit(F.images, { shuffle: 'yes' as never }), error: PiqConfigError, arg: 'shuffle' },
  { bad: 'maxSteps of 0', call: () => F.interpreter.fit(F.images, { maxSteps: 0 }), error: PiqConfigError, arg: 'maxSteps' },
  { bad: 'a schedule without validation data', call: () => F.interpreter.fit(F.images, { lrSchedule: {} }), error: PiqConfigError, arg: 'validationData' },
  { bad: 'a schedule factor of 1.5', call: () => F.interpreter.fit(F.images, { validationData: F.images, lrSchedule: { factor: 1.5 } }), error: PiqConfigError, arg: 'lrSchedule.factor' },
  { bad: 'lrSchedule: true', call: () => F.interpreter.fit(F.images, { validationData: F.images, lrSchedule: true as never }), error: PiqConfigError, arg: 'lrSchedule' },
  { bad: 'an unknown early-stopping monitor', call: () => F.interpreter.fit(F.images, { validationData: F.images, earlyStopping: { monitor: 'acc' as never } }), error: PiqConfigError, arg: 'earlyStopping.monitor' },
  { bad: 'onProgress that is not a function', call: () => F.interpreter.fit(F.images, { onProgress: 1 as never }), error: PiqConfigError, arg: 'onProgress' },
  { bad: 'onEpochEnd that is not a function', call: () => F.interpreter.fit(F.images, { onEpochEnd: 'x' as never }), error: PiqConfigError, arg: 'onEpochEnd' },
  { bad: 'a signal that is not an AbortSignal', call: () => F.interpreter.fit(F.images, { signal: {} as never }), error: PiqConfigError, arg: 'signal' },
  { bad: 'options that are not an object', call: () => F.interpreter.fit(F.images, 5 as never), error: PiqConfigError, arg: 'options' },
  { bad: 'images of another size', call: using(() => [tf.zeros([2, 4, 4, 1])], (x) => F.interpreter.fit(x as tf.Tensor4D)), error: PiqInputError, arg: 'data' },
  { bad: 'int32 images', call: using(() => [tf.zeros([2, 8, 8, 1], 'int32')], (x) => F.interpreter.fit(x as tf.Tensor4D)), error: PiqInputError, arg: 'data' },
  { bad: 'a disposed data tensor', call: () => F.interpreter.fit(F.disposedTensor as tf.Tensor4D), error: PiqInputError, arg: 'data', disposed: true },
  { bad: 'a number as data', call: () => F.interpreter.fit(7 as never), error: PiqInputError, arg: 'data' },
  { bad: 'an array holding a non-tensor batch', call: () => F.interpreter.fit([{ ys: 1 }] as never), error: PiqInputError, arg: 'data' },
]);

table('Trainer', () => [
  { bad: 'a model that is not a PiqModel', call: () => new Trainer({} as never), error: PiqConfigError, arg: 'model' },
  { bad: 'a disposed model', call: () => new Trainer(F.dead.model), error: PiqStateError, arg: 'model', disposed: true },
  { bad: 'a fractional batchSize in evaluate', call: () => new Trainer(F.interpreter.model).evaluate(F.images, 0.5), error: PiqConfigError, arg: 'batchSize', owner: 'Trainer.evaluate' },
  { bad: 'a batch of another size in trainStep', call: using(() => [tf.zeros([1, 4, 4, 1])], (x) => new Trainer(F.interpreter.model).trainStep(x as tf.Tensor4D)), error: PiqInputError, arg: 'x', owner: 'Trainer.trainStep' },
  { bad: 'a NaN learning rate in trainStep', call: using(() => [tf.zeros([1, 8, 8, 1])], (x) => new Trainer(F.interpreter.model).trainStep(x as tf.Tensor4D, 0, Number.NaN)), error: PiqConfigError, arg: 'learningRate', owner: 'Trainer.trainStep' },
]);

// ---- L3 interpreter -----------------------------------------------------------------------------
table('createInterpreter', () => [
  { bad: 'no options', call: () => createInterpreter(undefined as never), error: PiqConfigError, arg: 'options' },
  { bad: 'a missing classifier', call: () => createInterpreter({} as never), error: PiqConfigError, arg: 'classifier' },
  { bad: 'numClasses that do not match', call: () => createInterpreter({ classifier: F.classifier, numClasses: 3 }), error: PiqConfigError, arg: 'numClasses' },
  { bad: 'an unknown mode', call: () => createInterpreter({ classifier: F.classifier, mode: 'heatmap' as never }), error: PiqConfigError, arg: 'mode' },
  { bad: 'a target in reconstruction mode', call: () => createInterpreter({ classifier: F.classifier, mode: 'reconstruction', target: energyMask() }), error: PiqConfigError, arg: 'target' },
  { bad: 'a fractional seed', call: () => createInterpreter({ classifier: F.classifier, seed: 0.5 }), error: PiqConfigError, arg: 'seed' },
  { bad: 'zero output channels', call: () => createInterpreter({ classifier: F.classifier, decoder: { outputChannels: 0 } }), error: PiqConfigError, arg: 'decoder.outputChannels' },
  { bad: 'an unknown reconstruction loss', call: () => createInterpreter({ classifier: F.classifier, reconstruction: 'l2' as never }), error: PiqConfigError, arg: 'reconstruction' },
  { bad: "reconstruction: 'mse' in mask mode", call: () => createInterpreter({ classifier: F.classifier, mode: 'mask', reconstruction: 'mse' }), error: PiqConfigError, arg: 'reconstruction' },
  { bad: 'a reference preset the tap cannot reach', call: () => createInterpreter({ classifier: F.classifier, decoder: { preset: 'reference-mnist' } }), error: PiqConfigError, arg: 'reference-mnist', owner: 'InterpreterDecoder' },
  { bad: 'an unknown preset', call: () => createInterpreter({ classifier: F.classifier, decoder: { preset: 'reference' as never } }), error: PiqConfigError, arg: 'preset', owner: 'InterpreterDecoder' },
]);

table('Interpreter.finetune', () => [
  { bad: 'a negative maskIn', call: () => F.interpreter.finetune(F.images, { maskIn: -1 }), error: PiqConfigError, arg: 'maskIn' },
  { bad: 'an infinite sparsity weight', call: () => F.interpreter.finetune(F.images, { sparsity: Number.POSITIVE_INFINITY }), error: PiqConfigError, arg: 'sparsity' },
  { bad: 'all term weights 0', call: () => F.interpreter.finetune(F.images, { maskIn: 0, maskOut: 0, sparsity: 0 }), error: PiqConfigError, arg: 'maskIn' },
  { bad: 'options that are not an object', call: () => F.interpreter.finetune(F.images, 'fast' as never), error: PiqConfigError, arg: 'options' },
  { bad: 'zero epochs', call: () => F.interpreter.finetune(F.images, { epochs: 0 }), error: PiqConfigError, arg: 'epochs', owner: 'Trainer.fit' },
  { bad: 'images of another size', call: using(() => [tf.zeros([2, 4, 4, 1])], (x) => F.interpreter.finetune(x as tf.Tensor4D)), error: PiqInputError, arg: 'data', owner: 'Trainer.fit' },
  { bad: 'use after dispose', call: () => F.dead.finetune(F.images), error: PiqStateError, arg: '', state: true },
]);

table('loadInterpreter', () => [
  { bad: 'no classifier', call: () => loadInterpreter(memoryHandler(), {} as never), error: PiqConfigError, arg: 'options.classifier' },
  { bad: 'a source that is neither URL nor handler', call: () => loadInterpreter(42 as never, { classifier: F.classifier }), error: PiqConfigError, arg: 'source' },
  { bad: 'an unregistered URL scheme', call: () => loadInterpreter('nowhere://x', { classifier: F.classifier }), error: PiqConfigError, arg: 'source' },
  { bad: 'a handler returning nothing', call: () => loadInterpreter({ load: async () => undefined as never }, { classifier: F.classifier }), error: PiqStateError, arg: 'source' },
]);

table('Interpreter.interpret', () => [
  { bad: 'a single row of pixels values', call: using(() => [tf.zeros([8, 8])], (x) => F.interpreter.interpret(x!)), error: PiqInputError, arg: 'input' },
  { bad: 'pixels of the wrong size', call: () => F.interpreter.interpret({ width: 4, height: 4, data: new Uint8Array(64) }), error: PiqInputError, arg: 'input' },
  { bad: 'an inputRange of [1, 0]', call: () => F.interpreter.interpret(F.images, { inputRange: [1, 0] }), error: PiqConfigError, arg: 'inputRange' },
  { bad: 'int32 input', call: using(() => [tf.zeros([1, 8, 8, 1], 'int32')], (x) => F.interpreter.interpret(x!)), error: PiqInputError, arg: 'input' },
  { bad: 'an empty batch', call: using(() => [tf.zeros([0, 8, 8, 1])], (x) => F.interpreter.interpret(x!)), error: PiqInputError, arg: 'input' },
  { bad: 'NaN input', call: using(() => [tf.fill([1, 8, 8, 1], Number.NaN)], (x) => F.interpreter.interpret(x!)), error: PiqInputError, arg: 'input' },
  { bad: 'a disposed input', call: () => F.interpreter.interpret(F.disposedTensor), error: PiqInputError, arg: 'input', disposed: true },
  { bad: 'a batchSize of 0', call: () => F.interpreter.interpret(F.images, { batchSize: 0 }), error: PiqConfigError, arg: 'batchSize' },
  { bad: 'an array as input', call: () => F.interpreter.interpret([1, 2] as never), error: PiqInputError, arg: 'input' },
]);

table('Interpreter.interpretTensors', () => [
  { bad: 'a row of values', call: using(() => [tf.zeros([8, 8])], (x) => F.interpreter.interpretTensors(x!)), error: PiqInputError, arg: 'input' },
  { bad: 'int32 input', call: using(() => [tf.zeros([1, 8, 8, 1], 'int32')], (x) => F.interpreter.interpretTensors(x!)), error: PiqInputError, arg: 'input' },
  { bad: 'NaN input', call: using(() => [tf.fill([1, 8, 8, 1], Number.NaN)], (x) => F.interpreter.interpretTensors(x!)), error: PiqInputError, arg: 'input' },
  { bad: 'a batchSize of 0', call: () => F.interpreter.interpretTensors(F.images, { batchSize: 0 }), error: PiqConfigError, arg: 'batchSize' },
  { bad: 'an inputRange of one number', call: () => F.interpreter.interpretTensors(F.images, { inputRange: [1] as never }), error: PiqConfigError, arg: 'inputRange' },
]);

table('Interpreter', () => [
  { bad: 'interpret after dispose', call: () => F.dead.interpret(F.images), error: PiqStateError, arg: '', owner: 'Interpreter.interpret', state: true },
  { bad: 'interpretTensors after dispose', call: () => F.dead.interpretTensors(F.images), error: PiqStateError, arg: '', owner: 'Interpreter.interpretTensors', state: true },
  { bad: 'save after dispose', call: () => F.dead.save(memoryHandler()), error: PiqStateError, arg: '', owner: 'Interpreter.save', state: true },
  { bad: 'fit after dispose', call: () => F.dead.fit(F.images), error: PiqStateError, arg: '', owner: 'Interpreter.fit', state: true },
  { bad: 'a number as save destination', call: () => F.interpreter.save(3 as never), error: PiqConfigError, arg: 'destination', owner: 'Interpreter.save' },
  { bad: 'an index out of range in InterpretResult.example', call: async () => (await F.interpreter.interpret(F.images)).example(9), error: PiqInputError, arg: 'i', owner: 'InterpretResult.example' },
]);

// ---- metrics ------------------------------------------------------------------------------------
const metricFns = { averageIncrease, averageDrop, averageGain, faithfulness, inputFidelity } as const;
for (const [name, fn] of Object.entries(metricFns)) {
  table(name, () => [
    { bad: 'a classifier that is not a function', call: () => fn(5 as never, F.x, F.masks), error: PiqConfigError, arg: 'classifier' },
    { bad: 'masks of another batch', call: using(() => [tf.zeros([3, 4, 4, 1])], (m) => fn(F.logits, F.x, m!)), error: PiqInputError, arg: 'masks' },
    { bad: 'masks outside [0, 1]', call: using(() => [tf.fill([2, 4, 4, 1], 2)], (m) => fn(F.logits, F.x, m!)), error: PiqInputError, arg: 'masks' },
    { bad: 'NaN inputs', call: using(() => [tf.fill([2, 4, 4, 1], Number.NaN)], (x) => fn(F.logits, x!, F.masks)), error: PiqInputError, arg: 'inputs' },
    { bad: 'a target of the wrong length', call: () => fn(F.logits, F.x, F.masks, { target: [0] }), error: PiqInputError, arg: 'target' },
    { bad: 'a class id out of range in target', call: () => fn(F.logits, F.x, F.masks, { target: [0, 7] }), error: PiqInputError, arg: 'target' },
    { bad: 'a batchSize of -1', call: () => fn(F.logits, F.x, F.masks, { batchSize: -1 }), error: PiqConfigError, arg: 'batchSize' },
  ]);
}
table('sparseness', () => [
  { bad: 'a non-tensor', call: () => sparseness([1] as never), error: PiqInputError, arg: 'masks' },
]);
table('complexity', () => [{ bad: 'NaN masks', call: using(() => [tf.fill([1, 2, 2], Number.NaN)], (m) => complexity(m!)), error: PiqInputError, arg: 'masks' }]);
table('deletionCurve', () => [
  { bad: 'zero steps', call: () => deletionCurve(F.logits, F.x, F.masks, { steps: 0 }), error: PiqConfigError, arg: 'steps' },
  { bad: 'a baseline of another shape', call: using(() => [tf.zeros([3])], (b) => deletionCurve(F.logits, F.x, F.masks, { baseline: b })), error: PiqInputError, arg: 'baseline' },
]);
table('insertionCurve', () => [{ bad: 'a NaN baseline', call: () => insertionCurve(F.logits, F.x, F.masks, { baseline: Number.NaN }), error: PiqConfigError, arg: 'baseline' }]);
table('maskIoU', () => [
  { bad: 'ground truth of another shape', call: using(() => [tf.zeros([2, 3, 3, 1])], (g) => maskIoU(F.masks, g!)), error: PiqInputError, arg: 'groundTruth' },
  { bad: 'a threshold of 2', call: () => maskIoU(F.masks, F.masks, { threshold: 2 }), error: PiqConfigError, arg: 'threshold' },
]);
table('pointingGame', () => [{ bad: 'a non-tensor ground truth', call: () => pointingGame(F.masks, 'gt' as never), error: PiqInputError, arg: 'groundTruth' }]);
table('evaluateInterpretations', () => [
  { bad: 'an unknown metric name', call: () => evaluateInterpretations(F.logits, F.x, F.masks, { metrics: ['accuracy' as never] }), error: PiqConfigError, arg: 'metrics' },
  { bad: 'localization metrics without ground truth', call: () => evaluateInterpretations(F.logits, F.x, F.masks, { metrics: ['maskIoU'] }), error: PiqConfigError, arg: 'groundTruth' },
]);

// ---- baselines ----------------------------------------------------------------------------------
table('Saliency', () => [
  { bad: 'a classifier that is not a function', call: () => new Saliency({} as never), error: PiqConfigError, arg: 'classifier' },
  { bad: 'a NaN input in explain', call: using(() => [tf.fill([1, 4, 4, 1], Number.NaN)], (x) => new Saliency(F.logits).explainTensors(x!)), error: PiqInputError, arg: 'inputs', owner: 'Saliency.explain' },
  { bad: 'a target out of range in explain', call: () => new Saliency(F.logits).explainTensors(F.x, { target: [0, 5] }), error: PiqInputError, arg: 'target', owner: 'Saliency.explain' },
]);
table('SmoothGrad', () => [
  { bad: 'zero samples', call: () => new SmoothGrad(F.logits, { samples: 0 }), error: PiqConfigError, arg: 'samples' },
  { bad: 'a negative noise level', call: () => new SmoothGrad(F.logits, { noiseLevel: -0.1 }), error: PiqConfigError, arg: 'noiseLevel' },
]);
table('IntegratedGradients', () => [{ bad: 'zero steps', call: () => new IntegratedGradients(F.logits, { steps: 0 }), error: PiqConfigError, arg: 'steps' }]);
table('integratedGradients', () => [
  { bad: 'a baseline of another shape', call: using(() => [tf.zeros([1, 2])], (b) => integratedGradients(F.logits, F.x, { baseline: b })), error: PiqInputError, arg: 'baseline' },
  { bad: 'a non-tensor input', call: () => integratedGradients(F.logits, [1] as never), error: PiqInputError, arg: 'inputs' },
]);
table('GradCam', () => [{ bad: 'a plain logits function (no features)', call: () => new GradCam(F.logits), error: PiqConfigError, arg: 'classifier' }]);
table('Occlusion', () => [
  { bad: 'a window of 0', call: () => new Occlusion(F.logits, { window: 0 }), error: PiqConfigError, arg: 'window' },
  { bad: 'a NaN fill value', call: () => new Occlusion(F.logits, { fillValue: Number.NaN }), error: PiqConfigError, arg: 'fillValue' },
]);
table('createAttributionMethod', () => [{ bad: 'an unknown method name', call: () => createAttributionMethod('lime' as never, F.logits), error: PiqConfigError, arg: 'name' }]);

// ---- audio --------------------------------------------------------------------------------------
table('spectrogram', () => [
  { bad: 'an nFFT of 0', call: () => spectrogram(new Float32Array(2048), { nFFT: 0 }), error: PiqConfigError, arg: 'nFFT' },
  { bad: 'a hop of 0', call: () => spectrogram(new Float32Array(2048), { hop: 0 }), error: PiqConfigError, arg: 'hop' },
  { bad: 'an unknown window', call: () => spectrogram(new Float32Array(2048), { window: 'kaiser' as never }), error: PiqConfigError, arg: 'window' },
  { bad: 'NaN samples', call: () => spectrogram(new Float32Array(2048).fill(Number.NaN)), error: PiqInputError, arg: 'waveform' },
  { bad: 'a string waveform', call: () => spectrogram('abc' as never), error: PiqInputError, arg: 'waveform' },
  { bad: 'a rank-3 tensor waveform', call: using(() => [tf.zeros([1, 1, 2048])], (w) => spectrogram(w as never)), error: PiqInputError, arg: 'waveform' },
]);
table('spectrogramShape', () => [{ bad: 'a negative sample count', call: () => spectrogramShape(-5), error: PiqConfigError, arg: 'numSamples' }]);
table('addChannelAxis', () => [{ bad: 'a rank-2 tensor', call: using(() => [tf.zeros([3, 4])], (t) => addChannelAxis(t as tf.Tensor3D)), error: PiqInputError, arg: 'spectrogramTensor' }]);
table('invertSpectrogram', () => [
  { bad: 'phase of another shape', call: using(() => [tf.zeros([1, 5, 513]), tf.zeros([1, 5, 512])], (m, p) => invertSpectrogram(m!, p!)), error: PiqInputError, arg: 'phase' },
  { bad: 'a negative length', call: using(() => [tf.zeros([1, 5, 513]), tf.zeros([1, 5, 513])], (m, p) => invertSpectrogram(m!, p!, { length: -1 })), error: PiqConfigError, arg: 'length' },
]);
table('interpretationToWaveform', () => [
  { bad: 'an unknown mode', call: using(() => [tf.zeros([1, 5, 513]), tf.zeros([1, 5, 513]), tf.zeros([1, 5, 513])], (m, l, p) => interpretationToWaveform(m!, l!, p!, { mode: 'loud' as never })), error: PiqConfigError, arg: 'mode' },
  { bad: 'a mask of another shape', call: using(() => [tf.zeros([1, 4, 513]), tf.zeros([1, 5, 513]), tf.zeros([1, 5, 513])], (m, l, p) => interpretationToWaveform(m!, l!, p!)), error: PiqInputError, arg: 'mask' },
]);
table('decodeWav', () => [
  { bad: 'bytes that are not a WAV file', call: () => decodeWav(new Uint8Array(10)), error: PiqInputError, arg: 'bytes' },
  { bad: 'a string', call: () => decodeWav('RIFF' as never), error: PiqInputError, arg: 'bytes' },
]);
table('encodeWav', () => [
  { bad: 'a sample rate of 0', call: () => encodeWav(new Float32Array(4), 0), error: PiqConfigError, arg: 'sampleRate' },
  { bad: 'an unknown format', call: () => encodeWav(new Float32Array(4), 16000, { format: 'mp3' as never }), error: PiqConfigError, arg: 'format' },
  { bad: 'NaN samples', call: () => encodeWav(new Float32Array([Number.NaN]), 16000), error: PiqInputError, arg: 'samples' },
]);
table('downmixToMono', () => [
  { bad: 'channels of different lengths', call: () => downmixToMono([new Float32Array(3), new Float32Array(4)]), error: PiqInputError, arg: 'channels' },
  { bad: 'no channels', call: () => downmixToMono([]), error: PiqInputError, arg: 'channels' },
]);
table('resample', () => [
  { bad: 'a zero source rate', call: () => resample(new Float32Array(8), 0, 16000), error: PiqConfigError, arg: 'fromRate' },
  { bad: 'a rolloff above 1', call: () => resample(new Float32Array(8), 8000, 16000, { rolloff: 2 }), error: PiqConfigError, arg: 'rolloff' },
  { bad: 'a number array instead of Float32Array', call: () => resample([1, 2] as never, 8000, 16000), error: PiqInputError, arg: 'samples' },
]);

// ---- backends and node --------------------------------------------------------------------------
table('enableWasmTraining', () => [{ bad: 'a non-boolean option', call: () => piq.enableWasmTraining({ fastTile: 'yes' as never }), error: PiqConfigError, arg: 'fastTile' }]);
table('fileSystem', () => [
  { bad: 'an empty path', call: () => fileSystem(''), error: PiqConfigError, arg: 'path' },
  { bad: 'a number as path', call: () => fileSystem(5 as never), error: PiqConfigError, arg: 'path' },
]);

describe('validation table', () => {
  it('reports how many bad inputs it checks', () => {
    console.log(`validation cases: ${count}`);
    expect(count).toBeGreaterThan(100);
  });
});
