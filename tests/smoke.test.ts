import * as tf from '@tensorflow/tfjs-core';
import { describe, it, expect } from 'vitest';
import { loadWasm, withBackend } from './helpers';

describe('test environment', () => {
  it('runs on the cpu backend by default and can switch to wasm', async () => {
    expect(tf.getBackend()).toBe('cpu');
    expect(await loadWasm()).toBe(true);
    const v = await withBackend('wasm', () => tf.tidy(() => tf.add(tf.scalar(2), tf.scalar(3)).dataSync()[0]));
    expect(v).toBe(5);
  });
});
