import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { PiqConfigError } from '../errors';
import { describe, optionKeys, optionsObject, shapeStr } from '../internal/checks';
import { checkFeatureBatch, checkInputBatch, type InputBatchChecks } from './input-check';
import { isClassifierAdapter, type ClassifierAdapter, type ClassifierOutputs, type LogitsAdapter, type LogitsFunction } from './types';

/**
 * How to read a classifier's output: raw `'logits'`, `'probabilities'` (a softmax output, turned
 * into log-probabilities so that `softmax(logits)` gives the probabilities back), or `'auto'`
 * (probabilities when a `tf.LayersModel` ends in a softmax activation, else logits).
 * @category Classifier
 */
export type ClassifierOutputKind = 'auto' | 'logits' | 'probabilities';

/**
 * A classifier given as a function of a batch, returning its tapped features and logits.
 * @category Classifier
 */
export type ClassifierFunction = (x: tf.Tensor) => { features: tf.Tensor; logits: tf.Tensor };

/**
 * The part of a `tf.GraphModel` (from `@tensorflow/tfjs-converter`) piq-tfjs uses. Declared
 * structurally so piq-tfjs does not depend on the converter package.
 * @category Classifier
 */
export interface GraphModelLike {
  /** Runs the graph on `inputs` and returns the named `outputs` nodes (tfjs-converter's `GraphModel.execute`). */
  execute(inputs: tf.Tensor | tf.Tensor[] | tf.NamedTensorMap, outputs?: string | string[]): tf.Tensor | tf.Tensor[];
  readonly inputs: ReadonlyArray<{ name: string; shape?: number[] }>;
  readonly outputNodes: string[];
}

/**
 * Options of {@link toClassifierAdapter}.
 * @category Classifier
 */
export interface ClassifierAdapterOptions {
  /**
   * LayersModel: name of the layer whose output PIQ taps. GraphModel: name of the feature node.
   * @defaultValue LayersModel: the last layer with a spatial output (`[batch, h, w, c]`, h·w > 1); required for GraphModel
   */
  featureLayer?: string;
  /**
   * GraphModel only: name of the logits (or probabilities) node.
   * @defaultValue the model's first output node
   */
  logitsNode?: string;
  /**
   * Input shape without batch. Required for a function classifier or a GraphModel without static input shape.
   * @defaultValue read from the model
   */
  inputShape?: readonly number[];
  /**
   * How to read the output. See {@link ClassifierOutputKind}.
   * @defaultValue 'auto'
   */
  outputKind?: ClassifierOutputKind;
}

const ADAPTER_KEYS = optionKeys<ClassifierAdapterOptions>({ featureLayer: true, logitsNode: true, inputShape: true, outputKind: true });

/**
 * Anything {@link toClassifierAdapter} accepts as a classifier.
 * @category Classifier
 */
export type ClassifierLike = tfl.LayersModel | GraphModelLike | ClassifierFunction | ClassifierAdapter;

/**
 * What metrics and attribution methods accept as the classifier: everything
 * {@link createInterpreter} accepts (a `tf.LayersModel`, a `tf.GraphModel`, a function returning
 * `{ features, logits }`, a {@link ClassifierAdapter}) and a plain logits function `(x) => logits`.
 * Grad-CAM needs the classifier split at the tapped layer (a `head`): a LayersModel with a spatial
 * layer is split by itself; GraphModels and functions cannot be.
 * @category Classifier
 */
export type ScoringClassifier = ClassifierLike | LogitsFunction;

const OWNER = 'toClassifierAdapter';
/** The adapter checks shapes only: dtype, empty batches and values are the caller's (tfjs models accept int inputs). */
const RUN_CHECKS: InputBatchChecks = { float32: false, nonEmpty: false };

export function isLayersModel(c: unknown): c is tfl.LayersModel {
  return c instanceof tfl.LayersModel;
}

export function isGraphModel(c: unknown): c is GraphModelLike {
  return (
    typeof c === 'object' &&
    c !== null &&
    typeof (c as GraphModelLike).execute === 'function' &&
    Array.isArray((c as GraphModelLike).outputNodes)
  );
}

