// The two faithful reference decoder presets, layer for layer (issue #13):
//
// 'reference-audio': SpeechBrain `speechbrain/lobes/models/PIQ.py`, class `VectorQuantizedPSI_Audio`
//   (speechbrain/speechbrain @ 9c826ef3937bac885c8a6ca86c6889a30f256fb5, L378-386 ResBlockAudio,
//   L454-475 adapter / down / up / decoder, L494-506 forward; first merged version 26d25d461e40:
//   L378-387, L459-480, L498-510), built with the arguments of recipes/ESC50/interpret/hparams/piq.yaml
//   (dim 256, K 1024, use_adapter, adapter_reduce_dim).
// 'reference-mnist': the authors' development code `recipes/ESC50/classification/custom_models.py`,
//   class `VectorQuantizedPSI` (ycemsubakan/speechbrain-1 @ 52d37e4098d0cab2bbd09b57b6ff93f9ce012334,
//   L338-351 ResBlock, L435-447 decoder, L475-480 forward), K 128, 5 shared keys, dim 128.
//
// tfjs recipe (channels-last): PyTorch ConvTranspose2d(k, s, p) = conv2dTranspose 'valid' + cropping2D(p)
// ('same' is wrong for k3 s2 p1 and k12 s1 p1); Conv2d(4, 2, 1) = zeroPadding2d(1) + conv2d 'valid';
// BatchNorm2d = epsilon 1e-5, momentum 0.9 (PyTorch momentum 0.1); every conv has a bias; Xavier-uniform
// kernels (glorotUniform), zero biases. The MNIST ResBlock's in-place ReLU makes its skip relu(x).
import * as tfl from '@tensorflow/tfjs-layers';
import { PiqConfigError } from '../errors';
import { shapeStr } from '../internal/checks';
import { BatchNormReluLayer } from './batch-norm-relu';

/** The faithful presets. */
export type ReferencePreset = 'reference-mnist' | 'reference-audio';

export const REFERENCE_PRESETS: readonly ReferencePreset[] = ['reference-mnist', 'reference-audio'];

export function isReferencePreset(p: unknown): p is ReferencePreset {
  return p === 'reference-mnist' || p === 'reference-audio';
}

const OWNER = 'InterpreterDecoder';
/** PyTorch BatchNorm2d defaults in tfjs terms. */
const BN = { epsilon: 1e-5, momentum: 0.9 } as const;

/** The code grid of a reference preset: the tap itself (MNIST) or `⌊H/2⌋ × ⌊W/2⌋` after `down` (audio). */
export function referenceCodeGrid(preset: ReferencePreset, featureShape: readonly number[]): [number, number] {
  const [h, w] = featureShape as [number, number];
  return preset === 'reference-audio' ? [Math.floor(h / 2), Math.floor(w / 2)] : [h, w];
}

/**
 * The output size the reference layers produce from a tap `H × W`, per axis:
 * MNIST `8H − 4` (4 → 7 → 14 → 28); audio `32·⌊H/2⌋ + 1` (26 → 13 → 26 → 51 → 102 → 204 → 408 → 417).
 */
export function referenceOutputSize(preset: ReferencePreset, featureShape: readonly number[]): [number, number] {
  const [gh, gw] = referenceCodeGrid(preset, featureShape);
  return preset === 'reference-audio' ? [32 * gh + 1, 32 * gw + 1] : [8 * gh - 4, 8 * gw - 4];
}

/** Throws unless the reference layers map this tap exactly onto the output (the reference never resizes). */
export function checkReferenceGeometry(preset: ReferencePreset, featureShape: readonly number[], outputShape: readonly number[]): void {
  const [oh, ow] = referenceOutputSize(preset, featureShape);
  const [gh, gw] = referenceCodeGrid(preset, featureShape);
  if (gh < 1 || gw < 1 || oh !== outputShape[0] || ow !== outputShape[1]) {
    const rule =
      preset === 'reference-audio'
        ? 'its layers map a tap H×W to (32·⌊H/2⌋+1)×(32·⌊W/2⌋+1), e.g. 26×32 → 417×513; the reference crops the spectrogram to that length (417 frames) before interpreting'
        : 'its layers map a tap H×W to (8H−4)×(8W−4), e.g. the 4×4 tap of the reference MNIST classifier → 28×28';
    throw new PiqConfigError(
      `${OWNER}: preset '${preset}' must produce the output ${shapeStr(outputShape.slice(0, 2))} from the tap ${shapeStr(featureShape)}, got ${oh}×${ow}: ${rule}. Feed the classifier inputs of ${oh}×${ow}, tap a layer of the matching size, or use preset '${preset === 'reference-audio' ? 'spectrogram' : 'image'}' (resizes to any size).`,
    );
  }
}

function glorot(seed: number) {
  return tfl.initializers.glorotUniform({ seed });
}

/** PyTorch `ConvTranspose2d(k, s, p)`: a 'valid' transposed convolution, then `p` cropped off each side. */
function convTranspose(x: tfl.SymbolicTensor, name: string, filters: number, kernelSize: number, strides: number, crop: number, seed: number): tfl.SymbolicTensor {
  const y = tfl.layers.conv2dTranspose({ filters, kernelSize, strides, padding: 'valid', kernelInitializer: glorot(seed), name }).apply(x) as tfl.SymbolicTensor;
  return tfl.layers.cropping2D({ cropping: [[crop, crop], [crop, crop]], name: `${name}_crop` }).apply(y) as tfl.SymbolicTensor;
}

