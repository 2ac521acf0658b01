import * as tf from '@tensorflow/tfjs-core';
import { PiqConfigError } from '../errors';
import { describe, optionKeys, optionsObject } from '../internal/checks';
import { createRegistry } from '../internal/registry';
import { tidyObject } from '../internal/tensor-checks';
import {
  codebookLoss,
  commitmentLoss,
  fidelityLoss,
  lmacLoss,
  maskTargetLoss,
  reconstructionLoss,
  sparsityLoss,
  totalVariationLoss,
} from './builtin';
import { faithfulnessTerm, type FaithfulnessTermOptions } from './faithfulness-terms';
import type { CombinedLossResult, Loss, LossContext, WeightedLoss } from './types';

/**
 * Creates a loss from its JSON options (what {@link Loss.getConfig} returned).
 * @category Losses
 */
export type LossFactory = (config: Record<string, unknown>) => Loss;

const registry = createRegistry<Loss>({ register: 'registerLoss', create: 'createLoss', noun: 'loss', type: 'Loss' }, [
  ['reconstruction', (c) => reconstructionLoss(c)],
  ['maskTarget', (c) => maskTargetLoss(c)],
  ['codebook', () => codebookLoss()],
  ['commitment', () => commitmentLoss()],
  ['fidelity', () => fidelityLoss()],
  ['sparsity', () => sparsityLoss()],
  ['totalVariation', () => totalVariationLoss()],
  ['lmac', (c) => lmacLoss(c)],
  ['faithfulnessTerm', (c) => faithfulnessTerm(c as unknown as FaithfulnessTermOptions)],
]);

/**
 * Registers a loss factory under a name, so interpreters trained with that loss can be saved and
 * loaded (the artifact stores the name and the loss's `getConfig()`). Register before `loadInterpreter`.
 * Re-registering a name replaces the factory; built-in names cannot be replaced.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { registerLoss, createLoss } from 'piq-tfjs';
 * registerLoss('codeSpread', (config) => ({
 *   name: 'codeSpread',
 *   getConfig: () => config,
 *   compute: (ctx) => tf.neg(tf.mean(tf.square(ctx.encoded))),
 * }));
 * console.log(createLoss('codeSpread', {}).name); // codeSpread
 * ```
 * @category Losses
 */
export function registerLoss(name: string, factory: LossFactory): void {
  registry.register(name, factory);
}

/**
 * Names of all registered losses (built-in and custom).
 * @example
 * ```ts
 * import { registeredLosses } from 'piq-tfjs';
 * console.log(registeredLosses().includes('reconstruction')); // true
 * ```
 * @category Losses
 */
export function registeredLosses(): string[] {
  return registry.names();
}

/**
 * Instantiates a registered loss by name.
 * @example
 * ```ts
 * import { createLoss } from 'piq-tfjs';
 * console.log(createLoss('reconstruction', { kind: 'l1' }).getConfig()); // { kind: 'l1' }
 * ```
 * @category Losses
 */
export function createLoss(name: string, config: Record<string, unknown> = {}): Loss {
  return registry.create(name, config);
}

/**
 * JSON form of a weighted loss list, as saved in artifacts.
 * @category Losses
 */
export interface LossSpec {
  name: string;
  weight: number;
  config: Record<string, unknown>;
  key: string;
}

/**
 * A weighted sum of losses with a named breakdown.
 * @category Losses
 */
export interface CombinedLoss {
  /** The terms, in order. */
  readonly items: ReadonlyArray<Required<WeightedLoss>>;
  /** Total and weighted terms for one step's context. */
  compute(ctx: LossContext): CombinedLossResult;
  /** JSON description (names, weights, configs) recreated by {@link lossesFromSpec}. */
  getSpec(): LossSpec[];
}

const WEIGHTED_LOSS_KEYS = optionKeys<WeightedLoss>({ loss: true, weight: true, key: true });

/**
 * Combines weighted losses into one total with a named breakdown. Terms of weight 0 are skipped
 * (not computed), so an optional term costs nothing when off.
 *
 * @example
 * ```ts
 * import { combineLosses, reconstructionLoss, codebookLoss, commitmentLoss } from 'piq-tfjs';
 * const loss = combineLosses([
 *   { loss: reconstructionLoss(), weight: 1 },
 *   { loss: codebookLoss(), weight: 1 },
 *   { loss: commitmentLoss(), weight: 1 },
 * ]);
 * console.log(loss.getSpec().map((s) => s.key)); // ['reconstruction', 'codebook', 'commitment']
 * ```
 * @category Losses
 */
