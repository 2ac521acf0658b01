// Batch normalisation (+ optional ReLU) as one tfjs-layers layer with one hand-written gradient.
//
// Numerically the same as tfl.layers.batchNormalization (axis -1, momentum 0.99, epsilon 1e-3 by
// default; training: batch statistics from tf.moments' formulation, moving averages updated as
// tfjs-layers does, biased variance; inference: moving statistics) followed by tfl.layers.reLU. It
// exists for speed: tfjs-layers' BN forward + tfjs-core's FusedBatchNorm gradient run ~40 small
// kernels per layer (Tile, broadcasting arithmetic, reshapes), ~25 ms of a wasm training step of the
// MNIST decoder. Here: per-channel means by average pooling and per-channel affine maps as
// broadcasting Mul/Add (XNNPACK on wasm), never wasm's loop kernels FusedBatchNorm or Tile.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { customGradient } from '../ops/custom-grad';

type LayerArgs = NonNullable<ConstructorParameters<typeof tfl.layers.Layer>[0]>;

/**
 * Constructor arguments of {@link BatchNormReluLayer} (plus tfjs-layers' own: name, inputShape, ...).
 * @category Decoder
 */
export interface BatchNormReluLayerArgs extends LayerArgs {
  /**
   * Moving-average momentum, as tfjs-layers' BatchNormalization.
   * @defaultValue 0.99
   */
  momentum?: number;
  /**
   * Added to the variance before the square root, as tfjs-layers' BatchNormalization.
   * @defaultValue 1e-3
   */
  epsilon?: number;
  /**
   * Apply a ReLU after the normalisation.
   * @defaultValue true
   */
  relu?: boolean;
}

/**
 * Normalises its input over all axes but the last (batch norm) and applies a ReLU, as one layer with
 * one custom gradient: the numbers of `tfl.layers.batchNormalization()` followed by `tfl.layers.reLU()`,
 * in fewer kernels. Weights, in this order (as tfjs-layers' BatchNormalization): gamma, beta
 * (trainable), moving mean, moving variance (not trainable), so weight lists saved by order stay
 * interchangeable. Training mode uses the batch statistics and updates the moving averages.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import * as tfl from '@tensorflow/tfjs-layers';
 * import { BatchNormReluLayer } from 'piq-tfjs';
 * const m = tfl.sequential({ layers: [new BatchNormReluLayer({ inputShape: [2, 2, 1], epsilon: 0 })] });
 * (m.apply(tf.tensor4d([1, 2, 3, 6], [1, 2, 2, 1]), { training: true }) as tf.Tensor).print();
 * // [[[[0], [0]], [[0], [1.6035674]]]]  (mean 3, biased variance 3.5: 3 / sqrt(3.5))
 * ```
 * @category Decoder
 */
export class BatchNormReluLayer extends tfl.layers.Layer {
  static className = 'PiqBatchNormRelu';
  readonly momentum: number;
  readonly epsilon: number;
  readonly relu: boolean;
  private gamma: tfl.LayerVariable | null = null;
  private beta: tfl.LayerVariable | null = null;
  private movingMean: tfl.LayerVariable | null = null;
  private movingVariance: tfl.LayerVariable | null = null;

