// The two fast paths inside the wasm kernels (src/backends/wasm-fast-paths.ts): the phase
// sub-filters of the fast conv-transpose kernel built by a plain loop, and the filter gradient of
// stride-1 convs with few output channels as a conv over the input channels. Each is compared
// with the cpu backend's kernel, with an independent formulation, and with hand values.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { enableWasmTraining } from '../../src/backends/wasm-training';
import { filterGradientNarrow, phaseSubFilter, phaseSubFilterOps, preferNarrowFilterGradient } from '../../src/backends/wasm-fast-paths';
import { expectNoTensorLeak, loadWasm, withBackend } from '../helpers';
import { expectWasmMatchesCpu, runOn, sizeOf, values, type Pad, type Shape4 } from './compare';

const filterGrad = (x: Shape4, dy: Shape4, f: Shape4, pad: Pad, dataFormat: 'NHWC' | 'NCHW' = 'NHWC') =>
  tf.engine().runKernel(
    'Conv2DBackpropFilter',
    { x: tf.tensor4d(values(sizeOf(x), 11), x), dy: tf.tensor4d(values(sizeOf(dy), 12), dy) },
    { strides: 1, pad, dataFormat, filterShape: f },
  ) as tf.Tensor;

describe('Conv2DBackpropFilter with 1 to 3 output channels (stride 1): the narrow formulation', () => {
  it('is chosen for 1 to 3 output channels and at least 8 input channels only', () => {
    expect(preferNarrowFilterGradient(16, 1)).toBe(true);
    expect(preferNarrowFilterGradient(8, 3)).toBe(true);
    expect(preferNarrowFilterGradient(16, 4)).toBe(false);
    expect(preferNarrowFilterGradient(7, 1)).toBe(false);
    expect(preferNarrowFilterGradient(3, 16)).toBe(false);
  });

  const cases: Array<{ x: Shape4; f: Shape4; pad: Pad }> = [
    { x: [2, 7, 6, 16], f: [3, 3, 16, 1], pad: 'same' }, // a decoder's output conv
    { x: [3, 9, 8, 8], f: [3, 2, 8, 3], pad: 'valid' },
    { x: [2, 6, 7, 12], f: [2, 3, 12, 2], pad: [[0, 0], [1, 2], [0, 1], [0, 0]] },
    { x: [1, 5, 5, 9], f: [5, 5, 9, 3], pad: 'same' },
    { x: [4, 28, 28, 16], f: [3, 3, 16, 1], pad: 'same' }, // the MNIST decoder's shape, batch 4
  ];
  it.each(cases)('matches the cpu kernel for x $x, filter $f, pad $pad', async ({ x, f, pad }) => {
    await loadWasm();
    enableWasmTraining();
    const dy = tf.backend_util.computeConv2DInfo(x, f, 1, 1, pad).outShape;
    await expectWasmMatchesCpu(() => filterGrad(x, dy, f, pad));
  });

  it('handles NCHW like the cpu kernel', async () => {
    await loadWasm();
    enableWasmTraining();
    await expectWasmMatchesCpu(() => filterGrad([2, 10, 6, 5], [2, 1, 6, 5], [3, 3, 10, 1], 'same', 'NCHW'));
  });

  it('equals hand-computed values: all-ones 3x3 input and output gradient, 3x3 same conv', async () => {
    // dW[a, b, ci] counts the output positions whose tap (a, b) lands inside the input: 2, 3, 2 per axis.
    await loadWasm();
    enableWasmTraining();
    const got = await runOn('wasm', () =>
      tf.engine().runKernel(
        'Conv2DBackpropFilter',
        { x: tf.ones([1, 3, 3, 8]), dy: tf.ones([1, 3, 3, 1]) },
        { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 8, 1] },
      ) as tf.Tensor,
    );
    const counts = [2, 3, 2];
    const expected = counts.flatMap((a) => counts.flatMap((b) => Array.from({ length: 8 }, () => a * b)));
    expect(Array.from(got.data)).toEqual(expected);
  });

  it('equals the direct sum on the cpu backend (filterGradientNarrow alone) and leaks nothing', async () => {
    const [n, ho, wo, ci, co, fh, fw] = [2, 4, 5, 8, 2, 2, 3];
    const xp = values(n * (ho + fh - 1) * (wo + fw - 1) * ci, 21);
    const dy = values(n * ho * wo * co, 22);
    const expected: number[] = [];
    for (let a = 0; a < fh; a++)
      for (let b = 0; b < fw; b++)
        for (let c = 0; c < ci; c++)
          for (let o = 0; o < co; o++) {
            let s = 0;
            for (let m = 0; m < n; m++)
              for (let i = 0; i < ho; i++)
                for (let j = 0; j < wo; j++) s += (xp[((m * (ho + fh - 1) + a + i) * (wo + fw - 1) + b + j) * ci + c] as number) * (dy[((m * ho + i) * wo + j) * co + o] as number);
            expected.push(s);
          }
    const got = await withBackend('cpu', () =>
      expectNoTensorLeak(() =>
        tf.tidy(() => Array.from(filterGradientNarrow(tf.tensor4d(xp, [n, ho + fh - 1, wo + fw - 1, ci]), tf.tensor4d(dy, [n, ho, wo, co]), fh, fw).dataSync())),
      ),
    );
    expect(got).toHaveLength(expected.length);
    got.forEach((v, i) => expect(v).toBeCloseTo(expected[i] as number, 5));
  });
});

describe('phaseSubFilter: the sub-filters of the fast conv-transpose kernel', () => {
  it.each([
    { f: [4, 4, 3, 5] as Shape4, s: [2, 2] },
    { f: [3, 3, 2, 4] as Shape4, s: [2, 2] }, // taps 2: the filter is padded by one row and column
    { f: [5, 3, 4, 2] as Shape4, s: [3, 1] },
    { f: [3, 3, 6, 2] as Shape4, s: [1, 1] },
  ])('equals the former pad/reshape/reverse/transpose formulation exactly for filter $f, strides $s', async ({ f, s }) => {
    const [sh, sw] = s as [number, number];
    const tH = Math.ceil(f[0] / sh);
    const tW = Math.ceil(f[1] / sw);
    await withBackend('cpu', () =>
      expectNoTensorLeak(() =>
        tf.tidy(() => {
          const w = tf.tensor4d(values(sizeOf(f), 31), f);
          const got = phaseSubFilter(w, tH, tW, sh, sw);
          expect(got.shape).toEqual([tH, tW, f[3], sh * sw * f[2]]);
          expect(Array.from(got.dataSync())).toEqual(Array.from(phaseSubFilterOps(w, tH, tW, sh, sw).dataSync()));
        }),
      ),
    );
  });

  it('picks the hand-derived taps for a 2x2 stride-2 filter (one tap per phase)', async () => {
    // F[0, 0, 0, (py, px, 0)] = W[py, px, 0, 0]
    const got = await runOn('cpu', () => phaseSubFilter(tf.tensor4d([1, 2, 3, 4], [2, 2, 1, 1]), 1, 1, 2, 2));
    expect(Array.from(got.data)).toEqual([1, 2, 3, 4]);
  });
});
