import { describe, expect, it } from 'vitest';
import { PiqConfigError, PiqInputError } from '../../src/errors';
import { grid } from '../../src/visualize';
import { DEFAULT_GRID_OPTIONS } from '../../src/visualize/grid';
import { expectError, image, pixel } from './support';

const red = (w: number, h: number) => image(w, h, new Array(w * h).fill([255, 0, 0, 255]).flat());

describe('grid', () => {
  it('sizes the output as columns * cell + (columns + 1) * padding by rows likewise', () => {
    // cells 3x2 (widest, tallest), 2 columns, 2 rows, padding 1: 2*3+3 = 9 wide, 2*2+3 = 7 tall
    const g = grid([[red(3, 2), red(1, 1)], [red(2, 2)]], { padding: 1 });
    expect([g.width, g.height]).toEqual([9, 7]);
  });

  it('fills padding and unused cell space with the background colour', () => {
    const bg = { r: 10, g: 20, b: 30, a: 40 };
    const g = grid([[red(1, 1), red(1, 1)]], { padding: 2, background: bg });
    expect([g.width, g.height]).toEqual([2 * 1 + 3 * 2, 1 + 2 * 2]);
    expect(pixel(g, 0, 0)).toEqual([10, 20, 30, 40]);
    expect(pixel(g, 3, 2)).toEqual([10, 20, 30, 40]); // between the two cells
    expect(pixel(g, 2, 2)).toEqual([255, 0, 0, 255]); // first image
    expect(pixel(g, 5, 2)).toEqual([255, 0, 0, 255]); // second image at 2 + 1 + 2
  });

  it('centres a smaller image in its cell and leaves missing cells of a short row blank', () => {
    // cells 3x3; the 1x1 image in row 0 col 1 sits at cell origin (1 + 3 + 1, 1) + (1, 1)
    const g = grid([[red(3, 3), red(1, 1)], [red(3, 3)]], { padding: 1, background: { r: 0, g: 0, b: 0 } });
    expect(pixel(g, 6, 2)).toEqual([255, 0, 0, 255]);
    expect(pixel(g, 5, 1)).toEqual([0, 0, 0, 255]);
    expect(pixel(g, 6, 6)).toEqual([0, 0, 0, 255]); // row 1, col 1 is empty
  });

  it('defaults to 2 pixels of opaque white padding', () => {
    expect(DEFAULT_GRID_OPTIONS).toEqual({ padding: 2, background: { r: 255, g: 255, b: 255, a: 255 } });
    const g = grid([[red(1, 1)]]);
    expect([g.width, g.height]).toEqual([5, 5]);
    expect(pixel(g, 0, 0)).toEqual([255, 255, 255, 255]);
    expect(pixel(g, 2, 2)).toEqual([255, 0, 0, 255]);
  });

  it('packs cells edge to edge with padding 0', () => {
    const g = grid([[image(1, 1, [1, 1, 1, 1]), image(1, 1, [2, 2, 2, 2])]], { padding: 0 });
    expect(Array.from(g.data)).toEqual([1, 1, 1, 1, 2, 2, 2, 2]);
  });

  it('rejects an empty grid, an empty row and a malformed image at its position', () => {
    expectError(() => grid([]), PiqInputError, 'images');
    expectError(() => grid([[red(1, 1)], []]), PiqInputError, 'images[1]');
    expectError(() => grid([[red(1, 1), image(2, 2, [0])]]), PiqInputError, 'images[0][1].data');
  });

  it('rejects bad padding and background colours', () => {
    expectError(() => grid([[red(1, 1)]], { padding: -1 }), PiqConfigError, 'padding');
    expectError(() => grid([[red(1, 1)]], { background: { r: 256, g: 0, b: 0 } }), PiqConfigError, 'background.r');
    expectError(() => grid([[red(1, 1)]], { background: { r: 0, g: 0, b: 0, a: 0.5 } }), PiqConfigError, 'background.a');
  });
});