function toLogits(out: tf.Tensor, probabilities: boolean): tf.Tensor2D {
  // log(p) are valid logits: softmax(log p) = p. The clip keeps log finite for p = 0.
  return (probabilities ? tf.log(tf.clipByValue(out, 1e-12, 1)) : out) as tf.Tensor2D;
}

function checkInputShape(value: unknown): number[] {
  if (!Array.isArray(value) || value.length === 0 || !value.every((d) => Number.isInteger(d) && (d as number) > 0)) {
    throw new PiqConfigError(
      `${OWNER}: 'inputShape' must be a non-empty array of positive integers (the input shape without batch), got ${Array.isArray(value) ? JSON.stringify(value) : describe(value)}.`,
    );
  }
  return [...(value as number[])];
}

function spatialLayers(model: tfl.LayersModel): tfl.layers.Layer[] {
  return model.layers.filter((l) => {
    let shape: unknown;
    try {
      shape = l.outputShape;
    } catch {
      return false; // layers with several outputs or not built
    }
    if (!Array.isArray(shape) || shape.length !== 4 || Array.isArray(shape[0])) return false;
    const [, h, w] = shape as Array<number | null>;
    return typeof h === 'number' && typeof w === 'number' && h * w > 1 && l.getClassName() !== 'InputLayer';
  });
}

/**
 * Builds the part of a LayersModel after `tap` as a function of the tap's output, by re-applying
 * the layers in topological order. Returns undefined when some layer after the tap also reads
 * a tensor from before the tap (a skip connection around it): then the model cannot be split.
 */
function buildHead(model: tfl.LayersModel, tap: tfl.layers.Layer): ((f: tf.Tensor4D) => tf.Tensor) | undefined {
  type SymT = tfl.SymbolicTensor;
  const tapOut = tap.output as SymT;
  const outSym = model.outputs[0] as SymT;
  // Collect nodes reachable downstream of the tap, in the model's (topological) layer order.
  const available = new Set<number>([tapOut.id]);
  const plan: Array<{ layer: tfl.layers.Layer; inputs: SymT[]; outputs: SymT[] }> = [];
  const tapIndex = model.layers.indexOf(tap);
  for (const layer of model.layers.slice(tapIndex + 1)) {
    for (const node of layer.inboundNodes) {
      const ins = node.inputTensors as SymT[];
      const outs = node.outputTensors as SymT[];
      if (ins.length === 0) continue;
      const fromTap = ins.some((t) => available.has(t.id));
      if (!fromTap) continue;
      if (!ins.every((t) => available.has(t.id))) return undefined;
      plan.push({ layer, inputs: ins, outputs: outs });
      for (const o of outs) available.add(o.id);
    }
  }
  if (!available.has(outSym.id)) return undefined;
  return (features: tf.Tensor4D) => {
    const values = new Map<number, tf.Tensor>([[tapOut.id, features]]);
    for (const step of plan) {
      const ins = step.inputs.map((s) => values.get(s.id) as tf.Tensor);
      const out = step.layer.apply(ins.length === 1 ? (ins[0] as tf.Tensor) : ins, { training: false });
      const outs = Array.isArray(out) ? out : [out];
      step.outputs.forEach((s, i) => values.set(s.id, outs[i] as tf.Tensor));
    }
    return values.get(outSym.id) as tf.Tensor;
  };
}

