import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2020',
  // tfjs is a peer dependency: never bundle it (scripts/check-package.mjs verifies this).
  external: [/^@tensorflow\//],
  treeshake: true,
});
