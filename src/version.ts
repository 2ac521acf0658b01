// The package version, read from package.json when the package is built (tsup/esbuild inline the
// one field) and when the sources run directly (vitest, tsx), so it cannot drift from the release.
import { version } from '../package.json';

/**
 * The piq-tfjs version (package.json's `version`), written into saved artifacts (`generatedBy`).
 * @example
 * ```ts
 * import { VERSION } from 'piq-tfjs';
 * console.log(VERSION); // '0.1.0'
 * ```
 * @category Interpreter
 */
export const VERSION: string = version;
