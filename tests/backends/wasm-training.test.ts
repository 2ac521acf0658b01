import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { KernelFunc } from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import {
  WASM_TRAINING_KERNELS,
  disableWasmTraining,
  enableWasmTraining,
} from '../../src/backends/wasm-training';
import { expectNoTensorLeak, loadWasm, withBackend } from '../helpers';
import { REL_TOL, expectWasmMatchesCpu, relError, runOn, sizeOf, values, type Pad, type Shape4 } from './compare';


function convOutShape(x: Shape4, f: Shape4, strides: number | [number, number], pad: Pad, dilations = 1): Shape4 {
  return tf.backend_util.computeConv2DInfo(x, f, strides, dilations, pad).outShape;
}

describe('enableWasmTraining before the wasm backend is loaded', () => {
  it('registers all kernels by backend name, and they work once the backend initialises', async () => {
    // In this test file nothing has imported @tensorflow/tfjs-backend-wasm yet (vitest isolates files).
    expect(tf.getKernel('Conv2D', 'wasm')).toBeUndefined();
    const result = enableWasmTraining();
    expect(result).toEqual({ backendName: 'wasm', registered: [...WASM_TRAINING_KERNELS], alreadyRegistered: [], replaced: [] });
    expect(await loadWasm()).toBe(true);
    const g = await withBackend('wasm', () =>
      tf.tidy(() => {
        const x = tf.tensor4d(values(2 * 5 * 5 * 2, 1), [2, 5, 5, 2]);
        const f = tf.tensor4d(values(3 * 3 * 2 * 3, 2), [3, 3, 2, 3]);
        return Array.from(tf.grad((w: tf.Tensor) => tf.sum(tf.conv2d(x, w as tf.Tensor4D, 1, 'same')))(f).dataSync());
      }),
    );
    expect(g).toHaveLength(54);
    expect(g.every(Number.isFinite)).toBe(true);
  });
});

describe('enableWasmTraining', () => {
  it('lists exactly the kernels that wasm 4.22 lacks for training', async () => {
    await loadWasm();
    expect([...WASM_TRAINING_KERNELS]).toEqual([
      'Conv2DBackpropFilter',
      'UnsortedSegmentSum',
      'DepthwiseConv2dNativeBackpropInput',
      'DepthwiseConv2dNativeBackpropFilter',
    ]);
    expect(Object.isFrozen(WASM_TRAINING_KERNELS)).toBe(true);
    // The other kernels a conv / conv-transpose training step needs are the backend's own.
    for (const name of ['Conv2D', 'Conv2DBackpropInput', 'MaxPoolGrad', 'AvgPoolGrad', 'FusedBatchNorm', 'ScatterNd']) {
      expect(tf.getKernel(name, 'wasm'), name).toBeDefined();
    }
  });

  it('is idempotent: a second call registers nothing and reports every kernel as present', async () => {
    await loadWasm();
    enableWasmTraining();
    const before = WASM_TRAINING_KERNELS.map((k) => tf.getKernel(k, 'wasm'));
    const again = enableWasmTraining();
    expect(again).toEqual({ backendName: 'wasm', registered: [], alreadyRegistered: [...WASM_TRAINING_KERNELS], replaced: [] });
    expect(WASM_TRAINING_KERNELS.map((k) => tf.getKernel(k, 'wasm'))).toEqual(before);
  });

  it('works when called after the wasm backend is initialised', async () => {
    await loadWasm();
    await withBackend('wasm', () => undefined); // wasm initialised
    expect(disableWasmTraining().unregistered).toEqual([...WASM_TRAINING_KERNELS]);
    expect(tf.getKernel('UnsortedSegmentSum', 'wasm')).toBeUndefined();
    expect(enableWasmTraining().registered).toEqual([...WASM_TRAINING_KERNELS]);
    const got = await runOn('wasm', () =>
      tf.unsortedSegmentSum(tf.tensor1d([1, 2, 3, 4]), tf.tensor1d([1, 0, 1, 1], 'int32'), 2),
    );
    expect(Array.from(got.data)).toEqual([2, 8]);
  });

  it('never replaces a kernel someone else registered, and disableWasmTraining leaves it alone', async () => {
    await loadWasm();
    enableWasmTraining();
    disableWasmTraining();
    const sentinel: KernelFunc = ({ inputs }) => inputs.x as tf.TensorInfo;
    tf.registerKernel({ kernelName: 'UnsortedSegmentSum', backendName: 'wasm', kernelFunc: sentinel });
    try {
      const result = enableWasmTraining();
      expect(result.alreadyRegistered).toEqual(['UnsortedSegmentSum']);
      expect(result.registered).toEqual(WASM_TRAINING_KERNELS.filter((k) => k !== 'UnsortedSegmentSum'));
      expect(tf.getKernel('UnsortedSegmentSum', 'wasm')?.kernelFunc).toBe(sentinel);
      expect(disableWasmTraining().unregistered).not.toContain('UnsortedSegmentSum');
      expect(tf.getKernel('UnsortedSegmentSum', 'wasm')?.kernelFunc).toBe(sentinel);
    } finally {
      tf.unregisterKernel('UnsortedSegmentSum', 'wasm');
      enableWasmTraining();
    }
    expect(tf.getKernel('UnsortedSegmentSum', 'wasm')?.kernelFunc).not.toBe(sentinel);
  });

  it('returns plain data that survives JSON round-tripping', () => {
    const r = enableWasmTraining();
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
  });
});

