// The audio tasks of `npm run bench:audio`: FSDD (real spoken digits, takes 0–4 are the test split)
// and the synthesised spoken commands (speaker-independent split from the generator's manifest).
// Both go through the audio-digits helpers: read, peak-normalise, centre in 1 s at 8 kHz, log1p spectrograms.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type * as tf from '@tensorflow/tfjs-core';
import { subsample } from '../../examples/audio-digits/classifier';
import { fitLength, listClips, peakNormalize, readClip, splitClips, type Clip } from '../../examples/audio-digits/dataset';
import { spectrogramImages } from '../../examples/audio-digits/features';
import { loadCommandsSplit, MANIFEST_FILE } from '../../examples/audio-commands/dataset';
import { generateCommands } from '../../examples/audio-commands/make-dataset';
import { log } from '../../examples/shared/cli';

export const TASK_NAMES = ['fsdd', 'commands'] as const;
export type TaskName = (typeof TASK_NAMES)[number];

export const SAMPLE_RATE = 8000;
export const CLIP_SAMPLES = SAMPLE_RATE; // 1 s

export interface AudioTask {
  name: TaskName;
  description: string;
  dir: string;
  labels: string[];
  trainClips: Clip[];
  /** The scored test clips (at most `maxTest`, evenly spaced over the test split). */
  testClips: Clip[];
  /** Size of the whole test split, and the speakers of each split. */
  testSplitSize: number;
  trainSpeakers: string[];
  testSpeakers: string[];
  trainY: Int32Array;
  testY: Int32Array;
  testWaves: Float32Array[];
  trainX: tf.Tensor4D;
  testX: tf.Tensor4D;
  /** Provenance of the data (manifest checksums for the commands). */
  source: Record<string, unknown>;
}

export function loadWave(c: Clip): Float32Array {
  return fitLength(peakNormalize(readClip(c.path, SAMPLE_RATE)), CLIP_SAMPLES);
}

const speakersOf = (clips: readonly Clip[]) => [...new Set(clips.map((c) => c.speaker))].sort();

/** Loads a task's clips and spectrograms; the commands folder is generated first when it holds no manifest. */
export async function loadTask(name: TaskName, dir: string, o: { maxTrain: number; maxTest: number }): Promise<AudioTask> {
  const root = resolve(dir);
  let labels: string[];
  let train: Clip[];
  let test: Clip[];
  let description: string;
  let source: Record<string, unknown>;
  if (name === 'fsdd') {
    const listing = listClips(root);
    ({ train, test } = splitClips(listing.clips, 5));
    labels = listing.labels;
    description = 'Free Spoken Digit Dataset (real recordings, 8 kHz; CC BY-SA 4.0); test = takes 0–4 of every speaker (FSDD official split; the same 6 speakers in both splits)';
    source = { dir: root, clips: listing.clips.length };
  } else {
    if (!existsSync(join(root, MANIFEST_FILE))) {
      log(`${root}: no ${MANIFEST_FILE}; generating the commands dataset (espeak-ng, flite, sox)`);
      await generateCommands({ out: root, command: 'bench:audio (auto-generated)' });
    }
    const s = loadCommandsSplit(root);
    ({ labels, train, test } = s);
    description = 'synthesised spoken commands (espeak-ng + flite voices, sox noise at 5–30 dB SNR, 8 kHz); speaker-independent split (test voices never heard in training)';
    source = { dir: root, manifestFormat: s.manifest.format, options: s.manifest.options, tools: s.manifest.tools, files: s.manifest.files.length };
  }
  const trainClips = subsample(train, o.maxTrain);
  const testClips = subsample(test, o.maxTest);
  const trainWaves = trainClips.map(loadWave);
  const testWaves = testClips.map(loadWave);
  return {
    name,
    description,
    dir: root,
    labels,
    trainClips,
    testClips,
    testSplitSize: test.length,
    trainSpeakers: speakersOf(train),
    testSpeakers: speakersOf(test),
    trainY: Int32Array.from(trainClips, (c) => c.labelIndex),
    testY: Int32Array.from(testClips, (c) => c.labelIndex),
    testWaves,
    trainX: spectrogramImages(trainWaves),
    testX: spectrogramImages(testWaves),
    source,
  };
}
