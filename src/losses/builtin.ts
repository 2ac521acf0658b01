import * as tf from '@tensorflow/tfjs-core';
import { PiqConfigError } from '../errors';
import { describe, finiteNumber, oneOf, optionKeys, optionsObject } from '../internal/checks';
import type { Loss, LossContext } from './types';

/** Mean binary cross-entropy of logits `z` against targets `t` in [0, 1], in the stable form max(z,0) − z·t + log(1 + e^−|z|). */
export function bceWithLogits(z: tf.Tensor, t: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.add(tf.sub(tf.relu(z), tf.mul(z, t)), tf.log1p(tf.exp(tf.neg(tf.abs(z)))))) as tf.Scalar);
}

/**
 * Class-balanced BCE of logits `z` against targets `t` (broadcast to `z`), pooled over the batch:
 * `½·Σ t·BCE(z, 1) / max(Σ t, 1) + ½·Σ (1 − t)·BCE(z, 0) / max(Σ (1 − t), 1)`, with BCE(z, 1) = softplus(−z)
 * and BCE(z, 0) = softplus(z) in the stable form max(±z, 0) + log(1 + e^−|z|).
 */
export function balancedBceWithLogits(z: tf.Tensor, target: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const t = tf.broadcastTo(target, z.shape);
    const notT = tf.sub(1, t);
    const soft = tf.log1p(tf.exp(tf.neg(tf.abs(z))));
    const positive = tf.div(tf.sum(tf.mul(t, tf.add(tf.relu(tf.neg(z)), soft))), tf.maximum(tf.sum(t), 1));
    const negative = tf.div(tf.sum(tf.mul(notT, tf.add(tf.relu(z), soft))), tf.maximum(tf.sum(notT), 1));
    return tf.mul(0.5, tf.add(positive, negative)) as tf.Scalar;
  });
}

/** Cross-entropy of logits against class ids, through a one-hot product (no gather: the wasm backend has no gather gradient). */
export function crossEntropyWithClass(logits: tf.Tensor2D, cls: tf.Tensor1D, numClasses: number): tf.Scalar {
  return tf.tidy(() => {
    const logp = tf.logSoftmax(logits);
    const onehot = tf.oneHot(tf.cast(cls, 'int32'), numClasses);
    return tf.neg(tf.mean(tf.sum(tf.mul(onehot, logp), -1))) as tf.Scalar;
  });
}

/**
 * Options of {@link reconstructionLoss}.
 * @category Losses
 */
export interface ReconstructionLossOptions {
  /**
   * `'bce'` on the decoder logits (the reference MNIST setup; needs the sigmoid output and targets in
   * [0, 1]), `'mse'` or `'l1'` on the decoder output. With the softplus output (`createInterpreter({
   * reconstruction: 'mse' })`), `'mse'` is the reference audio recipe's reconstruction loss
   * `mean((X − softplus(ψ))²)`.
   * @defaultValue 'bce'
   */
  kind?: 'bce' | 'mse' | 'l1';
}

const RECONSTRUCTION_KEYS = optionKeys<ReconstructionLossOptions>({ kind: true });

/**
 * Default values of the optional {@link ReconstructionLossOptions} fields.
 */
export const DEFAULT_RECONSTRUCTION_LOSS_OPTIONS = Object.freeze({ kind: 'bce' as 'bce' | 'mse' | 'l1' });

/**
 * Reconstruction of the target by the decoder output: BCE (on logits, numerically stable), MSE or L1,
 * each a mean over all elements. BCE is bounded below only for targets in [0, 1]: the trainer refuses
 * reconstruction-mode inputs outside the output's range (see docs/interpreter.md).
 * @example
 * ```ts
 * import { reconstructionLoss } from 'piq-tfjs';
 * const loss = reconstructionLoss({ kind: 'mse' });
 * console.log(loss.name, loss.getConfig()); // reconstruction { kind: 'mse' }
 * ```
 * @category Losses
 */
