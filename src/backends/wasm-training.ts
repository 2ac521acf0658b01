// Opt-in gradient kernels for the tfjs wasm backend (4.x), which ships forward kernels only for
// several ops whose gradients conv nets need. See docs/performance.md for the list and timings.
import * as tf from '@tensorflow/tfjs-core';
import { PiqConfigError } from '../errors';
import { boolean, describe, optionKeys, optionsObject } from '../internal/checks';
import { conv2DBackpropInputKernel, makeTileKernel, WASM_TRAINING_KERNEL_FUNCS } from './wasm-training-kernels';

const BACKEND = 'wasm';

/** wasm's own kernels that an opt-in replaced, kept so that disableWasmTraining can restore them. */
const replacedOriginals = new Map<string, tf.KernelConfig>();
const fastTileKernel = makeTileKernel((args) => {
  const original = replacedOriginals.get('Tile');
  if (!original) throw new Error('Tile: wasm\'s own Tile kernel is no longer available.');
  return original.kernelFunc(args);
});
/** The opt-in replacements, by option. */
const FAST_KERNELS: ReadonlyArray<{ option: 'fastConvTranspose' | 'fastTile'; kernelName: string; kernelFunc: tf.KernelFunc }> = [
  { option: 'fastConvTranspose', kernelName: 'Conv2DBackpropInput', kernelFunc: conv2DBackpropInputKernel },
  { option: 'fastTile', kernelName: 'Tile', kernelFunc: fastTileKernel },
];

/**
 * The kernels {@link enableWasmTraining} adds to the `'wasm'` backend when it lacks them, in
 * registration order.
 *
 * - `Conv2DBackpropFilter`: filter gradient of `tf.conv2d` / `conv2d` layers and of
 *   `tf.conv2dTranspose` / `conv2dTranspose` layers (all strides, `'same'`, `'valid'` and explicit
 *   padding, NHWC and NCHW).
 * - `UnsortedSegmentSum`: gradient of `tf.gather` (and so of `embedding` layers).
 * - `DepthwiseConv2dNativeBackpropInput`, `DepthwiseConv2dNativeBackpropFilter`: gradients of
 *   `tf.depthwiseConv2d` / `tf.separableConv2d` and their layers (strides and dilations).
 *
 * @example
 * ```ts
 * import { WASM_TRAINING_KERNELS } from 'piq-tfjs';
 * console.log(WASM_TRAINING_KERNELS.length); // 4
 * ```
 * @category Backends
 */
export const WASM_TRAINING_KERNELS: readonly string[] = Object.freeze(
  WASM_TRAINING_KERNEL_FUNCS.map((k) => k.kernelName),
);

/**
 * Options of {@link enableWasmTraining}: explicit opt-ins that REPLACE two kernels wasm 4.22.0
 * does ship (as plain loops, up to 20x slower than the XNNPACK kernels they are rebuilt from).
 * Without them nothing registered for `'wasm'` is ever replaced.
 *
 * @category Backends
 */
export interface EnableWasmTrainingOptions {
  /**
   * Replace wasm's `Conv2DBackpropInput` (the forward pass of every `conv2dTranspose` and the
   * input gradient of every `conv2d`) by one XNNPACK `Conv2D` over the stride phases plus a
   * depth-to-space shuffle. Same results as the cpu backend to float32 rounding; 3-10x faster on
   * decoder shapes. Needs `@tensorflow/tfjs-backend-wasm` imported first (nothing is replaced
   * otherwise).
   * @defaultValue false
   */
  fastConvTranspose?: boolean;
  /**
   * Replace wasm's `Tile` (used by the gradient of batch normalization, `tf.tile` and
   * `tf.broadcastTo`) by one broadcasting `Add` onto zeros (float32 and int32; other dtypes and
   * shapes needing more than 6 dimensions go to wasm's own kernel). Exact; ~20x faster.
   * @defaultValue false
   */
  fastTile?: boolean;
}

const ENABLE_KEYS = optionKeys<EnableWasmTrainingOptions>({ fastConvTranspose: true, fastTile: true });

/**
 * Defaults of {@link EnableWasmTrainingOptions}: nothing is replaced.
 */
export const DEFAULT_ENABLE_WASM_TRAINING = Object.freeze({ fastConvTranspose: false, fastTile: false });

/**
 * What {@link enableWasmTraining} did, as plain data.
 *
 * @category Backends
 */
export interface EnableWasmTrainingResult {
  /** The backend the kernels are registered for: always `'wasm'`. */
  backendName: 'wasm';
  /** Kernels this call registered (empty when an earlier call, or the backend itself, already had them all). */
  registered: string[];
  /** Kernels of {@link WASM_TRAINING_KERNELS} that were registered before this call and were left untouched. */
  alreadyRegistered: string[];
  /** wasm kernels this call replaced on request ({@link EnableWasmTrainingOptions}); empty by default. */
  replaced: string[];
}

/**
 * What {@link disableWasmTraining} did, as plain data.
 *
 * @category Backends
 */
export interface DisableWasmTrainingResult {
  /** Kernels this call unregistered: only ones that {@link enableWasmTraining} had registered. */
  unregistered: string[];
  /** wasm's own kernels put back in place of the opt-in replacements. */
  restored: string[];
}

