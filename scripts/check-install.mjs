// `npm run check:install`: a git clone of this repository (its HEAD) installs into a fresh project
// as a working package:
//  - `npm install git+file://<clone>`: npm clones, installs the dev dependencies, runs `prepare`
//    (the build) and installs the packed result;
//  - `npm install --install-links <path to the clone>`: npm runs the folder's `prepare` (which
//    installs the build tools there first) and installs a packed copy;
//  - `npm install <path to the clone>`: npm links the folder and runs its `prepare`; the package is
//    built and imports, but a linked folder resolves tfjs from the clone's own node_modules, a
//    second copy beside the project's, so a model built with the project's tfjs-layers is not
//    recognised (`instanceof`): only the imports are checked there, and the README says to use
//    --install-links or a git URL.
// In each project a CommonJS and an ESM script import piq-tfjs and its subpaths; in the first two an
// ESM script also trains and interprets with the project's own tfjs. Slow (three installs, builds):
// not part of CI.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const TFJS = ['core', 'layers', 'backend-cpu'].map((p) => `@tensorflow/tfjs-${p}@4.22.0`);
const sh = (cwd, cmd, args) => execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
const work = mkdtempSync(join(tmpdir(), 'piq-install-'));
const clone = join(work, 'clone');

const IMPORT_CJS = `const piq = require('piq-tfjs');
const { heatmap } = require('piq-tfjs/visualize');
const { spectrogram } = require('piq-tfjs/audio');
const { fileSystem } = require('piq-tfjs/node');
console.log('cjs', piq.VERSION, typeof piq.createInterpreter, typeof heatmap, typeof spectrogram, typeof fileSystem);
`;
const IMPORT_ESM = `import * as piq from 'piq-tfjs';
import { heatmap } from 'piq-tfjs/visualize';
console.log('esm', piq.VERSION, typeof piq.createInterpreter, typeof heatmap);
`;
const INTERPRET = `import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { createInterpreter } from 'piq-tfjs';
const classifier = tfl.sequential({ layers: [
  tfl.layers.conv2d({ inputShape: [8, 8, 1], filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }),
  tfl.layers.flatten(), tfl.layers.dense({ units: 2, activation: 'softmax' }),
] });
const interpreter = await createInterpreter({ classifier });
await interpreter.fit(tf.randomUniform([4, 8, 8, 1], 0, 1, 'float32', 1), { epochs: 1, batchSize: 4, verbose: 0 });
const r = await interpreter.interpret(tf.zeros([8, 8, 1]));
console.log('interpret', r.batch, r.mask.length);
`;

function check(label, spec, { linked = false, flags = [] } = {}) {
  const dir = join(work, label);
  sh(work, 'mkdir', [dir]);
  sh(dir, 'npm', ['init', '-y']);
  const t0 = Date.now();
  sh(dir, 'npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...flags, spec, ...TFJS]);
  console.log(`check-install: ${label}: npm install ${[...flags, spec].join(' ')} took ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  writeFileSync(join(dir, 'import.cjs'), IMPORT_CJS);
  writeFileSync(join(dir, 'import.mjs'), IMPORT_ESM);
  writeFileSync(join(dir, 'interpret.mjs'), INTERPRET);
  for (const f of linked ? ['import.cjs', 'import.mjs'] : ['import.cjs', 'import.mjs', 'interpret.mjs']) {
    const out = sh(dir, process.execPath, [f]).split('\n').filter((l) => /^(cjs|esm|interpret) /.test(l));
    console.log(`check-install: ${label}: node ${f} -> ${out.join(' | ')}`);
    if (out.length !== 1 || out[0].includes('undefined')) throw new Error(`${label}: ${f} did not import piq-tfjs`);
  }
}

try {
  sh(process.cwd(), 'git', ['clone', '--quiet', process.cwd(), clone]);
  console.log(`check-install: cloned HEAD ${sh(clone, 'git', ['rev-parse', '--short', 'HEAD']).trim()} into ${clone} (no dist/, no node_modules/)`);
  check('git-url', `git+file://${clone}`);
  check('folder', clone, { flags: ['--install-links'] });
  check('folder-linked', clone, { linked: true });
  console.log('check-install: the git URL and --install-links folder installs work fully; the linked folder is built and imports');
} finally {
  rmSync(work, { recursive: true, force: true });
}
