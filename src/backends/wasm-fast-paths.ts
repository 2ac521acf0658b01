// Faster formulations inside two of the wasm kernels of wasm-training-kernels.ts, measured with
// `npm run bench:kernels` (bench/wasm-fast-paths.ts; numbers in docs/performance.md):
//  - phaseSubFilter: the sub-filters of the phase decomposition of a transposed convolution, built
//    by one plain loop over the filter values instead of a 6-D Reverse + Transpose on wasm (whose
//    rank > 4 kernels are slow loops: ~3 ms for a [4, 4, 32, 64] filter).
//  - filterGradientNarrow: Conv2DBackpropFilter of a stride-1 conv with 1 to 3 output channels
//    (a decoder's output conv, 16 -> 1 or 3), as a conv whose OUTPUT channels are the input
//    channels. The usual formulation has the output channels there, and XNNPACK's GEMM tiles are
//    8 columns wide, so 1 column wastes 7/8 of the work.
import * as tf from '@tensorflow/tfjs-core';

/**
 * Internal switches, for before/after measurements only (`npm run bench:kernels` turns them off
 * and on in one process); not exported from the package.
 */
export const WASM_FAST_PATHS = { loopSubFilter: true, narrowFilterGradient: true };

/**
 * Sub-filters of a strided transposed convolution's phases, stacked along the output channels:
 * `F[u, v, co, (py, px, ci)] = W[py + sH·(tH − 1 − u), px + sW·(tW − 1 − v), ci, co]`, 0 past the
 * filter. `filter` is `[fh, fw, ci, co]`; the result is `[tH, tW, co, sH·sW·ci]`.
 */
export function phaseSubFilter(filter: tf.Tensor, tH: number, tW: number, sh: number, sw: number): tf.Tensor4D {
  if (!WASM_FAST_PATHS.loopSubFilter) return phaseSubFilterOps(filter, tH, tW, sh, sw);
  const [fh, fw, ci, co] = filter.shape as [number, number, number, number];
  const w = filter.dataSync() as Float32Array;
  const inner = sh * sw * ci;
  const out = new Float32Array(tH * tW * co * inner);
  for (let u = 0; u < tH; u++) {
    for (let py = 0; py < sh; py++) {
      const a = py + sh * (tH - 1 - u);
      if (a >= fh) continue;
      for (let v = 0; v < tW; v++) {
        for (let px = 0; px < sw; px++) {
          const b = px + sw * (tW - 1 - v);
          if (b >= fw) continue;
          const src = (a * fw + b) * ci * co;
          const dst = (u * tW + v) * co * inner + (py * sw + px) * ci;
          for (let c = 0; c < ci; c++) {
            for (let o = 0; o < co; o++) out[dst + o * inner + c] = w[src + c * co + o] as number;
          }
        }
      }
    }
  }
  return tf.tensor4d(out, [tH, tW, co, inner]);
}

/** The same sub-filters with tf ops (pad, 6-D reshape, Reverse, Transpose): the former formulation. */
export function phaseSubFilterOps(filter: tf.Tensor, tH: number, tW: number, sh: number, sw: number): tf.Tensor4D {
  const [fh, fw, ci, co] = filter.shape as [number, number, number, number];
  const wp = tH * sh > fh || tW * sw > fw ? tf.pad(filter, [[0, tH * sh - fh], [0, tW * sw - fw], [0, 0], [0, 0]]) : filter;
  const w6 = tf.reverse(tf.reshape(wp, [tH, sh, tW, sw, ci, co]), [0, 2]);
  return tf.reshape<tf.Rank.R4>(tf.transpose(w6, [0, 2, 5, 1, 3, 4]), [tH, tW, co, sh * sw * ci]);
}

/**
 * Whether {@link filterGradientNarrow} is the faster formulation: at most 3 output channels (a
 * mask or an RGB image; XNNPACK's GEMM tiles are 8 wide) and at least 8 input channels. Measured
 * with 1 to 6 output channels: faster up to 3, even at 4, mixed at 6.
 */
export function preferNarrowFilterGradient(inChannels: number, outChannels: number): boolean {
  return WASM_FAST_PATHS.narrowFilterGradient && outChannels <= 3 && inChannels >= 8;
}

/**
 * The filter gradient of a stride-1, dilation-1 conv2d:
 * `dW[a, b, ci, co] = Σ_{n,i,j} xp[n, a + i, b + j, ci] · dy[n, i, j, co]`, with `xp` the input
 * already padded (or cropped) to `[N, fh + Ho − 1, fw + Wo − 1, Cin]` and `dy` `[N, Ho, Wo, Cout]`,
 * as ONE forward conv: input dy laid out `[Cout, Ho, Wo, N]` and padded by `f − 1` on each side,
 * filter xp laid out `[Hp, Wp, N, Cin]`. Output position (y, x) is tap (fh−1−y, fw−1−x), so the
 * `[Cout, fh, fw, Cin]` result is reversed spatially and transposed to `[fh, fw, Cin, Cout]`.
 */
export function filterGradientNarrow(xp: tf.Tensor4D, dy: tf.Tensor4D, fh: number, fw: number): tf.Tensor4D {
  const f = tf.transpose(xp, [1, 2, 0, 3]); // [Hp, Wp, N, Cin]
  const dyt = tf.pad(tf.transpose(dy, [3, 1, 2, 0]), [
    [0, 0],
    [fh - 1, fh - 1],
    [fw - 1, fw - 1],
    [0, 0],
  ]); // [Cout, Ho + 2(fh−1), Wo + 2(fw−1), N]
  const out = tf.conv2d(dyt as tf.Tensor4D, f as tf.Tensor4D, 1, 'valid'); // [Cout, fh, fw, Cin]
  return tf.transpose(tf.reverse(out, [1, 2]), [1, 2, 3, 0]);
}
