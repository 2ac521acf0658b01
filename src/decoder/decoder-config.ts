// Options and resolved configuration of the InterpreterDecoder, and the shape arithmetic that
// decides its architecture (code grid, up-sampling stages).
import { PiqConfigError } from '../errors';
import { boolean, describe, oneOf, positiveInt, shapeStr, optionKeys, optionsObject } from '../internal/checks';
import { checkReferenceGeometry, isReferencePreset, referenceCodeGrid, type ReferencePreset } from './reference-presets';

/**
 * Named starting points for the decoder architecture.
 * - `'image'` (default): the library's own decoder — no adapter, stride-2 transposed-conv stages
 *   (kernel 4, bias-free, batch norm + ReLU, channels halving from `channels`) to the power-of-two
 *   multiple of the tap nearest the input size, a bilinear resize to the exact size and a 3×3 output
 *   convolution. Any tap and input size. Not the reference architecture: see `'reference-mnist'`.
 * - `'spectrogram'`: the library's decoder with a residual adapter (3×3 conv → BN+ReLU → 3×3 conv,
 *   added) and a 3×3 stride-2 down-projection before quantization. Inspired by the reference audio
 *   setup (adapter, down-projection), but not its layers: see `'reference-audio'`.
 * - `'reference-mnist'`: the authors' MNIST decoder (`VectorQuantizedPSI`, ycemsubakan/speechbrain-1
 *   @ 52d37e40, `custom_models.py` L338-351, L435-447), layer for layer: no adapter; 2 ResBlocks
 *   (skip `relu(x)`) → ReLU → ConvT(3,2,1) → BN → ReLU → ConvT(4,2,1) → BN → ReLU → ConvT(4,2,1).
 *   Needs an output of (8H−4)×(8W−4) for a tap H×W (4×4×128 → 28×28: 741,633 trainable parameters).
 * - `'reference-audio'`: SpeechBrain's `VectorQuantizedPSI_Audio` (speechbrain @ 9c826ef3,
 *   `lobes/models/PIQ.py` L378-386, L454-475), layer for layer: ResBlockAudio → Conv(4,2,1) down →
 *   [quantizer] → ConvT(4,2,1) up → ConvT(3,2,1) → ReLU → BN → 3 × [ConvT(4,2,1) → ReLU → BN] →
 *   ConvT(12,1,1). Needs an output of (32⌊H/2⌋+1)×(32⌊W/2⌋+1) (26×32×256 → 417×513: 6,530,049
 *   trainable parameters, about 80 GMAC per example).
 *
 * The reference presets use the tap's channels everywhere (the reference's `dim`), PyTorch's batch-norm
 * settings (epsilon 1e-5, momentum 0.1) and biases on every convolution; see docs/interpreter.md.
 * @category Decoder
 */
export type DecoderPreset = 'image' | 'spectrogram' | 'reference-mnist' | 'reference-audio';

/**
 * Options of {@link InterpreterDecoder}. Shapes are without the batch dimension.
 * @category Decoder
 */
export interface InterpreterDecoderOptions {
  /** The classifier's tapped feature shape `[height, width, channels]`. */
  featureShape: readonly number[];
  /** The decoder's output shape `[height, width, channels]` (the input's size; channels 1 for a mask). */
  outputShape: readonly number[];
  /**
   * Architecture preset; explicit options below override it.
   * @defaultValue 'image'
   */
  preset?: DecoderPreset;
  /**
   * Dimension of the code vectors the quantizer sees. When it differs from the feature channels,
   * a 1x1 convolution projects the features first.
   * @defaultValue the feature channels
   */
  codeDim?: number;
  /**
   * Trainable adapter between the classifier's features and the quantizer: `'none'` or a `'residual'` block.
   * @defaultValue 'none' ('residual' for the spectrogram preset)
   */
  adapter?: 'none' | 'residual';
  /**
   * Adds a stride-2 down-projection to the adapter (halves the code grid like the reference audio setup's `down`, but with a 3x3 kernel where the reference uses 4x4; `'reference-audio'` reproduces it).
   * @defaultValue false (true for the spectrogram preset)
   */
  downsample?: boolean;
  /**
   * Channels of the first up-sampling stage; each later stage halves them, down to `minChannels`.
   * @defaultValue min(32, codeDim)
   */
  channels?: number;
  /**
   * Lower bound on the channels of an up-sampling stage.
   * @defaultValue 16
   */
  minChannels?: number;
  /**
   * Normalisation after each up-sampling convolution.
   * @defaultValue 'batch'
   */
  norm?: 'batch' | 'none';
  /**
   * Seed of the weight initialisers, for reproducible runs.
   * @defaultValue 0
   */
  seed?: number;
}

