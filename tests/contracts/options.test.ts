// Every public options object refuses an unknown key, naming it and the closest known option
// (`Did you mean …?`), through the one helper `optionsObject` (src/internal/checks.ts). One row per
// options entry point; the first test checks that every `…Options` type the entry points export
// has a row, so a new options interface cannot skip the check.
import * as tf from '@tensorflow/tfjs-core';
import { join } from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as piq from '../../src';
import { encodeWav, interpretationToWaveform, invertSpectrogram, resample, spectrogram, spectrogramShape } from '../../src/audio';
import { closestName, editDistance } from '../../src/internal/checks';
import { drawToCanvas, grid, heatmap, maskOverlay, overlay, spectrogramImage, toRgba } from '../../src/visualize';
import { expectThrowsWithoutLeak } from '../helpers';
import { memoryHandler } from '../fixtures/memory-handler';
import { squaresDataset, tinyClassifier } from '../fixtures/synthetic';

interface Row {
  /** The options type (or the object) the row exercises. */
  type: string;
  /** What is called, for the test name. */
  entry: string;
  call: () => unknown;
  /** The misspelt key and the suggestion the message must carry (null: no close name, the known keys are listed). */
  typo: string;
  suggestion: string | null;
}

const F = {} as {
  classifier: ReturnType<typeof tinyClassifier>;
  interpreter: piq.Interpreter;
  images: tf.Tensor4D;
  masks: tf.Tensor3D;
  logits: (x: tf.Tensor) => tf.Tensor2D;
  vq: piq.VectorQuantizer;
  wave: tf.Tensor2D;
};

beforeAll(async () => {
  F.classifier = tinyClassifier(3);
  F.interpreter = await piq.createInterpreter({ classifier: F.classifier });
  F.images = squaresDataset(2, 2).images;
  F.masks = tf.fill([2, 8, 8], 0.5) as tf.Tensor3D;
  F.logits = (x: tf.Tensor) => tf.tidy(() => tf.concat([tf.reshape(tf.mean(x, [1, 2, 3]), [-1, 1]), tf.zeros([x.shape[0] as number, 1])], 1) as tf.Tensor2D);
  F.vq = new piq.VectorQuantizer({ codeDim: 2, layout: { numClasses: 2, codesPerClass: 2 } });
  F.wave = tf.zeros([1, 2048]) as tf.Tensor2D;
});

afterAll(() => {
  F.interpreter.dispose();
  F.classifier.dispose();
  F.vq.dispose();
  tf.dispose([F.images, F.masks, F.wave]);
});

const img = { width: 2, height: 2, data: new Uint8ClampedArray(16) };
const values = new Float32Array(4);
const cls = () => tf.zeros([1], 'int32');
const search = () => [tf.zeros([1, 2]), tf.zeros([2, 2]), tf.zeros([1, 2], 'int32'), tf.zeros([1], 'int32')];