describe('Conv2DBackpropFilter on wasm', () => {
  const cases: Array<{ x: Shape4; f: Shape4; s: number | [number, number]; pad: Pad }> = [
    { x: [2, 7, 5, 3], f: [3, 3, 3, 4], s: 1, pad: 'same' },
    { x: [2, 7, 5, 3], f: [3, 3, 3, 4], s: 2, pad: 'same' },
    { x: [3, 9, 6, 1], f: [3, 2, 1, 16], s: 2, pad: 'valid' },
    { x: [1, 8, 8, 16], f: [3, 3, 16, 3], s: [2, 1], pad: 'valid' },
    { x: [2, 6, 9, 3], f: [5, 5, 3, 2], s: 3, pad: 'same' },
    { x: [2, 6, 6, 16], f: [1, 1, 16, 16], s: 2, pad: 'valid' },
    { x: [3, 9, 6, 3], f: [2, 3, 3, 3], s: 2, pad: [[0, 0], [1, 2], [0, 1], [0, 0]] },
    { x: [2, 4, 4, 1], f: [4, 4, 1, 1], s: 1, pad: 'valid' },
  ];
  it.each(cases)('matches the cpu kernel for x $x, filter $f, strides $s, pad $pad', async ({ x, f, s, pad }) => {
    const dyShape = convOutShape(x, f, s, pad);
    await expectWasmMatchesCpu(() =>
      tf.engine().runKernel(
        'Conv2DBackpropFilter',
        { x: tf.tensor4d(values(sizeOf(x), 1), x), dy: tf.tensor4d(values(sizeOf(dyShape), 2), dyShape) },
        { strides: s, pad, dataFormat: 'NHWC', filterShape: f },
      ) as tf.Tensor,
    );
  });

  it.each([
    { pad: 'same' as Pad, dy: [2, 4, 4, 3] as Shape4 }, // stride 2 'same' on 7x5
    { pad: [[0, 0], [0, 0], [1, 0], [2, 1]] as Pad, dy: [2, 4, 3, 3] as Shape4 }, // NCHW-ordered explicit pads
  ])('handles NCHW inputs like the cpu kernel (pad $pad)', async ({ pad, dy }) => {
    const x: Shape4 = [2, 3, 7, 5]; // NCHW
    const f: Shape4 = [3, 3, 3, 4];
    await expectWasmMatchesCpu(() =>
      tf.engine().runKernel(
        'Conv2DBackpropFilter',
        { x: tf.tensor4d(values(sizeOf(x), 3), x), dy: tf.tensor4d(values(sizeOf(dy), 4), dy) },
        { strides: 2, pad, dataFormat: 'NCHW', filterShape: f },
      ) as tf.Tensor,
    );
  });

  it('equals a hand-computed filter gradient', async () => {
    // x = [[1,2],[3,4]] (1 image, 1 channel), 1x1 output of a 2x2 'valid' conv, dy = 2: dW = 2x.
    const got = await runOn('wasm', () =>
      tf.engine().runKernel(
        'Conv2DBackpropFilter',
        { x: tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]), dy: tf.tensor4d([2], [1, 1, 1, 1]) },
        { strides: 1, pad: 'valid', dataFormat: 'NHWC', filterShape: [2, 2, 1, 1] },
      ) as tf.Tensor,
    );
    expect(Array.from(got.data)).toEqual([2, 4, 6, 8]);
  });

  it('gives the conv2d and conv2dTranspose filter gradients of the cpu backend', async () => {
    const x: Shape4 = [2, 6, 5, 3];
    await expectWasmMatchesCpu(() => {
      const xt = tf.tensor4d(values(sizeOf(x), 5), x);
      const w = tf.tensor4d(values(3 * 3 * 3 * 4, 6), [3, 3, 3, 4]);
      return tf.grad((v: tf.Tensor) => tf.sum(tf.square(tf.conv2d(xt, v as tf.Tensor4D, 2, 'same'))))(w);
    });
    await expectWasmMatchesCpu(() => {
      const xt = tf.tensor4d(values(sizeOf(x), 7), x);
      const w = tf.tensor4d(values(3 * 3 * 4 * 3, 8), [3, 3, 4, 3]); // [fh, fw, outC, inC]
      return tf.grad((v: tf.Tensor) =>
        tf.sum(tf.square(tf.conv2dTranspose(xt, v as tf.Tensor4D, [2, 12, 10, 4], 2, 'same'))),
      )(w);
    });
  });
});

