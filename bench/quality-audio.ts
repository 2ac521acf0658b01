// `npm run bench:audio [-- --quick] [-- --ablation]`: PIQ and the baseline attribution methods on
// log1p spectrograms of two audio tasks, through the same metrics and the same overlap test.
//
// Tasks: FSDD (real spoken digits) and the synthesised spoken commands (examples/audio-commands,
// generated on first use; the project never tunes on it). For each task one classifier (the audio
// example's CNN, cached in .cache/audio-bench/) is trained; every method explains the same test clips.
// Methods: PIQ under named settings (bench/audio/settings.ts), Saliency, SmoothGrad, Integrated
// Gradients, Grad-CAM and Occlusion (library defaults), and two reference masks that are not methods
// (the input itself, and PIQ's training target). Scores: AI, AD, AG, FF, Fid-In, SPS, COMP, deletion /
// insertion AUC, IoU with the energy target, mask statistics, and the overlap test: two test clips of
// different classes mixed at a controlled SNR; each method's mask on the mixture is played back
// (inverse STFT with the mixture's phase), re-analysed and re-classified.
//
// Main mode writes bench/results/quality-audio-latest.{json,md}; --ablation runs the PIQ settings
// only (default: all of them, on FSDD) and writes bench/results/audio-ablation-latest.{json,md}.
// Quick runs write *-quick.{json,md} instead, and runs on other tasks than the mode's default add the
// task names (audio-ablation-commands-latest.*) and multi-seed runs the seeds (…-seeds0-1-2-latest.*),
// so they never overwrite a default full run's results.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import {
  createAttributionMethod,
  createInterpreter,
  energyMask,
  loadInterpreter,
  piqAttribution,
  toClassifierAdapter,
  type AttributionMethod,
  type AttributionMethodName,
  type ClassifierAdapter,
  type ClassifierInput,
  type Interpreter,
} from 'piq-tfjs';
import { addChannelAxis, encodeWav, interpretationToWaveform, spectrogram } from 'piq-tfjs/audio';
import { fileSystem } from 'piq-tfjs/node';
import { loadOrTrainClassifier } from '../examples/audio-digits/classifier';
import { mixAtSnr, overlapPairs, peakNormalize } from '../examples/audio-digits/dataset';
import { SPECTROGRAM_OPTIONS, spectrogramImages } from '../examples/audio-digits/features';
import { log, parseArgs, pickBackend, progressBar } from '../examples/shared/cli';
import { maskValueStatistics, mean, pct, type MaskValueStatistics } from '../examples/shared/stats';
import { ABLATION_SETTINGS, MAIN_SETTINGS, findSetting, interpreterOptions, registerBenchExtensions, type AudioSetting } from './audio/settings';
import { TASK_NAMES, loadTask, SAMPLE_RATE, type AudioTask, type TaskName } from './audio/tasks';
import { readRow, rowKey, writeRow } from './audio/row-cache';
import { scoreMetrics, timedExplain, type MetricScores } from './score';

const HELP = `npm run bench:audio -- [options]
  --quick                  fewer clips, epochs and mixtures (a few minutes; same code path)
  --ablation               PIQ settings only, on FSDD by default; writes audio-ablation-*.{json,md}
  --tasks <list>           fsdd,commands (default: both; ablation: fsdd); other lists add their names to the file names
  --settings <list>        PIQ settings (default: ${MAIN_SETTINGS.join(',')}; ablation: all = ${ABLATION_SETTINGS.join(',')})
  --baselines <list|none>  baseline methods (default: all five; ablation: none)
  --fsdd <dir>             FSDD recordings (default ../shared/data/fsdd/recordings)
  --commands <dir>         generated commands dataset (default .cache/audio-commands; generated if absent)
  --clips <n>              scored test clips per task, evenly spaced (default 300; quick 80)
  --train-clips <n>        training clips, evenly spaced (default all; quick 800)
  --classifier-epochs <n>  classifier epochs (default 6; quick 3)
  --epochs <n>             PIQ epochs, overriding every setting's (default: the setting's, 3; quick 2)
  --pairs <n>              overlap mixtures per SNR (default 150; quick 30)
  --snr <list>             mixture SNRs in dB, dominant clip over the other (default 0,6)
  --wavs <n>               mixtures per SNR written as WAV for listening (default 3)
  --steps <n>              deletion / insertion steps (default 20)
  --batch <n>              explain batch size (default 32)
  --seed <n>               seed of the classifier, the pairs and (by default) the interpreters (default 0)
  --piq-seeds <list>       interpreter seeds; with several, each setting is trained once per seed and the
                           tables show mean ± standard deviation (default: --seed)
  --backend <name>         wasm | cpu (default wasm)
  --out <dir>              results folder (default bench/results)
  --listen <dir>           WAV folder (default out/bench-audio)
  --tag <name>             added to the result file names (runs of other setting lists than the mode's default
                           must name themselves, so they never overwrite a default run's results)
  --rescore                score every method again instead of reusing rows cached by an earlier run with the
                           same classifier, clips, mixtures and scoring options (.cache/audio-bench/rows)
  --retrain                ignore cached classifiers, interpreters and rows`;
const FLAGS = { quick: 'boolean', ablation: 'boolean', tasks: 'string', settings: 'string', baselines: 'string', fsdd: 'string', commands: 'string', clips: 'string', 'train-clips': 'string', 'classifier-epochs': 'string', epochs: 'string', pairs: 'string', snr: 'string', wavs: 'string', steps: 'string', batch: 'string', seed: 'string', 'piq-seeds': 'string', backend: 'string', out: 'string', listen: 'string', tag: 'string', rescore: 'boolean', retrain: 'boolean' } as const;

