import * as tf from '@tensorflow/tfjs-core';
import { toClassifierAdapter, type ClassifierLike } from '../classifier/classifier-adapter';
import { InterpreterDecoder } from '../decoder/interpreter-decoder';
import { PiqConfigError, PiqStateError } from '../errors';
import { describe, optionKeys, optionsObject, shapeStr } from '../internal/checks';
import { readArtifact, type SaveDestination } from '../io/artifact';
import { lossesFromSpec } from '../losses/registry';
import { VectorQuantizer } from '../quantizer/vector-quantizer';
import { createTarget, type Target } from '../targets/targets';
import { PiqModel } from '../training/piq-model';
import { Interpreter, type InterpreterConfig } from './interpreter';

/**
 * Options of {@link loadInterpreter}.
 * @category Interpreter
 */
export interface LoadInterpreterOptions {
  /** The same classifier the interpreter was trained with (it is not stored in the artifact). */
  classifier: ClassifierLike;
  /** Override the saved feature layer name (e.g. after renaming layers). @defaultValue the saved one */
  featureLayer?: string;
  /** GraphModel only. @defaultValue the first output node */
  logitsNode?: string;
  /** For function and GraphModel classifiers. @defaultValue the saved input shape */
  inputShape?: readonly number[];
  /** Mask-mode target, when it was a custom unregistered one. @defaultValue recreated by name from the registry */
  target?: Target;
}

const LOAD_KEYS = optionKeys<LoadInterpreterOptions>({ classifier: true, featureLayer: true, logitsNode: true, inputShape: true, target: true });

/**
 * Loads an interpreter saved with {@link Interpreter.save}. The artifact's format version and
 * checksum are verified; the classifier must match the saved shapes (input, tapped features, classes).
 *
 * @example
 * ```ts
 * import { loadInterpreter } from 'piq-tfjs';
 * const interpreter = await loadInterpreter('indexeddb://piq-mnist', { classifier: model });
 * const r = await interpreter.interpret(images);
 * ```
 * @category Interpreter
 */
export async function loadInterpreter(source: SaveDestination, options: LoadInterpreterOptions): Promise<Interpreter> {
  const OWNER = 'loadInterpreter';
  if (!options || options.classifier === undefined) {
    throw new PiqConfigError(`${OWNER}: 'options.classifier' is required (the classifier is never saved with the interpreter), got ${describe(options?.classifier)}.`);
  }
  optionsObject(OWNER, options, LOAD_KEYS);
  const { config: raw, weights } = await readArtifact(OWNER, source);
  try {
    const config = raw as InterpreterConfig;
    // A checkpoint written by Interpreter.fit carries the interpreter configuration and loads like a save
    // (its optimizer state is ignored); one written by a bare Trainer does not.
    if (typeof config !== 'object' || config === null || typeof config.decoder !== 'object' || typeof config.quantizer !== 'object') {
      throw new PiqStateError(
        `${OWNER}: the artifact must hold an interpreter configuration, got ${(raw as { kind?: unknown } | null)?.kind === 'checkpoint' ? 'a checkpoint written by a bare Trainer' : 'none'}. Resume it with Trainer.fit(data, { resumeFrom }) instead.`,
      );
    }
    const adapter = toClassifierAdapter(options.classifier, {
      featureLayer: options.featureLayer ?? config.featureLayer ?? undefined,
      logitsNode: options.logitsNode,
      inputShape: options.inputShape ?? config.inputShape,
    });
    const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((v, i) => v === b[i]);
    if (!same(adapter.inputShape, config.inputShape) || !same(adapter.featureShape, config.featureShape) || adapter.numClasses !== config.numClasses) {
      throw new PiqConfigError(
        `${OWNER}: the classifier must match the saved interpreter (input ${shapeStr(config.inputShape)}, features ${shapeStr(config.featureShape)}, ${config.numClasses} classes), got input ${shapeStr(adapter.inputShape)}, features ${shapeStr(adapter.featureShape)}, ${adapter.numClasses} classes.`,
      );
    }
    const decoder = await InterpreterDecoder.fromConfigAsync(config.decoder);
    let quantizer: VectorQuantizer | undefined;
    try {
      quantizer = VectorQuantizer.fromConfig(config.quantizer);
      const target = options.target ?? createTarget(config.target.name, config.target.config);
      const loss = lossesFromSpec(config.losses);
      const model = new PiqModel({ classifier: adapter, decoder, quantizer, mode: config.mode, target, loss, outputActivation: config.outputActivation ?? 'sigmoid' });
      model.setWeights(weights, OWNER);
      return new Interpreter(model, Array.isArray(config.finetuned) ? config.finetuned : []);
    } catch (e) {
      decoder.dispose();
      quantizer?.dispose();
      throw e;
    }
  } finally {
    tf.dispose(Object.values(weights));
  }
}

