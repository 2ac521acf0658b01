import * as tf from '@tensorflow/tfjs-core';
import { PiqConfigError } from '../errors';
import { finiteNumber, optionKeys, optionsObject, positiveInt } from '../internal/checks';
import { toLogitsAdapter } from '../classifier/scoring';
import type { ScoringClassifier } from '../classifier/classifier-adapter';
import type { LogitsAdapter } from '../classifier/types';
import type { ClassifierInput } from '../classifier/image-input';
import { explainInChunks, explainWith, normalizeMaps, readExplanation, targetOneHot } from './common';
import type { AttributionMethod, ExplainOptions, ExplainResult } from './types';

/**
 * Options of {@link Occlusion}.
 * @category Baselines
 */
export interface OcclusionOptions {
  /**
   * Side of the square occluding window, in pixels (clipped to the image size).
   * @defaultValue 8
   */
  window?: number;
  /**
   * Step between window positions, in pixels; at most `window`, so every pixel is covered.
   * @defaultValue the window size (non-overlapping windows)
   */
  stride?: number;
  /**
   * Value written into the occluded window (all channels).
   * @defaultValue 0
   */
  fillValue?: number;
}

const OCCLUSION_KEYS = optionKeys<OcclusionOptions>({ window: true, stride: true, fillValue: true });

/**
 * Resolved {@link OcclusionOptions} (`stride` undefined means "equal to the window").
 * @category Baselines
 */
export interface OcclusionConfig {
  window: number;
  stride: number | undefined;
  fillValue: number;
}

/**
 * Defaults of {@link OcclusionOptions}.
 */
export const DEFAULT_OCCLUSION_OPTIONS: Readonly<OcclusionConfig> = Object.freeze({ window: 8, stride: undefined, fillValue: 0 });

function resolveOcclusionConfig(options: OcclusionOptions | undefined): OcclusionConfig {
  const o = 'Occlusion';
  optionsObject(o, options, OCCLUSION_KEYS);
  const window = positiveInt(o, 'window', options?.window ?? DEFAULT_OCCLUSION_OPTIONS.window);
  const rawStride = options?.stride ?? DEFAULT_OCCLUSION_OPTIONS.stride;
  const stride = rawStride === undefined ? undefined : positiveInt(o, 'stride', rawStride);
  if (stride !== undefined && stride > window) {
    throw new PiqConfigError(
      `${o}: 'stride' must be <= 'window' (${window}) so that every pixel is occluded at least once, got ${stride}. Lower the stride or widen the window.`,
    );
  }
  return { window, stride, fillValue: finiteNumber(o, 'fillValue', options?.fillValue ?? DEFAULT_OCCLUSION_OPTIONS.fillValue) };
}

/** Start offsets of windows of `size` along an axis of `extent`, the last one flush with the end. */
function windowStarts(extent: number, size: number, stride: number): number[] {
  const starts: number[] = [];
  for (let s = 0; s + size <= extent; s += stride) starts.push(s);
  if ((starts[starts.length - 1] as number) + size < extent) starts.push(extent - size);
  return starts;
}

/**
 * Occlusion (Zeiler & Fergus 2014, arXiv 1311.2901): slides a `window × window` patch filled with
 * `fillValue` over the input and records the drop of the target logit, `f_c(x) − f_c(x_occluded)`.
 * Each pixel gets the mean drop over the windows covering it; the map is clipped at 0 (only
 * evidence for the class counts) and min-max normalised per example to [0, 1].
 *
 * Windows start every `stride` pixels, plus one flush with the bottom/right edge when the
 * stride does not reach it. Costs one forward pass per window position; several positions are
 * stacked into one pass when `batchSize` allows.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { Occlusion } from 'piq-tfjs';
 * // one class whose logit is pixel (0, 1) of a 2x2 image
 * const classifier = (x: tf.Tensor) => tf.reshape(tf.slice(x, [0, 0, 1, 0], [-1, 1, 1, 1]), [-1, 1]);
 * const r = await new Occlusion(classifier, { window: 1 }).explain(tf.ones([1, 2, 2, 1]));
 * console.log(Array.from(r.mask)); // [0, 1, 0, 0]
 * ```
 * @category Baselines
 */
