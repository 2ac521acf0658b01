// The worked example of docs/custom-losses.md, exercised: a custom codebook loss, by hand, by
// gradient, in training, and saved/loaded by its registered name.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInterpreter } from '../../src/api/create-interpreter';
import type { Interpreter } from '../../src/api/interpreter';
import { loadInterpreter } from '../../src/api/load-interpreter';
import { codebookLoss, commitmentLoss, reconstructionLoss } from '../../src/losses/builtin';
import { createLoss, registerLoss } from '../../src/losses/registry';
import type { Loss, LossContext } from '../../src/losses/types';
import { squaresDataset, trainedTinyClassifier } from '../fixtures/synthetic';
import { expectNoTensorLeak } from '../helpers';
import { contextFixture, gradsOf, valueOf } from './context';

// ---- The example, as in docs/custom-losses.md ------------------------------------------------

/** Options of codeDiversityLoss. */
export interface CodeDiversityOptions {
  /** Cosine similarity two codes of a class may have before they are penalised. @defaultValue 0 */
  margin?: number;
}

/**
 * Keeps the codes of each class apart: the mean, over pairs of distinct codes (i, j) in the same
 * class block, of max(0, cos(e_i, e_j) − margin)², averaged over classes. Shared codes are left alone.
 */
export function codeDiversityLoss(options: CodeDiversityOptions = {}): Loss {
  const margin = options.margin ?? 0;
  return {
    name: 'codeDiversity',
    getConfig: () => ({ margin }),
    compute: (ctx: LossContext) =>
      tf.tidy(() => {
        const codebook = ctx.quantizer.codebook(); // [codebookSize, codeDim], differentiable
        const perClass: tf.Tensor[] = [];
        for (let c = 0; c < ctx.numClasses; c++) {
          const { start, size } = ctx.quantizer.layout.blockOf(c);
          if (size < 2) continue;
          const block = tf.slice(codebook, [start, 0], [size, -1]);
          const norms = tf.sqrt(tf.add(tf.sum(tf.square(block), 1, true), 1e-12));
          const unit = tf.div(block, norms);
          const cos = tf.matMul(unit, tf.transpose(unit)); // [size, size]
          const offDiagonal = tf.sub(1, tf.eye(size));
          const excess = tf.mul(tf.square(tf.relu(tf.sub(cos, margin))), offDiagonal);
          perClass.push(tf.div(tf.sum(excess), size * (size - 1)));
        }
        return (perClass.length > 0 ? tf.mean(tf.stack(perClass)) : tf.scalar(0)) as tf.Scalar;
      }),
  };
}

// Register once, before any loadInterpreter, so saved interpreters find it by name.
registerLoss('codeDiversity', (config) => codeDiversityLoss(config as CodeDiversityOptions));

// ---- Unit checks on a hand-built context ------------------------------------------------------

describe('the codeDiversity example loss on a hand-built context', () => {
  // 2 classes x 2 codes + 1 shared code, D = 2.
  // Class 0: [1, 0] and [1, 1] → cos = 1/√2. Class 1: [0, 1] and [0, −2] → cos = −1. Shared: [1, 0.1].
  const fx = contextFixture({
    shape: [1, 1, 2, 1],
    logits: [0, 1],
    codebook: [[1, 0], [1, 1], [0, 1], [0, -2], [1, 0.1]],
    layout: { numClasses: 2, codesPerClass: 2, sharedCodes: 1 },
  });
  afterAll(() => fx.dispose());

  it('equals the hand value: class 0 pays (1/√2)², class 1 (opposite codes) pays nothing', () => {
    // Class 0: two ordered off-diagonal pairs, each 0.5 → 1 / (2·1) = 0.5. Class 1: 0. Mean 0.25.
    expect(valueOf(fx, (ctx) => codeDiversityLoss().compute(ctx))).toBeCloseTo(0.25, 6);
    // margin 0.5: class 0 pays (1/√2 − 0.5)² = 0.0428932…, mean over classes half of that.
    expect(valueOf(fx, (ctx) => codeDiversityLoss({ margin: 0.5 }).compute(ctx))).toBeCloseTo((Math.SQRT1_2 - 0.5) ** 2 / 2, 6);
  });

  it('sends gradient to the class-0 codes only (not to class 1 at cos = −1, nor to the shared code)', () => {
    const g = gradsOf(fx, (ctx) => codeDiversityLoss().compute(ctx));
    const rows = [0, 1, 2, 3, 4].map((r) => g.codebook.slice(2 * r, 2 * r + 2));
    expect(rows[0]?.some((v) => v !== 0)).toBe(true);
    expect(rows[1]?.some((v) => v !== 0)).toBe(true);
    expect(rows.slice(2).flat().every((v) => v === 0)).toBe(true);
    expect(g.logits.every((v) => v === 0)).toBe(true);
  });

  it('leaves no tensor behind', async () => {
    const { ctx, dispose } = fx.build();
    await expectNoTensorLeak(() => codeDiversityLoss().compute(ctx).dispose());
    dispose();
  });

  it('is recreated by its registered name with the same config and value', () => {
    const loss = codeDiversityLoss({ margin: 0.25 });
    const again = createLoss('codeDiversity', JSON.parse(JSON.stringify(loss.getConfig())) as Record<string, unknown>);
    expect(again.getConfig()).toEqual({ margin: 0.25 });
    expect(valueOf(fx, (ctx) => again.compute(ctx))).toBe(valueOf(fx, (ctx) => loss.compute(ctx)));
  });
});

