// Named PIQ settings for `npm run bench:audio`: each is one recipe (mask loss, energy threshold τ and
// where it is taken, tap layer, codes per class, decoder capacity, extra loss terms, training budget)
// turned into `createInterpreter` options. The ablation runs a list of them on the same classifier
// and clips. Later settings (#13: the reconstruction variant, fine-tuning) add fields here.
//
// One setting needs a target the library does not offer; it is written here against the public API
// (`Target`, `registerTarget`): `energyMaskPerBand`, the energy threshold taken per frequency band
// instead of per clip. The class-balanced BCE (positives and negatives weighted equally; the target
// marks ~3% of bins) began here too and is now the library's `maskTargetLoss({ kind: 'balanced-bce' })`.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import {
  codebookLoss,
  commitmentLoss,
  energyMask,
  fidelityLoss,
  maskTargetLoss,
  registerLoss,
  registerTarget,
  type CreateInterpreterOptions,
  type Target,
  type WeightedLoss,
} from 'piq-tfjs';

export interface AudioSetting {
  /** Short name used in tables, cache keys and `--settings`. */
  name: string;
  /** One line: what differs from the `example` setting. */
  description: string;
  /**
   * `'library'`: `createInterpreter({ classifier, featureLayer, target: energyMask({ threshold }) })`
   * with every other option left at the library's defaults. `'example'`: the audio-digits example's
   * explicit recipe, with the fields below.
   */
  base: 'library' | 'example';
  featureLayer: string;
  maskLoss: 'bce' | 'dice' | 'balanced-bce';
  /** Energy threshold τ of the target. */
  threshold: number;
  /** Where the maximum that τ multiplies is taken: over the clip (the reference), or per frequency band. */
  thresholdScope: 'clip' | 'band';
  codesPerClass: number;
  /** Decoder widths (the example: 16 → 8). */
  decoderChannels: number;
  decoderMinChannels: number;
  codeDim: number;
  /** Stride-2 down-projection in the adapter (the spectrogram preset's default: halves the code grid). */
  downsample: boolean;
  /** Normalisation in the decoder's up-sampling stages. */
  norm: 'batch' | 'none';
  /** Weight of the library's `fidelityLoss` (KL between f(x) and f(M ⊙ x)); 0 = not used (the reference). */
  fidelityWeight: number;
  /**
   * Base 'library' only: pass no `losses`, so the interpreter trains with whatever `createInterpreter`
   * defaults to (the `library-defaults` setting). Absent: the setting's losses are passed explicitly.
   */
  defaultLosses?: true;
  /**
   * Reconstruction mode with the softplus output and MSE (`createInterpreter({ mode: 'reconstruction',
   * reconstruction: 'mse' })`, the reference audio recipe's reconstruction variant, #13): no target; the
   * mask is `1[x̂ > 0.35·max x̂]` per example. Absent: mask mode against the energy target.
   */
  reconstruction?: 'mse';
  /**
   * Fine-tune the interpreter of the named setting (trained, or loaded from the cache) with
   * `Interpreter.finetune` and its defaults (#13) instead of training one from scratch.
   */
  finetuneOf?: string;
  /** Interpreter training. */
  epochs: number;
  batchSize: number;
  learningRate: number;
}

/** The audio-digits example's recipe (`npm run example:audio`), which the ablation varies one field at a time. */
export const EXAMPLE_SETTING: Readonly<AudioSetting> = Object.freeze({
  name: 'example',
  description: "audio-digits example: BCE, τ 0.35 per clip, tap 'features', 16 codes/class, spectrogram preset 16→8 channels, codeDim 32",
  base: 'example',
  featureLayer: 'features',
  maskLoss: 'bce',
  threshold: 0.35,
  thresholdScope: 'clip',
  codesPerClass: 16,
  decoderChannels: 16,
  decoderMinChannels: 8,
  codeDim: 32,
  downsample: true,
  norm: 'none',
  fidelityWeight: 0,
  epochs: 3,
  batchSize: 16,
  learningRate: 1e-3,
});

