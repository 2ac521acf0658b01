// The one check of a batch of classifier inputs. Every caller that feeds inputs to a classifier
// (the adapter itself, Interpreter.interpret, the Trainer, metrics and baselines) validates through
// it, so the same mistake gets the same message everywhere.
import type * as tf from '@tensorflow/tfjs-core';
import { PiqInputError } from '../errors';
import { describe, shapeStr } from '../internal/checks';
import { allFinite, assertFinite, firstNonFiniteExample, floatTensor, isTensor } from '../internal/tensor-checks';
import type { ClassifierAdapter } from './types';

/** What {@link checkInputBatch} verifies beyond "a live tensor of the classifier's input shape". */
export interface InputBatchChecks {
  /** Require dtype float32. @defaultValue true */
  float32?: boolean;
  /** Require at least one example. @defaultValue true */
  nonEmpty?: boolean;
  /** Reject NaN / Infinity (one synchronous read-back). @defaultValue false */
  finite?: boolean;
}

/**
 * Validates a batch `[batch, ...inputShape]` for a classifier and returns it as a tensor. `name`
 * is quoted in messages (`'input'`) unless it already holds quotes (`each batch of 'data'`).
 * Input dimensions the adapter does not fix (not > 0) match anything; without an input shape
 * (a plain logits function) only a batch axis is required.
 */
export function checkInputBatch(
  owner: string,
  name: string,
  value: unknown,
  classifier: Partial<Pick<ClassifierAdapter, 'inputShape'>>,
  checks: InputBatchChecks = {},
): tf.Tensor {
  const label = name.includes("'") ? name : `'${name}'`;
  const shape = classifier.inputShape;
  const expected = shape === undefined ? '[batch, ...inputShape]' : `[batch, ${shape.join(', ')}]`;
  if (!isTensor(value)) throw new PiqInputError(`${owner}: ${label} must be a tf.Tensor of shape ${expected}, got ${describe(value)}.`);
  if (value.isDisposed) throw new PiqInputError(`${owner}: ${label} is a disposed tensor. Pass a live tensor.`);
  const fits = (s: readonly number[], offset: number) => shape !== undefined && shape.every((d, i) => !(d > 0) || s[i + offset] === d);
  if (shape === undefined ? value.rank < 2 : value.rank !== shape.length + 1 || !fits(value.shape, 1)) {
    const missingBatch = shape === undefined ? value.rank < 2 : value.rank === shape.length && fits(value.shape, 0);
    const hint = missingBatch ? ' Add a batch dimension, e.g. tf.expandDims(input, 0).' : '';
    throw new PiqInputError(`${owner}: ${label} must have shape ${expected} to match the classifier, got ${shapeStr(value.shape)}.${hint}`);
  }
  if ((checks.float32 ?? true) && value.dtype !== 'float32') {
    throw new PiqInputError(`${owner}: ${label} must have dtype float32, got ${value.dtype}. Cast it with tf.cast(x, 'float32').`);
  }
  if ((checks.nonEmpty ?? true) && value.shape[0] === 0) {
    throw new PiqInputError(`${owner}: ${label} must contain at least one example, got shape ${shapeStr(value.shape)}.`);
  }
  if (checks.finite && !allFinite(value)) {
    throw new PiqInputError(`${owner}: ${label} must contain only finite values, got NaN or Infinity. Clean the input first.`);
  }
  return value;
}

/**
 * Refuses a batch holding NaN or ±Infinity, naming the first such example (one asynchronous
 * read-back of one flag per example). `where` says which batch it is (e.g. `of batch 3 of epoch 0`).
 */
export async function checkFiniteExamples(owner: string, label: string, x: tf.Tensor, where = '', fix = 'Clean the data first.'): Promise<void> {
  const i = await firstNonFiniteExample(x);
  if (i >= 0) throw new PiqInputError(`${owner}: ${label} must contain only finite values, got NaN or Infinity in example ${i}${where} (0-based). ${fix}`);
}

/** Validates a feature map `[batch, ...featureShape]` (Grad-CAM's head input). */
export function checkFeatureBatch(owner: string, value: unknown, featureShape: readonly number[]): tf.Tensor4D {
  if (!isTensor(value) || value.rank !== 4 || featureShape.some((d, i) => value.shape[i + 1] !== d)) {
    throw new PiqInputError(
      `${owner}: 'features' must have shape [batch, ${featureShape.join(', ')}] (the tapped feature shape), got ${isTensor(value) ? shapeStr(value.shape) : describe(value)}.`,
    );
  }
  return value as tf.Tensor4D;
}

/**
 * Validates a reference input (a baseline of integrated gradients or of a deletion / insertion
 * curve) given as a tensor: float32, finite, with the shape of one input (`[...inputShape]`,
 * shared by the batch) or of the whole batch.
 */
export function checkReferenceInput(owner: string, name: string, value: unknown, inputs: tf.Tensor): tf.Tensor {
  const t = floatTensor(owner, name, value);
  const inner = inputs.shape.slice(1);
  const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);
  if (!same(t.shape, inner) && !same(t.shape, inputs.shape)) {
    throw new PiqInputError(
      `${owner}: '${name}' must be a number or a tensor of shape ${shapeStr(inner)} or ${shapeStr(inputs.shape)}, got ${shapeStr(t.shape)}. ` +
        'Pass one baseline for all inputs or one per input.',
    );
  }
  assertFinite(owner, name, t);
  return t;
}