function conv(x: tfl.SymbolicTensor, name: string, filters: number, kernelSize: number, seed: number): tfl.SymbolicTensor {
  return tfl.layers.conv2d({ filters, kernelSize, padding: 'same', kernelInitializer: glorot(seed), name }).apply(x) as tfl.SymbolicTensor;
}

function bn(x: tfl.SymbolicTensor, name: string, relu: boolean): tfl.SymbolicTensor {
  return new BatchNormReluLayer({ ...BN, relu, name }).apply(x) as tfl.SymbolicTensor;
}

function relu(x: tfl.SymbolicTensor, name: string): tfl.SymbolicTensor {
  return tfl.layers.reLU({ name }).apply(x) as tfl.SymbolicTensor;
}

/**
 * The adapter of a reference preset (audio only; MNIST quantizes the tap directly): `ResBlockAudio`
 * (Conv3×3 → BN → ReLU → Conv1×1 → BN, plus the plain skip, no activation after the add), then
 * `down` = Conv2d(4, stride 2, pad 1).
 */
export function buildReferenceAdapter(preset: ReferencePreset, featureShape: readonly [number, number, number], seed: number): tfl.LayersModel | undefined {
  if (preset !== 'reference-audio') return undefined;
  const d = featureShape[2];
  let s = seed + 1000;
  const input = tfl.input({ shape: [...featureShape] });
  let r = conv(input, 'adapter_block0_conv3x3', d, 3, s++);
  r = bn(r, 'adapter_block1_bn_relu', true);
  r = conv(r, 'adapter_block3_conv1x1', d, 1, s++);
  r = bn(r, 'adapter_block4_bn', false);
  let x = tfl.layers.add({ name: 'adapter_residual_add' }).apply([input, r]) as tfl.SymbolicTensor;
  x = tfl.layers.zeroPadding2d({ padding: [[1, 1], [1, 1]], name: 'down_pad' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.conv2d({ filters: d, kernelSize: 4, strides: 2, padding: 'valid', kernelInitializer: glorot(s++), name: 'down' }).apply(x) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: x, name: 'piq_adapter' });
}

/** The MNIST fork's ResBlock: `relu(x) + block(relu(x))`, block = Conv3×3 → BN → ReLU → Conv1×1 → BN (the in-place ReLU aliases the skip). */
function mnistResBlock(x: tfl.SymbolicTensor, i: number, d: number, seed: number): tfl.SymbolicTensor {
  const rx = relu(x, `decoder${i}_block0_relu`);
  let r = conv(rx, `decoder${i}_block1_conv3x3`, d, 3, seed);
  r = bn(r, `decoder${i}_block2_bn_relu`, true);
  r = conv(r, `decoder${i}_block4_conv1x1`, d, 1, seed + 1);
  r = bn(r, `decoder${i}_block5_bn`, false);
  return tfl.layers.add({ name: `decoder${i}_residual_add` }).apply([rx, r]) as tfl.SymbolicTensor;
}

/**
 * The decoder of a reference preset, from the code grid to pre-activation logits with `outChannels`
 * channels (the output head — sigmoid or softplus — is applied by the model, as the recipes do).
 * - MNIST: 2 ResBlocks → ReLU → ConvT(3,2,1) → BN → ReLU → ConvT(4,2,1) → BN → ReLU → ConvT(4,2,1).
 *   The fork's final `nn.Sigmoid` and the training code's second sigmoid become the model's one sigmoid.
 * - audio: `up` ConvT(4,2,1) (no activation) → ConvT(3,2,1) → ReLU → BN → 3 × [ConvT(4,2,1) → ReLU → BN] → ConvT(12,1,1).
 */
export function buildReferenceDecoder(
  preset: ReferencePreset,
  featureShape: readonly [number, number, number],
  outChannels: number,
  seed: number,
): tfl.LayersModel {
  const d = featureShape[2];
  const [gh, gw] = referenceCodeGrid(preset, featureShape);
  let s = seed + 2000;
  const input = tfl.input({ shape: [gh, gw, d], name: 'decoder_input' });
  let x: tfl.SymbolicTensor = input;
  if (preset === 'reference-mnist') {
    x = mnistResBlock(x, 0, d, (s += 2));
    x = mnistResBlock(x, 1, d, (s += 2));
    x = relu(x, 'decoder2_relu');
    x = convTranspose(x, 'decoder3_convT', d, 3, 2, 1, s++);
    x = bn(x, 'decoder4_bn_relu', true);
    x = convTranspose(x, 'decoder6_convT', d, 4, 2, 1, s++);
    x = bn(x, 'decoder7_bn_relu', true);
    x = convTranspose(x, 'decoder9_convT', outChannels, 4, 2, 1, s++);
  } else {
    x = convTranspose(x, 'up_convT', d, 4, 2, 1, s++);
    x = convTranspose(x, 'decoder0_convT', d, 3, 2, 1, s++);
    x = relu(x, 'decoder1_relu');
    x = bn(x, 'decoder2_bn', false);
    for (const i of [3, 6, 9]) {
      x = convTranspose(x, `decoder${i}_convT`, d, 4, 2, 1, s++);
      x = relu(x, `decoder${i + 1}_relu`);
      x = bn(x, `decoder${i + 2}_bn`, false);
    }
    x = convTranspose(x, 'decoder12_convT', outChannels, 12, 1, 1, s++);
  }
  return tfl.model({ inputs: input, outputs: x, name: 'piq_decoder' });
}
