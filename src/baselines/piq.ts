import * as tf from '@tensorflow/tfjs-core';
import type { Interpreter } from '../api/interpreter';
import { PiqConfigError, PiqStateError } from '../errors';
import { boolean, describe } from '../internal/checks';
import { isTensor, tidyObject } from '../internal/tensor-checks';
import { toLogitsAdapter } from '../classifier/scoring';
import { normalizeMaps, prepareExplain } from './common';
import type { AttributionMethod, ExplainOptions } from './types';

/**
 * Options of {@link PiqAttribution}.
 * @category Baselines
 */
export interface PiqAttributionOptions {
  /**
   * Min-max normalise each mask to [0, 1] like the gradient baselines do. Off by default: PIQ's
   * mask is already in [0, 1] (a sigmoid output) and its absolute values mean something (how much
   * of each pixel the interpretation keeps), which mask-in metrics such as AD use.
   * @defaultValue false
   */
  normalize?: boolean;
}

/**
 * Resolved {@link PiqAttributionOptions}.
 * @category Baselines
 */
export interface PiqAttributionConfig {
  normalize: boolean;
}

/**
 * Defaults of {@link PiqAttributionOptions}.
 * @category Baselines
 */
export const DEFAULT_PIQ_ATTRIBUTION_OPTIONS: Readonly<PiqAttributionConfig> = Object.freeze({ normalize: false });

const OWNER = 'PiqAttribution';

function isInterpreterLike(value: unknown): value is Interpreter {
  if (typeof value !== 'object' || value === null) return false;
  const model = (value as { model?: unknown }).model;
  return (
    typeof model === 'object' &&
    model !== null &&
    typeof (model as { forward?: unknown }).forward === 'function' &&
    typeof (model as { classifier?: unknown }).classifier === 'object' &&
    typeof (value as { isDisposed?: unknown }).isDisposed === 'boolean'
  );
}

/**
 * A trained PIQ {@link Interpreter} behind the {@link AttributionMethod} interface, so PIQ goes
 * through the same metrics and benchmark loop as the baselines: `explain` returns the
 * interpreter's masks `[batch, height, width]` in [0, 1] (the same values as
 * `Interpreter.interpret(...).mask`).
 *
 * Two differences from the baselines:
 * - **Target.** PIQ always explains the class the classifier predicts (its codebook is
 *   partitioned by that decision), so it cannot explain another class. A `target` is accepted
 *   only when it equals the predicted class of every example; otherwise `explain` throws a
 *   {@link PiqConfigError}.
 * - **Normalisation.** Masks are returned as the interpreter produces them (not min-max
 *   normalised) unless `normalize: true`. In reconstruction mode the mask is the channel mean of
 *   the reconstruction, so it is close to the input's intensity on what the classifier used.
 *
 * The interpreter is never trained, modified or disposed; dispose it yourself when done.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { createInterpreter, PiqAttribution, evaluateInterpretations } from 'piq-tfjs';
 * const interpreter = await createInterpreter({ classifier: model, featureLayer: 'features' });
 * await interpreter.fit(trainImages, { epochs: 3 });
 * const piq = new PiqAttribution(interpreter);
 * const masks = await piq.explain(testImages, { batchSize: 64 });
 * console.log(piq.name, masks.shape); // 'piq' [100, 28, 28]
 * const report = await evaluateInterpretations(interpreter.classifier, testImages, masks);
 * masks.dispose();
 * ```
 * @category Baselines
 */
export class PiqAttribution implements AttributionMethod {
  readonly name = 'piq';
  readonly config: Readonly<PiqAttributionConfig>;
  private readonly interpreter: Interpreter;

