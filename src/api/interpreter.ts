import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { toClassifierAdapter, type ClassifierLike, type ClassifierOutputKind } from '../classifier/classifier-adapter';
import { checkInputBatch } from '../classifier/input-check';
import type { ClassifierAdapter } from '../classifier/types';
import type { InterpreterDecoderConfig, InterpreterDecoderOptions } from '../decoder/decoder-config';
import { InterpreterDecoder } from '../decoder/interpreter-decoder';
import { PiqConfigError, PiqInputError, PiqStateError } from '../errors';
import { describe, oneOf, positiveInt, shapeStr } from '../internal/checks';
import { tidyObject } from '../internal/tensor-checks';
import { decodeArtifacts, encodeArtifacts, loadHandler, saveHandler, type SaveDestination } from '../io/artifact';
import { codebookLoss, commitmentLoss, maskTargetLoss, reconstructionLoss } from '../losses/builtin';
import { combineLosses, lossesFromSpec, type LossSpec } from '../losses/registry';
import type { WeightedLoss } from '../losses/types';
import type { CodebookLayoutOptions } from '../quantizer/codebook-layout';
import { VectorQuantizer } from '../quantizer/vector-quantizer';
import type { VectorQuantizerConfig, VectorQuantizerOptions } from '../quantizer/vector-quantizer-options';
import { createTarget, inputTarget, type Target } from '../targets/targets';
import type { DataSource } from '../training/data';
import { PiqModel, type InterpreterMode } from '../training/piq-model';
import { Trainer, type FitHistory, type FitOptions } from '../training/trainer';

/**
 * The piq-tfjs version, written into saved artifacts (`generatedBy`).
 * @example
 * ```ts
 * import { VERSION } from 'piq-tfjs';
 * console.log(VERSION); // '0.1.0'
 * ```
 * @category Interpreter
 */
export const VERSION = '0.1.0';

/**
 * Options of {@link createInterpreter}. Only `classifier` is required.
 * @category Interpreter
 */
export interface CreateInterpreterOptions {
  /** Your trained classifier: a `tf.LayersModel`, a `tf.GraphModel`, a function `(x) => ({ features, logits })`, or a ClassifierAdapter. */
  classifier: ClassifierLike;
  /** Number of classes; checked against the classifier's output. @defaultValue read from the classifier */
  numClasses?: number;
  /** Layer (or graph node) to tap. @defaultValue the last layer with a spatial output */
  featureLayer?: string;
  /** GraphModel only: the logits node. @defaultValue the first output node */
  logitsNode?: string;
  /** Input shape without batch, for function and GraphModel classifiers. @defaultValue read from the model */
  inputShape?: readonly number[];
  /** How to read the classifier output. @defaultValue 'auto' */
  outputKind?: ClassifierOutputKind;
  /**
   * `'reconstruction'` (redraw the input, the reference MNIST setup) or `'mask'` (a mask trained against `target`).
   * @defaultValue 'mask' when `target` is given, else 'reconstruction'
   */
  mode?: InterpreterMode;
  /** Mask-mode target: a {@link Target} (e.g. `energyMask()`, an annotator). @defaultValue energyMask() in mask mode */
  target?: Target;
  /** Decoder architecture options (shapes are filled in), or your own tfjs-layers decoder `[h, w, codeDim] → [H, W, outChannels]`. @defaultValue {} */
  decoder?: Partial<Omit<InterpreterDecoderOptions, 'featureShape' | 'outputShape'>> & { outputChannels?: number } | tfl.LayersModel;
  /**
   * Quantizer options; the layout's `numClasses` and `codeDim` are filled in. The interpreter initialises the codebook
   * from the first batch's features (`init: 'data'`), which trains far faster than the reference's uniform(−1/K, 1/K)
   * init; pass `init: 'uniform'` to reproduce the reference.
   * @defaultValue { layout: { codesPerClass: 16 }, init: 'data' }
   */
  quantizer?: Partial<Omit<VectorQuantizerOptions, 'layout' | 'codeDim'>> & { layout?: Partial<CodebookLayoutOptions> };
  /**
   * The training loss as weighted terms. @defaultValue reconstruction (BCE) or maskTarget (BCE), plus codebook and commitment, each weight 1
   */
  losses?: WeightedLoss[];
  /** Seed for the decoder's initialisers and the quantizer. @defaultValue 0 */
  seed?: number;
}

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

const CREATE = 'createInterpreter';

