import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { PiqInputError } from '../../src/errors';
import { selectRows, sumRowsByIndex } from '../../src/ops/select-rows';
import { expectClose, expectNoTensorLeak, expectThrowsWithoutLeak, withBackend } from '../helpers';

describe('selectRows', () => {
  it('picks the indexed rows', () => {
    tf.tidy(() => {
      const out = selectRows(tf.tensor2d([[1, 2], [3, 4], [5, 6]]), tf.tensor1d([2, 0, 2], 'int32'));
      expect(out.shape).toEqual([3, 2]);
      expectClose(out, [5, 6, 1, 2, 5, 6]);
    });
  });

  it('sums the upstream gradient into the picked rows only, on cpu and on wasm', async () => {
    for (const backend of ['cpu', 'wasm'] as const) {
      const g = await withBackend(backend, () =>
        expectNoTensorLeak(() =>
          tf.tidy(() => {
            const idx = tf.tensor1d([2, 0, 2], 'int32');
            const w = tf.tensor2d([[1, 2], [3, 4], [5, 6]]);
            const grad = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(selectRows(t, idx), w)))(tf.zeros([4, 2]));
            return Array.from(grad.dataSync());
          }),
        ),
      );
      // row 0 ← w[1]; row 2 ← w[0] + w[2]; rows 1 and 3 untouched
      expectClose(g, [3, 4, 0, 0, 6, 8, 0, 0]);
    }
  });

  it('trains a variable table under tf.variableGrads without leaking', async () => {
    const table = tf.variable(tf.zeros([3, 1]));
    await expectNoTensorLeak(() => {
      const idx = tf.tensor1d([1], 'int32');
      const { value, grads } = tf.variableGrads(() => tf.sum(selectRows(table, idx)) as tf.Scalar, [table]);
      expectClose(grads[table.name] as tf.Tensor, [0, 1, 0]);
      tf.dispose([value, idx, ...Object.values(grads)]);
    });
    table.dispose();
  });

  it('rejects bad tables and indices, naming the argument', async () => {
    const cases: Array<[() => unknown, string]> = [
      [() => selectRows(tf.zeros([3]), tf.tensor1d([0], 'int32')), "'table'"],
      [() => selectRows(tf.zeros([3, 2]), tf.tensor1d([0])), "'indices'"],
      [() => selectRows(tf.zeros([3, 2]), tf.tensor2d([[0]], [1, 1], 'int32')), "'indices'"],
    ];
    for (const [fn, name] of cases) {
      const err = await expectThrowsWithoutLeak(() => tf.tidy(() => fn() as tf.Tensor));
      expect(err).toBeInstanceOf(PiqInputError);
      expect(err.message).toContain(name);
    }
  });
});

describe('sumRowsByIndex', () => {
  it('sums rows into their buckets, identically on cpu and wasm', async () => {
    for (const backend of ['cpu', 'wasm'] as const) {
      const out = await withBackend(backend, () =>
        expectNoTensorLeak(() =>
          tf.tidy(() =>
            Array.from(sumRowsByIndex(tf.tensor2d([[1, 1], [2, 2], [3, 3]]), tf.tensor1d([2, 0, 2], 'int32'), 4).dataSync()),
          ),
        ),
      );
      expectClose(out, [2, 2, 0, 0, 4, 4, 0, 0]);
    }
  });

  it('rejects mismatched indices and a bad row count naming the argument', async () => {
    let err = await expectThrowsWithoutLeak(() => tf.tidy(() => sumRowsByIndex(tf.zeros([3, 2]), tf.tensor1d([0], 'int32'), 2)));
    expect(err).toBeInstanceOf(PiqInputError);
    expect(err.message).toContain("'indices'");
    err = await expectThrowsWithoutLeak(() => tf.tidy(() => sumRowsByIndex(tf.zeros([1, 2]), tf.tensor1d([0], 'int32'), 0)));
    expect(err.message).toContain("'numRows'");
  });
});
