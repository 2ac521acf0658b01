import * as tf from '@tensorflow/tfjs-core';
import { PiqInputError } from '../errors';
import { shapeStr } from '../internal/checks';
import { assertFinite, floatTensor } from '../internal/tensor-checks';
import { toResult } from './context';
import type { MetricResult } from './types';

/** Validates a batch of masks `[batch, ...]` (float32, rank >= 2, finite) for mask-only metrics. */
export function checkMaskBatch(owner: string, name: string, value: unknown): tf.Tensor {
  const m = floatTensor(owner, name, value);
  if (m.rank < 2 || m.shape[0] === 0) {
    throw new PiqInputError(
      `${owner}: '${name}' must be a non-empty batch [batch, ...maskShape], got shape ${shapeStr(m.shape)}. Add a batch dimension.`,
    );
  }
  assertFinite(owner, name, m);
  return m;
}

/** Gini index of |a| (Hurley & Rickard 2009): Σ (2i − n − 1) a_(i) / (n Σ a), a sorted ascending. */
export function giniIndex(values: ArrayLike<number>): number {
  const n = values.length;
  const a = Float64Array.from(values, Math.abs).sort();
  let total = 0;
  let weighted = 0;
  for (let i = 0; i < n; i++) {
    const v = a[i] as number;
    total += v;
    weighted += (2 * (i + 1) - n - 1) * v;
  }
  // An all-zero mask is the limit of a constant mask: perfectly dense, Gini 0.
  return total > 0 ? weighted / (n * total) : 0;
}

/** Shannon entropy (natural log) of |a| / Σ|a|, with 0 · ln 0 = 0. */
export function maskEntropy(values: ArrayLike<number>): number {
  const n = values.length;
  let total = 0;
  for (let i = 0; i < n; i++) total += Math.abs(values[i] as number);
  // An all-zero mask is the limit of a constant mask: the uniform distribution, entropy ln n.
  if (!(total > 0)) return Math.log(n);
  let h = 0;
  for (let i = 0; i < n; i++) {
    const q = Math.abs(values[i] as number) / total;
    if (q > 0) h -= q * Math.log(q);
  }
  return h;
}

function perMask(owner: string, masks: tf.Tensor, stat: (v: Float32Array) => number): MetricResult {
  const m = checkMaskBatch(owner, 'masks', masks);
  const b = m.shape[0] as number;
  const data = m.dataSync() as Float32Array;
  const size = data.length / b;
  const values = new Float32Array(b);
  for (let i = 0; i < b; i++) values[i] = stat(data.subarray(i * size, (i + 1) * size));
  return toResult(values);
}

/**
 * Sparseness (SPS): the Gini index of each flattened mask `|M|`, sorted ascending `a_1..a_n`:
 * `Σ_i (2i − n − 1) a_i / (n Σ_i a_i)` (higher is better: 0 for a flat mask, `1 − 1/n` for a
 * single non-zero element). An all-zero mask scores 0. Origin: Chalasani et al. (ICML 2020), as
 * Quantus' `Sparseness` (Hedström et al., JMLR 2023); used in the L-MAC paper's evaluation
 * (arXiv 2403.13086), not in the PIQ paper.
 *
 * Works on any finite masks `[batch, ...]` (signed attributions too, through `|M|`); every
 * element counts, so a full-shape mask `[batch, height, width, channels]` is scored over channels too.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { sparseness } from 'piq-tfjs';
 * const r = sparseness(tf.tensor2d([[0, 0, 0, 1], [1, 1, 1, 1]]));
 * console.log(Array.from(r.values)); // [0.75, 0]
 * ```
 * @category Metrics
 */
export function sparseness(masks: tf.Tensor): MetricResult {
  return perMask('sparseness', masks, giniIndex);
}

/**
 * Complexity (COMP): the entropy, in nats, of each flattened mask normalised to a distribution,
 * `−Σ_i q_i ln q_i` with `q = |M| / Σ|M|` and `0 · ln 0 = 0` (lower is better: 0 for a single
 * non-zero element, `ln n` for a flat mask). An all-zero mask scores `ln n`. Origin: Bhatt, Weller,
 * Moura (IJCAI 2020), as Quantus' `Complexity`; used in the L-MAC paper's evaluation (arXiv 2403.13086).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { complexity } from 'piq-tfjs';
 * const r = complexity(tf.tensor2d([[0, 0, 0, 1], [1, 1, 1, 1]]));
 * console.log(Array.from(r.values)); // [0, 1.3862943649291992]  (ln 4)
 * ```
 * @category Metrics
 */
export function complexity(masks: tf.Tensor): MetricResult {
  return perMask('complexity', masks, maskEntropy);
}