  /** Wraps a (trained) interpreter; throws {@link PiqConfigError} when `interpreter` is not one. */
  constructor(interpreter: Interpreter, options: PiqAttributionOptions = {}) {
    if (!isInterpreterLike(interpreter)) {
      throw new PiqConfigError(
        `${OWNER}: 'interpreter' must be an Interpreter (from createInterpreter or loadInterpreter), got ${describe(interpreter)}.`,
      );
    }
    if (typeof options !== 'object' || options === null) {
      throw new PiqConfigError(`${OWNER}: 'options' must be an object, got ${describe(options)}.`);
    }
    this.interpreter = interpreter;
    this.config = Object.freeze({
      normalize: boolean(OWNER, 'normalize', options.normalize ?? DEFAULT_PIQ_ATTRIBUTION_OPTIONS.normalize),
    });
  }

  /**
   * PIQ masks `[batch, height, width]` in [0, 1] for inputs `[batch, height, width, channels]`
   * (or `[batch, height, width]` for a single-channel classifier), computed `batchSize` examples
   * at a time.
   */
  async explain(inputs: tf.Tensor, options?: ExplainOptions): Promise<tf.Tensor3D> {
    const owner = `${OWNER}.explain`;
    if (this.interpreter.isDisposed) {
      throw new PiqStateError(`${owner}: the interpreter was disposed. Create or load a new one and wrap it again.`);
    }
    const model = this.interpreter.model;
    const [H, W, C] = model.classifier.inputShape as [number, number, number];
    // A single-channel classifier also takes [batch, height, width]: add the channel axis.
    const expanded =
      isTensor(inputs) && !inputs.isDisposed && inputs.rank === 3 && C === 1 ? tf.expandDims(inputs, 3) : undefined;
    const parts: tf.Tensor3D[] = [];
    try {
      const ctx = prepareExplain(owner, toLogitsAdapter(owner, model.classifier), expanded ?? inputs, options);
      for (let start = 0; start < ctx.count; start += ctx.batchSize) {
        const size = Math.min(ctx.batchSize, ctx.count - start);
        const r = tidyObject(() => {
          const x = tf.slice(ctx.inputs, start, size) as tf.Tensor4D;
          const f = model.forward(x, false);
          const raw = tf.clipByValue(tf.reshape(f.mask, [size, H, W]), 0, 1) as tf.Tensor3D;
          return { mask: this.config.normalize ? normalizeMaps(raw) : raw, predicted: f.predictedClass };
        });
        parts.push(r.mask);
        if (ctx.targets === undefined) {
          r.predicted.dispose();
        } else {
          const predicted = await r.predicted.data();
          r.predicted.dispose();
          for (let i = 0; i < size; i++) {
            const want = ctx.targets[start + i] as number;
            const got = predicted[i] as number;
            if (want !== got) {
              throw new PiqConfigError(
                `${owner}: 'target' must equal the predicted class of every example (PIQ explains only the classifier's ` +
                  `decision), got ${want} for example ${start + i}, whose predicted class is ${got}. Omit 'target'.`,
              );
            }
          }
        }
        // Yield between chunks so long explanations do not block an event loop or a UI.
        await Promise.resolve();
      }
      if (parts.length === 1) return parts.pop() as tf.Tensor3D;
      return tf.concat(parts, 0);
    } finally {
      tf.dispose(parts);
      expanded?.dispose();
    }
  }
}

/**
 * Wraps a trained PIQ {@link Interpreter} as an {@link AttributionMethod} named `'piq'`: the
 * function form of `new PiqAttribution(interpreter, options)`.
 *
 * PIQ is not in {@link createAttributionMethod}'s table because it needs a trained interpreter,
 * not just a classifier.
 *
 * @example
 * ```ts
 * import { createAttributionMethod, piqAttribution } from 'piq-tfjs';
 * const methods = [piqAttribution(interpreter), createAttributionMethod('saliency', interpreter.classifier)];
 * for (const m of methods) {
 *   const masks = await m.explain(images);
 *   console.log(m.name, masks.shape); // 'piq' [8, 28, 28], then 'saliency' [8, 28, 28]
 *   masks.dispose();
 * }
 * ```
 * @category Baselines
 */
export function piqAttribution(interpreter: Interpreter, options?: PiqAttributionOptions): PiqAttribution {
  return new PiqAttribution(interpreter, options);
}
