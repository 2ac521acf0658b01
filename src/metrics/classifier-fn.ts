// Internal: shared by metrics/ and baselines/. Normalises "a ClassifierAdapter or a logits
// function" into one checked logits function, and validates the tensors every metric and
// baseline takes (inputs, targets, batch sizes). Not part of the public API.
import * as tf from '@tensorflow/tfjs-core';
import type { ClassifierAdapter } from '../classifier/types';
import { PiqConfigError, PiqInputError } from '../errors';
import { assertFinite, describe, floatTensor, isTensor, positiveInt, shapeStr } from '../internal/validate';

/**
 * A function from a batch of inputs `[batch, ...inputShape]` to class logits `[batch, numClasses]`.
 * It must be differentiable (built from tf ops) for the gradient baselines.
 * @category Metrics
 */
export type LogitsFunction = (x: tf.Tensor) => tf.Tensor;

/**
 * What metrics and baselines accept as the classifier: a {@link ClassifierAdapter} or a plain
 * logits function (logits, not probabilities: metrics apply softmax themselves).
 * @category Metrics
 */
export type ScoringClassifier = ClassifierAdapter | LogitsFunction;

/** A classifier reduced to a checked logits function plus what is known about it. */
export interface ResolvedClassifier {
  /** Logits `[batch, numClasses]`; throws PiqConfigError when the classifier returns another shape. */
  readonly logits: (x: tf.Tensor) => tf.Tensor2D;
  /** The adapter, when one was given. */
  readonly adapter: ClassifierAdapter | undefined;
}

function isAdapter(value: unknown): value is ClassifierAdapter {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { logits?: unknown }).logits === 'function' &&
    typeof (value as { run?: unknown }).run === 'function'
  );
}

/** Normalises a classifier argument to a checked logits function. */
export function resolveClassifier(owner: string, classifier: unknown): ResolvedClassifier {
  let raw: LogitsFunction;
  let adapter: ClassifierAdapter | undefined;
  if (typeof classifier === 'function') {
    raw = classifier as LogitsFunction;
  } else if (isAdapter(classifier)) {
    adapter = classifier;
    raw = (x) => classifier.logits(x);
  } else {
    throw new PiqConfigError(
      `${owner}: 'classifier' must be a ClassifierAdapter or a function (x) => logits, got ${describe(classifier)}. ` +
        'Wrap a model with toClassifierAdapter(model) or pass (x) => model.predict(x).',
    );
  }
  const logits = (x: tf.Tensor): tf.Tensor2D => {
    const out = raw(x);
    if (!isTensor(out) || out.rank !== 2 || out.shape[0] !== x.shape[0]) {
      throw new PiqConfigError(
        `${owner}: 'classifier' must return logits of shape [batch, numClasses] = [${x.shape[0]}, numClasses], ` +
          `got ${isTensor(out) ? `shape ${shapeStr(out.shape)}` : describe(out)}. Return a 2-D logits tensor.`,
      );
    }
    return out.dtype === 'float32' ? (out as tf.Tensor2D) : (tf.cast(out, 'float32') as tf.Tensor2D);
  };
  return { logits, adapter };
}

/**
 * Validates a batch of classifier inputs: float32, rank >= 2, non-empty batch, finite, and
 * matching the adapter's input shape when there is one.
 */
export function checkInputs(owner: string, name: string, value: unknown, resolved: ResolvedClassifier): tf.Tensor {
  const x = floatTensor(owner, name, value);
  if (x.rank < 2 || x.shape[0] === 0) {
    throw new PiqInputError(
      `${owner}: '${name}' must be a non-empty batch [batch, ...inputShape], got shape ${shapeStr(x.shape)}. Add a batch dimension.`,
    );
  }
  const expected = resolved.adapter?.inputShape;
  if (expected !== undefined) {
    const actual = x.shape.slice(1);
    const ok = actual.length === expected.length && expected.every((d, i) => !(d > 0) || d === actual[i]);
    if (!ok) {
      throw new PiqInputError(
        `${owner}: '${name}' must have shape [batch, ${expected.join(', ')}] to match the classifier, got ${shapeStr(x.shape)}. Reshape or resize the inputs.`,
      );
    }
  }
  assertFinite(owner, name, x);
  return x;
}

/**
 * Number of classes: from the adapter, or by running the logits function on the first example
 * (which also checks early that the function returns `[batch, numClasses]`).
 */
export function numClassesOf(resolved: ResolvedClassifier, inputs: tf.Tensor): number {
  const fromAdapter = resolved.adapter?.numClasses;
  if (fromAdapter !== undefined) return fromAdapter;
  return tf.tidy(() => {
    const first = tf.slice(inputs, 0, 1);
    return resolved.logits(first).shape[1];
  });
}

/**
 * Validates an optional `target` (class index per example) and returns it as an Int32Array,
 * or undefined when the predicted class should be used.
 */
export function resolveTargets(owner: string, target: unknown, batch: number, numClasses: number): Int32Array | undefined {
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

/** Validates the `batchSize` option (positive integer, default 32). */
export function resolveBatchSize(owner: string, value: unknown, fallback: number): number {
  return positiveInt(owner, 'batchSize', value ?? fallback);
}

/** Index of the largest entry of `row[offset .. offset+length)` (first on ties). */
export function argmaxRow(values: ArrayLike<number>, offset: number, length: number): number {
  let best = 0;
  let bestValue = -Infinity;
  for (let k = 0; k < length; k++) {
    const v = values[offset + k] as number;
    if (v > bestValue) {
      bestValue = v;
      best = k;
    }
  }
  return best;
}

/** The target class per example of a chunk: the given targets, or the argmax of the logits. */
export function chunkTargets(logits: tf.Tensor2D, targets: Int32Array | undefined, start: number): tf.Tensor1D {
  if (targets !== undefined) {
    return tf.tensor1d(targets.subarray(start, start + logits.shape[0]), 'int32');
  }
  return tf.argMax(logits, 1) as tf.Tensor1D;
}
