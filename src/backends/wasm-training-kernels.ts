// Kernel implementations that enableWasmTraining registers for the 'wasm' backend.
//
// Each kernel is written with tf ops, which on the wasm backend run the backend's own (XNNPACK)
// kernels. That is sound inside a kernelFunc: the engine raises its kernel depth while a kernel
// runs, so nothing computed here is recorded on a gradient tape; intermediates die in tf.tidy,
// and the returned tf.Tensor is handed to the engine as the kernel's output (the engine keeps a
// returned Tensor as is, it does not wrap it again), so tf.memory() counts it exactly once.
//
// The formulations avoid matMul transpose flags and map the heavy work onto one forward
// Conv2D / DepthwiseConv2dNative or one ScatterNd, the fastest kernels wasm has.
import * as tf from '@tensorflow/tfjs-core';
import type {
  Conv2DBackpropFilterAttrs,
  Conv2DBackpropInputAttrs,
  DepthwiseConv2dNativeBackpropFilterAttrs,
  DepthwiseConv2dNativeBackpropInputAttrs,
  KernelBackend,
  KernelFunc,
  NamedTensorInfoMap,
  TensorInfo,
  UnsortedSegmentSumAttrs,
} from '@tensorflow/tfjs-core';
import { filterGradientNarrow, phaseSubFilter, preferNarrowFilterGradient } from './wasm-fast-paths';

type Shape4 = [number, number, number, number];

/**
 * A tf.Tensor view of a kernel input. Inputs that arrive through tf ops are Tensors already;
 * a bare TensorInfo (a backend calling the kernel directly) gets a tracked wrapper whose extra
 * backend reference is released when the surrounding tidy disposes it.
 */
function asTensor(info: TensorInfo, backend: KernelBackend): tf.Tensor {
  if (info instanceof tf.Tensor) return info;
  backend.incRef(info.dataId);
  return tf.engine().makeTensorFromTensorInfo(info, backend);
}

function input(inputs: NamedTensorInfoMap, name: string, backend: KernelBackend, kernel: string): tf.Tensor {
  const info = inputs[name];
  if (info === undefined) throw new Error(`${kernel}: missing input '${name}'.`);
  return asTensor(info, backend);
}

/** Pads (positive amounts) or crops (negative amounts) the two spatial axes of an NHWC tensor. */
function padOrCrop4d(x: tf.Tensor4D, top: number, bottom: number, left: number, right: number): tf.Tensor4D {
  let t = x;
  const cropT = Math.max(0, -top);
  const cropB = Math.max(0, -bottom);
  const cropL = Math.max(0, -left);
  const cropR = Math.max(0, -right);
  if (cropT + cropB + cropL + cropR > 0) {
    const [n, h, w, c] = t.shape;
    t = tf.slice(t, [0, cropT, cropL, 0], [n, h - cropT - cropB, w - cropL - cropR, c]);
  }
  const padT = Math.max(0, top);
  const padB = Math.max(0, bottom);
  const padL = Math.max(0, left);
  const padR = Math.max(0, right);
  if (padT + padB + padL + padR > 0) {
    t = tf.pad(t, [
      [0, 0],
      [padT, padB],
      [padL, padR],
      [0, 0],
    ]);
  }
  return t;
}

/** Inserts (s-1) zeros after every row/column of an NHWC tensor: [n, h, w, c] -> [n, h*sh, w*sw, c]. */
function zeroUpsample(x: tf.Tensor4D, sh: number, sw: number): tf.Tensor4D {
  if (sh === 1 && sw === 1) return x;
  const [n, h, w, c] = x.shape;
  const x6 = tf.reshape(x, [n, h, 1, w, 1, c]);
  const padded = tf.pad(x6, [
    [0, 0],
    [0, 0],
    [0, sh - 1],
    [0, 0],
    [0, sw - 1],
    [0, 0],
  ]);
  return tf.reshape(padded, [n, h * sh, w * sw, c]);
}

