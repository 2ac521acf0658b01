// Persistence checks of the browser end-to-end test (called by e2e.ts): in headless Chromium, the
// demo's interpreter is saved to indexeddb:// and localstorage://, the page is reloaded, and both
// saves must give interpretations bit-identical to the served model's (cpu backend). Then saves
// are damaged on purpose — localStorage filled up before a save, entries removed, weights swapped
// with another model's, IndexedDB weights truncated or the model record deleted — and each must be
// refused with a PiqError that says what happened, never loaded as a wrong model.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import type { Outcome, PersistedResult } from './persistence';

export interface PersistenceCheckOptions {
  chromium: string;
  flags: string[];
  /** Base URL of the served example (ends with '/'). */
  url: string;
  ok: (msg: string) => void;
  log: (msg: string) => void;
}

async function ready(page: Page): Promise<void> {
  await page.waitForFunction(() => window.piqPersistence?.ready || window.piqPersistence?.error !== null, undefined, { timeout: 120_000 });
  const error = await page.evaluate(() => window.piqPersistence.error);
  assert.equal(error, null, `persistence page error: ${String(error)}`);
}

const interpretFrom = (page: Page, url: string) => page.evaluate((u) => window.piqPersistence.interpretFrom(u), url) as Promise<PersistedResult>;
const save = (page: Page, url: string, bigger = false) => page.evaluate(([u, b]) => window.piqPersistence.save(u, { bigger: b }), [url, bigger] as const) as Promise<Outcome>;
const load = (page: Page, url: string) => page.evaluate((u) => window.piqPersistence.load(u), url) as Promise<Outcome>;

/** Asserts a refused call: a PiqError whose message matches. */
function refused(o: Outcome, message: RegExp, what: string): string {
  assert.equal(o.ok, false, `${what} must be refused`);
  if (o.ok) return '';
  assert.ok(o.piqError, `${what}: expected a PiqError, got ${o.name}: ${o.message}`);
  assert.match(o.message, message, what);
  return o.message;
}

export async function persistenceChecks(o: PersistenceCheckOptions): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'piq-chromium-persist-'));
  const context = await chromium.launchPersistentContext(dir, { executablePath: o.chromium, headless: true, args: o.flags });
  const pageErrors: string[] = [];
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${o.url}persistence.html`);
    await ready(page);
    const served = await interpretFrom(page, 'http');
    for (const url of ['indexeddb://piq-e2e', 'localstorage://piq-e2e']) assert.deepEqual(await save(page, url), { ok: true }, `save to ${url}`);

    // ---- reload: both saves come back bit-identical
    await page.reload();
    await ready(page);
    for (const url of ['indexeddb://piq-e2e', 'localstorage://piq-e2e']) {
      const back = await interpretFrom(page, url);
      assert.deepEqual(back, served, `${url}: interpretations after a reload equal the served model's bit for bit`);
    }
    o.ok(`saved to indexeddb:// and localstorage://, reloaded the page: both give bit-identical interpretations (${served.predictedClass.length} digits, cpu)`);

    // ---- localStorage over quota: the save is refused clearly and the previous save is kept
    const filled = await page.evaluate(() => window.piqPersistence.fillLocalStorage());
    o.log(`filled localStorage with ${filled} characters`);
    let msg = refused(await save(page, 'localstorage://piq-e2e', true), /^Interpreter\.save: saving to 'destination' failed: .*quota.*\. The previous save under that name was kept\. If the storage is full/, 'a bigger save over a full localStorage');
    assert.deepEqual(await interpretFrom(page, 'localstorage://piq-e2e'), served, 'the previous localStorage save still loads bit-identically');
    o.ok(`a save into a full localStorage is refused and the previous save still loads bit-identically ("${msg.slice(0, 90)}…")`);
    msg = refused(await save(page, 'localstorage://piq-new'), /^Interpreter\.save: saving to 'destination' failed: .*quota/, 'a new save into a full localStorage');
    refused(await load(page, 'localstorage://piq-new'), /^loadInterpreter: loading 'source' failed: In local storage, there is no model with name 'piq-new'/, 'loading the failed save');
    await page.evaluate(() => window.piqPersistence.clearFiller());
    o.ok('a failed first save leaves nothing loadable behind (loading it is refused: no model)');

    // ---- half-written localStorage saves: an entry missing, or the weights of another model
    for (const part of ['weight_data', 'weight_specs', 'model_topology']) {
      assert.deepEqual(await save(page, 'localstorage://piq-half'), { ok: true });
      await page.evaluate((p) => window.piqPersistence.setLocalStorageEntry('piq-half', p, null), part);
      refused(await load(page, 'localstorage://piq-half'), /^loadInterpreter: loading 'source' failed: In local storage, .* (is|are) missing\. The artifact is missing, incomplete/, `localStorage save without ${part}`);
    }
    assert.deepEqual(await save(page, 'localstorage://piq-other', true), { ok: true });
    assert.deepEqual(await save(page, 'localstorage://piq-half'), { ok: true });
    await page.evaluate(() => {
      const p = window.piqPersistence;
      p.setLocalStorageEntry('piq-half', 'weight_data', p.localStorageEntry('piq-other', 'weight_data'));
    });
    refused(await load(page, 'localstorage://piq-half'), /^loadInterpreter: the weights must be \d+ bytes, got \d+\. The file is truncated or corrupted\./, 'weights of another model');
    const cut = await page.evaluate(() => {
      const p = window.piqPersistence;
      const w = p.localStorageEntry('piq-e2e', 'weight_data') as string;
      p.setLocalStorageEntry('piq-half', 'weight_data', `${w.slice(0, 400)}${w[400] === 'A' ? 'B' : 'A'}${w.slice(401)}`);
      return w.length;
    });
    refused(await load(page, 'localstorage://piq-half'), /^loadInterpreter: checksum mismatch/, 'one changed weight character');
    o.ok(`localStorage saves missing an entry, holding another model's weights or one changed character of ${cut} are refused`);

    // ---- half-written IndexedDB saves: weights truncated, model record gone
    assert.deepEqual(await save(page, 'indexeddb://piq-half'), { ok: true });
    const bytes = await page.evaluate(() => window.piqPersistence.truncateIndexedDbWeights('piq-half', 1000));
    refused(await load(page, 'indexeddb://piq-half'), new RegExp(`^loadInterpreter: the weights must be ${bytes} bytes, got 1000\\. The file is truncated or corrupted\\.`), 'truncated IndexedDB weights');
    await page.evaluate(() => window.piqPersistence.deleteIndexedDbModelRecord('piq-half'));
    refused(await load(page, 'indexeddb://piq-half'), /^loadInterpreter: loading 'source' failed: Cannot find model with path 'piq-half' in IndexedDB\. The artifact is missing/, 'IndexedDB info without its model');
    assert.deepEqual(await interpretFrom(page, 'indexeddb://piq-e2e'), served, 'the intact IndexedDB save is unaffected');
    o.ok('IndexedDB saves with truncated weights or without their model record are refused; the intact save still loads bit-identically');
    assert.deepEqual(pageErrors, [], 'no uncaught errors on the persistence page');
  } finally {
    await context.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
