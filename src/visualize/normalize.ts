// Value-range handling shared by heatmap, toRgba, maskOverlay and spectrogramImage.
import { PiqConfigError } from '../errors';
import type { NumericArray } from './types';
import { describe } from '../internal/checks';

/** A range bound: a number, or 'auto' for the data's own minimum / maximum. */
export type RangeBound = number | 'auto';

export function rangeBound(owner: string, name: string, value: unknown): RangeBound {
  if (value === 'auto') return value;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new PiqConfigError(`${owner}: '${name}' must be a finite number or 'auto', got ${describe(value)}.`);
  }
  return value;
}

/**
 * Resolves [min, max] against finite data. Explicit bounds must satisfy min < max. When a bound
 * is 'auto' and the data is constant, the range collapses; `scale` is then 0 and every value maps
 * to t = 0.
 */
export function resolveRange(
  owner: string,
  names: { min: string; max: string },
  values: NumericArray,
  min: RangeBound,
  max: RangeBound,
): { offset: number; scale: number } {
  let lo = min;
  let hi = max;
  if (lo === 'auto' || hi === 'auto') {
    let dataMin = Infinity;
    let dataMax = -Infinity;
    for (let i = 0; i < values.length; i++) {
      const v = values[i] as number;
      if (v < dataMin) dataMin = v;
      if (v > dataMax) dataMax = v;
    }
    if (lo === 'auto') lo = dataMin;
    if (hi === 'auto') hi = dataMax;
  }
  if (min !== 'auto' && max !== 'auto' && !(lo < hi)) {
    throw new PiqConfigError(
      `${owner}: '${names.min}' must be less than '${names.max}', got ${names.min} = ${lo} and ${names.max} = ${hi}.`,
    );
  }
  return { offset: lo, scale: hi > lo ? 1 / (hi - lo) : 0 };
}