describe("wasm's own Conv2DBackpropInput (used by conv2dTranspose and conv2d gradients)", () => {
  const cases: Array<{ x: Shape4; f: Shape4; s: number | [number, number]; pad: Pad }> = [
    { x: [2, 7, 5, 3], f: [3, 3, 3, 4], s: 2, pad: 'same' },
    { x: [3, 9, 6, 16], f: [3, 2, 16, 1], s: 1, pad: 'valid' },
    { x: [2, 8, 8, 3], f: [3, 3, 3, 16], s: [2, 1], pad: [[0, 0], [1, 1], [2, 0], [0, 0]] },
  ];
  it.each(cases)('matches the cpu kernel for x $x, filter $f, strides $s, pad $pad', async ({ x, f, s, pad }) => {
    const dyShape = convOutShape(x, f, s, pad);
    await expectWasmMatchesCpu(() =>
      tf.engine().runKernel(
        'Conv2DBackpropInput',
        { dy: tf.tensor4d(values(sizeOf(dyShape), 1), dyShape), filter: tf.tensor4d(values(sizeOf(f), 2), f) },
        { strides: s, pad, dataFormat: 'NHWC', inputShape: x },
      ) as tf.Tensor,
    );
  });
});

/** Plain-JS depthwise gradients (the cpu kernels ignore dilations, so dilation 2 is checked here). */
function depthwiseReference(
  x: Float32Array,
  xShape: Shape4,
  w: Float32Array,
  wShape: Shape4,
  dy: Float32Array,
  strides: number,
  dilations: number,
  pad: 'same' | 'valid',
): { dx: Float32Array; dw: Float32Array } {
  const [n, h, wd, c] = xShape;
  const [fh, fw, , m] = wShape;
  const info = tf.backend_util.computeConv2DInfo(xShape, wShape, strides, dilations, pad, undefined, true);
  const { outHeight: ho, outWidth: wo, padInfo } = info;
  const dx = new Float32Array(x.length);
  const dw = new Float32Array(w.length);
  for (let b = 0; b < n; b++)
    for (let i = 0; i < ho; i++)
      for (let j = 0; j < wo; j++)
        for (let a = 0; a < fh; a++)
          for (let e = 0; e < fw; e++) {
            const r = i * strides - padInfo.top + a * dilations;
            const q = j * strides - padInfo.left + e * dilations;
            if (r < 0 || r >= h || q < 0 || q >= wd) continue;
            for (let ch = 0; ch < c; ch++)
              for (let k = 0; k < m; k++) {
                const g = dy[((b * ho + i) * wo + j) * c * m + ch * m + k] as number;
                const xi = ((b * h + r) * wd + q) * c + ch;
                const wi = ((a * fw + e) * c + ch) * m + k;
                dw[wi] = (dw[wi] as number) + g * (x[xi] as number);
                dx[xi] = (dx[xi] as number) + g * (w[wi] as number);
              }
          }
  return { dx, dw };
}