const variant = (name: string, description: string, change: Partial<AudioSetting>): AudioSetting => ({ ...EXAMPLE_SETTING, name, description, ...change });

/** Every named setting. */
export const AUDIO_SETTINGS: readonly AudioSetting[] = Object.freeze([
  EXAMPLE_SETTING,
  variant('library-defaults', "createInterpreter({ classifier, featureLayer: 'features', target: energyMask() }): every other option at the library default (image preset, batch norm, 16 codes/class; since #18 the mask losses balanced BCE + fidelity); the example's training budget", { base: 'library', defaultLosses: true }),
  variant('library-0.1', "library-defaults with the 0.1 default losses passed explicitly: BCE mask loss, codebook, commitment (no fidelity term)", { base: 'library' }),
  variant('dice', 'mask loss Dice instead of BCE', { maskLoss: 'dice' }),
  variant('balanced-bce', 'mask loss BCE with positive and negative bins weighted equally', { maskLoss: 'balanced-bce' }),
  variant('tau-0.2', 'τ = 0.2', { threshold: 0.2 }),
  variant('tau-0.5', 'τ = 0.5', { threshold: 0.5 }),
  variant('band-tau-0.5', 'τ = 0.5 of each frequency band\'s maximum (per clip) instead of the clip maximum', { thresholdScope: 'band', threshold: 0.5 }),
  variant('dice-tau-0.2', 'Dice and τ = 0.2', { maskLoss: 'dice', threshold: 0.2 }),
  variant('tap-conv2', "tap 'conv2' (31×64×16, code grid 16×32) instead of 'features' (15×32×32, code grid 8×16)", { featureLayer: 'conv2' }),
  variant('codes-4', '4 codes per class', { codesPerClass: 4 }),
  variant('codes-64', '64 codes per class', { codesPerClass: 64 }),
  variant('decoder-8', 'decoder 8→4 channels', { decoderChannels: 8, decoderMinChannels: 4 }),
  variant('decoder-32', 'decoder 32→16 channels', { decoderChannels: 32, decoderMinChannels: 16 }),
  variant('no-downsample', 'no stride-2 down-projection: code grid 15×32 instead of 8×16', { downsample: false }),
  variant('norm-batch', 'batch norm in the decoder (the library default) instead of none', { norm: 'batch' }),
  variant('library-dice', 'library-defaults with the Dice mask loss', { base: 'library', maskLoss: 'dice' }),
  variant('fidelity', "adds the library's fidelityLoss (KL(f(x) ‖ f(M ⊙ x))), weight 1", { fidelityWeight: 1 }),
  variant('balanced-bce-fidelity', 'balanced BCE and the fidelity term (weight 1) together', { maskLoss: 'balanced-bce', fidelityWeight: 1 }),
  variant('library-balanced-bce', 'library-defaults with the balanced BCE mask loss', { base: 'library', maskLoss: 'balanced-bce' }),
  variant('softplus-mse', "reconstruction mode, softplus output + MSE (the reference's audio reconstruction variant, #13), mask 1[x̂ > 0.35·max x̂]; spectrogram preset ('reference-audio' needs a 32·k+1 input the classifier does not have)", { reconstruction: 'mse' }),
  variant('library-defaults-finetuned', 'library-defaults, then Interpreter.finetune with its defaults (#13: one epoch, maskIn 1, maskOut 1, sparsity 4, its learning rate)', { base: 'library', defaultLosses: true, finetuneOf: 'library-defaults' }),
  variant('example-finetuned', 'example (plain BCE), then Interpreter.finetune with its defaults (#13)', { finetuneOf: 'example' }),
  variant('library-balanced-bce-fidelity', 'library-defaults with balanced BCE and the fidelity term (weight 1)', { base: 'library', maskLoss: 'balanced-bce', fidelityWeight: 1 }),
]);