function fromLayersModel(model: tfl.LayersModel, opts: ClassifierAdapterOptions): ClassifierAdapter {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new PiqConfigError(
      `${OWNER}: 'classifier' must have exactly one input and one output, got ${model.inputs.length} inputs and ${model.outputs.length} outputs. Wrap it in a function classifier (x) => ({ features, logits }).`,
    );
  }
  const candidates = spatialLayers(model);
  const candidateNames = candidates.map((l) => `'${l.name}'`).join(', ') || '(none)';
  let tap: tfl.layers.Layer | undefined;
  if (opts.featureLayer !== undefined) {
    const named = model.layers.find((l) => l.name === opts.featureLayer);
    if (!named) {
      throw new PiqConfigError(
        `${OWNER}: 'featureLayer' must name a layer of the classifier, got ${describe(opts.featureLayer)}. Layers with a spatial output: ${candidateNames}.`,
      );
    }
    if (!candidates.includes(named)) {
      throw new PiqConfigError(
        `${OWNER}: 'featureLayer' must name a layer with a spatial output [batch, height, width, channels], got '${named.name}' with output shape ${JSON.stringify(named.outputShape)}. Layers with a spatial output: ${candidateNames}.`,
      );
    }
    tap = named;
  } else {
    tap = candidates[candidates.length - 1];
    if (!tap) {
      throw new PiqConfigError(
        `${OWNER}: 'classifier' must have a layer with a spatial output [batch, height, width, channels] (height·width > 1) to tap, got none among its layers ${model.layers.map((l) => `'${l.name}'`).join(', ')}. PIQ needs a convolutional feature map; pass a function classifier returning { features, logits } instead.`,
      );
    }
  }
  const inputShape = (model.inputs[0] as tfl.SymbolicTensor).shape.slice(1) as Array<number | null>;
  if (inputShape.some((d) => d === null) && opts.inputShape === undefined) {
    throw new PiqConfigError(`${OWNER}: 'inputShape' is required: the classifier's input shape ${JSON.stringify(inputShape)} is not fully known.`);
  }
  let resolvedInput = inputShape as number[];
  if (opts.inputShape !== undefined) {
    resolvedInput = checkInputShape(opts.inputShape);
    if (resolvedInput.length !== inputShape.length || inputShape.some((d, i) => d !== null && d !== resolvedInput[i])) {
      throw new PiqConfigError(
        `${OWNER}: 'inputShape' must agree with the classifier's input shape ${JSON.stringify(inputShape)}, got ${JSON.stringify(resolvedInput)}. Leave it out to use the model's.`,
      );
    }
  }
  const featureShape = (tap.outputShape as number[]).slice(1) as [number, number, number];
  const outShape = (model.outputs[0] as tfl.SymbolicTensor).shape;
  const numClasses = outShape[outShape.length - 1];
  if (outShape.length !== 2 || typeof numClasses !== 'number') {
    throw new PiqConfigError(`${OWNER}: 'classifier' must output [batch, numClasses], got output shape ${JSON.stringify(outShape)}.`);
  }
  const probabilities = readsProbabilities(model, opts.outputKind);
  // A second view over the same layers: shares weights, trains nothing, is never disposed by us
  // (disposing it would dispose the user's weights).
  const tapped = tfl.model({ inputs: model.inputs, outputs: [tap.output as tfl.SymbolicTensor, model.outputs[0] as tfl.SymbolicTensor] });
  const headFn = buildHead(model, tap);
  const owner = 'ClassifierAdapter.run';
  return {
    inputShape: resolvedInput,
    featureShape,
    numClasses,
    featureLayer: tap.name,
    run(x: tf.Tensor): ClassifierOutputs {
      checkInputBatch(owner, 'input', x, { inputShape: resolvedInput }, RUN_CHECKS);
      return tf.tidy(() => {
        const [f, y] = tapped.apply(x, { training: false }) as tf.Tensor[];
        return { features: f as tf.Tensor4D, logits: toLogits(y as tf.Tensor, probabilities) };
      });
    },
    logits(x: tf.Tensor): tf.Tensor2D {
      checkInputBatch('ClassifierAdapter.logits', 'input', x, { inputShape: resolvedInput }, RUN_CHECKS);
      return tf.tidy(() => toLogits(model.apply(x, { training: false }) as tf.Tensor, probabilities));
    },
    head: headFn
      ? (f: tf.Tensor4D) => {
          checkFeatureBatch('ClassifierAdapter.head', f, featureShape);
          return tf.tidy(() => toLogits(headFn(f), probabilities));
        }
      : undefined,
  };
}

/** Whether a LayersModel's output is read as probabilities (see {@link ClassifierOutputKind}). */
function readsProbabilities(model: tfl.LayersModel, kind: ClassifierOutputKind = 'auto'): boolean {
  const last = (model.outputs[0] as tfl.SymbolicTensor).sourceLayer;
  const endsInSoftmax = (last.getConfig() as { activation?: unknown }).activation === 'softmax' || last.getClassName() === 'Softmax';
  return kind === 'probabilities' || (kind === 'auto' && endsInSoftmax);
}

