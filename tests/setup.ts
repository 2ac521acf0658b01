// Test backend: the pure-JS cpu backend (exact, trains everything). Suites that compare
// against wasm switch explicitly with `useBackend('wasm')` from tests/helpers.
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-layers'; // registers gradients in Node
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll } from 'vitest';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});
