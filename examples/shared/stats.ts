// Small numeric helpers shared by the audio example and the audio benchmark.

export function mean(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] as number;
  return a.length ? s / a.length : NaN;
}

export function pct(v: number): string {
  return `${(v * 100).toFixed(1)}%`;
}

export interface MaskValueStatistics {
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** Share of values ≥ 0.5. */
  fractionAbove05: number;
}

/** Distribution of mask values (all examples, all bins together). */
export function maskValueStatistics(mask: ArrayLike<number>): MaskValueStatistics {
  const sorted = Float32Array.from(mask).sort();
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number;
  let above = 0;
  for (let i = 0; i < mask.length; i++) if ((mask[i] as number) >= 0.5) above++;
  return { mean: mean(mask), p50: q(0.5), p90: q(0.9), p99: q(0.99), max: sorted[sorted.length - 1] as number, fractionAbove05: above / mask.length };
}
