// The classifier as metrics and baselines use it: one adapter concept (a logits function is an
// adapter that only has `logits`), the validated arguments every scoring call starts from, and the
// classifier-decision comparison behind input fidelity.
import * as tf from '@tensorflow/tfjs-core';
import { PiqConfigError, PiqInputError } from '../errors';
import { describe, positiveInt, shapeStr } from '../internal/checks';
import { isTensor } from '../internal/tensor-checks';
import { isGraphModel, isLayersModel, modelScoringAdapter } from './classifier-adapter';
import { checkInputBatch } from './input-check';
import { isClassifierAdapter, type LogitsAdapter } from './types';

/**
 * Normalises a classifier argument (a LayersModel, a GraphModel, a ClassifierAdapter, a function
 * returning logits or `{ features, logits }`) to a {@link LogitsAdapter} whose `logits` checks the
 * returned shape and casts to float32.
 */
export function toLogitsAdapter(owner: string, classifier: unknown): LogitsAdapter {
  const checked = (raw: (x: tf.Tensor) => tf.Tensor) => (x: tf.Tensor): tf.Tensor2D => {
    const out = raw(x);
    if (!isTensor(out) || out.rank !== 2 || out.shape[0] !== x.shape[0]) {
      throw new PiqConfigError(
        `${owner}: 'classifier' must return logits of shape [batch, numClasses] = [${x.shape[0]}, numClasses], ` +
          `got ${isTensor(out) ? `shape ${shapeStr(out.shape)}` : describe(out)}. Return a 2-D logits tensor.`,
      );
    }
    return out.dtype === 'float32' ? (out as tf.Tensor2D) : (tf.cast(out, 'float32') as tf.Tensor2D);
  };
  if (isLayersModel(classifier) || isGraphModel(classifier)) {
    const view = modelScoringAdapter(classifier);
    if (!isClassifierAdapter(view)) return { ...view, logits: checked(view.logits) };
    classifier = view;
  }
  if (typeof classifier === 'function') {
    const fn = classifier as (x: tf.Tensor) => unknown;
    // A logits function, or a function classifier as createInterpreter takes it ({ features, logits }).
    return { logits: checked((x) => tf.tidy(() => logitsOf(fn(x)) as tf.Tensor)) };
  }
  if (isClassifierAdapter(classifier)) {
    // Methods are called on the adapter itself (it may be a class instance using `this`).
    const c = classifier;
    const head = c.head;
    return {
      inputShape: c.inputShape,
      featureShape: c.featureShape,
      numClasses: c.numClasses,
      featureLayer: c.featureLayer,
      run: (x) => c.run(x),
      logits: checked((x) => c.logits(x)),
      head: typeof head === 'function' ? (f) => head.call(c, f) : undefined,
    };
  }
  throw new PiqConfigError(
    `${owner}: 'classifier' must be a tf.LayersModel, a tf.GraphModel, a ClassifierAdapter or a function (x) => logits, got ${describe(classifier)}.`,
  );
}

/** The logits tensor of what a classifier function returned (itself, or its `logits` field); anything else as is, for the shape check. */
function logitsOf(out: unknown): unknown {
  if (!isTensor(out) && typeof out === 'object' && out !== null && isTensor((out as { logits?: unknown }).logits)) return (out as { logits: tf.Tensor }).logits;
  return out;
}

/** Validated arguments of one metric or attribution call. */
export interface ScoringContext {
  readonly classifier: LogitsAdapter;
  /** The inputs `[batch, ...inputShape]` (float32, finite, non-empty). */
  readonly inputs: tf.Tensor;
  readonly count: number;
  readonly batchSize: number;
  readonly numClasses: number;
  /** The class to score per example, or undefined for the predicted class. */
  readonly targets: Int32Array | undefined;
}

/**
 * Validates what every metric and attribution method takes besides the classifier (normalise that
 * first with {@link toLogitsAdapter}): the inputs (through {@link checkInputBatch}), `batchSize`
 * and the optional `target` classes.
 */
export function prepareScoring(
  owner: string,
  classifier: LogitsAdapter,
  inputs: unknown,
  options: { batchSize?: number; target?: unknown } | undefined,
  defaultBatchSize: number,
): ScoringContext {
  const x = checkInputBatch(owner, 'inputs', inputs, classifier, { finite: true });
  const batchSize = positiveInt(owner, 'batchSize', options?.batchSize ?? defaultBatchSize);
  const count = x.shape[0] as number;
  const numClasses = numClassesOf(classifier, x);
  const targets = resolveTargetClasses(owner, options?.target, count, numClasses);
  return { classifier, inputs: x, count, batchSize, numClasses, targets };
}

/**
 * Number of classes: from the adapter, or by running the logits function on the first example
 * (which also checks early that the function returns `[batch, numClasses]`).
 */
function numClassesOf(classifier: LogitsAdapter, inputs: tf.Tensor): number {
  if (classifier.numClasses !== undefined) return classifier.numClasses;
  return tf.tidy(() => classifier.logits(tf.slice(inputs, 0, 1)).shape[1]);
}

/**
 * Validates an optional `target` (class index per example) and returns it as an Int32Array,
 * or undefined when the predicted class should be used.
 */
function resolveTargetClasses(owner: string, target: unknown, batch: number, numClasses: number): Int32Array | undefined {
  if (target === undefined) return undefined;
  let values: ArrayLike<number>;
  if (isTensor(target)) {
    if (target.isDisposed) {
      throw new PiqInputError(`${owner}: 'target' is a disposed tensor. Pass a live tensor.`);
    }
    if (target.rank !== 1) {
      throw new PiqInputError(`${owner}: 'target' must be a 1-D tensor of class indices, got shape ${shapeStr(target.shape)}.`);
    }
    values = target.dataSync();
  } else if (Array.isArray(target) || target instanceof Int32Array) {
    values = target as ArrayLike<number>;
  } else {
    throw new PiqConfigError(
      `${owner}: 'target' must be an array or 1-D tensor of class indices, got ${describe(target)}. Omit it to use the predicted class.`,
    );
  }
  if (values.length !== batch) {
    throw new PiqInputError(
      `${owner}: 'target' must have one class index per example (${batch}), got ${values.length}. Pass one target per input.`,
    );
  }
  const out = new Int32Array(batch);
  for (let i = 0; i < batch; i++) {
    const v = values[i];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= numClasses) {
      throw new PiqInputError(
        `${owner}: 'target' must hold integer class indices in [0, ${numClasses - 1}], got ${describe(v)} at index ${i}. ` +
          `The classifier has ${numClasses} classes.`,
      );
    }
    out[i] = v;
  }
  return out;
}

/**
 * Input fidelity per example, the one definition used by the trainer's validation and the
 * `inputFidelity` metric: 1 where the classifier's decision on the
 * interpretation (or masked input) equals its decision on the input, else 0.
 */
export function decisionAgreement(decisions: ArrayLike<number>, onInterpretation: ArrayLike<number>): Float32Array {
  return Float32Array.from({ length: decisions.length }, (_, i) => (onInterpretation[i] === decisions[i] ? 1 : 0));
}
