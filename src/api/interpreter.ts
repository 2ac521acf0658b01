import * as tf from '@tensorflow/tfjs-core';
import { checkInputBatch } from '../classifier/input-check';
import type { ClassifierAdapter } from '../classifier/types';
import type { InterpreterDecoderConfig } from '../decoder/decoder-config';
import { PiqInputError } from '../errors';
import { assertLive, describe, positiveInt } from '../internal/checks';
import { tidyObject } from '../internal/tensor-checks';
import { writeArtifact, type SaveDestination } from '../io/artifact';
import type { LossSpec } from '../losses/registry';
import type { VectorQuantizerConfig } from '../quantizer/vector-quantizer-options';
import type { DataSource } from '../training/data';
import { finetuningModel, resolveFinetune, type FinetuneOptions, type FinetuneWeights } from '../training/finetune';
import type { FitHistory, FitOptions } from '../training/fit-options';
import type { InterpreterMode, OutputActivation, PiqModel } from '../training/piq-model';
import { Trainer } from '../training/trainer';
import { VERSION } from '../version';

/**
 * The resolved, JSON configuration of an interpreter (what `save` writes besides the weights).
 * @category Interpreter
 */
export interface InterpreterConfig {
  mode: InterpreterMode;
  /** The decoder's output head; absent means `'sigmoid'` (written only for `'softplus'`). */
  outputActivation?: OutputActivation;
  numClasses: number;
  inputShape: number[];
  featureShape: [number, number, number];
  featureLayer: string | null;
  decoder: InterpreterDecoderConfig;
  quantizer: VectorQuantizerConfig;
  target: { name: string; config: Record<string, unknown> };
  losses: LossSpec[];
  /** The fine-tunings applied ({@link Interpreter.finetune}), oldest first; absent when none. */
  finetuned?: FinetuneRecord[];
}

/**
 * One {@link Interpreter.finetune} call as recorded in the interpreter's configuration.
 * @category Interpreter
 */
export interface FinetuneRecord extends FinetuneWeights {
  /** Optimizer steps the fine-tuning ran. */
  steps: number;
}

/**
 * Plain-data result of {@link Interpreter.interpret}. Arrays are flat, row-major, example-major;
 * shapes are given alongside. Use {@link InterpretResult.example} for one example's views.
 * @category Interpreter
 */
export interface InterpretResult {
  batch: number;
  /** Input shape `[height, width, channels]`. */
  inputShape: [number, number, number];
  numClasses: number;
  /** The classifier's decision on each input, `[batch]`. */
  predictedClass: Int32Array;
  /** Softmax probabilities, `[batch, numClasses]`. */
  probabilities: Float32Array;
  /** Mask in [0, 1], `[batch, height, width]` (reconstruction mode: the channel mean of the reconstruction; with `reconstruction: 'mse'` its per-example threshold `1[x̂ > 0.35·max x̂]`). */
  mask: Float32Array;
  /** The interpretation, `[batch, height, width, channels]`: `mask ⊙ input`, or the reconstruction. */
  interpretation: Float32Array;
  /** The decoder's reconstruction `[batch, height, width, channels]` in reconstruction mode, else null. */
  reconstruction: Float32Array | null;
  /** The classifier's decision on each interpretation, `[batch]` (equal to `predictedClass` where the interpretation is faithful). */
  interpretationClass: Int32Array;
  /** Chosen codebook rows, `[batch, codeHeight, codeWidth]`. */
  codeIndices: Int32Array;
  codeShape: [number, number];
  /** Views of example `i` (subarrays; no copies). */
  example(i: number): {
    predictedClass: number;
    probabilities: Float32Array;
    mask: Float32Array;
    interpretation: Float32Array;
    reconstruction: Float32Array | null;
    interpretationClass: number;
    codeIndices: Int32Array;
  };
}

/**
 * Options of {@link Interpreter.interpret}.
 * @category Interpreter
 */
export interface InterpretOptions {
  /** Examples per internal chunk (bounds memory for large inputs). @defaultValue 64 */
  batchSize?: number;
}

/**
 * A trained (or trainable) PIQ interpreter for one classifier: the object application code holds.
 * `fit` trains it, `interpret` returns plain data, `save`/{@link loadInterpreter} persist it. The
 * classifier is never trained, mutated, disposed or saved. Researchers reach the parts through
 * {@link Interpreter.model}.
 *
 * @example
 * ```ts
 * import { createInterpreter, loadInterpreter } from 'piq-tfjs';
 * import { fileSystem } from 'piq-tfjs/node';
 * const interpreter = await createInterpreter({ classifier: model });
 * await interpreter.fit(images, { epochs: 3 });
 * const r = await interpreter.interpret(images);
 * console.log(r.predictedClass[0], r.interpretationClass[0]); // 7 7  (faithful: same decision on the interpretation)
 * await interpreter.save(fileSystem('./out/piq'));
 * interpreter.dispose();
 * const again = await loadInterpreter(fileSystem('./out/piq'), { classifier: model });
 * ```
 * @category Interpreter
 */
