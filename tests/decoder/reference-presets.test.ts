// The faithful reference presets against the reference's layer lists. Ground truth: the tables of
// the issue-#13 specification, whose parameter counts were computed in PyTorch 1.13 from the real
// classes (SpeechBrain VectorQuantizedPSI_Audio @ 9c826ef3 with piq.yaml's arguments: 6,792,193
// trainable; the MNIST fork's VectorQuantizedPSI @ 52d37e40: 758,017 trainable used in the forward
// pass), independently of this code.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, describe, expect, it } from 'vitest';
import { createInterpreter, InterpreterDecoder, loadInterpreter, PiqConfigError, toClassifierAdapter, VectorQuantizer, type DecoderLayerSummary } from '../../src';
import { BatchNormReluLayer } from '../../src/decoder/batch-norm-relu';
import { memoryHandler } from '../fixtures/memory-handler';
import { expectClose, expectNoTensorLeak, expectThrowsWithoutLeak } from '../helpers';

/** The layers of a summary as [type, kernel, strides, crop, output H×W×C, trainable params] rows. */
function rows(summary: DecoderLayerSummary[]) {
  return summary.map((l) => [l.part, l.type, l.kernelSize?.join('x') ?? '', l.strides?.join('x') ?? '', l.cropping ? l.cropping[0]?.[0] : '', l.outputShape.join('x'), l.trainableParams]);
}
const sum = (s: DecoderLayerSummary[], k: 'trainableParams' | 'nonTrainableParams') => s.reduce((n, l) => n + l[k], 0);

