// The explicit opt-ins of enableWasmTraining that REPLACE two kernels wasm ships:
// fastConvTranspose (Conv2DBackpropInput) and fastTile (Tile).
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { disableWasmTraining, enableWasmTraining, DEFAULT_ENABLE_WASM_TRAINING } from '../../src/backends/wasm-training';
import { PiqConfigError } from '../../src/errors';
import { expectNoTensorLeak, expectThrowsWithoutLeak, loadWasm, withBackend } from '../helpers';
import { REL_TOL, relErrorVsCpu, runOn, sizeOf, values, type Pad, type Shape4 } from './compare';

beforeAll(async () => {
  await loadWasm();
});

afterEach(() => {
  disableWasmTraining();
});

describe('enableWasmTraining options', () => {
  it('replaces nothing by default', () => {
    const own = tf.getKernel('Conv2DBackpropInput', 'wasm');
    const result = enableWasmTraining();
    expect(result.replaced).toEqual([]);
    expect(tf.getKernel('Conv2DBackpropInput', 'wasm')).toBe(own);
    expect(DEFAULT_ENABLE_WASM_TRAINING).toEqual({ fastConvTranspose: false, fastTile: false });
    expect(Object.isFrozen(DEFAULT_ENABLE_WASM_TRAINING)).toBe(true);
  });

  it('replaces the asked kernels once, and disableWasmTraining puts wasm’s own back', () => {
    const ownConv = tf.getKernel('Conv2DBackpropInput', 'wasm');
    const ownTile = tf.getKernel('Tile', 'wasm');
    expect(enableWasmTraining({ fastConvTranspose: true }).replaced).toEqual(['Conv2DBackpropInput']);
    expect(tf.getKernel('Conv2DBackpropInput', 'wasm')?.kernelFunc).not.toBe(ownConv?.kernelFunc);
    expect(tf.getKernel('Tile', 'wasm')).toBe(ownTile);
    // wasm's own setup (which binds its wasm function) stays attached: the Tile fallback needs it.
    expect(tf.getKernel('Conv2DBackpropInput', 'wasm')?.setupFunc).toBe(ownConv?.setupFunc);
    const again = enableWasmTraining({ fastConvTranspose: true, fastTile: true });
    expect(tf.getKernel('Tile', 'wasm')?.setupFunc).toBe(ownTile?.setupFunc);
    expect(again.replaced).toEqual(['Tile']);
    expect(enableWasmTraining({ fastConvTranspose: true, fastTile: true }).replaced).toEqual([]);
    const off = disableWasmTraining();
    expect(off.restored).toEqual(['Conv2DBackpropInput', 'Tile']);
    expect(tf.getKernel('Conv2DBackpropInput', 'wasm')?.kernelFunc).toBe(ownConv?.kernelFunc);
    expect(tf.getKernel('Tile', 'wasm')?.kernelFunc).toBe(ownTile?.kernelFunc);
    expect(disableWasmTraining().restored).toEqual([]);
  });

  it('rejects options that are not an object or flags that are not booleans, naming the argument', async () => {
    const e1 = await expectThrowsWithoutLeak(() => enableWasmTraining(3 as never));
    expect(e1).toBeInstanceOf(PiqConfigError);
    expect(e1.message).toContain("'options'");
    const e2 = await expectThrowsWithoutLeak(() => enableWasmTraining({ fastTile: 'yes' as never }));
    expect(e2).toBeInstanceOf(PiqConfigError);
    expect(e2.message).toContain("'fastTile'");
    const e3 = await expectThrowsWithoutLeak(() => enableWasmTraining({ fastConvTranspose: 1 as never }));
    expect(e3).toBeInstanceOf(PiqConfigError);
    expect(e3.message).toContain("'fastConvTranspose'");
  });
});

