/**
 * piq-tfjs: Posthoc Interpretation via Quantization (Paissan, Subakan, Ravanelli, arXiv:2303.12659)
 * for TensorFlow.js. Given a trained classifier, PIQ learns after the fact an interpreter that
 * quantizes the classifier's features against a codebook partitioned per class and decodes them
 * back to the input space, showing what the classifier relied on.
 *
 * Levels: L0 ops → L1 quantizer / decoder / classifier adapter → L2 losses / training / metrics /
 * baselines → L3 {@link createInterpreter}. Bring your own tfjs backend (cpu, wasm, webgl, webgpu, node).
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

// L1: quantizer, decoder, classifier
export {
  CodebookLayout,
  DEFAULT_CODEBOOK_LAYOUT_OPTIONS,
  type CodebookLayoutOptions,
  type CodebookLayoutConfig,
  type SharedPlacement,
  type RowBlock,
  type AllowedRowsOptions,
  type SearchTable,
} from './quantizer/codebook-layout';
export {
  VectorQuantizer,
  DEFAULT_VECTOR_QUANTIZER_OPTIONS,
  DEFAULT_QUANTIZE_OPTIONS,
  type VectorQuantizerOptions,
  type VectorQuantizerConfig,
  type QuantizeOptions,
  type QuantizeResult,
  type PostStepOptions,
  type CodebookInit,
  type CodebookUpdate,
  type ClassCodeUsage,
  type CodebookUsage,
} from './quantizer/vector-quantizer';
export {
  InterpreterDecoder,
  DEFAULT_INTERPRETER_DECODER,
  resolveInterpreterDecoderConfig,
  upsamplingPlan,
  type InterpreterDecoderOptions,
  type InterpreterDecoderConfig,
  type DecoderPreset,
} from './decoder/interpreter-decoder';
export { BatchNormReluLayer, type BatchNormReluLayerArgs } from './decoder/batch-norm-relu';
export {
  toClassifierAdapter,
  type ClassifierAdapterOptions,
  type ClassifierFunction,
  type ClassifierLike,
  type ClassifierOutputKind,
  type GraphModelLike,
} from './classifier/classifier-adapter';
export type { ClassifierAdapter, ClassifierOutputs } from './classifier/types';

// L2: targets, losses, training
export {
  energyMask,
  inputTarget,
  registerTarget,
  createTarget,
  DEFAULT_ENERGY_MASK_OPTIONS,
  type EnergyMaskOptions,
  type Target,
  type TargetFactory,
} from './targets/targets';
export {
  annotatorTarget,
  DEFAULT_ANNOTATOR_TARGET_OPTIONS,
  type Annotator,
  type AnnotatorTarget,
  type AnnotatorTargetOptions,
  type AnnotatorTargetConfig,
  type AnnotatorCacheStats,
} from './targets/annotator';
export {
  reconstructionLoss,
  maskTargetLoss,
  codebookLoss,
  commitmentLoss,
  fidelityLoss,
  sparsityLoss,
  totalVariationLoss,
  lmacLoss,
  DEFAULT_RECONSTRUCTION_LOSS_OPTIONS,
  DEFAULT_MASK_TARGET_LOSS_OPTIONS,
  DEFAULT_LMAC_LOSS_OPTIONS,
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
export type { Loss, LossContext, QuantizerTerms, WeightedLoss, CombinedLossResult } from './losses/types';
export { PiqModel, type InterpreterMode, type PiqForwardResult } from './training/piq-model';
export {
  Trainer,
  DEFAULT_FIT,
  DEFAULT_CHECKPOINT,
  CHECKPOINT_KIND,
  readCheckpointState,
  type CheckpointOptions,
  type CheckpointState,
  type TrainerOptions,
  type FitOptions,
  type FitHistory,
  type EpochLog,
  type StepProgress,
  type PlateauScheduleOptions,
  type EarlyStoppingOptions,
} from './training/trainer';
export type { DataSource } from './training/data';

// IO
export { ARTIFACT_FORMAT_VERSION, type SaveDestination } from './io/artifact';

// L3: the interpreter
export {
  createInterpreter,
  loadInterpreter,
  Interpreter,
  VERSION,
  type CreateInterpreterOptions,
  type LoadInterpreterOptions,
  type InterpreterConfig,
  type InterpretResult,
  type InterpretOptions,
} from './api/interpreter';

// Backends
export {
  enableWasmTraining,
  disableWasmTraining,
  WASM_TRAINING_KERNELS,
  DEFAULT_ENABLE_WASM_TRAINING,
  type EnableWasmTrainingOptions,
  type EnableWasmTrainingResult,
  type DisableWasmTrainingResult,
} from './backends/wasm-training';
export {
  enableWasmThreads,
  MAX_WASM_THREADS,
  type EnableWasmThreadsOptions,
  type WasmThreads,
  type WasmThreadsBackendModule,
} from './backends/wasm-threads';

// Audio front end
export * from './audio';

// L2: metrics and baseline attribution methods
export * from './metrics';
export * from './baselines';
