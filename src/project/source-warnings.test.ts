import { describe, expect, it } from 'vitest';
import type { SchemaDescription } from '../core/schema.js';
import { parseProjectFile, serialiseProjectFile } from './project-file.js';
import { sourceWarnings, withSourceWarnings } from './source-warnings.js';
import type { ObjectMapping, ProjectFile } from './types.js';

const SCHEMA: SchemaDescription = {
  objects: [
    { name: 'deals', modifiedField: 'Update time', fields: [{ name: 'id', type: 'string' }, { name: 'Update time', type: 'datetime' }] },
    { name: 'notes', fields: [{ name: 'id', type: 'string' }, { name: 'Note - Add time', type: 'datetime' }, { name: 'Due', type: 'datetime' }, { name: 'body', type: 'text' }] },
    { name: 'owners', fields: [{ name: 'id', type: 'string' }] },
    { name: 'unmapped', fields: [{ name: 'id', type: 'string' }] },
  ],
};

function mapping(source: string, target = source): ObjectMapping {
  return { source, target, fields: [], matchKeys: [], matched: 'update', duplicates: 'merge', ambiguous: 'hold', matchOnly: false, links: {} };
}

function project(connector: string, objects: ObjectMapping[]): Pick<ProjectFile, 'source' | 'objects'> {
  return { source: { connector }, objects };
}

describe('sourceWarnings (NO_MODIFIED_FIELD)', () => {
  it('warns once per mapped source object without a modified field, with the setting and the date-time candidates', () => {
    const warnings = sourceWarnings(project('csv', [mapping('deals'), mapping('notes'), mapping('notes', 'tasks'), mapping('owners', 'users')]), SCHEMA);
    expect(warnings).toEqual([
      {
        code: 'NO_MODIFIED_FIELD',
        object: 'notes',
        message:
          'no modified column was found, so every delta reads all of its records. Set source.objects.notes.updatedAt: <column> to the column ' +
          'holding each record\'s last-modified date-time (date-time columns: "Note - Add time", "Due").',
      },
      {
        code: 'NO_MODIFIED_FIELD',
        object: 'owners',
        message:
          'no modified column was found, so every delta reads all of its records. Set source.objects.owners.updatedAt: <column> to the column ' +
          'holding each record\'s last-modified date-time.',
      },
    ]);
  });

  it('names no setting for a source whose connector has none, and adds to the warnings it is given', () => {
    const [warning] = sourceWarnings(project('hubspot', [mapping('notes')]), SCHEMA);
    expect(warning!.message).toBe('no modified column was found, so every delta reads all of its records. The hubspot source offers no modified field for it.');
    const problems = withSourceWarnings({ errors: [], warnings: [{ code: 'TYPE_MISMATCH' as const, object: 'deals', message: 'x' }] }, project('csv', [mapping('notes')]), SCHEMA);
    expect(problems.warnings.map((problem) => problem.code)).toEqual(['TYPE_MISMATCH', 'NO_MODIFIED_FIELD']);
    expect(sourceWarnings(project('csv', []), SCHEMA)).toEqual([]);
  });
});

describe('sourceWarnings: a modified-looking field whose values do not read', () => {
  const schema = (readableAs: ('dmy' | 'mdy' | 'ymd')[]): SchemaDescription => ({
    objects: [{ name: 'notes', fields: [{ name: 'id', type: 'string' }, { name: 'Stamp', type: 'text' }], unreadModifiedField: { field: 'Stamp', sample: '2024/03/17 14:05', readableAs } }],
  });

  it('names the field, the value and the locale that reads its order', () => {
    const [warning] = sourceWarnings(project('csv', [mapping('notes')]), schema(['ymd']));
    expect(warning!.message).toBe(
      'no modified column was found, so every delta reads all of its records. Column "Stamp" is named like one, but its values do not read as ' +
        'date-times (e.g. "2024/03/17 14:05"). They read year first (2024/12/31): set sourceLocale: ja-JP (or another locale writing dates that way) ' +
        "in ferry.yaml, or source.objects.notes.locale: ja-JP for this file only. If another column holds each record's last-modified date-time, " +
        'name it: source.objects.notes.updatedAt: <column>.',
    );
  });

  it('leaves the hint out for a source without the settings', () => {
    const [warning] = sourceWarnings(project('hubspot', [mapping('notes')]), schema(['dmy']));
    expect(warning!.message).toBe('no modified column was found, so every delta reads all of its records. The hubspot source offers no modified field for it.');
  });
});

describe('sourceLocale in ferry.yaml', () => {
  const TEXT = 'version: 1\nsource: { connector: csv, path: export }\ntarget: { connector: sql, dialect: sqlite, path: t.db }\nsourceLocale: de-DE\n';

  it('is read, kept when serialised, and checked', () => {
    const parsed = parseProjectFile(TEXT, 'ferry.yaml', {});
    expect(parsed.sourceLocale).toBe('de-DE');
    expect(serialiseProjectFile(parsed, TEXT)).toContain('sourceLocale: de-DE');
    expect(parseProjectFile(serialiseProjectFile(parsed), 'ferry.yaml', {}).sourceLocale).toBe('de-DE');
    expect(parseProjectFile(TEXT.replace('sourceLocale: de-DE\n', ''), 'ferry.yaml', {}).sourceLocale).toBeUndefined();
    expect(() => parseProjectFile(TEXT.replace('de-DE', 'not a locale'), 'ferry.yaml', {})).toThrow(/sourceLocale: unknown locale "not a locale"/);
  });
});
