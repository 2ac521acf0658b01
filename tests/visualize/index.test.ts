import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectNoTensorLeak } from '../helpers';
import * as viz from '../../src/visualize';

const SRC = join(__dirname, '../../src/visualize');

describe('piq-tfjs/visualize entry', () => {
  it('imports neither tfjs nor Node built-ins, so it runs in browsers and Node alike', () => {
    let seen = 0;
    for (const file of readdirSync(SRC).filter((f) => f.endsWith('.ts'))) {
      const text = readFileSync(join(SRC, file), 'utf8');
      const specifiers = [...text.matchAll(/^(?:import|export)\b[^;]*?from\s+'([^']+)'/gm)].map((m) => m[1] as string);
      seen += specifiers.length;
      for (const s of specifiers) {
        expect(s.startsWith('.') || s === 'fast-png', `${file} imports ${s}`).toBe(true);
        expect(s, `${file} imports ${s}`).not.toMatch(/^(node:|@tensorflow)/);
      }
      // Only src/errors.ts and the tfjs-free src/internal/checks.ts are shared with the rest of the library.
      for (const s of specifiers.filter((x) => x.startsWith('..'))) expect(['../errors', '../internal/checks']).toContain(s);
    }
    expect(seen).toBeGreaterThan(20);
    for (const shared of ['../errors.ts', '../internal/checks.ts']) {
      // Comments (TSDoc examples import from 'piq-tfjs') are not imports.
      const text = readFileSync(join(SRC, shared), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
      const specifiers = [...text.matchAll(/^(?:import|export)\b[^;]*?from\s+'([^']+)'/gm)].map((m) => m[1] as string);
      expect(specifiers.every((s) => s === '../errors'), `${shared} imports ${specifiers.join(', ')}`).toBe(true);
    }
  });

  it('exports every function of the area, and no default-options constant', () => {
    for (const name of [
      'colormap', 'heatmap', 'toRgba', 'overlay', 'maskOverlay', 'spectrogramImage', 'resizeNearest', 'grid',
      'encodePng', 'toImageData', 'drawToCanvas',
    ]) {
      expect(typeof (viz as Record<string, unknown>)[name], name).toBe('function');
    }
    // Defaults are documented with @defaultValue; the constants stay inside their modules.
    expect(Object.keys(viz).filter((k) => k.startsWith('DEFAULT_'))).toEqual([]);
  });

  it('creates no tensors in any function (plain data in, plain data out)', async () => {
    await expectNoTensorLeak(() => {
      const mask = new Float32Array([0, 0.5, 1, 0.25]);
      const heat = viz.heatmap(mask, 2, 2);
      const base = viz.toRgba(mask, 2, 2, 1);
      viz.overlay(base, heat);
      viz.maskOverlay(mask, mask, 2, 2, 1);
      viz.spectrogramImage(mask, 2, 2, { scale: 'power-db' });
      viz.encodePng(viz.grid([[viz.resizeNearest(heat, 2), base]]));
      viz.colormap('cividis').hex(0.3);
    });
  });

  it('re-exports the error classes so callers can catch without importing the main entry', () => {
    expect(new viz.PiqInputError('x')).toBeInstanceOf(viz.PiqError);
  });
});
