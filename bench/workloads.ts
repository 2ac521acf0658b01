// The PIQ workloads timed by `npm run bench:speed` and `npm run bench:kernels` (the PyTorch twin,
// bench/speed_torch.py, builds the same models):
//   mnist      the MNIST demo's PiqModel: 28x28x1, batch 64, 7x7x64 tap, K = 160
//   colour64   a 64x64x3 classifier (conv32 s2, conv64 s2, conv128 s2 = 'features' 8x8x128, global
//              average pool, dense 10) with piq-tfjs's default decoder for that tap; batch 16
//   colour128  the same at 128x128x3 (tap 16x16x128); batch 16
// Classifier weights are random (seeded): the timing does not depend on them. No Node imports:
// the browser benchmark (bench/browser) builds the same workloads.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { createInterpreter, type Interpreter } from '../src/index';
import { buildClassifier, MNIST_INTERPRETER_SETTINGS } from '../examples/mnist/model';

export type Workload = 'mnist' | 'colour64' | 'colour128';

/** Input size, batch and tap of each workload. */
export const WORKLOADS: Record<Workload, { size: number; channels: number; batch: number; tap: string }> = {
  mnist: { size: 28, channels: 1, batch: 64, tap: '7x7x64' },
  colour64: { size: 64, channels: 3, batch: 16, tap: '8x8x128' },
  colour128: { size: 128, channels: 3, batch: 16, tap: '16x16x128' },
};

/** The colour workloads' classifier: three stride-2 3x3 convs to an S/8 x S/8 x 128 tap named 'features'. */
export function buildColourClassifier(size: number): tfl.LayersModel {
  const init = (seed: number) => tfl.initializers.glorotUniform({ seed });
  return tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [size, size, 3], filters: 32, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', kernelInitializer: init(1), name: 'conv1' }),
      tfl.layers.conv2d({ filters: 64, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', kernelInitializer: init(2), name: 'conv2' }),
      tfl.layers.conv2d({ filters: 128, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', kernelInitializer: init(3), name: 'features' }),
      tfl.layers.globalAveragePooling2d({ name: 'pool' }),
      tfl.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: init(4), name: 'probs' }),
    ],
  });
}

/**
 * One batch of the workload's inputs, its classifier and a fresh interpreter (the backend must be
 * set). `mnistImages`: `batch · 784` MNIST pixels in [0, 1] (Node: loadMnist); without them the
 * mnist batch is seeded uniform noise (the browser benchmark; the cost per step is the same).
 */
export async function buildWorkload(workload: Workload, mnistImages?: Float32Array): Promise<{ x: tf.Tensor4D; classifier: tfl.LayersModel; interpreter: Interpreter; dispose(): void }> {
  const { size, channels, batch } = WORKLOADS[workload];
  let x: tf.Tensor4D;
  let classifier: tfl.LayersModel;
  let settings: Record<string, unknown>;
  if (workload === 'mnist') {
    x = mnistImages ? tf.tensor4d(mnistImages.subarray(0, batch * 784), [batch, 28, 28, 1]) : (tf.randomUniform([batch, 28, 28, 1], 0, 1, 'float32', 7) as tf.Tensor4D);
    classifier = buildClassifier();
    settings = MNIST_INTERPRETER_SETTINGS;
  } else {
    x = tf.randomUniform([batch, size, size, channels], 0, 1, 'float32', 7) as tf.Tensor4D;
    classifier = buildColourClassifier(size);
    settings = { featureLayer: 'features', numClasses: 10, quantizer: { layout: { codesPerClass: 16 }, init: 'data' as const, seed: 0 }, seed: 0 };
  }
  const interpreter = await createInterpreter({ classifier, ...settings });
  return {
    x,
    classifier,
    interpreter,
    dispose: () => {
      interpreter.dispose();
      classifier.dispose();
      x.dispose();
    },
  };
}