  constructor(args: BatchNormReluLayerArgs = {}) {
    const { momentum, epsilon, relu, ...layerArgs } = args;
    super(layerArgs);
    this.momentum = momentum ?? 0.99;
    this.epsilon = epsilon ?? 1e-3;
    this.relu = relu ?? true;
    this.supportsMasking = true;
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    const channels = s[s.length - 1];
    if (typeof channels !== 'number') throw new Error(`${BatchNormReluLayer.className}: the last input dimension must be known, got ${JSON.stringify(s)}.`);
    const shape = [channels];
    this.gamma = this.addWeight('gamma', shape, 'float32', tfl.initializers.ones(), undefined, true);
    this.beta = this.addWeight('beta', shape, 'float32', tfl.initializers.zeros(), undefined, true);
    this.movingMean = this.addWeight('moving_mean', shape, 'float32', tfl.initializers.zeros(), undefined, false);
    this.movingVariance = this.addWeight('moving_variance', shape, 'float32', tfl.initializers.ones(), undefined, false);
    this.built = true;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape | tfl.Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor;
    const gammaV = this.gamma as tfl.LayerVariable;
    const betaV = this.beta as tfl.LayerVariable;
    const meanV = this.movingMean as tfl.LayerVariable;
    const varV = this.movingVariance as tfl.LayerVariable;
    const eps = this.epsilon;
    const relu = this.relu;
    const channels = x.shape[x.rank - 1] as number;
    if (kwargs['training'] !== true) {
      return tf.tidy(() => {
        // (x − mean)·(gamma / sqrt(var + eps)) + beta: three broadcasting kernels, ~2x faster on wasm than its FusedBatchNorm loop.
        const scale = tf.mul(gammaV.read(), tf.rsqrt(tf.add(varV.read(), eps)));
        const z = tf.add(tf.mul(tf.sub(x, meanV.read()), scale), betaV.read());
        return relu ? tf.relu(z) : z;
      });
    }
    const count = x.size / channels;
    const axes = x.shape.map((_, i) => i).slice(0, -1);
    // Per-channel means. Rank 4: a global average pool per example, then the mean over the batch
    // (on wasm XNNPACK's pooling reads the map once: 0.3 ms for [64,28,28,16], where its Sum over
    // axes 0-2 transposes first: 1.0 ms).
    const colMean = (t: tf.Tensor): tf.Tensor => {
      if (t.rank !== 4) return tf.mean(t, axes);
      const [, h, w] = t.shape as [number, number, number, number];
      return tf.reshape(tf.mean(tf.avgPool(t as tf.Tensor4D, [h, w], [h, w], 'valid'), 0), [channels]);
    };
    // The batch statistics are a side output of the custom-gradient op, for the moving averages.
    const side: { mean: tf.Tensor | null; variance: tf.Tensor | null } = { mean: null, variance: null };
    const op = customGradient(([xin, g, b], save) => {
      // tf.moments' formulation (the mean, then the mean squared deviation; biased): tfjs-layers' statistics.
      const mean = colMean(xin as tf.Tensor);
      const d = tf.sub(xin as tf.Tensor, mean); // x − mean
      const variance = colMean(tf.square(d));
      const inv = tf.rsqrt(tf.add(variance, eps));
      const z = tf.add(tf.mul(d, tf.mul(g as tf.Tensor, inv)), b as tf.Tensor);
      const y = relu ? tf.relu(z) : z;
      side.mean = tf.keep(mean);
      side.variance = tf.keep(variance);
      save([d, y, inv, g as tf.Tensor]);
      return {
        value: y,
        gradFunc: (dy, saved) => {
          const [dSaved, ySaved, invSaved, gamma] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
          // ReLU: y > 0 exactly where its input is > 0.
          const dz = relu ? tf.mul(dy, tf.step(ySaved)) : dy;
          // With xhat = d·inv: dBeta = Σ dz, dGamma = Σ dz·xhat = inv·Σ dz·d.
          const meanDz = colMean(dz);
          const meanDzXhat = tf.mul(colMean(tf.mul(dz, dSaved)), invSaved);
          // dx = a·(dz − mean(dz) − xhat·mean(dz·xhat)), a = gamma·inv; per channel: dx = a·dz + b·d + c.
          const a = tf.mul(gamma, invSaved);
          const bCoef = tf.neg(tf.mul(a, tf.mul(invSaved, meanDzXhat)));
          const cCoef = tf.neg(tf.mul(a, meanDz));
          const dx = tf.add(tf.add(tf.mul(dz, a), tf.mul(dSaved, bCoef)), cCoef);
          return [dx, tf.mul(meanDzXhat, count), tf.mul(meanDz, count)];
        },
      };
    }, 3);
    let y: tf.Tensor | null = null;
    try {
      y = op(x, gammaV.read(), betaV.read());
      const m = side.mean as tf.Tensor;
      const v = side.variance as tf.Tensor;
      const decay = 1 - this.momentum;
      // As tfjs-layers' BatchNormalization: moving ← moving − (moving − batch)·(1 − momentum).
      tf.tidy(() => {
        const mm = meanV.read();
        meanV.write(tf.sub(mm, tf.mul(tf.sub(mm, m), decay)));
        const mv = varV.read();
        varV.write(tf.sub(mv, tf.mul(tf.sub(mv, v), decay)));
      });
      return y;
    } catch (err) {
      y?.dispose();
      throw err;
    } finally {
      side.mean?.dispose();
      side.variance?.dispose();
    }
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), momentum: this.momentum, epsilon: this.epsilon, relu: this.relu };
  }
}
tf.serialization.registerClass(BatchNormReluLayer);
