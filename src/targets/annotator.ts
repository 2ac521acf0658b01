import * as tf from '@tensorflow/tfjs-core';
import { PiqConfigError, PiqInputError } from '../errors';
import { boolean, describe, finiteNumber, optionKeys, optionsObject, positiveInt, shapeStr } from '../internal/checks';
import { floatTensor, rankIn } from '../internal/tensor-checks';
import type { Target } from './targets';

/**
 * A frozen annotation model: anything that maps an image batch `[batch, height, width, channels]`
 * to soft masks `[batch, h, w, k]` in [0, 1] (one channel per concept, any resolution). A function,
 * a `tf.LayersModel` (called through `predict`, i.e. in inference mode) or a `tf.GraphModel`-like
 * object (`predict` or `execute`). It must be synchronous; it is never differentiated or trained.
 * @category Targets
 */
export type Annotator =
  | ((input: tf.Tensor4D) => tf.Tensor)
  | {
      /** Inference on a batch (a `tf.LayersModel`'s or `tf.GraphModel`'s `predict`). */
      predict(input: tf.Tensor): tf.Tensor | tf.Tensor[] | tf.NamedTensorMap;
    }
  | {
      /** Inference on a batch (a `tf.GraphModel`'s `execute`). */
      execute(input: tf.Tensor): tf.Tensor | tf.Tensor[];
    };

/**
 * Options of {@link annotatorTarget}.
 * @category Targets
 */
export interface AnnotatorTargetOptions {
  /**
   * Which annotation channel is the concept of each class: one channel index for every class, or an
   * array indexed by class whose entries are a channel index or `null` (no concept: the target is empty).
   * @defaultValue 0 (channel 0 for every class)
   */
  concepts?: number | readonly (number | null)[];
  /** Resize the input bilinearly to this `[height, width]` before calling the annotator (for fixed-size models). @defaultValue undefined (the input as is) */
  inputSize?: readonly [number, number];
  /** Examples per annotator call (use 1 for models with a fixed batch of 1). @defaultValue undefined (the whole batch at once) */
  batchSize?: number;
  /** Cache the resized annotation of each example, keyed by a fingerprint of its pixels, so each distinct example is annotated once. @defaultValue false */
  cache?: boolean;
  /** Most examples kept in the cache; the oldest are dropped first. @defaultValue 10000 */
  maxCacheEntries?: number;
  /** Annotator values may leave [0, 1] by this much (rounding) before they are an error; they are then clipped. @defaultValue 0.001 */
  tolerance?: number;
  /** The registered name written when the interpreter is saved (see {@link registerTarget}). @defaultValue 'annotator' */
  name?: string;
}

const ANNOTATOR_KEYS = optionKeys<AnnotatorTargetOptions>({ concepts: true, inputSize: true, batchSize: true, cache: true, maxCacheEntries: true, tolerance: true, name: true });

/**
 * Default values of the optional {@link AnnotatorTargetOptions} fields.
 */
export const DEFAULT_ANNOTATOR_TARGET_OPTIONS = Object.freeze({
  concepts: 0 as number | readonly (number | null)[],
  cache: false,
  maxCacheEntries: 10000,
  tolerance: 0.001,
  name: 'annotator',
});

/**
 * The resolved, JSON options of an annotator target (what `getConfig()` returns).
 * @category Targets
 */
export interface AnnotatorTargetConfig {
  concepts: number | (number | null)[];
  inputSize: [number, number] | null;
  batchSize: number | null;
  cache: boolean;
  maxCacheEntries: number;
  tolerance: number;
}

/**
 * Counters of an annotator target's cache.
 * @category Targets
 */
export interface AnnotatorCacheStats {
  /** Examples held. */
  entries: number;
  /** Examples served from the cache. */
  hits: number;
  /** Examples that were annotated (not in the cache, or caching off). */
  misses: number;
}

/**
 * A {@link Target} backed by an annotation model, with cache controls.
 * @category Targets
 */
