// The MNIST PIQ interpreters the benchmarks score, trained once and cached in .cache/:
// the demo's plain interpreter (`npm run bench:quality`, `npm run bench:finetune-sweep`) and its
// faithfulness fine-tuning (Interpreter.finetune).
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { createInterpreter, loadInterpreter, type FinetuneOptions, type Interpreter } from 'piq-tfjs';
import { fileSystem } from 'piq-tfjs/node';
import type { MnistSplit } from '../examples/mnist/mnist-data';
import { MNIST_INTERPRETER_SETTINGS } from '../examples/mnist/classifier';
import { log, progressBar } from '../examples/shared/cli';

/** A hash of the classifier's weights: a retrained classifier never reuses an interpreter trained on another one. */
export function classifierHash(classifier: tfl.LayersModel): string {
  const hash = createHash('sha256');
  for (const w of classifier.getWeights()) hash.update(new Uint8Array((w.dataSync() as Float32Array).slice().buffer));
  return hash.digest('hex').slice(0, 12);
}

export interface PlainPiqOptions {
  samples: number;
  epochs: number;
  learningRate: number;
  retrain: boolean;
}

/** Where the demo's plain interpreter for these settings is cached. */
export function plainPiqDir(classifier: tfl.LayersModel, o: PlainPiqOptions): string {
  return resolve('.cache', `mnist-piq-${o.samples}-${o.epochs}-lr${o.learningRate}-classifier-${classifierHash(classifier)}`);
}

/** Loads the demo's plain PIQ interpreter from the cache, or trains it on the first `samples` training digits and caches it. */
export async function loadOrTrainInterpreter(
  classifier: tfl.LayersModel,
  train: MnistSplit,
  o: PlainPiqOptions,
): Promise<{ interpreter: Interpreter; trainSeconds: number | null; dir: string }> {
  const dir = plainPiqDir(classifier, o);
  if (!o.retrain && existsSync(join(dir, 'model.json'))) {
    const interpreter = await loadInterpreter(fileSystem(dir), { classifier });
    log(`interpreter: loaded from ${dir}`);
    return { interpreter, trainSeconds: null, dir };
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
  return { interpreter, trainSeconds: history.seconds, dir };
}

/** The fine-tuning settings of the benchmark: which training digits, and the finetune options. */
export interface FinetuneRun {
  /** Training digits `[0, samples)` (the plain interpreter's own training digits). */
  samples: number;
  options: FinetuneOptions;
}

function finetuneKey(run: FinetuneRun): string {
  const o = run.options;
  const parts = [run.samples, o.maxSteps ?? 'all', o.epochs ?? 'd', o.learningRate ?? 'd', o.maskIn ?? 'd', o.maskOut ?? 'd', o.sparsity ?? 'd', o.piqWeight ?? 'd', o.batchSize ?? 'd'];
  return parts.join('-');
}

/**
 * Loads the plain interpreter cached in `plainDir`, fine-tunes it with `run` (or loads that
 * fine-tuning from the cache) and returns it with the fine-tuning's wall time (null when cached).
 */
export async function loadOrFinetune(
  classifier: tfl.LayersModel,
  plainDir: string,
  train: MnistSplit,
  run: FinetuneRun,
  retrain = false,
): Promise<{ interpreter: Interpreter; finetuneSeconds: number | null; steps: number | null }> {
  const dir = `${plainDir}-finetuned-${finetuneKey(run)}`;
  if (!retrain && existsSync(join(dir, 'model.json'))) {
    const interpreter = await loadInterpreter(fileSystem(dir), { classifier });
    log(`fine-tuned interpreter: loaded from ${dir}`);
    return { interpreter, finetuneSeconds: null, steps: null };
  }
  const interpreter = await loadInterpreter(fileSystem(plainDir), { classifier });
  const xs = tf.tensor4d(train.images.subarray(0, run.samples * 784), [run.samples, 28, 28, 1]);
  const total = run.options.maxSteps ?? Math.ceil(run.samples / (run.options.batchSize ?? 64)) * (run.options.epochs ?? 1);
  const bar = progressBar('fine-tuning', total);
  const history = await interpreter.finetune(xs, {
    verbose: 0, // this script draws its own progress bar
    batchSize: 64,
    logEvery: 5,
    ...run.options,
    onProgress: (p) => bar.set(p.step, `loss ${p.loss.total?.toFixed(3)} keep ${p.loss['finetune.keep']?.toFixed(3)} remove ${p.loss['finetune.remove']?.toFixed(3)}`),
  });
  bar.done();
  xs.dispose();
  await interpreter.save(fileSystem(dir));
  log(`fine-tuned in ${history.seconds.toFixed(1)} s (${history.steps} steps), cached in ${dir}`);
  return { interpreter, finetuneSeconds: history.seconds, steps: history.steps };
}
