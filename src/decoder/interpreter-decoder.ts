import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { PiqConfigError, PiqInputError, PiqStateError } from '../errors';
import { assertLive, describe, shapeStr } from '../internal/checks';
import { codeGridShape, resolveInterpreterDecoderConfig, type InterpreterDecoderConfig, type InterpreterDecoderOptions } from './decoder-config';
import { buildAdapter, buildDecoder, checkCustomDecoder } from './decoder-networks';
import { buildReferenceAdapter, buildReferenceDecoder, isReferencePreset } from './reference-presets';

const OWNER = 'InterpreterDecoder';

/**
 * One layer of {@link InterpreterDecoder.layerSummary}.
 * @category Decoder
 */
export interface DecoderLayerSummary {
  /** `'adapter'` (before the quantizer) or `'decoder'` (after it). */
  part: 'adapter' | 'decoder';
  name: string;
  /** The tfjs-layers class name, e.g. `'Conv2DTranspose'`, `'Cropping2D'`, `'PiqBatchNormRelu'`. */
  type: string;
  kernelSize?: number[];
  strides?: number[];
  padding?: string | number[][];
  cropping?: number[][];
  filters?: number;
  /** For batch-norm layers: whether a ReLU follows inside the layer. */
  relu?: boolean;
  /** Output shape without the batch dimension. */
  outputShape: number[];
  trainableParams: number;
  nonTrainableParams: number;
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
    const grid = codeGridShape(this.config.featureShape, this.config.downsample, this.config.preset);
    this.codeShape = [grid[0], grid[1], this.config.codeDim];
    // Check a custom decoder before building anything, so a rejected one leaves no variables behind.
    if (customDecoder !== undefined) checkCustomDecoder(customDecoder, this.codeShape, this.config.outputShape);
    const c = this.config;
    if (isReferencePreset(c.preset)) {
      this.adapterModel = buildReferenceAdapter(c.preset, c.featureShape, c.seed);
      this.decoderModel = customDecoder ?? buildReferenceDecoder(c.preset, c.featureShape, c.outputShape[2], c.seed);
    } else {
      this.adapterModel = buildAdapter(c);
      this.decoderModel = customDecoder ?? buildDecoder(c);
    }
    if (customDecoder) this.config.customDecoderTopology = customDecoder.toJSON(null, false);
  }

  private check(method: string): void {
    assertLive(this.disposed, OWNER, method, 'decoder', 'Create a new one.');
  }

  /**
   * Maps features `[batch, h, w, channels]` to the code space `[batch, h', w', codeDim]` (identity without adapter).
   * @param training true during training: batch norm normalises with the batch's statistics (and
   *   updates its moving averages, unless `options.updateStatistics` is false).
   * @param options `updateStatistics: false` encodes as training does without moving the batch-norm
   *   averages (used to seed the codebook from the first batch).
   */
  encode(features: tf.Tensor4D, training = false, options: { updateStatistics?: boolean } = {}): tf.Tensor4D {
    this.check('encode');
    const [h, w, d] = this.config.featureShape;
    if (!(features instanceof tf.Tensor) || features.rank !== 4 || features.shape[1] !== h || features.shape[2] !== w || features.shape[3] !== d) {
      throw new PiqInputError(`${OWNER}.encode: 'features' must have shape [batch, ${h}, ${w}, ${d}], got ${features instanceof tf.Tensor ? shapeStr(features.shape) : describe(features)}.`);
    }
    const adapter = this.adapterModel;
    if (!adapter) return tf.clone(features);
    if (!training || options.updateStatistics !== false) return adapter.apply(features, { training }) as tf.Tensor4D;
    // Batch statistics without a moving-average update: keep the non-trainable weights and put them back.
    const kept = adapter.nonTrainableWeights.map((w) => tf.clone(w.read()));
    try {
      return adapter.apply(features, { training: true }) as tf.Tensor4D;
    } finally {
      adapter.nonTrainableWeights.forEach((w, i) => w.write(kept[i] as tf.Tensor));
      tf.dispose(kept);
    }
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

  /**
   * The layers of the adapter and the decoder, in order, with their type, kernel, strides, padding,
   * cropping, output shape (without batch) and parameter counts: the architecture as built.
   */
  layerSummary(): DecoderLayerSummary[] {
    this.check('layerSummary');
    const rows: DecoderLayerSummary[] = [];
    for (const [part, model] of [['adapter', this.adapterModel], ['decoder', this.decoderModel]] as const) {
      for (const layer of model?.layers ?? []) {
        if (layer.getClassName() === 'InputLayer') continue;
        const cfg = layer.getConfig() as Record<string, unknown>;
        const count = (ws: tfl.LayerVariable[]) => ws.reduce((n, w) => n + (w.shape as number[]).reduce((a, b) => a * b, 1), 0);
        const out = layer.outputShape as number[];
        rows.push({
          part,
          name: layer.name,
          type: layer.getClassName(),
          ...(cfg['kernelSize'] !== undefined ? { kernelSize: cfg['kernelSize'] as number[] } : {}),
          ...(cfg['strides'] !== undefined ? { strides: cfg['strides'] as number[] } : {}),
          ...(cfg['padding'] !== undefined ? { padding: cfg['padding'] as DecoderLayerSummary['padding'] } : {}),
          ...(cfg['cropping'] !== undefined ? { cropping: cfg['cropping'] as number[][] } : {}),
          ...(cfg['filters'] !== undefined ? { filters: cfg['filters'] as number } : {}),
          ...(cfg['relu'] !== undefined ? { relu: cfg['relu'] as boolean } : {}),
          outputShape: out.slice(1),
          trainableParams: count(layer.trainableWeights),
          nonTrainableParams: count(layer.nonTrainableWeights),
        });
      }
    }
    return rows;
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
    const { customDecoderTopology: _none, ...options } = config;
    return new InterpreterDecoder(options);
  }

  /** Rebuilds a decoder from its configuration, including a user-supplied decoder topology. */
  static async fromConfigAsync(config: InterpreterDecoderConfig): Promise<InterpreterDecoder> {
    const { customDecoderTopology: topology, ...options } = config;
    if (!topology) return new InterpreterDecoder(options);
    const model = await tfl.models.modelFromJSON({ modelTopology: topology as never });
    return new InterpreterDecoder(options, model);
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