describe('DepthwiseConv2dNativeBackpropInput/Filter on wasm', () => {
  const cases: Array<{ x: Shape4; f: Shape4; s: number; d: number; pad: 'same' | 'valid' }> = [
    { x: [2, 7, 5, 3], f: [3, 3, 3, 1], s: 1, d: 1, pad: 'same' },
    { x: [2, 7, 5, 3], f: [3, 3, 3, 2], s: 2, d: 1, pad: 'same' },
    { x: [1, 9, 8, 1], f: [3, 2, 1, 3], s: 2, d: 1, pad: 'valid' },
    { x: [2, 8, 7, 16], f: [3, 3, 16, 1], s: 1, d: 2, pad: 'same' },
    { x: [2, 9, 6, 3], f: [2, 3, 3, 2], s: 1, d: 2, pad: 'valid' },
  ];
  it.each(cases)(
    'match a plain-JS reference (and the cpu kernels at dilation 1) for x $x, filter $f, stride $s, dilation $d, pad $pad',
    async ({ x, f, s, d, pad }) => {
      const dyShape = convOutShape(x, f, s, pad, d);
      dyShape[3] = f[2] * f[3];
      const xv = values(sizeOf(x), 1);
      const fv = values(sizeOf(f), 2);
      const dyv = values(sizeOf(dyShape), 3);
      const attrs = { strides: s, dilations: d, pad };
      const filterGrad = (): tf.Tensor =>
        tf.engine().runKernel(
          'DepthwiseConv2dNativeBackpropFilter',
          { x: tf.tensor4d(xv, x), dy: tf.tensor4d(dyv, dyShape) },
          { ...attrs, filterShape: f },
        ) as tf.Tensor;
      const inputGrad = (): tf.Tensor =>
        tf.engine().runKernel(
          'DepthwiseConv2dNativeBackpropInput',
          { dy: tf.tensor4d(dyv, dyShape), filter: tf.tensor4d(fv, f) },
          { ...attrs, inputShape: x },
        ) as tf.Tensor;
      const ref = depthwiseReference(xv, x, fv, f, dyv, s, d, pad);
      const gotW = await runOn('wasm', filterGrad);
      const gotX = await runOn('wasm', inputGrad);
      expect(gotW.shape).toEqual(f);
      expect(gotX.shape).toEqual(x);
      expect(relError(gotW.data, ref.dw)).toBeLessThan(REL_TOL);
      expect(relError(gotX.data, ref.dx)).toBeLessThan(REL_TOL);
      if (d === 1) {
        await expectWasmMatchesCpu(filterGrad);
        await expectWasmMatchesCpu(inputGrad);
      }
    },
  );
});

