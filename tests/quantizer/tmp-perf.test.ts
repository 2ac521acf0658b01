import * as tf from '@tensorflow/tfjs-core';
import { it } from 'vitest';
import { withBackend } from '../helpers';

it('scatter', async () => {
  for (const be of ['wasm', 'cpu'] as const) {
    await withBackend(be, () => {
      const out = tf.scatterND(tf.tensor2d([[2], [0], [2]], [3, 1], 'int32'), tf.tensor2d([[1, 1], [2, 2], [3, 3]]), [4, 2]);
      console.log('SC', be, Array.from(out.dataSync()));
      const K = 1024, N = 3328, D = 256;
      const v = tf.randomNormal([N, D]); const idx = tf.randomUniform([N], 0, K, 'int32');
      let t0 = performance.now();
      for (let i = 0; i < 3; i++) { const o = tf.scatterND(tf.reshape(idx, [N, 1]), v, [K, D]); o.dataSync(); o.dispose(); }
      console.log('SC', be, 'time', ((performance.now() - t0) / 3).toFixed(1));
      if (be === 'cpu') { t0 = performance.now(); const o = tf.unsortedSegmentSum(v, idx as tf.Tensor1D, K); o.dataSync(); console.log('SC seg', (performance.now() - t0).toFixed(1)); }
    });
  }
});
