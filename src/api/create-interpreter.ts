import type * as tfl from '@tensorflow/tfjs-layers';
import { toClassifierAdapter, type ClassifierLike, type ClassifierOutputKind } from '../classifier/classifier-adapter';
import type { InterpreterDecoderOptions } from '../decoder/decoder-config';
import { InterpreterDecoder } from '../decoder/interpreter-decoder';
import { PiqConfigError } from '../errors';
import { describe, oneOf, optionKeys, optionsObject, positiveInt, shapeStr } from '../internal/checks';
import { codebookLoss, commitmentLoss, fidelityLoss, maskTargetLoss, reconstructionLoss } from '../losses/builtin';
import { combineLosses } from '../losses/registry';
import type { WeightedLoss } from '../losses/types';
import type { CodebookLayoutOptions } from '../quantizer/codebook-layout';
import { VectorQuantizer } from '../quantizer/vector-quantizer';
import { VECTOR_QUANTIZER_KEYS, type VectorQuantizerOptions } from '../quantizer/vector-quantizer-options';
import { createTarget, inputTarget, type Target } from '../targets/targets';
import { PiqModel, type InterpreterMode } from '../training/piq-model';
import { Interpreter } from './interpreter';

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
  /**
   * Reconstruction mode only: how the input is redrawn. `'bce'`: sigmoid output and binary
   * cross-entropy, for inputs in [0, 1] (the reference MNIST setup). `'mse'`: softplus output and
   * mean squared error, for unbounded non-negative inputs such as log1p spectrograms (the reference
   * audio recipe's reconstruction variant, `use_mask_output: False`); the mask is then
   * `1[x̂ > 0.35·max x̂]` per example. Inputs outside the output's range are refused on the first batch.
   * Saved with the interpreter.
   * @defaultValue 'bce'
   */
  reconstruction?: 'bce' | 'mse';
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
   * The training loss as weighted terms. Reconstruction mode: reconstruction (BCE, or MSE with
   * `reconstruction: 'mse'`), codebook and commitment, each weight 1 (the reference). Mask mode: maskTarget with the class-balanced BCE
   * (`maskTargetLoss({ kind: 'balanced-bce' })`), codebook, commitment and the classifier's
   * `fidelityLoss` (KL between f(x) and f(M ⊙ x)), each weight 1 — chosen on spoken digits and
   * validated on a second audio task (docs/audio.md); the reference's plain BCE without the fidelity
   * term was the default in 0.1. The fidelity term runs the classifier on the interpretation at
   * every step, so mask-mode training costs more than the reference recipe.
   * @defaultValue see above
   */
  losses?: WeightedLoss[];
  /** Seed for the decoder's initialisers and the quantizer. @defaultValue 0 */
  seed?: number;
}

const CREATE_KEYS = optionKeys<CreateInterpreterOptions>({
  classifier: true,
  numClasses: true,
  featureLayer: true,
  logitsNode: true,
  inputShape: true,
  outputKind: true,
  mode: true,
  reconstruction: true,
  target: true,
  decoder: true,
  quantizer: true,
  losses: true,
  seed: true,
});
type DecoderOptions = Partial<Omit<InterpreterDecoderOptions, 'featureShape' | 'outputShape'>> & { outputChannels?: number };
const DECODER_KEYS = optionKeys<DecoderOptions>({ preset: true, codeDim: true, adapter: true, downsample: true, channels: true, minChannels: true, norm: true, seed: true, outputChannels: true });
type QuantizerOptions = NonNullable<CreateInterpreterOptions['quantizer']>;
/** The quantizer keys of createInterpreter: the VectorQuantizer's, less `codeDim` (set from the decoder). */
const QUANTIZER_KEYS = VECTOR_QUANTIZER_KEYS.filter((k) => k !== 'codeDim');
const LAYOUT_KEYS = optionKeys<CodebookLayoutOptions>({ numClasses: true, codesPerClass: true, codebookSize: true, sharedCodes: true, sharedPlacement: true });

const CREATE = 'createInterpreter';

/** Whether `decoder` is the user's own tfjs-layers network rather than decoder options. */
function isCustomDecoder(decoder: unknown): decoder is tfl.LayersModel {
  return typeof decoder === 'object' && decoder !== null && typeof (decoder as tfl.LayersModel).apply === 'function' && 'layers' in decoder;
}

function resolveCreate(options: CreateInterpreterOptions) {
  if (typeof options !== 'object' || options === null) {
    throw new PiqConfigError(`${CREATE}: 'options' must be an object with at least { classifier }, got ${describe(options)}.`);
  }
  optionsObject(CREATE, options, CREATE_KEYS);
  if (options.decoder !== undefined && !isCustomDecoder(options.decoder)) optionsObject(CREATE, options.decoder, DECODER_KEYS, 'decoder');
  const quantizer = optionsObject<QuantizerOptions>(CREATE, options.quantizer, QUANTIZER_KEYS, 'quantizer');
  optionsObject(CREATE, quantizer.layout, LAYOUT_KEYS, 'quantizer.layout');
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
  const reconstruction = oneOf(CREATE, 'reconstruction', options.reconstruction ?? 'bce', ['bce', 'mse'] as const);
  if (mode === 'mask' && options.reconstruction !== undefined) {
    throw new PiqConfigError(`${CREATE}: 'reconstruction' is only used in reconstruction mode, got '${reconstruction}' with mode 'mask'. Remove it, or set mode: 'reconstruction'.`);
  }
  const target = mode === 'mask' ? (options.target ?? createTarget('energyMask')) : inputTarget();
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed)) throw new PiqConfigError(`${CREATE}: 'seed' must be an integer, got ${describe(seed)}.`);
  return { adapter, mode, target, seed, reconstruction };
}

function defaultLosses(mode: InterpreterMode, reconstruction: 'bce' | 'mse'): WeightedLoss[] {
  if (mode === 'mask') {
    return [
      { loss: maskTargetLoss({ kind: 'balanced-bce' }), weight: 1 },
      { loss: codebookLoss(), weight: 1 },
      { loss: commitmentLoss(), weight: 1 },
      { loss: fidelityLoss(), weight: 1 },
    ];
  }
  return [
    { loss: reconstructionLoss({ kind: reconstruction }), weight: 1 },
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
  const { adapter, mode, target, seed, reconstruction } = resolveCreate(options);
  const [H, W, C] = adapter.inputShape as [number, number, number];
  const isCustom = isCustomDecoder(options.decoder);
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
    const loss = combineLosses(options.losses ?? defaultLosses(mode, reconstruction));
    const outputActivation = mode === 'reconstruction' && reconstruction === 'mse' ? 'softplus' : 'sigmoid';
    const model = new PiqModel({ classifier: adapter, decoder, quantizer, mode, target, loss, outputActivation });
    return new Interpreter(model);
  } catch (e) {
    decoder.dispose();
    quantizer?.dispose();
    throw e;
  }
}

