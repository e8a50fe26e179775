import SqliteDatabase from 'better-sqlite3';
import { expect } from 'vitest';
import type { Ledger } from '../../src/ledger/index.js';

/**
 * Scaffolding shared by the delta end-to-end tests into a vendor target (test/e2e/pipedrive-deltas.test.ts,
 * test/e2e/salesforce-deltas.test.ts): one statement against a SQLite file, a source row copied with some
 * columns changed, and the after-every-run check that nothing is in the target twice and nothing is lost.
 */

/** Runs one statement against the SQLite file at `path`: the rows of a query, nothing for a write. */
export function sqlite(path: string, statement: string, ...params: unknown[]): Record<string, unknown>[] {
  const db = new SqliteDatabase(path);
  try {
    const prepared = db.prepare(statement);
    if (prepared.reader) return prepared.all(...params) as Record<string, unknown>[];
    prepared.run(...params);
    return [];
  } finally {
    db.close();
  }
}

/** Inserts a copy of row `templateId` of `table` under the next id, with `overrides`; returns the new id. */
export function insertLike(path: string, table: string, templateId: number, overrides: Record<string, unknown>): number {
  const id = Number(sqlite(path, `SELECT max(id) AS id FROM ${table}`)[0]!.id) + 1;
  const template = sqlite(path, `SELECT * FROM ${table} WHERE id = ?`, templateId)[0]!;
  const columns = Object.keys(template);
  const values = columns.map((column) => (column === 'id' ? id : column in overrides ? overrides[column] : template[column]));
  sqlite(path, `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`, ...values);
  return id;
}

/**
 * Every source record of `object` is linked to a target record or listed as an unresolved error failure, and
 * the target holds exactly the linked records (`live.ids`); when `live.stamps` (the source id each target record
 * carries) is given, no source id is stamped on two target records. `unfinished`: a run stopped in the middle, so
 * source records it has not reached yet may be neither linked nor failed (nothing in the target may be unlinked).
 */
export async function expectLinkedOrFailed(ledger: Ledger, object: string, sourceIds: string[], live: { ids: string[]; stamps?: unknown[] }, options: { unfinished?: boolean } = {}): Promise<void> {
  const failures = new Set((await ledger.listFailures({ object, unresolved: true, severity: 'error' })).map((failure) => failure.sourceId));
  const links = await ledger.getLinks(object, sourceIds);
  const targets = new Set<string>();
  for (const id of sourceIds) {
    const target = links.get(id)?.targetId;
    if (target) targets.add(target);
    else if (!options.unfinished) expect(failures.has(id), `${object} ${id}: neither linked nor failed`).toBe(true);
  }
  expect([...live.ids].sort(), `${object}: the target holds exactly the linked records`).toEqual([...targets].sort());
  if (live.stamps) expect(new Set(live.stamps).size, `${object}: a source id stamped twice`).toBe(live.stamps.length);
}
