// `npm run bench:presets`: the faithful 'reference-mnist' decoder against the library's default
// decoder ('image'), on the reference MNIST classifier (the authors' development code's MNISTNet,
// whose tap is 4×4×128, the size the reference decoder needs). Same classifier, quantizer, data,
// seed and training settings; only the decoder differs (plus one row with the reference's whole
// configuration). Scored on MNIST test digits with the library's metrics. Writes
// bench/results/presets-latest.{json,md}.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { createInterpreter, piqAttribution, toClassifierAdapter, Trainer, type CreateInterpreterOptions, type FitOptions } from 'piq-tfjs';
import { fileSystem } from 'piq-tfjs/node';
import { loadMnist, type MnistSplit } from '../examples/mnist/mnist-data';
import { overlapPairs } from '../examples/mnist/classifier';
import { log, parseArgs, pickBackend, progressBar } from '../examples/shared/cli';
import { scoreMethod, type MethodScores } from './score';

const HELP = `npm run bench:presets -- [options]
  --classifier-samples <n>  reference classifier training digits (default 12000)
  --classifier-epochs <n>   its epochs (default 2)
  --samples <n>             interpreter training digits (default 12000)
  --epochs <n>              interpreter epochs (default 2)
  --lr <x>                  interpreter learning rate (default 2e-3, as the demo)
  --digits <n>              test digits scored (default 400)
  --pairs <n>               two-digit mixtures (default 100)
  --backend <name>          wasm | cpu (default wasm)
  --out <dir>               output folder (default bench/results)`;
const FLAGS = { 'classifier-samples': 'string', 'classifier-epochs': 'string', samples: 'string', epochs: 'string', lr: 'string', digits: 'string', pairs: 'string', backend: 'string', out: 'string' } as const;

/**
 * The reference MNIST classifier (ycemsubakan/speechbrain-1 @ 52d37e40, custom_models.py MNISTNet):
 * conv3×3 32 → ReLU → conv3×3 64 → ReLU → maxpool → dropout 0.25 → conv3×3 64 → ReLU → conv3×3 128 →
 * ReLU → maxpool (the tap, 4×4×128) → flatten → dense 128 → ReLU → dropout 0.5 → dense 10 (393,162 parameters).
 */
function referenceClassifier(): tfl.LayersModel {
  const init = (seed: number) => tfl.initializers.glorotUniform({ seed });
  return tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, activation: 'relu', kernelInitializer: init(1), name: 'conv1' }),
      tfl.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu', kernelInitializer: init(2), name: 'conv2' }),
      tfl.layers.maxPooling2d({ poolSize: 2, name: 'pool1' }),
      tfl.layers.dropout({ rate: 0.25, name: 'drop1' }),
      tfl.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu', kernelInitializer: init(3), name: 'conv3' }),
      tfl.layers.conv2d({ filters: 128, kernelSize: 3, activation: 'relu', kernelInitializer: init(4), name: 'conv4' }),
      tfl.layers.maxPooling2d({ poolSize: 2, name: 'features' }),
      tfl.layers.flatten({ name: 'flatten' }),
      tfl.layers.dense({ units: 128, activation: 'relu', kernelInitializer: init(5), name: 'fc1' }),
      tfl.layers.dropout({ rate: 0.5, name: 'drop2' }),
      tfl.layers.dense({ units: 10, kernelInitializer: init(6), name: 'logits' }),
    ],
  });
}

