// The decoder's tfjs-layers networks, built from a resolved configuration: the optional adapter
// (1x1 / stride-2 projection, residual block) and the up-sampling decoder.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { PiqConfigError } from '../errors';
import { describe } from '../internal/checks';
import { BatchNormReluLayer } from './batch-norm-relu';
import { codeGridShape, upsamplingPlan, type InterpreterDecoderConfig } from './decoder-config';

const OWNER = 'InterpreterDecoder';

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

/** The adapter between the classifier's features and the code space, or undefined when it would be the identity. */
export function buildAdapter(c: InterpreterDecoderConfig): tfl.LayersModel | undefined {
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

/** The up-sampling stages from the code grid to the output shape. */
export function buildDecoder(c: InterpreterDecoderConfig): tfl.LayersModel {
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

/** Checks that a user's decoder maps the code shape to the output shape. */
export function checkCustomDecoder(model: unknown, codeShape: readonly number[], outputShape: readonly number[]): void {
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

