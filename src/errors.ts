/**
 * Base class of every error piq-tfjs throws on purpose. Catch this to handle all of them.
 *
 * Messages follow one pattern: `<Owner>.<method>: <expected>, got <actual>. <fix>`.
 *
 * @example
 * ```ts
 * import { PiqError, CodebookLayout } from 'piq-tfjs';
 * try {
 *   new CodebookLayout({ numClasses: 0, codesPerClass: 4 });
 * } catch (e) {
 *   console.log(e instanceof PiqError); // true
 * }
 * ```
 * @category Errors
 */
export class PiqError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

/**
 * An option or configuration value is invalid (wrong type, out of range, unknown name).
 *
 * @example
 * ```ts
 * import { PiqConfigError, VectorQuantizer } from 'piq-tfjs';
 * try {
 *   new VectorQuantizer({ codeDim: -1, layout: { numClasses: 2, codesPerClass: 2 } });
 * } catch (e) {
 *   console.log(e instanceof PiqConfigError); // true
 * }
 * ```
 * @category Errors
 */
export class PiqConfigError extends PiqError {}

/**
 * A tensor or data argument is invalid (shape, rank, dtype, value range, NaN/Infinity).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { PiqInputError, VectorQuantizer } from 'piq-tfjs';
 * const vq = new VectorQuantizer({ codeDim: 2, layout: { numClasses: 2, codesPerClass: 2 } });
 * try {
 *   vq.quantize(tf.zeros([1, 3]), tf.tensor1d([0], 'int32'));
 * } catch (e) {
 *   console.log(e instanceof PiqInputError); // true: features must be rank 3 or 4
 * }
 * ```
 * @category Errors
 */
export class PiqInputError extends PiqError {}

/**
 * An object is used in a state that does not allow the call: disposed, not yet fitted,
 * a corrupted or incompatible saved artifact, or training that diverged.
 *
 * @example
 * ```ts
 * import { PiqStateError, VectorQuantizer } from 'piq-tfjs';
 * const vq = new VectorQuantizer({ codeDim: 2, layout: { numClasses: 2, codesPerClass: 2 } });
 * vq.dispose();
 * try {
 *   vq.getCodebook();
 * } catch (e) {
 *   console.log(e instanceof PiqStateError); // true
 * }
 * ```
 * @category Errors
 */
export class PiqStateError extends PiqError {}
