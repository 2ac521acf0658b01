/**
 * The main entry `piq-tfjs` as Node loads it (the `node` condition of the package's exports): the
 * same exports as src/index.ts, and `file://` URLs registered with tf.io at import, as tfjs-node
 * users expect. Browsers and bundlers targeting them get src/index.ts, free of Node built-ins.
 * The build keeps `../index` external here (tsup.config.ts), so Node loads one copy of the library.
 * @packageDocumentation
 */
import { registerFileSystemRouter } from './file-system';

export * from '../index';

registerFileSystemRouter();