export function reconstructionLoss(options: ReconstructionLossOptions = {}): Loss {
  const kind = oneOf('reconstructionLoss', 'kind', optionsObject('reconstructionLoss', options, RECONSTRUCTION_KEYS).kind ?? DEFAULT_RECONSTRUCTION_LOSS_OPTIONS.kind, ['bce', 'mse', 'l1'] as const);
  return {
    name: 'reconstruction',
    getConfig: () => ({ kind }),
    compute: (ctx) =>
      tf.tidy(() => {
        if (kind === 'bce') {
          if (ctx.outputActivation === 'softplus') {
            throw new PiqConfigError(`reconstructionLoss: kind 'bce' needs the sigmoid output, got a softplus output. Use reconstructionLoss({ kind: 'mse' }) (the reference's pairing with softplus).`);
          }
          return bceWithLogits(ctx.decoderLogits, ctx.target);
        }
        const d = tf.sub(ctx.decoderOutput, ctx.target);
        return (kind === 'mse' ? tf.mean(tf.square(d)) : tf.mean(tf.abs(d))) as tf.Scalar;
      }),
  };
}

/**
 * Options of {@link maskTargetLoss}.
 * @category Losses
 */
export interface MaskTargetLossOptions {
  /**
   * `'bce'`: binary cross-entropy on the mask logits (the reference audio setup). `'balanced-bce'`:
   * the same cross-entropy with the target's positive and negative bins weighted equally,
   * `½·mean_{T=1} BCE + ½·mean_{T=0} BCE` over the batch. Sparse targets (the energy mask marks ~3–5% of
   * a spectrogram's bins) make plain BCE favour an all-low mask: measured on spoken digits, its masks
   * never reach 0.5; the balanced form does (docs/audio.md). `'dice'`: soft Dice per example.
   * @defaultValue 'bce'
   */
  kind?: 'bce' | 'balanced-bce' | 'dice';
}

const MASK_TARGET_KEYS = optionKeys<MaskTargetLossOptions>({ kind: true });

/**
 * Default values of the optional {@link MaskTargetLossOptions} fields.
 */
export const DEFAULT_MASK_TARGET_LOSS_OPTIONS = Object.freeze({ kind: 'bce' as 'bce' | 'balanced-bce' | 'dice' });

/**
 * Mask against a target mask (energy threshold, annotation model, …): BCE, class-balanced BCE
 * (positive and negative target bins weighted equally over the batch; a side with no bins in the
 * batch contributes 0) or soft Dice `1 − (2Σ MT + 1)/(ΣM + ΣT + 1)` per example.
 * @example
 * ```ts
 * import { maskTargetLoss } from 'piq-tfjs';
 * console.log(maskTargetLoss({ kind: 'dice' }).getConfig()); // { kind: 'dice' }
 * console.log(maskTargetLoss({ kind: 'balanced-bce' }).getConfig()); // { kind: 'balanced-bce' }
 * ```
 * @category Losses
 */
export function maskTargetLoss(options: MaskTargetLossOptions = {}): Loss {
  const kind = oneOf('maskTargetLoss', 'kind', optionsObject('maskTargetLoss', options, MASK_TARGET_KEYS).kind ?? DEFAULT_MASK_TARGET_LOSS_OPTIONS.kind, ['bce', 'balanced-bce', 'dice'] as const);
  return {
    name: 'maskTarget',
    getConfig: () => ({ kind }),
    compute: (ctx) =>
      tf.tidy(() => {
        if (kind === 'bce') return bceWithLogits(ctx.decoderLogits, ctx.target);
        if (kind === 'balanced-bce') return balancedBceWithLogits(ctx.decoderLogits, ctx.target);
        const m = ctx.decoderOutput;
        const t = tf.broadcastTo(ctx.target, m.shape);
        const inter = tf.sum(tf.mul(m, t), [1, 2, 3]);
        const denom = tf.add(tf.sum(m, [1, 2, 3]), tf.sum(t, [1, 2, 3]));
        return tf.mean(tf.sub(1, tf.div(tf.add(tf.mul(inter, 2), 1), tf.add(denom, 1)))) as tf.Scalar;
      }),
  };
}

