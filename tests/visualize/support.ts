import { expect } from 'vitest';
import type { RgbaImage } from '../../src/visualize';

/** Asserts `fn` throws an instance of `cls` whose message names `arg` (quoted as in our messages). */
export function expectError(fn: () => unknown, cls: new (...args: never[]) => Error, arg: string): Error {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected the call to throw').toBeInstanceOf(cls);
  expect((err as Error).message).toContain(`'${arg}'`);
  return err as Error;
}

/** Builds an RgbaImage from a flat list of RGBA bytes. */
export function image(width: number, height: number, bytes: number[]): RgbaImage {
  return { width, height, data: new Uint8ClampedArray(bytes) };
}

/** The RGBA bytes of pixel (x, y). */
export function pixel(img: RgbaImage, x: number, y: number): number[] {
  const o = 4 * (y * img.width + x);
  return Array.from(img.data.subarray(o, o + 4));
}
