import { afterEach, describe, expect, it } from 'vitest';
import { PiqConfigError, PiqInputError, PiqStateError } from '../../src/errors';
import { drawToCanvas, toImageData, type CanvasLike, type ImageDataLike, type RgbaImage } from '../../src/visualize';
import { expectError, image } from './support';

/** A minimal stand-in for the DOM's ImageData (Node has none). */
class FakeImageData implements ImageDataLike {
  constructor(
    readonly data: Uint8ClampedArray,
    readonly width: number,
    readonly height: number,
  ) {}
}

function fakeCanvas(withContext = true) {
  const calls: Array<{ imageData: ImageDataLike; x: number; y: number }> = [];
  const canvas: CanvasLike = {
    width: 300,
    height: 150,
    getContext: () => (withContext ? { putImageData: (imageData, x, y) => void calls.push({ imageData, x, y }) } : null),
  };
  return { canvas, calls };
}

const g = globalThis as { ImageData?: unknown };

describe('toImageData and drawToCanvas', () => {
  afterEach(() => {
    delete g.ImageData;
  });

  it('throws PiqStateError when there is no global ImageData (as in Node)', () => {
    expect(g.ImageData).toBeUndefined();
    expect(() => toImageData(image(1, 1, [0, 0, 0, 0]))).toThrow(PiqStateError);
    expect(() => toImageData(image(1, 1, [0, 0, 0, 0]))).toThrow(/ImageData/);
  });

  it('builds an ImageData with a copy of the pixels when the global exists', () => {
    g.ImageData = FakeImageData;
    const img = image(2, 1, [1, 2, 3, 4, 5, 6, 7, 8]);
    const out = toImageData(img);
    expect(out).toBeInstanceOf(FakeImageData);
    expect([out.width, out.height]).toEqual([2, 1]);
    expect(Array.from(out.data)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(out.data).not.toBe(img.data);
  });

  it('resizes the canvas to the image and puts the pixels at (0, 0) by default', () => {
    g.ImageData = FakeImageData;
    const { canvas, calls } = fakeCanvas();
    drawToCanvas(image(2, 1, [1, 2, 3, 4, 5, 6, 7, 8]), canvas);
    expect([canvas.width, canvas.height]).toEqual([2, 1]);
    expect(calls).toHaveLength(1);
    expect([calls[0]?.x, calls[0]?.y]).toEqual([0, 0]);
    expect(Array.from(calls[0]?.imageData.data ?? [])).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('keeps the canvas size and draws at (x, y) when resize is false', () => {
    g.ImageData = FakeImageData;
    const { canvas, calls } = fakeCanvas();
    drawToCanvas(image(1, 1, [0, 0, 0, 255]), canvas, { resize: false, x: 5, y: 7 });
    expect([canvas.width, canvas.height]).toEqual([300, 150]);
    expect([calls[0]?.x, calls[0]?.y]).toEqual([5, 7]);
  });

  it('throws PiqStateError when the canvas has no 2D context', () => {
    g.ImageData = FakeImageData;
    const { canvas } = fakeCanvas(false);
    expectError(() => drawToCanvas(image(1, 1, [0, 0, 0, 0]), canvas), PiqStateError, 'canvas');
  });

  it('rejects a non-canvas, a malformed image and bad options', () => {
    g.ImageData = FakeImageData;
    expectError(() => drawToCanvas(image(1, 1, [0, 0, 0, 0]), {} as CanvasLike), PiqInputError, 'canvas');
    expectError(() => drawToCanvas(image(1, 1, [0]), fakeCanvas().canvas), PiqInputError, 'image.data');
    expectError(() => drawToCanvas(image(1, 1, [0, 0, 0, 0]), fakeCanvas().canvas, { resize: 1 as never }), PiqConfigError, 'resize');
    expectError(() => drawToCanvas(image(1, 1, [0, 0, 0, 0]), fakeCanvas().canvas, { x: NaN }), PiqConfigError, 'x');
  });

  it('accepts DOM canvases and OffscreenCanvas by type alone (compile-time check)', () => {
    // Never called: it only has to type-check against the DOM library used by the tests' tsconfig.
    const typeCheckOnly = (img: RgbaImage, a: HTMLCanvasElement, b: OffscreenCanvas): ImageData => {
      drawToCanvas(img, a);
      drawToCanvas(img, b);
      return toImageData(img) as ImageData;
    };
    expect(typeof typeCheckOnly).toBe('function');
  });
});
