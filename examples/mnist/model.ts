// The MNIST demo's classifier architecture and PIQ settings, without Node imports (so that a
// browser page can build the same model: bench/browser). Re-exported by ./classifier.ts.
import * as tfl from '@tensorflow/tfjs-layers';

/** The demo's CNN (seeded initialisers): conv16-pool-conv32-pool-conv64 ('features', 7x7x64)-dense10. */
export function buildClassifier(): tfl.LayersModel {
  const init = (seed: number) => tfl.initializers.glorotUniform({ seed });
  return tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [28, 28, 1], filters: 16, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(1), name: 'conv1' }),
      tfl.layers.maxPooling2d({ poolSize: 2, name: 'pool1' }),
      tfl.layers.conv2d({ filters: 32, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(2), name: 'conv2' }),
      tfl.layers.maxPooling2d({ poolSize: 2, name: 'pool2' }),
      tfl.layers.conv2d({ filters: 64, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(3), name: 'features' }),
      tfl.layers.flatten({ name: 'flatten' }),
      tfl.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: init(4), name: 'probs' }),
    ],
  });
}

/**
 * The demo's PIQ interpreter settings (reconstruction mode, the reference MNIST setup): tap
 * 'features', 16 codebook keys per class initialised from data, seed 0.
 */
export const MNIST_INTERPRETER_SETTINGS = {
  featureLayer: 'features',
  numClasses: 10,
  quantizer: { layout: { codesPerClass: 16 }, init: 'data' as const, seed: 0 },
  seed: 0,
};
