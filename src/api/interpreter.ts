import * as tf from '@tensorflow/tfjs-core';
import { resolveInputRange, toInputBatch, type ClassifierInput } from '../classifier/image-input';
import { checkInputBatch } from '../classifier/input-check';
import type { ClassifierAdapter } from '../classifier/types';
import type { InterpreterDecoderConfig } from '../decoder/decoder-config';
import { PiqInputError, PiqStateError } from '../errors';
import { assertLive, describe, optionKeys, optionsObject, positiveInt } from '../internal/checks';
import { tidyObject } from '../internal/tensor-checks';
import { weightsAreFinite } from '../training/rollback';
import { writeArtifact, type SaveDestination } from '../io/artifact';
import type { LossSpec } from '../losses/registry';
import type { VectorQuantizerConfig } from '../quantizer/vector-quantizer-options';
import type { DataSource } from '../training/data';
import type { FitHistory, FitOptions } from '../training/fit-options';
import type { InterpreterMode, PiqModel } from '../training/piq-model';
import { Trainer } from '../training/trainer';
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
 * Options of {@link Interpreter.interpret} and {@link Interpreter.interpretTensors}.
 * @category Interpreter
 */
export interface InterpretOptions {
  /** Examples per internal chunk (bounds memory for large inputs). @defaultValue 64 */
  batchSize?: number;
  /**
   * For pixel inputs (ImageData, image, canvas, video): the values the bytes 0 and 255 are mapped
   * to, linearly: the range the classifier was trained on. Tensors are used as they are.
   * @defaultValue [0, 1]
   */
  inputRange?: readonly [number, number];
}

const INTERPRET_KEYS = optionKeys<InterpretOptions>({ batchSize: true, inputRange: true });

/**
 * What {@link Interpreter.interpretTensors} returns: the fields of {@link InterpretResult} as
 * tensors, which the caller owns (`tf.dispose(Object.values(t))` frees them all).
 * @category Interpreter
 */
