import * as tf from '@tensorflow/tfjs-core';
import type { ClassifierAdapter } from '../classifier/types';
import type { InterpreterDecoder } from '../decoder/interpreter-decoder';
import { PiqConfigError, PiqStateError } from '../errors';
import { assertLive, describe, optionKeys, optionsObject, shapeStr } from '../internal/checks';
import { tidyObject } from '../internal/tensor-checks';
import type { CombinedLoss } from '../losses/registry';
import type { LossContext } from '../losses/types';
import type { VectorQuantizer } from '../quantizer/vector-quantizer';
import type { Target } from '../targets/targets';

/**
 * Output mode: `'reconstruction'` (the decoder redraws the input; sigmoid output, BCE to the input)
 * or `'mask'` (the decoder outputs a sigmoid mask trained against a {@link Target}; the interpretation is `mask ⊙ input`).
 * @category Training
 */
export type InterpreterMode = 'reconstruction' | 'mask';

/**
 * The decoder's output head: `'sigmoid'` (masks, and reconstructions of inputs in [0, 1]) or
 * `'softplus'` (reconstructions of unbounded non-negative inputs such as log1p spectrograms, with
 * the MSE loss: the reference audio recipe's reconstruction variant, `use_mask_output: False`).
 * @category Training
 */
export type OutputActivation = 'sigmoid' | 'softplus';

/**
 * In reconstruction mode with a softplus output, the mask is `1[x̂ > τ·max x̂]` per example with this
 * τ (the reference recipe's `mask_th`, SpeechBrain train_piq.py; the reference takes the maximum over the batch).
 */
export const SOFTPLUS_MASK_THRESHOLD = 0.35;

/**
 * Tensors of one PIQ forward pass, `[batch, …]`. All owned by the caller (or the enclosing tidy).
 * @category Training
 */
export interface PiqForwardResult {
  features: tf.Tensor4D;
  inputLogits: tf.Tensor2D;
  predictedClass: tf.Tensor1D;
  encoded: tf.Tensor4D;
  quantized: tf.Tensor4D;
  codeIndices: tf.Tensor;
  codebookLoss: tf.Scalar;
  commitmentLoss: tf.Scalar;
  perplexity: tf.Scalar;
  decoderLogits: tf.Tensor4D;
  /** The output head applied to the logits: the mask (mask mode) or the reconstruction. */
  decoderOutput: tf.Tensor4D;
  /**
   * `[batch, height, width, 1]`: the mask (mask mode), the channel mean of the reconstruction
   * (reconstruction mode, sigmoid output) or `1[x̂ > 0.35·max x̂]` per example (softplus output).
   */
  mask: tf.Tensor4D;
  /** `mask ⊙ input` (mask mode) or the reconstruction. */
  interpretation: tf.Tensor4D;
}

/**
 * The PIQ system as one trainable unit: the frozen classifier, the decoder (with its adapter), the
 * class-partitioned quantizer, the target and the combined loss. {@link Trainer} trains it;
 * `createInterpreter` builds one for you.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { PiqModel, InterpreterDecoder, VectorQuantizer, toClassifierAdapter, combineLosses,
 *   reconstructionLoss, codebookLoss, commitmentLoss, inputTarget } from 'piq-tfjs';
 * const classifier = toClassifierAdapter(
 *   (x) => ({ features: tf.tile(tf.mean(x, 3, true), [1, 1, 1, 4]), logits: tf.concat([tf.reshape(tf.mean(x, [1, 2, 3]), [-1, 1]), tf.zeros([x.shape[0], 1])], 1) }),
 *   { inputShape: [4, 4, 1] });
 * const model = new PiqModel({
 *   classifier, mode: 'reconstruction', target: inputTarget(),
 *   decoder: new InterpreterDecoder({ featureShape: [4, 4, 4], outputShape: [4, 4, 1] }),
 *   quantizer: new VectorQuantizer({ codeDim: 4, layout: { numClasses: 2, codesPerClass: 2 } }),
 *   loss: combineLosses([{ loss: reconstructionLoss(), weight: 1 }, { loss: codebookLoss(), weight: 1 }, { loss: commitmentLoss(), weight: 1 }]),
 * });
 * const out = model.forward(tf.ones([1, 4, 4, 1]));
 * console.log(out.interpretation.shape); // [1, 4, 4, 1]
 * ```
 * @category Training
 */