export class Interpreter {
  private trainer: Trainer | undefined;
  private disposed = false;
  private readonly finetuned: FinetuneRecord[];

  /** @internal Use {@link createInterpreter} or {@link loadInterpreter}. */
  constructor(
    /** The underlying {@link PiqModel} (decoder, quantizer, target, losses) for researchers. */
    readonly model: PiqModel,
    finetuned: readonly FinetuneRecord[] = [],
  ) {
    this.finetuned = finetuned.map((r) => ({ ...r }));
  }

  /** The classifier as PIQ sees it. */
  get classifier(): ClassifierAdapter {
    return this.model.classifier;
  }

  private check(method: string): void {
    assertLive(this.disposed, 'Interpreter', method, 'interpreter', 'Create or load a new one.');
  }

  /** A short description: tapped layer, shapes, codebook size, mode, parameter count. */
  summary(): { featureLayer: string | null; featureShape: number[]; codeShape: number[]; codebookSize: number; numClasses: number; mode: InterpreterMode; trainableParams: number } {
    this.check('summary');
    return {
      featureLayer: this.model.classifier.featureLayer ?? null,
      featureShape: [...this.model.classifier.featureShape],
      codeShape: [...this.model.decoder.codeShape],
      codebookSize: this.model.quantizer.codebookSize,
      numClasses: this.model.classifier.numClasses,
      mode: this.model.mode,
      trainableParams: this.model.trainableVariables.reduce((n, v) => n + v.size, 0),
    };
  }

  /**
   * Trains the interpreter (never the classifier) on unlabelled inputs: the classifier's own
   * decisions supervise the codebook partition. See {@link FitOptions}; with `checkpoint` the
   * checkpoints also hold the interpreter configuration (so `loadInterpreter` can load them for
   * inference), and `resumeFrom` continues an interrupted run exactly.
   */
  async fit(data: DataSource, options: FitOptions = {}): Promise<FitHistory> {
    this.check('fit');
    // Checkpoints carry the interpreter's configuration, so loadInterpreter can read them too.
    this.trainer ??= new Trainer(this.model, { modelConfig: () => this.getConfig() as unknown as Record<string, unknown> });
    return this.trainer.fit(data, options);
  }

  /**
   * Faithfulness fine-tuning, a second phase after {@link Interpreter.fit}: trains the decoder (and
   * adapter and codebook) on the interpreter's own PIQ losses plus classifier-in-the-loop terms on
   * the decoded mask M — the classifier keeps its decision on `M ⊙ x` (`maskIn`), loses it on
   * `(1 − M) ⊙ x` (`maskOut`), and M stays small (`sparsity`); see {@link faithfulnessTerm}. The
   * class-restricted codebook is kept, so interpretations stay class-specific. The classifier is
   * never trained. M is the mask in mask mode; in reconstruction mode (sigmoid output) it is the
   * reconstruction itself, the mask `interpret` reports. A fresh Adam optimizer is used; the call is
   * recorded in the configuration (`finetuned`). It is a separate phase rather than a `fit` option
   * because the terms need a decoder that already draws the input (on an untrained decoder they
   * drive the mask to trivial solutions) and because its defaults (epochs, learning rate) differ.
   *
   * @example
   * ```ts
   * await interpreter.fit(images, { epochs: 5 });
   * const history = await interpreter.finetune(images, { epochs: 1, maskIn: 1, maskOut: 1, sparsity: 4 });
   * console.log(history.epochs[0]?.loss['finetune.remove']); // the mask-out term, falling
   * ```
   */
  async finetune(data: DataSource, options: FinetuneOptions = {}): Promise<FitHistory> {
    this.check('finetune');
    const { weights, fit } = resolveFinetune(options);
    const model = finetuningModel(this.model, weights);
    const trainer = new Trainer(model, { modelConfig: () => this.getConfig() as unknown as Record<string, unknown> });
    try {
      const history = await trainer.fit(data, fit);
      this.finetuned.push({ ...weights, steps: history.steps });
      return history;
    } finally {
      trainer.dispose();
    }
  }

