// Shared argument checks on plain values. Every public entry point validates once, at its boundary,
// with messages of the form `<owner>: '<name>' must <expected>, got <actual>. <fix>`.
// No tfjs import (also at run time): the visualize subpath uses this module and must not load tfjs.
import { PiqConfigError, PiqInputError, PiqStateError } from '../errors';

/** Whether a value looks like a tf.Tensor (checked by shape, so this module never imports tfjs). */
function tensorLike(value: object): value is { dtype: string; shape: number[] } {
  const v = value as { dtype?: unknown; shape?: unknown; rank?: unknown };
  return typeof v.dtype === 'string' && Array.isArray(v.shape) && typeof v.rank === 'number';
}

/** Renders a value for an error message, compactly. */
export function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (typeof value === 'object' && tensorLike(value)) return `a ${value.dtype} tensor of shape [${value.shape.join(', ')}]`;
  if (ArrayBuffer.isView(value)) {
    const kind = Object.prototype.toString.call(value).slice(8, -1);
    return 'length' in value ? `a ${kind} of length ${(value as unknown as ArrayLike<unknown>).length}` : `a ${kind}`;
  }
  return `an object (${Object.prototype.toString.call(value).slice(8, -1)})`;
}

/** `[2, 3]` for a shape. */
export function shapeStr(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** A positive integer option (PiqConfigError otherwise). */
export function positiveInt(owner: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new PiqConfigError(`${owner}: '${name}' must be a positive integer, got ${describe(value)}.`);
  }
  return value;
}

/** A non-negative integer option (PiqConfigError otherwise). */
export function nonNegativeInt(owner: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new PiqConfigError(`${owner}: '${name}' must be a non-negative integer, got ${describe(value)}.`);
  }
  return value;
}

/** A positive integer describing the data (width, height, frames, …): PiqInputError otherwise. */
export function dimension(owner: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new PiqInputError(`${owner}: '${name}' must be a positive integer, got ${describe(value)}.`);
  }
  return value;
}

/** A finite number option, optionally within a range (PiqConfigError otherwise). */
export function finiteNumber(
  owner: string,
  name: string,
  value: unknown,
  range: { min?: number; max?: number; minExclusive?: boolean } = {},
): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new PiqConfigError(`${owner}: '${name}' must be a finite number, got ${describe(value)}.`);
  }
  const { min, max, minExclusive } = range;
  if (min !== undefined && (minExclusive ? value <= min : value < min)) {
    throw new PiqConfigError(`${owner}: '${name}' must be ${minExclusive ? '>' : '>='} ${min}, got ${value}.`);
  }
  if (max !== undefined && value > max) {
    throw new PiqConfigError(`${owner}: '${name}' must be <= ${max}, got ${value}.`);
  }
  return value;
}

/** A boolean option (PiqConfigError otherwise). */
export function boolean(owner: string, name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') {
    throw new PiqConfigError(`${owner}: '${name}' must be true or false, got ${describe(value)}.`);
  }
  return value;
}

/** One of a list of names (PiqConfigError listing the choices otherwise). */
export function oneOf<T extends string | number>(owner: string, name: string, value: unknown, choices: readonly T[]): T {
  if ((typeof value !== 'string' && typeof value !== 'number') || !(choices as readonly unknown[]).includes(value)) {
    throw new PiqConfigError(
      `${owner}: '${name}' must be one of ${choices.map((c) => (typeof c === 'string' ? `'${c}'` : String(c))).join(', ')}, got ${describe(value)}.`,
    );
  }
  return value as T;
}

/**
 * The option names of an options interface `T`, written once next to it. The compiler checks the
 * list against the interface: a missing or extra name is a type error, so the list cannot drift.
 */
export function optionKeys<T extends object>(keys: { readonly [K in keyof Required<T>]: true }): readonly string[] {
  return Object.freeze(Object.keys(keys));
}

/** Edit distance (optimal string alignment: insertions, deletions, substitutions, transpositions), case-insensitive. */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  const d: number[][] = Array.from({ length: s.length + 1 }, (_, i) => Array.from({ length: t.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= s.length; i++) {
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      const row = d[i] as number[];
      const prev = d[i - 1] as number[];
      let v = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) v = Math.min(v, ((d[i - 2] as number[])[j - 2] as number) + 1);
      row[j] = v;
    }
  }
  return (d[s.length] as number[])[t.length] as number;
}

/**
 * The known name closest to `name`, when it is close enough to be a typo: an edit distance of at
 * most 2 (1 for names of up to 4 characters), or equal ignoring case. Undefined otherwise.
 */
export function closestName(name: string, known: readonly string[]): string | undefined {
  const limit = name.length <= 4 ? 1 : 2;
  let best: { key: string; distance: number } | undefined;
  for (const key of known) {
    const distance = editDistance(name, key);
    if (distance <= limit && (best === undefined || distance < best.distance)) best = { key, distance };
  }
  return best?.key;
}

/**
 * The one check of an options object at a public boundary: `value` must be a plain object (or
 * undefined, read as `{}`) whose keys are all among `known`. An unknown key (a typo silently
 * ignored would train or draw with a default the caller did not ask for) throws PiqConfigError
 * naming it and the closest known option: `Trainer.fit: 'options' must have only known keys, got
 * 'epoch'. Did you mean 'epochs'?`.
 */
export function optionsObject<T extends object>(owner: string, value: T | undefined, known: readonly string[], name = 'options'): Partial<T> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value) || tensorLike(value)) {
    throw new PiqConfigError(`${owner}: '${name}' must be an object, got ${describe(value)}.`);
  }
  for (const key of Object.keys(value)) {
    if (known.includes(key)) continue;
    const near = closestName(key, known);
    const hint = near !== undefined ? `Did you mean '${near}'?` : `Known keys: ${known.map((k) => `'${k}'`).join(', ') || '(none)'}.`;
    throw new PiqConfigError(`${owner}: '${name}' must have only known keys, got '${key}'. ${hint}`);
  }
  return value;
}

/** Throws PiqInputError naming `name` and the index of the first NaN/Infinity. */
export function checkFiniteArray(owner: string, name: string, data: ArrayLike<number>): void {
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      throw new PiqInputError(
        `${owner}: '${name}' must contain only finite values, got ${describe(data[i])} at index ${i}. Clean the input first.`,
      );
    }
  }
}

/**
 * The one dispose guard: throws PiqStateError `<Owner>.<method>: the <what> was disposed. <fix>`
 * when an object is used after its `dispose()`.
 */
export function assertLive(disposed: boolean, owner: string, method: string, what: string, fix: string): void {
  if (disposed) throw new PiqStateError(`${owner}.${method}: the ${what} was disposed. ${fix}`);
}