const rows: Row[] = [
  // L3
  { type: 'CreateInterpreterOptions', entry: 'createInterpreter', call: () => piq.createInterpreter({ classifier: F.classifier, numClass: 2 } as never), typo: 'numClass', suggestion: 'numClasses' },
  { type: 'CreateInterpreterOptions.decoder', entry: 'createInterpreter', call: () => piq.createInterpreter({ classifier: F.classifier, decoder: { chanels: 8 } as never }), typo: 'chanels', suggestion: 'channels' },
  { type: 'CreateInterpreterOptions.quantizer', entry: 'createInterpreter', call: () => piq.createInterpreter({ classifier: F.classifier, quantizer: { comitmentWeight: 1 } as never }), typo: 'comitmentWeight', suggestion: 'commitmentWeight' },
  { type: 'CreateInterpreterOptions.quantizer.layout', entry: 'createInterpreter', call: () => piq.createInterpreter({ classifier: F.classifier, quantizer: { layout: { codesPerClas: 4 } as never } }), typo: 'codesPerClas', suggestion: 'codesPerClass' },
  { type: 'LoadInterpreterOptions', entry: 'loadInterpreter', call: () => piq.loadInterpreter(memoryHandler(), { classifier: F.classifier, featureLayr: 'features' } as never), typo: 'featureLayr', suggestion: 'featureLayer' },
  { type: 'InterpretOptions', entry: 'Interpreter.interpret', call: () => F.interpreter.interpret(F.images, { batchsize: 2 } as never), typo: 'batchsize', suggestion: 'batchSize' },
  { type: 'InterpretOptions', entry: 'Interpreter.interpretTensors', call: () => F.interpreter.interpretTensors(F.images, { inputrange: [0, 1] } as never), typo: 'inputrange', suggestion: 'inputRange' },
  { type: 'FinetuneOptions', entry: 'Interpreter.finetune', call: () => F.interpreter.finetune(F.images, { sparsty: 1 } as never), typo: 'sparsty', suggestion: 'sparsity' },
  { type: 'FitOptions', entry: 'Interpreter.fit', call: () => F.interpreter.fit(F.images, { epoch: 1 } as never), typo: 'epoch', suggestion: 'epochs' },
  { type: 'PlateauScheduleOptions', entry: 'Trainer.fit', call: () => F.interpreter.fit(F.images, { validationData: F.images, lrSchedule: { factr: 0.5 } as never }), typo: 'factr', suggestion: 'factor' },
  { type: 'EarlyStoppingOptions', entry: 'Trainer.fit', call: () => F.interpreter.fit(F.images, { validationData: F.images, earlyStopping: { patiance: 2 } as never }), typo: 'patiance', suggestion: 'patience' },
  { type: 'CheckpointOptions', entry: 'Trainer.fit', call: () => F.interpreter.fit(F.images, { checkpoint: { every: 1, destination: memoryHandler(), unt: 'step' } as never }), typo: 'unt', suggestion: 'unit' },
  { type: 'FitCallback', entry: 'Trainer.fit', call: () => F.interpreter.fit(F.images, { callbacks: { onEpochEnds: () => undefined } as never }), typo: 'onEpochEnds', suggestion: 'onEpochEnd' },
  { type: 'PiqAttributionOptions', entry: 'PiqAttribution', call: () => new piq.PiqAttribution(F.interpreter, { normalise: true } as never), typo: 'normalise', suggestion: 'normalize' },
  { type: 'ExplainOptions', entry: 'PiqAttribution.explain', call: () => new piq.PiqAttribution(F.interpreter).explain(F.images, { targets: [0, 1] } as never), typo: 'targets', suggestion: 'target' },
  // L2 training, losses, targets
  { type: 'TrainerOptions', entry: 'Trainer', call: () => new piq.Trainer(F.interpreter.model, { modelConfg: () => ({}) } as never), typo: 'modelConfg', suggestion: 'modelConfig' },
  { type: 'PiqModel parts', entry: 'PiqModel', call: () => new piq.PiqModel({ ...partsOf(F.interpreter.model), targt: null } as never), typo: 'targt', suggestion: 'target' },
  { type: 'ReconstructionLossOptions', entry: 'reconstructionLoss', call: () => piq.reconstructionLoss({ knd: 'mse' } as never), typo: 'knd', suggestion: 'kind' },
  { type: 'FaithfulnessTermOptions', entry: 'faithfulnessTerm', call: () => piq.faithfulnessTerm({ term: 'keep', trem: 'keep' } as never), typo: 'trem', suggestion: 'term' },
  { type: 'MaskTargetLossOptions', entry: 'maskTargetLoss', call: () => piq.maskTargetLoss({ kinds: 'bce' } as never), typo: 'kinds', suggestion: 'kind' },
  { type: 'LmacLossOptions', entry: 'lmacLoss', call: () => piq.lmacLoss({ maskin: 1 } as never), typo: 'maskin', suggestion: 'maskIn' },
  { type: 'WeightedLoss', entry: 'combineLosses', call: () => piq.combineLosses([{ loss: piq.codebookLoss(), wieght: 1 } as never]), typo: 'wieght', suggestion: 'weight' },
  { type: 'EnergyMaskOptions', entry: 'energyMask', call: () => piq.energyMask({ treshold: 0.5 } as never), typo: 'treshold', suggestion: 'threshold' },
  { type: 'AnnotatorTargetOptions', entry: 'annotatorTarget', call: () => piq.annotatorTarget((x: tf.Tensor) => x, { concept: 0 } as never), typo: 'concept', suggestion: 'concepts' },
  // L2 metrics
  ...(['averageIncrease', 'averageDrop', 'averageGain', 'faithfulness', 'inputFidelity'] as const).map(
    (name): Row => ({ type: 'MetricOptions', entry: name, call: () => piq[name](F.logits, F.images, F.masks, { batchsize: 2 } as never), typo: 'batchsize', suggestion: 'batchSize' }),
  ),
  { type: 'CurveOptions', entry: 'deletionCurve', call: () => piq.deletionCurve(F.logits, F.images, F.masks, { step: 4 } as never), typo: 'step', suggestion: 'steps' },
  { type: 'CurveOptions', entry: 'insertionCurve', call: () => piq.insertionCurve(F.logits, F.images, F.masks, { baselin: 0 } as never), typo: 'baselin', suggestion: 'baseline' },
  { type: 'EvaluationOptions', entry: 'evaluateInterpretations', call: () => piq.evaluateInterpretations(F.logits, F.images, F.masks, { metric: ['sparseness'] } as never), typo: 'metric', suggestion: 'metrics' },
  { type: 'EvaluationOptions.curve', entry: 'evaluateInterpretations', call: () => piq.evaluateInterpretations(F.logits, F.images, F.masks, { curve: { step: 4 } as never }), typo: 'step', suggestion: 'steps' },
  { type: 'MaskIoUOptions', entry: 'maskIoU', call: () => piq.maskIoU(F.masks, F.masks, { treshold: 0.5 } as never), typo: 'treshold', suggestion: 'threshold' },
  // L2 baselines
  ...(['Saliency', 'SmoothGrad', 'IntegratedGradients', 'GradCam', 'Occlusion'] as const).flatMap((name): Row[] => [
    { type: 'ExplainOptions', entry: `${name}.explain`, call: () => new piq[name](F.classifier).explain(F.images, { batchsize: 1 } as never), typo: 'batchsize', suggestion: 'batchSize' },
    { type: 'ExplainOptions', entry: `${name}.explainTensors`, call: () => new piq[name](F.classifier).explainTensors(F.images, { inputrange: [0, 1] } as never), typo: 'inputrange', suggestion: 'inputRange' },
  ]),
  { type: 'SmoothGradOptions', entry: 'SmoothGrad', call: () => new piq.SmoothGrad(F.logits, { sample: 2 } as never), typo: 'sample', suggestion: 'samples' },
  { type: 'IntegratedGradientsOptions', entry: 'IntegratedGradients', call: () => new piq.IntegratedGradients(F.logits, { step: 2 } as never), typo: 'step', suggestion: 'steps' },
  { type: 'IntegratedGradientsOptions', entry: 'integratedGradients', call: () => piq.integratedGradients(F.logits, F.images, { batchsize: 2 } as never), typo: 'batchsize', suggestion: 'batchSize' },
  { type: 'OcclusionOptions', entry: 'Occlusion', call: () => new piq.Occlusion(F.logits, { windw: 2 } as never), typo: 'windw', suggestion: 'window' },
  { type: 'AttributionMethodOptionsMap', entry: 'createAttributionMethod', call: () => piq.createAttributionMethod('saliency', F.logits, { samples: 2 } as never), typo: 'samples', suggestion: null },
  // L1, L0
  { type: 'ClassifierAdapterOptions', entry: 'toClassifierAdapter', call: () => piq.toClassifierAdapter(F.classifier, { featureLayr: 'features' } as never), typo: 'featureLayr', suggestion: 'featureLayer' },
  { type: 'InterpreterDecoderOptions', entry: 'InterpreterDecoder', call: () => new piq.InterpreterDecoder({ featureShape: [4, 4, 2], outputShape: [8, 8, 1], minChannel: 8 } as never), typo: 'minChannel', suggestion: 'minChannels' },
  { type: 'CodebookLayoutOptions', entry: 'CodebookLayout', call: () => new piq.CodebookLayout({ numClasses: 2, codesPerClas: 2 } as never), typo: 'codesPerClas', suggestion: 'codesPerClass' },
  { type: 'AllowedRowsOptions', entry: 'CodebookLayout.allowedRows', call: () => new piq.CodebookLayout({ numClasses: 2, codesPerClass: 2 }).allowedRows(0, { includeShard: false } as never), typo: 'includeShard', suggestion: 'includeShared' },
  { type: 'VectorQuantizerOptions', entry: 'VectorQuantizer', call: () => new piq.VectorQuantizer({ codeDim: 2, layout: { numClasses: 2, codesPerClass: 2 }, sed: 1 } as never), typo: 'sed', suggestion: 'seed' },
  { type: 'QuantizeOptions', entry: 'VectorQuantizer.quantize', call: withTensors(() => [tf.zeros([1, 2, 2, 2]), cls()], (f, c) => F.vq.quantize(f!, c!, { trainng: true } as never)), typo: 'trainng', suggestion: 'training' },
  { type: 'PostStepOptions', entry: 'VectorQuantizer.postStep', call: withTensors(() => [tf.zeros([1, 2, 2, 2]), cls(), tf.zeros([1, 2, 2], 'int32')], (f, c, i) => F.vq.postStep(f!, c!, i!, { validat: false } as never)), typo: 'validat', suggestion: 'validate' },
  { type: 'ClassRestrictedSearchOptions', entry: 'classRestrictedNearest', call: withTensors(search, (u, e, t, c) => piq.classRestrictedNearest(u!, e!, t!, c!, { validte: false } as never)), typo: 'validte', suggestion: 'validate' },
  { type: 'ClassRestrictedSearchOptions', entry: 'classRestrictedQuantize', call: withTensors(search, (u, e, t, c) => piq.classRestrictedQuantize(u!, e!, t!, c!, { Validate: false } as never)), typo: 'Validate', suggestion: 'validate' },
  { type: 'EnableWasmThreadsOptions', entry: 'enableWasmThreads', call: () => piq.enableWasmThreads({ setThreadsCount: () => undefined, getThreadsCount: () => 1 } as never, { thread: 2 } as never), typo: 'thread', suggestion: 'threads' },
  { type: 'EnableWasmTrainingOptions', entry: 'enableWasmTraining', call: () => piq.enableWasmTraining({ fastTiles: true } as never), typo: 'fastTiles', suggestion: 'fastTile' },
  // piq-tfjs/audio
  { type: 'SpectrogramOptions', entry: 'spectrogram', call: () => spectrogram(F.wave, { hopp: 128 } as never), typo: 'hopp', suggestion: 'hop' },
  { type: 'SpectrogramOptions', entry: 'spectrogramShape', call: () => spectrogramShape(2048, { nFTT: 256 } as never), typo: 'nFTT', suggestion: 'nFFT' },
  { type: 'InvertSpectrogramOptions', entry: 'invertSpectrogram', call: () => invertSpectrogram(F.masks, F.masks, { lenght: 10 } as never), typo: 'lenght', suggestion: 'length' },
  { type: 'InterpretationToWaveformOptions', entry: 'interpretationToWaveform', call: () => interpretationToWaveform(F.masks, F.masks, F.masks, { mod: 'mask' } as never), typo: 'mod', suggestion: 'mode' },
  { type: 'EncodeWavOptions', entry: 'encodeWav', call: () => encodeWav(new Float32Array(4), 8000, { formt: 'pcm16' } as never), typo: 'formt', suggestion: 'format' },
  { type: 'ResampleOptions', entry: 'resample', call: () => resample(new Float32Array(4), 8000, 16000, { rollof: 0.9 } as never), typo: 'rollof', suggestion: 'rolloff' },
  // piq-tfjs/visualize
  { type: 'HeatmapOptions', entry: 'heatmap', call: () => heatmap(values, 2, 2, { colourmap: 'viridis' } as never), typo: 'colourmap', suggestion: 'colormap' },
  { type: 'ToRgbaOptions', entry: 'toRgba', call: () => toRgba(values, 2, 2, 1, { mn: 0 } as never), typo: 'mn', suggestion: 'min' },
  { type: 'OverlayOptions', entry: 'overlay', call: () => overlay(img, img, { alpah: 0.5 } as never), typo: 'alpah', suggestion: 'alpha' },
  { type: 'MaskOverlayOptions', entry: 'maskOverlay', call: () => maskOverlay(values, values, 2, 2, 1, { maskmin: 0 } as never), typo: 'maskmin', suggestion: 'maskMin' },
  { type: 'SpectrogramImageOptions', entry: 'spectrogramImage', call: () => spectrogramImage(values, 2, 2, { topdb: 80 } as never), typo: 'topdb', suggestion: 'topDb' },
  { type: 'GridOptions', entry: 'grid', call: () => grid([[img]], { pading: 1 } as never), typo: 'pading', suggestion: 'padding' },
  { type: 'DrawToCanvasOptions', entry: 'drawToCanvas', call: () => drawToCanvas(img, { width: 2, height: 2, getContext: () => null } as never, { resze: true } as never), typo: 'resze', suggestion: 'resize' },
];

