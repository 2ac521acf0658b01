import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PiqInputError } from '../../src/errors';
import { classRestrictedNearest, classRestrictedQuantize } from '../../src/ops/class-restricted-nearest';
import { expectClose, expectNoTensorLeak, expectThrowsWithoutLeak, withBackend } from '../helpers';

/** Plain-JS reference: nearest allowed row by brute force, first on ties. */
function bruteForce(u: number[][][], codebook: number[][], allowed: number[][], cls: number[]): number[][] {
  return u.map((rows, b) =>
    rows.map((x) => {
      let best = -1;
      let bestD = Infinity;
      for (const k of allowed[cls[b] as number] as number[]) {
        const d = (codebook[k] as number[]).reduce((s, e, i) => s + (e - (x[i] as number)) ** 2, 0);
        if (d < bestD) {
          bestD = d;
          best = k;
        }
      }
      return best;
    }),
  );
}

describe('classRestrictedNearest', () => {
  it('picks the hand-computed nearest code among the rows of the example class', async () => {
    const out = await expectNoTensorLeak(() =>
      tf.tidy(() => {
        const codebook = tf.tensor2d([[0], [1], [10], [11]]);
        const table = tf.tensor2d([[0, 1], [2, 3]], [2, 2], 'int32');
        const u = tf.tensor3d([[[0.9], [10.6]], [[0.9], [10.6]]]);
        return classRestrictedNearest(u, codebook, table, tf.tensor1d([0, 1], 'int32')).arraySync();
      }),
    );
    // class 0 may only use rows 0-1 (10.6 → row 1); class 1 only rows 2-3 (0.9 → row 2)
    expect(out).toEqual([[1, 1], [2, 3]]);
  });

  it('never picks a padded duplicate outside the class when lines have unequal lengths', () => {
    tf.tidy(() => {
      const codebook = tf.tensor2d([[0], [5], [1], [9]]);
      // class 0: rows 0, 1, 3; class 1: row 2 only, padded with itself
      const table = tf.tensor2d([[0, 1, 3], [2, 2, 2]], [2, 3], 'int32');
      const idx = classRestrictedNearest(tf.tensor3d([[[8.8], [4]], [[8.8], [4]]]), codebook, table, tf.tensor1d([0, 1], 'int32'));
      expect(idx.arraySync()).toEqual([[3, 1], [2, 2]]);
    });
  });

  it('agrees with a brute-force search on random inputs with unequal blocks', () => {
    const allowed = [[0, 1, 2, 7, 8], [3, 4, 7, 8], [5, 6, 7, 8]];
    const width = 5;
    const rows = allowed.flatMap((l) => Array.from({ length: width }, (_, j) => l[j] ?? (l[0] as number)));
    const vec = fc.array(fc.float({ min: -5, max: 5, noNaN: true, noDefaultInfinity: true }), { minLength: 2, maxLength: 2 });
    fc.assert(
      fc.property(
        fc.array(vec, { minLength: 9, maxLength: 9 }),
        fc.array(fc.array(vec, { minLength: 3, maxLength: 3 }), { minLength: 1, maxLength: 4 }),
        fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 4, maxLength: 4 }),
        (codebook, u, clsAll) => {
          const cls = clsAll.slice(0, u.length);
          const got = tf.tidy(() =>
            classRestrictedNearest(
              tf.tensor3d(u),
              tf.tensor2d(codebook),
              tf.tensor2d(rows, [3, width], 'int32'),
              tf.tensor1d(cls, 'int32'),
            ).arraySync(),
          ) as number[][];
          const want = bruteForce(u, codebook, allowed, cls);
          got.forEach((line, b) =>
            line.forEach((k, j) => {
              expect(allowed[cls[b] as number]).toContain(k);
              // equal distance is fine (ties may resolve differently after float rounding)
              const dist = (r: number) => (codebook[r] as number[]).reduce((s, e, i) => s + (e - (u[b]![j]![i] as number)) ** 2, 0);
              expect(dist(k)).toBeLessThanOrEqual(dist(want[b]![j] as number) + 1e-4);
            }),
          );
        },
      ),
      { numRuns: 40, seed: 7 },
    );
  });

  it('contributes a zero gradient and runs under tf.grad on the wasm backend', async () => {
    for (const backend of ['cpu', 'wasm'] as const) {
      await withBackend(backend, () =>
        expectNoTensorLeak(() =>
          tf.tidy(() => {
            const table = tf.tensor2d([[0, 1]], [1, 2], 'int32');
            const cls = tf.tensor1d([0], 'int32');
            const [gu, ge] = tf.grads((u: tf.Tensor, e: tf.Tensor) =>
              tf.sum(tf.cast(classRestrictedNearest(u, e, table, cls), 'float32')),
            )([tf.tensor3d([[[0.2]]]), tf.tensor2d([[0], [1]])]);
            expect(Array.from((gu as tf.Tensor).dataSync())).toEqual([0]);
            expect(Array.from((ge as tf.Tensor).dataSync())).toEqual([0, 0]);
          }),
        ),
      );
    }
  });

  it('rejects bad shapes and dtypes naming the argument', async () => {
    const t = () => tf.tensor2d([[0, 1]], [1, 2], 'int32');
    const c = () => tf.tensor1d([0], 'int32');
    const cases: Array<[() => unknown, string]> = [
      [() => classRestrictedNearest(tf.zeros([1, 2]), tf.zeros([2, 2]), t(), c()), "'features'"],
      [() => classRestrictedNearest(tf.zeros([1, 1, 2]), tf.zeros([2, 3]), t(), c()), "'codebook'"],
      [() => classRestrictedNearest(tf.zeros([1, 1, 2]), tf.zeros([2, 2]), tf.zeros([1, 2]), c()), "'rowTable'"],
      [() => classRestrictedNearest(tf.zeros([1, 1, 2]), tf.zeros([2, 2]), t(), tf.tensor1d([0])), "'predictedClass'"],
      [() => classRestrictedNearest(tf.zeros([1, 1, 2]), tf.zeros([2, 2]), t(), tf.tensor1d([0, 0], 'int32')), "'predictedClass'"],
    ];
    for (const [fn, name] of cases) {
      const err = await expectThrowsWithoutLeak(() => tf.tidy(() => fn() as tf.Tensor));
      expect(err).toBeInstanceOf(PiqInputError);
      expect(err.message).toContain(name);
    }
  });
});

