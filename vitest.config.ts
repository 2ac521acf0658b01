import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

const src = (p: string) => fileURLToPath(new URL(`./src/${p}`, import.meta.url));

export default defineConfig({
  resolve: {
    alias: [
      { find: /^piq-tfjs\/audio$/, replacement: src('audio/index.ts') },
      { find: /^piq-tfjs\/visualize$/, replacement: src('visualize/index.ts') },
      { find: /^piq-tfjs\/node$/, replacement: src('node/index.ts') },
      { find: /^piq-tfjs$/, replacement: src('index.ts') },
    ],
  },
  test: {
    include: ['tests/**/*.test.ts'],
    setupFiles: ['tests/setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default', './tests/summary-reporter.ts'],
  },
});
