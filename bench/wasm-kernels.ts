// Times the kernels enableWasmTraining adds to the wasm backend (against an alternative
// formulation and the cpu backend's kernels), wasm's own Conv2DBackpropInput, and one training
// step of a small CNN and of a conv-transpose decoder. Run (--quick: ~3 s, no cpu column;
// without it ~2.5 min, the cpu kernels are slow):
//   npx esbuild bench/wasm-kernels.ts --bundle --platform=node --format=esm --packages=external \
//     --outfile=node_modules/.cache/piq-bench/wasm-kernels.mjs --log-level=warning \
//     && node node_modules/.cache/piq-bench/wasm-kernels.mjs --quick
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tfl from '@tensorflow/tfjs-layers';
import { enableWasmTraining } from '../src/backends/wasm-training';
import { parseArgs } from '../examples/shared/cli';

const quick = parseArgs(process.argv.slice(2), { quick: 'boolean' }, 'wasm-kernels.mjs [--quick]  (see the comment at the top of bench/wasm-kernels.ts)').flag('quick');

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

/** Median wall time (ms) of `reps` runs of fn after one warm-up; the result's data is read back. */
function time(fn: () => tf.Tensor, reps: number): number {
  const once = (): number => {
    const t0 = performance.now();
    const r = tf.tidy(fn);
    r.dataSync();
    const dt = performance.now() - t0;
    r.dispose();
    return dt;
  };
  once();
  return median(Array.from({ length: reps }, once));
}

/**
 * Switches to `backend`, makes the inputs there (untimed), and times `op` on them.
 */
async function timeOn<I extends tf.Tensor[]>(
  backend: string,
  make: () => I,
  op: (...inputs: I) => tf.Tensor,
  reps: number,
): Promise<number> {
  await tf.setBackend(backend);
  const inputs = make();
  try {
    return time(() => op(...inputs), reps);
  } finally {
    tf.dispose(inputs);
  }
}

/** Alternative Conv2DBackpropFilter formulation kept for comparison: stacked taps + one matMul. */
function filterGradTapsMatMul(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  fh: number,
  fw: number,
  s: number,
  padTop: number,
  padLeft: number,
): tf.Tensor {
  const [n, h, w, cin] = x.shape;
  const [, ho, wo, cout] = dy.shape;
  const needH = fh + (ho - 1) * s;
  const needW = fw + (wo - 1) * s;
  const xt = tf.transpose(x, [3, 1, 2, 0]);
  const xp = tf.pad(xt, [
    [0, 0],
    [padTop, Math.max(0, needH - h - padTop)],
    [padLeft, Math.max(0, needW - w - padLeft)],
    [0, 0],
  ]);
  const taps: tf.Tensor[] = [];
  for (let a = 0; a < fh; a++) {
    for (let b = 0; b < fw; b++) {
      const tap = tf.stridedSlice(xp, [0, a, b, 0], [cin, a + (ho - 1) * s + 1, b + (wo - 1) * s + 1, n], [1, s, s, 1]);
      taps.push(tf.reshape(tap, [cin, ho * wo * n]));
    }
  }
  const patches = tf.concat(taps, 0); // [fh*fw*cin, ho*wo*n]
  const dyt = tf.reshape(tf.transpose(dy, [1, 2, 0, 3]), [ho * wo * n, cout]);
  return tf.reshape(tf.matMul(patches, dyt), [fh, fw, cin, cout]);
}

interface ConvCase {
  label: string;
  x: [number, number, number, number];
  filter: [number, number, number, number];
  stride: number;
  pad: 'same' | 'valid';
}

const convCases: ConvCase[] = [
  { label: 'CNN conv1 28x28x1 -> 16, 3x3 s1 same', x: [32, 28, 28, 1], filter: [3, 3, 1, 16], stride: 1, pad: 'same' },
  { label: 'CNN conv2 14x14x16 -> 32, 3x3 s1 same', x: [32, 14, 14, 16], filter: [3, 3, 16, 32], stride: 1, pad: 'same' },
  { label: 'conv 28x28x32 -> 64, 3x3 s2 same', x: [16, 28, 28, 32], filter: [3, 3, 32, 64], stride: 2, pad: 'same' },
  // conv2dTranspose 7x7x64 -> 14x14x32 (stride 2): its filter gradient is Conv2DBackpropFilter
  // with x = the layer's output gradient [N,14,14,32] and dy = the layer's input [N,7,7,64].
  { label: 'convT 7x7x64 -> 14x14x32 3x3 s2 same', x: [16, 14, 14, 32], filter: [3, 3, 32, 64], stride: 2, pad: 'same' },
  { label: 'conv 12x12x8 -> 8, 5x5 s1 valid', x: [16, 12, 12, 8], filter: [5, 5, 8, 8], stride: 1, pad: 'valid' },
];