describe('fastConvTranspose: Conv2DBackpropInput as one Conv2D over the stride phases', () => {
  it('equals a hand-computed transposed convolution', async () => {
    enableWasmTraining({ fastConvTranspose: true });
    // One input pixel of value 2 spreads the 2x2 filter (stride 2, valid): x = 2·W.
    const got = await runOn('wasm', () =>
      tf.conv2dTranspose(tf.tensor4d([2], [1, 1, 1, 1]), tf.tensor4d([1, 2, 3, 4], [2, 2, 1, 1]), [1, 2, 2, 1], 2, 'valid'),
    );
    expect(Array.from(got.data)).toEqual([2, 4, 6, 8]);
    // Two pixels, stride 1, 'valid': overlapping contributions add up.
    const two = await runOn('wasm', () =>
      tf.conv2dTranspose(tf.tensor4d([1, 10], [1, 1, 2, 1]), tf.tensor4d([1, 2], [1, 2, 1, 1]), [1, 1, 3, 1], 1, 'valid'),
    );
    expect(Array.from(two.data)).toEqual([1, 12, 20]);
  });

  const cases: Array<{ x: Shape4; f: Shape4; s: number | [number, number]; pad: Pad }> = [
    { x: [2, 14, 14, 5], f: [4, 4, 5, 6], s: 2, pad: 'same' }, // the decoder's conv2dTranspose
    { x: [2, 7, 5, 4], f: [3, 3, 4, 3], s: 1, pad: 'same' }, // a conv2d input gradient
    { x: [3, 13, 13, 2], f: [3, 3, 2, 4], s: 2, pad: 'valid' },
    { x: [1, 15, 12, 2], f: [5, 5, 2, 3], s: 3, pad: 'same' },
    { x: [2, 8, 6, 3], f: [3, 2, 3, 2], s: [2, 1], pad: 'same' },
    { x: [2, 8, 10, 3], f: [2, 3, 3, 2], s: 2, pad: [[0, 0], [1, 2], [0, 1], [0, 0]] },
    { x: [1, 6, 6, 3], f: [1, 1, 3, 2], s: 2, pad: 'same' },
    { x: [2, 9, 9, 3], f: [4, 4, 3, 2], s: 2, pad: 'valid' },
  ];
  it.each(cases)('matches the cpu kernel for x $x, filter $f, strides $s, pad $pad', async ({ x, f, s, pad }) => {
    enableWasmTraining({ fastConvTranspose: true });
    const dyShape = tf.backend_util.computeConv2DInfo(x, f, s, 1, pad).outShape;
    const err = await relErrorVsCpu(
      () =>
        tf.engine().runKernel(
          'Conv2DBackpropInput',
          { dy: tf.tensor4d(values(sizeOf(dyShape), 1), dyShape), filter: tf.tensor4d(values(sizeOf(f), 2), f) },
          { strides: s, pad, dataFormat: 'NHWC', inputShape: x },
        ) as tf.Tensor,
    );
    expect(err).toBeLessThan(REL_TOL);
  });

  it('handles NCHW data (input shape and dy given channels-first)', async () => {
    enableWasmTraining({ fastConvTranspose: true });
    const xNhwc: Shape4 = [2, 8, 6, 3];
    const f: Shape4 = [3, 3, 3, 4];
    const dyNhwc = tf.backend_util.computeConv2DInfo(xNhwc, f, 2, 1, 'same').outShape;
    // Reference: the NHWC result on cpu, transposed to NCHW.
    const ref = await runOn('cpu', () =>
      tf.transpose(
        tf.engine().runKernel(
          'Conv2DBackpropInput',
          { dy: tf.tensor4d(values(sizeOf(dyNhwc), 3), dyNhwc), filter: tf.tensor4d(values(sizeOf(f), 4), f) },
          { strides: 2, pad: 'same', dataFormat: 'NHWC', inputShape: xNhwc },
        ) as tf.Tensor,
        [0, 3, 1, 2],
      ),
    );
    const got = await runOn('wasm', () =>
      tf.engine().runKernel(
        'Conv2DBackpropInput',
        { dy: tf.transpose(tf.tensor4d(values(sizeOf(dyNhwc), 3), dyNhwc), [0, 3, 1, 2]), filter: tf.tensor4d(values(sizeOf(f), 4), f) },
        { strides: 2, pad: 'same', dataFormat: 'NCHW', inputShape: [2, 3, 8, 6] },
      ) as tf.Tensor,
    );
    expect(got.shape).toEqual([2, 3, 8, 6]);
    let num = 0;
    let den = 0;
    ref.data.forEach((v, i) => {
      num = Math.max(num, Math.abs((got.data[i] as number) - v));
      den = Math.max(den, Math.abs(v));
    });
    expect(num / den).toBeLessThan(REL_TOL);
  });

  it('gives conv2dTranspose and the conv2d input gradient the cpu backend’s values end to end', async () => {
    enableWasmTraining({ fastConvTranspose: true });
    const x: Shape4 = [2, 7, 7, 6];
    const w: Shape4 = [4, 4, 5, 6];
    const err1 = await relErrorVsCpu(() => {
      const xs = tf.tensor4d(values(sizeOf(x), 5), x);
      const filter = tf.tensor4d(values(sizeOf(w), 6), w);
      // d/dfilter and d/dx of sum(conv2dTranspose(x)²): exercises the forward kernel and both gradients.
      const [gx, gw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.conv2dTranspose(a as tf.Tensor4D, b as tf.Tensor4D, [2, 14, 14, 5], 2, 'same'))))([xs, filter]);
      return tf.concat([tf.reshape(gx as tf.Tensor, [-1]), tf.reshape(gw as tf.Tensor, [-1])]);
    });
    expect(err1).toBeLessThan(REL_TOL);
    const err2 = await relErrorVsCpu(() =>
      tf.grad((a: tf.Tensor) => tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, tf.tensor4d(values(27 * 4, 8), [3, 3, 3, 4]), 1, 'same'))))(
        tf.tensor4d(values(2 * 9 * 9 * 3, 7), [2, 9, 9, 3]),
      ),
    );
    expect(err2).toBeLessThan(REL_TOL);
  });

  it('leaves no tensors or bytes behind across repeated calls', async () => {
    enableWasmTraining({ fastConvTranspose: true });
    await withBackend('wasm', async () => {
      const dy = tf.tensor4d(values(2 * 7 * 7 * 6, 9), [2, 7, 7, 6]);
      const f = tf.tensor4d(values(4 * 4 * 5 * 6, 10), [4, 4, 5, 6]);
      tf.conv2dTranspose(dy, f, [2, 14, 14, 5], 2, 'same').dispose(); // warm-up
      const bytes = tf.memory().numBytes;
      await expectNoTensorLeak(() => {
        for (let i = 0; i < 3; i++) tf.conv2dTranspose(dy, f, [2, 14, 14, 5], 2, 'same').dispose();
      });
      expect(tf.memory().numBytes).toBe(bytes);
      tf.dispose([dy, f]);
    });
  });
});

