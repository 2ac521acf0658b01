// Vite config of the browser example. piq-tfjs resolves to the sources (no build step needed);
// public/ is filled by prepare.ts (model files, test digits, wasm binaries) and never committed.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  root: here('.'),
  base: './',
  publicDir: here('public'),
  resolve: {
    alias: [
      { find: /^piq-tfjs\/audio$/, replacement: here('../../src/audio/index.ts') },
      { find: /^piq-tfjs\/visualize$/, replacement: here('../../src/visualize/index.ts') },
      { find: /^piq-tfjs$/, replacement: here('../../src/index.ts') },
    ],
  },
  build: {
    outDir: here('dist'),
    emptyOutDir: true,
    target: 'es2020',
    // The demo page, and the page e2e-persistence.ts drives (saves to and loads from browser storage).
    rollupOptions: { input: { main: here('index.html'), persistence: here('persistence.html') } },
    // tfjs-core + layers + three backends make one large chunk; that is expected for a demo.
    chunkSizeWarningLimit: 4000,
  },
  server: { host: '127.0.0.1' },
  preview: { host: '127.0.0.1' },
});
