// Hand-built LossContexts for the loss unit tests: every differentiable input is a tf.variable,
// so a test can take gradients of a loss with respect to the decoder logits, the codebook or the
// encoded features exactly as the Trainer does (tf.variableGrads around build + compute).
import * as tf from '@tensorflow/tfjs-core';
import type { LossContext } from '../../src/losses/types';
import { CodebookLayout, type CodebookLayoutOptions } from '../../src/quantizer/codebook-layout';
import { stopGradient } from '../../src/ops/straight-through';

export interface ContextSpec {
  /** Decoder logits, row-major, with `shape`. */
  logits: number[];
  /** `[batch, height, width, outChannels]` of the decoder output (and of input/target unless given). */
  shape: [number, number, number, number];
  /** Classifier input. @defaultValue ones, shaped like the logits */
  input?: number[];
  inputShape?: [number, number, number, number];
  /** Training target. @defaultValue 0.5 everywhere */
  target?: number[];
  /** The classifier on any batch. @defaultValue a fixed linear map of the flattened input to 2 logits */
  classify?: (x: tf.Tensor4D) => tf.Tensor2D;
  /** @defaultValue 2 */
  numClasses?: number;
  /** @defaultValue 'mask' */
  mode?: 'mask' | 'reconstruction';
  /** Codebook rows, `[codebookSize, codeDim]`. @defaultValue 4 rows of dimension 2 */
  codebook?: number[][];
  /** @defaultValue { numClasses: 2, codesPerClass: 2 } */
  layout?: CodebookLayoutOptions;
  /** Encoded features `u`, `[batch, 1, 1, codeDim]` rows. @defaultValue one row per example */
  encoded?: number[][];
  /** Chosen codebook row per example. @defaultValue 0, 1, 0, … */
  codeIndices?: number[];
}

export interface ContextFixture {
  logits: tf.Variable;
  codebook: tf.Variable;
  encoded: tf.Variable;
  layout: CodebookLayout;
  /** Builds the context from the variables' current values; returns it and a dispose for what it made. */
  build(): { ctx: LossContext; dispose: () => void };
  /** Frees the variables and constants. */
  dispose(): void;
}

/** A deterministic linear classifier `flatten(x) · W` with `W[i][k] = ((i + 1) · (k + 2)) mod 5 − 2` (numbers chosen to be distinct). */
export function linearClassifier(numFeatures: number, numClasses: number): { classify: (x: tf.Tensor4D) => tf.Tensor2D; weights: number[][]; dispose: () => void } {
  const weights = Array.from({ length: numFeatures }, (_, i) => Array.from({ length: numClasses }, (_, k) => (((i + 1) * (k + 2)) % 5) - 2));
  const w = tf.tensor2d(weights);
  return {
    weights,
    classify: (x) => tf.tidy(() => tf.matMul(tf.reshape(x, [x.shape[0], -1]), w) as tf.Tensor2D),
    dispose: () => w.dispose(),
  };
}

