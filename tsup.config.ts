import { defineConfig } from 'tsup';

export default defineConfig({
  // Four entry points: the core, audio and visualize (browser-safe) and node (file system IO).
  entry: { index: 'src/index.ts', audio: 'src/audio/index.ts', visualize: 'src/visualize/index.ts', node: 'src/node/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2020',
  // One shared chunk for src/errors.ts etc., so `instanceof PiqError` holds across entry points.
  splitting: true,
  // tfjs is a peer dependency: never bundle it (scripts/check-package.mjs verifies this).
  external: [/^@tensorflow\//],
  treeshake: true,
});
