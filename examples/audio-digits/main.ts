// `npm run example:audio -- --data <folder>`: PIQ on spoken digits, end to end.
// Reads a folder of labelled WAV clips (the Free Spoken Digit Dataset layout, or one sub-folder per
// label), trains a small CNN on log1p-magnitude spectrograms, trains a PIQ interpreter in mask mode
// (energy-mask target, τ = 0.35, as the reference audio recipe), and writes spectrogram PNGs, WAVs
// of the interpretations (original phase), the overlap test and metrics.json / metrics.md.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve, basename } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import {
  createInterpreter,
  energyMask,
  maskTargetLoss,
  codebookLoss,
  commitmentLoss,
  evaluateInterpretations,
} from 'piq-tfjs';
import { encodeWav, interpretationToWaveform, spectrogram } from 'piq-tfjs/audio';
import { encodePng, grid, spectrogramImage, type RgbaImage } from 'piq-tfjs/visualize';
import { parseArgs, pickBackend, progressBar, log } from '../shared/cli';
import { maskValueStatistics, mean, pct } from '../shared/stats';
import { buildClassifier, subsample, trainClassifier } from './classifier';
import { fitLength, listClips, mixClips, overlapPairs, peakNormalize, readClip, splitClips, type Clip } from './dataset';
import { SPECTROGRAM_OPTIONS, imageShape, spectrogramImages } from './features';

const HELP = `npm run example:audio -- --data <folder> [options]
  --data <folder>          WAV clips: {label}_{speaker}_{index}.wav (FSDD layout) or one sub-folder per label (required)
  --quick                  fewer clips and steps (CI; same code path)
  --out <folder>           output folder (default ./out/audio-digits)
  --backend <name>         wasm | cpu (default wasm, falls back to cpu)
  --sample-rate <hz>       clips are resampled to this rate (default 8000)
  --test-takes <n>         takes 0..n-1 are the test split (default 5, FSDD's official split)
  --classifier-epochs <n>  classifier epochs (default 6; quick 3)
  --epochs <n>             interpreter epochs (default 3; quick 2)
  --train-clips <n>        use at most n training clips, evenly spaced (default all; quick 800)
  --pairs <n>              overlap-test mixtures (default 300; quick 100)
  --mask-loss <bce|dice>   loss of the mask against the energy target (default bce, as the reference)
  --examples <n>           test clips written as PNG + WAV (default 10)
  --seed <n>               seed of the weights and the shuffling (default 0)`;
const FLAGS = { data: 'string', quick: 'boolean', out: 'string', backend: 'string', 'sample-rate': 'string', 'test-takes': 'string', 'classifier-epochs': 'string', epochs: 'string', 'train-clips': 'string', pairs: 'string', 'mask-loss': 'string', examples: 'string', seed: 'string' } as const;

