// Argument checks for the visualize subpath. Kept separate from src/internal/validate.ts because
// that module imports tfjs-core and this subpath must not depend on tfjs at run time.
import { PiqConfigError, PiqInputError } from '../errors';
import type { NumericArray, RgbaColor, RgbaImage } from './types';

/** Renders a value for an error message, compactly. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (ArrayBuffer.isView(value)) {
    const kind = Object.prototype.toString.call(value).slice(8, -1);
    return 'length' in value ? `a ${kind} of length ${(value as unknown as ArrayLike<unknown>).length}` : `a ${kind}`;
  }
  if (typeof value === 'function') return 'a function';
  return `an object (${Object.prototype.toString.call(value).slice(8, -1)})`;
}

/** A positive integer describing the data (width, height, frames, ...): PiqInputError otherwise. */
export function dimension(owner: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new PiqInputError(`${owner}: '${name}' must be a positive integer, got ${describeValue(value)}.`);
  }
  return value;
}

/** A positive integer option: PiqConfigError otherwise. */
export function positiveIntOption(owner: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new PiqConfigError(`${owner}: '${name}' must be a positive integer, got ${describeValue(value)}.`);
  }
  return value;
}

/** A non-negative integer option: PiqConfigError otherwise. */
export function nonNegativeIntOption(owner: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new PiqConfigError(`${owner}: '${name}' must be a non-negative integer, got ${describeValue(value)}.`);
  }
  return value;
}

/** A number in [0, 1] (an opacity). */
export function unitInterval(owner: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw new PiqConfigError(`${owner}: '${name}' must be a number in [0, 1], got ${describeValue(value)}.`);
  }
  return value;
}

export function booleanOption(owner: string, name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') {
    throw new PiqConfigError(`${owner}: '${name}' must be true or false, got ${describeValue(value)}.`);
  }
  return value;
}

export function finiteOption(owner: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new PiqConfigError(`${owner}: '${name}' must be a finite number, got ${describeValue(value)}.`);
  }
  return value;
}

export function oneOfOption<T extends string>(owner: string, name: string, value: unknown, choices: readonly T[]): T {
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
    throw new PiqConfigError(
      `${owner}: '${name}' must be one of ${choices.map((c) => `'${c}'`).join(', ')}, got ${describeValue(value)}.`,
    );
  }
  return value as T;
}

/** Options must be an object (or undefined). */
export function optionsObject<T extends object>(owner: string, value: T | undefined): Partial<T> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new PiqConfigError(`${owner}: 'options' must be an object, got ${describeValue(value)}.`);
  }
  return value;
}

/**
 * A flat numeric array of exactly `expected` finite numbers. `lengthHint` explains the expected
 * length in the message, e.g. `width * height = 6`.
 */
export function numericArray(
  owner: string,
  name: string,
  value: unknown,
  expected: number,
  lengthHint: string,
): NumericArray {
  const isArray = Array.isArray(value);
  if (!isArray && !(ArrayBuffer.isView(value) && !(value instanceof DataView))) {
    throw new PiqInputError(
      `${owner}: '${name}' must be a Float32Array or number[], got ${describeValue(value)}. Read tensors with await tensor.data().`,
    );
  }
  const arr = value as unknown as ArrayLike<unknown>;
  if (arr.length !== expected) {
    throw new PiqInputError(
      `${owner}: '${name}' must have length ${lengthHint} = ${expected}, got ${arr.length}. Check the sizes you passed.`,
    );
  }
  for (let i = 0; i < expected; i++) {
    const v = arr[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new PiqInputError(
        `${owner}: '${name}' must contain only finite numbers, got ${describeValue(v)} at index ${i}. Clean the data first.`,
      );
    }
  }
  return value as NumericArray;
}

/** An RgbaImage whose data has exactly width * height * 4 bytes. */
export function rgbaImage(owner: string, name: string, value: unknown): RgbaImage {
  if (value === null || typeof value !== 'object') {
    throw new PiqInputError(`${owner}: '${name}' must be an RgbaImage { width, height, data }, got ${describeValue(value)}.`);
  }
  const img = value as Partial<RgbaImage>;
  const width = img.width;
  const height = img.height;
  if (typeof width !== 'number' || !Number.isInteger(width) || width <= 0) {
    throw new PiqInputError(`${owner}: '${name}.width' must be a positive integer, got ${describeValue(width)}.`);
  }
  if (typeof height !== 'number' || !Number.isInteger(height) || height <= 0) {
    throw new PiqInputError(`${owner}: '${name}.height' must be a positive integer, got ${describeValue(height)}.`);
  }
  const data = img.data as unknown;
  if (Object.prototype.toString.call(data) !== '[object Uint8ClampedArray]') {
    throw new PiqInputError(
      `${owner}: '${name}.data' must be a Uint8ClampedArray, got ${describeValue(data)}. Wrap bytes with new Uint8ClampedArray(bytes).`,
    );
  }
  const bytes = data as Uint8ClampedArray;
  if (bytes.length !== width * height * 4) {
    throw new PiqInputError(
      `${owner}: '${name}.data' must have length width * height * 4 = ${width * height * 4}, got ${bytes.length}.`,
    );
  }
  return value as RgbaImage;
}

/** A colour { r, g, b, a? } with integer channels in [0, 255]; a defaults to 255. */
export function rgbaColor(owner: string, name: string, value: unknown): RgbaColor {
  if (value === null || typeof value !== 'object') {
    throw new PiqConfigError(`${owner}: '${name}' must be a colour { r, g, b, a? } with 0-255 channels, got ${describeValue(value)}.`);
  }
  const c = value as Partial<RgbaColor>;
  const out: Record<'r' | 'g' | 'b' | 'a', number> = { r: 0, g: 0, b: 0, a: 255 };
  for (const k of ['r', 'g', 'b', 'a'] as const) {
    const v = c[k] ?? (k === 'a' ? 255 : undefined);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 255) {
      throw new PiqConfigError(`${owner}: '${name}.${k}' must be an integer in [0, 255], got ${describeValue(v)}.`);
    }
    out[k] = v;
  }
  return out;
}

/** The largest image these helpers allocate: 2^28 pixels (1 GiB of RGBA). */
export const MAX_PIXELS = 2 ** 28;

export function checkPixelCount(owner: string, width: number, height: number, fix: string): void {
  if (width * height > MAX_PIXELS) {
    throw new PiqConfigError(
      `${owner}: the output would be ${width}x${height} = ${width * height} pixels, more than the limit of ${MAX_PIXELS}. ${fix}`,
    );
  }
}