const CACHE = resolve('.cache', 'audio-bench');
const ROW_CACHE = join(CACHE, 'rows');
const BASELINES: readonly AttributionMethodName[] = ['saliency', 'smoothGrad', 'integratedGradients', 'gradCam', 'occlusion'];
/** The energy target of the reference recipe, used for IoU and as a reference mask. */
const REFERENCE_TAU = 0.35;

type MaskStats = MaskValueStatistics;

interface OverlapScores {
  snrDb: number;
  pairs: number;
  /** argmax f(M ⊙ X_mix) = argmax f(X_mix). */
  keptSpectrogram: number;
  /** argmax f(STFT(peak-normalised ISTFT(M ⊙ X_mix, phase))) = argmax f(X_mix). */
  keptPlayback: number;
  /** The played-back interpretation is classified as the dominant clip's true label. */
  playbackIsDominant: number;
}

interface MethodResult {
  /** 'piq-seed': one seed of a multi-seed setting (in the JSON; the tables show the 'piq' mean over seeds). */
  kind: 'piq' | 'piq-seed' | 'baseline' | 'reference';
  setting?: AudioSetting;
  /** PIQ: the interpreter seed(s). */
  seeds?: number[];
  /** Multi-seed PIQ rows: the sample standard deviation over seeds of the scores and of the overlap shares. */
  sd?: { scores: Record<string, number>; keptPlayback: number[]; keptSpectrogram: number[] };
  scores: MetricScores & { maskIoU?: number };
  mask: MaskStats;
  overlap: OverlapScores[];
  msPerExplanation: number;
  /** When the row was scored; `reused`: taken from the row cache (an earlier run with the same key), not scored by this run. */
  scoredAt?: string;
  reused?: boolean;
  interpreter?: { trainSeconds: number | null; cached: boolean; codeShape: number[]; codebookSize: number; trainableParams: number; finalLoss: Record<string, number> | null };
}

interface Mixtures {
  snrDb: number;
  pairs: Array<[number, number]>;
  waves: Float32Array[];
  magnitude: tf.Tensor3D;
  phase: tf.Tensor3D;
  x: tf.Tensor4D;
  predicted: Int32Array;
  predictsDominant: number;
  predictsOther: number;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const args = parseArgs(argv, FLAGS, HELP);
  const quick = args.flag('quick');
  const ablation = args.flag('ablation');
  const list = (k: 'tasks' | 'settings' | 'baselines' | 'piq-seeds', d: readonly string[]) => {
    const v = args.string(k, '');
    return v === '' ? [...d] : v === 'none' ? [] : v.split(',').map((s) => s.trim()).filter(Boolean);
  };
  const tasks = list('tasks', ablation ? ['fsdd'] : TASK_NAMES) as TaskName[];
  for (const t of tasks) if (!TASK_NAMES.includes(t)) throw new Error(`--tasks: unknown task '${t}'; known: ${TASK_NAMES.join(', ')}`);
  const settings = list('settings', ablation ? ABLATION_SETTINGS : MAIN_SETTINGS).map(findSetting);
  const baselines = list('baselines', ablation ? [] : BASELINES) as AttributionMethodName[];
  for (const b of baselines) if (!BASELINES.includes(b)) throw new Error(`--baselines: unknown method '${b}'; known: ${BASELINES.join(', ')} or none`);
  const o = {
    clips: args.int('clips', quick ? 80 : 300),
    trainClips: args.int('train-clips', quick ? 800 : Number.MAX_SAFE_INTEGER),
    classifierEpochs: args.int('classifier-epochs', quick ? 3 : 6),
    epochs: args.string('epochs', '') === '' ? (quick ? 2 : undefined) : args.int('epochs', 3),
    pairs: args.int('pairs', quick ? 30 : 150),
    snrs: args.string('snr', '0,6').split(',').map(Number),
    wavs: Number(args.string('wavs', '3')),
    steps: args.int('steps', 20),
    batch: args.int('batch', 32),
    seed: Number(args.string('seed', '0')),
  };
  if (o.snrs.some((s) => !Number.isFinite(s))) throw new Error(`--snr must be a comma-separated list of numbers (dB), got ${args.string('snr', '')}`);
  if (!Number.isInteger(o.seed) || o.seed < 0) throw new Error(`--seed must be a non-negative integer, got ${args.string('seed', '')}`);
  const piqSeeds = list('piq-seeds', [String(o.seed)]).map(Number);
  if (piqSeeds.length === 0 || piqSeeds.some((v) => !Number.isInteger(v) || v < 0)) throw new Error(`--piq-seeds must be a comma-separated list of non-negative integers, got ${args.string('piq-seeds', '')}`);
  if (!Number.isInteger(o.wavs) || o.wavs < 0) throw new Error(`--wavs must be a non-negative integer, got ${args.string('wavs', '')}`);
  const dirs: Record<TaskName, string> = {
    fsdd: args.string('fsdd', '../shared/data/fsdd/recordings'),
    commands: args.string('commands', '.cache/audio-commands'),
  };
  const retrain = args.flag('retrain');
  const rescore = args.flag('rescore');
  const tag = args.optional('tag');
  if (args.optional('settings') !== undefined && tag === undefined && list('settings', []).join(',') !== (ablation ? ABLATION_SETTINGS : MAIN_SETTINGS).join(',')) {
    throw new Error(`--settings other than the mode's default list needs --tag <name>, so the results do not overwrite the default run's files\n${HELP}`);
  }
  if (tag !== undefined && !/^[a-z0-9-]+$/.test(tag)) throw new Error(`--tag must be lower-case letters, digits and '-', got ${tag}`);
  const outDir = resolve(args.string('out', 'bench/results'));
  const listenDir = resolve(args.string('listen', 'out/bench-audio'));
  const t0 = Date.now();
  const backend = await pickBackend(args.string('backend', 'wasm'));
  log(`backend: ${backend}`);
  registerBenchExtensions();
  mkdirSync(outDir, { recursive: true });

