import * as tf from '@tensorflow/tfjs-core';
import { PiqConfigError } from '../errors';
import { describe, finiteNumber, optionKeys, optionsObject } from '../internal/checks';
import { createRegistry } from '../internal/registry';
import { floatTensor, rankIn } from '../internal/tensor-checks';

/**
 * What a mask-mode interpreter learns to output: a function of the input batch (and the
 * classifier's decision) to a target in [0, 1] shaped like the decoder output
 * `[batch, height, width, 1 or channels]`. Built-in: {@link energyMask}. Annotation models plug in here.
 * @category Targets
 */
export interface Target {
  /** Registered name (see {@link registerTarget}). */
  readonly name: string;
  /** The target for a batch; a new tensor the caller owns. Never differentiated. */
  compute(input: tf.Tensor4D, info: { predictedClass: tf.Tensor1D }): tf.Tensor4D;
  /** JSON options that recreate the target through its registered factory. */
  getConfig(): Record<string, unknown>;
}

/**
 * Options of {@link energyMask}.
 * @category Targets
 */
export interface EnergyMaskOptions {
  /** Fraction τ of the per-example maximum above which a bin is 1, in [0, 1]. @defaultValue 0.35 */
  threshold?: number;
}

const ENERGY_MASK_KEYS = optionKeys<EnergyMaskOptions>({ threshold: true });

/**
 * Default values of the optional {@link EnergyMaskOptions} fields (τ of the reference audio recipe).
 */
export const DEFAULT_ENERGY_MASK_OPTIONS = Object.freeze({ threshold: 0.35 });

/**
 * The reference audio target: `T = 1[X > τ · max X]`, per example (the maximum over the whole
 * example, channels reduced by their maximum). τ = 0.35 on log1p-magnitude spectrograms in the reference.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { energyMask } from 'piq-tfjs';
 * const x = tf.tensor4d([0, 1, 2, 4], [1, 2, 2, 1]);
 * const t = energyMask({ threshold: 0.35 }).compute(x, { predictedClass: tf.tensor1d([0], 'int32') });
 * console.log(Array.from(t.dataSync())); // [0, 0, 1, 1]  (4 · 0.35 = 1.4)
 * ```
 * @category Targets
 */
export function energyMask(options: EnergyMaskOptions = {}): Target {
  if (typeof options !== 'object' || options === null) {
    throw new PiqConfigError(`energyMask: 'options' must be an object like { threshold: 0.35 }, got ${describe(options)}.`);
  }
  optionsObject('energyMask', options, ENERGY_MASK_KEYS);
  const threshold = finiteNumber('energyMask', 'threshold', options.threshold ?? DEFAULT_ENERGY_MASK_OPTIONS.threshold, { min: 0, max: 1 });
  return {
    name: 'energyMask',
    getConfig: () => ({ threshold }),
    compute: (input) => {
      const x = floatTensor('energyMask.compute', 'input', input);
      rankIn('energyMask.compute', 'input', x, [4], '[batch, height, width, channels]');
      return tf.tidy(() => {
        const m = x.shape[3] === 1 ? x : tf.max(x, -1, true);
        const peak = tf.max(m, [1, 2, 3], true);
        return tf.cast(tf.greater(m, tf.mul(peak, threshold)), 'float32') as tf.Tensor4D;
      });
    },
  };
}

/**
 * The input itself as the target (reconstruction mode).
 * @example
 * ```ts
 * import { inputTarget } from 'piq-tfjs';
 * console.log(inputTarget().name); // input
 * ```
 * @category Targets
 */
export function inputTarget(): Target {
  return { name: 'input', getConfig: () => ({}), compute: (input) => tf.clone(input) };
}

/**
 * Creates a target from its JSON options.
 * @category Targets
 */
export type TargetFactory = (config: Record<string, unknown>) => Target;

const registry = createRegistry<Target>({ register: 'registerTarget', create: 'createTarget', noun: 'target', type: 'Target' }, [
  ['energyMask', (c) => energyMask(c as EnergyMaskOptions)],
  ['input', () => inputTarget()],
]);

/**
 * Registers a target factory so interpreters trained with it can be saved and loaded by name.
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { registerTarget, createTarget } from 'piq-tfjs';
 * registerTarget('centre', () => ({
 *   name: 'centre', getConfig: () => ({}),
 *   compute: (x) => tf.tidy(() => tf.pad(tf.ones([x.shape[0], 2, 2, 1]), [[0, 0], [1, 1], [1, 1], [0, 0]]) as tf.Tensor4D),
 * }));
 * console.log(createTarget('centre', {}).name); // centre
 * ```
 * @category Targets
 */
export function registerTarget(name: string, factory: TargetFactory): void {
  registry.register(name, factory);
}

/**
 * Instantiates a registered target by name.
 * @example
 * ```ts
 * import { createTarget } from 'piq-tfjs';
 * console.log(createTarget('energyMask', { threshold: 0.5 }).getConfig()); // { threshold: 0.5 }
 * ```
 * @category Targets
 */
export function createTarget(name: string, config: Record<string, unknown> = {}): Target {
  return registry.create(name, config);
}
