/**
 * Measures one full migration SQLite -> SQLite of the sample data set: records per second and peak
 * memory. `npx tsx scripts/measure-full.ts [contacts]` (default 20,000 contacts, about 62,000 records).
 * Prints figures; asserts nothing (machines here are shared and noisy).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnector } from '../src/connectors/registry.js';
import { ProgressStream } from '../src/core/progress.js';
import { Engine } from '../src/engine/index.js';
import { Ledger } from '../src/ledger/index.js';
import { proposeMapping } from '../src/project/propose-mapping.js';
import { createDemoTargetSqlite, writeSampleSqlite } from '../src/sample/index.js';

const size = Number(process.argv[2] ?? 20_000);
const dir = mkdtempSync(join(tmpdir(), 'ferry-measure-'));
try {
  await writeSampleSqlite(join(dir, 'source.db'), { seed: 7, size });
  await createDemoTargetSqlite(join(dir, 'target.db'), { seed: 7, size });
  const sourceConfig = { connector: 'sql', dialect: 'sqlite', path: 'source.db' };
  const targetConfig = { connector: 'sql', dialect: 'sqlite', path: 'target.db' };
  const source = createConnector(sourceConfig, { baseDir: dir });
  const target = createConnector(targetConfig, { baseDir: dir });
  const sourceSchema = await source.describe();
  const targetSchema = await target.describe();
  const ledger = await Ledger.open(join(dir, 'state.db'));
  const draft = new Engine({ project: { version: 1, source: sourceConfig, target: targetConfig, sourceTimeZone: 'UTC', objects: [], options: { demoSampleSize: 5, pageSize: 500 } }, source, target, ledger, progress: new ProgressStream(), sourceSchema, targetSchema });
  const { project } = await proposeMapping({
    sourceSchema,
    targetSchema,
    source: sourceConfig,
    target: targetConfig,
    sampleValues: (object, field) => draft.sampleSourceValues(object, field),
  });
  const engine = new Engine({ project, source, target, ledger, progress: new ProgressStream(), sourceSchema, targetSchema });
  const started = process.hrtime.bigint();
  const result = await engine.migrate();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const read = Object.values(result.counts).reduce((sum, counts) => sum + counts.read, 0);
  const failed = Object.values(result.counts).reduce((sum, counts) => sum + counts.failed, 0);
  console.log(
    JSON.stringify({
      contacts: size,
      recordsRead: read,
      failed,
      seconds: Math.round(seconds * 100) / 100,
      recordsPerSecond: Math.round(read / seconds),
      peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
      counts: result.counts,
    }),
  );
  await source.close();
  await target.close();
  await ledger.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