describe('UnsortedSegmentSum on wasm', () => {
  it('matches the cpu kernel, including repeated and unused segments', async () => {
    await expectWasmMatchesCpu(() =>
      tf.unsortedSegmentSum(tf.tensor3d(values(7 * 3 * 2, 1), [7, 3, 2]), tf.tensor1d([0, 2, 2, 4, 0, 2, 1], 'int32'), 6),
    );
  });

  it('drops ids outside [0, numSegments) like the cpu kernel', async () => {
    const fn = (): tf.Tensor =>
      tf.unsortedSegmentSum(tf.tensor2d([1, 2, 10, 20, 100, 200, 5, 6], [4, 2]), tf.tensor1d([1, -1, 3, 1], 'int32'), 3);
    const got = await runOn('wasm', fn);
    expect(Array.from(got.data)).toEqual([0, 0, 6, 8, 0, 0]);
    await expectWasmMatchesCpu(fn);
  });

  it('accepts rank-2 segment ids (hand-computed; the cpu kernel rejects them)', async () => {
    const got = await runOn('wasm', () =>
      tf.unsortedSegmentSum(tf.tensor3d([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2]), tf.tensor2d([0, 1, 1, 1], [2, 2], 'int32') as unknown as tf.Tensor1D, 2),
    );
    expect(got.shape).toEqual([2, 2]);
    // segment 0: row [1,2]; segment 1: rows [3,4] + [5,6] + [7,8]
    expect(Array.from(got.data)).toEqual([1, 2, 15, 18]);
  });

  it('gives tf.gather its gradient, equal to the cpu backend', async () => {
    await expectWasmMatchesCpu(() => {
      const p = tf.tensor2d(values(5 * 3, 1), [5, 3]);
      const idx = tf.tensor1d([1, 3, 1, 4, 1], 'int32');
      const wts = tf.tensor2d(values(5 * 3, 2), [5, 3]);
      return tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.gather(v, idx), wts)))(p);
    });
  });
});

