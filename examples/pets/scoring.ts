// Scoring interpretations of pet photos against the ground-truth trimaps and with the faithfulness
// metrics, all through piq-tfjs's own metric functions; plus the side-by-side overlap test.
import * as tf from '@tensorflow/tfjs-core';
import { evaluateInterpretations, maskIoU, pointingGame, type ScoringClassifier } from 'piq-tfjs';

/** Ground-truth pet regions `[n, h, w]` in {0, 1} under both border rules (see BorderRule in dataset.ts). */
export interface Truth {
  /** Border pixels count as pet (the main score). */
  pet: tf.Tensor3D;
  /** Border pixels count as background (strict). */
  strict: tf.Tensor3D;
}

/** Pointing game and IoU (threshold 0.5) of masks `[n, h, w]` in [0, 1] against both regions. */
export function trimapScores(masks: tf.Tensor3D, truth: Truth): { pointing: number; iou: number; pointingStrict: number; iouStrict: number } {
  return {
    pointing: pointingGame(masks, truth.pet).mean,
    iou: maskIoU(masks, truth.pet).mean,
    pointingStrict: pointingGame(masks, truth.strict).mean,
    iouStrict: maskIoU(masks, truth.strict).mean,
  };
}

export interface MethodScores {
  AI: number;
  AD: number;
  AG: number;
  FF: number;
  /** Mask-in input fidelity: argmax f(M ⊙ x) = argmax f(x). */
  FidIn: number;
  SPS: number;
  COMP: number;
  pointing: number;
  iou: number;
  pointingStrict: number;
  iouStrict: number;
}

/** The faithfulness metrics (evaluateInterpretations) and the trimap scores of one method's masks. */
export async function scoreMasks(classifier: ScoringClassifier, x: tf.Tensor4D, masks: tf.Tensor3D, truth: Truth): Promise<MethodScores> {
  const e = await evaluateInterpretations(classifier, x, masks, {
    metrics: ['averageIncrease', 'averageDrop', 'averageGain', 'faithfulness', 'inputFidelity', 'sparseness', 'complexity'],
    batchSize: 32,
  });
  const m = (k: keyof typeof e.metrics) => e.metrics[k]?.mean ?? NaN;
  return {
    AI: m('averageIncrease'),
    AD: m('averageDrop'),
    AG: m('averageGain'),
    FF: m('faithfulness'),
    FidIn: m('inputFidelity'),
    SPS: m('sparseness'),
    COMP: m('complexity'),
    ...trimapScores(masks, truth),
  };
}

/** Pairs `[a, b]` of positions in `labels` with different labels, deterministic, each position used once at most per side. */
export function overlapPairs(labels: ArrayLike<number>, count: number): Array<[number, number]> {
  const n = labels.length;
  const pairs: Array<[number, number]> = [];
  for (let step = 1; step < n && pairs.length < count; step++) {
    for (let i = 0; i < n && pairs.length < count; i++) {
      const j = (i * 7 + 13 * step) % n;
      if (labels[i] !== labels[j] && !pairs.some(([a, b]) => a === i && b === j)) pairs.push([i, j]);
    }
  }
  return pairs;
}

/**
 * Two photos side by side in one `size`² image: each downscaled 2x (2x2 mean) to `size/2`², left and
 * right, vertically centred on a uniform `background`. Photos are `[*, size, size, 3]` in [0, 1].
 */
export function sideBySide(photos: Float32Array, pairs: ReadonlyArray<readonly [number, number]>, size: number, background = 0.5): Float32Array {
  const per = size * size * 3;
  const half = size / 2;
  const top = Math.floor((size - half) / 2);
  const out = new Float32Array(pairs.length * per).fill(background);
  pairs.forEach(([a, b], k) => {
    [a, b].forEach((src, side) => {
      for (let y = 0; y < half; y++) {
        for (let x = 0; x < half; x++) {
          for (let c = 0; c < 3; c++) {
            let s = 0;
            for (let dy = 0; dy < 2; dy++) for (let dx = 0; dx < 2; dx++) s += photos[src * per + ((2 * y + dy) * size + 2 * x + dx) * 3 + c] as number;
            out[k * per + ((top + y) * size + side * half + x) * 3 + c] = s / 4;
          }
        }
      }
    });
  });
  return out;
}

/** Share of a mask's mass `[size, size]` (row-major) on the left (side 0) or right (side 1) half. */
export function halfShare(mask: ArrayLike<number>, size: number, side: 0 | 1): number {
  let on = 0;
  let all = 0;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const v = mask[y * size + x] as number;
      all += v;
      if ((x < size / 2 ? 0 : 1) === side) on += v;
    }
  }
  return all > 0 ? on / all : 0.5;
}

export interface OverlapScores {
  pairs: number;
  /** Share of pairs whose prediction is the class of one of the two photos. */
  predictedOneOfTwo: number;
  /** Among those: share of pairs whose mask puts more than half its mass on the predicted photo's half. */
  onPredictedHalf: number;
  /** Among those: mean share of mask mass on the predicted photo's half (0.5 = no preference). */
  meanShare: number;
}

/** The overlap test's scores for masks `[pairs, size, size]` and the classifier's decisions on the pairs. */
export function overlapScores(masks: Float32Array, predicted: ArrayLike<number>, pairs: ReadonlyArray<readonly [number, number]>, labels: ArrayLike<number>, size: number): OverlapScores {
  let one = 0;
  let hits = 0;
  let share = 0;
  pairs.forEach(([a, b], i) => {
    const c = predicted[i];
    const side = c === labels[a] ? 0 : c === labels[b] ? 1 : -1;
    if (side < 0) return;
    one++;
    const s = halfShare(masks.subarray(i * size * size, (i + 1) * size * size), size, side as 0 | 1);
    share += s;
    if (s > 0.5) hits++;
  });
  return { pairs: pairs.length, predictedOneOfTwo: one / pairs.length, onPredictedHalf: one ? hits / one : NaN, meanShare: one ? share / one : NaN };
}
