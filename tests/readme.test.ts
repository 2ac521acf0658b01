import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const readme = readFileSync('README.md', 'utf8');
const blocks = [...readme.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1], body: m[2] as string }));

describe('README', () => {
  it('holds exactly two set-up commands: the demo and the tests', () => {
    const setup = readme.split('## Set up')[1]?.split('\n## ')[0] ?? '';
    const commands = [...setup.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) => (m[1] as string).split('\n').filter((l) => l.trim() && !l.trim().startsWith('#')));
    expect(commands.map((c) => c.replace(/\s+#.*$/, '').trim())).toEqual(['npm ci && npm run demo', 'npm ci && npm test']);
  });

  it('shows the quick start exactly as examples/quickstart/quickstart.ts, which runs', () => {
    const ts = blocks.find((b) => b.lang === 'ts');
    expect(ts?.body).toBe(readFileSync('examples/quickstart/quickstart.ts', 'utf8'));
    const out = execFileSync('npx', ['tsx', '--tsconfig', 'tsconfig.test.json', 'examples/quickstart/quickstart.ts'], { encoding: 'utf8', timeout: 170_000 });
    const lines = out.trim().split('\n').filter((l) => !/TensorFlow|tfjs-node|=====|^$|speed things up|Hi there/.test(l));
    expect(lines[0]).toMatch(/^conv2d_Conv2D\d+$/);
    expect(lines[1]).toBe('[ 0, 1, 0, 1 ]');
    expect(lines[2]).toBe('1024 256');
  }, 180_000);
});