export function combineLosses(items: WeightedLoss[]): CombinedLoss {
  if (!Array.isArray(items) || items.length === 0) {
    throw new PiqConfigError(`combineLosses: 'items' must be a non-empty array of { loss, weight }, got ${describe(items)}.`);
  }
  const used = new Set<string>();
  const resolved = items.map((it, i) => {
    if (typeof it === 'object' && it !== null) optionsObject('combineLosses', it, WEIGHTED_LOSS_KEYS, `items[${i}]`);
    if (!it || typeof it.loss?.compute !== 'function' || typeof it.loss.name !== 'string' || typeof it.loss.getConfig !== 'function') {
      throw new PiqConfigError(`combineLosses: 'items[${i}].loss' must be a Loss ({ name, compute, getConfig }), got ${describe(it?.loss)}.`);
    }
    if (typeof it.weight !== 'number' || !Number.isFinite(it.weight)) {
      throw new PiqConfigError(`combineLosses: 'items[${i}].weight' must be a finite number, got ${describe(it.weight)}.`);
    }
    let key: string;
    if (it.key !== undefined) {
      if (typeof it.key !== 'string' || it.key.length === 0) {
        throw new PiqConfigError(`combineLosses: 'items[${i}].key' must be a non-empty string, got ${describe(it.key)}.`);
      }
      if (used.has(it.key)) {
        throw new PiqConfigError(`combineLosses: 'items[${i}].key' must be unique among the terms, got '${it.key}' twice. Give each term its own key.`);
      }
      key = it.key;
    } else {
      // Repeats of a name get `_2`, `_3`… (skipping keys already taken explicitly).
      key = it.loss.name;
      for (let n = 2; used.has(key); n++) key = `${it.loss.name}_${n}`;
    }
    used.add(key);
    return { loss: it.loss, weight: it.weight, key };
  });
  return {
    items: resolved,
    compute(ctx) {
      // One tidy: a loss that throws midway leaves no earlier term behind.
      return tidyObject(() => {
        const terms: Record<string, tf.Scalar> = {};
        const parts: tf.Scalar[] = [];
        for (const it of resolved) {
          if (it.weight === 0) continue;
          const v = it.loss.compute(ctx);
          if (!(v instanceof tf.Tensor) || v.rank !== 0) {
            throw new PiqConfigError(
              `CombinedLoss.compute: loss '${it.key}' must return a scalar tensor, got ${describe(v)}. Reduce it with tf.mean or tf.sum.`,
            );
          }
          // Always a new tensor: a loss may (against the contract) return one of the context's tensors.
          const w = (it.weight === 1 ? tf.clone(v) : tf.mul(v, it.weight)) as tf.Scalar;
          terms[it.key] = w;
          parts.push(w);
        }
        const total = (parts.length === 0 ? tf.scalar(0) : parts.length === 1 ? tf.clone(parts[0] as tf.Scalar) : tf.addN(parts)) as tf.Scalar;
        return { total, terms };
      });
    },
    getSpec: () => resolved.map((it) => ({ name: it.loss.name, weight: it.weight, config: it.loss.getConfig(), key: it.key })),
  };
}

/**
 * Recreates a {@link CombinedLoss} from its spec through the registry.
 * @example
 * ```ts
 * import { lossesFromSpec } from 'piq-tfjs';
 * const loss = lossesFromSpec([{ name: 'sparsity', weight: 0.1, config: {}, key: 'sparsity' }]);
 * console.log(loss.items[0].weight); // 0.1
 * ```
 * @category Losses
 */
export function lossesFromSpec(spec: LossSpec[]): CombinedLoss {
  if (!Array.isArray(spec)) throw new PiqConfigError(`lossesFromSpec: 'spec' must be an array, got ${describe(spec)}.`);
  return combineLosses(
    spec.map((s, i) => {
      if (typeof s !== 'object' || s === null || typeof s.name !== 'string') {
        throw new PiqConfigError(`lossesFromSpec: 'spec[${i}]' must be a LossSpec ({ name, weight, config, key }), got ${describe(s)}.`);
      }
      return { loss: createLoss(s.name, s.config ?? {}), weight: s.weight, key: s.key };
    }),
  );
}
