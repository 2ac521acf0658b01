/**
 * Node-only helpers of piq-tfjs (import from `piq-tfjs/node`): a file-system IO handler that works
 * without tfjs-node. The main entry point `piq-tfjs` never imports Node built-ins.
 * @packageDocumentation
 */
export { fileSystem, registerFileSystemRouter } from './file-system';