function partsOf(m: piq.PiqModel) {
  return { classifier: m.classifier, decoder: m.decoder, quantizer: m.quantizer, mode: m.mode, target: m.target, loss: m.loss };
}

/** A call on tensors made for it and disposed after it, so a leak is the callee's. */
function withTensors(make: () => tf.Tensor[], f: (...ts: Array<tf.Tensor | undefined>) => unknown): () => Promise<unknown> {
  return async () => {
    const ts = make();
    try {
      return await f(...ts);
    } finally {
      tf.dispose(ts);
    }
  };
}

/** Names of the exported interfaces whose name ends in `Options`, over the four entry points. */
function exportedOptionTypes(): string[] {
  const root = join(__dirname, '../..');
  const entries = ['src/index.ts', 'src/audio/index.ts', 'src/visualize/index.ts', 'src/node/index.ts'].map((e) => join(root, e));
  const program = ts.createProgram(entries, { module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler, target: ts.ScriptTarget.ES2020, types: [], resolveJsonModule: true });
  const checker = program.getTypeChecker();
  return entries.flatMap((e) => {
    const symbol = checker.getSymbolAtLocation(program.getSourceFile(e) as ts.SourceFile);
    return symbol ? checker.getExportsOfModule(symbol).map((s) => s.name).filter((n) => n.endsWith('Options')) : [];
  });
}

