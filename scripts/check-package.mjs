// Package-shape checks on the packed tarball: tfjs is never bundled into dist/, the core entry
// points never reach Node built-ins, then publint and @arethetypeswrong/cli on the tarball.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const fail = (msg) => {
  console.error(`check-package: ${msg}`);
  process.exit(1);
};
const files = readdirSync('dist').filter((f) => /\.(c?js)$/.test(f));
if (files.length === 0) fail('dist/ is empty: run `npm run build` first');
// Every target of the exports map (ESM, CJS and types of `.`, `./audio`, `./visualize`, `./node`) is built.
const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const targets = (v) => (typeof v === 'string' ? [v] : Object.values(v).flatMap(targets));
for (const [entry, value] of Object.entries(pkg.exports)) {
  for (const t of targets(value)) if (!existsSync(t)) fail(`exports['${entry}'] points to ${t}, which the build did not write`);
}
for (const f of files) {
  const text = readFileSync(join('dist', f), 'utf8');
  // tfjs sources carry this marker in every kernel/op module; our code only imports tfjs.
  if (/registerKernel\(\s*\{?\s*kernelName:\s*['"]Add['"]/.test(text) || /class\s+Engine\s*\{/.test(text)) {
    fail(`dist/${f} contains bundled tfjs code; @tensorflow/* must stay external`);
  }
  const isNodeEntry = f.startsWith('node.');
  if (!isNodeEntry && /(from\s+['"]node:|require\(['"]node:|from\s+['"](fs|path|fs\/promises)['"])/.test(text)) {
    fail(`dist/${f} imports a Node built-in; only the piq-tfjs/node entry may`);
  }
}
console.log(`check-package: ${files.length} dist files for ${Object.keys(pkg.exports).length} exports entries: tfjs external, no Node built-ins outside piq-tfjs/node`);
const tgz = execFileSync('npm', ['pack', '--silent'], { encoding: 'utf8' }).trim().split('\n').pop();
try {
  execFileSync('npx', ['publint', '--strict', tgz], { stdio: 'inherit' });
  execFileSync('npx', ['attw', tgz, '--profile', 'node16'], { stdio: 'inherit' });
} finally {
  rmSync(tgz, { force: true });
}
console.log('check-package: publint and attw passed');
