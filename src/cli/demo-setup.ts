import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FerryError } from '../core/errors.js';
import type { OpenProject } from './open-project.js';

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

/** Conflicting edits the demo makes: few, so each can be looked at. */
const DEMO_CONFLICT_EDITS = 3;

/**
 * People edit a few target records that also changed in the source, on a field both sides changed: the
 * delta must find these conflicts every time, whatever records the random edits happened to touch.
 * Written through the target connector, like any other client of the new CRM.
 */
export async function editChangedRecordsInTarget(
  opened: OpenProject,
  changed: Record<string, (number | string)[]>,
  changedFields: Record<string, string[]>,
  write: (object: string, targetId: string, field: string, value: string) => Promise<boolean> = async (object, targetId, field, value) => {
    const [written] = await opened.target.update(object, [{ id: targetId, fields: { [field]: value } }]);
    return written?.ok === true;
  },
  label = 'the new CRM',
): Promise<{ object: string; sourceId: string; targetId: string; field: string; value: string }[]> {
  const edits: { object: string; sourceId: string; targetId: string; field: string; value: string }[] = [];
  // Contacts first: a job title edited on both sides is the conflict everyone recognises.
  const tables = Object.keys(changed).sort((a, b) => Number(b === 'contacts') - Number(a === 'contacts'));
  for (const table of tables) {
    const ids = changed[table] ?? [];
    if (edits.length >= DEMO_CONFLICT_EDITS) break;
    const mapping = opened.project.objects.find((object) => object.source === table);
    if (!mapping) continue;
    const targetObject = opened.targetSchema.objects.find((object) => object.name === mapping.target);
    // A text field that the source change touched and the mapping copies as is.
    const field = (changedFields[table] ?? [])
      .map((sourceField) => mapping.fields.find((entry) => entry.source.length === 1 && entry.source[0] === sourceField && ['copy', 'trim'].includes(entry.transform.kind)))
      .find((entry) => {
        const type = targetObject?.fields.find((candidate) => candidate.name === entry?.target)?.type;
        return entry !== undefined && (type === 'string' || type === 'text');
      });
    if (!field) continue;
    const links = await opened.ledger.getLinks(table, ids.map(String));
    const picked = ids
      .map((id) => links.get(String(id)))
      .filter((link) => link?.targetId && link.state === 'linked')
      .slice(0, DEMO_CONFLICT_EDITS - edits.length);
    for (const link of picked) {
      const value = `Edited in ${label} #${edits.length + 1}`;
      if (await write(mapping.target, link!.targetId!, field.target, value)) edits.push({ object: table, sourceId: link!.sourceId, targetId: link!.targetId!, field: field.target, value });
    }
  }
  return edits;
}

/** The seed and size of a demo project, from the header `writeSqliteDemoScene` wrote; undefined for any other project. */
export function demoSceneOf(projectText: string): { seed: number; size: number } | undefined {
  const match = /^# Ferry demo project, written by `[^`]+` \(seed (\d+), (\d+) sample contacts\)/.exec(projectText);
  return match ? { seed: Number(match[1]), size: Number(match[2]) } : undefined;
}

/** How much "time passes" changes in a demo of `size` contacts: the story's step 5 and the wizard's button. */
export function demoChangeSizes(size: number): { newRecords: number; changedRecords: number; targetEdits: number } {
  return { newRecords: Math.max(5, Math.round(size * 0.03)), changedRecords: Math.max(8, Math.round(size * 0.05)), targetEdits: Math.max(6, Math.round(size * 0.03)) };
}

export interface TimePassed {
  created: Record<string, number>;
  changed: Record<string, number>;
  /** Target records people edited (fields the source did not change). */
  targetEdits: number;
  /** Edits of fields that also changed in the source: the next delta's conflicts. */
  conflictingEdits: number;
}

/**
 * "Time passes" on the SQLite demo scene in `folder`: people create and change records in the legacy CRM
 * (about 3% new and 5% changed, stamped `at`), and edit records in the new CRM, a few of them in fields that
 * also changed in the source. `opened` is the demo project, for the links of the changed records.
 */
export async function demoTimePasses(folder: string, opened: OpenProject, options: { seed: number; size: number; at: string }): Promise<TimePassed & { changes: { changed: Record<string, number[]> } }> {
  const sample = await import('../sample/index.js');
  const { seed, size, at } = options;
  const sizes = demoChangeSizes(size);
  const changes = await sample.applySourceChanges(join(folder, 'source.db'), { seed, newRecords: sizes.newRecords, changedRecords: sizes.changedRecords, at });
  const targetEdits = await sample.editTargetRecords(join(folder, 'target.db'), { seed, count: sizes.targetEdits, at });
  const conflictEdits = await editChangedRecordsInTarget(opened, changes.changed, changes.changedFields);
  const count = (ids: Record<string, unknown[]>) => Object.fromEntries(Object.entries(ids).map(([table, list]) => [table, list.length]));
  return { created: count(changes.created), changed: count(changes.changed), targetEdits: targetEdits.length, conflictingEdits: conflictEdits.length, changes };
}