/** Strides, dilations, padding and effective filter size of a depthwise convolution (NHWC). */
function depthwiseGeometry(
  inputShape: Shape4,
  filterShape: Shape4,
  a: Pick<DepthwiseConv2dNativeBackpropInputAttrs, 'strides' | 'dilations' | 'pad' | 'dimRoundingMode'>,
) {
  const info = tf.backend_util.computeConv2DInfo(inputShape, filterShape, a.strides, a.dilations, a.pad, a.dimRoundingMode, true);
  return {
    sh: info.strideHeight,
    sw: info.strideWidth,
    dh: info.dilationHeight,
    dw: info.dilationWidth,
    padInfo: info.padInfo,
    feh: info.effectiveFilterHeight,
    few: info.effectiveFilterWidth,
  };
}

function nhwc(x: tf.Tensor4D, dataFormat: 'NHWC' | 'NCHW' | undefined): tf.Tensor4D {
  return dataFormat === 'NCHW' ? tf.transpose(x, [0, 2, 3, 1]) : x;
}

/**
 * Conv2DBackpropFilter as one forward convolution.
 *
 * dW[a, b, ci, co] = sum_{n,i,j} xPad[n, a + i*sh, b + j*sw, ci] * dy[n, i, j, co]
 *
 * is a stride-1 'valid' conv2d whose "batch" is ci (input [Cin, Hp, Wp, N]), whose filter is dy
 * laid out as [Ho, Wo, N, Cout] and whose dilation is the forward stride; its output
 * [Cin, fh, fw, Cout] is transposed to the filter layout [fh, fw, Cin, Cout].
 */
export const conv2DBackpropFilterKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as Conv2DBackpropFilterAttrs;
  return tf.tidy(() => {
    const xIn = input(inputs, 'x', backend as KernelBackend, 'Conv2DBackpropFilter') as tf.Tensor4D;
    const dyIn = input(inputs, 'dy', backend as KernelBackend, 'Conv2DBackpropFilter') as tf.Tensor4D;
    // Padding is resolved in the caller's layout (explicit NCHW pads list H and W at [2] and [3]).
    const info = tf.backend_util.computeConv2DInfo(
      xIn.shape as Shape4,
      filterShape,
      strides,
      1,
      pad,
      dimRoundingMode,
      false,
      tf.backend_util.convertConv2DDataFormat(dataFormat ?? 'NHWC'),
    );
    const x = nhwc(xIn, dataFormat);
    const dy = nhwc(dyIn, dataFormat);
    const { filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw, padInfo } = info;
    const [, h, w] = x.shape;
    const [, ho, wo] = dy.shape;
    // The padded input must span exactly fh + (ho-1)*sh rows (and likewise columns).
    const needH = fh + (ho - 1) * sh;
    const needW = fw + (wo - 1) * sw;
    if (sh === 1 && sw === 1 && preferNarrowFilterGradient(x.shape[3], dy.shape[3])) {
      return filterGradientNarrow(padOrCrop4d(x, padInfo.top, needH - h - padInfo.top, padInfo.left, needW - w - padInfo.left), dy, fh, fw);
    }
    const xt = tf.transpose(x, [3, 1, 2, 0]); // [Cin, H, W, N]
    const xp = padOrCrop4d(xt, padInfo.top, needH - h - padInfo.top, padInfo.left, needW - w - padInfo.left);
    const dyt = tf.transpose(dy, [1, 2, 0, 3]); // [Ho, Wo, N, Cout]
    const out = tf.conv2d(xp, dyt, 1, 'valid', 'NHWC', [sh, sw]); // [Cin, fh, fw, Cout]
    return tf.transpose(out, [1, 2, 0, 3]);
  });
};

/**
 * UnsortedSegmentSum as one ScatterNd (which accumulates duplicate indices).
 * Ids outside [0, numSegments) contribute nothing (as on the cpu backend), provided their rows
 * are finite (they are masked by multiplication with 0).
 */
