import * as tf from '@tensorflow/tfjs-core';
import { resolveInputRange, toInputBatch, type ClassifierInput } from '../classifier/image-input';
import { checkInputBatch } from '../classifier/input-check';
import type { ClassifierAdapter } from '../classifier/types';
import { PiqInputError, PiqStateError } from '../errors';
import { assertLive, describe, optionsObject, positiveInt } from '../internal/checks';
import { tidyObject } from '../internal/tensor-checks';
import { weightsAreFinite } from '../training/rollback';
import { writeArtifact, type SaveDestination } from '../io/artifact';
import type { DataSource } from '../training/data';
import { finetuningModel, resolveFinetune, type FinetuneOptions } from '../training/finetune';
import type { FitHistory, FitOptions } from '../training/fit-options';
import type { InterpreterMode, PiqModel } from '../training/piq-model';
import { Trainer } from '../training/trainer';
import { INTERPRET_KEYS, type FinetuneRecord, type InterpreterConfig, type InterpretOptions, type InterpretResult, type InterpretTensors } from './interpreter-types';
import { VERSION } from '../version';

export type { FinetuneRecord, InterpreterConfig, InterpretOptions, InterpretResult, InterpretTensors } from './interpreter-types';

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
  /** Calls of fit / finetune / interpret in progress: dispose() frees the model only when the last one ends. */
  private inFlight = 0;
  /** The training call in progress (fit and finetune exclude each other). */
  private training: 'fit' | 'finetune' | undefined;
  /** The trainer of the finetune in progress (dispose stops it). */
  private tuner: Trainer | undefined;

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
   * inference), and `resumeFrom` continues an interrupted run exactly. One fit at a time: a second
   * call while one runs, or a call during a {@link Interpreter.finetune}, is refused (PiqStateError);
   * `interpret` and `save` may run meanwhile.
   */
  async fit(data: DataSource, options: FitOptions = {}): Promise<FitHistory> {
    this.check('fit');
    if (this.training === 'finetune') throw this.busy('Interpreter.fit');
    // Checkpoints carry the interpreter's configuration, so loadInterpreter can read them too.
    const trainer = (this.trainer ??= new Trainer(this.model, { modelConfig: () => this.getConfig() as unknown as Record<string, unknown> }));
    // A second fit is refused by the trainer itself.
    const first = this.training === undefined;
    if (first) this.training = 'fit';
    try {
      return await this.track(() => trainer.fit(data, options));
    } finally {
      if (first) this.training = undefined;
    }
  }

  private busy(owner: string): PiqStateError {
    return new PiqStateError(`${owner}: a ${this.training} is already running on this interpreter. Await it (or stop it with 'signal') first.`);
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
   * It follows `fit`'s rules: refused while a `fit` or another `finetune` runs (PiqStateError);
   * `interpret` and `save` may run meanwhile; `dispose` stops it before its next step; a diverging
   * step is rolled back to the last finite state as in `fit`.
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
    if (this.training !== undefined) throw this.busy('Interpreter.finetune');
    const { weights, fit } = resolveFinetune(options);
    const model = finetuningModel(this.model, weights);
    const trainer = new Trainer(model, { modelConfig: () => this.getConfig() as unknown as Record<string, unknown> });
    this.training = 'finetune';
    this.tuner = trainer;
    try {
      const history = await this.track(() => trainer.fit(data, fit));
      this.finetuned.push({ ...weights, steps: history.steps });
      return history;
    } finally {
      this.training = undefined;
      this.tuner = undefined;
      trainer.dispose();
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
   * made afterwards throw PiqStateError. A `fit` or `finetune` in progress stops before its next step (it rejects
   * with PiqStateError); an `interpret` or `save` in progress completes; the memory is freed when
   * the last of them ends.
   */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.inFlight === 0) this.release();
    else {
      // Stops a running fit or finetune; each trainer frees its state when its run ends.
      this.trainer?.dispose();
      this.tuner?.dispose();
    }
  }

  private release(): void {
    this.trainer?.dispose();
    this.model.dispose();
  }
}
