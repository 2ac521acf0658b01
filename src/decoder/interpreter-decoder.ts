import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { PiqConfigError, PiqInputError, PiqStateError } from '../errors';
import { boolean, describe, oneOf, positiveInt, shapeStr } from '../internal/checks';
import { BatchNormReluLayer } from './batch-norm-relu';

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
 * console.log(c.channels, c.adapter); // 32 'none'
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

function codeGridShape(featureShape: readonly number[], downsample: boolean): [number, number] {
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

/**
 * Bilinear resize to a fixed size (corners aligned, so the whole map lands on the whole output).
 * tfjs-layers' own `Resizing` layer computes a wrong symbolic shape for batched 4D inputs.
 */
class ResizeBilinearLayer extends tfl.layers.Layer {
  static className = 'PiqResizeBilinear';
  private readonly size: [number, number];

  constructor(args: { size: [number, number]; name?: string }) {
    super({ name: args.name });
    this.size = args.size;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    return [s[0] ?? null, this.size[0], this.size[1], s[3] ?? null];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
    return tf.image.resizeBilinear(x, this.size, true);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), size: [...this.size] };
  }
}
tf.serialization.registerClass(ResizeBilinearLayer);

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
    // No bias in front of batch norm: it would be subtracted right away (and get a zero gradient in training).
    const useBias = c.norm !== 'batch';
    let r = tfl.layers.conv2d({ filters: c.codeDim, kernelSize: 3, padding: 'same', useBias, kernelInitializer: init(s++), name: 'adapter_res_conv1' }).apply(x) as tfl.SymbolicTensor;
    // Batch norm + ReLU as one layer with one custom gradient (the same numbers as tfjs-layers' pair, fewer kernels).
    r = (c.norm === 'batch' ? new BatchNormReluLayer({ name: 'adapter_res_bn_relu' }) : tfl.layers.reLU({ name: 'adapter_res_relu' })).apply(r) as tfl.SymbolicTensor;
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
    // No bias in front of batch norm: it would be subtracted right away (and get a zero gradient in training).
    model.add(tfl.layers.conv2dTranspose({ filters: ch, kernelSize: 4, strides: [sy, sx], padding: 'same', useBias: c.norm !== 'batch', kernelInitializer: init(s++), name: `decoder_up${i}` }));
    // Batch norm + ReLU as one layer with one custom gradient (the same numbers as tfjs-layers' pair, fewer kernels).
    model.add(c.norm === 'batch' ? new BatchNormReluLayer({ name: `decoder_bn_relu${i}` }) : tfl.layers.reLU({ name: `decoder_relu${i}` }));
    ch = Math.max(c.minChannels, Math.floor(ch / 2));
  });
  if (plan.size[0] !== c.outputShape[0] || plan.size[1] !== c.outputShape[1]) {
    model.add(new ResizeBilinearLayer({ size: [c.outputShape[0], c.outputShape[1]], name: 'decoder_resize' }));
  }
  model.add(tfl.layers.conv2d({ filters: c.outputShape[2], kernelSize: 3, padding: 'same', kernelInitializer: init(s++), name: 'decoder_out' }));
  return model;
}

function checkCustomDecoder(model: unknown, codeShape: readonly number[], outputShape: readonly number[]): void {
  const expected = `a tf.LayersModel with one input [batch, ${codeShape.join(', ')}] and one output [batch, ${outputShape.join(', ')}]`;
  if (!(model instanceof tfl.LayersModel)) {
    throw new PiqConfigError(`${OWNER}: 'customDecoder' must be ${expected}, got ${describe(model)}.`);
  }
  const shapes = (ts: tfl.SymbolicTensor[]) => ts.map((t) => JSON.stringify(t.shape).replace(/,/g, ', '));
  const ins = shapes(model.inputs);
  const outs = shapes(model.outputs);
  const fits = ins.length === 1 && outs.length === 1 && ins[0] === JSON.stringify([null, ...codeShape]).replace(/,/g, ', ') && outs[0] === JSON.stringify([null, ...outputShape]).replace(/,/g, ', ');
  if (!fits) {
    throw new PiqConfigError(
      `${OWNER}: 'customDecoder' must be ${expected}, got inputs ${ins.join(' and ')} and outputs ${outs.join(' and ')}. Build it with tfl.input({ shape: [${codeShape.join(', ')}] }) and end it with ${outputShape[2]} channels at ${outputShape[0]}x${outputShape[1]}.`,
    );
  }
}

/**
 * The paper's decoder ψ (with the optional adapter A): maps the classifier's tapped features to
 * the code space (`encode`), and a quantized code map back to the input space (`decode`, pre-sigmoid
 * logits `[batch, height, width, channels]`). Built from shapes alone for any sizes: transposed-conv
 * stages of stride 2 (per axis, so non-square inputs work) to the power-of-two multiple of the code grid
 * nearest the output size, then a bilinear resize to the exact size (so the whole code grid stays
 * aligned with the whole output) and a 3x3 convolution to the output channels.
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
    // Check a custom decoder before building anything, so a rejected one leaves no variables behind.
    if (customDecoder !== undefined) checkCustomDecoder(customDecoder, this.codeShape, this.config.outputShape);
    this.adapterModel = buildAdapter(this.config);
    if (customDecoder) {
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
    const where = `${OWNER}.setWeights`;
    if (typeof weights !== 'object' || weights === null) {
      throw new PiqStateError(`${where}: 'weights' must be a record of tensors from getWeights(), got ${describe(weights)}.`);
    }
    // Validate everything before writing anything, so a mismatch leaves the decoder unchanged.
    const plan: Array<{ model: tfl.LayersModel; values: tf.Tensor[] }> = [];
    const expectedKeys = new Set<string>();
    for (const [model, prefix] of [[this.adapterModel, 'adapter'], [this.decoderModel, 'decoder']] as const) {
      if (!model) continue;
      const values = model.getWeights().map((cur, i) => {
        const key = `${prefix}/${i}`;
        expectedKeys.add(key);
        const t = weights[key];
        if (t === undefined) throw new PiqStateError(`${where}: weight '${key}' is missing. The saved decoder does not match this architecture.`);
        if (!(t instanceof tf.Tensor) || t.isDisposed) {
          throw new PiqStateError(`${where}: weight '${key}' must be a live tf.Tensor, got ${t instanceof tf.Tensor ? 'a disposed tensor' : describe(t)}.`);
        }
        if (JSON.stringify(t.shape) !== JSON.stringify(cur.shape)) {
          throw new PiqStateError(`${where}: weight '${key}' must have shape ${shapeStr(cur.shape)}, got ${shapeStr(t.shape)}. The saved decoder does not match this architecture.`);
        }
        return t;
      });
      plan.push({ model, values });
    }
    // Other components' weights may share the record; only our own prefixes must match exactly.
    const extra = Object.keys(weights).filter((k) => /^(adapter|decoder)\//.test(k) && !expectedKeys.has(k));
    if (extra.length > 0) {
      throw new PiqStateError(
        `${where}: 'weights' must hold exactly this decoder's ${expectedKeys.size} weights, got unexpected ${extra.map((k) => `'${k}'`).join(', ')}. The saved decoder does not match this architecture (adapter, downsample, codeDim or channels differ).`,
      );
    }
    for (const { model, values } of plan) model.setWeights(values);
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