export const unsortedSegmentSumKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const { numSegments } = attrs as unknown as UnsortedSegmentSumAttrs;
  return tf.tidy(() => {
    const x = input(inputs, 'x', backend as KernelBackend, 'UnsortedSegmentSum');
    const ids = input(inputs, 'segmentIds', backend as KernelBackend, 'UnsortedSegmentSum');
    const n = ids.size;
    const inner = x.shape.slice(ids.rank);
    const outShape = [numSegments, ...inner];
    if (n === 0 || numSegments === 0) return tf.zeros(outShape, x.dtype);
    const ids1 = tf.reshape(tf.cast(ids, 'int32'), [n]);
    const valid = tf.logicalAnd(tf.greaterEqual(ids1, 0), tf.less(ids1, numSegments));
    const safeIds = tf.where(valid, ids1, tf.zerosLike(ids1));
    const x2 = tf.reshape(x, [n, ...inner]);
    // A multiplicative mask (tf.where with a broadcast condition is ~20x slower on wasm).
    const mask = tf.reshape(tf.cast(valid, x.dtype), [n, ...inner.map(() => 1)]);
    return tf.scatterND(tf.reshape(safeIds, [n, 1]), tf.mul(x2, mask), outShape);
  });
};

/**
 * DepthwiseConv2dNativeBackpropInput as one forward depthwise convolution of the zero-upsampled,
 * padded dy with the spatially flipped filter (channel multiplier M folded into the channels,
 * then summed).
 */
export const depthwiseConv2dNativeBackpropInputKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const { strides, dilations, pad, dimRoundingMode, inputShape } =
    attrs as unknown as DepthwiseConv2dNativeBackpropInputAttrs;
  return tf.tidy(() => {
    const dy = input(inputs, 'dy', backend as KernelBackend, 'DepthwiseConv2dNativeBackpropInput') as tf.Tensor4D;
    const filter = input(inputs, 'filter', backend as KernelBackend, 'DepthwiseConv2dNativeBackpropInput') as tf.Tensor4D;
    const { sh, sw, dh, dw, padInfo, feh, few } = depthwiseGeometry(inputShape, filter.shape as Shape4, { strides, dilations, pad, dimRoundingMode });
    const [fh, fw, c, m] = filter.shape;
    const [n, h, w] = inputShape;
    const [, ho, wo] = dy.shape;
    const up = zeroUpsample(dy, sh, sw); // [N, ho*sh, wo*sw, C*M]
    const top = feh - 1 - padInfo.top;
    const left = few - 1 - padInfo.left;
    const padded = padOrCrop4d(up, top, h + feh - 1 - top - ho * sh, left, w + few - 1 - left - wo * sw);
    const flipped = tf.reshape<tf.Rank.R4>(tf.reverse(filter, [0, 1]), [fh, fw, c * m, 1]);
    const dx = tf.depthwiseConv2d(padded, flipped, 1, 'valid', 'NHWC', [dh, dw]); // [N, H, W, C*M]
    return m === 1 ? dx : tf.sum(tf.reshape(dx, [n, h, w, c, m]), 4);
  });
};

/**
 * DepthwiseConv2dNativeBackpropFilter as one forward depthwise convolution: batch and channel
 * are folded into the channels of a single image ([1, Hp, Wp, N*C]), dy is the filter
 * ([Ho, Wo, N*C, M]) with the forward stride as dilation, and the batch is summed out.
 */
export const depthwiseConv2dNativeBackpropFilterKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const { strides, dilations, pad, dimRoundingMode, filterShape } =
    attrs as unknown as DepthwiseConv2dNativeBackpropFilterAttrs;
  return tf.tidy(() => {
    const x = input(inputs, 'x', backend as KernelBackend, 'DepthwiseConv2dNativeBackpropFilter') as tf.Tensor4D;
    const dy = input(inputs, 'dy', backend as KernelBackend, 'DepthwiseConv2dNativeBackpropFilter') as tf.Tensor4D;
    const { sh, sw, dh, dw, padInfo, feh, few } = depthwiseGeometry(x.shape as Shape4, filterShape, { strides, dilations, pad, dimRoundingMode });
    const [fh, fw, c, m] = filterShape;
    const [n, h, w] = x.shape;
    const [, ho, wo] = dy.shape;
    const needH = feh + (ho - 1) * sh;
    const needW = few + (wo - 1) * sw;
    const xt = tf.reshape<tf.Rank.R4>(tf.transpose(x, [1, 2, 0, 3]), [1, h, w, n * c]);
    const xp = padOrCrop4d(xt, padInfo.top, needH - h - padInfo.top, padInfo.left, needW - w - padInfo.left);
    const dyt = tf.reshape<tf.Rank.R4>(
      tf.transpose(tf.reshape(dy, [n, ho, wo, c, m]), [1, 2, 0, 3, 4]),
      [ho, wo, n * c, m],
    );
    let out: tf.Tensor4D = tf.depthwiseConv2d(xp, dyt, 1, 'valid', 'NHWC', [sh, sw]); // [1, feh, few, N*C*M]
    if (dh > 1 || dw > 1) {
      out = tf.stridedSlice(out, [0, 0, 0, 0], [1, feh, few, n * c * m], [1, dh, dw, 1]) as tf.Tensor4D;
    }
    return tf.sum(tf.reshape(out, [fh, fw, n, c, m]), 2);
  });
};