const SECONDS = 1;

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2), FLAGS, HELP);
  const dataDir = args.string('data', '');
  if (dataDir === '') throw new Error(`--data <folder> is required\n${HELP}`);
  const quick = args.flag('quick');
  const outDir = resolve(args.string('out', './out/audio-digits'));
  const sampleRate = args.int('sample-rate', 8000);
  const testTakes = args.int('test-takes', 5);
  const clfEpochs = args.int('classifier-epochs', quick ? 3 : 6);
  const epochs = args.int('epochs', quick ? 2 : 3);
  const maxTrain = args.int('train-clips', quick ? 800 : Number.MAX_SAFE_INTEGER);
  const pairCount = args.int('pairs', quick ? 100 : 300);
  const exampleCount = args.int('examples', 10);
  const maskLoss = args.string('mask-loss', 'bce');
  if (maskLoss !== 'bce' && maskLoss !== 'dice') throw new Error(`--mask-loss must be bce or dice, got ${maskLoss}`);
  const seed = Number(args.string('seed', '0'));
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`--seed must be a non-negative integer, got ${args.string('seed', '0')}`);
  const t0 = Date.now();
  const timings: Record<string, number> = {};
  let tPhase = Date.now();
  const phase = (name: string) => {
    timings[name] = (Date.now() - tPhase) / 1000;
    tPhase = Date.now();
  };
  const backend = await pickBackend(args.string('backend', 'wasm'));
  log(`backend: ${backend}`);
  mkdirSync(outDir, { recursive: true });

  // ---- data: list, split (takes 0..testTakes-1 are the test set), read, peak-normalise, 1 s, spectrograms
  const listing = listClips(resolve(dataDir));
  if (listing.ignored.length > 0) log(`not read (not WAV clips): ${listing.ignored.slice(0, 5).join(', ')}${listing.ignored.length > 5 ? ` and ${listing.ignored.length - 5} more` : ''}`);
  const split = splitClips(listing.clips, testTakes);
  if (split.train.length === 0 || split.test.length === 0) {
    throw new Error(`split: ${split.train.length} training and ${split.test.length} test clips; both must be non-empty (test = takes 0..${testTakes - 1}).`);
  }
  const numClasses = listing.labels.length;
  const trainClips = subsample(split.train, maxTrain);
  const testClips = split.test;
  const numSamples = Math.round(SECONDS * sampleRate);
  const load = (c: Clip) => fitLength(peakNormalize(readClip(c.path, sampleRate)), numSamples);
  const trainWaves = trainClips.map(load);
  const testWaves = testClips.map(load);
  const trainX = spectrogramImages(trainWaves);
  const testX = spectrogramImages(testWaves);
  const [frames, bins] = imageShape(numSamples);
  const trainY = Int32Array.from(trainClips, (c) => c.labelIndex);
  const testY = Int32Array.from(testClips, (c) => c.labelIndex);
  log(
    `data: ${listing.clips.length} clips (${listing.layout} layout, labels ${listing.labels.join(' ')}); ` +
      `train ${trainClips.length}${trainClips.length < split.train.length ? ` of ${split.train.length}` : ''} / test ${testClips.length}; ` +
      `spectrograms ${frames}x${bins} (frames x bins)`,
  );
  phase('data');

  // ---- classifier: small CNN on [frames, bins, 1]; the last conv layer 'features' is PIQ's tap
  const classifier = buildClassifier([frames, bins, 1], numClasses, seed);
  await trainClassifier(classifier, trainX, trainY, numClasses, clfEpochs);
  const testPred = tf.tidy(() => tf.argMax(classifier.predict(testX) as tf.Tensor, -1).dataSync() as Int32Array);
  const classifierAccuracy = mean(Array.from(testY, (y, i) => (testPred[i] === y ? 1 : 0)));
  log(`classifier test accuracy: ${pct(classifierAccuracy)} on ${testClips.length} test clips`);
  phase('classifier');

  // ---- PIQ interpreter in mask mode: energy-mask target τ = 0.35 on the log1p spectrogram
  const interpreter = await createInterpreter({
    classifier,
    featureLayer: 'features',
    target: energyMask({ threshold: 0.35 }),
    decoder: { preset: 'spectrogram', codeDim: 32, channels: 16, minChannels: 8, norm: 'none' },
    quantizer: { init: 'data', layout: { codesPerClass: 16 }, seed },
    losses: [
      { loss: maskTargetLoss({ kind: maskLoss }), weight: 1 },
      { loss: codebookLoss(), weight: 1 },
      { loss: commitmentLoss(), weight: 1 },
    ],
    seed,
  });
  const summary = interpreter.summary();
  log(
    `interpreter: taps '${summary.featureLayer}' ${JSON.stringify(summary.featureShape)}, code grid ${JSON.stringify(summary.codeShape)}, ` +
      `codebook ${summary.codebookSize} keys, ${summary.trainableParams} trainable parameters`,
  );
  const batchSize = 16;
  const steps = Math.ceil(trainClips.length / batchSize);
  let bar = progressBar('interpreter epoch 1', steps);
  const lossCurve: Array<{ step: number; epoch: number; loss: Record<string, number> }> = [];
  const valX = tf.slice(testX, 0, Math.min(100, testClips.length)) as tf.Tensor4D;
  const history = await interpreter.fit(trainX, {
    verbose: 0, // this script draws its own progress bar
    epochs,
    batchSize,
    learningRate: 1e-3,
    seed,
    validationData: valX,
    logEvery: 10,
    onProgress: (p) => {
      lossCurve.push({ step: p.step, epoch: p.epoch, loss: p.loss });
      bar.set(p.batch, `loss ${p.loss.total?.toFixed(3)} (mask ${p.loss.maskTarget?.toFixed(3)}) perplexity ${p.perplexity.toFixed(1)}`);
    },
    onEpochEnd: (e) => {
      bar.done(`val input fidelity ${pct(e.validation?.inputFidelity ?? NaN)}`);
      if (e.epoch + 1 < epochs) bar = progressBar(`interpreter epoch ${e.epoch + 2}`, steps);
    },
  });
  valX.dispose();
  phase('interpreter');

  // ---- interpret the test split; metrics with the interpreter's masks
  const r = await interpreter.interpret(testX, { batchSize: 32 });
  const masks = tf.tensor3d(r.mask, [r.batch, frames, bins]);
  // The mask-mode training target on the test clips, to check the decoder learned it (IoU at 0.5).
  const predictedClass = tf.tensor1d(r.predictedClass, 'int32');
  const energyTarget = energyMask({ threshold: 0.35 }).compute(testX, { predictedClass });
  predictedClass.dispose();
  const ev = await evaluateInterpretations(interpreter.classifier, testX, masks, {
    metrics: ['inputFidelity', 'faithfulness', 'averageIncrease', 'averageDrop', 'averageGain', 'sparseness', 'complexity', 'maskIoU'],
    groundTruth: energyTarget,
  });
  const targetDensity = mean((await energyTarget.data()) as Float32Array);
  tf.dispose([masks, energyTarget]);
  const m = (k: keyof typeof ev.metrics) => ev.metrics[k]?.mean ?? NaN;
  const maskStats = { ...maskValueStatistics(r.mask), targetDensity };
  log(`test: FidIn ${pct(m('inputFidelity'))}, FF ${m('faithfulness').toFixed(3)}, AI ${m('averageIncrease').toFixed(1)}, AD ${m('averageDrop').toFixed(1)}, AG ${m('averageGain').toFixed(1)}`);

  // ---- examples: one test clip per label (the first one the classifier gets right, else the first)
  const exDir = join(outDir, 'examples');
  mkdirSync(exDir, { recursive: true });
  const chosen = chooseExamples(testY, testPred, numClasses, exampleCount);
  const rows: RgbaImage[][] = [];
  for (const i of chosen) {
    const name = `${String(i).padStart(3, '0')}_${basename(testClips[i]!.path, '.wav')}`;
    const ex = r.example(i);
    writeAudio(join(exDir, `${name}_input.wav`), join(exDir, `${name}_interpretation.wav`), testWaves[i]!, ex.mask, sampleRate);
    rows.push(specRow(testX, i, ex.mask, ex.interpretation, frames, bins));
  }
  writeFileSync(join(outDir, 'examples.png'), encodePng(grid(rows, { padding: 4 })));
  phase('evaluate');

  // ---- overlap test: 0.8 · dominant + 0.2 · other (each peak-normalised), different digits
  const pairs = overlapPairs(testY, pairCount, seed + 1);
  const mixWaves = pairs.map(([a, b]) => mixClips(testWaves[a]!, testWaves[b]!, 0.8, 0.2));
  const mixX = spectrogramImages(mixWaves);
  const rm = await interpreter.interpret(mixX, { batchSize: 32 });
  let keptPrediction = 0;
  let keptDominant = 0;
  let predictedDominant = 0;
  let predictedOther = 0;
  pairs.forEach(([a, b], k) => {
    if (rm.interpretationClass[k] === rm.predictedClass[k]) keptPrediction++;
    if (rm.interpretationClass[k] === testY[a]) keptDominant++;
    if (rm.predictedClass[k] === testY[a]) predictedDominant++;
    if (rm.predictedClass[k] === testY[b]) predictedOther++;
  });
  const overlap = {
    pairs: pairs.length,
    weights: [0.8, 0.2],
    keptPrediction: keptPrediction / pairs.length,
    keptDominantLabel: keptDominant / pairs.length,
    classifierPredictsDominant: predictedDominant / pairs.length,
    classifierPredictsOther: predictedOther / pairs.length,
  };
  log(
    `overlap test (${pairs.length} mixtures): f(interpretation) = f(mixture) in ${pct(overlap.keptPrediction)}, ` +
      `= dominant digit in ${pct(overlap.keptDominantLabel)} (f(mixture) = dominant in ${pct(overlap.classifierPredictsDominant)})`,
  );
  const mixDir = join(outDir, 'overlap');
  mkdirSync(mixDir, { recursive: true });
  const mixRows: RgbaImage[][] = [];
  const shown = pairs.slice(0, 6);
  const partsX = spectrogramImages(shown.flatMap(([a, b]) => [scaled(peakNormalize(testWaves[a]!), 0.8), scaled(peakNormalize(testWaves[b]!), 0.2)]));
  for (let k = 0; k < shown.length; k++) {
    const [a, b] = pairs[k]!;
    const name = `${String(k).padStart(2, '0')}_dominant${listing.labels[testY[a]!]}_other${listing.labels[testY[b]!]}`;
    const ex = rm.example(k);
    writeAudio(join(mixDir, `${name}_mixture.wav`), join(mixDir, `${name}_interpretation.wav`), mixWaves[k]!, ex.mask, sampleRate);
    // mixture | mask | interpretation | dominant clip alone (×0.8) | other clip alone (×0.2)
    mixRows.push(specRow(mixX, k, ex.mask, ex.interpretation, frames, bins, [partsX, partsX], [2 * k, 2 * k + 1]));
  }
  writeFileSync(join(outDir, 'overlap.png'), encodePng(grid(mixRows, { padding: 4 })));
  tf.dispose([mixX, partsX]);
  phase('overlap');

  const seconds = (Date.now() - t0) / 1000;
  const metrics = {
    dataset: `${resolve(dataDir)} (${listing.layout} layout)`,
    command: `npm run example:audio -- ${process.argv.slice(2).join(' ')}`,
    date: new Date().toISOString(),
    quick,
    backend,
    labels: listing.labels,
    trainClips: trainClips.length,
    testClips: testClips.length,
    testSplit: `takes 0..${testTakes - 1}`,
    spectrogram: { ...SPECTROGRAM_OPTIONS, sampleRate, seconds: SECONDS, frames, bins },
    classifierAccuracy,
    classifierEpochs: clfEpochs,
    FidIn: m('inputFidelity'),
    FF: m('faithfulness'),
    AI: m('averageIncrease'),
    AD: m('averageDrop'),
    AG: m('averageGain'),
    SPS: m('sparseness'),
    COMP: m('complexity'),
    maskIoUEnergyTarget: m('maskIoU'),
    mask: maskStats,
    overlapKept: overlap.keptPrediction,
    overlapKeptDominant: overlap.keptDominantLabel,
    overlap,
    interpreter: { ...summary, epochs, batchSize, learningRate: 1e-3 },
    validation: history.epochs.map((e) => ({ epoch: e.epoch, inputFidelity: e.validation?.inputFidelity, loss: e.validation?.loss })),
    lossCurve,
    timings,
    seconds,
  };
  writeFileSync(join(outDir, 'metrics.json'), JSON.stringify(metrics, null, 2));
  writeFileSync(join(outDir, 'metrics.md'), metricsMarkdown(metrics));
  log(`done in ${seconds.toFixed(1)} s: ${outDir}/{metrics.json, metrics.md, examples.png, overlap.png, examples/, overlap/}`);
  interpreter.dispose();
  classifier.dispose();
  tf.dispose([trainX, testX]);
}

