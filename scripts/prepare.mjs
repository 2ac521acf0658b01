// npm runs `prepare` after `npm install` in this repository, when the package is installed from a
// git URL or a local folder, and before `npm pack` / `npm publish`: it builds dist/ (tsup), so
// every one of those yields a working package. `npm install <folder>` links a clone without
// installing its dev dependencies: they are installed first (without running their scripts).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });

if (!existsSync(join(root, 'node_modules', 'tsup'))) {
  console.log('piq-tfjs prepare: installing the build tools (dev dependencies) to build dist/');
  run('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund']);
}
run('npx', ['--no-install', 'tsup', '--silent']);
