// The README as a new user meets it. Always: the set-up commands, the quick start equal to
// examples/quickstart/quickstart.ts, and every link pointing to a file this version ships.
// With PIQ_PACKED=<packed .tgz> (set by `npm run check:package`, which CI runs; too slow for
// `npm test`): the tarball is installed into a fresh CommonJS project (`npm init -y`) and a fresh
// ESM project, where the quick start runs to its documented output, `file://` save/load works
// after `import 'piq-tfjs'` alone, and the code type-checks under node10, nodenext and bundler.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '..');
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
const blocks = [...readme.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1], body: m[2] as string }));
const quickstart = readFileSync(join(ROOT, 'examples/quickstart/quickstart.ts'), 'utf8');
const CDN = `https://cdn.jsdelivr.net/npm/piq-tfjs@${pkg.version}/`;

describe('README', () => {
  it('holds exactly two set-up commands: the demo and the tests', () => {
    const setup = readme.split('## Set up')[1]?.split('\n## ')[0] ?? '';
    const commands = [...setup.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) => (m[1] as string).split('\n').filter((l) => l.trim() && !l.trim().startsWith('#')));
    expect(commands.map((c) => c.replace(/\s+#.*$/, '').trim())).toEqual(['npm ci && npm run demo', 'npm ci && npm test']);
  });

  it('shows the quick start exactly as examples/quickstart/quickstart.ts, with no top-level await (CommonJS runs it)', () => {
    expect(blocks.find((b) => b.lang === 'ts')?.body).toBe(quickstart);
    expect(quickstart.split('\n').filter((l) => /^(await |const \w+ = await )/.test(l))).toEqual([]);
  });

  it("links only to this version's files on the CDN, each shipped in the package", () => {
    const links = [...readme.matchAll(/\]\(([^)\s]+)\)|src="([^"]+)"/g)].map((m) => (m[1] ?? m[2]) as string);
    const local = links.filter((l) => !/^(https?:|#)/.test(l));
    expect(local, 'relative links break on the npm page').toEqual([]);
    const cdn = links.filter((l) => l.includes('cdn.jsdelivr.net'));
    expect(cdn.length).toBeGreaterThan(10);
    expect(cdn.filter((l) => !l.startsWith(CDN)), `CDN links must name piq-tfjs@${pkg.version}`).toEqual([]);
    const packed = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' })) as Array<{ files: Array<{ path: string }> }>;
    const shipped = new Set(packed[0]?.files.map((f) => f.path));
    expect(cdn.map((l) => l.slice(CDN.length)).filter((p) => !shipped.has(p)), 'linked but not in package.json "files"').toEqual([]);
  });
});

const PACKED = process.env.PIQ_PACKED;

/** Runs a command in a scratch project; resolves with its stdout, rejects with its output on failure. */
function run(cwd: string, cmd: string, args: string[], timeoutMs = 300_000): Promise<string> {
  return new Promise((done, fail) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, CI: 'true' } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) done(out);
      else fail(new Error(`${cmd} ${args.join(' ')} in ${cwd} exited with ${code}:\n${out}\n${err}`));
    });
  });
}

const node = process.execPath;
const tsx = join(ROOT, 'node_modules/tsx/dist/cli.mjs');
const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
const TFJS = ['core', 'layers', 'backend-cpu'].map((p) => `@tensorflow/tfjs-${p}@4.22.0`);

const FILE_URL = `import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { createInterpreter, loadInterpreter } from 'piq-tfjs'; // nothing from piq-tfjs/node

async function main() {
  const classifier = tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [8, 8, 1], filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 2, activation: 'softmax' }),
    ],
  });
  const interpreter = await createInterpreter({ classifier });
  await interpreter.save('file://./saved-interpreter');
  const again = await loadInterpreter('file://./saved-interpreter', { classifier });
  const x = tf.randomUniform([2, 8, 8, 1], 0, 1, 'float32', 1);
  const [a, b] = [await interpreter.interpret(x), await again.interpret(x)];
  console.log(a.mask.length > 0 && a.mask.every((v, i) => v === b.mask[i]) ? 'file round trip: equal' : 'file round trip: different');
}

main();
`;

