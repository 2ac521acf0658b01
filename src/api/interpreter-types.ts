// The plain-data types of the Interpreter: its saved configuration, what interpret returns (as
// arrays and as tensors) and its options. Split from interpreter.ts, which holds the class.
import type * as tf from '@tensorflow/tfjs-core';
import type { InterpreterDecoderConfig } from '../decoder/decoder-config';
import { optionKeys } from '../internal/checks';
import type { LossSpec } from '../losses/registry';
import type { VectorQuantizerConfig } from '../quantizer/vector-quantizer-options';
import type { FinetuneWeights } from '../training/finetune';
import type { InterpreterMode, OutputActivation } from '../training/piq-model';

/**
 * The resolved, JSON configuration of an interpreter (what `save` writes besides the weights).
 * @category Interpreter
 */
export interface InterpreterConfig {
  mode: InterpreterMode;
  /** The decoder's output head; absent means `'sigmoid'` (written only for `'softplus'`). */
  outputActivation?: OutputActivation;
  numClasses: number;
  inputShape: number[];
  featureShape: [number, number, number];
  featureLayer: string | null;
  decoder: InterpreterDecoderConfig;
  quantizer: VectorQuantizerConfig;
  target: { name: string; config: Record<string, unknown> };
  losses: LossSpec[];
  /** The fine-tunings applied ({@link Interpreter.finetune}), oldest first; absent when none. */
  finetuned?: FinetuneRecord[];
}

/**
 * One {@link Interpreter.finetune} call as recorded in the interpreter's configuration.
 * @category Interpreter
 */
export interface FinetuneRecord extends FinetuneWeights {
  /** Optimizer steps the fine-tuning ran. */
  steps: number;
}

/**
 * Plain-data result of {@link Interpreter.interpret}. Arrays are flat, row-major, example-major;
 * shapes are given alongside. Use {@link InterpretResult.example} for one example's views.
 * @category Interpreter
 */
export interface InterpretResult {
  batch: number;
  /** Input shape `[height, width, channels]`. */
  inputShape: [number, number, number];
  numClasses: number;
  /** The classifier's decision on each input, `[batch]`. */
  predictedClass: Int32Array;
  /** Softmax probabilities, `[batch, numClasses]`. */
  probabilities: Float32Array;
  /** Mask in [0, 1], `[batch, height, width]` (reconstruction mode: the channel mean of the reconstruction; with `reconstruction: 'mse'` its per-example threshold `1[x̂ > 0.35·max x̂]`). */
  mask: Float32Array;
  /** The interpretation, `[batch, height, width, channels]`: `mask ⊙ input`, or the reconstruction. */
  interpretation: Float32Array;
  /** The decoder's reconstruction `[batch, height, width, channels]` in reconstruction mode, else null. */
  reconstruction: Float32Array | null;
  /** The classifier's decision on each interpretation, `[batch]` (equal to `predictedClass` where the interpretation is faithful). */
  interpretationClass: Int32Array;
  /** Chosen codebook rows, `[batch, codeHeight, codeWidth]`. */
  codeIndices: Int32Array;
  codeShape: [number, number];
  /** Views of example `i` (subarrays; no copies). */
  example(i: number): {
    predictedClass: number;
    probabilities: Float32Array;
    mask: Float32Array;
    interpretation: Float32Array;
    reconstruction: Float32Array | null;
    interpretationClass: number;
    codeIndices: Int32Array;
  };
}

/**
 * Options of {@link Interpreter.interpret} and {@link Interpreter.interpretTensors}.
 * @category Interpreter
 */
export interface InterpretOptions {
  /** Examples per internal chunk (bounds memory for large inputs). @defaultValue 64 */
  batchSize?: number;
  /**
   * For pixel inputs (ImageData, image, canvas, video): the values the bytes 0 and 255 are mapped
   * to, linearly: the range the classifier was trained on. Tensors are used as they are.
   * @defaultValue [0, 1]
   */
  inputRange?: readonly [number, number];
}

/** The keys of {@link InterpretOptions}. */
export const INTERPRET_KEYS = optionKeys<InterpretOptions>({ batchSize: true, inputRange: true });

/**
 * What {@link Interpreter.interpretTensors} returns: the fields of {@link InterpretResult} as
 * tensors, which the caller owns (`tf.dispose(Object.values(t))` frees them all).
 * @category Interpreter
 */
export interface InterpretTensors {
  /** `[batch]` int32. */
  predictedClass: tf.Tensor1D;
  /** `[batch, numClasses]`. */
  probabilities: tf.Tensor2D;
  /** `[batch, height, width]` in [0, 1]. */
  mask: tf.Tensor3D;
  /** `[batch, height, width, channels]`. */
  interpretation: tf.Tensor4D;
  /** `[batch, height, width, channels]` in reconstruction mode (a tensor of its own), else null. */
  reconstruction: tf.Tensor4D | null;
  /** `[batch]` int32. */
  interpretationClass: tf.Tensor1D;
  /** `[batch, codeHeight, codeWidth]` int32. */
  codeIndices: tf.Tensor3D;
}
