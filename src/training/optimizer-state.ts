// Adam's state in checkpoints: stored by the index of each trainable variable (not by tfjs's
// generated variable names), restored so that a resumed run continues bit-identically.
import * as tf from '@tensorflow/tfjs-core';
import { PiqStateError } from '../errors';
import { shapeStr } from '../internal/checks';

/**
 * The optimizer's state as named tensors: `optimizer/iterations`, `optimizer/m/<i>`,
 * `optimizer/v/<i>` (i = index in `vars`) and `optimizer/acc_beta1|2`. The tensors are the
 * optimizer's own: do not dispose them.
 */
export async function optimizerWeights(owner: string, optimizer: tf.AdamOptimizer, vars: tf.Variable[]): Promise<Record<string, tf.Tensor>> {
  const out: Record<string, tf.Tensor> = {};
  const ow = await optimizer.getWeights(); // [iter, m_0..m_{n-1}, v_0..v_{n-1}]; the moments are the optimizer's own variables
  out['optimizer/iterations'] = (ow[0] as { name: string; tensor: tf.Tensor }).tensor;
  // Adam keeps its moments in the key order of the gradient map (integer-like variable names
  // first), named `<variable>/m|v`: store them by the index of the variable in
  // model.trainableVariables instead, which does not depend on generated names.
  for (const w of ow.slice(1)) {
    const kind = w.name.endsWith('/m') ? 'm' : 'v';
    const i = vars.findIndex((v) => `${v.name}/${kind}` === w.name);
    if (i < 0) throw new PiqStateError(`${owner}: the optimizer holds state for '${w.name}', which is not a trainable variable of this model. Use one Trainer per model.`);
    out[`optimizer/${kind}/${i}`] = w.tensor;
  }
  // Adam's bias-correction powers: restoring them exactly (instead of recomputing beta^t)
  // keeps a resumed run bit-identical.
  const acc = optimizer as unknown as { accBeta1?: tf.Variable; accBeta2?: tf.Variable };
  if (acc.accBeta1 instanceof tf.Tensor && acc.accBeta2 instanceof tf.Tensor) {
    out['optimizer/acc_beta1'] = acc.accBeta1;
    out['optimizer/acc_beta2'] = acc.accBeta2;
  }
  return out;
}

/** Number of stored Adam moments; throws when they do not match `vars` (checked before anything is restored). */
export function checkOptimizerWeights(owner: string, weights: Record<string, tf.Tensor>, vars: tf.Variable[]): number {
  const moments = Object.keys(weights).filter((k) => k.startsWith('optimizer/m/')).length;
  if (moments > 0) {
    const shapes = (k: 'm' | 'v') => vars.map((_, i) => shapeStr(weights[`optimizer/${k}/${i}`]?.shape ?? []));
    const want = vars.map((v) => shapeStr(v.shape)).join(', ');
    if (moments !== vars.length || shapes('m').join(', ') !== want || shapes('v').join(', ') !== want) {
      throw new PiqStateError(
        `${owner}: the checkpoint's optimizer state must match the model's trainable variables (${want}), got moments of shapes (${shapes('m').join(', ')}). It was written for another model configuration.`,
      );
    }
  }
  return moments;
}

/** A new Adam optimizer holding the stored state (checked by {@link checkOptimizerWeights}). */
export async function restoreOptimizer(weights: Record<string, tf.Tensor>, vars: tf.Variable[], learningRate: number): Promise<tf.AdamOptimizer> {
  const opt = tf.train.adam(learningRate);
  const iter = weights['optimizer/iterations'] ?? tf.scalar(0, 'int32');
  try {
    // The order in which applyGradients will visit the variables: the key order of the gradient map.
    const index = new Map(vars.map((v, i) => [v.name, i]));
    const order = Object.keys(Object.fromEntries(vars.map((v) => [v.name, 0])));
    const moment = (kind: 'm' | 'v') => order.map((name) => ({ name: `${name}/${kind}`, tensor: weights[`optimizer/${kind}/${index.get(name)}`] as tf.Tensor }));
    await opt.setWeights([{ name: 'iter', tensor: iter }, ...moment('m'), ...moment('v')]);
  } finally {
    if (iter !== weights['optimizer/iterations']) iter.dispose();
  }
  const acc = opt as unknown as { accBeta1?: tf.Variable; accBeta2?: tf.Variable };
  const b1 = weights['optimizer/acc_beta1'];
  const b2 = weights['optimizer/acc_beta2'];
  if (b1 && b2 && acc.accBeta1 instanceof tf.Variable && acc.accBeta2 instanceof tf.Variable) {
    acc.accBeta1.assign(b1);
    acc.accBeta2.assign(b2);
  }
  return opt;
}