describe("preset 'reference-mnist' (ycemsubakan/speechbrain-1 @ 52d37e40, custom_models.py VectorQuantizedPSI)", () => {
  const d = new InterpreterDecoder({ preset: 'reference-mnist', featureShape: [4, 4, 128], outputShape: [28, 28, 1] });
  afterAll(() => d.dispose());
  const s = d.layerSummary();

  it('has the reference layers in order: 2 ResBlocks (leading ReLU), ReLU, ConvT 3/2/1 → BN → ReLU, ConvT 4/2/1 → BN → ReLU, ConvT 4/2/1', () => {
    const res = () => [
      ['decoder', 'ReLU', '', '', '', '4x4x128', 0],
      ['decoder', 'Conv2D', '3x3', '1x1', '', '4x4x128', 147_584],
      ['decoder', 'PiqBatchNormRelu', '', '', '', '4x4x128', 256],
      ['decoder', 'Conv2D', '1x1', '1x1', '', '4x4x128', 16_512],
      ['decoder', 'PiqBatchNormRelu', '', '', '', '4x4x128', 256],
      ['decoder', 'Add', '', '', '', '4x4x128', 0],
    ];
    expect(rows(s)).toEqual([
      ...res(),
      ...res(),
      ['decoder', 'ReLU', '', '', '', '4x4x128', 0],
      ['decoder', 'Conv2DTranspose', '3x3', '2x2', '', '9x9x128', 147_584],
      ['decoder', 'Cropping2D', '', '', 1, '7x7x128', 0],
      ['decoder', 'PiqBatchNormRelu', '', '', '', '7x7x128', 256],
      ['decoder', 'Conv2DTranspose', '4x4', '2x2', '', '16x16x128', 262_272],
      ['decoder', 'Cropping2D', '', '', 1, '14x14x128', 0],
      ['decoder', 'PiqBatchNormRelu', '', '', '', '14x14x128', 256],
      ['decoder', 'Conv2DTranspose', '4x4', '2x2', '', '30x30x1', 2_049],
      ['decoder', 'Cropping2D', '', '', 1, '28x28x1', 0],
    ]);
    // BN → ReLU order (the opposite of audio): the ResBlocks' first BN and both up-sampling BNs carry the ReLU.
    expect(s.filter((l) => l.type === 'PiqBatchNormRelu').map((l) => l.relu)).toEqual([true, false, true, false, true, true]);
    expect(s.every((l) => l.type !== 'Conv2DTranspose' || l.padding === 'valid')).toBe(true);
  });

  it('counts 741,633 trainable decoder parameters, 758,017 with the K=128 codebook, and 1,536 batch-norm statistics', () => {
    expect(sum(s, 'trainableParams')).toBe(741_633);
    expect(sum(s, 'nonTrainableParams')).toBe(1_536);
    expect(d.codeShape).toEqual([4, 4, 128]);
    const vq = new VectorQuantizer({ codeDim: 128, layout: { numClasses: 10, codebookSize: 128, sharedCodes: 5 } });
    expect(sum(s, 'trainableParams') + vq.trainableVariables.reduce((n, v) => n + v.size, 0)).toBe(758_017);
    vq.dispose();
  });

  it("uses PyTorch's batch-norm settings (epsilon 1e-5, momentum 0.1 = tfjs 0.9) and a bias on every convolution", () => {
    const model = (d as unknown as { decoderModel: tfl.LayersModel }).decoderModel;
    const bns = model.layers.filter((l): l is BatchNormReluLayer => l instanceof BatchNormReluLayer);
    expect(bns.length).toBe(6);
    for (const bn of bns) expect([bn.epsilon, bn.momentum]).toEqual([1e-5, 0.9]);
    for (const l of model.layers) if (/^Conv2D/.test(l.getClassName())) expect((l.getConfig() as { useBias: boolean }).useBias).toBe(true);
  });

  it('adds relu(x), not x, to each residual block (the reference in-place ReLU aliases the skip)', () => {
    // With zero convolution weights and biases the block outputs BN(0) = β = 0, so the block's output is its skip alone.
    const model = (d as unknown as { decoderModel: tfl.LayersModel }).decoderModel;
    const add = model.getLayer('decoder0_residual_add');
    const sub = tfl.model({ inputs: model.inputs, outputs: add.output as tfl.SymbolicTensor });
    const saved = sub.getWeights().map((w) => tf.clone(w));
    sub.layers.filter((l) => l.getClassName() === 'Conv2D').forEach((l) => l.setWeights(l.getWeights().map((w) => tf.zerosLike(w))));
    const x = tf.tidy(() => tf.sub(tf.mul(tf.randomUniform([1, 4, 4, 128], 0, 1, 'float32', 3), 2), 1));
    const y = sub.predict(x) as tf.Tensor;
    expectClose(y, tf.relu(x).dataSync(), 1e-6);
    sub.setWeights(saved);
    tf.dispose([x, y, ...saved]);
  });

  it('maps 4×4 codes to 28×28 logits, is differentiable in the codes and every weight, and leaks nothing', async () => {
    // The same layers at a reduced width (D = 8), to keep the test fast on the cpu backend.
    const small = new InterpreterDecoder({ preset: 'reference-mnist', featureShape: [4, 4, 8], outputShape: [28, 28, 1] });
    await expectNoTensorLeak(() => {
      const init = tf.randomNormal([2, 4, 4, 8], 0, 1, 'float32', 1);
      const codes = tf.variable(init);
      const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(small.decode(codes as unknown as tf.Tensor4D, true))) as tf.Scalar, [codes, ...small.trainableVariables]);
      expect(Object.keys(grads).length).toBe(1 + small.trainableVariables.length);
      const out = small.decode(codes as unknown as tf.Tensor4D);
      expect(out.shape).toEqual([2, 28, 28, 1]);
      tf.dispose([init, value, out, codes, ...Object.values(grads)]);
    });
    small.dispose();
  });
});

