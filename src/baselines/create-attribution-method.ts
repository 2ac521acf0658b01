import { PiqConfigError } from '../errors';
import { describe, optionsObject } from '../internal/checks';
import type { ScoringClassifier } from '../classifier/classifier-adapter';
import { GradCam } from './grad-cam';
import { IntegratedGradients, type IntegratedGradientsOptions } from './integrated-gradients';
import { Occlusion, type OcclusionOptions } from './occlusion';
import { Saliency } from './saliency';
import { SmoothGrad, type SmoothGradOptions } from './smooth-grad';
import type { AttributionMethod } from './types';

/**
 * Options of each built-in attribution method, by name.
 * @category Baselines
 */
export interface AttributionMethodOptionsMap {
  saliency: Record<string, never>;
  smoothGrad: SmoothGradOptions;
  integratedGradients: IntegratedGradientsOptions;
  gradCam: Record<string, never>;
  occlusion: OcclusionOptions;
}

/**
 * Names of the built-in attribution methods.
 * @category Baselines
 */
export type AttributionMethodName = keyof AttributionMethodOptionsMap;

/**
 * Every name {@link createAttributionMethod} accepts.
 * @category Baselines
 */
export const ATTRIBUTION_METHOD_NAMES: readonly AttributionMethodName[] = Object.freeze([
  'saliency',
  'smoothGrad',
  'integratedGradients',
  'gradCam',
  'occlusion',
] as const);

/**
 * Creates a built-in attribution method by name, so benchmarks can loop over names.
 *
 * `'gradCam'` needs a {@link ClassifierAdapter} with a `head`. Options are those of the method's
 * class ({@link SmoothGradOptions}, {@link IntegratedGradientsOptions}, {@link OcclusionOptions};
 * none for `'saliency'` and `'gradCam'`).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { createAttributionMethod, ATTRIBUTION_METHOD_NAMES } from 'piq-tfjs';
 * const classifier = (x: tf.Tensor) => tf.reshape(tf.sum(x, [1, 2, 3]), [-1, 1]);
 * const method = createAttributionMethod('occlusion', classifier, { window: 2 });
 * console.log(method.name, ATTRIBUTION_METHOD_NAMES.length); // 'occlusion' 5
 * ```
 * @category Baselines
 */
export function createAttributionMethod<N extends AttributionMethodName>(
  name: N,
  classifier: ScoringClassifier,
  options?: AttributionMethodOptionsMap[N],
): AttributionMethod {
  switch (name as AttributionMethodName) {
    case 'saliency':
      optionsObject('createAttributionMethod', options, []);
      return new Saliency(classifier);
    case 'smoothGrad':
      return new SmoothGrad(classifier, options as SmoothGradOptions | undefined);
    case 'integratedGradients':
      return new IntegratedGradients(classifier, options as IntegratedGradientsOptions | undefined);
    case 'gradCam':
      optionsObject('createAttributionMethod', options, []);
      return new GradCam(classifier);
    case 'occlusion':
      return new Occlusion(classifier, options as OcclusionOptions | undefined);
    default:
      throw new PiqConfigError(
        `createAttributionMethod: 'name' must be one of ${ATTRIBUTION_METHOD_NAMES.map((n) => `'${n}'`).join(', ')}, got ${describe(name)}.`,
      );
  }
}