function chooseExamples(labels: Int32Array, predicted: Int32Array, numClasses: number, count: number): number[] {
  const out: number[] = [];
  for (let c = 0; c < numClasses && out.length < count; c++) {
    let pick = -1;
    for (let i = 0; i < labels.length; i++) {
      if (labels[i] !== c) continue;
      if (pick < 0) pick = i;
      if (predicted[i] === c) {
        pick = i;
        break;
      }
    }
    if (pick >= 0) out.push(pick);
  }
  for (let i = 0; out.length < Math.min(count, labels.length); i++) if (!out.includes(i)) out.push(i);
  return out;
}

/**
 * One PNG row: input | mask | interpretation (| extra spectrograms, e.g. the two clips of a mixture),
 * time to the right and frequency upward; all spectrograms share the input's colour range.
 */
function specRow(x: tf.Tensor4D, i: number, mask: Float32Array, interpretation: Float32Array, frames: number, bins: number, extra: tf.Tensor4D[] = [], extraIndex: number[] = []): RgbaImage[] {
  const slice = (t: tf.Tensor4D, k: number) => tf.tidy(() => tf.slice(t, [k, 0, 0, 0], [1, -1, -1, -1]).dataSync() as Float32Array);
  const input = slice(x, i);
  let max = 0;
  for (const v of input) max = Math.max(max, v);
  const range = { min: 0, max: max > 0 ? max : 1 };
  return [
    spectrogramImage(input, frames, bins, { colormap: 'magma', ...range }),
    spectrogramImage(mask, frames, bins, { colormap: 'viridis', min: 0, max: 1 }),
    spectrogramImage(interpretation, frames, bins, { colormap: 'magma', ...range }),
    ...extra.map((t, k) => spectrogramImage(slice(t, extraIndex[k] as number), frames, bins, { colormap: 'magma', ...range })),
  ].map((img) => enlarge(img));
}