describe('options objects', () => {
  it('has a row for every exported …Options type', () => {
    const covered = new Set(rows.map((r) => r.type));
    const missing = exportedOptionTypes().filter((n) => !covered.has(n));
    expect(missing, 'add a row (and an optionsObject check) for these').toEqual([]);
  }, 60_000);

  for (const r of rows) {
    it(`${r.entry} (${r.type}) refuses '${r.typo}'${r.suggestion ? `, suggesting '${r.suggestion}'` : ''}`, async () => {
      const e = await expectThrowsWithoutLeak(r.call);
      expect(e, e.message).toBeInstanceOf(piq.PiqConfigError);
      expect(e.message).toMatch(/^[\w.]+: '[\w.[\]]+' must have only known keys, got '/);
      expect(e.message).toContain(`got '${r.typo}'.`);
      if (r.suggestion) expect(e.message).toContain(`Did you mean '${r.suggestion}'?`);
      else expect(e.message).toContain('Known keys:');
    });
  }
});

describe('closestName (the suggestion)', () => {
  it('measures edits, transpositions and case-insensitively', () => {
    expect(editDistance('epoch', 'epochs')).toBe(1);
    expect(editDistance('nFTT', 'nFFT')).toBe(1); // one transposition
    expect(editDistance('batchsize', 'batchSize')).toBe(0);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });

  it('suggests only names within 2 edits (1 for short names), preferring the closest', () => {
    expect(closestName('epoch', ['epochs', 'batchSize'])).toBe('epochs');
    expect(closestName('stps', ['stop', 'steps'])).toBe('steps'); // 1 edit beats 2
    expect(closestName('xyz', ['seed', 'mode'])).toBeUndefined();
    expect(closestName('learningrate', ['learningRate'])).toBe('learningRate');
    expect(closestName('quik', ['quick', 'out'])).toBe('quick');
  });

  it('leaves known keys and undefined options alone', () => {
    expect(() => piq.energyMask({ threshold: 0.5 })).not.toThrow();
    expect(() => piq.energyMask(undefined)).not.toThrow();
  });
});
