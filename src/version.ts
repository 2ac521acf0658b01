// The package version, written into saved artifacts.
/**
 * The piq-tfjs version, written into saved artifacts (`generatedBy`).
 * @example
 * ```ts
 * import { VERSION } from 'piq-tfjs';
 * console.log(VERSION); // '0.1.0'
 * ```
 * @category Interpreter
 */
export const VERSION = '0.1.0';

