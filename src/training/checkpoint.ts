// Checkpoints: the training state a checkpoint holds besides the tensors, how it is written
// (model weights + Adam state + JSON state, through the one artifact writer) and how it is read
// back and restored (everything validated before anything changes).
import * as tf from '@tensorflow/tfjs-core';
import { PiqConfigError, PiqStateError } from '../errors';
import { describe } from '../internal/checks';
import { readArtifact, writeArtifact, type SaveDestination } from '../io/artifact';
import { isRecord, type EpochLog } from './fit-options';
import { checkOptimizerWeights } from './optimizer-state';
import { captureTrainer, restoreTrainer, weightsAreFinite } from './rollback';
import type { TrainerState } from './trainer-steps';

/**
 * The training state a checkpoint holds besides the tensors (JSON; non-finite numbers are stored
 * as `{ "$nonFinite": "NaN" }`). Read it with {@link readCheckpointState}.
 *
 * @example
 * ```ts
 * const state = await readCheckpointState('indexeddb://run1');
 * console.log(state.globalStep, state.epoch, state.batchInEpoch); // 250 3 10
 * ```
 * @category Training
 */
export interface CheckpointState {
  /** Optimizer updates applied in total (the trainer's global step). */
  globalStep: number;
  /** Steps taken by the fit call(s) that wrote it (what `maxSteps` counts). */
  fitSteps: number;
  /** The epoch in progress (0-based) and the batches of it already done. */
  epoch: number;
  batchInEpoch: number;
  /** State of the shuffling random generator at the start of `epoch`. */
  epochRandomState: number;
  learningRate: number;
  /** Reduce-on-plateau and early-stopping trackers (`best` null before the first validation). */
  plateau: { best: number | null; wait: number } | null;
  earlyStopping: { best: number | null; wait: number } | null;
  stoppedEarly: boolean;
  /** Logs of the finished epochs, and the running loss sums of the epoch in progress. */
  epochs: EpochLog[];
  epochLossSums: Record<string, number>;
  epochLogged: number;
  /** Training seconds so far. */
  seconds: number;
  /** What must not change on resume: batch size, shuffling, seed, and the number of examples of a tensor source (else null). */
  fingerprint: { batchSize: number; shuffle: boolean; seed: number; examples: number | null };
}

/**
 * The `kind` marker in the (checksummed) configuration of a checkpoint artifact; plain interpreter saves have none.
 */
export const CHECKPOINT_KIND = 'checkpoint';

/** JSON cannot hold NaN or ±Infinity: they are stored as `{ $nonFinite: 'NaN' }`. */
function encodeNonFinite(v: unknown): unknown {
  if (typeof v === 'number') return Number.isFinite(v) ? v : { $nonFinite: String(v) };
  if (Array.isArray(v)) return v.map(encodeNonFinite);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined).map(([k, x]) => [k, encodeNonFinite(x)]));
  return v;
}

function decodeNonFinite(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(decodeNonFinite);
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o.$nonFinite === 'string' && Object.keys(o).length === 1) return Number(o.$nonFinite);
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, decodeNonFinite(x)]));
  }
  return v;
}

/** The fields of {@link CheckpointState} the fit loop fills in per save (the rest comes from the trainer). */
export type CheckpointPosition = Pick<CheckpointState, 'epoch' | 'batchInEpoch' | 'epochRandomState' | 'epochLossSums' | 'epochLogged'>;

const MALFORMED = "the checkpoint's training state is missing or malformed. Was it written by Trainer.fit({ checkpoint })?";

/** Checks the structure of a decoded checkpoint state (a corrupted or foreign one throws). */
function parseState(owner: string, raw: unknown): CheckpointState {
  const s = decodeNonFinite(raw) as CheckpointState;
  if (!isRecord(s)) throw new PiqStateError(`${owner}: ${MALFORMED}`);
  const int = (x: unknown) => typeof x === 'number' && Number.isInteger(x) && x >= 0;
  const tracker = (x: unknown) => x === null || (isRecord(x) && (x.best === null || typeof x.best === 'number') && int(x.wait));
  const ok =
    int(s.globalStep) &&
    int(s.fitSteps) &&
    int(s.epoch) &&
    int(s.batchInEpoch) &&
    int(s.epochRandomState) &&
    typeof s.learningRate === 'number' &&
    s.learningRate > 0 &&
    tracker(s.plateau) &&
    tracker(s.earlyStopping) &&
    typeof s.stoppedEarly === 'boolean' &&
    Array.isArray(s.epochs) &&
    isRecord(s.epochLossSums) &&
    int(s.epochLogged) &&
    isRecord(s.fingerprint);
  if (!ok) throw new PiqStateError(`${owner}: ${MALFORMED}`);
  // Checkpoints written before 0.2 name validation input fidelity `FidIn`.
  for (const e of s.epochs as Array<EpochLog & { validation?: { FidIn?: number } }>) {
    const v = e.validation;
    if (v && v.inputFidelity === undefined && typeof v.FidIn === 'number') {
      v.inputFidelity = v.FidIn;
      delete v.FidIn;
    }
  }
  return s;
}

