// PIQ as an attribution method: a trained Interpreter behind the baselines' `explain` interface,
// at the level of the Interpreter it wraps (it uses only the Interpreter's public surface).
import * as tf from '@tensorflow/tfjs-core';
import { toLogitsAdapter } from '../classifier/scoring';
import type { ClassifierInput } from '../classifier/image-input';
import { explainInChunks, explainWith, normalizeMaps, readExplanation } from '../baselines/common';
import type { AttributionMethod, ExplainOptions, ExplainResult } from '../baselines/types';
import { PiqConfigError } from '../errors';
import { assertLive, boolean, describe, optionKeys, optionsObject } from '../internal/checks';
import { isTensor } from '../internal/tensor-checks';
import { Interpreter } from './interpreter';

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

const PIQ_ATTRIBUTION_KEYS = optionKeys<PiqAttributionOptions>({ normalize: true });

/**
 * Resolved {@link PiqAttributionOptions}.
 * @category Baselines
 */
export interface PiqAttributionConfig {
  normalize: boolean;
}

/**
 * Defaults of {@link PiqAttributionOptions}.
 */
export const DEFAULT_PIQ_ATTRIBUTION_OPTIONS: Readonly<PiqAttributionConfig> = Object.freeze({ normalize: false });

const OWNER = 'PiqAttribution';

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
 * const r = await piq.explain(testImages, { batchSize: 64 }); // plain data
 * console.log(piq.name, r.batch, r.maskShape); // 'piq' 100 [28, 28]
 * const masks = await piq.explainTensors(testImages); // the same masks as a tensor, for the metrics
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
    if (!(interpreter instanceof Interpreter)) {
      throw new PiqConfigError(
        `${OWNER}: 'interpreter' must be an Interpreter (from createInterpreter or loadInterpreter), got ${describe(interpreter)}.`,
      );
    }
    if (typeof options !== 'object' || options === null) {
      throw new PiqConfigError(`${OWNER}: 'options' must be an object, got ${describe(options)}.`);
    }
    optionsObject(OWNER, options, PIQ_ATTRIBUTION_KEYS);
    this.interpreter = interpreter;
    this.config = Object.freeze({
      normalize: boolean(OWNER, 'normalize', options.normalize ?? DEFAULT_PIQ_ATTRIBUTION_OPTIONS.normalize),
    });
  }

  /**
   * PIQ masks `[batch, height, width]` in [0, 1] as plain data (nothing to dispose), for a batch
   * `[batch, height, width, channels]` (or `[batch, height, width]` for a single-channel
   * classifier), one example, or pixels; computed `batchSize` examples at a time.
   */
  async explain(inputs: ClassifierInput, options?: ExplainOptions): Promise<ExplainResult> {
    return readExplanation(this.masks(`${OWNER}.explain`, inputs, options));
  }

  /** The masks of {@link PiqAttribution.explain} as a tensor `[batch, height, width]` the caller disposes. */
  async explainTensors(inputs: ClassifierInput, options?: ExplainOptions): Promise<tf.Tensor3D> {
    return this.masks(`${OWNER}.explainTensors`, inputs, options);
  }

  private async masks(owner: string, inputs: ClassifierInput, options: ExplainOptions | undefined): Promise<tf.Tensor3D> {
    assertLive(this.interpreter.isDisposed, OWNER, owner.slice(OWNER.length + 1), 'interpreter', 'Create or load a new one and wrap it again.');
    const classifier = this.interpreter.classifier;
    const model = this.interpreter.model;
    const [H, W, C] = classifier.inputShape as [number, number, number];
    // A single-channel classifier also takes [batch, height, width]: add the channel axis.
    const addChannel = (batch: unknown) =>
      isTensor(batch) && !batch.isDisposed && batch.rank === 3 && C === 1 ? { batch: tf.expandDims(batch, 3), owned: true } : { batch, owned: false };
    const predicted: tf.Tensor[] = [];
    try {
      return await explainWith(owner, toLogitsAdapter(owner, classifier), inputs, options, async (ctx) => {
        const masks = await explainInChunks(ctx, (x, _start, size) => {
          const f = model.forward(x as tf.Tensor4D, false);
          if (ctx.targets !== undefined) predicted.push(tf.keep(f.predictedClass));
          const raw = tf.clipByValue(tf.reshape(f.mask, [size, H, W]), 0, 1) as tf.Tensor3D;
          return this.config.normalize ? normalizeMaps(raw) : raw;
        });
        if (ctx.targets !== undefined) {
          const all = tf.concat(predicted);
          predicted.push(all);
          const got = await all.data();
          const bad = ctx.targets.findIndex((want, i) => want !== got[i]);
          if (bad >= 0) {
            masks.dispose();
            throw new PiqConfigError(
              `${owner}: 'target' must equal the predicted class of every example (PIQ explains only the classifier's ` +
                `decision), got ${ctx.targets[bad]} for example ${bad}, whose predicted class is ${got[bad]}. Omit 'target'.`,
            );
          }
        }
        return masks;
      }, addChannel);
    } finally {
      tf.dispose(predicted);
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
 *   const r = await m.explain(images);
 *   console.log(m.name, r.batch, r.maskShape); // 'piq' 8 [28, 28], then 'saliency' 8 [28, 28]
 * }
 * ```
 * @category Baselines
 */
export function piqAttribution(interpreter: Interpreter, options?: PiqAttributionOptions): PiqAttribution {
  return new PiqAttribution(interpreter, options);
}
