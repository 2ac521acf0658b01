// Vite config of the browser speed benchmark (`npm run bench:browser`, driven by bench/browser.ts).
// The page must be cross-origin isolated for SharedArrayBuffer, so that the threaded wasm build
// can run: these two headers on the document do it (any static host can send them the same way).
// For the benchmark's control run, a document requested with `?isolated=0` is served WITHOUT them.
import { fileURLToPath } from 'node:url';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { defineConfig, type Plugin } from 'vite';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export const CROSS_ORIGIN_ISOLATION = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/** Drops the isolation headers from a document requested with `?isolated=0` (the control run). */
function notIsolatedOnRequest(): Plugin {
  const skip = (req: IncomingMessage, res: ServerResponse) => {
    if (!req.url?.includes('isolated=0')) return;
    const set = res.setHeader.bind(res);
    res.setHeader = (name, value) => (name.toLowerCase().startsWith('cross-origin-') ? res : set(name, value));
  };
  return {
    name: 'piq-not-isolated-on-request',
    configurePreviewServer(server) {
      server.middlewares.use((req, res, next) => {
        skip(req, res);
        next();
      });
    },
  };
}

export default defineConfig({
  root: here('.'),
  base: './',
  publicDir: here('public'),
  plugins: [notIsolatedOnRequest()],
  // minify: false — a minified bundle breaks the threaded build's pthread workers: tfjs posts the
  // module factory's SOURCE TEXT (Function.prototype.toString) to them, and the minifier folds
  // `typeof _scriptDir !== 'undefined' && _scriptDir` to a bare renamed local that the worker lacks
  // ("ReferenceError: e is not defined" in every worker; the backend never finishes initialising).
  build: { outDir: here('dist'), emptyOutDir: true, target: 'es2022', minify: false, chunkSizeWarningLimit: 8000 },
  server: { host: '127.0.0.1', headers: CROSS_ORIGIN_ISOLATION },
  preview: { host: '127.0.0.1', headers: CROSS_ORIGIN_ISOLATION },
});
