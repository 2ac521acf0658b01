import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { PiqConfigError, PiqInputError, PiqStateError } from '../errors';
import { boolean, describe, oneOf, positiveInt, shapeStr } from '../internal/validate';

/**
 * Named starting points for the decoder architecture.
 * - `'image'`: no adapter, transposed-conv stages from the tap to the image (the reference MNIST shape).
 * - `'spectrogram'`: a residual adapter with a stride-2 down-projection before quantization, then
 *   transposed-conv stages back up (the reference audio shape, with channels scaled to the input).
 * @category Decoder
 */
export type DecoderPreset = 'image' | 'spectrogram';

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
   * Adds a stride-2 down-projection to the adapter (halves the code grid, as the reference audio setup).
   * @defaultValue false (true for the spectrogram preset)
   */
  downsample?: boolean;
  /**
   * Channels of the first up-sampling stage; each later stage halves them, down to `minChannels`.
   * @defaultValue min(64, codeDim) for 'image', min(64, codeDim) for 'spectrogram'
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
 * @category Decoder
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
 * @example
 * ```ts
 * import { resolveInterpreterDecoderConfig } from 'piq-tfjs';
 * const c = resolveInterpreterDecoderConfig({ featureShape: [7, 7, 64], outputShape: [28, 28, 1] });
 * console.log(c.channels, c.adapter); // 64 'none'
 * ```
 * @category Decoder
 */