/**
 * A model as metrics and baselines see it: the full adapter of {@link toClassifierAdapter} when the
 * model can be tapped (a LayersModel with a spatial layer), else its logits alone (a LayersModel
 * without one, a GraphModel, whose feature node only the caller can name).
 */
export function modelScoringAdapter(model: tfl.LayersModel | GraphModelLike): ClassifierAdapter | LogitsAdapter {
  if (isLayersModel(model)) {
    if (model.inputs.length === 1 && model.outputs.length === 1 && spatialLayers(model).length === 0) {
      const probabilities = readsProbabilities(model);
      return { logits: (x) => tf.tidy(() => toLogits(model.apply(x, { training: false }) as tf.Tensor, probabilities)) };
    }
    return fromLayersModel(model, {});
  }
  const logitsNode = model.outputNodes[0];
  if (logitsNode === undefined) throw new PiqConfigError(`${OWNER}: 'classifier' must be a GraphModel with an output node, got one with none.`);
  const shape = model.inputs[0]?.shape?.slice(1);
  const known = shape !== undefined && shape.every((d) => d > 0);
  return {
    ...(known ? { inputShape: shape } : {}),
    logits: (x) => tf.tidy(() => toLogits(model.execute(x, logitsNode) as tf.Tensor, false)),
  };
}

function fromGraphModel(model: GraphModelLike, opts: ClassifierAdapterOptions): ClassifierAdapter {
  if (opts.featureLayer === undefined) {
    throw new PiqConfigError(`${OWNER}: a GraphModel classifier needs 'featureLayer' (the name of its feature node), got undefined.`);
  }
  if (model.inputs.length !== 1) {
    throw new PiqConfigError(
      `${OWNER}: 'classifier' must have exactly one input, got a GraphModel with ${model.inputs.length} inputs. Wrap it in a function classifier (x) => ({ features, logits }).`,
    );
  }
  const featureNode = opts.featureLayer;
  const logitsNode = opts.logitsNode ?? model.outputNodes[0];
  if (logitsNode === undefined) {
    throw new PiqConfigError(`${OWNER}: 'logitsNode' is required: the GraphModel lists no output nodes.`);
  }
  const modelShape = model.inputs[0]?.shape?.slice(1);
  const inputShape = opts.inputShape !== undefined ? checkInputShape(opts.inputShape) : modelShape;
  if (!inputShape || inputShape.some((d) => d === null || d < 0)) {
    throw new PiqConfigError(`${OWNER}: 'inputShape' is required: the GraphModel's input shape is ${JSON.stringify(modelShape ?? null)}.`);
  }
  const probabilities = opts.outputKind === 'probabilities';
  const exec = (x: tf.Tensor): tf.Tensor[] => {
    try {
      return model.execute(x, [featureNode, logitsNode]) as tf.Tensor[];
    } catch (e) {
      throw new PiqConfigError(`${OWNER}: running the GraphModel for nodes '${featureNode}', '${logitsNode}' failed: ${(e as Error).message}`);
    }
  };
  return probeAdapter(inputShape, (x) => {
    const [f, y] = exec(x);
    return { features: f as tf.Tensor, logits: toLogits(y as tf.Tensor, probabilities) };
  }, featureNode);
}