/**
 * The quantizer's codebook loss `mean((e_k* − sg(u))²)` as a loss term.
 * @example
 * ```ts
 * import { codebookLoss } from 'piq-tfjs';
 * console.log(codebookLoss().name); // codebook
 * ```
 * @category Losses
 */
export function codebookLoss(): Loss {
  return { name: 'codebook', getConfig: () => ({}), compute: (ctx) => tf.clone(ctx.quantizer.codebookLoss) };
}

/**
 * The quantizer's commitment loss `β · mean((u − sg(e_k*))²)` as a loss term (β is the quantizer's `commitmentWeight`).
 * @example
 * ```ts
 * import { commitmentLoss } from 'piq-tfjs';
 * console.log(commitmentLoss().name); // commitment
 * ```
 * @category Losses
 */
export function commitmentLoss(): Loss {
  return { name: 'commitment', getConfig: () => ({}), compute: (ctx) => tf.clone(ctx.quantizer.commitmentLoss) };
}

/**
 * Classifier fidelity: `KL(softmax f(x) ‖ softmax f(interpretation))`, batch mean. The reference code has it with weight 0.
 * @example
 * ```ts
 * import { fidelityLoss } from 'piq-tfjs';
 * console.log(fidelityLoss().name); // fidelity
 * ```
 * @category Losses
 */
export function fidelityLoss(): Loss {
  return {
    name: 'fidelity',
    getConfig: () => ({}),
    compute: (ctx) =>
      tf.tidy(() => {
        const logp = tf.logSoftmax(ctx.inputLogits);
        const logq = tf.logSoftmax(ctx.interpretationLogits());
        return tf.mean(tf.sum(tf.mul(tf.exp(logp), tf.sub(logp, logq)), -1)) as tf.Scalar;
      }),
  };
}

/**
 * Sparsity of the mask: `mean |M|` of the decoder output.
 * @example
 * ```ts
 * import { sparsityLoss } from 'piq-tfjs';
 * console.log(sparsityLoss().name); // sparsity
 * ```
 * @category Losses
 */
export function sparsityLoss(): Loss {
  return { name: 'sparsity', getConfig: () => ({}), compute: (ctx) => tf.tidy(() => tf.mean(tf.abs(ctx.decoderOutput)) as tf.Scalar) };
}

/**
 * Anisotropic total variation of the decoder output: mean |M[i+1,j] − M[i,j]| + mean |M[i,j+1] − M[i,j]|.
 * @example
 * ```ts
 * import { totalVariationLoss } from 'piq-tfjs';
 * console.log(totalVariationLoss().name); // totalVariation
 * ```
 * @category Losses
 */
export function totalVariationLoss(): Loss {
  return {
    name: 'totalVariation',
    getConfig: () => ({}),
    compute: (ctx) =>
      tf.tidy(() => {
        const m = ctx.decoderOutput;
        const [, h, w] = m.shape;
        const terms: tf.Tensor[] = [];
        if (h > 1) terms.push(tf.mean(tf.abs(tf.sub(tf.slice(m, [0, 1, 0, 0], [-1, h - 1, -1, -1]), tf.slice(m, [0, 0, 0, 0], [-1, h - 1, -1, -1])))));
        if (w > 1) terms.push(tf.mean(tf.abs(tf.sub(tf.slice(m, [0, 0, 1, 0], [-1, -1, w - 1, -1]), tf.slice(m, [0, 0, 0, 0], [-1, -1, w - 1, -1])))));
        return (terms.length ? tf.addN(terms) : tf.scalar(0)) as tf.Scalar;
      }),
  };
}

/**
 * Options of {@link lmacLoss}.
 * @category Losses
 */