describe("preset 'reference-audio' (SpeechBrain @ 9c826ef3, lobes/models/PIQ.py VectorQuantizedPSI_Audio)", () => {
  it('has the reference layers: ResBlockAudio → Conv 4/2/1 down | ConvT 4/2/1 up → ConvT 3/2/1 → ReLU → BN → 3 × [ConvT 4/2/1 → ReLU → BN] → ConvT 12/1/1', () => {
    const d = new InterpreterDecoder({ preset: 'reference-audio', featureShape: [26, 32, 256], outputShape: [417, 513, 1] });
    const s = d.layerSummary();
    const up = (k: string, out: [string, string], params: number) => [
      ['decoder', 'Conv2DTranspose', k, '2x2', '', out[0], params],
      ['decoder', 'Cropping2D', '', '', 1, out[1], 0],
      ['decoder', 'ReLU', '', '', '', out[1], 0],
      ['decoder', 'PiqBatchNormRelu', '', '', '', out[1], 512],
    ];
    expect(rows(s)).toEqual([
      ['adapter', 'Conv2D', '3x3', '1x1', '', '26x32x256', 590_080],
      ['adapter', 'PiqBatchNormRelu', '', '', '', '26x32x256', 512],
      ['adapter', 'Conv2D', '1x1', '1x1', '', '26x32x256', 65_792],
      ['adapter', 'PiqBatchNormRelu', '', '', '', '26x32x256', 512],
      ['adapter', 'Add', '', '', '', '26x32x256', 0],
      ['adapter', 'ZeroPadding2D', '', '', '', '28x34x256', 0],
      ['adapter', 'Conv2D', '4x4', '2x2', '', '13x16x256', 1_048_832],
      ['decoder', 'Conv2DTranspose', '4x4', '2x2', '', '28x34x256', 1_048_832],
      ['decoder', 'Cropping2D', '', '', 1, '26x32x256', 0],
      ...up('3x3', ['53x65x256', '51x63x256'], 590_080),
      ...up('4x4', ['104x128x256', '102x126x256'], 1_048_832),
      ...up('4x4', ['206x254x256', '204x252x256'], 1_048_832),
      ...up('4x4', ['410x506x256', '408x504x256'], 1_048_832),
      ['decoder', 'Conv2DTranspose', '12x12', '1x1', '', '419x515x1', 36_865],
      ['decoder', 'Cropping2D', '', '', 1, '417x513x1', 0],
    ]);
    // ConvT → ReLU → BN (BN without ReLU inside), the residual block's Conv → BN → ReLU then Conv → BN.
    expect(s.filter((l) => l.type === 'PiqBatchNormRelu').map((l) => l.relu)).toEqual([true, false, false, false, false, false]);
    expect(d.codeShape).toEqual([13, 16, 256]);
    expect(sum(s, 'trainableParams')).toBe(6_530_049);
    expect(sum(s, 'nonTrainableParams')).toBe(3_072);
    const vq = new VectorQuantizer({ codeDim: 256, layout: { numClasses: 50, codebookSize: 1024 } });
    expect(sum(s, 'trainableParams') + vq.trainableVariables.reduce((n, v) => n + v.size, 0)).toBe(6_792_193);
    vq.dispose();
    d.dispose();
  });

  it('generalises to other taps as the reference does: (32⌊H/2⌋+1)×(32⌊W/2⌋+1), an odd H losing a row', () => {
    // A reduced-width chain (D = 4) small enough to run: tap 3×2 → codes 1×1 → 33×33.
    const d = new InterpreterDecoder({ preset: 'reference-audio', featureShape: [3, 2, 4], outputShape: [33, 33, 1] });
    expect(d.codeShape).toEqual([1, 1, 4]);
    const out = tf.tidy(() => d.decode(d.encode(tf.randomNormal([2, 3, 2, 4], 0, 1, 'float32', 2) as tf.Tensor4D, true), true));
    expect(out.shape).toEqual([2, 33, 33, 1]);
    out.dispose();
    d.dispose();
  });
});

