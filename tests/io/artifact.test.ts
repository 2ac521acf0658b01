// The one artifact writer and reader (saves, checkpoints, loadInterpreter, readCheckpointState).
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { PiqConfigError, PiqStateError } from '../../src/errors';
import { ARTIFACT_FORMAT_VERSION, readArtifact, writeArtifact } from '../../src/io/artifact';
import { memoryHandler } from '../fixtures/memory-handler';
import { expectNoTensorLeak, expectThrowsWithoutLeak } from '../helpers';

describe('writeArtifact / readArtifact', () => {
  it('round-trips a JSON config and named weights, with format, version and checksum', async () => {
    const h = memoryHandler();
    const weights = { 'b/1': tf.tensor1d([1, 2, 3]), 'a/0': tf.scalar(7, 'int32') };
    await expectNoTensorLeak(() => writeArtifact('T.save', h, { config: { k: [1, 'x'] }, weights, generatedBy: 'test' }));
    const topology = h.artifacts?.modelTopology as { format: string; formatVersion: number; checksum: string };
    expect(topology.format).toBe('piq-interpreter');
    expect(topology.formatVersion).toBe(ARTIFACT_FORMAT_VERSION);
    expect(topology.checksum).toMatch(/^[0-9a-f]{8}$/);
    const { config, weights: back } = await readArtifact('T.load', h);
    expect(config).toEqual({ k: [1, 'x'] });
    expect(Object.keys(back).sort()).toEqual(['a/0', 'b/1']);
    expect(Array.from(back['b/1']?.dataSync() ?? [])).toEqual([1, 2, 3]);
    expect(back['a/0']?.dtype).toBe('int32');
    tf.dispose([...Object.values(weights), ...Object.values(back)]);
  });

  it('rejects a corrupted artifact (checksum) and one of another version, naming the owner', async () => {
    const h = memoryHandler();
    const w = { x: tf.tensor1d([1, 2]) };
    await writeArtifact('T.save', h, { config: { a: 1 }, weights: w, generatedBy: 'test' });
    const good = h.artifacts as tf.io.ModelArtifacts;
    const topo = good.modelTopology as Record<string, unknown>;
    const tampered = { ...good, modelTopology: { ...topo, config: { a: 2 } } };
    const e1 = await expectThrowsWithoutLeak(() => readArtifact('T.load', { load: async () => tampered }));
    expect(e1).toBeInstanceOf(PiqStateError);
    expect(e1.message).toMatch(/^T\.load: checksum mismatch/);
    const future = { ...good, modelTopology: { ...topo, formatVersion: 2 } };
    await expect(readArtifact('T.load', { load: async () => future })).rejects.toThrow(/^T\.load: the artifact has format version 2, but this piq-tfjs reads version 1/);
    w.x.dispose();
  });

  it('rejects destinations that cannot save or load', async () => {
    await expect(writeArtifact('T.save', { load: async () => ({}) } as never, { config: {}, weights: {}, generatedBy: 't' })).rejects.toThrow(PiqConfigError);
    await expect(readArtifact('T.load', { save: async () => ({}) } as never, 'source')).rejects.toThrow(/'source' must be a URL string or a tf\.io\.IOHandler with load\(\)/);
    await expect(readArtifact('T.load', 'nope://x')).rejects.toThrow(/'source' must be a URL with a registered tf\.io load handler/);
  });
});
