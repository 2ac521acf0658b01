import { describe, expect, it } from 'vitest';
import { PiqConfigError, PiqInputError } from '../../src/errors';
import { CodebookLayout, DEFAULT_CODEBOOK_LAYOUT_OPTIONS } from '../../src/quantizer/codebook-layout';

/**
 * Independent float64 re-statement of the SpeechBrain reference (`get_irrelevant_regions`):
 * class of row i = round_half_even(linspace(-0.5, C - 0.51, K - S)[i]), shared rows after them.
 */
function referenceOwners(K: number, S: number, C: number): number[] {
  const m = K - S;
  const out: number[] = [];
  for (let i = 0; i < m; i++) {
    const v = m === 1 ? -0.5 : -0.5 + (i * (C - 0.51 + 0.5)) / (m - 1);
    const fl = Math.floor(v);
    out.push(v - fl === 0.5 ? (fl % 2 === 0 ? fl : fl + 1) : Math.round(v));
  }
  return out.map((c) => c + 0);
}

describe('CodebookLayout', () => {
  it('gives each class an equal contiguous block and puts shared rows last by default', () => {
    const l = new CodebookLayout({ numClasses: 3, codesPerClass: 2, sharedCodes: 2 });
    expect(l.codebookSize).toBe(8);
    expect([0, 1, 2].map((c) => l.blockOf(c))).toEqual([
      { start: 0, size: 2 },
      { start: 2, size: 2 },
      { start: 4, size: 2 },
    ]);
    expect(l.sharedBlock()).toEqual({ start: 6, size: 2 });
    expect(l.allowedRows(1)).toEqual([2, 3, 6, 7]);
    expect(l.allowedRows(1, { includeShared: false })).toEqual([2, 3]);
    expect(DEFAULT_CODEBOOK_LAYOUT_OPTIONS).toEqual({ sharedCodes: 0, sharedPlacement: 'last' });
    expect(Object.isFrozen(DEFAULT_CODEBOOK_LAYOUT_OPTIONS)).toBe(true);
  });

  it('puts shared rows first when asked', () => {
    const l = new CodebookLayout({ numClasses: 2, codesPerClass: 2, sharedCodes: 1, sharedPlacement: 'first' });
    expect(l.sharedBlock()).toEqual({ start: 0, size: 1 });
    expect(l.blockOf(0)).toEqual({ start: 1, size: 2 });
    expect(l.allowedRows(1)).toEqual([0, 3, 4]);
    expect(l.classOfRow(0)).toBe(-1);
    expect(l.classOfRow(4)).toBe(1);
  });

  it('splits codebookSize like the reference: K = 7, C = 3 gives blocks of 3, 2, 2', () => {
    // linspace(-0.5, 2.49, 7) = -0.5, -0.0017, 0.4967, 0.995, 1.4933, 1.9917, 2.49 → 0 0 0 1 1 2 2
    const l = new CodebookLayout({ numClasses: 3, codebookSize: 7 });
    expect([0, 1, 2].map((c) => l.blockOf(c))).toEqual([
      { start: 0, size: 3 },
      { start: 3, size: 2 },
      { start: 5, size: 2 },
    ]);
    expect(l.codesPerClass).toBeNull();
  });

  it("reproduces the reference's doctest layout K = 20, S = 5, C = 3 with shared rows 15-19", () => {
    const l = new CodebookLayout({ numClasses: 3, codebookSize: 20, sharedCodes: 5 });
    expect([0, 1, 2].map((c) => l.blockOf(c).size)).toEqual([5, 5, 5]);
    expect(l.sharedBlock()).toEqual({ start: 15, size: 5 });
    expect(l.allowedRows(2)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
  });

  it.each([
    [128, 5, 10],
    [1024, 0, 50],
    [512, 0, 50],
    [64, 0, 10],
  ])('matches an independent computation of the reference split for K = %i, S = %i, C = %i', (K, S, C) => {
    const l = new CodebookLayout({ numClasses: C, codebookSize: K, sharedCodes: S });
    const owners = referenceOwners(K, S, C);
    for (let k = 0; k < K; k++) expect(l.classOfRow(k)).toBe(k < K - S ? owners[k] : -1);
  });

  it('builds a search table padded with each class own first row', () => {
    const l = new CodebookLayout({ numClasses: 3, codebookSize: 8, sharedCodes: 1 });
    // 7 class rows → 3, 2, 2; shared row 7
    const t = l.searchTable();
    expect(t.width).toBe(4);
    expect(Array.from(t.rows)).toEqual([0, 1, 2, 7, 3, 4, 7, 3, 5, 6, 7, 5]);
    const noShared = l.searchTable({ includeShared: false });
    expect(noShared.width).toBe(3);
    expect(Array.from(noShared.rows)).toEqual([0, 1, 2, 3, 4, 3, 5, 6, 5]);
  });

  it('round-trips through getConfig and fromConfig, including through JSON', () => {
    for (const opts of [
      { numClasses: 3, codesPerClass: 4, sharedCodes: 2, sharedPlacement: 'first' as const },
      { numClasses: 10, codebookSize: 128, sharedCodes: 5 },
    ]) {
      const a = new CodebookLayout(opts);
      const b = CodebookLayout.fromConfig(JSON.parse(JSON.stringify(a.getConfig())));
      expect(b.getConfig()).toEqual(a.getConfig());
      for (let c = 0; c < a.numClasses; c++) expect(b.blockOf(c)).toEqual(a.blockOf(c));
    }
  });

  it('accepts codesPerClass and codebookSize together when they agree', () => {
    const l = new CodebookLayout({ numClasses: 2, codesPerClass: 3, codebookSize: 7, sharedCodes: 1 });
    expect(l.blockOf(1)).toEqual({ start: 3, size: 3 });
  });

  it.each([
    [{ numClasses: 0, codesPerClass: 2 }, 'numClasses'],
    [{ numClasses: 2.5, codesPerClass: 2 }, 'numClasses'],
    [{ numClasses: 2, codesPerClass: 1.5 }, 'codesPerClass'],
    [{ numClasses: 2, codesPerClass: 0 }, 'codesPerClass'],
    [{ numClasses: 2 }, 'codesPerClass'],
    [{ numClasses: 2, codebookSize: -3 }, 'codebookSize'],
    [{ numClasses: 4, codebookSize: 5, sharedCodes: 2 }, 'codebookSize'],
    [{ numClasses: 2, codesPerClass: 2, codebookSize: 5 }, 'codebookSize'],
    [{ numClasses: 2, codesPerClass: 2, sharedCodes: -1 }, 'sharedCodes'],
    [{ numClasses: 2, codesPerClass: 2, sharedPlacement: 'middle' }, 'sharedPlacement'],
  ])('rejects invalid options %j with a PiqConfigError naming %s', (opts, name) => {
    const err = (() => {
      try {
        new CodebookLayout(opts as never);
      } catch (e) {
        return e as Error;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(PiqConfigError);
    expect(err?.message).toContain(`'${name}'`);
  });

  it('rejects out-of-range classes and rows with a PiqInputError naming the argument', () => {
    const l = new CodebookLayout({ numClasses: 2, codesPerClass: 2 });
    expect(() => l.blockOf(2)).toThrow(PiqInputError);
    expect(() => l.allowedRows(-1)).toThrow(/'classIndex'/);
    expect(() => l.classOfRow(4)).toThrow(PiqInputError);
    expect(() => l.classOfRow(0.5)).toThrow(/'row'/);
    expect(() => l.allowedRows(0, { includeShared: 'yes' as never })).toThrow(PiqConfigError);
  });
});