/** The kernels enableWasmTraining can add, in registration order. */
export const WASM_TRAINING_KERNEL_FUNCS: ReadonlyArray<{ kernelName: string; kernelFunc: KernelFunc }> = [
  { kernelName: 'Conv2DBackpropFilter', kernelFunc: conv2DBackpropFilterKernel },
  { kernelName: 'UnsortedSegmentSum', kernelFunc: unsortedSegmentSumKernel },
  { kernelName: 'DepthwiseConv2dNativeBackpropInput', kernelFunc: depthwiseConv2dNativeBackpropInputKernel },
  { kernelName: 'DepthwiseConv2dNativeBackpropFilter', kernelFunc: depthwiseConv2dNativeBackpropFilterKernel },
];

// ---------------------------------------------------------------------------------------------
// Opt-in replacements (enableWasmTraining({ fastConvTranspose, fastTile })): faster formulations
// of two kernels that wasm 4.22.0 does ship, but as plain loops instead of XNNPACK calls.

/**
 * Per-axis plan of the phase (sub-pixel) decomposition of a transposed convolution: output row
 * y (with the forward padding `before` added) is `q·s + p`; phase p uses the filter taps
 * a = p + s·t, t < taps, on dy rows q − t. All phases are one stride-1 'valid' convolution over
 * q ∈ [qMin, qMax] with `taps` rows per phase, computed on dy padded by (padBefore, padAfter).
 */
function phaseAxis(size: number, filter: number, stride: number, before: number, dySize: number) {
  const taps = Math.ceil(filter / stride);
  const qMin = Math.floor(before / stride);
  const qMax = Math.floor((size - 1 + before) / stride);
  return {
    taps,
    padBefore: taps - 1 - qMin,
    padAfter: qMax - dySize + 1,
    // Offset of output row 0 in the interleaved map of rows qMin·s .. (qMax+1)·s − 1.
    crop: before - qMin * stride,
  };
}

/**
 * Conv2DBackpropInput (the forward pass of conv2dTranspose and the input gradient of conv2d) as
 * ONE forward Conv2D (XNNPACK) plus one phase-interleaving Transpose, instead of wasm's own plain-loop
 * kernel: the stride·stride output phases of a strided transposed convolution are each a stride-1
 * convolution of dy with a sub-filter of ceil(f/s)² taps; the sub-filters are stacked along the
 * output channels ([tH, tW, Cout, sH·sW·Cin]) so one conv computes every phase, and the phases
 * are interleaved (one Transpose) and cropped to the padding. No multiplication by inserted zeros
 * (the zero-upsampling formulation does sH·sW times more work).
 */