/** The settings the ablation runs by default (all of them). */
export const ABLATION_SETTINGS: readonly string[] = AUDIO_SETTINGS.map((s) => s.name);
/**
 * The PIQ settings of the main table: the library's defaults (chosen from the FSDD ablation), the same
 * fine-tuned with `Interpreter.finetune` (#13), the best
 * FSDD ablation setting, and the audio example's recipe (plain BCE, as the 0.1 defaults; the ablation's
 * `library-0.1` row has the 0.1 defaults themselves).
 */
export const MAIN_SETTINGS: readonly string[] = ['library-defaults', 'library-defaults-finetuned', 'balanced-bce-fidelity', 'example'];

export function findSetting(name: string): AudioSetting {
  const s = AUDIO_SETTINGS.find((x) => x.name === name);
  if (!s) throw new Error(`unknown setting '${name}'; known: ${AUDIO_SETTINGS.map((x) => x.name).join(', ')}`);
  return s;
}

/** `T = 1[X > τ · max_t X(t, f)]`: the energy threshold taken per frequency bin (axis 2), per example. */
export function energyMaskPerBand(options: { threshold?: number } = {}): Target {
  const threshold = options.threshold ?? 0.35;
  if (!(threshold >= 0 && threshold <= 1)) throw new Error(`energyMaskPerBand: 'threshold' must be in [0, 1], got ${threshold}`);
  return {
    name: 'energyMaskPerBand',
    getConfig: () => ({ threshold }),
    compute: (input) =>
      tf.tidy(() => {
        const m = input.shape[3] === 1 ? input : tf.max(input, -1, true);
        const peak = tf.max(m, 1, true); // [batch, 1, bins, 1]: each band's maximum over time
        return tf.cast(tf.greater(m, tf.mul(peak, threshold)), 'float32') as tf.Tensor4D;
      }),
  };
}

let registered = false;
/**
 * Registers the custom target by name, so cached interpreters that use it load; and the name the
 * balanced BCE had when it lived here (`balancedMaskBce`, the same formula), for interpreters cached then.
 */
export function registerBenchExtensions(): void {
  if (registered) return;
  registerTarget('energyMaskPerBand', (c) => energyMaskPerBand(c as { threshold?: number }));
  registerLoss('balancedMaskBce', () => maskTargetLoss({ kind: 'balanced-bce' }));
  registered = true;
}

/** The `createInterpreter` options of a setting. */
export function interpreterOptions(s: AudioSetting, classifier: tfl.LayersModel, seed: number): CreateInterpreterOptions {
  registerBenchExtensions();
  const decoder = { preset: 'spectrogram' as const, codeDim: s.codeDim, channels: s.decoderChannels, minChannels: s.decoderMinChannels, norm: s.norm, downsample: s.downsample };
  const quantizer = { init: 'data' as const, layout: { codesPerClass: s.codesPerClass }, seed };
  if (s.reconstruction === 'mse') {
    // The library's reconstruction-mode losses for the softplus output: MSE, codebook, commitment.
    return { classifier, featureLayer: s.featureLayer, mode: 'reconstruction', reconstruction: 'mse', ...(s.base === 'example' ? { decoder, quantizer } : {}), seed };
  }
  const target = s.thresholdScope === 'band' ? energyMaskPerBand({ threshold: s.threshold }) : energyMask({ threshold: s.threshold });
  const losses: WeightedLoss[] = [
    { loss: maskTargetLoss({ kind: s.maskLoss }), weight: 1 },
    { loss: codebookLoss(), weight: 1 },
    { loss: commitmentLoss(), weight: 1 },
  ];
  if (s.fidelityWeight > 0) losses.push({ loss: fidelityLoss(), weight: s.fidelityWeight });
  if (s.base === 'library') {
    // Only what the setting changes: the loss list unless the setting takes the library's default losses.
    return { classifier, featureLayer: s.featureLayer, target, seed, ...(s.defaultLosses ? {} : { losses }) };
  }
  return {
    classifier,
    featureLayer: s.featureLayer,
    target,
    decoder,
    quantizer,
    losses,
    seed,
  };
}
