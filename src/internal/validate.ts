// Shared argument validation. Every public entry point validates once, at its boundary,
// with messages of the form `<owner>: <expected>, got <actual>. <fix>`.
import * as tf from '@tensorflow/tfjs-core';
import { PiqConfigError, PiqInputError } from '../errors';

/** Renders a value for an error message, compactly. */
export function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (value instanceof tf.Tensor) return `a ${value.dtype} tensor of shape [${value.shape.join(', ')}]`;
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (typeof value === 'function') return 'a function';
  return `an object (${Object.prototype.toString.call(value).slice(8, -1)})`;
}

export function shapeStr(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

export function positiveInt(owner: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new PiqConfigError(`${owner}: '${name}' must be a positive integer, got ${describe(value)}.`);
  }
  return value;
}

export function nonNegativeInt(owner: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new PiqConfigError(`${owner}: '${name}' must be a non-negative integer, got ${describe(value)}.`);
  }
  return value;
}

export function finiteNumber(
  owner: string,
  name: string,
  value: unknown,
  range: { min?: number; max?: number; minExclusive?: boolean } = {},
): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new PiqConfigError(`${owner}: '${name}' must be a finite number, got ${describe(value)}.`);
  }
  const { min, max, minExclusive } = range;
  if (min !== undefined && (minExclusive ? value <= min : value < min)) {
    throw new PiqConfigError(
      `${owner}: '${name}' must be ${minExclusive ? '>' : '>='} ${min}, got ${value}.`,
    );
  }
  if (max !== undefined && value > max) {
    throw new PiqConfigError(`${owner}: '${name}' must be <= ${max}, got ${value}.`);
  }
  return value;
}

export function boolean(owner: string, name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') {
    throw new PiqConfigError(`${owner}: '${name}' must be true or false, got ${describe(value)}.`);
  }
  return value;
}

export function oneOf<T extends string>(owner: string, name: string, value: unknown, choices: readonly T[]): T {
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
    throw new PiqConfigError(
      `${owner}: '${name}' must be one of ${choices.map((c) => `'${c}'`).join(', ')}, got ${describe(value)}.`,
    );
  }
  return value as T;
}

export function isTensor(value: unknown): value is tf.Tensor {
  return value instanceof tf.Tensor;
}

export function tensorArg(owner: string, name: string, value: unknown): tf.Tensor {
  if (!isTensor(value)) {
    throw new PiqInputError(`${owner}: '${name}' must be a tf.Tensor, got ${describe(value)}.`);
  }
  if (value.isDisposed) {
    throw new PiqInputError(`${owner}: '${name}' is a disposed tensor. Pass a live tensor.`);
  }
  return value;
}

export function floatTensor(owner: string, name: string, value: unknown): tf.Tensor {
  const t = tensorArg(owner, name, value);
  if (t.dtype !== 'float32') {
    throw new PiqInputError(`${owner}: '${name}' must have dtype float32, got ${t.dtype}. Cast it with tf.cast(x, 'float32').`);
  }
  return t;
}

export function rankIn(owner: string, name: string, t: tf.Tensor, ranks: readonly number[], hint = ''): void {
  if (!ranks.includes(t.rank)) {
    throw new PiqInputError(
      `${owner}: '${name}' must have rank ${ranks.join(' or ')}${hint ? ` (${hint})` : ''}, got rank ${t.rank} with shape ${shapeStr(t.shape)}.`,
    );
  }
}

/** Throws if a float tensor holds NaN or ±Infinity. Reads one scalar back (synchronous). */
export function assertFinite(owner: string, name: string, t: tf.Tensor): void {
  const bad = tf.tidy(() => tf.logicalNot(tf.all(tf.isFinite(t))).dataSync()[0]);
  if (bad) {
    throw new PiqInputError(`${owner}: '${name}' must contain only finite values, got NaN or Infinity. Clean the input first.`);
  }
}

/** `tf.tidy` for functions returning an object of tensors typed by an interface (no index signature). */
export function tidyObject<T>(fn: () => T): T {
  return tf.tidy(() => fn() as unknown as tf.TensorContainer) as unknown as T;
}