  /**
   * Interprets a batch `[batch, height, width, channels]`: the classifier's decision, the mask, the
   * interpretation (and reconstruction), the codes used, all as plain typed arrays.
   */
  async interpret(input: tf.Tensor, options: InterpretOptions = {}): Promise<InterpretResult> {
    this.check('interpret');
    const OWNER = 'Interpreter.interpret';
    const batchSize = positiveInt(OWNER, 'batchSize', options.batchSize ?? 64);
    const [H, W, C] = this.model.classifier.inputShape as [number, number, number];
    checkInputBatch(OWNER, 'input', input, this.model.classifier, { finite: true });
    const n = input.shape[0];
    const K = this.model.classifier.numClasses;
    const [ch, cw] = this.model.decoder.codeShape;
    const out = {
      predictedClass: new Int32Array(n),
      probabilities: new Float32Array(n * K),
      mask: new Float32Array(n * H * W),
      interpretation: new Float32Array(n * H * W * C),
      reconstruction: this.model.mode === 'reconstruction' ? new Float32Array(n * H * W * C) : null,
      interpretationClass: new Int32Array(n),
      codeIndices: new Int32Array(n * ch * cw),
    };
    for (let s = 0; s < n; s += batchSize) {
      const b = Math.min(batchSize, n - s);
      const r = tidyObject(() => {
        const x = tf.slice(input, [s, 0, 0, 0], [b, -1, -1, -1]) as tf.Tensor4D;
        const f = this.model.forward(x, false);
        return {
          cls: f.predictedClass,
          probs: tf.softmax(f.inputLogits),
          mask: f.mask,
          interp: f.interpretation,
          icls: this.model.interpretationClass(f),
          idx: f.codeIndices,
        };
      });
      const [cls, probs, mask, interp, icls, idx] = await Promise.all([r.cls.data(), r.probs.data(), r.mask.data(), r.interp.data(), r.icls.data(), r.idx.data()]);
      tf.dispose([r.cls, r.probs, r.mask, r.interp, r.icls, r.idx]);
      out.predictedClass.set(cls as Int32Array, s);
      out.probabilities.set(probs as Float32Array, s * K);
      out.mask.set(mask as Float32Array, s * H * W);
      out.interpretation.set(interp as Float32Array, s * H * W * C);
      out.reconstruction?.set(interp as Float32Array, s * H * W * C);
      out.interpretationClass.set(icls as Int32Array, s);
      out.codeIndices.set(idx as Int32Array, s * ch * cw);
    }
    const result: InterpretResult = {
      batch: n,
      inputShape: [H, W, C],
      numClasses: K,
      codeShape: [ch, cw],
      ...out,
      example(i: number) {
        if (!Number.isInteger(i) || i < 0 || i >= n) throw new PiqInputError(`InterpretResult.example: 'i' must be an integer in [0, ${n}), got ${describe(i)}.`);
        const px = H * W;
        return {
          predictedClass: out.predictedClass[i] as number,
          probabilities: out.probabilities.subarray(i * K, (i + 1) * K),
          mask: out.mask.subarray(i * px, (i + 1) * px),
          interpretation: out.interpretation.subarray(i * px * C, (i + 1) * px * C),
          reconstruction: out.reconstruction ? out.reconstruction.subarray(i * px * C, (i + 1) * px * C) : null,
          interpretationClass: out.interpretationClass[i] as number,
          codeIndices: out.codeIndices.subarray(i * ch * cw, (i + 1) * ch * cw),
        };
      },
    };
    return result;
  }

  /** The JSON configuration saved with the weights. */
  getConfig(): InterpreterConfig {
    this.check('getConfig');
    const m = this.model;
    return {
      mode: m.mode,
      // Written only when it is not the sigmoid, so configurations of sigmoid interpreters stay as 0.1 wrote them.
      ...(m.outputActivation !== 'sigmoid' ? { outputActivation: m.outputActivation } : {}),
      numClasses: m.classifier.numClasses,
      inputShape: [...m.classifier.inputShape],
      featureShape: [...m.classifier.featureShape] as [number, number, number],
      featureLayer: m.classifier.featureLayer ?? null,
      decoder: m.decoder.getConfig(),
      quantizer: m.quantizer.getConfig(),
      target: { name: m.target.name, config: m.target.getConfig() },
      losses: m.loss.getSpec(),
      ...(this.finetuned.length > 0 ? { finetuned: this.finetuned.map((r) => ({ ...r })) } : {}),
    };
  }

  /**
   * Saves the interpreter (decoder, adapter, codebook, configuration; never the classifier) to a
   * tf.io URL (`indexeddb://…`, `localstorage://…`, `downloads://…`, `file://…` after
   * `registerFileSystemRouter()` from `piq-tfjs/node`) or any `tf.io.IOHandler`.
   */
  async save(destination: SaveDestination): Promise<tf.io.SaveResult> {
    this.check('save');
    const weights = this.model.getWeights();
    try {
      return await writeArtifact('Interpreter.save', destination, { config: this.getConfig(), weights, generatedBy: `piq-tfjs ${VERSION}` });
    } finally {
      tf.dispose(Object.values(weights));
    }
  }

  /** Whether {@link Interpreter.dispose} was called. */
  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Frees the interpreter's decoder, codebook and optimizer state (never the classifier). */
  dispose(): void {
    if (this.disposed) return;
    this.trainer?.dispose();
    this.model.dispose();
    this.disposed = true;
  }
}
