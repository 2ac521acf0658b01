// Classifier-in-the-loop terms on the decoded mask, for faithfulness fine-tuning (Interpreter.finetune):
// the classifier keeps its decision on M ⊙ x, loses it on (1 − M) ⊙ x, and the mask stays small.
// L-MAC-style terms (arXiv 2403.13086) over PIQ's quantized decoder.
import * as tf from '@tensorflow/tfjs-core';
import { PiqConfigError } from '../errors';
import { oneOf, optionKeys, optionsObject } from '../internal/checks';
import { crossEntropyWithClass } from './builtin';
import type { Loss, LossContext } from './types';

/**
 * Which term {@link faithfulnessTerm} computes.
 * - `'keep'`: `CE(f(M ⊙ x), c)`, batch mean — the classifier keeps its decision on the kept part.
 * - `'remove'`: `−log(1 − p_c((1 − M) ⊙ x))`, batch mean — it loses the decision on the rest. Bounded
 *   below by 0, unlike L-MAC's `−CE(f((1 − M) ⊙ x), c)`, which a saturating classifier can drive to −∞.
 * - `'sparsity'`: `mean |M|` over the batch (the mean of the per-example means; L-MAC sums them instead,
 *   which ties the weight to the batch size).
 * @category Losses
 */
export type FaithfulnessTermKind = 'keep' | 'remove' | 'sparsity';

/**
 * Options of {@link faithfulnessTerm}.
 * @category Losses
 */
export interface FaithfulnessTermOptions {
  /** The term. */
  term: FaithfulnessTermKind;
}

/**
 * The mask M the classifier-in-the-loop terms act on, `[batch, h, w, 1 or channels]`: the decoder's
 * sigmoid mask in mask mode; in reconstruction mode (sigmoid output) the channel mean of the
 * reconstruction — the same mask `Interpreter.interpret` and `PiqAttribution` report. Throws for
 * a softplus output, whose reconstruction is no mask in [0, 1].
 */
export function contextMask(owner: string, ctx: LossContext): tf.Tensor4D {
  if (ctx.outputActivation === 'softplus') {
    throw new PiqConfigError(
      `${owner}: the decoder output must be a sigmoid mask or reconstruction in [0, 1], got a softplus reconstruction (reconstruction: 'mse'). Fine-tune a mask-mode interpreter, or one with reconstruction: 'bce'.`,
    );
  }
  if (ctx.mode === 'mask') return ctx.decoderOutput;
  return (ctx.decoderOutput.shape[3] === 1 ? ctx.decoderOutput : tf.mean(ctx.decoderOutput, 3, true)) as tf.Tensor4D;
}

/** `log(1 − p_c)` per example from logits, stably: the log-sum-exp of the other classes' log-probabilities. */
function logNotClass(logits: tf.Tensor2D, cls: tf.Tensor1D, numClasses: number): tf.Tensor1D {
  return tf.tidy(() => {
    const logp = tf.logSoftmax(logits);
    const onehot = tf.oneHot(tf.cast(cls, 'int32'), numClasses);
    return tf.logSumExp(tf.add(logp, tf.mul(onehot, -1e4)), -1) as tf.Tensor1D;
  });
}

const FAITHFULNESS_TERM_KEYS = optionKeys<FaithfulnessTermOptions>({ term: true });

/**
 * One classifier-in-the-loop term on the decoded mask M (see {@link FaithfulnessTermKind}), with c the
 * classifier's decision on x. Differentiable through the frozen classifier into the decoder (the
 * classifier's weights are never trained). Mask mode, or reconstruction mode with the sigmoid
 * output (M = the reconstruction). `Interpreter.finetune` adds the three terms to the interpreter's
 * own losses; you can also pass them to `createInterpreter({ losses })`.
 *
 * @example
 * ```ts
 * import { combineLosses, faithfulnessTerm, maskTargetLoss } from 'piq-tfjs';
 * const loss = combineLosses([
 *   { loss: maskTargetLoss(), weight: 1 },
 *   { loss: faithfulnessTerm({ term: 'keep' }), weight: 1 },
 *   { loss: faithfulnessTerm({ term: 'remove' }), weight: 1, key: 'remove' },
 * ]);
 * console.log(loss.getSpec().map((s) => s.key)); // ['maskTarget', 'faithfulnessTerm', 'remove']
 * ```
 * @category Losses
 */
export function faithfulnessTerm(options: FaithfulnessTermOptions): Loss {
  const owner = 'faithfulnessTerm';
  const term = oneOf(owner, 'term', optionsObject(owner, options, FAITHFULNESS_TERM_KEYS).term, ['keep', 'remove', 'sparsity'] as const);
  return {
    name: 'faithfulnessTerm',
    getConfig: () => ({ term }),
    compute: (ctx) =>
      tf.tidy(() => {
        const m = contextMask(owner, ctx);
        if (term === 'sparsity') return tf.mean(tf.abs(m)) as tf.Scalar;
        if (ctx.numClasses < 2) {
          throw new PiqConfigError(`${owner}: the classifier must have at least 2 classes for term '${term}', got ${ctx.numClasses}.`);
        }
        if (term === 'keep') return crossEntropyWithClass(ctx.classify(tf.mul(m, ctx.input) as tf.Tensor4D), ctx.predictedClass, ctx.numClasses);
        const out = ctx.classify(tf.mul(tf.sub(1, m), ctx.input) as tf.Tensor4D);
        return tf.neg(tf.mean(logNotClass(out, ctx.predictedClass, ctx.numClasses))) as tf.Scalar;
      }),
  };
}