describe('training on wasm after enableWasmTraining', () => {
  async function lossesOf(build: () => tfl.Sequential, x: tf.Tensor, y: tf.Tensor, steps: number): Promise<number[]> {
    const model = build();
    const h = await model.fit(x, y, { epochs: steps, batchSize: x.shape[0], shuffle: false, verbose: 0 });
    model.optimizer.dispose(); // adam's moment slots belong to the optimizer, not the model
    model.dispose();
    return h.history.loss as number[];
  }

  function buildCnn(): tfl.Sequential {
    const m = tfl.sequential({
      layers: [
        tfl.layers.conv2d({ inputShape: [8, 8, 1], filters: 4, kernelSize: 3, activation: 'relu' }),
        tfl.layers.maxPooling2d({ poolSize: 2 }),
        tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', strides: 2 }),
        tfl.layers.flatten(),
        tfl.layers.dense({ units: 3, activation: 'softmax' }),
      ],
    });
    m.compile({ optimizer: tf.train.adam(0.02), loss: 'categoricalCrossentropy' });
    return m;
  }

  function buildDecoder(): tfl.Sequential {
    const m = tfl.sequential({
      layers: [
        tfl.layers.conv2dTranspose({ inputShape: [4, 4, 3], filters: 4, kernelSize: 3, strides: 2, padding: 'same' }),
        tfl.layers.batchNormalization(),
        tfl.layers.activation({ activation: 'relu' }),
        tfl.layers.conv2d({ filters: 1, kernelSize: 3, padding: 'same', activation: 'sigmoid' }),
      ],
    });
    m.compile({ optimizer: tf.train.adam(0.02), loss: 'binaryCrossentropy' });
    return m;
  }

  it('trains a small CNN (conv2d, maxPooling2d, dense, softmax, adam): the loss decreases over 5 steps', async () => {
    await loadWasm();
    enableWasmTraining();
    const losses = await withBackend('wasm', async () => {
      const x = tf.tensor4d(values(6 * 8 * 8, 11), [6, 8, 8, 1]);
      const y = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2], 'int32'), 3);
      try {
        return await expectNoTensorLeak(() => lossesOf(buildCnn, x, y, 5));
      } finally {
        tf.dispose([x, y]);
      }
    });
    expect(losses).toHaveLength(5);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[4] as number).toBeLessThan(losses[0] as number);
  });

  it('trains a conv-transpose decoder (conv2dTranspose s2, batchNormalization, sigmoid): the loss decreases', async () => {
    await loadWasm();
    enableWasmTraining();
    const losses = await withBackend('wasm', async () => {
      const x = tf.tensor4d(values(4 * 4 * 4 * 3, 12), [4, 4, 4, 3]);
      const y = tf.tidy(() => tf.cast(tf.greater(tf.tensor4d(values(4 * 8 * 8, 13), [4, 8, 8, 1]), 0), 'float32'));
      try {
        return await expectNoTensorLeak(() => lossesOf(buildDecoder, x, y, 5));
      } finally {
        tf.dispose([x, y]);
      }
    });
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[4] as number).toBeLessThan(losses[0] as number);
  });

  it('trains an embedding layer (tf.gather gradient) and a separable/depthwise conv model', async () => {
    await loadWasm();
    enableWasmTraining();
    await withBackend('wasm', async () => {
      const emb = tfl.sequential({
        layers: [
          tfl.layers.embedding({ inputDim: 10, outputDim: 4, inputLength: 3 }),
          tfl.layers.flatten(),
          tfl.layers.dense({ units: 1 }),
        ],
      });
      emb.compile({ optimizer: tf.train.sgd(0.1), loss: 'meanSquaredError' });
      const ex = tf.tensor2d([1, 2, 3, 4, 5, 1], [2, 3], 'int32');
      const ey = tf.tensor2d([1, 0], [2, 1]);
      const h1 = await emb.fit(ex, ey, { epochs: 5, verbose: 0 });
      const sep = tfl.sequential({
        layers: [
          tfl.layers.separableConv2d({ inputShape: [8, 8, 3], filters: 4, kernelSize: 3, depthMultiplier: 2, strides: 2, padding: 'same' }),
          tfl.layers.depthwiseConv2d({ kernelSize: 3 }),
          tfl.layers.globalAveragePooling2d({}),
          tfl.layers.dense({ units: 2, activation: 'softmax' }),
        ],
      });
      sep.compile({ optimizer: tf.train.adam(0.02), loss: 'categoricalCrossentropy' });
      const sx = tf.tensor4d(values(4 * 8 * 8 * 3, 14), [4, 8, 8, 3]);
      const sy = tf.oneHot(tf.tensor1d([0, 1, 0, 1], 'int32'), 2);
      const h2 = await sep.fit(sx, sy, { epochs: 5, batchSize: 4, verbose: 0 });
      tf.dispose([ex, ey, sx, sy]);
      emb.dispose();
      sep.dispose();
      for (const h of [h1, h2]) {
        const l = h.history.loss as number[];
        expect(l[4] as number).toBeLessThan(l[0] as number);
      }
    });
  });
});