export function resolveInterpreterDecoderConfig(options: InterpreterDecoderOptions): InterpreterDecoderConfig {
  if (typeof options !== 'object' || options === null) {
    throw new PiqConfigError(`${OWNER}: 'options' must be an object, got ${describe(options)}.`);
  }
  const featureShape = shape3('featureShape', options.featureShape);
  const outputShape = shape3('outputShape', options.outputShape);
  const preset = oneOf(OWNER, 'preset', options.preset ?? DEFAULT_INTERPRETER_DECODER.preset, ['image', 'spectrogram'] as const);
  const codeDim = positiveInt(OWNER, 'codeDim', options.codeDim ?? featureShape[2]);
  const adapter = oneOf(OWNER, 'adapter', options.adapter ?? (preset === 'spectrogram' ? 'residual' : 'none'), ['none', 'residual'] as const);
  const downsample = boolean(OWNER, 'downsample', options.downsample ?? preset === 'spectrogram');
  const channels = positiveInt(OWNER, 'channels', options.channels ?? Math.min(64, codeDim));
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

function codeGridShape(featureShape: readonly number[], downsample: boolean): [number, number] {
  const [h, w] = featureShape as [number, number];
  return downsample ? [Math.ceil(h / 2), Math.ceil(w / 2)] : [h, w];
}

/** Up-sampling plan: per stage the strides along height and width, then the crop to the exact size. */
export function upsamplingPlan(grid: readonly [number, number], target: readonly [number, number]): { strides: Array<[number, number]>; crop: [[number, number], [number, number]] } {
  let [h, w] = grid;
  const strides: Array<[number, number]> = [];
  while (h < target[0] || w < target[1]) {
    const sy = h < target[0] ? 2 : 1;
    const sx = w < target[1] ? 2 : 1;
    strides.push([sy, sx]);
    h *= sy;
    w *= sx;
  }
  const dh = h - target[0];
  const dw = w - target[1];
  return { strides, crop: [[Math.floor(dh / 2), Math.ceil(dh / 2)], [Math.floor(dw / 2), Math.ceil(dw / 2)]] };
}

function init(seed: number): ReturnType<typeof tfl.initializers.glorotUniform> {
  return tfl.initializers.glorotUniform({ seed });
}

function buildAdapter(c: InterpreterDecoderConfig): tfl.LayersModel | undefined {
  if (c.adapter === 'none' && !c.downsample && c.codeDim === c.featureShape[2]) return undefined;
  const input = tfl.input({ shape: c.featureShape });
  let x: tfl.SymbolicTensor = input;
  let s = c.seed + 1000;
  if (c.codeDim !== c.featureShape[2] || c.downsample) {
    x = tfl.layers
      .conv2d({ filters: c.codeDim, kernelSize: c.downsample ? 3 : 1, strides: c.downsample ? 2 : 1, padding: 'same', kernelInitializer: init(s++), name: 'adapter_project' })
      .apply(x) as tfl.SymbolicTensor;
  }
  if (c.adapter === 'residual') {
    let r = tfl.layers.conv2d({ filters: c.codeDim, kernelSize: 3, padding: 'same', kernelInitializer: init(s++), name: 'adapter_res_conv1' }).apply(x) as tfl.SymbolicTensor;
    if (c.norm === 'batch') r = tfl.layers.batchNormalization({ name: 'adapter_res_bn' }).apply(r) as tfl.SymbolicTensor;
    r = tfl.layers.reLU({ name: 'adapter_res_relu' }).apply(r) as tfl.SymbolicTensor;
    r = tfl.layers.conv2d({ filters: c.codeDim, kernelSize: 3, padding: 'same', kernelInitializer: init(s++), name: 'adapter_res_conv2' }).apply(r) as tfl.SymbolicTensor;
    x = tfl.layers.add({ name: 'adapter_res_add' }).apply([x, r]) as tfl.SymbolicTensor;
  }
  return tfl.model({ inputs: input, outputs: x, name: 'piq_adapter' });
}

function buildDecoder(c: InterpreterDecoderConfig): tfl.LayersModel {
  const grid = codeGridShape(c.featureShape, c.downsample);
  const plan = upsamplingPlan(grid, [c.outputShape[0], c.outputShape[1]]);
  const model = tfl.sequential({ name: 'piq_decoder' });
  let s = c.seed + 2000;
  let ch = c.channels;
  model.add(tfl.layers.inputLayer({ inputShape: [grid[0], grid[1], c.codeDim], name: 'decoder_input' }));
  plan.strides.forEach(([sy, sx], i) => {
    model.add(tfl.layers.conv2dTranspose({ filters: ch, kernelSize: 4, strides: [sy, sx], padding: 'same', kernelInitializer: init(s++), name: `decoder_up${i}` }));
    if (c.norm === 'batch') model.add(tfl.layers.batchNormalization({ name: `decoder_bn${i}` }));
    model.add(tfl.layers.reLU({ name: `decoder_relu${i}` }));
    ch = Math.max(c.minChannels, Math.floor(ch / 2));
  });
  const [[t, b], [l, r]] = plan.crop;
  if (t + b + l + r > 0) model.add(tfl.layers.cropping2D({ cropping: [[t, b], [l, r]], name: 'decoder_crop' }));
  model.add(tfl.layers.conv2d({ filters: c.outputShape[2], kernelSize: 3, padding: 'same', kernelInitializer: init(s++), name: 'decoder_out' }));
  return model;
}

/**
 * The paper's decoder ψ (with the optional adapter A): maps the classifier's tapped features to
 * the code space (`encode`), and a quantized code map back to the input space (`decode`, pre-sigmoid
 * logits `[batch, height, width, channels]`). Built from shapes alone for any sizes: transposed-conv
 * stages of stride 2 (per axis, so non-square inputs work) until the map covers the output, then a
 * centred crop to the exact size and a 3x3 convolution to the output channels.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { InterpreterDecoder } from 'piq-tfjs';
 * const decoder = new InterpreterDecoder({ featureShape: [7, 7, 32], outputShape: [28, 28, 1] });
 * const out = decoder.decode(tf.zeros([2, 7, 7, 32]));
 * console.log(out.shape); // [2, 28, 28, 1]
 * decoder.dispose();
 * ```
 * @category Decoder
 */
export class InterpreterDecoder {
  /** The resolved configuration. */
  readonly config: InterpreterDecoderConfig;
  /** Shape of the code grid the quantizer sees: `[height, width, codeDim]`. */
  readonly codeShape: [number, number, number];
  private adapterModel: tfl.LayersModel | undefined;
  private decoderModel: tfl.LayersModel;
  private disposed = false;

  /**
   * @param options shapes and architecture; see {@link InterpreterDecoderOptions}.
   * @param customDecoder a tfjs-layers model of your own mapping `[h, w, codeDim]` to the output shape,
   *   used instead of the built-in up-sampling stages (it is owned and disposed by this decoder).
   */
  constructor(options: InterpreterDecoderOptions, customDecoder?: tfl.LayersModel) {
    this.config = resolveInterpreterDecoderConfig(options);
    const grid = codeGridShape(this.config.featureShape, this.config.downsample);
    this.codeShape = [grid[0], grid[1], this.config.codeDim];
    this.adapterModel = buildAdapter(this.config);
    if (customDecoder) {
      const inShape = (customDecoder.inputs[0] as tfl.SymbolicTensor).shape.slice(1);
      const outShape = (customDecoder.outputs[0] as tfl.SymbolicTensor).shape.slice(1);
      if (JSON.stringify(inShape) !== JSON.stringify(this.codeShape) || JSON.stringify(outShape) !== JSON.stringify(this.config.outputShape)) {
        throw new PiqConfigError(
          `${OWNER}: a custom decoder must map ${shapeStr(this.codeShape)} to ${shapeStr(this.config.outputShape)}, got ${JSON.stringify(inShape)} -> ${JSON.stringify(outShape)}.`,
        );
      }
      this.decoderModel = customDecoder;
      this.config.customDecoderTopology = customDecoder.toJSON(null, false);
    } else {
      this.decoderModel = buildDecoder(this.config);
    }
  }

  private check(method: string): void {
    if (this.disposed) throw new PiqStateError(`${OWNER}.${method}: the decoder was disposed. Create a new one.`);
  }

  /**
   * Maps features `[batch, h, w, channels]` to the code space `[batch, h', w', codeDim]` (identity without adapter).
   * @param training true during training (batch-norm statistics update).
   */
  encode(features: tf.Tensor4D, training = false): tf.Tensor4D {
    this.check('encode');
    const [h, w, d] = this.config.featureShape;
    if (!(features instanceof tf.Tensor) || features.rank !== 4 || features.shape[1] !== h || features.shape[2] !== w || features.shape[3] !== d) {
      throw new PiqInputError(`${OWNER}.encode: 'features' must have shape [batch, ${h}, ${w}, ${d}], got ${features instanceof tf.Tensor ? shapeStr(features.shape) : describe(features)}.`);
    }
    if (!this.adapterModel) return tf.clone(features);
    return this.adapterModel.apply(features, { training }) as tf.Tensor4D;
  }

  /**
   * Maps a (quantized) code map `[batch, h', w', codeDim]` to output logits `[batch, height, width, channels]`.
   * @param training true during training (batch-norm statistics update).
   */
  decode(codes: tf.Tensor4D, training = false): tf.Tensor4D {
    this.check('decode');
    const [h, w, d] = this.codeShape;
    if (!(codes instanceof tf.Tensor) || codes.rank !== 4 || codes.shape[1] !== h || codes.shape[2] !== w || codes.shape[3] !== d) {
      throw new PiqInputError(`${OWNER}.decode: 'codes' must have shape [batch, ${h}, ${w}, ${d}], got ${codes instanceof tf.Tensor ? shapeStr(codes.shape) : describe(codes)}.`);
    }
    return this.decoderModel.apply(codes, { training }) as tf.Tensor4D;
  }

  /** The trainable variables (adapter and decoder). */
  get trainableVariables(): tf.Variable[] {
    this.check('trainableVariables');
    const ws = [...(this.adapterModel?.trainableWeights ?? []), ...this.decoderModel.trainableWeights];
    return ws.map((w) => (w as unknown as { val: tf.Variable }).val);
  }

  /** Copies of all weights (trainable and batch-norm statistics) under stable names `adapter/<i>`, `decoder/<i>`; the caller owns them. */
  getWeights(): Record<string, tf.Tensor> {
    this.check('getWeights');
    const out: Record<string, tf.Tensor> = {};
    (this.adapterModel?.getWeights() ?? []).forEach((t, i) => (out[`adapter/${i}`] = tf.clone(t)));
    this.decoderModel.getWeights().forEach((t, i) => (out[`decoder/${i}`] = tf.clone(t)));
    return out;
  }

  /** Restores weights produced by {@link InterpreterDecoder.getWeights}; shapes must match exactly. */
  setWeights(weights: Record<string, tf.Tensor>): void {
    this.check('setWeights');
    const apply = (model: tfl.LayersModel | undefined, prefix: string): void => {
      if (!model) return;
      const current = model.getWeights();
      const next = current.map((cur, i) => {
        const t = weights[`${prefix}/${i}`];
        if (!t) throw new PiqStateError(`${OWNER}.setWeights: weight '${prefix}/${i}' is missing. The saved decoder does not match this architecture.`);
        if (JSON.stringify(t.shape) !== JSON.stringify(cur.shape)) {
          throw new PiqStateError(`${OWNER}.setWeights: weight '${prefix}/${i}' must have shape ${shapeStr(cur.shape)}, got ${shapeStr(t.shape)}.`);
        }
        return t;
      });
      model.setWeights(next);
    };
    apply(this.adapterModel, 'adapter');
    apply(this.decoderModel, 'decoder');
  }

  /** Number of scalar parameters (trainable and not). */
  countParams(): number {
    this.check('countParams');
    return (this.adapterModel?.countParams() ?? 0) + this.decoderModel.countParams();
  }

  /** The JSON configuration (see {@link InterpreterDecoderConfig}). */
  getConfig(): InterpreterDecoderConfig {
    return JSON.parse(JSON.stringify(this.config)) as InterpreterDecoderConfig;
  }

  /** Rebuilds a decoder (fresh weights) from {@link InterpreterDecoder.getConfig}. */
  static fromConfig(config: InterpreterDecoderConfig): InterpreterDecoder {
    if (config.customDecoderTopology) {
      throw new PiqConfigError(`${OWNER}.fromConfig: a custom decoder topology must be restored with InterpreterDecoder.fromConfigAsync.`);
    }
    return new InterpreterDecoder(config);
  }

  /** Rebuilds a decoder from its configuration, including a user-supplied decoder topology. */
  static async fromConfigAsync(config: InterpreterDecoderConfig): Promise<InterpreterDecoder> {
    if (!config.customDecoderTopology) return new InterpreterDecoder(config);
    const model = await tfl.models.modelFromJSON({ modelTopology: config.customDecoderTopology as never });
    return new InterpreterDecoder(config, model);
  }

  /** Whether {@link InterpreterDecoder.dispose} was called. */
  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Frees the decoder's variables. Later calls throw PiqStateError. */
  dispose(): void {
    if (this.disposed) return;
    this.adapterModel?.dispose();
    this.decoderModel.dispose();
    this.disposed = true;
  }
}
