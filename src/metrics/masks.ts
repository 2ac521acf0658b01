// Internal: validation and broadcasting of interpretation masks against a batch of inputs.
import * as tf from '@tensorflow/tfjs-core';
import { PiqInputError } from '../errors';
import { shapeStr } from '../internal/checks';
import { assertFinite, floatTensor } from '../internal/tensor-checks';

/**
 * How a mask lines up with the inputs: `'spatial'` masks (`[batch, height, width]` or
 * `[batch, height, width, 1]` for inputs `[batch, height, width, channels]`) are broadcast over
 * channels; `'full'` masks have the inputs' own shape.
 */
export type MaskLayout = 'spatial' | 'full';

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Throws unless every value of `t` lies in [0, 1]. Reads two scalars back. */
export function assertUnitRange(owner: string, name: string, t: tf.Tensor): void {
  const [lo, hi] = tf.tidy(() => [tf.min(t).dataSync()[0] as number, tf.max(t).dataSync()[0] as number]);
  if (lo === undefined || hi === undefined || lo < 0 || hi > 1) {
    throw new PiqInputError(
      `${owner}: '${name}' must hold values in [0, 1], got values in [${lo}, ${hi}]. Normalise the masks (e.g. min-max per example) first.`,
    );
  }
}

/**
 * Validates masks against inputs `[batch, ...inputShape]` and returns their layout.
 * Checks dtype, shape, batch, finiteness and (when `unitRange`) that values lie in [0, 1].
 */
export function checkMasks(owner: string, name: string, value: unknown, inputs: tf.Tensor, unitRange: boolean): MaskLayout {
  const m = floatTensor(owner, name, value);
  const xs = inputs.shape;
  if (m.rank < 1 || m.shape[0] !== xs[0]) {
    throw new PiqInputError(
      `${owner}: '${name}' must have the same batch size as the inputs (${xs[0]}), got shape ${shapeStr(m.shape)}. Pass one mask per input.`,
    );
  }
  let layout: MaskLayout | undefined;
  if (sameShape(m.shape, xs)) {
    layout = 'full';
  } else if (
    xs.length === 4 &&
    ((m.rank === 3 && sameShape(m.shape, xs.slice(0, 3))) ||
      (m.rank === 4 && m.shape[3] === 1 && sameShape(m.shape.slice(0, 3), xs.slice(0, 3))))
  ) {
    layout = 'spatial';
  }
  if (layout === undefined) {
    const spatial = xs.length === 4 ? ` or [${xs.slice(0, 3).join(', ')}] (broadcast over channels)` : '';
    throw new PiqInputError(
      `${owner}: '${name}' must have shape ${shapeStr(xs)}${spatial} to match the inputs, got ${shapeStr(m.shape)}. Resize the masks to the input size.`,
    );
  }
  assertFinite(owner, name, m);
  if (unitRange) assertUnitRange(owner, name, m);
  return layout;
}

/** Reshapes a (chunk of a) mask so that it broadcasts against inputs of shape `inputShape`. */
export function broadcastableMask(mask: tf.Tensor, layout: MaskLayout, inputShape: readonly number[]): tf.Tensor {
  if (layout === 'full') return mask;
  const [b, h, w] = inputShape as [number, number, number, number];
  return tf.reshape(mask, [b, h, w, 1]);
}