describe('memory', () => {
  it("passes tfjs's own per-kernel data-id leak check (IS_TEST mode)", async () => {
    await loadWasm();
    enableWasmTraining();
    const env = tf.env();
    const prev = env.getBool('IS_TEST');
    env.set('IS_TEST', true);
    try {
      const sums = await withBackend('wasm', () =>
        tf.tidy(() => {
          const x = tf.tensor4d(values(2 * 6 * 5 * 3, 1), [2, 6, 5, 3]);
          const outs = [
            tf.engine().runKernel(
              'Conv2DBackpropFilter',
              { x, dy: tf.ones([2, 3, 3, 4]) },
              { strides: 2, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 3, 4] },
            ) as tf.Tensor,
            tf.engine().runKernel(
              'DepthwiseConv2dNativeBackpropFilter',
              { x, dy: tf.ones([2, 6, 5, 6]) },
              { strides: 1, dilations: 1, pad: 'same', filterShape: [3, 3, 3, 2] },
            ) as tf.Tensor,
            tf.engine().runKernel(
              'DepthwiseConv2dNativeBackpropInput',
              { dy: tf.ones([2, 3, 3, 3]), filter: tf.ones([3, 3, 3, 1]) },
              { strides: 2, dilations: 1, pad: 'same', inputShape: [2, 6, 5, 3] },
            ) as tf.Tensor,
            tf.unsortedSegmentSum(tf.ones([4, 2]), tf.tensor1d([0, 1, 1, 3], 'int32'), 4),
          ];
          return outs.map((t) => tf.sum(t).dataSync()[0]);
        }),
      );
      expect(sums.every((v) => Number.isFinite(v))).toBe(true);
    } finally {
      env.set('IS_TEST', prev);
    }
  });

  it('accepts bare TensorInfo inputs (a backend calling the kernel directly) without leaking', async () => {
    await loadWasm();
    enableWasmTraining();
    await withBackend('wasm', () => {
      const x = tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]);
      const ids = tf.tensor1d([1, 0, 1], 'int32');
      const before = tf.memory();
      const kernel = tf.getKernel('UnsortedSegmentSum', 'wasm');
      expect(kernel).toBeDefined();
      const out = kernel?.kernelFunc({
        inputs: {
          x: { dataId: x.dataId, shape: x.shape, dtype: x.dtype },
          segmentIds: { dataId: ids.dataId, shape: ids.shape, dtype: ids.dtype },
        },
        backend: tf.backend(),
        attrs: { numSegments: 2 },
      }) as tf.Tensor;
      expect(Array.from(out.dataSync())).toEqual([3, 4, 6, 8]);
      out.dispose();
      const after = tf.memory();
      expect(after.numTensors).toBe(before.numTensors);
      expect(after.numBytes).toBe(before.numBytes);
      // The caller's tensors are intact.
      expect(Array.from(x.dataSync())).toEqual([1, 2, 3, 4, 5, 6]);
      tf.dispose([x, ids]);
    });
  });

  it('leaves no tensors and no bytes behind across repeated kernel calls and gradient steps', async () => {
    await loadWasm();
    enableWasmTraining();
    await withBackend('wasm', async () => {
      const x = tf.tensor4d(values(2 * 6 * 5 * 3, 1), [2, 6, 5, 3]);
      const w = tf.variable(tf.tensor4d(values(3 * 3 * 3 * 4, 2), [3, 3, 3, 4]));
      const dwk = tf.variable(tf.tensor4d(values(3 * 3 * 3 * 2, 3), [3, 3, 3, 2]));
      const table = tf.variable(tf.tensor2d(values(6 * 4, 4), [6, 4]));
      const idx = tf.tensor1d([0, 5, 5, 2], 'int32');
      const opt = tf.train.sgd(0.01);
      const step = (): void => {
        const cost = opt.minimize(
          () =>
            tf.add(
              tf.add(
                tf.sum(tf.square(tf.conv2d(x, w, 2, 'same'))),
                tf.sum(tf.square(tf.depthwiseConv2d(x, dwk, 1, 'valid'))),
              ),
              tf.sum(tf.square(tf.gather(table, idx))),
            ),
          true,
        );
        cost?.dispose();
      };
      step(); // warm-up
      const before = tf.memory();
      await expectNoTensorLeak(() => {
        for (let i = 0; i < 3; i++) step();
        for (let i = 0; i < 3; i++) {
          tf.dispose(
            tf.tidy(() =>
              tf.engine().runKernel(
                'Conv2DBackpropFilter',
                { x, dy: tf.ones([2, 3, 3, 4]) },
                { strides: 2, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 3, 4] },
              ),
            ),
          );
          tf.dispose(tf.tidy(() => tf.unsortedSegmentSum(tf.ones([4, 4]), idx, 6)));
        }
      });
      const after = tf.memory();
      expect(after.numTensors).toBe(before.numTensors);
      expect(after.numBytes).toBe(before.numBytes);
      expect(after.numDataBuffers).toBe(before.numDataBuffers);
      tf.dispose([x, idx, w, dwk, table]);
    });
  });
});