export interface InterpretTensors {
  /** `[batch]` int32. */
  predictedClass: tf.Tensor1D;
  /** `[batch, numClasses]`. */
  probabilities: tf.Tensor2D;
  /** `[batch, height, width]` in [0, 1]. */
  mask: tf.Tensor3D;
  /** `[batch, height, width, channels]`. */
  interpretation: tf.Tensor4D;
  /** `[batch, height, width, channels]` in reconstruction mode (a tensor of its own), else null. */
  reconstruction: tf.Tensor4D | null;
  /** `[batch]` int32. */
  interpretationClass: tf.Tensor1D;
  /** `[batch, codeHeight, codeWidth]` int32. */
  codeIndices: tf.Tensor3D;
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
   * Interprets inputs: the classifier's decision, the mask, the interpretation (and
   * reconstruction), the codes used, all as plain typed arrays. `input` is a batch
   * `[batch, height, width, channels]`, one example `[height, width, channels]`, or (in browsers)
   * pixels: `ImageData`, an image, canvas or video element, read with `tf.browser.fromPixels` and
   * scaled to `inputRange` (a batch of one). During a `fit` it uses the weights of the moment: each
   * chunk of `batchSize` examples sees one training step (a call from `onProgress` / `onEpochEnd`
   * sees the step reported there).
   */
  async interpret(input: ClassifierInput, options: InterpretOptions = {}): Promise<InterpretResult> {
    const OWNER = 'Interpreter.interpret';
    this.check('interpret');
    const [H, W, C] = this.model.classifier.inputShape as [number, number, number];
    const K = this.model.classifier.numClasses;
    const [ch, cw] = this.model.decoder.codeShape;
    let n = 0;
    let out: Omit<InterpretResult, 'batch' | 'inputShape' | 'numClasses' | 'codeShape' | 'example'> | undefined;
    await this.inChunks(OWNER, input, options, async (r, s, count) => {
      n = count;
      out ??= {
        predictedClass: new Int32Array(n),
        probabilities: new Float32Array(n * K),
        mask: new Float32Array(n * H * W),
        interpretation: new Float32Array(n * H * W * C),
        reconstruction: this.model.mode === 'reconstruction' ? new Float32Array(n * H * W * C) : null,
        interpretationClass: new Int32Array(n),
        codeIndices: new Int32Array(n * ch * cw),
      };
      const [cls, probs, mask, interp, icls, idx] = await Promise.all([r.predictedClass.data(), r.probabilities.data(), r.mask.data(), r.interpretation.data(), r.interpretationClass.data(), r.codeIndices.data()]);
      tf.dispose(Object.values(r));
      out.predictedClass.set(cls as Int32Array, s);
      out.probabilities.set(probs as Float32Array, s * K);
      out.mask.set(mask as Float32Array, s * H * W);
      out.interpretation.set(interp as Float32Array, s * H * W * C);
      out.reconstruction?.set(interp as Float32Array, s * H * W * C);
      out.interpretationClass.set(icls as Int32Array, s);
      out.codeIndices.set(idx as Int32Array, s * ch * cw);
    });
    const data = out as NonNullable<typeof out>;
    return {
      batch: n,
      inputShape: [H, W, C],
      numClasses: K,
      codeShape: [ch, cw],
      ...data,
      example(i: number) {
        if (!Number.isInteger(i) || i < 0 || i >= n) throw new PiqInputError(`InterpretResult.example: 'i' must be an integer in [0, ${n}), got ${describe(i)}.`);
        const px = H * W;
        return {
          predictedClass: data.predictedClass[i] as number,
          probabilities: data.probabilities.subarray(i * K, (i + 1) * K),
          mask: data.mask.subarray(i * px, (i + 1) * px),
          interpretation: data.interpretation.subarray(i * px * C, (i + 1) * px * C),
          reconstruction: data.reconstruction ? data.reconstruction.subarray(i * px * C, (i + 1) * px * C) : null,
          interpretationClass: data.interpretationClass[i] as number,
          codeIndices: data.codeIndices.subarray(i * ch * cw, (i + 1) * ch * cw),
        };
      },
    };
  }

  /**
   * The same as {@link Interpreter.interpret}, as tensors the caller owns and disposes (for tensor
   * pipelines: metrics, further tfjs ops), instead of plain arrays.
   */
  async interpretTensors(input: ClassifierInput, options: InterpretOptions = {}): Promise<InterpretTensors> {
    const OWNER = 'Interpreter.interpretTensors';
    this.check('interpretTensors');
    const parts: Array<Omit<InterpretTensors, 'reconstruction'>> = [];
    try {
      await this.inChunks(OWNER, input, options, async (r) => {
        parts.push(r);
      });
      const cat = <T extends tf.Tensor>(pick: (p: Omit<InterpretTensors, 'reconstruction'>) => T): T =>
        (parts.length === 1 ? tf.clone(pick(parts[0] as Omit<InterpretTensors, 'reconstruction'>)) : tf.concat(parts.map(pick), 0)) as T;
      const interpretation = cat((p) => p.interpretation);
      return {
        predictedClass: cat((p) => p.predictedClass),
        probabilities: cat((p) => p.probabilities),
        mask: cat((p) => p.mask),
        interpretation,
        reconstruction: this.model.mode === 'reconstruction' ? tf.clone(interpretation) : null,
        interpretationClass: cat((p) => p.interpretationClass),
        codeIndices: cat((p) => p.codeIndices),
      };
    } finally {
      for (const p of parts) tf.dispose(Object.values(p));
    }
  }

  /**
   * The one forward pass of `interpret` and `interpretTensors`: converts and checks the input, then
   * runs the model `batchSize` examples at a time and hands each chunk's tensors (the callee owns
   * them) to `take` with the chunk's start and the batch size.
   */
  private async inChunks(
    owner: string,
    input: unknown,
    options: InterpretOptions,
    take: (r: Omit<InterpretTensors, 'reconstruction'>, start: number, count: number) => Promise<void>,
  ): Promise<void> {
    return this.track(() => this.chunks(owner, input, options, take));
  }

  private async chunks(
    owner: string,
    input: unknown,
    options: InterpretOptions,
    take: (r: Omit<InterpretTensors, 'reconstruction'>, start: number, count: number) => Promise<void>,
  ): Promise<void> {
    const o = optionsObject(owner, options, INTERPRET_KEYS);
    const batchSize = positiveInt(owner, 'batchSize', o.batchSize ?? 64);
    const range = resolveInputRange(owner, o.inputRange);
    const [H, W] = this.model.classifier.inputShape as [number, number, number];
    const converted = toInputBatch(owner, 'input', input, this.model.classifier.inputShape, range);
    try {
      const x = checkInputBatch(owner, 'input', converted.batch, this.model.classifier, { finite: true });
      const n = x.shape[0] as number;
      for (let s = 0; s < n; s += batchSize) {
        const b = Math.min(batchSize, n - s);
        const r = tidyObject(() => {
          const f = this.model.forward(tf.slice(x, [s, 0, 0, 0], [b, -1, -1, -1]) as tf.Tensor4D, false);
          return {
            predictedClass: f.predictedClass as tf.Tensor1D,
            probabilities: tf.softmax(f.inputLogits) as tf.Tensor2D,
            mask: tf.reshape(f.mask, [b, H, W]) as tf.Tensor3D,
            interpretation: f.interpretation as tf.Tensor4D,
            interpretationClass: this.model.interpretationClass(f) as tf.Tensor1D,
            codeIndices: f.codeIndices as tf.Tensor3D,
          };
        });
        await take(r, s, n);
      }
    } finally {
      if (converted.owned) (converted.batch as tf.Tensor).dispose();
    }
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