/**
 * Registers, for the tfjs `'wasm'` backend, the gradient kernels it lacks so that conv nets
 * (conv2d, conv2dTranspose, depthwise/separable conv, embedding/gather) train on it.
 *
 * Opt-in and safe to call many times: by default a kernel that is already registered for
 * `'wasm'` (by the backend itself, by another library, or by an earlier call) is never replaced.
 * Only an explicit {@link EnableWasmTrainingOptions} flag replaces one of wasm's own kernels
 * (`fastConvTranspose`: `Conv2DBackpropInput`; `fastTile`: `Tile`), with a faster formulation on
 * XNNPACK kernels; {@link disableWasmTraining} puts wasm's own back. Registration is
 * by backend name, so it works before or after `tf.setBackend('wasm')` has initialised the
 * backend; call it after importing `@tensorflow/tfjs-backend-wasm` so that a future wasm release
 * that ships its own version of a kernel keeps it. This module never imports the wasm package.
 * The kernels are built from the backend's own forward kernels (one conv2d, depthwiseConv2d or
 * scatterND each) and agree with the cpu backend to float32 rounding (relative error < 1e-4 in
 * the tests).
 *
 * @param options explicit replacements of slow wasm kernels; see {@link EnableWasmTrainingOptions}.
 * @returns Which kernels were registered now, which were already present, and which were replaced.
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import '@tensorflow/tfjs-backend-wasm';
 * import { enableWasmTraining } from 'piq-tfjs';
 *
 * const result = enableWasmTraining();
 * console.log(result.registered);
 * // ['Conv2DBackpropFilter', 'UnsortedSegmentSum',
 * //  'DepthwiseConv2dNativeBackpropInput', 'DepthwiseConv2dNativeBackpropFilter']
 * await tf.setBackend('wasm'); // conv models now train with model.fit / optimizer.minimize
 * console.log(enableWasmTraining().registered); // [] (idempotent)
 * // Training speed: also replace wasm's plain-loop Conv2DBackpropInput and Tile (explicit opt-in).
 * console.log(enableWasmTraining({ fastConvTranspose: true, fastTile: true }).replaced);
 * // ['Conv2DBackpropInput', 'Tile']
 * ```
 * @category Backends
 */
export function enableWasmTraining(options: EnableWasmTrainingOptions = {}): EnableWasmTrainingResult {
  if (typeof options !== 'object' || options === null) {
    throw new PiqConfigError(`enableWasmTraining: 'options' must be an object, got ${describe(options)}.`);
  }
  optionsObject('enableWasmTraining', options, ENABLE_KEYS);
  const wanted = {
    fastConvTranspose: boolean('enableWasmTraining', 'fastConvTranspose', options.fastConvTranspose ?? DEFAULT_ENABLE_WASM_TRAINING.fastConvTranspose),
    fastTile: boolean('enableWasmTraining', 'fastTile', options.fastTile ?? DEFAULT_ENABLE_WASM_TRAINING.fastTile),
  };
  const registered: string[] = [];
  const replaced: string[] = [];
  const alreadyRegistered: string[] = [];
  for (const { kernelName, kernelFunc } of WASM_TRAINING_KERNEL_FUNCS) {
    if (tf.getKernel(kernelName, BACKEND) !== undefined) {
      alreadyRegistered.push(kernelName);
      continue;
    }
    tf.registerKernel({ kernelName, backendName: BACKEND, kernelFunc });
    registered.push(kernelName);
  }
  for (const { option, kernelName, kernelFunc } of FAST_KERNELS) {
    if (!wanted[option]) continue;
    const current = tf.getKernel(kernelName, BACKEND);
    if (current === undefined || current.kernelFunc === kernelFunc) continue;
    replacedOriginals.set(kernelName, current);
    tf.unregisterKernel(kernelName, BACKEND);
    // The original's setup/dispose (which bind its wasm function) stay attached, so the fallback
    // to it works even when the backend is first set up after this call.
    tf.registerKernel({ kernelName, backendName: BACKEND, kernelFunc, setupFunc: current.setupFunc, disposeFunc: current.disposeFunc });
    replaced.push(kernelName);
  }
  return { backendName: BACKEND, registered, alreadyRegistered, replaced };
}

/**
 * Unregisters the `'wasm'` kernels that {@link enableWasmTraining} registered and puts back
 * wasm's own kernels that it replaced on request, leaving every other kernel (including one of
 * the same name registered by someone else) in place.
 *
 * @returns The kernels that were unregistered, and wasm's own kernels that were restored.
 * @example
 * ```ts
 * import { enableWasmTraining, disableWasmTraining } from 'piq-tfjs';
 * enableWasmTraining();
 * console.log(disableWasmTraining().unregistered.length); // 4 (with @tensorflow/tfjs-backend-wasm 4.22)
 * console.log(disableWasmTraining()); // { unregistered: [], restored: [] }
 * ```
 * @category Backends
 */
export function disableWasmTraining(): DisableWasmTrainingResult {
  const unregistered: string[] = [];
  for (const { kernelName, kernelFunc } of WASM_TRAINING_KERNEL_FUNCS) {
    const current = tf.getKernel(kernelName, BACKEND);
    if (current !== undefined && current.kernelFunc === kernelFunc) {
      tf.unregisterKernel(kernelName, BACKEND);
      unregistered.push(kernelName);
    }
  }
  const restored: string[] = [];
  for (const { kernelName, kernelFunc } of FAST_KERNELS) {
    const original = replacedOriginals.get(kernelName);
    const current = tf.getKernel(kernelName, BACKEND);
    if (original === undefined || current === undefined || current.kernelFunc !== kernelFunc) continue;
    tf.unregisterKernel(kernelName, BACKEND);
    tf.registerKernel(original);
    replacedOriginals.delete(kernelName);
    restored.push(kernelName);
  }
  return { unregistered, restored };
}
