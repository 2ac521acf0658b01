// Faithfulness fine-tuning: a second training phase on a trained PIQ model that adds
// classifier-in-the-loop terms on the decoded mask to the model's own losses (issue #13).
// The model's parts (classifier, decoder, quantizer, target) are shared, never copied.
import { PiqConfigError } from '../errors';
import { finiteNumber, optionKeys, optionsObject } from '../internal/checks';
import { faithfulnessTerm } from '../losses/faithfulness-terms';
import { combineLosses } from '../losses/registry';
import { FIT_KEYS, type FitOptions } from './fit-options';
import { PiqModel } from './piq-model';

/**
 * Options of `Interpreter.finetune`: the weights of the classifier-in-the-loop terms, plus every
 * option of `fit` (`epochs`, `batchSize`, `learningRate`, `validationData`, `checkpoint`, …) with
 * fine-tuning defaults where noted.
 * @category Interpreter
 */
export interface FinetuneOptions extends FitOptions {
  /**
   * Weight of `CE(f(M ⊙ x), c)`: the classifier keeps its decision on the kept part.
   * @defaultValue 1
   */
  maskIn?: number;
  /**
   * Weight of `−log(1 − p_c((1 − M) ⊙ x))`: the classifier loses its decision on the removed part.
   * @defaultValue 1
   */
  maskOut?: number;
  /**
   * Weight of `mean |M|`.
   * @defaultValue 4
   */
  sparsity?: number;
  /**
   * Multiplier of the interpreter's own PIQ losses (target or reconstruction, codebook, commitment),
   * which keep the class-restricted codes and the decoder's link to the input.
   * @defaultValue 1
   */
  piqWeight?: number;
  /** @defaultValue 1 */
  epochs?: number;
  /** @defaultValue 2e-3 */
  learningRate?: number;
}

/**
 * Fine-tuning's own defaults: the row `1 / 1 / 4 / 1 / 0.002` of `npm run bench:finetune-sweep`
 * (bench/results/finetune-sweep.md), the one configuration of the sweep whose FF and deletion AUC
 * both reach the best baseline's on held-out MNIST training digits (docs/finetuning.md).
 */
export const FINETUNE_DEFAULTS = Object.freeze({ maskIn: 1, maskOut: 1, sparsity: 4, piqWeight: 1, epochs: 1, learningRate: 2e-3 });

/**
 * The resolved term weights of a fine-tuning, as recorded in the interpreter's configuration.
 * @category Interpreter
 */
export interface FinetuneWeights {
  maskIn: number;
  maskOut: number;
  sparsity: number;
  piqWeight: number;
}

const OWNER = 'Interpreter.finetune';

/** The keys of {@link FinetuneOptions}: the term weights and every key of `fit`'s options. */
const FINETUNE_KEYS: readonly string[] = Object.freeze([
  ...optionKeys<Omit<FinetuneOptions, keyof FitOptions>>({ maskIn: true, maskOut: true, sparsity: true, piqWeight: true }),
  ...FIT_KEYS,
]);

/** Splits finetune options into the term weights (validated) and the options passed on to `fit`. */
export function resolveFinetune(options: FinetuneOptions): { weights: FinetuneWeights; fit: FitOptions } {
  const { maskIn, maskOut, sparsity, piqWeight, ...fit } = optionsObject<FinetuneOptions>(OWNER, options, FINETUNE_KEYS);
  const weight = (name: string, v: unknown, d: number) => finiteNumber(OWNER, name, v ?? d, { min: 0 });
  const weights = {
    maskIn: weight('maskIn', maskIn, FINETUNE_DEFAULTS.maskIn),
    maskOut: weight('maskOut', maskOut, FINETUNE_DEFAULTS.maskOut),
    sparsity: weight('sparsity', sparsity, FINETUNE_DEFAULTS.sparsity),
    piqWeight: weight('piqWeight', piqWeight, FINETUNE_DEFAULTS.piqWeight),
  };
  if (weights.maskIn + weights.maskOut + weights.sparsity === 0) {
    throw new PiqConfigError(`${OWNER}: at least one of 'maskIn', 'maskOut', 'sparsity' must be > 0, got all 0. Use fit() to train with the PIQ losses alone.`);
  }
  return { weights, fit: { epochs: FINETUNE_DEFAULTS.epochs, learningRate: FINETUNE_DEFAULTS.learningRate, ...fit } };
}

/**
 * A PiqModel over the same parts as `model` whose loss is `piqWeight ×` the model's own terms plus the
 * classifier-in-the-loop terms. Never dispose it (it would free the shared decoder and quantizer).
 */
export function finetuningModel(model: PiqModel, w: FinetuneWeights): PiqModel {
  if (model.outputActivation === 'softplus') {
    throw new PiqConfigError(
      `${OWNER}: the interpreter must have a sigmoid output (a mask, or a reconstruction in [0, 1] used as the mask), got reconstruction: 'mse' (softplus). Fine-tune a mask-mode interpreter or one with reconstruction: 'bce'.`,
    );
  }
  if (model.classifier.numClasses < 2) {
    throw new PiqConfigError(`${OWNER}: the classifier must have at least 2 classes (the terms score its decision against the others), got ${model.classifier.numClasses}.`);
  }
  const own = model.loss.items.map((it) => ({ loss: it.loss, weight: it.weight * w.piqWeight, key: it.key }));
  const loss = combineLosses([
    ...own,
    { loss: faithfulnessTerm({ term: 'keep' }), weight: w.maskIn, key: 'finetune.keep' },
    { loss: faithfulnessTerm({ term: 'remove' }), weight: w.maskOut, key: 'finetune.remove' },
    { loss: faithfulnessTerm({ term: 'sparsity' }), weight: w.sparsity, key: 'finetune.sparsity' },
  ]);
  const { classifier, decoder, quantizer, mode, target, outputActivation } = model;
  return new PiqModel({ classifier, decoder, quantizer, mode, target, loss, outputActivation });
}
