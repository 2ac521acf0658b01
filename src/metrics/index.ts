// Faithfulness metrics (L2): pure scoring of interpretation masks on (classifier, inputs, masks).
export type { ScoringClassifier, LogitsFunction } from '../classifier/types';
export { DEFAULT_METRIC_OPTIONS, METRIC_NAMES } from './types';
export type { MetricName, MetricOptions, MetricResult } from './types';
export { averageDrop, averageGain, averageIncrease, faithfulness, inputFidelity } from './faithfulness';
export { complexity, sparseness } from './mask-statistics';
export { DEFAULT_CURVE_OPTIONS, deletionCurve, insertionCurve } from './curves';
export type { CurveOptions, CurveResult } from './curves';
export { DEFAULT_MASK_IOU_OPTIONS, maskIoU, pointingGame } from './localization';
export type { MaskIoUOptions } from './localization';
export { DEFAULT_EVALUATION_OPTIONS, evaluateInterpretations } from './evaluate';
export type { EvaluationOptions, EvaluationResult } from './evaluate';
