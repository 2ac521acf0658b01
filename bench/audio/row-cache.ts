// Scored rows of `npm run bench:audio`, cached in .cache/audio-bench/rows/. A row (one method's scores,
// mask statistics and overlap test on one task) is a pure function of the classifier, the scored
// clips, the mixtures, the scoring options and the method (a baseline's name, or the cached PIQ
// interpreter's folder): a later run with the same key reuses it instead of scoring again, and the
// tables mark it as reused with the date it was scored. `--rescore` (or `--retrain`) ignores the cache.
// Bump ROW_CACHE_VERSION whenever the scoring code changes what a row holds.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const ROW_CACHE_VERSION = 2; // 2: mask-in faithfulness (maskInFF) joined the metrics (#13)

/** A short hash of everything that determines a row. */
export function rowKey(parts: Record<string, unknown>): string {
  return createHash('sha256').update(JSON.stringify({ v: ROW_CACHE_VERSION, ...parts })).digest('hex').slice(0, 16);
}

const fileOf = (dir: string, task: string, method: string, key: string) => join(dir, `${task}-${method.replace(/[^a-zA-Z0-9.-]+/g, '-')}-${key}.json`);

/** The cached row and the date it was scored, or null. */
export function readRow<T>(dir: string, task: string, method: string, key: string): { row: T; scoredAt: string } | null {
  const file = fileOf(dir, task, method, key);
  if (!existsSync(file)) return null;
  return JSON.parse(readFileSync(file, 'utf8')) as { row: T; scoredAt: string };
}

export function writeRow(dir: string, task: string, method: string, key: string, row: unknown, scoredAt: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(fileOf(dir, task, method, key), `${JSON.stringify({ row, scoredAt })}\n`);
}
