import * as tf from '@tensorflow/tfjs-core';
import { PiqConfigError } from '../errors';
import { describe } from '../internal/validate';
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
import type { CombinedLossResult, Loss, LossContext, WeightedLoss } from './types';

/**
 * Creates a loss from its JSON options (what {@link Loss.getConfig} returned).
 * @category Losses
 */
export type LossFactory = (config: Record<string, unknown>) => Loss;

const registry = new Map<string, LossFactory>([
  ['reconstruction', (c) => reconstructionLoss(c)],
  ['maskTarget', (c) => maskTargetLoss(c)],
  ['codebook', () => codebookLoss()],
  ['commitment', () => commitmentLoss()],
  ['fidelity', () => fidelityLoss()],
  ['sparsity', () => sparsityLoss()],
  ['totalVariation', () => totalVariationLoss()],
  ['lmac', (c) => lmacLoss(c)],
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
  if (typeof name !== 'string' || name.length === 0) {
    throw new PiqConfigError(`registerLoss: 'name' must be a non-empty string, got ${describe(name)}.`);
  }
  if (typeof factory !== 'function') {
    throw new PiqConfigError(`registerLoss: 'factory' must be a function (config) => Loss, got ${describe(factory)}.`);
  }
  if (BUILTIN.has(name)) {
    throw new PiqConfigError(`registerLoss: 'name' must not be a built-in loss name, got '${name}'. Choose another name.`);
  }
  registry.set(name, factory);
}
const BUILTIN = new Set(registry.keys());

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
  return [...registry.keys()];
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
  const factory = registry.get(name);
  if (!factory) {
    throw new PiqConfigError(
      `createLoss: 'name' must be a registered loss (${registeredLosses().map((n) => `'${n}'`).join(', ')}), got ${describe(name)}. Call registerLoss first for custom losses.`,
    );
  }
  return factory(config);
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
  const seen = new Map<string, number>();
  const resolved = items.map((it, i) => {
    if (!it || typeof it.loss?.compute !== 'function' || typeof it.loss.name !== 'string') {
      throw new PiqConfigError(`combineLosses: 'items[${i}].loss' must be a Loss ({ name, compute, getConfig }), got ${describe(it?.loss)}.`);
    }
    if (typeof it.weight !== 'number' || !Number.isFinite(it.weight)) {
      throw new PiqConfigError(`combineLosses: 'items[${i}].weight' must be a finite number, got ${describe(it.weight)}.`);
    }
    let key = it.key ?? it.loss.name;
    const n = (seen.get(key) ?? 0) + 1;
    seen.set(key, n);
    if (n > 1 && it.key === undefined) key = `${key}_${n}`;
    return { loss: it.loss, weight: it.weight, key };
  });
  return {
    items: resolved,
    compute(ctx) {
      const terms: Record<string, tf.Scalar> = {};
      const parts: tf.Scalar[] = [];
      for (const it of resolved) {
        if (it.weight === 0) continue;
        const v = it.loss.compute(ctx);
        const w = it.weight === 1 ? v : (tf.mul(v, it.weight) as tf.Scalar);
        if (w !== v) v.dispose();
        terms[it.key] = w;
        parts.push(w);
      }
      const total = (parts.length === 0 ? tf.scalar(0) : parts.length === 1 ? tf.clone(parts[0] as tf.Scalar) : tf.addN(parts)) as tf.Scalar;
      return { total, terms };
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
  return combineLosses(spec.map((s) => ({ loss: createLoss(s.name, s.config), weight: s.weight, key: s.key })));
}