/** Nearest-neighbour enlargement, 4x along time (x) and 2x along frequency (y), so 63 x 129 shows as 252 x 258. */
function enlarge(img: RgbaImage, sx = 4, sy = 2): RgbaImage {
  const width = img.width * sx;
  const height = img.height * sy;
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    const src = Math.floor(y / sy) * img.width;
    for (let x = 0; x < width; x++) {
      const i = (src + Math.floor(x / sx)) * 4;
      data.set(img.data.subarray(i, i + 4), (y * width + x) * 4);
    }
  }
  return { width, height, data };
}

/** Writes the clip and the interpretation's audio: |Y| = expm1(M ⊙ X) with the clip's own phase. */
function writeAudio(inputPath: string, interpPath: string, wave: Float32Array, mask: Float32Array, sampleRate: number): void {
  const spec = spectrogram(wave, SPECTROGRAM_OPTIONS);
  const [, frames, bins] = spec.magnitude.shape;
  const m = tf.tensor3d(mask, [1, frames, bins]);
  const audio = interpretationToWaveform(m, spec.magnitude, spec.phase, { ...spec.config, length: spec.numSamples, mode: 'reference' });
  writeFileSync(inputPath, encodeWav(wave, sampleRate, { format: 'pcm16' }));
  writeFileSync(interpPath, encodeWav(audio.dataSync() as Float32Array, sampleRate, { format: 'pcm16' }));
  tf.dispose([spec.magnitude, spec.phase, m, audio]);
}

