// Package-shape checks on the packed tarball (`npm pack` builds dist/ through `prepare`): tfjs is
// never bundled into dist/, only the Node entries reach Node built-ins, the registering files are
// in `sideEffects`, bundlers pick the right build per platform, then publint and
// @arethetypeswrong/cli (every resolution profile), and finally the README test in fresh CommonJS
// and ESM projects that install the tarball (tests/readme.test.ts with PIQ_PACKED).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';

const fail = (msg) => {
  console.error(`check-package: ${msg}`);
  process.exit(1);
};
const tgz = resolve(execFileSync('npm', ['pack', '--silent'], { encoding: 'utf8' }).trim().split('\n').pop());
try {
  const files = readdirSync('dist').filter((f) => /\.(c?js)$/.test(f));
  if (files.length === 0) fail('dist/ is empty after npm pack: the prepare script did not build');
  // Every target of the exports map (ESM, CJS and types of `.`, `./audio`, `./visualize`, `./node`) is built.
  const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
  const targets = (v) => (typeof v === 'string' ? [v] : Object.values(v).flatMap(targets));
  for (const [entry, value] of Object.entries(pkg.exports)) {
    for (const t of targets(value)) if (!existsSync(t)) fail(`exports['${entry}'] points to ${t}, which the build did not write`);
  }
  // The Node-only files: the piq-tfjs/node entry and the main entry's Node flavour (index.node, the
  // `node` condition). A shared chunk may use Node built-ins only if no other file imports it.
  const nodeOnly = (f) => /^(node|index\.node)\.c?js$/.test(f);
  const texts = Object.fromEntries(files.map((f) => [f, readFileSync(join('dist', f), 'utf8')]));
  const importers = (chunk) => files.filter((f) => f !== chunk && texts[f].includes(`./${chunk}`));
  for (const f of files) {
    const text = texts[f];
    // tfjs sources carry this marker in every kernel/op module; our code only imports tfjs.
    if (/registerKernel\(\s*\{?\s*kernelName:\s*['"]Add['"]/.test(text) || /class\s+Engine\s*\{/.test(text)) {
      fail(`dist/${f} contains bundled tfjs code; @tensorflow/* must stay external`);
    }
    if (!nodeOnly(f) && /(from\s+['"]node:|require\(['"]node:|from\s+['"](fs|path|fs\/promises)['"])/.test(text)) {
      const others = f.startsWith('chunk-') ? importers(f).filter((i) => !nodeOnly(i)) : [f];
      if (others.length > 0) fail(`dist/${f} imports a Node built-in and is loaded by ${others.join(', ')}; only piq-tfjs/node and the node condition may`);
    }
  }
  // The layer classes register in the files `sideEffects` lists (so bundlers keep them).
  for (const f of files.filter((x) => texts[x].includes('serialization.registerClass('))) {
    if (!pkg.sideEffects.includes(`./dist/${f}`)) fail(`dist/${f} registers layer classes but is not listed in package.json sideEffects`);
  }
  console.log(`check-package: ${files.length} dist files for ${Object.keys(pkg.exports).length} exports entries: tfjs external, Node built-ins only in the Node entries, registering files in sideEffects`);

  // `import 'piq-tfjs'` through the exports map, as bundlers resolve it: a browser bundle gets the
  // Node-free build, a Node bundle the `node` condition (which registers file://).
  const scratch = mkdtempSync(join(tmpdir(), 'piq-conditions-'));
  try {
    mkdirSync(join(scratch, 'node_modules'));
    symlinkSync(process.cwd(), join(scratch, 'node_modules', 'piq-tfjs'), 'dir');
    const bundle = async (platform) => {
      const r = await build({
        stdin: { contents: "import * as piq from 'piq-tfjs'; console.log(piq.VERSION);", resolveDir: scratch, loader: 'js' },
        bundle: true,
        platform,
        format: 'esm',
        write: false,
        metafile: true,
        logLevel: 'silent',
        external: platform === 'node' ? ['@tensorflow/*'] : [],
      });
      return Object.keys(r.metafile.inputs);
    };
    const browser = await bundle('browser');
    if (!browser.some((p) => p.endsWith('dist/index.js')) || browser.some((p) => p.includes('index.node'))) {
      fail(`a browser bundle of 'piq-tfjs' must use dist/index.js, got ${browser.filter((p) => p.includes('dist/')).join(', ')}`);
    }
    const nodeBundle = await bundle('node');
    if (!nodeBundle.some((p) => p.endsWith('dist/index.node.js'))) fail(`a Node bundle of 'piq-tfjs' must use dist/index.node.js, got ${nodeBundle.join(', ')}`);
    console.log(`check-package: a browser bundle of 'piq-tfjs' (${browser.length} modules, tfjs included) uses dist/index.js without Node built-ins; a Node bundle uses dist/index.node.js`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }

  execFileSync('npx', ['publint', '--strict', tgz], { stdio: 'inherit' });
  // Every resolution profile: node10 (typesVersions), node16 from CJS and ESM, bundler.
  execFileSync('npx', ['attw', tgz], { stdio: 'inherit' });
  console.log('check-package: publint and attw (all profiles) passed');

  // The README quick start in fresh CommonJS and ESM projects that install this tarball.
  execFileSync('npx', ['vitest', 'run', 'tests/readme.test.ts'], { stdio: 'inherit', env: { ...process.env, PIQ_PACKED: tgz } });
  console.log('check-package: the quick start runs from the packed package in CommonJS and ESM projects');
} finally {
  rmSync(tgz, { force: true });
}
