import type { DateOrder, SchemaDescription } from '../core/schema.js';
import type { MappingProblem } from './project-file.js';
import type { ProjectFile } from './types.js';

/**
 * Warnings about the source itself rather than the mapping, shown wherever `ferry check`'s problems are
 * (`ferry map`, `ferry check`, the wizard's check and Map step). Kept apart from validateMapping, which
 * checks the mapping against both schemas.
 *
 * NO_MODIFIED_FIELD: a mapped source object has no modified column (none was detected and none is set), so a
 * delta cannot ask for the records changed since the last run: it reads every record of the object each
 * time (changes are still found, by comparing the mapped values with what was written). Named per source
 * object, once, with the setting that fixes it and the object's date-time fields as candidates. When a
 * column is named like a modified column but its values do not read as date-times (the source says so in
 * `unreadModifiedField`: `17.03.2024 14:05` with no `sourceLocale`), the warning names the column, shows a
 * value and says which locale setting reads them.
 */
export function sourceWarnings(project: Pick<ProjectFile, 'source' | 'objects'>, sourceSchema: SchemaDescription): MappingProblem[] {
  const warnings: MappingProblem[] = [];
  const seen = new Set<string>();
  for (const mapping of project.objects) {
    if (seen.has(mapping.source)) continue;
    seen.add(mapping.source);
    const object = sourceSchema.objects.find((candidate) => candidate.name === mapping.source);
    if (!object || object.modifiedField !== undefined) continue;
    const candidates = object.fields.filter((field) => field.type === 'datetime').map((field) => JSON.stringify(field.name));
    const key = `source.objects.${mapping.source}`;
    let setting: string;
    if (!['csv', 'sql'].includes(project.source.connector)) setting = `The ${project.source.connector} source offers no modified field for it`;
    else if (object.unreadModifiedField) {
      const { field, sample, readableAs } = object.unreadModifiedField;
      setting =
        `Column ${JSON.stringify(field)} is named like one, but its values do not read as date-times (e.g. ${JSON.stringify(sample)}). ` +
        `${howToRead(readableAs, key)}. If another column holds each record's last-modified date-time, name it: ${key}.updatedAt: <column>` +
        (candidates.length > 0 ? ` (date-time columns: ${candidates.join(', ')})` : '');
    } else {
      setting =
        `Set ${key}.updatedAt: <column> to the column holding each record's last-modified date-time` +
        (candidates.length > 0 ? ` (date-time columns: ${candidates.join(', ')})` : '');
    }
    warnings.push({
      code: 'NO_MODIFIED_FIELD',
      object: mapping.source,
      message: `no modified column was found, so every delta reads all of its records. ${setting}.`,
    });
  }
  return warnings;
}

/** A locale per date order, as an example to set (any locale writing that order works). */
const EXAMPLE_LOCALE: Record<DateOrder, string> = { dmy: 'de-DE', mdy: 'en-US', ymd: 'ja-JP' };
const ORDER_NAME: Record<DateOrder, string> = { dmy: 'day first', mdy: 'month first', ymd: 'year first' };
const ORDER_EXAMPLE: Record<DateOrder, string> = { dmy: '31.12.2024', mdy: '12/31/2024', ymd: '2024/12/31' };

/** How to make a column of numeric dates readable: the locale that reads them, or what is wrong with them. */
function howToRead(readableAs: DateOrder[], key: string): string {
  const [only] = readableAs;
  if (readableAs.length === 1 && only) {
    const locale = EXAMPLE_LOCALE[only];
    return (
      `They read ${ORDER_NAME[only]} (${ORDER_EXAMPLE[only]}): set sourceLocale: ${locale} (or another locale writing dates that way) in ferry.yaml, ` +
      `or ${key}.locale: ${locale} for this file only`
    );
  }
  if (readableAs.length > 1) {
    return (
      `They read ${readableAs.map((order) => ORDER_NAME[order]).join(' or ')} alike (03/04/2024 is 3 April or 4 March): set sourceLocale, ` +
      `or ${key}.locale for this file only, to the locale they were written in (${readableAs.map((order) => `${EXAMPLE_LOCALE[order]}: ${ORDER_NAME[order]}`).join('; ')})`
    );
  }
  return 'If it holds each record\'s last-modified date-time, export it as ISO 8601 (2024-03-17 14:05:00) or as numeric dates with a four-digit year, all in one order';
}

/** `problems` with the source warnings added to its warnings (for the places that print check's problems). */
export function withSourceWarnings<T extends { warnings: MappingProblem[] }>(
  problems: T,
  project: Pick<ProjectFile, 'source' | 'objects'>,
  sourceSchema: SchemaDescription,
): T {
  return { ...problems, warnings: [...problems.warnings, ...sourceWarnings(project, sourceSchema)] };
}
