import type * as tf from '@tensorflow/tfjs-core';
import type { CodebookLayout } from '../quantizer/codebook-layout';

/**
 * The quantizer's part of a forward pass, as losses see it.
 * @category Losses
 */
export interface QuantizerTerms {
  /** `mean((e_k* − sg(u))²)`: moves the chosen codes toward the features. */
  codebookLoss: tf.Scalar;
  /** `β · mean((u − sg(e_k*))²)`: keeps the features close to their codes. */
  commitmentLoss: tf.Scalar;
  /** Chosen code rows, `[batch, height, width]`. */
  codeIndices: tf.Tensor;
  /**
   * The live codebook `[codebookSize, codeDim]`, differentiable with respect to the codebook
   * variable (so a custom loss can shape the codes directly). Computed once per step on first use
   * and owned by the step. With `update: 'ema'` the codebook is not trained by gradient, so such
   * a loss has no effect on it.
   */
  codebook(): tf.Tensor2D;
  /** Which codebook rows belong to which class (`blockOf(c)`) and which are shared (`sharedBlock()`). */
  layout: CodebookLayout;
}

/**
 * Everything a loss may need from one training step. Tensors belong to the step: a loss reads
 * them and returns a new scalar; it never disposes them.
 * @category Losses
 */
export interface LossContext {
  /** The classifier input `[batch, height, width, channels]`. */
  input: tf.Tensor4D;
  /** The training target in [0, 1] (the input itself in reconstruction mode), decoder-output shaped. */
  target: tf.Tensor4D;
  /** Raw decoder output (pre-sigmoid logits), `[batch, height, width, outChannels]`. */
  decoderLogits: tf.Tensor4D;
  /** The output head applied to `decoderLogits` (`sigmoid`, or `softplus` for the MSE reconstruction variant): the mask (mask mode) or the reconstruction (reconstruction mode). */
  decoderOutput: tf.Tensor4D;
  /** The interpretation fed back to the classifier: `mask ⊙ input`, or the reconstruction. */
  interpretation: tf.Tensor4D;
  /** The classifier's tapped features `[batch, h, w, d]` (constant). */
  features: tf.Tensor4D;
  /** The adapter's output `u` before quantization. */
  encoded: tf.Tensor4D;
  /** The quantizer's losses and chosen codes. */
  quantizer: QuantizerTerms;
  /** The classifier's decision on the input, int32 `[batch]`. */
  predictedClass: tf.Tensor1D;
  /** The classifier's logits on the input `[batch, numClasses]` (constant). */
  inputLogits: tf.Tensor2D;
  /**
   * The classifier's logits on any tensor, differentiable through the classifier (which stays frozen).
   * Use it for losses that need `f(interpretation)`, `f((1 − M) ⊙ x)` etc.
   */
  classify(x: tf.Tensor4D): tf.Tensor2D;
  /** The classifier's logits on the interpretation, computed once per step on first use. */
  interpretationLogits(): tf.Tensor2D;
  /** Number of classes. */
  numClasses: number;
  /** Output mode of the interpreter. */
  mode: 'reconstruction' | 'mask';
  /**
   * The decoder's output head (`decoderOutput = sigmoid(decoderLogits)` or `softplus(decoderLogits)`).
   * @defaultValue 'sigmoid' when absent
   */
  outputActivation?: 'sigmoid' | 'softplus';
}

/**
 * The loss contract: a named, JSON-configurable function of a {@link LossContext} to a scalar.
 * Register a factory with {@link registerLoss} so a custom loss survives save/load by name.
 * See docs/custom-losses.md for a worked codebook loss.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import type { Loss } from 'piq-tfjs';
 * const meanMask: Loss = {
 *   name: 'meanMask',
 *   compute: (ctx) => tf.mean(ctx.decoderOutput) as tf.Scalar,
 *   getConfig: () => ({}),
 * };
 * console.log(meanMask.name); // meanMask
 * ```
 * @category Losses
 */
export interface Loss {
  /** Registered name (the key {@link registerLoss} used); also the key of this term in loss breakdowns. */
  readonly name: string;
  /** A scalar; must be differentiable with respect to the decoder's and quantizer's variables where it depends on them. */
  compute(ctx: LossContext): tf.Scalar;
  /** JSON options that recreate this loss through its registered factory. */
  getConfig(): Record<string, unknown>;
}

/**
 * A loss with its weight in the total.
 * @category Losses
 */
export interface WeightedLoss {
  loss: Loss;
  weight: number;
  /** Key of this term in breakdowns. @defaultValue `loss.name` (suffixed `_2`, `_3`… on repeats) */
  key?: string;
}

/**
 * The total of a combined loss and its named, weighted terms (all scalars).
 * @category Losses
 */
export interface CombinedLossResult {
  total: tf.Scalar;
  terms: Record<string, tf.Scalar>;
}