const DECODER_KEYS = optionKeys<InterpreterDecoderOptions>({
  featureShape: true,
  outputShape: true,
  preset: true,
  codeDim: true,
  adapter: true,
  downsample: true,
  channels: true,
  minChannels: true,
  norm: true,
  seed: true,
});

/**
 * The resolved, JSON-serialisable configuration of an {@link InterpreterDecoder}.
 * @category Decoder
 */
export interface InterpreterDecoderConfig {
  featureShape: [number, number, number];
  outputShape: [number, number, number];
  preset: DecoderPreset;
  codeDim: number;
  adapter: 'none' | 'residual';
  downsample: boolean;
  channels: number;
  minChannels: number;
  norm: 'batch' | 'none';
  seed: number;
  /** Set when the decoder network was supplied by the user: its tfjs-layers topology (JSON). */
  customDecoderTopology?: unknown;
}

/**
 * Defaults of {@link InterpreterDecoderOptions} not derived from shapes.
 */
export const DEFAULT_INTERPRETER_DECODER = Object.freeze({
  preset: 'image' as DecoderPreset,
  minChannels: 16,
  norm: 'batch' as const,
  seed: 0,
});

const OWNER = 'InterpreterDecoder';

function shape3(name: string, value: unknown): [number, number, number] {
  if (!Array.isArray(value) || value.length !== 3 || !value.every((d) => Number.isInteger(d) && d > 0)) {
    throw new PiqConfigError(`${OWNER}: '${name}' must be [height, width, channels] of positive integers, got ${Array.isArray(value) ? JSON.stringify(value) : describe(value)}.`);
  }
  return [value[0], value[1], value[2]] as [number, number, number];
}

/**
 * Fills defaults and validates {@link InterpreterDecoderOptions}.
 */
export function resolveInterpreterDecoderConfig(options: InterpreterDecoderOptions): InterpreterDecoderConfig {
  if (typeof options !== 'object' || options === null) {
    throw new PiqConfigError(`${OWNER}: 'options' must be an object, got ${describe(options)}.`);
  }
  optionsObject(OWNER, options, DECODER_KEYS);
  const featureShape = shape3('featureShape', options.featureShape);
  const outputShape = shape3('outputShape', options.outputShape);
  const preset = oneOf(OWNER, 'preset', options.preset ?? DEFAULT_INTERPRETER_DECODER.preset, ['image', 'spectrogram', 'reference-mnist', 'reference-audio'] as const);
  if (isReferencePreset(preset)) return resolveReference(preset, featureShape, outputShape, options);
  const codeDim = positiveInt(OWNER, 'codeDim', options.codeDim ?? featureShape[2]);
  const adapter = oneOf(OWNER, 'adapter', options.adapter ?? (preset === 'spectrogram' ? 'residual' : 'none'), ['none', 'residual'] as const);
  const downsample = boolean(OWNER, 'downsample', options.downsample ?? preset === 'spectrogram');
  const channels = positiveInt(OWNER, 'channels', options.channels ?? Math.min(32, codeDim));
  const minChannels = positiveInt(OWNER, 'minChannels', options.minChannels ?? DEFAULT_INTERPRETER_DECODER.minChannels);
  const norm = oneOf(OWNER, 'norm', options.norm ?? DEFAULT_INTERPRETER_DECODER.norm, ['batch', 'none'] as const);
  const seed = options.seed ?? DEFAULT_INTERPRETER_DECODER.seed;
  if (!Number.isInteger(seed)) throw new PiqConfigError(`${OWNER}: 'seed' must be an integer, got ${describe(seed)}.`);
  const grid = codeGridShape(featureShape, downsample);
  if (grid[0] > outputShape[0] || grid[1] > outputShape[1]) {
    throw new PiqConfigError(
      `${OWNER}: the code grid ${shapeStr(grid)} must not be larger than the output ${shapeStr(outputShape.slice(0, 2))}. Tap an earlier, smaller layer or set downsample: true.`,
    );
  }
  return { featureShape, outputShape, preset, codeDim, adapter, downsample, channels, minChannels, norm, seed };
}

