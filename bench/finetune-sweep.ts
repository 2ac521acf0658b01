// `npm run bench:finetune-sweep`: how Interpreter.finetune's term weights and learning rate trade
// faithfulness (FF, deletion AUC) against input fidelity and class specificity (overlap test) on
// MNIST — the measurement behind finetune's defaults. Fine-tunes the demo's plain interpreter (the
// one `npm run bench:quality` scores) once per configuration and scores each on held-out TRAINING
// digits (never the test digits the quality table uses). Writes bench/results/finetune-sweep.{json,md}.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { createAttributionMethod, piqAttribution, toClassifierAdapter, type FinetuneOptions } from 'piq-tfjs';
import { loadMnist } from '../examples/mnist/mnist-data';
import { loadOrTrainClassifier, MNIST_RUN_DEFAULTS, overlapPairs } from '../examples/mnist/classifier';
import { log, parseArgs, pickBackend } from '../examples/shared/cli';
import { loadOrFinetune, loadOrTrainInterpreter } from './mnist-piq';
import { scoreMethod, type MethodScores } from './score';

const HELP = `npm run bench:finetune-sweep -- [options]
  --digits <n>        held-out training digits scored (default 400), from index 55000
  --pairs <n>         two-digit mixtures of held-out training digits (default 100)
  --steps <n>         fine-tuning steps per configuration, batch 64 (default 150)
  --backend <name>    wasm | cpu (default wasm)
  --out <dir>         output folder (default bench/results)
  --retrain           ignore cached fine-tunings`;
const FLAGS = { digits: 'string', pairs: 'string', steps: 'string', backend: 'string', out: 'string', retrain: 'boolean' } as const;

