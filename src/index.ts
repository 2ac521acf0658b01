/**
 * piq-tfjs: Posthoc Interpretation via Quantization (Paissan, Subakan, Ravanelli, arXiv:2303.12659)
 * for TensorFlow.js. Given a trained classifier, PIQ learns after the fact an interpreter that
 * quantizes the classifier's features against a codebook partitioned per class and decodes them
 * back to the input space: the part of the input that the predicted class's codes can redraw from
 * the classifier's features (class-specific through the codebook; the training target itself does
 * not depend on the classifier — `Interpreter.finetune` adds classifier-in-the-loop terms).
 *
 * Levels: L0 ops → L1 quantizer / decoder / classifier adapter → L2 losses / targets / training /
 * metrics / baselines → L3 {@link createInterpreter}. Bring your own tfjs backend (cpu, wasm, webgl,
 * webgpu, node). Subpaths: `piq-tfjs/audio` (spectrograms, WAV), `piq-tfjs/visualize` (pixels),
 * `piq-tfjs/node` (file system). See docs/architecture.md for the map of the code.
 *
 * @packageDocumentation
 */

// Errors
export { PiqError, PiqConfigError, PiqInputError, PiqStateError } from './errors';

// L0: ops
export { squaredDistances } from './ops/squared-distances';
export {
  classRestrictedNearest,
  classRestrictedQuantize,
  type ClassRestrictedQuantizeResult,
  type ClassRestrictedSearchOptions,
} from './ops/class-restricted-nearest';
export { straightThrough, stopGradient } from './ops/straight-through';
export { selectRows, sumRowsByIndex } from './ops/select-rows';

// L1: quantizer
export {
  CodebookLayout,
  type CodebookLayoutOptions,
  type CodebookLayoutConfig,
  type SharedPlacement,
  type RowBlock,
  type AllowedRowsOptions,
  type SearchTable,
} from './quantizer/codebook-layout';
export { VectorQuantizer } from './quantizer/vector-quantizer';
export type {
  VectorQuantizerOptions,
  VectorQuantizerConfig,
  QuantizeOptions,
  QuantizeResult,
  PostStepOptions,
  CodebookInit,
  CodebookUpdate,
} from './quantizer/vector-quantizer-options';
export type { ClassCodeUsage, CodebookUsage } from './quantizer/codebook';

// L1: decoder
export { InterpreterDecoder, type DecoderLayerSummary } from './decoder/interpreter-decoder';
export {
  upsamplingPlan,
  type InterpreterDecoderOptions,
  type InterpreterDecoderConfig,
  type DecoderPreset,
} from './decoder/decoder-config';
export { BatchNormReluLayer, type BatchNormReluLayerArgs } from './decoder/batch-norm-relu';

// L1: classifier
export {
  toClassifierAdapter,
  type ClassifierAdapterOptions,
  type ClassifierFunction,
  type ClassifierLike,
  type ClassifierOutputKind,
  type GraphModelLike,
  type ScoringClassifier,
} from './classifier/classifier-adapter';
export type { ClassifierAdapter, ClassifierOutputs, LogitsFunction } from './classifier/types';
export type { ClassifierInput, PixelSource } from './classifier/image-input';

// L2: targets
export {
  energyMask,
  inputTarget,
  registerTarget,
  createTarget,
  type EnergyMaskOptions,
  type Target,
  type TargetFactory,
} from './targets/targets';
export {
  annotatorTarget,
  type Annotator,
  type AnnotatorTarget,
  type AnnotatorTargetOptions,
  type AnnotatorTargetConfig,
  type AnnotatorCacheStats,
} from './targets/annotator';

// L2: losses
export {
  reconstructionLoss,
  maskTargetLoss,
  codebookLoss,
  commitmentLoss,
  fidelityLoss,
  sparsityLoss,
  totalVariationLoss,
  lmacLoss,
  type ReconstructionLossOptions,
  type MaskTargetLossOptions,
  type LmacLossOptions,
} from './losses/builtin';
export {
  combineLosses,
  registerLoss,
  registeredLosses,
  createLoss,
  lossesFromSpec,
  type CombinedLoss,
  type LossFactory,
  type LossSpec,
} from './losses/registry';
export { faithfulnessTerm, type FaithfulnessTermKind, type FaithfulnessTermOptions } from './losses/faithfulness-terms';
export type { Loss, LossContext, QuantizerTerms, WeightedLoss, CombinedLossResult } from './losses/types';

// L2: training
export { PiqModel, type InterpreterMode, type OutputActivation, type PiqForwardResult } from './training/piq-model';
export type { FinetuneOptions, FinetuneWeights } from './training/finetune';
export { Trainer, type TrainerOptions } from './training/trainer';
export type {
  FitOptions,
  FitHistory,
  FitHistoryRecord,
  EpochLog,
  EvaluationLog,
  StepProgress,
  PlateauScheduleOptions,
  EarlyStoppingOptions,
  CheckpointOptions,
} from './training/fit-options';
export type { FitCallback, FitLogs, Verbosity } from './training/callbacks';
export { readCheckpointState, type CheckpointState } from './training/checkpoint';
export type { DataSource } from './training/data';

// L2: metrics
export { averageDrop, averageGain, averageIncrease, faithfulness, inputFidelity, maskInFaithfulness } from './metrics/faithfulness';
export { complexity, sparseness } from './metrics/mask-statistics';
export { deletionCurve, insertionCurve, type CurveOptions, type CurveResult } from './metrics/curves';
export { maskIoU, pointingGame, type MaskIoUOptions } from './metrics/localization';
export { evaluateInterpretations, type EvaluationOptions, type EvaluationResult } from './metrics/evaluate';
export { METRIC_NAMES, type MetricName, type MetricOptions, type MetricResult } from './metrics/types';

// L2: baseline attribution methods
export type { AttributionMethod, ExplainOptions, ExplainResult } from './baselines/types';
export { Saliency } from './baselines/saliency';
export { SmoothGrad, type SmoothGradConfig, type SmoothGradOptions } from './baselines/smooth-grad';
export { IntegratedGradients, integratedGradients, type IntegratedGradientsOptions } from './baselines/integrated-gradients';
export { GradCam } from './baselines/grad-cam';
export { Occlusion, type OcclusionConfig, type OcclusionOptions } from './baselines/occlusion';
export {
  ATTRIBUTION_METHOD_NAMES,
  createAttributionMethod,
  type AttributionMethodName,
  type AttributionMethodOptionsMap,
} from './baselines/create-attribution-method';

// IO
export { ARTIFACT_FORMAT_VERSION, type SaveDestination } from './io/artifact';

// L3: the interpreter
export { createInterpreter, type CreateInterpreterOptions } from './api/create-interpreter';
export { loadInterpreter, type LoadInterpreterOptions } from './api/load-interpreter';
export { Interpreter, type InterpreterConfig, type InterpretResult, type InterpretOptions, type InterpretTensors, type FinetuneRecord } from './api/interpreter';
export { PiqAttribution, piqAttribution, type PiqAttributionConfig, type PiqAttributionOptions } from './api/piq-attribution';
export { VERSION } from './version';

// Backends
export {
  enableWasmTraining,
  disableWasmTraining,
  WASM_TRAINING_KERNELS,
  type EnableWasmTrainingOptions,
  type EnableWasmTrainingResult,
  type DisableWasmTrainingResult,
} from './backends/wasm-training';
export {
  enableWasmThreads,
  type EnableWasmThreadsOptions,
  type WasmThreads,
  type WasmThreadsBackendModule,
} from './backends/wasm-threads';