export class PiqModel {
  readonly classifier: ClassifierAdapter;
  readonly decoder: InterpreterDecoder;
  readonly quantizer: VectorQuantizer;
  readonly mode: InterpreterMode;
  readonly target: Target;
  readonly loss: CombinedLoss;
  /** The decoder's output head. */
  readonly outputActivation: OutputActivation;
  private disposed = false;

  constructor(parts: {
    classifier: ClassifierAdapter;
    decoder: InterpreterDecoder;
    quantizer: VectorQuantizer;
    mode: InterpreterMode;
    target: Target;
    loss: CombinedLoss;
    /** @defaultValue 'sigmoid' */
    outputActivation?: OutputActivation;
  }) {
    optionsObject('PiqModel', parts, PIQ_MODEL_KEYS, 'parts');
    this.outputActivation = parts.outputActivation ?? 'sigmoid';
    if (this.outputActivation !== 'sigmoid' && this.outputActivation !== 'softplus') {
      throw new PiqConfigError(`PiqModel: 'outputActivation' must be one of 'sigmoid', 'softplus', got ${describe(parts.outputActivation)}.`);
    }
    if (this.outputActivation === 'softplus' && parts.mode === 'mask') {
      throw new PiqConfigError(`PiqModel: 'outputActivation' must be 'sigmoid' in mask mode (a mask lies in [0, 1]), got 'softplus'. Use softplus only in reconstruction mode.`);
    }
    if (this.outputActivation === 'softplus') {
      // Checked here, not only in the loss: an error inside a gradient tape leaves tfjs's saved tensors behind.
      const bce = parts.loss.items.find((it) => it.weight !== 0 && it.loss.name === 'reconstruction' && (it.loss.getConfig().kind ?? 'bce') === 'bce');
      if (bce) {
        throw new PiqConfigError(`PiqModel: loss '${bce.key}' must not be reconstruction kind 'bce' with the softplus output (BCE needs the sigmoid), got kind 'bce'. Use reconstructionLoss({ kind: 'mse' }).`);
      }
      const term = parts.loss.items.find((it) => it.weight !== 0 && it.loss.name === 'faithfulnessTerm');
      if (term) {
        throw new PiqConfigError(`PiqModel: loss '${term.key}' (faithfulnessTerm) needs a sigmoid output (a mask in [0, 1]), got the softplus output. Remove it, or use reconstruction: 'bce' or mask mode.`);
      }
    }
    this.classifier = parts.classifier;
    this.decoder = parts.decoder;
    this.quantizer = parts.quantizer;
    this.mode = parts.mode;
    this.target = parts.target;
    this.loss = parts.loss;
    const [h, w, d] = this.decoder.codeShape;
    if (this.quantizer.codeDim !== d) {
      throw new PiqConfigError(`PiqModel: the quantizer's 'codeDim' must equal the decoder's code channels ${d}, got ${this.quantizer.codeDim}.`);
    }
    if (this.quantizer.layout.numClasses !== this.classifier.numClasses) {
      throw new PiqConfigError(
        `PiqModel: the codebook layout's 'numClasses' must equal the classifier's ${this.classifier.numClasses} classes, got ${this.quantizer.layout.numClasses}.`,
      );
    }
    const [H, W] = this.classifier.inputShape as number[];
    const [oh, ow] = this.decoder.config.outputShape;
    if (oh !== H || ow !== W) {
      throw new PiqConfigError(`PiqModel: the decoder's output must be ${H}x${W} like the classifier input, got ${oh}x${ow}.`);
    }
    void h;
    void w;
  }

