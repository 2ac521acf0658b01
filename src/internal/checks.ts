// Shared argument checks on plain values. Every public entry point validates once, at its boundary,
// with messages of the form `<owner>: '<name>' must <expected>, got <actual>. <fix>`.
// No tfjs import (also at run time): the visualize subpath uses this module and must not load tfjs.
import { PiqConfigError, PiqInputError, PiqStateError } from '../errors';

/** Whether a value looks like a tf.Tensor (checked by shape, so this module never imports tfjs). */
function tensorLike(value: object): value is { dtype: string; shape: number[] } {
  const v = value as { dtype?: unknown; shape?: unknown; rank?: unknown };
  return typeof v.dtype === 'string' && Array.isArray(v.shape) && typeof v.rank === 'number';
}

/** Renders a value for an error message, compactly. */
export function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (typeof value === 'object' && tensorLike(value)) return `a ${value.dtype} tensor of shape [${value.shape.join(', ')}]`;
  if (ArrayBuffer.isView(value)) {
    const kind = Object.prototype.toString.call(value).slice(8, -1);
    return 'length' in value ? `a ${kind} of length ${(value as unknown as ArrayLike<unknown>).length}` : `a ${kind}`;
  }
  return `an object (${Object.prototype.toString.call(value).slice(8, -1)})`;
}

/** `[2, 3]` for a shape. */
export function shapeStr(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** A positive integer option (PiqConfigError otherwise). */
export function positiveInt(owner: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new PiqConfigError(`${owner}: '${name}' must be a positive integer, got ${describe(value)}.`);
  }
  return value;
}

/** A non-negative integer option (PiqConfigError otherwise). */
export function nonNegativeInt(owner: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new PiqConfigError(`${owner}: '${name}' must be a non-negative integer, got ${describe(value)}.`);
  }
  return value;
}

/** A positive integer describing the data (width, height, frames, …): PiqInputError otherwise. */
export function dimension(owner: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new PiqInputError(`${owner}: '${name}' must be a positive integer, got ${describe(value)}.`);
  }
  return value;
}

/** A finite number option, optionally within a range (PiqConfigError otherwise). */
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
    throw new PiqConfigError(`${owner}: '${name}' must be ${minExclusive ? '>' : '>='} ${min}, got ${value}.`);
  }
  if (max !== undefined && value > max) {
    throw new PiqConfigError(`${owner}: '${name}' must be <= ${max}, got ${value}.`);
  }
  return value;
}

/** A boolean option (PiqConfigError otherwise). */
export function boolean(owner: string, name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') {
    throw new PiqConfigError(`${owner}: '${name}' must be true or false, got ${describe(value)}.`);
  }
  return value;
}

/** One of a list of names (PiqConfigError listing the choices otherwise). */
export function oneOf<T extends string>(owner: string, name: string, value: unknown, choices: readonly T[]): T {
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
    throw new PiqConfigError(
      `${owner}: '${name}' must be one of ${choices.map((c) => `'${c}'`).join(', ')}, got ${describe(value)}.`,
    );
  }
  return value as T;
}

/** Options must be an object (or undefined, read as `{}`). */
export function optionsObject<T extends object>(owner: string, value: T | undefined): Partial<T> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new PiqConfigError(`${owner}: 'options' must be an object, got ${describe(value)}.`);
  }
  return value;
}

/** Throws PiqInputError naming `name` and the index of the first NaN/Infinity. */
export function checkFiniteArray(owner: string, name: string, data: ArrayLike<number>): void {
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      throw new PiqInputError(
        `${owner}: '${name}' must contain only finite values, got ${describe(data[i])} at index ${i}. Clean the input first.`,
      );
    }
  }
}

/**
 * The one dispose guard: throws PiqStateError `<Owner>.<method>: the <what> was disposed. <fix>`
 * when an object is used after its `dispose()`.
 */
export function assertLive(disposed: boolean, owner: string, method: string, what: string, fix: string): void {
  if (disposed) throw new PiqStateError(`${owner}.${method}: the ${what} was disposed. ${fix}`);
}