// ---- Integration: train with it, save and load it by name -------------------------------------

/** Diversity penalty of a quantizer's current codebook, computed in plain JS from the numbers. */
function diversityOf(interpreter: Interpreter): number {
  const q = interpreter.model.quantizer;
  const cb = q.getCodebook();
  const rows = cb.arraySync();
  cb.dispose();
  const perClass: number[] = [];
  for (let c = 0; c < q.layout.numClasses; c++) {
    const { start, size } = q.layout.blockOf(c);
    let s = 0;
    for (let i = start; i < start + size; i++) {
      for (let j = start; j < start + size; j++) {
        if (i === j) continue;
        const a = rows[i] as number[];
        const b = rows[j] as number[];
        const dot = a.reduce((u, v, k) => u + v * (b[k] as number), 0);
        const cos = dot / Math.sqrt(a.reduce((u, v) => u + v * v, 0) * b.reduce((u, v) => u + v * v, 0));
        s += Math.max(0, cos) ** 2;
      }
    }
    perClass.push(s / (size * (size - 1)));
  }
  return perClass.reduce((u, v) => u + v, 0) / perClass.length;
}

describe('training and saving an interpreter with the codeDiversity loss', () => {
  let classifier: tfl.Sequential;
  let images: tf.Tensor4D;
  const baseLosses = () => [
    { loss: reconstructionLoss(), weight: 1 },
    { loss: codebookLoss(), weight: 1 },
    { loss: commitmentLoss(), weight: 1 },
  ];
  // Uniform init: the diversity before training is then the same for both interpreters (data init would re-seed the codes).
  const options = { quantizer: { layout: { codesPerClass: 4 }, init: 'uniform' as const }, seed: 5 };
  const fit = { epochs: 1, batchSize: 16, learningRate: 0.01, logEvery: 1, shuffle: false };

  beforeAll(async () => {
    classifier = await trainedTinyClassifier();
    images = squaresDataset(32, 3).images;
  });
  afterAll(() => {
    images.dispose();
    classifier.dispose();
  });

  it('reports the term in training and leaves the codes of each class more diverse than training without it', async () => {
    const plain = await createInterpreter({ classifier, losses: baseLosses(), ...options });
    const diverse = await createInterpreter({ classifier, losses: [...baseLosses(), { loss: codeDiversityLoss(), weight: 10 }], ...options });
    const start = diversityOf(diverse);
    expect(diversityOf(plain)).toBeCloseTo(start, 10); // same seed, same initial codebook

    await plain.fit(images, fit);
    const history = await diverse.fit(images, fit);
    expect(history.steps).toBe(2);
    const logged = history.epochs[0]?.loss ?? {};
    expect(Object.keys(logged)).toEqual(expect.arrayContaining(['total', 'reconstruction', 'codebook', 'commitment', 'codeDiversity']));
    expect(Number.isFinite(logged.codeDiversity)).toBe(true);
    expect(diversityOf(diverse)).toBeLessThan(start);
    expect(diversityOf(diverse)).toBeLessThan(diversityOf(plain));
    plain.dispose();
    diverse.dispose();
  });

  it('is saved by name: a loaded interpreter has the same loss spec and recreates the custom loss', async () => {
    const original = await createInterpreter({ classifier, losses: [...baseLosses(), { loss: codeDiversityLoss({ margin: 0.1 }), weight: 0.5 }], ...options });
    await original.fit(images, { ...fit, epochs: 1 });
    let saved: tf.io.ModelArtifacts | undefined;
    const handler: tf.io.IOHandler = {
      save: async (artifacts) => {
        saved = artifacts;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      },
      load: async () => saved as tf.io.ModelArtifacts,
    };
    await original.save(handler);
    const loaded = await loadInterpreter(handler, { classifier });
    expect(loaded.model.loss.getSpec()).toEqual(original.model.loss.getSpec());
    expect(loaded.model.loss.getSpec()[3]).toEqual({ name: 'codeDiversity', weight: 0.5, config: { margin: 0.1 }, key: 'codeDiversity' });
    // The loaded codebook carries the trained values, so the penalty reads the same.
    expect(diversityOf(loaded)).toBeCloseTo(diversityOf(original), 6);
    // And the loaded loss trains: one more step runs with the custom term.
    const more = await loaded.fit(images, { ...fit, epochs: 1 });
    expect(Number.isFinite(more.epochs[0]?.loss.codeDiversity)).toBe(true);
    original.dispose();
    loaded.dispose();
  });
});