function resolveCreate(options: CreateInterpreterOptions) {
  if (typeof options !== 'object' || options === null) {
    throw new PiqConfigError(`${CREATE}: 'options' must be an object with at least { classifier }, got ${describe(options)}.`);
  }
  if (options.classifier === undefined || options.classifier === null) {
    throw new PiqConfigError(`${CREATE}: 'classifier' is required (a tf.LayersModel, tf.GraphModel or function), got ${describe(options.classifier)}.`);
  }
  const adapter = toClassifierAdapter(options.classifier, {
    featureLayer: options.featureLayer,
    logitsNode: options.logitsNode,
    inputShape: options.inputShape,
    outputKind: options.outputKind,
  });
  if (options.numClasses !== undefined) {
    positiveInt(CREATE, 'numClasses', options.numClasses);
    if (options.numClasses !== adapter.numClasses) {
      throw new PiqConfigError(`${CREATE}: 'numClasses' must match the classifier's logits (${adapter.numClasses} classes), got ${options.numClasses}.`);
    }
  }
  if (adapter.inputShape.length !== 3) {
    throw new PiqConfigError(`${CREATE}: the classifier input must be [height, width, channels] (images or spectrograms), got ${shapeStr(adapter.inputShape)}.`);
  }
  const mode = oneOf(CREATE, 'mode', options.mode ?? (options.target ? 'mask' : 'reconstruction'), ['reconstruction', 'mask'] as const);
  if (options.target !== undefined && (typeof options.target !== 'object' || typeof options.target.compute !== 'function')) {
    throw new PiqConfigError(`${CREATE}: 'target' must be a Target ({ name, compute, getConfig }), got ${describe(options.target)}.`);
  }
  if (mode === 'reconstruction' && options.target !== undefined) {
    throw new PiqConfigError(`${CREATE}: 'target' is only used in mask mode, got a target with mode 'reconstruction'. Set mode: 'mask'.`);
  }
  const target = mode === 'mask' ? (options.target ?? createTarget('energyMask')) : inputTarget();
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed)) throw new PiqConfigError(`${CREATE}: 'seed' must be an integer, got ${describe(seed)}.`);
  return { adapter, mode, target, seed };
}

function defaultLosses(mode: InterpreterMode): WeightedLoss[] {
  return [
    { loss: mode === 'mask' ? maskTargetLoss() : reconstructionLoss(), weight: 1 },
    { loss: codebookLoss(), weight: 1 },
    { loss: commitmentLoss(), weight: 1 },
  ];
}

/**
 * Creates a PIQ interpreter for your trained classifier: taps its features, builds a decoder
 * and a class-partitioned codebook from the shapes alone, ready to `fit`. Nothing is trained yet;
 * the classifier is never modified.
 *
 * @example
 * ```ts
 * import { createInterpreter } from 'piq-tfjs';
 * const interpreter = await createInterpreter({ classifier: model, numClasses: 10 });
 * console.log(interpreter.summary().featureLayer); // e.g. 'conv2d_Conv2D2' (the tapped layer)
 * await interpreter.fit(trainImages, { epochs: 5, batchSize: 64, validationData: testImages });
 * const r = await interpreter.interpret(testImages);
 * console.log(r.predictedClass[0], r.example(0).mask.length); // 7 784 (one 28x28 mask per image)
 * ```
 * @category Interpreter
 */
export async function createInterpreter(options: CreateInterpreterOptions): Promise<Interpreter> {
  const { adapter, mode, target, seed } = resolveCreate(options);
  const [H, W, C] = adapter.inputShape as [number, number, number];
  const isCustom = options.decoder !== undefined && typeof (options.decoder as tfl.LayersModel).apply === 'function' && 'layers' in (options.decoder as object);
  const dopts = isCustom ? {} : ((options.decoder ?? {}) as Partial<InterpreterDecoderOptions> & { outputChannels?: number });
  const outChannels = dopts.outputChannels ?? (mode === 'mask' ? 1 : C);
  positiveInt(CREATE, 'decoder.outputChannels', outChannels);
  const { outputChannels: _unused, ...decoderRest } = dopts;
  void _unused;
  const decoder = new InterpreterDecoder(
    { seed, ...decoderRest, featureShape: adapter.featureShape, outputShape: [H, W, outChannels] },
    isCustom ? (options.decoder as tfl.LayersModel) : undefined,
  );
  let quantizer: VectorQuantizer | undefined;
  try {
    const q = options.quantizer ?? {};
    const layout = { codesPerClass: q.layout?.codebookSize === undefined ? 16 : undefined, ...q.layout, numClasses: adapter.numClasses } as CodebookLayoutOptions;
    quantizer = new VectorQuantizer({ seed, init: 'data', ...q, layout, codeDim: decoder.codeShape[2] });
    const loss = combineLosses(options.losses ?? defaultLosses(mode));
    const model = new PiqModel({ classifier: adapter, decoder, quantizer, mode, target, loss });
    return new Interpreter(model);
  } catch (e) {
    decoder.dispose();
    quantizer?.dispose();
    throw e;
  }
}

/**
 * Options of {@link loadInterpreter}.
 * @category Interpreter
 */