export class Occlusion implements AttributionMethod {
  readonly name = 'occlusion';
  /** The resolved options. */
  readonly config: Readonly<OcclusionConfig>;
  private readonly classifier: LogitsAdapter;

  /** Wraps a classifier (adapter or logits function); the classifier is never modified. */
  constructor(classifier: ScoringClassifier, options?: OcclusionOptions) {
    this.classifier = toLogitsAdapter('Occlusion', classifier);
    this.config = Object.freeze(resolveOcclusionConfig(options));
  }

  /** Occlusion masks `[batch, height, width]` in [0, 1] for a batch, one example or pixels, as plain data (nothing to dispose). */
  async explain(inputs: ClassifierInput, options?: ExplainOptions): Promise<ExplainResult> {
    return readExplanation(this.masks('Occlusion.explain', inputs, options));
  }

  /** The masks of {@link Occlusion.explain} as a tensor `[batch, height, width]` the caller disposes. */
  async explainTensors(inputs: ClassifierInput, options?: ExplainOptions): Promise<tf.Tensor3D> {
    return this.masks('Occlusion.explainTensors', inputs, options);
  }

  private masks(owner: string, inputs: ClassifierInput, options: ExplainOptions | undefined): Promise<tf.Tensor3D> {
    return explainWith(owner, this.classifier, inputs, options, async (ctx) => {
      const logits = this.classifier.logits;
      const [height, width] = [ctx.inputs.shape[1] as number, ctx.inputs.shape[2] as number];
      const winH = Math.min(this.config.window, height);
      const winW = Math.min(this.config.window, width);
      const strideH = Math.min(this.config.stride ?? this.config.window, winH);
      const strideW = Math.min(this.config.stride ?? this.config.window, winW);
      const positions: [number, number][] = [];
      for (const r of windowStarts(height, winH, strideH)) for (const c of windowStarts(width, winW, strideW)) positions.push([r, c]);
      // Window indicator maps [positions, height * width] and how many windows cover each pixel.
      const windowData = new Float32Array(positions.length * height * width);
      const cover = new Float32Array(height * width);
      positions.forEach(([r0, c0], p) => {
        for (let r = r0; r < r0 + winH; r++) {
          for (let c = c0; c < c0 + winW; c++) {
            windowData[p * height * width + r * width + c] = 1;
            cover[r * width + c] = (cover[r * width + c] as number) + 1;
          }
        }
      });
      const fill = this.config.fillValue;
      const channelShape = ctx.inputs.rank === 4 ? [1] : [];

      return explainInChunks(ctx, (x, start, size) => {
        const windows = tf.tensor2d(windowData, [positions.length, height * width]);
        const oneHot = targetOneHot(ctx, start, size, () => logits(x));
        const score = (batch: tf.Tensor) => tf.sum(tf.mul(logits(batch), oneHot), 1); // [size]
        const base = score(x);
        const group = Math.max(1, Math.floor(ctx.batchSize / size));
        let sum: tf.Tensor = tf.zeros([size, height * width]);
        for (let p0 = 0; p0 < positions.length; p0 += group) {
          const g = Math.min(group, positions.length - p0);
          const next = tf.tidy(() => {
            const w = tf.slice(windows, p0, g); // [g, h*w]
            const occ = tf.reshape(w, [g, 1, height, width, ...channelShape]);
            const tiled = tf.add(tf.mul(tf.expandDims(x, 0), tf.sub(1, occ)), tf.mul(occ, fill)); // [g, size, ...]
            const flat = tf.reshape(tiled, [g * size, ...x.shape.slice(1)]);
            const scores = tf.reshape(tf.sum(tf.mul(tf.reshape(logits(flat), [g, size, ctx.numClasses]), oneHot), 2), [g, size]);
            const drops = tf.sub(base, scores); // [g, size]
            // Pre-transposed operand: matMul with transposeA is much slower on wasm.
            return tf.add(sum, tf.matMul(tf.transpose(drops), w)); // [size, h*w]
          });
          sum.dispose();
          sum = next;
        }
        const mean = tf.div(sum, tf.tensor1d(cover));
        return normalizeMaps(tf.reshape(tf.relu(mean), [size, height, width]) as tf.Tensor3D);
      });
    });
  }
}