export const conv2DBackpropInputKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as Conv2DBackpropInputAttrs;
  return tf.tidy(() => {
    const dyIn = input(inputs, 'dy', backend as KernelBackend, 'Conv2DBackpropInput') as tf.Tensor4D;
    const filter = input(inputs, 'filter', backend as KernelBackend, 'Conv2DBackpropInput') as tf.Tensor4D;
    const conv = tf.backend_util.convertConv2DDataFormat(dataFormat ?? 'NHWC');
    const info = tf.backend_util.computeConv2DInfo(inputShape, filter.shape as Shape4, strides, 1, pad, dimRoundingMode, false, conv);
    const { filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw, padInfo, inHeight: h, inWidth: w, inChannels: ci, batchSize: n } = info;
    const co = filter.shape[3];
    const dy = nhwc(dyIn, dataFormat);
    const [, ho, wo] = dy.shape;
    const ay = phaseAxis(h, fh, sh, padInfo.top, ho);
    const ax = phaseAxis(w, fw, sw, padInfo.left, wo);
    // Sub-filters: F[u, v, co, (py, px, ci)] = W[py + sH·(tH−1−u), px + sW·(tW−1−v), ci, co], 0 past the filter.
    const sub = phaseSubFilter(filter, ay.taps, ax.taps, sh, sw);
    const dyp = padOrCrop4d(dy, ay.padBefore, ay.padAfter, ax.padBefore, ax.padAfter);
    const z = tf.conv2d(dyp, sub, 1, 'valid'); // [N, Qh, Qw, sH·sW·Cin]
    const [, qh, qw] = z.shape;
    // Interleave the phases: [N·Qh, Qw, sH, sW·Cin] -> [N·Qh, sH, Qw, sW·Cin] is row qy·sH + py,
    // column qx·sW + px. (wasm's DepthToSpace is a plain loop, ~30x slower than this Transpose.)
    const full: tf.Tensor4D =
      sh === 1 && sw === 1
        ? z
        : tf.reshape(tf.transpose(tf.reshape(z, [n * qh, qw, sh, sw * ci]), [0, 2, 1, 3]), [n, qh * sh, qw * sw, ci]);
    let dx: tf.Tensor4D = full;
    if (ay.crop !== 0 || ax.crop !== 0 || qh * sh !== h || qw * sw !== w) dx = tf.slice(full, [0, ay.crop, ax.crop, 0], [n, h, w, ci]);
    return dataFormat === 'NCHW' ? tf.transpose(dx, [0, 3, 1, 2]) : dx;
  });
};

/**
 * Tile as one broadcasting Add (XNNPACK) onto zeros: every axis with reps > 1 is split into
 * [reps, size] and x is given size 1 on the reps part; adjacent axes of the same kind are merged
 * so the rank stays small. Float32 and int32 only; `fallback` (wasm's own kernel) does the rest,
 * and any shape that would need more than 6 dimensions.
 */
export function makeTileKernel(fallback: KernelFunc | undefined): KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args;
    const { reps } = attrs as unknown as { reps: number[] };
    const info = inputs.x as TensorInfo;
    const shape = info.shape;
    // Build the broadcast shapes: out dims and x dims (1 where x is repeated).
    const outDims: number[] = [];
    const xDims: number[] = [];
    const push = (o: number, xd: number) => {
      const last = outDims.length - 1;
      const lastBroadcast = last >= 0 && xDims[last] === 1 && (outDims[last] as number) > 1;
      const thisBroadcast = xd === 1 && o > 1;
      if (o === 1) return;
      if (last >= 0 && lastBroadcast === thisBroadcast) {
        outDims[last] = (outDims[last] as number) * o;
        xDims[last] = (xDims[last] as number) * xd;
      } else {
        outDims.push(o);
        xDims.push(xd);
      }
    };
    shape.forEach((d, i) => {
      const r = reps[i] ?? 1;
      if (r > 1 && d > 1) {
        push(r, 1);
        push(d, d);
      } else push(d * r, r > 1 ? 1 : d);
    });
    const outShape = shape.map((d, i) => d * (reps[i] ?? 1));
    const ok = (info.dtype === 'float32' || info.dtype === 'int32') && outDims.length <= 6 && reps.length === shape.length;
    if (!ok || outShape.some((d) => d === 0)) {
      if (!fallback) throw new Error(`Tile: no fallback kernel for dtype ${info.dtype} and reps ${JSON.stringify(reps)}.`);
      return fallback(args);
    }
    return tf.tidy(() => {
      const x = asTensor(info, backend as KernelBackend);
      const xb = tf.reshape(x, xDims.length ? xDims : [1]);
      const zeros = tf.zeros(outDims.length ? outDims : [1], info.dtype);
      return tf.reshape(tf.add(zeros, xb), outShape);
    });
  };
}
