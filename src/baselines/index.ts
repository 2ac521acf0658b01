// Baseline attribution methods (L2), all behind the AttributionMethod interface.
export { DEFAULT_EXPLAIN_OPTIONS } from './types';
export type { AttributionMethod, ExplainOptions } from './types';
export { Saliency } from './saliency';
export { DEFAULT_SMOOTH_GRAD_OPTIONS, SmoothGrad } from './smooth-grad';
export type { SmoothGradConfig, SmoothGradOptions } from './smooth-grad';
export { DEFAULT_INTEGRATED_GRADIENTS_OPTIONS, IntegratedGradients, integratedGradients } from './integrated-gradients';
export type { IntegratedGradientsOptions } from './integrated-gradients';
export { GradCam } from './grad-cam';
export { DEFAULT_OCCLUSION_OPTIONS, Occlusion } from './occlusion';
export type { OcclusionConfig, OcclusionOptions } from './occlusion';
export { ATTRIBUTION_METHOD_NAMES, createAttributionMethod } from './create-attribution-method';
export type { AttributionMethodName, AttributionMethodOptionsMap } from './create-attribution-method';
export { DEFAULT_PIQ_ATTRIBUTION_OPTIONS, PiqAttribution, piqAttribution } from './piq';
export type { PiqAttributionConfig, PiqAttributionOptions } from './piq';