function scaled(x: Float32Array, g: number): Float32Array {
  return x.map((v) => v * g);
}

function metricsMarkdown(s: Record<string, unknown>): string {
  const o = s.overlap as Record<string, number>;
  const timings = s.timings as Record<string, number>;
  const mk = s.mask as Record<string, number>;
  const n = (v: unknown, d = 3) => (typeof v === 'number' ? v.toFixed(d) : String(v));
  const p = (v: unknown) => pct(v as number);
  return `# piq-tfjs audio-digits example — metrics

\`${s.command as string}\` on ${s.date as string} (backend ${s.backend as string}, ${(s.seconds as number).toFixed(1)} s).
Data: ${s.dataset as string}; ${s.trainClips as number} training / ${s.testClips as number} test clips (test = ${s.testSplit as string}).

| quantity | value | better |
|---|---|---|
| classifier test accuracy | ${p(s.classifierAccuracy)} | ↑ |
| Fid-In, input fidelity | ${p(s.FidIn)} | ↑ |
| FF, faithfulness | ${n(s.FF)} | ↑ |
| AI, average increase | ${n(s.AI, 1)} | ↑ |
| AD, average drop | ${n(s.AD, 1)} | ↓ |
| AG, average gain | ${n(s.AG, 1)} | ↑ |
| SPS, sparseness (Gini) | ${n(s.SPS)} | ↑ |
| COMP, complexity (entropy) | ${n(s.COMP, 2)} | ↓ |
| IoU of mask (≥ 0.5) with the energy target | ${n(s.maskIoUEnergyTarget)} | ↑ |
| mask values: mean / p90 / p99 / max | ${[mk.mean, mk.p90, mk.p99, mk.max].map((v) => n(v)).join(' / ')} | |
| bins the energy target marks (τ = 0.35) | ${p(mk.targetDensity)} | |
| overlap: f(interpretation) = f(mixture) | ${p(o.keptPrediction)} of ${o.pairs as number} mixtures | ↑ |
| overlap: f(interpretation) = dominant digit | ${p(o.keptDominantLabel)} | ↑ |
| overlap: f(mixture) = dominant digit | ${p(o.classifierPredictsDominant)} | (classifier) |
| overlap: f(mixture) = other digit | ${p(o.classifierPredictsOther)} | (classifier) |

Timings (s): ${Object.entries(timings).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}.
Metrics use the interpreter's masks M on the test spectrograms X: mask-in M ⊙ X, mask-out (1 − M) ⊙ X, single softmax.
Data credit: Free Spoken Digit Dataset (FSDD), Z. Jackson et al., CC BY-SA 4.0 (when run on FSDD).
`;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
