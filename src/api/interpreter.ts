import * as tf from '@tensorflow/tfjs-core';
import { checkInputBatch } from '../classifier/input-check';
import type { ClassifierAdapter } from '../classifier/types';
import type { InterpreterDecoderConfig } from '../decoder/decoder-config';
import { PiqInputError, PiqStateError } from '../errors';
import { assertLive, describe, positiveInt } from '../internal/checks';
import { tidyObject } from '../internal/tensor-checks';
import { writeArtifact, type SaveDestination } from '../io/artifact';
import type { LossSpec } from '../losses/registry';
import type { VectorQuantizerConfig } from '../quantizer/vector-quantizer-options';
import type { DataSource } from '../training/data';
import type { FitHistory, FitOptions } from '../training/fit-options';
import type { InterpreterMode, PiqModel } from '../training/piq-model';
import { Trainer } from '../training/trainer';
import { weightsAreFinite } from '../training/rollback';
import { VERSION } from '../version';

/**
 * The resolved, JSON configuration of an interpreter (what `save` writes besides the weights).
 * @category Interpreter
 */
export interface InterpreterConfig {
  mode: InterpreterMode;
  numClasses: number;
  inputShape: number[];
  featureShape: [number, number, number];
  featureLayer: string | null;
  decoder: InterpreterDecoderConfig;
  quantizer: VectorQuantizerConfig;
  target: { name: string; config: Record<string, unknown> };
  losses: LossSpec[];
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
  /** Mask in [0, 1], `[batch, height, width]` (reconstruction mode: the channel mean of the reconstruction). */
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
  /** Calls of fit / interpret in progress: dispose() frees the model only when the last one ends. */
  private inFlight = 0;

  /** @internal Use {@link createInterpreter} or {@link loadInterpreter}. */
  constructor(
    /** The underlying {@link PiqModel} (decoder, quantizer, target, losses) for researchers. */
    readonly model: PiqModel,
  ) {}

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
   * inference), and `resumeFrom` continues an interrupted run exactly. One fit at a time: a second
   * call while one runs is refused (PiqStateError); `interpret` and `save` may run meanwhile.
   */
  async fit(data: DataSource, options: FitOptions = {}): Promise<FitHistory> {
    this.check('fit');
    // Checkpoints carry the interpreter's configuration, so loadInterpreter can read them too.
    const trainer = (this.trainer ??= new Trainer(this.model, { modelConfig: () => this.getConfig() as unknown as Record<string, unknown> }));
    return this.track(() => trainer.fit(data, options));
  }

  /** Runs an async call that uses the model, so that dispose() during it defers freeing the model. */
  private async track<T>(call: () => Promise<T>): Promise<T> {
    this.inFlight++;
    try {
      return await call();
    } finally {
      this.inFlight--;
      if (this.disposed && this.inFlight === 0) this.release();
    }
  }

  /**
   * Interprets a batch `[batch, height, width, channels]`: the classifier's decision, the mask, the
   * interpretation (and reconstruction), the codes used, all as plain typed arrays. During a `fit`
   * it uses the weights of the moment: each chunk of `batchSize` examples sees one training step
   * (a call from `onProgress` / `onEpochEnd` sees the step reported there).
   */
  async interpret(input: tf.Tensor, options: InterpretOptions = {}): Promise<InterpretResult> {
    this.check('interpret');
    const OWNER = 'Interpreter.interpret';
    const batchSize = positiveInt(OWNER, 'batchSize', options.batchSize ?? 64);
    checkInputBatch(OWNER, 'input', input, this.model.classifier, { finite: true });
    return this.track(() => this.interpretChecked(input as tf.Tensor4D, batchSize));
  }

  private async interpretChecked(input: tf.Tensor4D, batchSize: number): Promise<InterpretResult> {
    const [H, W, C] = this.model.classifier.inputShape as [number, number, number];
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
      numClasses: m.classifier.numClasses,
      inputShape: [...m.classifier.inputShape],
      featureShape: [...m.classifier.featureShape] as [number, number, number],
      featureLayer: m.classifier.featureLayer ?? null,
      decoder: m.decoder.getConfig(),
      quantizer: m.quantizer.getConfig(),
      target: { name: m.target.name, config: m.target.getConfig() },
      losses: m.loss.getSpec(),
    };
  }

  /**
   * Saves the interpreter (decoder, adapter, codebook, configuration; never the classifier) to a
   * tf.io URL (`indexeddb://…`, `localstorage://…`, `downloads://…`, `file://…` after
   * `registerFileSystemRouter()` from `piq-tfjs/node`) or any `tf.io.IOHandler`. The weights are
   * copied when the call starts, so a save during `fit` writes the state between two steps; a
   * non-finite state is never saved (PiqStateError).
   */
  async save(destination: SaveDestination): Promise<tf.io.SaveResult> {
    this.check('save');
    const OWNER = 'Interpreter.save';
    const weights = this.model.getWeights();
    const config = this.getConfig();
    try {
      if (!(await weightsAreFinite(weights))) throw new PiqStateError(`${OWNER}: the weights must be finite to be saved, got NaN or Infinity. Train again (fit restores the last finite state when it diverges) or load a good save.`);
      return await writeArtifact(OWNER, destination, { config, weights, generatedBy: `piq-tfjs ${VERSION}` });
    } finally {
      tf.dispose(Object.values(weights));
    }
  }

  /** Whether {@link Interpreter.dispose} was called. */
  get isDisposed(): boolean {
    return this.disposed;
  }

  /**
   * Frees the interpreter's decoder, codebook and optimizer state (never the classifier). Calls
   * made afterwards throw PiqStateError. A `fit` in progress stops before its next step (it rejects
   * with PiqStateError); an `interpret` or `save` in progress completes; the memory is freed when
   * the last of them ends.
   */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.inFlight === 0) this.release();
    else this.trainer?.dispose(); // stops a running fit; the trainer frees its state when the fit ends
  }

  private release(): void {
    this.trainer?.dispose();
    this.model.dispose();
  }
}
