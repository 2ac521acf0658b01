// Shared argument checks on tensors (plain values: ./checks.ts). Messages follow
// `<owner>: '<name>' must <expected>, got <actual>. <fix>`.
import * as tf from '@tensorflow/tfjs-core';
import { PiqInputError } from '../errors';
import { describe, shapeStr } from './checks';

/** Whether a value is a tf.Tensor of the tfjs-core instance piq-tfjs uses. */
export function isTensor(value: unknown): value is tf.Tensor {
  return value instanceof tf.Tensor;
}

/** A live tensor (PiqInputError for anything else, or a disposed tensor). */
export function tensorArg(owner: string, name: string, value: unknown): tf.Tensor {
  if (!isTensor(value)) {
    throw new PiqInputError(`${owner}: '${name}' must be a tf.Tensor, got ${describe(value)}.`);
  }
  if (value.isDisposed) {
    throw new PiqInputError(`${owner}: '${name}' is a disposed tensor. Pass a live tensor.`);
  }
  return value;
}

/** A live float32 tensor. */
export function floatTensor(owner: string, name: string, value: unknown): tf.Tensor {
  const t = tensorArg(owner, name, value);
  if (t.dtype !== 'float32') {
    throw new PiqInputError(`${owner}: '${name}' must have dtype float32, got ${t.dtype}. Cast it with tf.cast(x, 'float32').`);
  }
  return t;
}

/** A tensor of one of the given ranks. */
export function rankIn(owner: string, name: string, t: tf.Tensor, ranks: readonly number[], hint = ''): void {
  if (!ranks.includes(t.rank)) {
    throw new PiqInputError(
      `${owner}: '${name}' must have rank ${ranks.join(' or ')}${hint ? ` (${hint})` : ''}, got rank ${t.rank} with shape ${shapeStr(t.shape)}.`,
    );
  }
}

/** Whether every value of a tensor is finite. Reads one scalar back (synchronous). */
export function allFinite(t: tf.Tensor): boolean {
  return tf.tidy(() => tf.all(tf.isFinite(t)).dataSync()[0]) === 1;
}

/** Examples checked per read-back by {@link firstNonFiniteExample}: bounds the temporary memory. */
const FINITE_CHUNK = 4096;

/** One flag per example of a batch (axis 0), true where every value is finite (call inside a tidy). */
function exampleFiniteFlags(t: tf.Tensor, start: number, size: number): tf.Tensor {
  const part = start === 0 && size === t.shape[0] ? t : tf.slice(t, start, size);
  return tf.all(tf.isFinite(tf.reshape(part, [size, -1])), 1);
}

/**
 * Index (along axis 0) of the first example holding NaN or ±Infinity, or -1 when all are finite.
 * Reads back one flag per example, asynchronously, a chunk of examples at a time.
 */
export async function firstNonFiniteExample(t: tf.Tensor): Promise<number> {
  const n = t.shape[0] ?? 0;
  for (let s = 0; s < n; s += FINITE_CHUNK) {
    const size = Math.min(FINITE_CHUNK, n - s);
    const flags = tf.tidy(() => exampleFiniteFlags(t, s, size));
    const v = await flags.data();
    flags.dispose();
    const i = v.indexOf(0);
    if (i >= 0) return s + i;
  }
  return -1;
}

/** Throws if a float tensor holds NaN or ±Infinity. Reads one scalar back (synchronous). */
export function assertFinite(owner: string, name: string, t: tf.Tensor): void {
  if (!allFinite(t)) {
    throw new PiqInputError(`${owner}: '${name}' must contain only finite values, got NaN or Infinity. Clean the input first.`);
  }
}

/** `tf.tidy` for functions returning an object of tensors typed by an interface (no index signature). */
export function tidyObject<T>(fn: () => T): T {
  return tf.tidy(() => fn() as unknown as tf.TensorContainer) as unknown as T;
}
