import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CrmRecord } from '../../src/core/connector.js';
import { createSqlConnector } from '../../src/connectors/sql/index.js';
import { writeSampleSqlite } from '../../src/sample/index.js';

/**
 * ReadOptions.idRange (how a queued run's parts split an object): ranges cut at ids read in key order
 * cover every record exactly once, in the connector's usual (modified, id) pages and within a delta window.
 */
describe('SQL connector: reads bounded by id range', () => {
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-id-range-'));
    await writeSampleSqlite(join(dir, 'source.db'), { seed: 3, size: 90 });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const readAll = async (connector: ReturnType<typeof createSqlConnector>, options: Parameters<ReturnType<typeof createSqlConnector>['read']>[1]): Promise<CrmRecord[]> => {
    const records: CrmRecord[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await connector.read('contacts', { ...options, limit: 7, ...(after ? { after } : {}) });
      records.push(...page.records);
      if (!page.next) return records;
      after = page.next;
    }
  };

  it('ranges cut every 25 ids cover each record once, with and without a modified window', async () => {
    const connector = createSqlConnector({ dialect: 'sqlite', path: join(dir, 'source.db') });
    try {
      expect(connector.capabilities().idRanges).toBe(true);
      const ids = (await readAll(connector, { anyOrder: true, fields: [] })).map((record) => record.id);
      expect(ids.length).toBeGreaterThan(60);
      const bounds = ids.filter((_, index) => (index + 1) % 25 === 0);
      const ranges = [...bounds, undefined].map((until, index) => ({ ...(index > 0 ? { after: bounds[index - 1]! } : {}), ...(until !== undefined ? { until } : {}) }));
      const all = await readAll(connector, {});
      const since = [...all.map((record) => record.updatedAt!)].sort()[Math.floor(all.length / 2)]!;
      for (const window of [{}, { modifiedSince: since }]) {
        const whole = (await readAll(connector, window)).map((record) => record.id).sort();
        const parts = [];
        for (const range of ranges) parts.push(...(await readAll(connector, { ...window, idRange: range })).map((record) => record.id));
        expect(parts.sort()).toEqual(whole);
        expect(new Set(parts).size).toBe(parts.length);
      }
    } finally {
      await connector.close?.();
    }
  });
});