/** The configurations swept (weights of keep / remove / sparsity, multiplier of the PIQ losses, learning rate). */
const GRID: Array<Pick<FinetuneOptions, 'maskIn' | 'maskOut' | 'sparsity' | 'piqWeight' | 'learningRate'>> = [
  { maskIn: 1, maskOut: 1, sparsity: 0.5, piqWeight: 1, learningRate: 5e-4 },
  { maskIn: 1, maskOut: 1, sparsity: 0, piqWeight: 1, learningRate: 5e-4 },
  { maskIn: 1, maskOut: 1, sparsity: 2, piqWeight: 1, learningRate: 5e-4 },
  { maskIn: 1, maskOut: 3, sparsity: 0.5, piqWeight: 1, learningRate: 5e-4 },
  { maskIn: 1, maskOut: 1, sparsity: 0.5, piqWeight: 0.1, learningRate: 5e-4 },
  { maskIn: 1, maskOut: 1, sparsity: 0.5, piqWeight: 1, learningRate: 2e-3 },
  // Second round, after the first six: the larger learning rate with more sparsity.
  { maskIn: 1, maskOut: 1, sparsity: 2, piqWeight: 1, learningRate: 2e-3 },
  { maskIn: 1, maskOut: 1, sparsity: 4, piqWeight: 1, learningRate: 2e-3 },
  { maskIn: 1, maskOut: 3, sparsity: 2, piqWeight: 1, learningRate: 2e-3 },
  { maskIn: 2, maskOut: 1, sparsity: 4, piqWeight: 1, learningRate: 2e-3 },
];

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const args = parseArgs(argv, FLAGS, HELP);
  const digits = args.int('digits', 400);
  const pairCount = args.int('pairs', 100);
  const steps = args.int('steps', 150);
  const retrain = args.flag('retrain');
  const outDir = resolve(args.string('out', 'bench/results'));
  const backend = await pickBackend(args.string('backend', 'wasm'));
  const t0 = Date.now();
  mkdirSync(outDir, { recursive: true });
  const d = MNIST_RUN_DEFAULTS.full;
  const train = loadMnist('train');
  const classifier = await loadOrTrainClassifier(train, { samples: d.classifierSamples, epochs: d.classifierEpochs });
  const adapter = toClassifierAdapter(classifier, { featureLayer: 'features' });
  const plain = await loadOrTrainInterpreter(classifier, train, { samples: d.samples, epochs: d.epochs, learningRate: d.learningRate, retrain: false });

  // Held-out training digits: after the classifier's 20,000 and the interpreter's 30,000.
  const HELD = 55000;
  const pick = (idx: number[]) => {
    const out = new Float32Array(idx.length * 784);
    idx.forEach((i, k) => out.set(train.images.subarray(i * 784, (i + 1) * 784), k * 784));
    return tf.tensor4d(out, [idx.length, 28, 28, 1]);
  };
  const x = pick(Array.from({ length: digits }, (_, i) => HELD + i));
  const pairs = overlapPairs(train.labels.subarray(HELD + digits), pairCount).map(([i, j]) => [HELD + digits + i, HELD + digits + j]);
  const mix = tf.tidy(() => tf.maximum(pick(pairs.map((p) => p[0] as number)), pick(pairs.map((p) => p[1] as number))) as tf.Tensor4D);
  const score = { batchSize: 32, steps: 20 };

  const rows: Array<{ config: Record<string, number> | null; scores: MethodScores; seconds: number | null }> = [];
  const baselines: Record<string, MethodScores> = {};
  for (const name of ['integratedGradients', 'occlusion'] as const) {
    baselines[name] = await scoreMethod(createAttributionMethod(name, adapter), adapter, x, mix, score);
    log(`${name}: FF ${baselines[name].FF.toFixed(3)} deletion ${baselines[name].deletionAUC.toFixed(3)}`);
  }
  rows.push({ config: null, scores: await scoreMethod(piqAttribution(plain.interpreter), adapter, x, mix, score), seconds: 0 });
  plain.interpreter.dispose();
  for (const config of GRID) {
    const tuned = await loadOrFinetune(classifier, plain.dir, train, { samples: d.samples, options: { ...config, epochs: 1, maxSteps: steps } }, retrain);
    const scores = await scoreMethod(piqAttribution(tuned.interpreter), adapter, x, mix, score);
    tuned.interpreter.dispose();
    rows.push({ config: config as Record<string, number>, scores, seconds: tuned.finetuneSeconds });
    log(`${JSON.stringify(config)}: FF ${scores.FF.toFixed(3)} deletion ${scores.deletionAUC.toFixed(3)} FidIn ${scores.FidIn.toFixed(3)} overlap ${scores.overlapKept.toFixed(3)}`);
  }

  const summary = {
    what: 'Interpreter.finetune on the demo MNIST interpreter: one configuration per row, scored on held-out training digits',
    date: new Date().toISOString(),
    command: `npm run bench:finetune-sweep${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
    backend,
    digits: { scored: `training digits ${HELD}-${HELD + digits - 1}`, mixtures: pairs.length },
    finetune: { trainingDigits: d.samples, batchSize: 64, steps },
    baselines,
    rows,
    seconds: (Date.now() - t0) / 1000,
  };
  writeFileSync(join(outDir, 'finetune-sweep.json'), `${JSON.stringify(summary, null, 2)}\n`);
  const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
  const line = (label: string, m: MethodScores, secs: number | null) =>
    `| ${label} | ${m.FF.toFixed(3)} | ${m.deletionAUC.toFixed(3)} | ${pct(m.FidIn)} | ${m.AD.toFixed(1)} | ${m.SPS.toFixed(3)} | ${m.maskInFF.toFixed(3)} | ${pct(m.overlapKept)} | ${secs === null ? 'cached' : secs.toFixed(0)} |`;
  const md = `# Faithfulness fine-tuning sweep (MNIST)

\`${summary.command}\` on ${summary.date} (backend ${backend}; ${summary.seconds.toFixed(0)} s in all, on a shared 2-core machine).
Each row fine-tunes the demo's plain interpreter for ${steps} steps of 64 of its training digits and is scored on
${digits} held-out training digits (${summary.digits.scored}) and ${pairs.length} mixtures of held-out digits.

| configuration (maskIn / maskOut / sparsity / piqWeight / lr) | FF ↑ | deletion AUC ↓ | Fid-In ↑ | AD ↓ | SPS ↑ | mask-in FF ↓ | overlap kept ↑ | fine-tune s |
|---|---|---|---|---|---|---|---|---|
${rows.map((r) => line(r.config ? `${r.config.maskIn} / ${r.config.maskOut} / ${r.config.sparsity} / ${r.config.piqWeight} / ${r.config.learningRate}` : 'plain PIQ (no fine-tuning)', r.scores, r.seconds)).join('\n')}
${Object.entries(baselines).map(([n, m]) => line(`*${n}*`, m, null).replace('| cached |', '| — |')).join('\n')}
`;
  writeFileSync(join(outDir, 'finetune-sweep.md'), md);
  process.stdout.write(md);
  tf.dispose([x, mix]);
  classifier.dispose();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