describe('classRestrictedQuantize', () => {
  it('returns the nearest allowed codes and their global indices', async () => {
    const out = await expectNoTensorLeak(() =>
      tf.tidy(() => {
        const r = classRestrictedQuantize(
          tf.tensor3d([[[0.9], [10.6]], [[0.9], [10.6]]]),
          tf.tensor2d([[0], [1], [10], [11]]),
          tf.tensor2d([[0, 1], [2, 3]], [2, 2], 'int32'),
          tf.tensor1d([0, 1], 'int32'),
        );
        return { idx: r.codeIndices.arraySync(), codes: Array.from(r.codes.dataSync()), shape: r.codes.shape };
      }),
    );
    expect(out.idx).toEqual([[1, 1], [2, 3]]);
    expect(out.shape).toEqual([2, 2, 1]);
    expect(out.codes).toEqual([1, 1, 10, 11]);
  });

  it('sends the gradient of the codes to exactly the chosen rows, summed, on cpu and wasm', async () => {
    for (const backend of ['cpu', 'wasm'] as const) {
      const g = await withBackend(backend, () =>
        expectNoTensorLeak(() =>
          tf.tidy(() => {
            const u = tf.tensor3d([[[0.9], [0.8]], [[0.9], [10.6]]]);
            const table = tf.tensor2d([[0, 1], [2, 3]], [2, 2], 'int32');
            const cls = tf.tensor1d([0, 1], 'int32');
            const w = tf.tensor3d([[[1], [2]], [[3], [4]]]);
            const grad = tf.grad((e: tf.Tensor) => tf.sum(tf.mul(classRestrictedQuantize(u, e, table, cls).codes, w)))(
              tf.tensor2d([[0], [1], [10], [11]]),
            );
            return Array.from(grad.dataSync());
          }),
        ),
      );
      // row 1 chosen twice (weights 1 + 2), row 2 once (3), row 3 once (4), row 0 never
      expectClose(g, [0, 3, 3, 4]);
    }
  });

  it('rejects bad arguments naming them, without leaking', async () => {
    const err = await expectThrowsWithoutLeak(() =>
      tf.tidy(() => classRestrictedQuantize(tf.zeros([1, 1, 2]), tf.zeros([2, 2]), tf.zeros([1, 2]), tf.tensor1d([0], 'int32')).codes),
    );
    expect(err).toBeInstanceOf(PiqInputError);
    expect(err.message).toContain("'rowTable'");
  });
});
