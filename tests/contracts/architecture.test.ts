// The structure of src/ that docs/architecture.md describes: small files, the stated export counts
// of the entry points, and the layer check wired into `npm test` (the rules themselves run there:
// `npm run check:layers`).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '../..');
const MAX_LINES = 400;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

function exportCounts(entry: string): { total: number; values: number; types: number } {
  const program = ts.createProgram([entry], { module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler, target: ts.ScriptTarget.ES2020, types: [], resolveJsonModule: true });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(entry);
  const symbol = source && checker.getSymbolAtLocation(source);
  if (!symbol) throw new Error(`cannot read ${entry}`);
  const exports = checker.getExportsOfModule(symbol);
  const values = exports.filter((s) => ((s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s).flags & ts.SymbolFlags.Value) !== 0).length;
  return { total: exports.length, values, types: exports.length - values };
}

describe('architecture', () => {
  it(`keeps every file in src/ at ${MAX_LINES} lines or fewer`, () => {
    const files = sourceFiles(join(ROOT, 'src'));
    expect(files.length).toBeGreaterThan(50);
    const long = files
      .map((f) => ({ file: f.slice(ROOT.length + 1), lines: readFileSync(f, 'utf8').split('\n').length - 1 }))
      .filter((f) => f.lines > MAX_LINES)
      .map((f) => `${f.file}: ${f.lines} lines`);
    expect(long, `split these files along their responsibilities:\n${long.join('\n')}`).toEqual([]);
  });

  it('exports from each entry point the counts stated in docs/architecture.md, by name only', () => {
    const doc = readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8');
    const rows = [...doc.matchAll(/^\| `(piq-tfjs[^`]*)` \((src\/[^)]+)\) \| (\d+) \| (\d+) \| (\d+) \|$/gm)];
    expect(rows.map((r) => r[1])).toEqual(['piq-tfjs', 'piq-tfjs/audio', 'piq-tfjs/visualize', 'piq-tfjs/node']);
    for (const [, name, entry, total, values, types] of rows) {
      const path = join(ROOT, entry as string);
      expect(exportCounts(path), `${name} (${entry})`).toEqual({ total: Number(total), values: Number(values), types: Number(types) });
      expect(readFileSync(path, 'utf8'), `${entry} re-exports a whole module`).not.toMatch(/^export \*/m);
    }
  }, 60_000);

  it('runs the layer check (dependency-cruiser) as part of npm test', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts['check:layers']).toBe('depcruise src --config .dependency-cruiser.cjs');
    expect(pkg.scripts.test).toContain('npm run check:layers');
    const config = createRequire(import.meta.url)(join(ROOT, '.dependency-cruiser.cjs')) as { forbidden: Array<{ name: string; severity: string }> };
    const names = config.forbidden.map((r) => r.name);
    for (const rule of ['shared-imports-shared', 'L0-ops', 'L1-no-lateral', 'L2-no-lateral', 'L2-training', 'L3-api', 'side-visualize', 'no-circular']) {
      expect(names).toContain(rule);
    }
    expect(config.forbidden.every((r) => r.severity === 'error')).toBe(true);
  });
});