export function contextFixture(spec: ContextSpec): ContextFixture {
  const [b, h, w, c] = spec.shape;
  const size = b * h * w * c;
  const inputShape = spec.inputShape ?? spec.shape;
  const inputSize = inputShape.reduce((p, q) => p * q, 1);
  const numClasses = spec.numClasses ?? 2;
  const logits = tf.variable(tf.tensor4d(spec.logits, spec.shape));
  const codebookRows = spec.codebook ?? [[1, 0], [0.5, 0.5], [0, 1], [-1, 0.5]];
  const codebook = tf.variable(tf.tensor2d(codebookRows));
  const D = (codebookRows[0] as number[]).length;
  const encodedRows = spec.encoded ?? Array.from({ length: b }, (_, i) => Array.from({ length: D }, (_, d) => 0.25 * (i + 1) - 0.5 * d));
  const encoded = tf.variable(tf.tensor4d(encodedRows.flat(), [b, 1, 1, D]));
  const layout = new CodebookLayout(spec.layout ?? { numClasses: 2, codesPerClass: 2 });
  const input = tf.tensor4d(spec.input ?? new Array<number>(inputSize).fill(1), inputShape);
  const target = tf.tensor4d(spec.target ?? new Array<number>(size).fill(0.5), spec.shape);
  const lin = spec.classify ? undefined : linearClassifier(inputSize / inputShape[0], numClasses);
  const classify = spec.classify ?? (lin as NonNullable<typeof lin>).classify;
  const idx = tf.tensor1d(spec.codeIndices ?? Array.from({ length: b }, (_, i) => i % 2), 'int32');
  const constants: tf.Tensor[] = [input, target, idx];

  return {
    logits,
    codebook,
    encoded,
    layout,
    build() {
      // Everything below mirrors PiqModel.forwardFrom / lossContext, on tiny hand-set tensors.
      const made: tf.Tensor[] = [];
      const keep = <T extends tf.Tensor>(t: T): T => {
        made.push(t);
        return t;
      };
      const decoderLogits = logits as unknown as tf.Tensor4D;
      const decoderOutput = keep(tf.sigmoid(decoderLogits) as tf.Tensor4D);
      const interpretation = keep(
        (spec.mode ?? 'mask') === 'mask' ? (tf.mul(decoderOutput, input) as tf.Tensor4D) : (tf.clone(decoderOutput) as tf.Tensor4D),
      );
      const uFlat = keep(tf.reshape(encoded, [-1, D]));
      const selected = keep(tf.gather(codebook, idx));
      const codebookLoss = keep(tf.mean(tf.square(tf.sub(selected, stopGradient(uFlat)))) as tf.Scalar);
      const commitmentLoss = keep(tf.mean(tf.square(tf.sub(uFlat, stopGradient(selected)))) as tf.Scalar);
      const inputLogits = keep(tf.tidy(() => classify(input)));
      const predictedClass = keep(tf.argMax(inputLogits, -1) as tf.Tensor1D);
      // Computed once here (a real context computes them on first use and the step's tidy frees them).
      const interpLogits = keep(classify(interpretation));
      const codebookCopy = keep(tf.clone(codebook) as tf.Tensor2D);
      const ctx: LossContext = {
        input,
        target,
        decoderLogits,
        decoderOutput,
        interpretation,
        features: encoded as unknown as tf.Tensor4D,
        encoded: encoded as unknown as tf.Tensor4D,
        quantizer: { codebookLoss, commitmentLoss, codeIndices: idx, codebook: () => codebookCopy, layout },
        predictedClass,
        inputLogits,
        classify,
        interpretationLogits: () => interpLogits,
        numClasses,
        mode: spec.mode ?? 'mask',
      };
      return { ctx, dispose: () => tf.dispose(made) };
    },
    dispose() {
      tf.dispose([logits, codebook, encoded, ...constants]);
      lin?.dispose();
    },
  };
}

/** Gradients of `loss(ctx)` with respect to the fixture's three variables (as plain arrays), and the value. */
export function gradsOf(fx: ContextFixture, compute: (ctx: LossContext) => tf.Scalar): { value: number; logits: number[]; codebook: number[]; encoded: number[] } {
  return tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => compute(fx.build().ctx), [fx.logits, fx.codebook, fx.encoded]);
    const read = (v: tf.Variable) => {
      const g = grads[v.name];
      return g ? Array.from(g.dataSync()) : new Array<number>(v.size).fill(0);
    };
    return { value: value.dataSync()[0] as number, logits: read(fx.logits), codebook: read(fx.codebook), encoded: read(fx.encoded) };
  });
}

/** Runs `compute` on a freshly built context and returns the scalar's value, freeing everything. */
export function valueOf(fx: ContextFixture, compute: (ctx: LossContext) => tf.Scalar): number {
  return tf.tidy(() => compute(fx.build().ctx).dataSync()[0] as number);
}

export const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));
export const mean = (a: number[]): number => a.reduce((s, v) => s + v, 0) / a.length;