export interface AnnotatorTarget extends Target {
  /** Cache counters (`hits` and `misses` are counted with caching off too). */
  cacheStats(): AnnotatorCacheStats;
  /** Empties the cache and resets the counters. */
  clearCache(): void;
}

const OWNER = 'annotatorTarget';
const COMPUTE = 'annotatorTarget.compute';

function resolveAnnotatorOptions(options: AnnotatorTargetOptions): AnnotatorTargetConfig & { name: string } {
  if (typeof options !== 'object' || options === null) {
    throw new PiqConfigError(`${OWNER}: 'options' must be an object like { concepts: 0 }, got ${describe(options)}.`);
  }
  optionsObject(OWNER, options, ANNOTATOR_KEYS);
  const c = options.concepts ?? DEFAULT_ANNOTATOR_TARGET_OPTIONS.concepts;
  let concepts: number | (number | null)[];
  if (typeof c === 'number') {
    if (!Number.isInteger(c) || c < 0) throw new PiqConfigError(`${OWNER}: 'concepts' must be a channel index (integer >= 0) or an array of them per class, got ${describe(c)}.`);
    concepts = c;
  } else if (Array.isArray(c)) {
    if (c.length === 0) throw new PiqConfigError(`${OWNER}: 'concepts' must list one channel (or null) per class, got an empty array.`);
    concepts = c.map((v: unknown, i: number) => {
      if (v === null) return null;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
        throw new PiqConfigError(`${OWNER}: 'concepts[${i}]' must be a channel index (integer >= 0) or null (no concept), got ${describe(v)}.`);
      }
      return v;
    });
  } else {
    throw new PiqConfigError(`${OWNER}: 'concepts' must be a channel index or an array of channel indices (or null) per class, got ${describe(c)}.`);
  }
  let inputSize: [number, number] | null = null;
  if (options.inputSize !== undefined) {
    const s = options.inputSize as unknown;
    if (!Array.isArray(s) || s.length !== 2) throw new PiqConfigError(`${OWNER}: 'inputSize' must be [height, width], got ${describe(s)}.`);
    inputSize = [positiveInt(OWNER, 'inputSize[0]', s[0]), positiveInt(OWNER, 'inputSize[1]', s[1])];
  }
  const batchSize = options.batchSize === undefined ? null : positiveInt(OWNER, 'batchSize', options.batchSize);
  const cache = boolean(OWNER, 'cache', options.cache ?? DEFAULT_ANNOTATOR_TARGET_OPTIONS.cache);
  const maxCacheEntries = positiveInt(OWNER, 'maxCacheEntries', options.maxCacheEntries ?? DEFAULT_ANNOTATOR_TARGET_OPTIONS.maxCacheEntries);
  const tolerance = finiteNumber(OWNER, 'tolerance', options.tolerance ?? DEFAULT_ANNOTATOR_TARGET_OPTIONS.tolerance, { min: 0 });
  const name = options.name ?? DEFAULT_ANNOTATOR_TARGET_OPTIONS.name;
  if (typeof name !== 'string' || name.length === 0) throw new PiqConfigError(`${OWNER}: 'name' must be a non-empty string, got ${describe(name)}.`);
  return { concepts, inputSize, batchSize, cache, maxCacheEntries, tolerance, name };
}

/** Turns the annotator into a plain function returning one tensor (or throws a PiqInputError). */
function toAnnotateFn(annotator: Annotator): (x: tf.Tensor4D) => unknown {
  if (typeof annotator === 'function') return annotator;
  if (typeof annotator === 'object' && annotator !== null) {
    const a = annotator as { predict?: unknown; execute?: unknown };
    if (typeof a.predict === 'function') return (x) => (a.predict as (x: tf.Tensor) => unknown).call(annotator, x);
    if (typeof a.execute === 'function') return (x) => (a.execute as (x: tf.Tensor) => unknown).call(annotator, x);
  }
  throw new PiqConfigError(
    `${OWNER}: 'annotator' must be a function (x) => masks, a tf.LayersModel or a tf.GraphModel (an object with predict or execute), got ${describe(annotator)}.`,
  );
}