  /** Trainable variables: adapter, decoder and (unless EMA-updated) the codebook. */
  get trainableVariables(): tf.Variable[] {
    this.check('trainableVariables');
    return [...this.decoder.trainableVariables, ...this.quantizer.trainableVariables];
  }

  private check(method: string): void {
    assertLive(this.disposed, 'PiqModel', method, 'model', 'Build a new PiqModel.');
  }

  /**
   * The classifier's features, logits and decision for a batch (no gradients flow into the classifier's weights).
   */
  classify(x: tf.Tensor4D): { features: tf.Tensor4D; logits: tf.Tensor2D; predictedClass: tf.Tensor1D } {
    return tidyObject(() => {
      const { features, logits } = this.classifier.run(x);
      return { features, logits, predictedClass: tf.argMax(logits, -1) as tf.Tensor1D };
    });
  }

  /**
   * One forward pass from precomputed classifier outputs. `training` switches batch-norm to batch
   * statistics and the quantizer to its training restrictions.
   */
  forwardFrom(
    x: tf.Tensor4D,
    cls: { features: tf.Tensor4D; logits: tf.Tensor2D; predictedClass: tf.Tensor1D },
    training = false,
  ): PiqForwardResult {
    this.check('forward');
    return tidyObject(() => {
      const encoded = this.decoder.encode(cls.features, training);
      // Class ids come from argMax and features from the classifier, so the quantizer's own value
      // checks (a device read-back) are skipped here; a NaN reaches the loss and stops training there.
      const q = this.quantizer.quantize(encoded, cls.predictedClass, { training, validate: false });
      const decoderLogits = this.decoder.decode(q.quantized as tf.Tensor4D, training);
      const decoderOutput = (this.outputActivation === 'softplus' ? tf.softplus(decoderLogits) : tf.sigmoid(decoderLogits)) as tf.Tensor4D;
      let mask: tf.Tensor4D;
      let interpretation: tf.Tensor4D;
      if (this.mode === 'mask') {
        mask = (decoderOutput.shape[3] === 1 ? decoderOutput : tf.mean(decoderOutput, 3, true)) as tf.Tensor4D;
        interpretation = tf.mul(decoderOutput, x) as tf.Tensor4D;
      } else {
        mask = tf.mean(decoderOutput, 3, true) as tf.Tensor4D;
        if (this.outputActivation === 'softplus') {
          // An unbounded reconstruction is no mask: threshold it per example, as the reference recipe does.
          const peak = tf.max(mask, [1, 2, 3], true);
          mask = tf.cast(tf.greater(mask, tf.mul(peak, SOFTPLUS_MASK_THRESHOLD)), 'float32') as tf.Tensor4D;
        }
        interpretation = decoderOutput;
      }
      return {
        features: cls.features,
        inputLogits: cls.logits,
        predictedClass: cls.predictedClass,
        encoded,
        quantized: q.quantized as tf.Tensor4D,
        codeIndices: q.codeIndices,
        codebookLoss: q.codebookLoss,
        commitmentLoss: q.commitmentLoss,
        perplexity: q.perplexity,
        decoderLogits,
        decoderOutput,
        mask,
        interpretation,
      };
    });
  }

  /** One forward pass from the input (runs the classifier first). */
  forward(x: tf.Tensor4D, training = false): PiqForwardResult {
    return tidyObject(() => this.forwardFrom(x, this.classify(x), training));
  }

  /**
   * The classifier's decision on the interpretation of a forward pass, `[batch]` int32: where it
   * equals `fwd.predictedClass` the interpretation is faithful (input fidelity).
   */
  interpretationClass(fwd: Pick<PiqForwardResult, 'interpretation'>): tf.Tensor1D {
    this.check('interpretationClass');
    return tf.tidy(() => tf.argMax(this.classifier.logits(fwd.interpretation), -1) as tf.Tensor1D);
  }