const SUBPATHS = `import { heatmap } from 'piq-tfjs/visualize';
import { spectrogram } from 'piq-tfjs/audio';
import { fileSystem } from 'piq-tfjs/node';
import { createInterpreter, type FitCallback } from 'piq-tfjs';

export const used = [heatmap, spectrogram, fileSystem, createInterpreter];
export const callback: FitCallback = { onEpochEnd: (epoch, logs) => console.log(epoch, logs?.loss) };
`;

const tsconfig = (compilerOptions: Record<string, unknown>) =>
  JSON.stringify({ compilerOptions: { strict: true, skipLibCheck: true, noEmit: true, types: [], ...compilerOptions }, files: ['quickstart.ts', 'file-url.ts', 'subpaths.ts'] }, null, 2);

/** A fresh project made by `npm init -y` (CommonJS), or turned ESM, with the tarball and tfjs installed. */
async function scratch(kind: 'cjs' | 'esm', tgz: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), `piq-readme-${kind}-`));
  await run(dir, 'npm', ['init', '-y']);
  if (kind === 'esm') await run(dir, 'npm', ['pkg', 'set', 'type=module']);
  await run(dir, 'npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tgz, ...TFJS]);
  writeFileSync(join(dir, 'quickstart.ts'), blocks.find((b) => b.lang === 'ts')?.body ?? '');
  writeFileSync(join(dir, 'file-url.ts'), FILE_URL);
  writeFileSync(join(dir, 'subpaths.ts'), SUBPATHS);
  return dir;
}

/** The quick start's stdout, without tfjs' banner about tfjs-node. */
function quickstartLines(out: string): string[] {
  return out.trim().split('\n').filter((l) => !/TensorFlow|tfjs-node|=====|^$|speed things up|Hi there/.test(l));
}

describe.runIf(PACKED)('the packed package in fresh projects (PIQ_PACKED)', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('runs the quick start and file:// save/load in a CommonJS and an ESM project, and type-checks them', async () => {
    const tgz = resolve(PACKED as string);
    const [cjs, esm] = await Promise.all([scratch('cjs', tgz), scratch('esm', tgz)]);
    dirs.push(cjs, esm);
    expect(JSON.parse(readFileSync(join(cjs, 'package.json'), 'utf8')).type ?? 'commonjs').toBe('commonjs');
    expect(JSON.parse(readFileSync(join(esm, 'package.json'), 'utf8')).type).toBe('module');

    // Both quick starts at once (one core each), then the file:// scripts.
    const [outCjs, outEsm] = await Promise.all([run(cjs, node, [tsx, 'quickstart.ts']), run(esm, node, [tsx, 'quickstart.ts'])]);
    for (const [kind, out] of [['CommonJS', outCjs], ['ESM', outEsm]] as const) {
      const lines = quickstartLines(out);
      expect(lines, `${kind} quick start output`).toHaveLength(4);
      expect(lines[0], kind).toMatch(/^conv2d_Conv2D\d+$/);
      expect(lines[1], kind).toBe('5');
      expect(lines[2], kind).toBe('[ 0, 1, 0, 1 ]');
      expect(lines[3], kind).toBe('1024 256');
    }
    for (const dir of [cjs, esm]) expect(quickstartLines(await run(dir, node, [tsx, 'file-url.ts']))).toEqual(['file round trip: equal']);

    // Types: node10 from CommonJS (subpaths through typesVersions), nodenext with `tsc --init`'s strict
    // defaults and bundler from ESM.
    writeFileSync(join(cjs, 'tsconfig.json'), tsconfig({ module: 'commonjs', moduleResolution: 'node10', target: 'es2022', esModuleInterop: true }));
    writeFileSync(join(esm, 'tsconfig.json'), tsconfig({ module: 'nodenext', target: 'esnext', noUncheckedIndexedAccess: true, exactOptionalPropertyTypes: true, verbatimModuleSyntax: true, isolatedModules: true, noUncheckedSideEffectImports: true, moduleDetection: 'force' }));
    writeFileSync(join(esm, 'tsconfig.bundler.json'), tsconfig({ module: 'esnext', moduleResolution: 'bundler', target: 'es2022' }));
    await Promise.all([run(cjs, node, [tsc, '-p', 'tsconfig.json']), run(esm, node, [tsc, '-p', 'tsconfig.json']), run(esm, node, [tsc, '-p', 'tsconfig.bundler.json'])]);
  }, 900_000);
});
