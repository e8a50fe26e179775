import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FerryError } from '../core/errors.js';

/**
 * The demo's scene, shared by `ferry demo` (the story) and `ferry serve` ("use demo data"): a seeded
 * "legacy CRM" (source.db), a "new CRM" that already holds some of the same people (target.db), and the
 * ferry.yaml that connects them.
 */
export const SQLITE_TARGET_YAML = `target:
  # The "new CRM": it already holds some of the same companies and contacts.
  connector: sql
  dialect: sqlite
  path: target.db
`;

export const DEMO_PROJECT_HEADER = (seed: number, size: number, target = SQLITE_TARGET_YAML, command = 'ferry demo'): string => `# Ferry demo project, written by \`${command}\` (seed ${seed}, ${size} sample contacts).
# Run every ferry command from this folder: it reads this file. docs/demo.md explains the story.
version: 1
source:
  # The "legacy CRM": sample data with the mess real CRMs have.
  connector: sql
  dialect: sqlite
  path: source.db
${target}state: .ferry/state.db
`;

export interface DemoScene {
  source: Record<string, number>;
  target: Record<string, number>;
}

/**
 * Writes source.db, target.db and `projectPath` (the SQLite scene) into `folder`. Refuses (USAGE) when any
 * of them exists already: it never writes over a user's file.
 */
export async function writeSqliteDemoScene(
  folder: string,
  projectPath: string,
  options: { seed: number; size: number; command?: string },
): Promise<DemoScene> {
  const existing = [projectPath, join(folder, 'source.db'), join(folder, 'target.db')].filter((path) => existsSync(path));
  if (existing.length > 0) {
    throw new FerryError('USAGE', `Demo data is written beside the project file, but ${existing.join(', ')} already exist${existing.length === 1 ? 's' : ''}; nothing was written.`, {
      path: existing[0],
    });
  }
  await mkdir(folder, { recursive: true });
  const sample = await import('../sample/index.js');
  const source = await sample.writeSampleSqlite(join(folder, 'source.db'), { seed: options.seed, size: options.size });
  const target = await sample.createDemoTargetSqlite(join(folder, 'target.db'), { seed: options.seed, size: options.size });
  await writeFile(projectPath, DEMO_PROJECT_HEADER(options.seed, options.size, SQLITE_TARGET_YAML, options.command), 'utf8');
  return { source, target };
}