  /** The {@link LossContext} of a forward pass; `target` is the step's target tensor. */
  lossContext(x: tf.Tensor4D, target: tf.Tensor4D, fwd: PiqForwardResult): LossContext {
    let interpLogits: tf.Tensor2D | undefined;
    let codebook: tf.Tensor2D | undefined;
    const classify = (t: tf.Tensor4D): tf.Tensor2D => this.classifier.logits(t);
    return {
      input: x,
      target,
      decoderLogits: fwd.decoderLogits,
      decoderOutput: fwd.decoderOutput,
      interpretation: fwd.interpretation,
      features: fwd.features,
      encoded: fwd.encoded,
      quantizer: {
        codebookLoss: fwd.codebookLoss,
        commitmentLoss: fwd.commitmentLoss,
        codeIndices: fwd.codeIndices,
        codebook: () => (codebook ??= this.quantizer.getCodebook()),
        layout: this.quantizer.layout,
      },
      predictedClass: fwd.predictedClass,
      inputLogits: fwd.inputLogits,
      classify,
      interpretationLogits: () => (interpLogits ??= classify(fwd.interpretation)),
      numClasses: this.classifier.numClasses,
      mode: this.mode,
      outputActivation: this.outputActivation,
    };
  }

  /**
   * Copies of every weight of the model — decoder (with its adapter) and quantizer — under their
   * stable names (`decoder/<i>`, `adapter/<i>`, `quantizer/…`): what saves and checkpoints store.
   * The caller owns the tensors.
   */
  getWeights(): Record<string, tf.Tensor> {
    this.check('getWeights');
    return { ...this.decoder.getWeights(), ...this.quantizer.getWeights() };
  }

  /**
   * Checks, without changing anything, that `weights` hold every weight of this model with its
   * shape (as {@link PiqModel.getWeights} names them). Throws PiqStateError otherwise.
   */
  checkWeights(weights: Record<string, tf.Tensor>, owner = 'PiqModel.checkWeights'): void {
    this.check('checkWeights');
    if (typeof weights !== 'object' || weights === null) {
      throw new PiqStateError(`${owner}: 'weights' must be a record of named tensors from getWeights(), got ${describe(weights)}.`);
    }
    const current = this.getWeights();
    try {
      for (const [name, t] of Object.entries(current)) {
        const w = weights[name];
        if (!w || !tf.util.arraysEqual(w.shape, t.shape)) {
          throw new PiqStateError(
            `${owner}: the saved weights must hold weight '${name}' of shape ${shapeStr(t.shape)} for this model, got ${w ? shapeStr(w.shape) : 'none'}. They were written for another model configuration.`,
          );
        }
      }
    } finally {
      tf.dispose(Object.values(current));
    }
  }

  /**
   * Restores weights written by {@link PiqModel.getWeights} (other names, such as optimizer state,
   * are ignored). Everything is checked first ({@link PiqModel.checkWeights}, then each part's own
   * checks), so a mismatch changes nothing. The caller keeps ownership of `weights`.
   */
  setWeights(weights: Record<string, tf.Tensor>, owner = 'PiqModel.setWeights'): void {
    this.checkWeights(weights, owner);
    this.decoder.setWeights(weights);
    this.quantizer.setWeights(weights);
  }

  /** Frees the decoder and quantizer (never the classifier). */
  dispose(): void {
    if (this.disposed) return;
    this.decoder.dispose();
    this.quantizer.dispose();
    this.disposed = true;
  }

  /** Whether {@link PiqModel.dispose} was called. */
  get isDisposed(): boolean {
    return this.disposed;
  }
}

const PIQ_MODEL_KEYS = optionKeys<ConstructorParameters<typeof PiqModel>[0]>({ classifier: true, decoder: true, quantizer: true, mode: true, target: true, loss: true, outputActivation: true });