/**
 * A 64-bit fingerprint (two independent 32-bit hashes) of one example's float32 bits and shape.
 * Two different examples collide with probability about 2^-64 per pair.
 */
function fingerprint(bits: Uint32Array, start: number, length: number, shape: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x9747b28c ^ length;
  for (let i = start; i < start + length; i++) {
    const v = bits[i] as number;
    h1 = Math.imul(h1 ^ v, 0x01000193);
    let k = Math.imul(v, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h2 ^= Math.imul(k, 0x1b873593);
    h2 = (h2 << 13) | (h2 >>> 19);
    h2 = (Math.imul(h2, 5) + 0xe6546b64) | 0;
  }
  h2 ^= h2 >>> 16;
  h2 = Math.imul(h2, 0x85ebca6b);
  h2 ^= h2 >>> 13;
  return `${shape}:${(h1 >>> 0).toString(36)}:${(h2 >>> 0).toString(36)}`;
}

/**
 * A mask-mode {@link Target} that learns concepts from a pretrained annotation (segmentation) model:
 * the annotator's soft masks `[batch, h, w, k]` are resized bilinearly to the input's (= the decoder
 * output's) height × width and, per example, the channel of the *predicted* class's concept is taken
 * (`concepts`), giving `[batch, height, width, 1]`. Pass it as `createInterpreter({ classifier, target })`;
 * the interpreter then learns to draw, through the class-restricted codebook, the region of the concept
 * of the class the classifier chose. Train with `maskTargetLoss` (BCE, the default, or Dice).
 *
 * The annotator is frozen: it is called outside the gradient tape, `tf.LayersModel`s through `predict`
 * (inference mode), in chunks of `batchSize`. Its output is checked at every call: a tensor of rank 4
 * with the input's batch size, a consistent channel count that covers every channel named in `concepts`,
 * values in [0, 1] (± `tolerance`, then clipped) and no NaN; otherwise a PiqInputError names what is wrong.
 *
 * With `cache: true` each example's resized annotation (all channels) is kept on the CPU, keyed by a
 * 64-bit fingerprint of its float32 pixel values and shape. Keying by content is sound for a
 * deterministic annotator (the same pixels always give the same annotation), survives the trainer's
 * reshuffling and re-batching (tensor identity would not), and needs no example ids; the price is one
 * read-back of the input batch per call. Later epochs then never call the annotator. No tensor is held,
 * so there is nothing to dispose; `clearCache()` frees the memory.
 *
 * The annotator itself is not saved with the interpreter: pass the target again to `loadInterpreter`
 * (`{ classifier, target }`), or register a factory under `name` with `registerTarget`.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { annotatorTarget } from 'piq-tfjs';
 * // a 2-channel "annotator": channel 0 = bright pixels, channel 1 = dark pixels
 * const annotator = (x: tf.Tensor4D) => tf.concat([tf.step(tf.sub(x, 0.5)), tf.step(tf.sub(0.5, x))], 3);
 * const target = annotatorTarget(annotator, { concepts: [0, 1] }); // class 0 → bright, class 1 → dark
 * const x = tf.tensor4d([0.9, 0.1, 0.2, 0.8], [1, 2, 2, 1]);
 * const t = target.compute(x, { predictedClass: tf.tensor1d([1], 'int32') });
 * console.log(Array.from(t.dataSync())); // [0, 1, 1, 0]
 * ```
 * @category Targets
 */
export function annotatorTarget(annotator: Annotator, options: AnnotatorTargetOptions = {}): AnnotatorTarget {
  const annotate = toAnnotateFn(annotator);
  const { name, ...config } = resolveAnnotatorOptions(options);
  const cache = new Map<string, Float32Array>();
  let hits = 0;
  let misses = 0;
  let channels: number | undefined;

  /** Runs the annotator on a batch, checks its output and returns it resized to [b, H, W, k], clipped to [0, 1]. */
  const run = (x: tf.Tensor4D): tf.Tensor4D => {
    const [b, H, W] = x.shape;
    const chunk = config.batchSize ?? b;
    const parts: tf.Tensor4D[] = [];
    try {
      for (let s = 0; s < b; s += chunk) {
        const n = Math.min(chunk, b - s);
        const expected = channels ?? parts[0]?.shape[3];
        parts.push(
          tf.tidy(() => {
            const xs = n === b ? x : (tf.slice(x, [s, 0, 0, 0], [n, -1, -1, -1]) as tf.Tensor4D);
            const xin = config.inputSize ? (tf.image.resizeBilinear(xs, config.inputSize, false, true) as tf.Tensor4D) : xs;
            let out = annotate(xin) as unknown;
            if (Array.isArray(out) && out.length === 1) out = out[0];
            if (!(out instanceof tf.Tensor)) {
              throw new PiqInputError(
                `${COMPUTE}: the annotator's output must be one tf.Tensor [batch, height, width, concepts], got ${describe(out)}. Wrap a multi-output model in a function that returns the mask tensor.`,
              );
            }
            rankIn(COMPUTE, 'annotator output', out, [4], `[batch, height, width, concepts]${out.rank === 3 ? '; add a channel axis with tf.expandDims(mask, -1)' : ''}`);
            const o = out as tf.Tensor4D;
            if (o.shape[0] !== n) {
              throw new PiqInputError(
                `${COMPUTE}: the annotator output's batch must equal its input's (${n}), got shape ${shapeStr(o.shape)}.${o.shape[0] === 1 ? " Set 'batchSize: 1' for a model with a fixed batch of 1." : ''}`,
              );
            }
            const k = o.shape[3];
            if (expected !== undefined && k !== expected) {
              throw new PiqInputError(`${COMPUTE}: the annotator output must keep ${expected} channels from call to call, got shape ${shapeStr(o.shape)}.`);
            }
            const of = o.dtype === 'float32' ? o : (tf.cast(o, 'float32') as tf.Tensor4D);
            const [lo, hi, nan] = tf.stack([tf.min(of), tf.max(of), tf.cast(tf.any(tf.isNaN(of)), 'float32')]).dataSync() as Float32Array;
            if ((nan as number) > 0) throw new PiqInputError(`${COMPUTE}: the annotator output must not contain NaN, got NaN. Check the annotator's input range and preprocessing.`);
            if ((lo as number) < -config.tolerance || (hi as number) > 1 + config.tolerance) {
              throw new PiqInputError(
                `${COMPUTE}: the annotator output must be soft masks in [0, 1], got values in [${lo}, ${hi}]. Apply tf.sigmoid to logits (or tf.softmax over concepts), or rescale.`,
              );
            }
            const sized = o.shape[1] === H && o.shape[2] === W ? of : (tf.image.resizeBilinear(of, [H, W], false, true) as tf.Tensor4D);
            return tf.clipByValue(sized, 0, 1) as tf.Tensor4D;
          }),
        );
      }
    } catch (e) {
      tf.dispose(parts);
      throw e;
    }
    const k = (parts[0] as tf.Tensor4D).shape[3];
    channels ??= k;
    const maxChannel = typeof config.concepts === 'number' ? config.concepts : Math.max(-1, ...config.concepts.map((c) => c ?? -1));
    if (maxChannel >= k) {
      tf.dispose(parts);
      throw new PiqInputError(`${COMPUTE}: the annotator output must have a channel for every concept (channel ${maxChannel} is named in 'concepts'), got ${k} channel${k === 1 ? '' : 's'}.`);
    }
    if (parts.length === 1) return parts[0] as tf.Tensor4D;
    const all = tf.concat(parts, 0) as tf.Tensor4D;
    tf.dispose(parts);
    return all;
  };

  /** The annotation of a batch, through the cache when it is on. */
  const annotations = (x: tf.Tensor4D): tf.Tensor4D => {
    const [b, H, W, C] = x.shape;
    if (!config.cache) {
      misses += b;
      return run(x);
    }
    const bits = new Uint32Array((x.dataSync() as Float32Array).slice().buffer);
    const per = H * W * C;
    const shape = `${H}x${W}x${C}`;
    const keys = Array.from({ length: b }, (_, i) => fingerprint(bits, i * per, per, shape));
    const missing: number[] = [];
    const seen = new Set<string>();
    keys.forEach((key, i) => {
      if (!cache.has(key) && !seen.has(key)) {
        missing.push(i);
        seen.add(key);
      }
    });
    if (missing.length > 0) {
      const fresh = tf.tidy(() => run(tf.gather(x, tf.tensor1d(missing, 'int32')) as tf.Tensor4D));
      const values = fresh.dataSync() as Float32Array;
      const k = fresh.shape[3];
      fresh.dispose();
      const size = H * W * k;
      missing.forEach((i, j) => {
        if (cache.size >= config.maxCacheEntries) {
          const oldest = cache.keys().next().value as string;
          cache.delete(oldest);
        }
        cache.set(keys[i] as string, values.slice(j * size, (j + 1) * size));
      });
      misses += missing.length;
    }
    hits += b - missing.length;
    const k = channels as number;
    const size = H * W * k;
    const out = new Float32Array(b * size);
    // Entries for this batch were just inserted, so even a tiny cache still holds every key here
    // unless the batch alone exceeds maxCacheEntries; then annotate again rather than fail.
    if (keys.some((key) => !cache.has(key))) return run(x);
    keys.forEach((key, i) => out.set(cache.get(key) as Float32Array, i * size));
    return tf.tensor4d(out, [b, H, W, k]);
  };

  return {
    name,
    getConfig: () => ({ ...config, concepts: Array.isArray(config.concepts) ? [...config.concepts] : config.concepts, inputSize: config.inputSize ? [...config.inputSize] : null }),
    cacheStats: () => ({ entries: cache.size, hits, misses }),
    clearCache: () => {
      cache.clear();
      hits = 0;
      misses = 0;
    },
    compute: (input, info) => {
      const x = floatTensor(COMPUTE, 'input', input) as tf.Tensor4D;
      rankIn(COMPUTE, 'input', x, [4], '[batch, height, width, channels]');
      const b = x.shape[0];
      const pc = info?.predictedClass as unknown;
      if (!(pc instanceof tf.Tensor) || pc.rank !== 1 || pc.shape[0] !== b) {
        throw new PiqInputError(`${COMPUTE}: 'predictedClass' must be a 1-D tensor of ${b} class indices (one per example), got ${describe(pc)}.`);
      }
      const ann = annotations(x);
      const k = ann.shape[3];
      const concepts = config.concepts;
      if (typeof concepts === 'number') {
        if (k === 1) return ann;
        const one = tf.slice(ann, [0, 0, 0, concepts], [-1, -1, -1, 1]) as tf.Tensor4D;
        ann.dispose();
        return one;
      }
      // Per-example channel choice as a one-hot row over channels (no gradient flows through a target,
      // so a weighted sum is enough; a null concept is an all-zero row, i.e. an empty target).
      const classes = pc.dataSync();
      const select = new Float32Array(b * k);
      for (let i = 0; i < b; i++) {
        const c = classes[i] as number;
        if (!Number.isInteger(c) || c < 0 || c >= concepts.length) {
          ann.dispose();
          throw new PiqInputError(
            `${COMPUTE}: every 'predictedClass' must have an entry in 'concepts' (${concepts.length} classes), got class ${c}. List one channel (or null) per class of the classifier.`,
          );
        }
        const ch = concepts[c];
        if (ch !== null && ch !== undefined) select[i * k + ch] = 1;
      }
      const t = tf.tidy(() => tf.sum(tf.mul(ann, tf.tensor4d(select, [b, 1, 1, k])), 3, true) as tf.Tensor4D);
      ann.dispose();
      return t;
    },
  };
}
