import * as tf from '@tensorflow/tfjs-core';
import { it } from 'vitest';
import { withBackend } from '../helpers';
import { VectorQuantizer } from '../../src/quantizer/vector-quantizer';

it('perf', async () => {
  for (const be of ['wasm', 'cpu'] as const) {
    await withBackend(be, () => {
      for (const update of ['loss', 'ema'] as const) {
        const vq = new VectorQuantizer({ codeDim: 256, layout: { numClasses: 50, codebookSize: 1024 }, seed: 1, update, deadCodeSteps: 5 });
        const u = tf.variable(tf.randomNormal([16, 13, 16, 256], 0, 0.01, 'float32', 2));
        const cls = tf.tensor1d(Array.from({ length: 16 }, (_, i) => (i * 7) % 50), 'int32');
        const times: string[] = [];
        for (let s = 0; s < 3; s++) {
          let t0 = performance.now();
          let idx: tf.Tensor | undefined;
          const { value, grads } = tf.variableGrads(() => { const r = vq.quantize(u, cls, { training: true }); idx = tf.keep(r.codeIndices); return tf.add(r.codebookLoss, r.commitmentLoss) as tf.Scalar; }, [u, ...vq.trainableVariables]);
          value.dataSync();
          const tq = performance.now() - t0; t0 = performance.now();
          vq.postStep(u, cls, idx!);
          vq.usage();
          times.push(`${tq.toFixed(0)}ms+${(performance.now() - t0).toFixed(0)}ms`);
          tf.dispose([value, idx!, ...Object.values(grads)]);
        }
        console.log('PERF', be, update, times.join(' '));
        vq.dispose(); u.dispose(); cls.dispose();
      }
    });
  }
});