export interface LoadInterpreterOptions {
  /** The same classifier the interpreter was trained with (it is not stored in the artifact). */
  classifier: ClassifierLike;
  /** Override the saved feature layer name (e.g. after renaming layers). @defaultValue the saved one */
  featureLayer?: string;
  /** GraphModel only. @defaultValue the first output node */
  logitsNode?: string;
  /** For function and GraphModel classifiers. @defaultValue the saved input shape */
  inputShape?: readonly number[];
  /** Mask-mode target, when it was a custom unregistered one. @defaultValue recreated by name from the registry */
  target?: Target;
}

/**
 * Loads an interpreter saved with {@link Interpreter.save}. The artifact's format version and
 * checksum are verified; the classifier must match the saved shapes (input, tapped features, classes).
 *
 * @example
 * ```ts
 * import { loadInterpreter } from 'piq-tfjs';
 * const interpreter = await loadInterpreter('indexeddb://piq-mnist', { classifier: model });
 * const r = await interpreter.interpret(images);
 * ```
 * @category Interpreter
 */
export async function loadInterpreter(source: SaveDestination, options: LoadInterpreterOptions): Promise<Interpreter> {
  const OWNER = 'loadInterpreter';
  if (!options || options.classifier === undefined) {
    throw new PiqConfigError(`${OWNER}: 'options.classifier' is required (the classifier is never saved with the interpreter), got ${describe(options?.classifier)}.`);
  }
  const handler = loadHandler(OWNER, source);
  if (typeof handler.load !== 'function') throw new PiqConfigError(`${OWNER}: the handler for ${describe(source)} cannot load.`);
  const { config: raw, weights } = decodeArtifacts(OWNER, await handler.load());
  try {
    const config = raw as InterpreterConfig;
    // A checkpoint written by Interpreter.fit carries the interpreter configuration and loads like a save
    // (its optimizer state is ignored); one written by a bare Trainer does not.
    if (typeof config !== 'object' || config === null || typeof config.decoder !== 'object' || typeof config.quantizer !== 'object') {
      throw new PiqStateError(
        `${OWNER}: the artifact must hold an interpreter configuration, got ${(raw as { kind?: unknown } | null)?.kind === 'checkpoint' ? 'a checkpoint written by a bare Trainer' : 'none'}. Resume it with Trainer.fit(data, { resumeFrom }) instead.`,
      );
    }
    const adapter = toClassifierAdapter(options.classifier, {
      featureLayer: options.featureLayer ?? config.featureLayer ?? undefined,
      logitsNode: options.logitsNode,
      inputShape: options.inputShape ?? config.inputShape,
    });
    const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((v, i) => v === b[i]);
    if (!same(adapter.inputShape, config.inputShape) || !same(adapter.featureShape, config.featureShape) || adapter.numClasses !== config.numClasses) {
      throw new PiqConfigError(
        `${OWNER}: the classifier must match the saved interpreter (input ${shapeStr(config.inputShape)}, features ${shapeStr(config.featureShape)}, ${config.numClasses} classes), got input ${shapeStr(adapter.inputShape)}, features ${shapeStr(adapter.featureShape)}, ${adapter.numClasses} classes.`,
      );
    }
    const decoder = await InterpreterDecoder.fromConfigAsync(config.decoder);
    const quantizer = VectorQuantizer.fromConfig(config.quantizer);
    try {
      decoder.setWeights(weights);
      quantizer.setWeights(weights);
      const target = options.target ?? createTarget(config.target.name, config.target.config);
      const loss = lossesFromSpec(config.losses);
      return new Interpreter(new PiqModel({ classifier: adapter, decoder, quantizer, mode: config.mode, target, loss }));
    } catch (e) {
      decoder.dispose();
      quantizer.dispose();
      throw e;
    }
  } finally {
    for (const t of Object.values(weights)) t.dispose();
  }
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
    if (this.disposed) throw new PiqStateError(`Interpreter.${method}: the interpreter was disposed. Create or load a new one.`);
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
   * `registerFileSystemRouter()` from `piq-tfjs/node`) or any `tf.io.IOHandler`.
   */
  async save(destination: SaveDestination): Promise<tf.io.SaveResult> {
    this.check('save');
    const handler = saveHandler('Interpreter.save', destination);
    if (typeof handler.save !== 'function') throw new PiqConfigError(`Interpreter.save: the handler for ${describe(destination)} cannot save.`);
    const weights = { ...this.model.decoder.getWeights(), ...this.model.quantizer.getWeights() };
    try {
      const artifacts = await encodeArtifacts(this.getConfig(), weights, `piq-tfjs ${VERSION}`);
      return await handler.save(artifacts);
    } finally {
      for (const t of Object.values(weights)) t.dispose();
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