function probeAdapter(inputShape: number[], fn: (x: tf.Tensor) => { features: tf.Tensor; logits: tf.Tensor }, featureLayer?: string): ClassifierAdapter {
  // Probe with a batch of 2 so that outputs which drop or fix the batch dimension are caught.
  const probe = tf.tidy(() => {
    const out = fn(tf.zeros([2, ...inputShape]));
    return { f: out.features.shape.slice(), y: out.logits.shape.slice() };
  });
  if (probe.f.length !== 4 || probe.f[0] !== 2) {
    throw new PiqConfigError(
      `${OWNER}: 'classifier' must return features of shape [batch, height, width, channels], got shape ${shapeStr(probe.f)} for an input of shape ${shapeStr([2, ...inputShape])}.`,
    );
  }
  if (probe.y.length !== 2 || probe.y[0] !== 2) {
    throw new PiqConfigError(
      `${OWNER}: 'classifier' must return logits of shape [batch, numClasses], got shape ${shapeStr(probe.y)} for an input of shape ${shapeStr([2, ...inputShape])}.`,
    );
  }
  const featureShape = probe.f.slice(1) as [number, number, number];
  const numClasses = probe.y[1] as number;
  return {
    inputShape,
    featureShape,
    numClasses,
    featureLayer,
    run(x) {
      checkInputBatch('ClassifierAdapter.run', 'input', x, { inputShape }, RUN_CHECKS);
      return tf.tidy(() => {
        const o = fn(x);
        // The caller owns what run returns: never hand back their own input tensor.
        const own = (t: tf.Tensor): tf.Tensor => (t === x ? tf.clone(t) : t);
        return { features: own(o.features) as tf.Tensor4D, logits: own(o.logits) as tf.Tensor2D };
      });
    },
    logits(x) {
      checkInputBatch('ClassifierAdapter.logits', 'input', x, { inputShape }, RUN_CHECKS);
      return tf.tidy(() => {
        const y = fn(x).logits;
        return (y === x ? tf.clone(y) : y) as tf.Tensor2D;
      });
    },
  };
}

/**
 * Wraps a user's classifier in the uniform, frozen {@link ClassifierAdapter} PIQ works with:
 * a `tf.LayersModel` (sequential or functional; the tapped layer named by `featureLayer` or found
 * automatically), a `tf.GraphModel` with named feature and logits nodes, or a function
 * `(x) => ({ features, logits })`. The classifier is never trained, mutated, disposed or serialized.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import * as tfl from '@tensorflow/tfjs-layers';
 * import { toClassifierAdapter } from 'piq-tfjs';
 * const model = tfl.sequential({ layers: [
 *   tfl.layers.conv2d({ inputShape: [8, 8, 1], filters: 4, kernelSize: 3, padding: 'same', name: 'features' }),
 *   tfl.layers.flatten(),
 *   tfl.layers.dense({ units: 3, activation: 'softmax' }),
 * ] });
 * const adapter = toClassifierAdapter(model);
 * console.log(adapter.featureLayer, adapter.featureShape, adapter.numClasses); // features [8, 8, 4] 3
 * ```
 * @category Classifier
 */
export function toClassifierAdapter(classifier: ClassifierLike, options: ClassifierAdapterOptions = {}): ClassifierAdapter {
  optionsObject(OWNER, options, ADAPTER_KEYS);
  if (options.outputKind !== undefined && !['auto', 'logits', 'probabilities'].includes(options.outputKind)) {
    throw new PiqConfigError(`${OWNER}: 'outputKind' must be one of 'auto', 'logits', 'probabilities', got ${describe(options.outputKind)}.`);
  }
  if (isClassifierAdapter(classifier)) return classifier;
  if (isLayersModel(classifier)) return fromLayersModel(classifier, options);
  if (isGraphModel(classifier)) return fromGraphModel(classifier, options);
  if (typeof classifier === 'function') {
    if (options.inputShape === undefined) {
      throw new PiqConfigError(`${OWNER}: 'inputShape' must be given for a function classifier (the input shape without batch, e.g. [28, 28, 1]), got undefined.`);
    }
    const inputShape = checkInputShape(options.inputShape);
    const probabilities = options.outputKind === 'probabilities';
    const fn = classifier;
    return probeAdapter(inputShape, (x) => {
      const out = fn(x);
      if (!out || !(out.features instanceof tf.Tensor) || !(out.logits instanceof tf.Tensor)) {
        throw new PiqConfigError(`${OWNER}: 'classifier' must return { features, logits } tensors, got ${describe(out)}.`);
      }
      return { features: out.features, logits: toLogits(out.logits, probabilities) };
    }, options.featureLayer);
  }
  throw new PiqConfigError(
    `${OWNER}: 'classifier' must be a tf.LayersModel, a tf.GraphModel, a function (x) => ({ features, logits }) or a ClassifierAdapter, got ${describe(classifier)}.`,
  );
}