export interface LmacLossOptions {
  /** Weight of CE(f(M ⊙ x), c) (batch mean). @defaultValue 4 */
  maskIn?: number;
  /** Weight of the (subtracted) CE(f((1 − M) ⊙ x), c) (batch mean). @defaultValue 0.2 */
  maskOut?: number;
  /** Weight of the sparsity term `Σ_b mean|M_b|` (the sum over the batch of per-example means, as L-MAC). @defaultValue 0.4 */
  sparsity?: number;
}

const LMAC_KEYS = optionKeys<LmacLossOptions>({ maskIn: true, maskOut: true, sparsity: true });

/**
 * Default values of the optional {@link LmacLossOptions} fields (the L-MAC weights).
 */
export const DEFAULT_LMAC_LOSS_OPTIONS = Object.freeze({ maskIn: 4, maskOut: 0.2, sparsity: 0.4 });

/**
 * The L-MAC objective (Paissan, Ravanelli, Subakan, "Listenable Maps for Audio Classifiers", ICML 2024,
 * arXiv 2403.13086; SpeechBrain
 * `recipes/ESC50/interpret/train_lmac.py` L241-249 with `lmac_cnn14.yaml`'s weights 4, 0.2, 0.4):
 * `maskIn·CE(f(M⊙x), c) − maskOut·CE(f((1−M)⊙x), c) + sparsity·Σ_b mean|M_b|`, with c the
 * predicted class, both cross-entropies batch means, and the sparsity term the **sum** over the batch
 * of each example's mean |M| (the reference's `mean((-1,-2,-3))` of a `[B, T, F]` mask is the batch
 * mean, broadcast over the B examples and summed: `B · mean|M|`). Its weight therefore grows with the
 * batch size, as in the reference. The mask-out term is unbounded below. Only meaningful in mask mode.
 * @example
 * ```ts
 * import { lmacLoss } from 'piq-tfjs';
 * console.log(lmacLoss().getConfig()); // { maskIn: 4, maskOut: 0.2, sparsity: 0.4 }
 * ```
 * @category Losses
 */
export function lmacLoss(options: LmacLossOptions = {}): Loss {
  optionsObject('lmacLoss', options, LMAC_KEYS);
  const maskIn = finiteNumber('lmacLoss', 'maskIn', options.maskIn ?? DEFAULT_LMAC_LOSS_OPTIONS.maskIn);
  const maskOut = finiteNumber('lmacLoss', 'maskOut', options.maskOut ?? DEFAULT_LMAC_LOSS_OPTIONS.maskOut);
  const sparsity = finiteNumber('lmacLoss', 'sparsity', options.sparsity ?? DEFAULT_LMAC_LOSS_OPTIONS.sparsity);
  return {
    name: 'lmac',
    getConfig: () => ({ maskIn, maskOut, sparsity }),
    compute: (ctx) =>
      tf.tidy(() => {
        const m = ctx.decoderOutput;
        const xin = tf.mul(m, ctx.input) as tf.Tensor4D;
        const xout = tf.mul(tf.sub(1, m), ctx.input) as tf.Tensor4D;
        const ceIn = crossEntropyWithClass(ctx.classify(xin), ctx.predictedClass, ctx.numClasses);
        const ceOut = crossEntropyWithClass(ctx.classify(xout), ctx.predictedClass, ctx.numClasses);
        const perExampleMean = tf.mean(tf.abs(m), [1, 2, 3]);
        return tf.addN([tf.mul(maskIn, ceIn), tf.mul(-maskOut, ceOut), tf.mul(sparsity, tf.sum(perExampleMean))]) as tf.Scalar;
      }),
  };
}

/** Throws unless `ctx` has the fields losses rely on (used by the contract tests and custom-loss authors). */
export function assertLossContext(ctx: LossContext): void {
  if (!ctx || typeof ctx.classify !== 'function') {
    throw new PiqConfigError(`Loss.compute: 'ctx' must be a LossContext, got ${describe(ctx)}.`);
  }
}