describe('the transposed-convolution recipe', () => {
  it("'valid' plus a crop of p equals PyTorch's ConvTranspose2d(k, s, p): o = i·s − p + k, scattered by hand", () => {
    const x = [1, -2, 3, 0.5]; // 2×2, one channel
    const w = [0.1, 0.2, -0.3, 0.4, 0.5, -0.6, 0.7, 0.8, 0.9]; // 3×3
    const [k, s, p, n] = [3, 2, 1, 2];
    const size = (n - 1) * s - 2 * p + k; // 3
    const want = new Array<number>(size * size).fill(0);
    for (let iy = 0; iy < n; iy++)
      for (let ix = 0; ix < n; ix++)
        for (let ky = 0; ky < k; ky++)
          for (let kx = 0; kx < k; kx++) {
            const oy = iy * s - p + ky;
            const ox = ix * s - p + kx;
            if (oy >= 0 && oy < size && ox >= 0 && ox < size) want[oy * size + ox] = (want[oy * size + ox] as number) + (x[iy * n + ix] as number) * (w[ky * k + kx] as number);
          }
    const got = tf.tidy(() => {
      const y = tf.conv2dTranspose(tf.tensor4d(x, [1, 2, 2, 1]), tf.tensor4d(w, [3, 3, 1, 1]), [1, 5, 5, 1], 2, 'valid');
      return tf.slice(y, [0, p, p, 0], [1, size, size, 1]);
    });
    expectClose(got, want, 1e-6);
    got.dispose();
  });
});

describe('reference presets: options and geometry', () => {
  const cases: Array<[string, () => unknown, string]> = [
    ['a tap the reference decoder cannot map to the output', () => new InterpreterDecoder({ preset: 'reference-mnist', featureShape: [7, 7, 64], outputShape: [28, 28, 1] }), "preset 'reference-mnist' must produce the output [28, 28] from the tap [7, 7, 64], got 52×52"],
    ['a 431-frame spectrogram (the reference crops it to 417)', () => new InterpreterDecoder({ preset: 'reference-audio', featureShape: [26, 32, 8], outputShape: [431, 513, 1] }), 'got 417×513'],
    ['channels, which the reference fixes', () => new InterpreterDecoder({ preset: 'reference-audio', featureShape: [26, 32, 8], outputShape: [417, 513, 1], channels: 4 }), "'channels' cannot be set with preset 'reference-audio'"],
    ['a codeDim other than the tap width', () => new InterpreterDecoder({ preset: 'reference-mnist', featureShape: [4, 4, 8], outputShape: [28, 28, 1], codeDim: 4 }), "'codeDim' must equal the tap's 8 channels"],
    ['an adapter', () => new InterpreterDecoder({ preset: 'reference-mnist', featureShape: [4, 4, 8], outputShape: [28, 28, 1], adapter: 'residual' }), "'adapter' cannot be set"],
  ];
  for (const [bad, call, text] of cases) {
    it(`rejects ${bad} with a PiqConfigError`, async () => {
      const e = await expectThrowsWithoutLeak(call);
      expect(e).toBeInstanceOf(PiqConfigError);
      expect(e.message).toContain(text);
    });
  }

  it('saves and loads an interpreter with a reference preset (same preset, same outputs)', async () => {
    const classifier = toClassifierAdapter(
      (x: tf.Tensor) =>
        tf.tidy(() => {
          const f = tf.tile(tf.avgPool(x as tf.Tensor4D, 7, 7, 'valid'), [1, 1, 1, 4]) as tf.Tensor4D; // 28 → 4×4×4
          const m = tf.reshape(tf.mean(x, [1, 2, 3]), [-1, 1]);
          return { features: f, logits: tf.concat([m, tf.neg(m)], 1) as tf.Tensor2D };
        }),
      { inputShape: [28, 28, 1] },
    );
    const it1 = await createInterpreter({ classifier, decoder: { preset: 'reference-mnist' }, quantizer: { layout: { codesPerClass: 2 } } });
    const x = tf.randomUniform([3, 28, 28, 1], 0, 1, 'float32', 4) as tf.Tensor4D;
    await it1.fit(x, { epochs: 1, batchSize: 3 });
    const h = memoryHandler();
    await it1.save(h);
    const it2 = await loadInterpreter(h, { classifier });
    expect(it2.getConfig().decoder.preset).toBe('reference-mnist');
    const [a, b] = [await it1.interpret(x), await it2.interpret(x)];
    expect(Array.from(b.mask)).toEqual(Array.from(a.mask));
    it1.dispose();
    it2.dispose();
    x.dispose();
  });
});