/** The training state of a decoded artifact, which must be a checkpoint. */
function checkpointStateOf(owner: string, config: unknown, name: string): CheckpointState {
  const c = config as { kind?: unknown; training?: unknown } | null;
  if (!isRecord(c) || c.kind !== CHECKPOINT_KIND) {
    throw new PiqStateError(
      `${owner}: '${name}' must be a checkpoint (kind '${CHECKPOINT_KIND}'), got an artifact of kind ${describe(isRecord(c) ? (c.kind ?? 'interpreter') : c)}. Write checkpoints with fit({ checkpoint }).`,
    );
  }
  return parseState(owner, c.training);
}

/**
 * Reads the training state of a checkpoint (step, epoch, learning rate, loss history…) without
 * restoring anything. The artifact's format version and checksum are verified.
 *
 * @example
 * ```ts
 * import { readCheckpointState } from 'piq-tfjs';
 * import { fileSystem } from 'piq-tfjs/node';
 * const state = await readCheckpointState(fileSystem('./checkpoints/run1'));
 * console.log(state.globalStep, state.epoch); // 120 3
 * ```
 * @category Training
 */
export async function readCheckpointState(source: SaveDestination): Promise<CheckpointState> {
  const owner = 'readCheckpointState';
  const { config, weights } = await readArtifact(owner, source);
  tf.dispose(Object.values(weights));
  return checkpointStateOf(owner, config, 'source');
}

const OWNER = 'Trainer.fit';

/**
 * Writes a checkpoint: the model's weights (as `Interpreter.save`), the Adam state and the
 * training state. Returns false, saving nothing, when a value is not finite.
 */
export async function writeCheckpoint(trainer: TrainerState, destination: SaveDestination, state: CheckpointState): Promise<boolean> {
  const snapshot = await captureTrainer(OWNER, trainer);
  try {
    if (!(await weightsAreFinite(snapshot.weights))) return false;
    const config = { ...(trainer.modelConfig?.() ?? {}), kind: CHECKPOINT_KIND, training: encodeNonFinite(state) };
    await writeArtifact(OWNER, destination, { config, weights: snapshot.weights, generatedBy: 'piq-tfjs Trainer checkpoint' }, 'checkpoint.destination');
    return true;
  } finally {
    tf.dispose(Object.values(snapshot.weights));
  }
}

/**
 * Restores a checkpoint into the model and the trainer state (weights, Adam state, global step)
 * and returns its training state. The run's fingerprint (batch size, shuffling, seed, examples)
 * must match; everything is validated before anything changes.
 */
export async function restoreCheckpoint(
  trainer: TrainerState,
  source: SaveDestination,
  fingerprint: CheckpointState['fingerprint'],
): Promise<CheckpointState> {
  const { config, weights } = await readArtifact(OWNER, source, 'resumeFrom');
  try {
    const state = checkpointStateOf(OWNER, config, 'resumeFrom');
    const saved = state.fingerprint;
    for (const k of ['batchSize', 'shuffle', 'seed', 'examples'] as const) {
      if (saved[k] !== fingerprint[k]) {
        throw new PiqConfigError(
          `${OWNER}: '${k === 'examples' ? 'data' : k}' must be the same as in the run that wrote the checkpoint (${k} ${describe(saved[k])}), got ${describe(fingerprint[k])}. Resume with the same data and options.`,
        );
      }
    }
    const vars = trainer.model.trainableVariables;
    trainer.model.checkWeights(weights, OWNER);
    checkOptimizerWeights(OWNER, weights, vars);
    if (!(await weightsAreFinite(weights))) {
      throw new PiqStateError(`${OWNER}: the checkpoint in 'resumeFrom' must hold finite values, got NaN or Infinity. Resume from an earlier checkpoint.`);
    }
    // Everything checked: write.
    await restoreTrainer(OWNER, trainer, { weights, step: state.globalStep, learningRate: state.learningRate });
    return state;
  } finally {
    tf.dispose(Object.values(weights));
  }
}
