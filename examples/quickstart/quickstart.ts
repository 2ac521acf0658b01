import '@tensorflow/tfjs-backend-cpu'; // or -wasm, -webgl, -webgpu, tfjs-node: piq-tfjs works on any
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { createInterpreter } from 'piq-tfjs';

async function main() {
  // A stand-in for your trained classifier: 16x16 grey images, class 0 = bright top half, class 1 = bright bottom half.
  const labels = tf.tensor1d(Array.from({ length: 64 }, (_, i) => i % 2), 'int32');
  const images = tf.tidy(() => {
    const rows = tf.reshape(tf.range(0, 16), [1, 16, 1, 1]);
    const top = tf.cast(tf.less(rows, 8), 'float32');
    const half = tf.where(tf.equal(tf.reshape(labels, [64, 1, 1, 1]), 0), tf.broadcastTo(top, [64, 16, 16, 1]), tf.sub(1, tf.broadcastTo(top, [64, 16, 16, 1])));
    return tf.add(tf.mul(half, 0.8), tf.mul(tf.randomUniform([64, 16, 16, 1], 0, 1, 'float32', 1), 0.2)) as tf.Tensor4D;
  });
  const model = tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [16, 16, 1], filters: 8, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }),
      tfl.layers.conv2d({ filters: 16, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 2, activation: 'softmax' }),
    ],
  });
  model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy' });
  const targets = tf.cast(labels, 'float32');
  await model.fit(images, targets, { epochs: 20, verbose: 0 });

  // PIQ: tap the classifier's last spatial feature map, learn a class-partitioned codebook and a decoder.
  const interpreter = await createInterpreter({ classifier: model, numClasses: 2 });
  console.log(interpreter.summary().featureLayer); // the tapped layer, e.g. conv2d_Conv2D2
  // In a terminal, fit draws a progress line on stderr (epoch, step, losses, steps/s, ETA); verbose: 0 silences it.
  const history = await interpreter.fit(images, { epochs: 5, batchSize: 16 });
  console.log(history.history.loss.length); // 5  (one mean loss per epoch, as tfjs-layers' History)

  const batch = tf.slice(images, [0, 0, 0, 0], [4, -1, -1, -1]);
  const r = await interpreter.interpret(batch); // plain data: no tensors to dispose
  console.log(Array.from(r.predictedClass)); // [0, 1, 0, 1] once the classifier has learned
  console.log(r.mask.length, r.example(0).interpretation.length); // 1024 256  (4 masks of 16x16; one 16x16x1 interpretation)

  interpreter.dispose();
  tf.dispose([images, labels, targets, batch]);
}

main();
