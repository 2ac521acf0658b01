// Argument checks specific to pictures (pixel arrays, RGBA images, colours, size limits). The
// generic ones come from ../internal/checks.ts, which, like this subpath, never loads tfjs.
import { PiqConfigError, PiqInputError } from '../errors';
import { describe, dimension } from '../internal/checks';
import type { NumericArray, RgbaColor, RgbaImage } from './types';

/** A number in [0, 1] (an opacity). */
export function unitInterval(owner: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw new PiqConfigError(`${owner}: '${name}' must be a number in [0, 1], got ${describe(value)}.`);
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
      `${owner}: '${name}' must be a Float32Array or number[], got ${describe(value)}. Read tensors with await tensor.data().`,
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
        `${owner}: '${name}' must contain only finite numbers, got ${describe(v)} at index ${i}. Clean the data first.`,
      );
    }
  }
  return value as NumericArray;
}

/** An RgbaImage whose data has exactly width * height * 4 bytes. */
export function rgbaImage(owner: string, name: string, value: unknown): RgbaImage {
  if (value === null || typeof value !== 'object') {
    throw new PiqInputError(`${owner}: '${name}' must be an RgbaImage { width, height, data }, got ${describe(value)}.`);
  }
  const img = value as Partial<RgbaImage>;
  const width = img.width;
  const height = img.height;
  if (typeof width !== 'number' || !Number.isInteger(width) || width <= 0) {
    throw new PiqInputError(`${owner}: '${name}.width' must be a positive integer, got ${describe(width)}.`);
  }
  if (typeof height !== 'number' || !Number.isInteger(height) || height <= 0) {
    throw new PiqInputError(`${owner}: '${name}.height' must be a positive integer, got ${describe(height)}.`);
  }
  const data = img.data as unknown;
  if (Object.prototype.toString.call(data) !== '[object Uint8ClampedArray]') {
    throw new PiqInputError(
      `${owner}: '${name}.data' must be a Uint8ClampedArray, got ${describe(data)}. Wrap bytes with new Uint8ClampedArray(bytes).`,
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
    throw new PiqConfigError(`${owner}: '${name}' must be a colour { r, g, b, a? } with 0-255 channels, got ${describe(value)}.`);
  }
  const c = value as Partial<RgbaColor>;
  const out: Record<'r' | 'g' | 'b' | 'a', number> = { r: 0, g: 0, b: 0, a: 255 };
  for (const k of ['r', 'g', 'b', 'a'] as const) {
    const v = c[k] ?? (k === 'a' ? 255 : undefined);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 255) {
      throw new PiqConfigError(`${owner}: '${name}.${k}' must be an integer in [0, 255], got ${describe(v)}.`);
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

/**
 * A picture's worth of numbers: a width and a height (positive integers, named as the caller names
 * them, e.g. frames and bins), within {@link MAX_PIXELS}, and exactly `width · height · depth`
 * finite values.
 */
export function valueGrid(
  owner: string,
  values: { name: string; value: unknown; depth?: { name: string; value: number } },
  width: { name: string; value: unknown },
  height: { name: string; value: unknown },
  fix: string,
): { width: number; height: number; values: NumericArray } {
  const w = dimension(owner, width.name, width.value);
  const h = dimension(owner, height.name, height.value);
  checkPixelCount(owner, w, h, fix);
  const depth = values.depth;
  const hint = `${width.name} * ${height.name}${depth ? ` * ${depth.name}` : ''}`;
  return { width: w, height: h, values: numericArray(owner, values.name, values.value, w * h * (depth?.value ?? 1), hint) };
}