/** A reference preset's configuration: fixed architecture, so only the seed may be chosen. */
function resolveReference(
  preset: ReferencePreset,
  featureShape: [number, number, number],
  outputShape: [number, number, number],
  options: InterpreterDecoderOptions,
): InterpreterDecoderConfig {
  const d = featureShape[2];
  const audio = preset === 'reference-audio';
  // What the preset fixes (a saved configuration repeats these values, and may).
  const fixed = { adapter: audio ? 'residual' : 'none', downsample: audio, channels: d, minChannels: d, norm: 'batch' } as const;
  for (const key of ['adapter', 'downsample', 'channels', 'minChannels', 'norm'] as const) {
    if (options[key] !== undefined && options[key] !== fixed[key]) {
      throw new PiqConfigError(
        `${OWNER}: '${key}' cannot be set with preset '${preset}' (its layers are fixed by the reference), got ${describe(options[key])}. Remove '${key}', or use preset '${preset === 'reference-audio' ? 'spectrogram' : 'image'}'.`,
      );
    }
  }
  if (options.codeDim !== undefined && options.codeDim !== d) {
    throw new PiqConfigError(
      `${OWNER}: 'codeDim' must equal the tap's ${d} channels with preset '${preset}' (the reference quantizes at the tap's width), got ${describe(options.codeDim)}. Remove 'codeDim'.`,
    );
  }
  const seed = options.seed ?? DEFAULT_INTERPRETER_DECODER.seed;
  if (!Number.isInteger(seed)) throw new PiqConfigError(`${OWNER}: 'seed' must be an integer, got ${describe(seed)}.`);
  checkReferenceGeometry(preset, featureShape, outputShape);
  return { featureShape, outputShape, preset, codeDim: d, ...fixed, seed };
}

/** The code grid `[height, width]` the quantizer sees for a feature shape (with a reference preset: that preset's grid). */
export function codeGridShape(featureShape: readonly number[], downsample: boolean, preset?: DecoderPreset): [number, number] {
  if (isReferencePreset(preset)) return referenceCodeGrid(preset, featureShape);
  const [h, w] = featureShape as [number, number];
  return downsample ? [Math.ceil(h / 2), Math.ceil(w / 2)] : [h, w];
}

/**
 * Up-sampling plan: per stage the strides along height and width, and the map size the stages
 * reach. Each axis is doubled `round(log2(target / grid))` times (the size nearest the target on a
 * log scale, so within a factor √2 of it); a bilinear resize then covers the remaining factor.
 * A resize, not a crop: a crop would cut the edges of the code grid off the output (up to half of
 * it when an axis overshoots by almost 2x, e.g. 16 → 256 for 129), misplacing the interpretation.
 *
 * @example
 * ```ts
 * const plan = upsamplingPlan([4, 4], [28, 28]);
 * console.log(plan.strides, plan.size); // [[2, 2], [2, 2], [2, 2]] [32, 32]  (then resized to 28x28)
 * ```
 * @category Decoder
 */
export function upsamplingPlan(grid: readonly [number, number], target: readonly [number, number]): { strides: Array<[number, number]>; size: [number, number] } {
  const doublings = (from: number, to: number): number => Math.max(0, Math.round(Math.log2(to / from)));
  const ny = doublings(grid[0], target[0]);
  const nx = doublings(grid[1], target[1]);
  const strides: Array<[number, number]> = [];
  for (let i = 0; i < Math.max(ny, nx); i++) strides.push([i < ny ? 2 : 1, i < nx ? 2 : 1]);
  return { strides, size: [grid[0] * 2 ** ny, grid[1] * 2 ** nx] };
}