describe('fastTile: Tile as one broadcasting Add', () => {
  const cases: Array<{ shape: number[]; reps: number[] }> = [
    { shape: [1, 1, 1, 5], reps: [2, 3, 4, 1] }, // batch-norm gradient's broadcast
    { shape: [2, 3], reps: [3, 2] },
    { shape: [3], reps: [4] },
    { shape: [2, 1, 3], reps: [1, 5, 2] },
    { shape: [2, 2, 2, 2, 2], reps: [2, 2, 2, 2, 2] }, // needs > 6 dims: wasm's own kernel
    { shape: [2, 3], reps: [1, 1] },
  ];
  it.each(cases)('gives exactly the cpu result for shape $shape, reps $reps', async ({ shape, reps }) => {
    enableWasmTraining({ fastTile: true });
    const make = () => tf.tile(tf.tensor(values(sizeOf(shape), 11), shape), reps);
    const ref = await runOn('cpu', make);
    const got = await runOn('wasm', make);
    expect(got.shape).toEqual(ref.shape);
    expect(Array.from(got.data)).toEqual(Array.from(ref.data));
  });

  it('tiles int32 and (through wasm’s own kernel) bool tensors', async () => {
    enableWasmTraining({ fastTile: true });
    const ints = await runOn('wasm', () => tf.tile(tf.tensor2d([1, 2], [1, 2], 'int32'), [2, 2]));
    expect(Array.from(ints.data)).toEqual([1, 2, 1, 2, 1, 2, 1, 2]);
    const bools = await runOn('wasm', () => tf.tile(tf.tensor1d([true, false], 'bool'), [2]));
    expect(Array.from(bools.data)).toEqual([1, 0, 1, 0]);
  });

  it('leaves no tensors behind', async () => {
    enableWasmTraining({ fastTile: true });
    await withBackend('wasm', async () => {
      const x = tf.tensor4d([1, 2, 3], [1, 1, 1, 3]);
      await expectNoTensorLeak(() => {
        for (let i = 0; i < 3; i++) tf.tile(x, [2, 4, 4, 1]).dispose();
      });
      x.dispose();
    });
  });
});
