import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { writeSqliteDemoScene } from '../../src/cli/demo-setup.js';
import { ferry } from '../cli/run-cli.js';

/**
 * The SQLite demo scene (sample source with change generators, a target holding some of the same people)
 * with its mapping proposed by `ferry map`, for the continuous sync tests. The new CRM's duplicate contacts
 * (same e-mail) are merged first, as someone would before go-live, so no source contact is held back as
 * ambiguous and a verify can be clean.
 */
export async function writeSyncScene(dir: string, options: { seed: number; size: number }): Promise<void> {
  await writeSqliteDemoScene(dir, join(dir, 'ferry.yaml'), options);
  const mapped = await ferry(dir, ['map', '--json']);
  if (mapped.code !== 0) throw new Error(`ferry map failed: ${mapped.stdout}${mapped.stderr}`);
  const target = new SqliteDatabase(join(dir, 'target.db'));
  try {
    target.exec(`DELETE FROM contacts WHERE id NOT IN (SELECT MIN(id) FROM contacts GROUP BY lower(trim(email))) AND email IS NOT NULL AND trim(email) <> ''`);
  } finally {
    target.close();
  }
}