  const taskResults: Record<string, unknown> = {};
  for (const name of tasks) {
    const tt = Date.now();
    const task = await loadTask(name, dirs[name], { maxTrain: o.trainClips, maxTest: o.clips });
    log(`${name}: ${task.trainClips.length} training clips, ${task.testClips.length} scored test clips (of ${task.testSplitSize}); labels ${task.labels.join(' ')}`);
    const { classifier, dir: classifierDir } = await loadOrTrainClassifier(CACHE, name, task.trainX, task.trainY, {
      numClasses: task.labels.length,
      epochs: o.classifierEpochs,
      seed: o.seed,
      retrain,
    });
    const adapter = toClassifierAdapter(classifier, { featureLayer: 'features' });
    const testPred = predictClasses(adapter, task.testX);
    const accuracy = mean(Array.from(task.testY, (y, i) => (testPred[i] === y ? 1 : 0)));
    log(`${name}: classifier accuracy on the scored test clips ${pct(accuracy)}`);
    const pairs = overlapPairs(task.testY, o.pairs, o.seed + 1);
    const mixtures = o.snrs.map((snr) => buildMixtures(task, adapter, pairs, snr));
    const energyTarget = tf.tidy(() => tf.squeeze(energyMask({ threshold: REFERENCE_TAU }).compute(task.testX, { predictedClass: tf.tensor1d(testPred, 'int32') }), [3]));

    type MethodEntry = { name: string; kind: MethodResult['kind']; method: AttributionMethod; cacheId: string; setting?: AudioSetting; seed?: number; interpreter?: Interpreter; info?: MethodResult['interpreter'] };
    const methods: MethodEntry[] = [];
    for (const s of settings) {
      const setting = o.epochs === undefined ? s : { ...s, epochs: o.epochs };
      for (const seed of piqSeeds) {
        const { interpreter, info, dir } = await loadOrTrainInterpreter(name, setting, classifier, classifierDir, task.trainX, seed, retrain);
        const multi = piqSeeds.length > 1;
        methods.push({ name: multi ? `piq:${s.name}#${seed}` : `piq:${s.name}`, kind: multi ? 'piq-seed' : 'piq', method: piqAttribution(interpreter), cacheId: basename(dir), setting, seed, interpreter, info });
      }
    }
    for (const b of baselines) methods.push({ name: b, kind: 'baseline', method: createAttributionMethod(b, adapter), cacheId: `baseline:${b}` });
    for (const method of [allOnes(), inputAsMask(), energyTargetMask(adapter)]) methods.push({ name: method.name, kind: 'reference', method, cacheId: `reference:${method.name}` });
    // What every row of this task depends on besides the method (see bench/audio/row-cache.ts).
    const scoring = { task: name, classifier: basename(classifierDir), clips: task.testClips.map((c) => basename(c.path)), pairs, snrs: o.snrs, steps: o.steps, referenceTau: REFERENCE_TAU };

    const results: Record<string, MethodResult> = {};
    for (const m of methods) {
      const tm = Date.now();
      const key = rowKey({ ...scoring, method: m.cacheId });
      const cached = retrain || rescore ? null : readRow<MethodResult>(ROW_CACHE, name, m.name, key);
      if (cached) {
        // The row's interpreter facts (train time, loss) come from this run's cache lookup; the scores from the cached row.
        results[m.name] = { ...cached.row, scoredAt: cached.scoredAt, reused: true, ...(m.info ? { interpreter: m.info } : {}) };
        log(`${name} ${m.name}: reused the row scored at ${cached.scoredAt} (FidIn ${pct(cached.row.scores.FidIn)}, FF ${cached.row.scores.FF.toFixed(3)})`);
        continue;
      }
      const { masks, msPerExplanation } = await timedExplain(m.method, task.testX, o.batch);
      const scores = await scoreMetrics(adapter, task.testX, masks, { steps: o.steps, groundTruth: energyTarget });
      const mask = maskValueStatistics((await masks.data()) as Float32Array);
      masks.dispose();
      const overlap: OverlapScores[] = [];
      for (const mix of mixtures) overlap.push(await overlapTest(m.name, m.method, adapter, task, mix, o.batch, o.wavs, listenDir));
      results[m.name] = {
        kind: m.kind,
        ...(m.setting ? { setting: m.setting, seeds: [m.seed as number] } : {}),
        scores,
        mask,
        overlap,
        msPerExplanation,
        scoredAt: new Date().toISOString(),
        ...(m.info ? { interpreter: m.info } : {}),
      };
      writeRow(ROW_CACHE, name, m.name, key, results[m.name], results[m.name]?.scoredAt as string);
      log(
        `${name} ${m.name}: FidIn ${pct(scores.FidIn)}, FF ${scores.FF.toFixed(3)}, AD ${scores.AD.toFixed(1)}, deletion AUC ${scores.deletionAUC.toFixed(3)}, ` +
          `overlap kept (playback) ${overlap.map((v) => `${v.snrDb} dB ${pct(v.keptPlayback)}`).join(', ')} (${((Date.now() - tm) / 1000).toFixed(1)} s)`,
      );
    }
    // Several interpreter seeds: each setting's mean row goes just before its per-seed rows.
    const ordered: Record<string, MethodResult> = {};
    for (const [key, r] of Object.entries(results)) {
      const base = key.replace(/#\d+$/, '');
      if (r.kind === 'piq-seed' && !(base in ordered)) ordered[base] = meanOverSeeds(piqSeeds.map((seed) => results[`${base}#${seed}`] as MethodResult));
      ordered[key] = r;
    }
    taskResults[name] = {
      description: task.description,
      labels: task.labels,
      trainClips: task.trainClips.length,
      scoredTestClips: task.testClips.length,
      testSplitSize: task.testSplitSize,
      trainSpeakers: task.trainSpeakers,
      testSpeakers: task.testSpeakers,
      source: task.source,
      classifier: { cache: basename(classifierDir), epochs: o.classifierEpochs, accuracyOnScoredClips: accuracy },
      energyTargetDensity: mean((await energyTarget.data()) as Float32Array),
      mixtures: mixtures.map((mx) => ({ snrDb: mx.snrDb, pairs: mx.pairs.length, classifierPredictsDominant: mx.predictsDominant, classifierPredictsOther: mx.predictsOther })),
      methods: ordered,
      seconds: (Date.now() - tt) / 1000,
    };
    for (const m of methods) m.interpreter?.dispose();
    for (const mx of mixtures) tf.dispose([mx.magnitude, mx.phase, mx.x]);
    tf.dispose([energyTarget, task.trainX, task.testX]);
    classifier.dispose();
  }

  const seconds = (Date.now() - t0) / 1000;
  const summary = {
    kind: ablation ? 'ablation' : 'quality',
    command: `npm run bench:audio${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
    date: new Date().toISOString(),
    backend,
    quick,
    options: { ...o, piqSeeds, settings: settings.map((s) => s.name), baselines },
    settings: Object.fromEntries(settings.map((s) => [s.name, s])),
    notes: {
      masking: "mask-in M ⊙ X, mask-out (1 − M) ⊙ X on the log1p spectrogram, single softmax; PIQ masks as produced, baselines min-max normalised per clip (library defaults: smoothGrad 25 samples, noise 0.15; integratedGradients 50 steps, zero baseline; occlusion window 8, stride 8, fill 0)",
      curves: `deletion / insertion: ${o.steps} steps towards 0 (silence in log1p)`,
      iou: `maskIoU: mask ≥ 0.5 against the energy target T = 1[X > ${REFERENCE_TAU} · max X]`,
      overlap:
        'two scored test clips of different classes (same pairs at every SNR), a + g·b with g setting the dominant clip a at the SNR over b (mean power over the 1 s clip), peak-normalised; ' +
        'keptSpectrogram: argmax f(M ⊙ X_mix) = argmax f(X_mix); keptPlayback: the interpretation played back (|Y| = expm1(M ⊙ X_mix), mixture phase, inverse STFT), peak-normalised, re-analysed and re-classified = argmax f(X_mix)',
      references: 'all-ones (M = 1), input-as-mask (M = X / max X) and the energy target (M = T) are not methods: they show what the trivial mask, a mask that keeps the input, or PIQ\'s training target itself scores',
    },
    tasks: taskResults,
    seconds,
  };
  // Runs on other tasks than the mode's default get their own file names (never overwriting the default run's).
  const defaultTasks = ablation ? ['fsdd'] : [...TASK_NAMES];
  const taskSuffix = tasks.join(',') === defaultTasks.join(',') ? '' : `-${tasks.join('-')}`;
  const seedSuffix = piqSeeds.length > 1 ? `-seeds${piqSeeds.join('-')}` : '';
  const stem = `${ablation ? 'audio-ablation' : 'quality-audio'}${taskSuffix}${seedSuffix}${tag ? `-${tag}` : ''}-${quick ? 'quick' : 'latest'}`;
  const markdown = ablation ? ablationMarkdown(summary) : qualityMarkdown(summary);
  writeFileSync(join(outDir, `${stem}.json`), `${JSON.stringify(summary, null, 2)}\n`);
  writeFileSync(join(outDir, `${stem}.md`), markdown);
  process.stdout.write(markdown);
  log(`done in ${seconds.toFixed(0)} s: ${outDir}/${stem}.{json,md}; WAVs in ${listenDir}`);
}

// ---- methods that are not attribution methods: reference masks through the same interface

/**
 * A reference mask (a function of the input batch, not an attribution method) behind the
 * `AttributionMethod` interface, so it goes through the same scoring and overlap code.
 */
function referenceMask(name: string, masksOf: (x: tf.Tensor4D) => tf.Tensor3D): AttributionMethod {
  const explainTensors = async (x: ClassifierInput) => {
    if (!(x instanceof tf.Tensor) || x.rank !== 4) throw new Error(`${name}: expects a [batch, h, w, 1] tensor`);
    return tf.tidy(() => masksOf(x as tf.Tensor4D));
  };
  return {
    name,
    explainTensors,
    explain: async (x) => {
      const m = await explainTensors(x);
      const [batch, h, w] = m.shape;
      const mask = (await m.data()) as Float32Array;
      m.dispose();
      return { batch, maskShape: [h, w], mask, example: (i: number) => ({ mask: mask.subarray(i * h * w, (i + 1) * h * w) }) };
    },
  };
}

/** M = 1 everywhere: keeps everything (Fid-In and FF of the unmasked clip, no sparsity) — the trivial mask. */
const allOnes = () => referenceMask('all-ones', (x) => tf.ones([x.shape[0], x.shape[1], x.shape[2]]) as tf.Tensor3D);

/** M = X / max X per clip: a mask that keeps the input's own loudness. */
const inputAsMask = () =>
  referenceMask('input-as-mask', (x) => {
    const m = tf.squeeze(x, [3]) as tf.Tensor3D;
    return tf.div(m, tf.maximum(tf.max(m, [1, 2], true), 1e-12)) as tf.Tensor3D;
  });

/** M = T, PIQ's training target (energy threshold τ of the clip maximum). */
const energyTargetMask = (adapter: ClassifierAdapter) =>
  referenceMask(`energy-target-${REFERENCE_TAU}`, (x) => {
    const cls = tf.argMax(adapter.logits(x), -1) as tf.Tensor1D;
    return tf.squeeze(energyMask({ threshold: REFERENCE_TAU }).compute(x, { predictedClass: cls }), [3]) as tf.Tensor3D;
  });

// ---- PIQ interpreters, cached per (task, setting, classifier)

async function loadOrTrainInterpreter(
  task: string,
  s: AudioSetting,
  classifier: tfl.LayersModel,
  classifierDir: string,
  trainX: tf.Tensor4D,
  seed: number,
  retrain: boolean,
): Promise<{ interpreter: Interpreter; info: NonNullable<MethodResult['interpreter']>; dir: string }> {
  const key = createHash('sha256').update(JSON.stringify({ s, trainClips: trainX.shape[0], seed, v: 1 })).digest('hex').slice(0, 12);
  const dir = join(CACHE, `${task}-piq-${s.name}-${key}-${basename(classifierDir)}`);
  const metaPath = join(dir, 'bench-meta.json');
  const describe = (interpreter: Interpreter, trainSeconds: number | null, finalLoss: Record<string, number> | null, cached: boolean) => {
    const sum = interpreter.summary();
    return { trainSeconds, cached, codeShape: [...sum.codeShape], codebookSize: sum.codebookSize, trainableParams: sum.trainableParams, finalLoss };
  };
  if (!retrain && existsSync(join(dir, 'model.json')) && existsSync(metaPath)) {
    const interpreter = await loadInterpreter(fileSystem(dir), { classifier });
    const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as { trainSeconds: number; finalLoss: Record<string, number> | null };
    log(`piq:${s.name}: loaded from ${dir}`);
    return { interpreter, info: describe(interpreter, meta.trainSeconds, meta.finalLoss, true), dir };
  }
  // A fine-tuned setting starts from its base setting's interpreter (trained or loaded from the cache).
  const base = s.finetuneOf === undefined ? undefined : await loadOrTrainInterpreter(task, { ...findSetting(s.finetuneOf), epochs: s.epochs }, classifier, classifierDir, trainX, seed, retrain);
  const interpreter = base?.interpreter ?? (await createInterpreter(interpreterOptions(s, classifier, seed)));
  const epochs = base ? 1 : s.epochs;
  const steps = Math.ceil((trainX.shape[0] as number) / s.batchSize);
  const phase = base ? 'finetune' : 'epoch';
  let bar = progressBar(`piq:${s.name} ${phase} 1/${epochs}`, steps);
  let finalLoss: Record<string, number> | null = null;
  const progress = {
    verbose: 0 as const, // this script draws its own progress bar
    batchSize: s.batchSize,
    seed,
    logEvery: 10,
    onProgress: (p: { batch: number; loss: Record<string, number>; perplexity: number }) => {
      finalLoss = p.loss;
      bar.set(p.batch, `loss ${p.loss.total?.toFixed(3)} perplexity ${p.perplexity.toFixed(1)}`);
    },
    onEpochEnd: (e: { epoch: number }) => {
      bar.done();
      if (e.epoch + 1 < epochs) bar = progressBar(`piq:${s.name} ${phase} ${e.epoch + 2}/${epochs}`, steps);
    },
  };
  // Fine-tuning: Interpreter.finetune with its own defaults (one epoch, its learning rate and term weights).
  const history = base ? await interpreter.finetune(trainX, progress) : await interpreter.fit(trainX, { ...progress, epochs: s.epochs, learningRate: s.learningRate });
  const trainSeconds = history.seconds + (base?.info.trainSeconds ?? 0);
  await interpreter.save(fileSystem(dir));
  writeFileSync(metaPath, JSON.stringify({ trainSeconds, finalLoss }, null, 2));
  log(`piq:${s.name}: trained in ${history.seconds.toFixed(1)} s${base ? ` (fine-tuning; ${trainSeconds.toFixed(1)} s with its base)` : ''}, cached in ${dir}`);
  return { interpreter, info: describe(interpreter, trainSeconds, finalLoss, false), dir };
}

// ---- overlap test

function predictClasses(adapter: ClassifierAdapter, x: tf.Tensor4D, chunk = 64): Int32Array {
  const n = x.shape[0];
  const out = new Int32Array(n);
  for (let s = 0; s < n; s += chunk) {
    const b = Math.min(chunk, n - s);
    const cls = tf.tidy(() => tf.argMax(adapter.logits(tf.slice(x, s, b)), -1).dataSync() as Int32Array);
    out.set(cls, s);
  }
  return out;
}

function buildMixtures(task: AudioTask, adapter: ClassifierAdapter, pairs: Array<[number, number]>, snrDb: number): Mixtures {
  const waves = pairs.map(([a, b]) => peakNormalize(mixAtSnr(task.testWaves[a] as Float32Array, task.testWaves[b] as Float32Array, snrDb)));
  const flat = new Float32Array(waves.length * (waves[0]?.length ?? 0));
  waves.forEach((w, i) => flat.set(w, i * w.length));
  const wave = tf.tensor2d(flat, [waves.length, waves[0]?.length ?? 0]);
  const spec = spectrogram(wave, SPECTROGRAM_OPTIONS);
  wave.dispose();
  const x = addChannelAxis(spec.magnitude) as tf.Tensor4D;
  const predicted = predictClasses(adapter, x);
  const share = (f: (k: number) => boolean) => mean(pairs.map((_, k) => (f(k) ? 1 : 0)));
  return {
    snrDb,
    pairs,
    waves,
    magnitude: spec.magnitude as tf.Tensor3D,
    phase: spec.phase as tf.Tensor3D,
    x,
    predicted,
    predictsDominant: share((k) => predicted[k] === task.testY[(pairs[k] as [number, number])[0]]),
    predictsOther: share((k) => predicted[k] === task.testY[(pairs[k] as [number, number])[1]]),
  };
}

async function overlapTest(
  name: string,
  method: AttributionMethod,
  adapter: ClassifierAdapter,
  task: AudioTask,
  mix: Mixtures,
  batchSize: number,
  wavs: number,
  listenDir: string,
): Promise<OverlapScores> {
  const masks = await method.explainTensors(mix.x, { batchSize });
  const inSpec = tf.tidy(() => tf.mul(mix.x, tf.expandDims(masks, 3)) as tf.Tensor4D);
  const specPred = predictClasses(adapter, inSpec);
  inSpec.dispose();
  const audio = interpretationToWaveform(masks, mix.magnitude, mix.phase, { ...SPECTROGRAM_OPTIONS, length: mix.waves[0]?.length ?? 0, mode: 'reference' });
  masks.dispose();
  const played = audio.arraySync().map((row) => peakNormalize(Float32Array.from(row)));
  audio.dispose();
  const playedX = spectrogramImages(played);
  const playPred = predictClasses(adapter, playedX);
  playedX.dispose();
  const n = mix.pairs.length;
  let keptSpectrogram = 0;
  let keptPlayback = 0;
  let playbackIsDominant = 0;
  for (let k = 0; k < n; k++) {
    if (specPred[k] === mix.predicted[k]) keptSpectrogram++;
    if (playPred[k] === mix.predicted[k]) keptPlayback++;
    if (playPred[k] === task.testY[(mix.pairs[k] as [number, number])[0]]) playbackIsDominant++;
  }
  // WAVs for listening: the mixture, each clip alone, and this method's interpretation (all peak-normalised to 0.9).
  const dir = join(listenDir, task.name, `overlap-${mix.snrDb}dB`);
  mkdirSync(dir, { recursive: true });
  const write = (file: string, w: Float32Array) => writeFileSync(join(dir, file), encodeWav(peakNormalize(w, 0.9), SAMPLE_RATE, { format: 'pcm16' }));
  for (let k = 0; k < Math.min(wavs, n); k++) {
    const [a, b] = mix.pairs[k] as [number, number];
    const stem = `${String(k).padStart(2, '0')}_${task.labels[task.testY[a] as number]}-over-${task.labels[task.testY[b] as number]}`;
    if (!existsSync(join(dir, `${stem}_mixture.wav`))) {
      write(`${stem}_mixture.wav`, mix.waves[k] as Float32Array);
      write(`${stem}_dominant-alone.wav`, task.testWaves[a] as Float32Array);
      write(`${stem}_other-alone.wav`, task.testWaves[b] as Float32Array);
    }
    write(`${stem}_${name.replace(/[^a-zA-Z0-9.-]+/g, '-')}.wav`, played[k] as Float32Array);
  }
  return { snrDb: mix.snrDb, pairs: n, keptSpectrogram: keptSpectrogram / n, keptPlayback: keptPlayback / n, playbackIsDominant: playbackIsDominant / n };
}

// ---- statistics and tables

/** One 'piq' row from the per-seed rows of a setting: means of every number, and the standard deviation of the scores and overlap shares. */
function meanOverSeeds(rows: MethodResult[]): MethodResult {
  const first = rows[0] as MethodResult;
  const avg = (f: (r: MethodResult) => number) => mean(rows.map(f));
  const sd = (f: (r: MethodResult) => number) => {
    const m = avg(f);
    return Math.sqrt(rows.reduce((acc, r) => acc + (f(r) - m) ** 2, 0) / Math.max(1, rows.length - 1));
  };
  const keys = Object.keys(first.scores) as Array<keyof MethodResult['scores']>;
  const train = rows.map((r) => r.interpreter?.trainSeconds).filter((v): v is number => typeof v === 'number');
  return {
    kind: 'piq',
    ...(first.setting ? { setting: first.setting } : {}),
    seeds: rows.flatMap((r) => r.seeds ?? []),
    scores: Object.fromEntries(keys.map((k) => [k, avg((r) => r.scores[k] as number)])) as MethodResult['scores'],
    mask: Object.fromEntries(Object.keys(first.mask).map((k) => [k, avg((r) => r.mask[k as keyof MaskStats])])) as unknown as MaskStats,
    overlap: first.overlap.map((v, i) => ({
      snrDb: v.snrDb,
      pairs: v.pairs,
      keptSpectrogram: avg((r) => (r.overlap[i] as OverlapScores).keptSpectrogram),
      keptPlayback: avg((r) => (r.overlap[i] as OverlapScores).keptPlayback),
      playbackIsDominant: avg((r) => (r.overlap[i] as OverlapScores).playbackIsDominant),
    })),
    msPerExplanation: avg((r) => r.msPerExplanation),
    ...(first.interpreter ? { interpreter: { ...first.interpreter, trainSeconds: train.length ? mean(train) : null, finalLoss: null } } : {}),
    sd: {
      scores: Object.fromEntries(keys.map((k) => [k, sd((r) => r.scores[k] as number)])),
      keptPlayback: first.overlap.map((_, i) => sd((r) => (r.overlap[i] as OverlapScores).keptPlayback)),
      keptSpectrogram: first.overlap.map((_, i) => sd((r) => (r.overlap[i] as OverlapScores).keptSpectrogram)),
    },
  };
}

type Summary = {
  command: string;
  date: string;
  backend: string;
  quick: boolean;
  options: { snrs: number[]; steps: number };
  tasks: Record<string, unknown>;
  seconds: number;
};
type TaskSummary = {
  description: string;
  trainClips: number;
  scoredTestClips: number;
  testSplitSize: number;
  trainSpeakers: string[];
  testSpeakers: string[];
  classifier: { accuracyOnScoredClips: number };
  energyTargetDensity: number;
  mixtures: Array<{ snrDb: number; pairs: number; classifierPredictsDominant: number; classifierPredictsOther: number }>;
  methods: Record<string, MethodResult>;
  seconds: number;
};

const n3 = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '–' : v.toFixed(3));
const n1 = (v: number) => v.toFixed(1);
const rowName = (name: string, r: MethodResult) =>
  `${r.kind === 'reference' ? `*reference: ${name}*` : r.seeds && r.seeds.length > 1 ? `${name} (seeds ${r.seeds.join(', ')})` : name}${r.reused ? ' †' : ''}`;
const maskCell = (m: MaskStats) => `${m.mean.toFixed(3)} / ${m.p99.toFixed(2)} / ${m.max.toFixed(2)} / ${pct(m.fractionAbove05)}`;
/** ` ± sd` in the value's own format, for multi-seed rows. */
const pm = (sd: number | undefined, f: (v: number) => string) => (sd === undefined ? '' : ` ± ${f(sd)}`);
const overlapCell = (r: MethodResult, pick: (v: OverlapScores) => number, sd?: number[]) => r.overlap.map((v, i) => `${pct(pick(v))}${pm(sd?.[i], pct)}`).join(' / ');

function taskHeader(name: string, t: TaskSummary): string {
  const mixes = t.mixtures.map((m) => `${m.snrDb} dB: f(mixture) = dominant ${pct(m.classifierPredictsDominant)}, = other ${pct(m.classifierPredictsOther)}`).join('; ');
  return (
    `## ${name}\n\n${t.description}.\n` +
    `${t.trainClips} training clips (${t.trainSpeakers.length} speakers), ${t.scoredTestClips} scored test clips of ${t.testSplitSize} ` +
    `(${t.testSpeakers.length} speakers${t.testSpeakers.some((s) => t.trainSpeakers.includes(s)) ? ', also in training' : ', none in training'}); ` +
    `classifier accuracy on them ${pct(t.classifier.accuracyOnScoredClips)}. Energy target (τ ${REFERENCE_TAU}) marks ${pct(t.energyTargetDensity)} of the bins. ` +
    `Mixtures (${t.mixtures[0]?.pairs ?? 0} per SNR): ${mixes}.\n\n`
  );
}

/** One line per task: does PIQ (each setting) reach the best baseline's Fid-In and FF, and keep ≥ 80% of mixtures? */
function verdict(t: TaskSummary): string {
  const entries = Object.entries(t.methods);
  const base = entries.filter(([, r]) => r.kind === 'baseline');
  if (base.length === 0) return '';
  const best = (k: 'FidIn' | 'FF') => base.reduce((a, b) => (b[1].scores[k] > a[1].scores[k] ? b : a));
  const [fidName, fid] = best('FidIn');
  const [ffName, ff] = best('FF');
  const lines = entries
    .filter(([, r]) => r.kind === 'piq')
    .map(([name, r]) => {
      const kept = Math.min(...r.overlap.map((v) => v.keptPlayback));
      const ok = (b: boolean) => (b ? 'yes' : 'no');
      return (
        `- ${name}: Fid-In ${pct(r.scores.FidIn)} vs best baseline ${pct(fid.scores.FidIn)} (${fidName}): ${ok(r.scores.FidIn >= fid.scores.FidIn)}; ` +
        `FF ${r.scores.FF.toFixed(3)} vs ${ff.scores.FF.toFixed(3)} (${ffName}): ${ok(r.scores.FF >= ff.scores.FF)}; ` +
        `overlap kept after playback ≥ 80% at every SNR: ${ok(kept >= 0.8)} (lowest ${pct(kept)})`
      );
    });
  return `Issue #18's bar (PIQ ≥ the best baseline on Fid-In and FF, ≥ 80% of mixtures kept):\n${lines.join('\n')}\n\n`;
}

type Column = readonly [header: string, cell: (name: string, r: MethodResult) => string];

const COLUMNS = {
  fidIn: ['Fid-In ↑', (_n, r) => `${pct(r.scores.FidIn)}${pm(r.sd?.scores.FidIn, pct)}`],
  ad: ['AD ↓', (_n, r) => `${n1(r.scores.AD)}${pm(r.sd?.scores.AD, n1)}`],
  ai: ['AI ↑', (_n, r) => n1(r.scores.AI)],
  ag: ['AG ↑', (_n, r) => n1(r.scores.AG)],
  ff: ['FF ↑', (_n, r) => `${n3(r.scores.FF)}${pm(r.sd?.scores.FF, n3)}`],
  sps: ['SPS ↑', (_n, r) => n3(r.scores.SPS)],
  comp: ['COMP ↓', (_n, r) => r.scores.COMP.toFixed(2)],
  deletion: ['deletion AUC ↓', (_n, r) => `${n3(r.scores.deletionAUC)}${pm(r.sd?.scores.deletionAUC, n3)}`],
  insertion: ['insertion AUC ↑', (_n, r) => n3(r.scores.insertionAUC)],
  iou: ['IoU(T) ↑', (_n, r) => n3(r.scores.maskIoU)],
  keptPlayback: ['kept, playback ↑', (_n, r) => overlapCell(r, (v) => v.keptPlayback, r.sd?.keptPlayback)],
  keptSpectrogram: ['kept, spectrogram ↑', (_n, r) => overlapCell(r, (v) => v.keptSpectrogram, r.sd?.keptSpectrogram)],
  mask: ['mask mean / p99 / max / ≥0.5', (_n, r) => maskCell(r.mask)],
  ms: ['ms / clip', (_n, r) => r.msPerExplanation.toFixed(1)],
  train: ['train s', (_n, r) => (r.interpreter?.trainSeconds == null ? '–' : r.interpreter.trainSeconds.toFixed(0))],
  differs: ['what differs from `example`', (_n, r) => r.setting?.description ?? ''],
} satisfies Record<string, Column>;

function tasksMarkdown(s: Summary, first: string, columns: readonly Column[]): string {
  const snrs = `(${s.options.snrs.join(' / ')} dB)`;
  const head = `| ${[first, ...columns.map(([h]) => (h.startsWith('kept') ? h.replace(' ↑', ` ${snrs} ↑`) : h))].join(' | ')} |\n|${'---|'.repeat(columns.length + 1)}\n`;
  return Object.entries(s.tasks as Record<string, TaskSummary>)
    .map(([name, t]) => {
      const rows = Object.entries(t.methods)
        .filter(([, r]) => r.kind !== 'piq-seed')
        .map(([m, r]) => `| ${[rowName(m, r), ...columns.map(([, cell]) => cell(m, r))].join(' | ')} |`);
      return `${taskHeader(name, t)}${head}${rows.join('\n')}\n\n${verdict(t)}`;
    })
    .join('');
}

const REUSED_NOTE =
  'Rows marked † were not scored by this run: they come from the row cache (`bench/audio/row-cache.ts`), scored by an earlier run ' +
  'with the same classifier, clips, mixtures, scoring options and method (the same cached interpreter for PIQ); `scoredAt` in the JSON ' +
  'gives the date, and their ms / clip is that run\'s. Their WAVs are written when they are scored. `--rescore` scores every row again.';

function runLine(s: Summary): string {
  return `\`${s.command}\` on ${s.date} (backend ${s.backend}; ${s.seconds.toFixed(0)} s in all${s.quick ? '; quick run: a smoke test, not results' : ''}).`;
}

function qualityMarkdown(s: Summary): string {
  const c = COLUMNS;
  const body = tasksMarkdown(s, 'method', [c.fidIn, c.ad, c.ai, c.ag, c.ff, c.sps, c.comp, c.deletion, c.insertion, c.iou, c.keptPlayback, c.keptSpectrogram, c.mask, c.ms]);
  return `# Interpretation quality on audio (spectrograms)

${runLine(s)}

${body}Columns: metrics of \`evaluateInterpretations\` on the log1p spectrograms (mask-in \`M ⊙ X\`, mask-out \`(1 − M) ⊙ X\`,
single softmax; AI, AD, AG in %; deletion / insertion ${s.options.steps} steps towards silence). IoU(T): mask ≥ 0.5 against the
energy target \`1[X > ${REFERENCE_TAU}·max X]\`. *Kept, playback*: share of mixtures (two test clips of different classes, the
dominant one at the given SNR) where the method's interpretation, played back with the mixture's phase, peak-normalised and
re-classified, gets the class the classifier gave the mixture; *kept, spectrogram*: the same on \`M ⊙ X_mix\` directly.
PIQ masks are used as produced; baseline masks are min-max normalised per clip (library defaults). *ms / clip*: \`explain\`
wall time on a shared 2-core machine (PIQ's excludes its training). Rows in italics are reference masks, not methods.
WAVs of the first mixtures and each method's interpretation are written to \`out/bench-audio/<task>/overlap-<snr>dB/\`.
${REUSED_NOTE}
`;
}

function ablationMarkdown(s: Summary): string {
  const c = COLUMNS;
  const body = tasksMarkdown(s, 'setting', [c.fidIn, c.ad, c.ai, c.ff, c.deletion, c.insertion, c.keptPlayback, c.keptSpectrogram, c.iou, c.sps, c.comp, c.mask, c.train, c.differs]);
  return `# Audio PIQ ablation

${runLine(s)}
Each row is one named setting (bench/audio/settings.ts) trained on the same classifier and scored on the same clips and
mixtures with the same code as \`npm run bench:audio\`. With one interpreter seed per setting, differences of a few
points are within seed noise; \`--piq-seeds 0,1,2\` trains each setting per seed and shows mean ± standard deviation.

${body}Columns as in quality-audio-latest.md. *train s*: interpreter training wall time on a shared 2-core machine.
${REUSED_NOTE}
`;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
