// Reconstruction mode redraws the input through the decoder's output head, so the input must lie in
// that head's range: [0, 1] for the sigmoid (whose BCE loss has no lower bound outside [0, 1], so
// training would "improve" forever toward an all-ones output), [0, ∞) for the softplus. Checked on
// the first batch a Trainer trains on in each fit (one read-back), never silently ignored.
import * as tf from '@tensorflow/tfjs-core';
import { PiqInputError } from '../errors';
import type { PiqModel } from './piq-model';

function fmt(v: number): string {
  return String(Number(v.toPrecision(4)));
}

/**
 * Throws PiqInputError when `model` is in reconstruction mode and `x` holds values its output head
 * cannot produce. Does nothing in mask mode.
 */
export function checkReconstructionRange(owner: string, model: PiqModel, x: tf.Tensor4D): void {
  if (model.mode !== 'reconstruction') return;
  const [lo, hi] = tf.tidy(() => tf.stack([tf.min(x), tf.max(x)]).dataSync()) as unknown as [number, number];
  const softplus = model.outputActivation === 'softplus';
  if (lo >= 0 && (softplus || hi <= 1)) return;
  const seen = `values in [${fmt(lo)}, ${fmt(hi)}]`;
  if (softplus) {
    throw new PiqInputError(
      `${owner}: reconstruction mode with the softplus output needs inputs ≥ 0 (softplus cannot produce negative values), got ${seen} in the first batch. Shift the inputs to be non-negative (e.g. log1p magnitudes, not standardised values), or use mode: 'mask'.`,
    );
  }
  throw new PiqInputError(
    `${owner}: reconstruction mode with the sigmoid output needs inputs in [0, 1] (the decoder redraws the input through a sigmoid, and binary cross-entropy has no lower bound outside [0, 1]), got ${seen} in the first batch. Scale the inputs to [0, 1] (e.g. divide 0–255 pixels by 255), create the interpreter with reconstruction: 'mse' (softplus output and MSE, for unbounded non-negative inputs such as log1p spectrograms), or use mode: 'mask'.`,
  );
}
