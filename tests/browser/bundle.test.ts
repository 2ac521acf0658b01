// The browser entry points must bundle for `platform: 'browser'` with every dependency inlined
// (tfjs included) and without reaching a Node built-in. esbuild refuses to resolve `node:*` and bare
// built-ins ('fs', 'path', ...) on the browser platform, so a successful build is the check; the
// metafile and output are inspected as a second line of defence. The Node-only subpath is bundled
// too, to show that the check does catch a Node import.
import { build, type BuildFailure, type Metafile } from 'esbuild';
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const NODE_BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

interface BundleReport {
  errors: string[];
  nodeImports: string[];
  inputs: string[];
  code: string;
}

async function bundleForBrowser(entry: string): Promise<BundleReport> {
  try {
    const r = await build({
      absWorkingDir: root,
      entryPoints: [entry],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      target: 'es2020',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    const meta = r.metafile as Metafile;
    const imports = Object.values(meta.inputs).flatMap((i) => i.imports.map((imp) => imp.path));
    const outImports = Object.values(meta.outputs).flatMap((o) => o.imports.map((imp) => imp.path));
    return {
      errors: [],
      nodeImports: [...imports, ...outImports].filter((p) => p.startsWith('node:') || NODE_BUILTINS.has(p)),
      inputs: Object.keys(meta.inputs),
      code: r.outputFiles[0]?.text ?? '',
    };
  } catch (e) {
    const errors = (e as BuildFailure).errors?.map((m) => `${m.location?.file ?? '?'}: ${m.text}`) ?? [String(e)];
    return { errors, nodeImports: [], inputs: [], code: '' };
  }
}

describe('browser bundle', () => {
  it('bundles the core entry point for the browser without any Node built-in', async () => {
    const r = await bundleForBrowser('src/index.ts');
    expect(r.errors).toEqual([]);
    expect(r.nodeImports).toEqual([]);
    expect(r.inputs.some((p) => p.includes('src/node/'))).toBe(false);
    expect(r.inputs.some((p) => p.includes('@tensorflow/tfjs-core'))).toBe(true);
    expect(r.code).not.toMatch(/from\s*["']node:|require\(["']node:/);
  });

  it('bundles the audio entry point for the browser without any Node built-in', async () => {
    const r = await bundleForBrowser('src/audio/index.ts');
    expect(r.errors).toEqual([]);
    expect(r.nodeImports).toEqual([]);
    expect(r.inputs.some((p) => p.includes('src/node/'))).toBe(false);
    expect(r.code).not.toMatch(/from\s*["']node:|require\(["']node:/);
  });

  it('bundles the visualize entry point for the browser without any Node built-in', async () => {
    const r = await bundleForBrowser('src/visualize/index.ts');
    expect(r.errors).toEqual([]);
    expect(r.nodeImports).toEqual([]);
    expect(r.code).not.toMatch(/from\s*["']node:|require\(["']node:/);
  });

  it("reports the Node built-ins of the main entry's Node flavour (the `node` export condition), which browsers never get", async () => {
    const r = await bundleForBrowser('src/node/root.ts');
    expect(r.errors.length).toBeGreaterThan(0);
    expect(r.errors.join('\n')).toMatch(/node:|built into node/i);
  });

  it('reports the Node built-ins of the node subpath, so the check is not vacuous', async () => {
    const r = await bundleForBrowser('src/node/index.ts');
    expect(r.errors.length).toBeGreaterThan(0);
    expect(r.errors.join('\n')).toMatch(/node:|built into node/i);
  });
});
