import { defineConfig, type Options } from 'tsup';

type Plugin = NonNullable<Options['esbuildPlugins']>[number];

/**
 * The Node flavour of the main entry (src/node/root.ts) re-exports `../index` from the built main
 * entry at run time (`./index.js` / `./index.cjs`) instead of bundling a second copy of it: Node
 * then loads one copy of the library whatever it imports, and the layer classes register once,
 * in dist/index.*, the files `sideEffects` names.
 */
const rootEntryImportsBuiltIndex: Plugin = {
  name: 'root-entry-imports-built-index',
  setup(build) {
    // tsup builds CJS with splitting as ESM and converts it afterwards: the output extension tells them apart.
    const ext = build.initialOptions.outExtension?.['.js'] ?? '.js';
    build.onResolve({ filter: /^\.\.\/index$/ }, (args) =>
      args.importer.replace(/\\/g, '/').endsWith('src/node/root.ts') ? { path: `./index${ext}`, external: true } : undefined,
    );
  },
};

export default defineConfig({
  // Four public entry points: the core, audio and visualize (browser-safe) and node (file system
  // IO); plus index.node, the core as Node loads it (the `node` export condition of `piq-tfjs`).
  entry: {
    index: 'src/index.ts',
    'index.node': 'src/node/root.ts',
    audio: 'src/audio/index.ts',
    visualize: 'src/visualize/index.ts',
    node: 'src/node/index.ts',
  },
  format: ['esm', 'cjs'],
  // index.node has the types of index (package.json points its `types` there).
  dts: { entry: { index: 'src/index.ts', audio: 'src/audio/index.ts', visualize: 'src/visualize/index.ts', node: 'src/node/index.ts' } },
  sourcemap: true,
  clean: true,
  target: 'es2020',
  // One shared chunk for src/errors.ts etc., so `instanceof PiqError` holds across entry points.
  splitting: true,
  // tfjs is a peer dependency: never bundle it (scripts/check-package.mjs verifies this).
  external: [/^@tensorflow\//],
  esbuildPlugins: [rootEntryImportsBuiltIndex],
  treeshake: true,
});