async function main(): Promise<void> {
  await tf.setBackend('wasm');
  enableWasmTraining();
  const rows: string[] = [];
  const row = (...cells: (string | number)[]): void => {
    const line = `| ${cells.map((c) => (typeof c === 'number' ? c.toFixed(c < 10 ? 2 : 1) : c)).join(' | ')} |`;
    rows.push(line);
    console.log(line);
  };
  console.log(`tfjs ${tf.version_core}, ${quick ? 'quick (no cpu reference)' : 'full'}\n`);
  row('kernel, shape (batch as in x)', 'wasm ms', 'wasm alternative ms', 'cpu backend ms');
  row('---', '---', '---', '---');
  const rnd = (shape: number[], seed: number): tf.Tensor => tf.randomUniform(shape, -1, 1, 'float32', seed);
  const cpuCell = async (t: () => Promise<number>): Promise<number | string> => (quick ? '-' : t());
  for (const c of convCases) {
    const info = tf.backend_util.computeConv2DInfo(c.x, c.filter, c.stride, 1, c.pad);
    const make = (): [tf.Tensor, tf.Tensor] => [rnd(c.x, 1), rnd(info.outShape, 2)];
    const attrs = { strides: c.stride, pad: c.pad, dataFormat: 'NHWC', filterShape: c.filter };
    const kernel = (x: tf.Tensor, dy: tf.Tensor): tf.Tensor =>
      tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attrs) as tf.Tensor;
    const alt = (x: tf.Tensor, dy: tf.Tensor): tf.Tensor =>
      filterGradTapsMatMul(x as tf.Tensor4D, dy as tf.Tensor4D, c.filter[0], c.filter[1], c.stride, info.padInfo.top, info.padInfo.left);
    row(
      `Conv2DBackpropFilter, ${c.label}`,
      await timeOn('wasm', make, kernel, 5),
      await timeOn('wasm', make, alt, 5),
      await cpuCell(() => timeOn('cpu', make, kernel, 1)),
    );
  }
  for (const c of convCases.slice(0, 4)) {
    const info = tf.backend_util.computeConv2DInfo(c.x, c.filter, c.stride, 1, c.pad);
    const make = (): [tf.Tensor, tf.Tensor] => [rnd(info.outShape, 2), rnd(c.filter, 3)];
    const attrs = { strides: c.stride, pad: c.pad, dataFormat: 'NHWC', inputShape: c.x };
    const kernel = (dy: tf.Tensor, filter: tf.Tensor): tf.Tensor =>
      tf.engine().runKernel('Conv2DBackpropInput', { dy, filter }, attrs) as tf.Tensor;
    // Alternative (not registered: wasm has this kernel): one conv2d of the zero-upsampled,
    // padded dy with the flipped, in/out-swapped filter.
    const alt = (dy: tf.Tensor, filter: tf.Tensor): tf.Tensor => {
      const [fh, fw] = c.filter;
      const [n, ho, wo, co] = info.outShape;
      const s = c.stride;
      let up = dy as tf.Tensor4D;
      if (s > 1) {
        const d6 = tf.pad(tf.reshape(dy, [n, ho, 1, wo, 1, co]), [[0, 0], [0, 0], [0, s - 1], [0, 0], [0, s - 1], [0, 0]]);
        up = tf.reshape(d6, [n, ho * s, wo * s, co]);
      }
      const top = fh - 1 - info.padInfo.top;
      const left = fw - 1 - info.padInfo.left;
      const bottom = c.x[1] + fh - 1 - top - ho * s;
      const right = c.x[2] + fw - 1 - left - wo * s;
      let padded = tf.pad(up, [[0, 0], [top, Math.max(0, bottom)], [left, Math.max(0, right)], [0, 0]]);
      if (bottom < 0 || right < 0) {
        padded = tf.slice(padded, [0, 0, 0, 0], [n, c.x[1] + fh - 1, c.x[2] + fw - 1, co]);
      }
      const f = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
      return tf.conv2d(padded, f, 1, 'valid');
    };
    row(
      `Conv2DBackpropInput (wasm's own kernel), ${c.label}`,
      await timeOn('wasm', make, kernel, 5),
      await timeOn('wasm', make, alt, 5),
      await cpuCell(() => timeOn('cpu', make, kernel, 1)),
    );
  }
  const dwX = [16, 28, 28, 32];
  const dwF: [number, number, number, number] = [3, 3, 32, 1];
  const dwAttrs = { strides: 1, dilations: 1, pad: 'same' };
  const dwFilter = (x: tf.Tensor, dy: tf.Tensor): tf.Tensor =>
    tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy }, { ...dwAttrs, filterShape: dwF }) as tf.Tensor;
  const dwInput = (dy: tf.Tensor, filter: tf.Tensor): tf.Tensor =>
    tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter }, { ...dwAttrs, inputShape: dwX }) as tf.Tensor;
  const makeXDy = (): [tf.Tensor, tf.Tensor] => [rnd(dwX, 1), rnd(dwX, 2)];
  const makeDyF = (): [tf.Tensor, tf.Tensor] => [rnd(dwX, 2), rnd(dwF, 3)];
  row(
    'DepthwiseConv2dNativeBackpropFilter, 28x28x32 3x3 s1 same, batch 16',
    await timeOn('wasm', makeXDy, dwFilter, 5),
    '-',
    await cpuCell(() => timeOn('cpu', makeXDy, dwFilter, 1)),
  );
  row(
    'DepthwiseConv2dNativeBackpropInput, 28x28x32 3x3 s1 same, batch 16',
    await timeOn('wasm', makeDyF, dwInput, 5),
    '-',
    await cpuCell(() => timeOn('cpu', makeDyF, dwInput, 1)),
  );
  const makeSeg = (): [tf.Tensor, tf.Tensor] => [
    rnd([4096, 64], 1),
    tf.tidy(() => tf.cast(tf.randomUniform([4096], 0, 1000, 'float32', 2), 'int32')),
  ];
  const seg = (x: tf.Tensor, ids: tf.Tensor): tf.Tensor => tf.unsortedSegmentSum(x, ids as tf.Tensor1D, 1000);
  row(
    'UnsortedSegmentSum, x [4096, 64], 1000 segments',
    await timeOn('wasm', makeSeg, seg, 5),
    '-',
    await cpuCell(() => timeOn('cpu', makeSeg, seg, 1)),
  );

  // One optimizer step of a small CNN and of a small conv-transpose decoder, batch 32.
  const step = async (backend: string, build: () => tfl.Sequential, x: tf.Tensor, y: tf.Tensor): Promise<number> => {
    await tf.setBackend(backend);
    const model = build();
    const xs = tf.clone(x);
    const ys = tf.clone(y);
    const times: number[] = [];
    for (let i = 0; i < (backend === 'cpu' ? 2 : 6); i++) {
      const t0 = performance.now();
      const h = await model.fit(xs, ys, { epochs: 1, batchSize: x.shape[0], verbose: 0 });
      times.push(performance.now() - t0);
      void h;
    }
    model.dispose();
    tf.dispose([xs, ys]);
    return median(times.slice(1));
  };
  const buildCnn = (): tfl.Sequential => {
    const m = tfl.sequential({
      layers: [
        tfl.layers.conv2d({ inputShape: [28, 28, 1], filters: 16, kernelSize: 3, activation: 'relu' }),
        tfl.layers.maxPooling2d({ poolSize: 2 }),
        tfl.layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu' }),
        tfl.layers.flatten(),
        tfl.layers.dense({ units: 10, activation: 'softmax' }),
      ],
    });
    m.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
    return m;
  };
  const buildDecoder = (): tfl.Sequential => {
    const m = tfl.sequential({
      layers: [
        tfl.layers.conv2dTranspose({ inputShape: [7, 7, 64], filters: 32, kernelSize: 3, strides: 2, padding: 'same' }),
        tfl.layers.batchNormalization(),
        tfl.layers.activation({ activation: 'relu' }),
        tfl.layers.conv2dTranspose({ filters: 16, kernelSize: 3, strides: 2, padding: 'same' }),
        tfl.layers.batchNormalization(),
        tfl.layers.activation({ activation: 'relu' }),
        tfl.layers.conv2d({ filters: 1, kernelSize: 3, padding: 'same', activation: 'sigmoid' }),
      ],
    });
    m.compile({ optimizer: tf.train.adam(1e-3), loss: 'binaryCrossentropy' });
    return m;
  };
  await tf.setBackend('cpu');
  const cx = tf.randomUniform([32, 28, 28, 1], 0, 1, 'float32', 1);
  const cy = tf.oneHot(tf.tensor1d(Array.from({ length: 32 }, (_, i) => i % 10), 'int32'), 10);
  const dx = tf.randomNormal([32, 7, 7, 64], 0, 1, 'float32', 2);
  const dyT = tf.randomUniform([32, 28, 28, 1], 0, 1, 'float32', 3);
  row('train step (model.fit, 1 batch): CNN 28x28 conv16-pool-conv32-dense10, batch 32', await step('wasm', buildCnn, cx, cy), '-', await cpuCell(() => step('cpu', buildCnn, cx, cy)));
  row('train step (model.fit, 1 batch): decoder 7x7x64 -> 2x(convT s2, BN, relu) -> conv 28x28x1, batch 32', await step('wasm', buildDecoder, dx, dyT), '-', await cpuCell(() => step('cpu', buildDecoder, dx, dyT)));
  await tf.setBackend('cpu');
  tf.dispose([cx, cy, dx, dyT]);
}

await main();