async function loadOrTrainReferenceClassifier(train: MnistSplit, samples: number, epochs: number): Promise<tfl.LayersModel> {
  const dir = resolve('.cache', `mnist-reference-classifier-${samples}-${epochs}`);
  if (existsSync(join(dir, 'model.json'))) {
    log(`reference classifier: loaded from ${dir}`);
    return tfl.loadLayersModel(fileSystem(dir));
  }
  const model = referenceClassifier();
  const xs = tf.tensor4d(train.images.subarray(0, samples * 784), [samples, 28, 28, 1]);
  const ys = tf.oneHot(tf.tensor1d(train.labels.subarray(0, samples), 'int32'), 10);
  model.compile({ optimizer: tf.train.adam(1e-3), loss: tf.losses.softmaxCrossEntropy, metrics: ['accuracy'] });
  for (let e = 0; e < epochs; e++) {
    const bar = progressBar(`reference classifier epoch ${e + 1}/${epochs}`, Math.ceil(samples / 64));
    await model.fit(xs, ys, { epochs: 1, batchSize: 64, shuffle: true, verbose: 0, callbacks: { onBatchEnd: async (_b, l) => bar.tick(`loss ${(l?.loss ?? NaN).toFixed(3)}`) } });
    bar.done();
  }
  tf.dispose([xs, ys]);
  await model.save(fileSystem(dir));
  return model;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const args = parseArgs(argv, FLAGS, HELP);
  const clfSamples = args.int('classifier-samples', 12000);
  const clfEpochs = args.int('classifier-epochs', 2);
  const samples = args.int('samples', 12000);
  const epochs = args.int('epochs', 2);
  const learningRate = args.number('lr', 2e-3);
  const digits = args.int('digits', 400);
  const pairCount = args.int('pairs', 100);
  const outDir = resolve(args.string('out', 'bench/results'));
  const backend = await pickBackend(args.string('backend', 'wasm'));
  const t0 = Date.now();
  mkdirSync(outDir, { recursive: true });
  const train = loadMnist('train', Math.max(samples, clfSamples));
  const test = loadMnist('test');
  const classifier = await loadOrTrainReferenceClassifier(train, clfSamples, clfEpochs);
  const adapter = toClassifierAdapter(classifier, { featureLayer: 'features' });
  const pick = (px: Float32Array, idx: number[]) => {
    const out = new Float32Array(idx.length * 784);
    idx.forEach((i, k) => out.set(px.subarray(i * 784, (i + 1) * 784), k * 784));
    return tf.tensor4d(out, [idx.length, 28, 28, 1]);
  };
  const x = pick(test.images, Array.from({ length: digits }, (_, i) => i));
  const accuracy = tf.tidy(() => tf.mean(tf.cast(tf.equal(tf.argMax(adapter.logits(x), -1), tf.tensor1d(test.labels.subarray(0, digits), 'int32')), 'float32')).dataSync()[0] as number);
  log(`reference classifier: ${(accuracy * 100).toFixed(1)}% on the ${digits} scored test digits, tap ${JSON.stringify(adapter.featureShape)}`);
  const pairs = overlapPairs(test.labels, pairCount);
  const mix = tf.tidy(() => tf.maximum(pick(test.images, pairs.map((p) => p[0])), pick(test.images, pairs.map((p) => p[1]))) as tf.Tensor4D);
  const xs = tf.tensor4d(train.images.subarray(0, samples * 784), [samples, 28, 28, 1]);

  const library = { layout: { codesPerClass: 16 }, init: 'data' as const, seed: 0 };
  const variants: Array<{ name: string; create: Partial<CreateInterpreterOptions>; fit: FitOptions }> = [
    { name: "decoder 'image' (library default)", create: { quantizer: library }, fit: { learningRate } },
    { name: "decoder 'reference-mnist'", create: { decoder: { preset: 'reference-mnist' }, quantizer: library }, fit: { learningRate } },
    {
      name: "'reference-mnist' + reference codebook and optimizer",
      create: { decoder: { preset: 'reference-mnist' }, quantizer: { layout: { codebookSize: 128, sharedCodes: 5 }, init: 'uniform', sharedCodesInTraining: false, seed: 0 } },
      fit: { learningRate: 1e-4, weightDecay: 2e-6 },
    },
  ];
  const rows: Array<{ name: string; trainableParams: number; msPerStep: number; trainSeconds: number; validation: Record<string, number>; scores: MethodScores }> = [];
  for (const v of variants) {
    const interpreter = await createInterpreter({ classifier, featureLayer: 'features', numClasses: 10, seed: 0, ...v.create });
    const bar = progressBar(v.name, Math.ceil(samples / 64) * epochs);
    const history = await interpreter.fit(xs, { verbose: 0, epochs, batchSize: 64, logEvery: 5, ...v.fit, onProgress: (p) => bar.set(p.step, `loss ${p.loss.total?.toFixed(3)}`) });
    bar.done();
    const trainer = new Trainer(interpreter.model);
    const val = await trainer.evaluate(x, 100);
    trainer.dispose();
    const scores = await scoreMethod(piqAttribution(interpreter), adapter, x, mix, { batchSize: 32, steps: 20 });
    rows.push({
      name: v.name,
      trainableParams: interpreter.summary().trainableParams,
      msPerStep: (history.seconds * 1000) / history.steps,
      trainSeconds: history.seconds,
      validation: { ...val.loss, reconstructionFidelity: val.inputFidelity },
      scores,
    });
    log(`${v.name}: ${history.seconds.toFixed(0)} s, Fid-In(M⊙x) ${scores.FidIn.toFixed(3)}, FF ${scores.FF.toFixed(3)}, BCE ${val.loss.reconstruction?.toFixed(4)}`);
    interpreter.dispose();
  }

  const summary = {
    what: "reference-mnist vs the library's default decoder on the reference MNIST classifier (tap 4×4×128)",
    date: new Date().toISOString(),
    command: `npm run bench:presets${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
    backend,
    classifier: { architecture: 'MNISTNet (reference development code), 393,162 parameters', trainingDigits: clfSamples, epochs: clfEpochs, accuracyOnScoredDigits: accuracy },
    interpreter: { trainingDigits: samples, epochs, batchSize: 64, seed: 0, mode: 'reconstruction' },
    scored: { testDigits: digits, mixtures: pairs.length },
    rows,
    seconds: (Date.now() - t0) / 1000,
  };
  writeFileSync(join(outDir, 'presets-latest.json'), `${JSON.stringify(summary, null, 2)}\n`);
  const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
  const md = `# Reference decoder preset vs the library default (MNIST)

\`${summary.command}\` on ${summary.date} (backend ${backend}; ${summary.seconds.toFixed(0)} s in all, on a shared, loaded 2-core machine:
times are for comparing the rows, not latencies). Classifier: the reference MNISTNet (tap 4×4×128), ${clfSamples} training
digits, ${clfEpochs} epochs, ${pct(accuracy)} on the ${digits} scored test digits. Each interpreter: reconstruction mode, ${samples}
training digits, ${epochs} epochs, batch 64, seed 0.

| decoder | trainable parameters | ms / step | test BCE ↓ | Fid-In of the reconstruction ↑ | Fid-In (M ⊙ x) ↑ | FF ↑ | AD ↓ | deletion AUC ↓ | SPS ↑ | overlap kept ↑ |
|---|---|---|---|---|---|---|---|---|---|---|
${rows
  .map(
    (r) =>
      `| ${r.name} | ${r.trainableParams.toLocaleString('en-US')} | ${r.msPerStep.toFixed(0)} | ${(r.validation.reconstruction ?? NaN).toFixed(4)} | ${pct(r.validation.reconstructionFidelity as number)} | ${pct(r.scores.FidIn)} | ${r.scores.FF.toFixed(3)} | ${r.scores.AD.toFixed(1)} | ${r.scores.deletionAUC.toFixed(3)} | ${r.scores.SPS.toFixed(3)} | ${pct(r.scores.overlapKept)} |`,
  )
  .join('\n')}

The first two rows share the quantizer (16 keys per class, data init) and the optimizer (Adam, learning rate ${learningRate}).
The third uses the reference's whole MNIST setup: K = 128 with 5 shared keys (excluded in training), uniform init,
Adam 1e-4 with weight decay 2e-6 (not its 200 epochs). Trainable parameters include the codebook.
`;
  writeFileSync(join(outDir, 'presets-latest.md'), md);
  process.stdout.write(md);
  tf.dispose([x, mix, xs]);
  classifier.dispose();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
