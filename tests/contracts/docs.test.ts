// Every exported function and class of the public entry points carries TSDoc with a summary,
// a @category and an @example (typedoc checks that every export is documented at all).
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ENTRIES = ['src/index.ts', 'src/audio/index.ts', 'src/visualize/index.ts', 'src/node/index.ts'];

function exportedDeclarations(entry: string): Array<{ name: string; decl: ts.Declaration }> {
  const program = ts.createProgram([entry], { module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler, target: ts.ScriptTarget.ES2020, types: [] });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(entry);
  if (!source) throw new Error(`cannot read ${entry}`);
  const moduleSymbol = checker.getSymbolAtLocation(source);
  if (!moduleSymbol) return [];
  const out: Array<{ name: string; decl: ts.Declaration }> = [];
  for (const sym of checker.getExportsOfModule(moduleSymbol)) {
    const target = sym.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(sym) : sym;
    const decl = target.declarations?.[0];
    if (decl) out.push({ name: sym.getName(), decl });
  }
  return out;
}

function jsDocTags(decl: ts.Declaration): { summary: string; tags: string[] } {
  const node = ts.isVariableDeclaration(decl) ? decl.parent.parent : decl;
  const docs = ts.getJSDocCommentsAndTags(node).filter(ts.isJSDoc);
  const doc = docs[docs.length - 1];
  const summary = typeof doc?.comment === 'string' ? doc.comment : (doc?.comment ?? []).map((c) => c.text).join('');
  return { summary, tags: (doc?.tags ?? []).map((t) => t.tagName.text) };
}

describe('public API documentation', () => {
  for (const entry of ENTRIES) {
    it(`every function and class exported by ${entry} has a summary, a @category and an @example`, () => {
      const missing: string[] = [];
      const decls = exportedDeclarations(entry);
      expect(decls.length).toBeGreaterThan(0);
      for (const { name, decl } of decls) {
        const isCallableOrClass = ts.isFunctionDeclaration(decl) || ts.isClassDeclaration(decl);
        const { summary, tags } = jsDocTags(decl);
        if (summary.trim().length === 0) missing.push(`${name}: no summary`);
        if (!tags.includes('category') && !ENTRIES.some((e) => decl.getSourceFile().fileName.endsWith(e))) missing.push(`${name}: no @category`);
        if (isCallableOrClass && !tags.includes('example')) missing.push(`${name}: no @example`);
      }
      expect(missing, missing.join('\n')).toEqual([]);
    }, 60_000);
  }
});
