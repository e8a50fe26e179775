import type { SchemaDescription } from '../core/schema.js';
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
 * object, once, with the setting that fixes it and the object's date-time fields as candidates.
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
    const setting = ['csv', 'sql'].includes(project.source.connector)
      ? `Set source.objects.${mapping.source}.updatedAt: <column> to the column holding each record's last-modified date-time` +
        (candidates.length > 0 ? ` (date-time columns: ${candidates.join(', ')})` : '')
      : `The ${project.source.connector} source offers no modified field for it`;
    warnings.push({
      code: 'NO_MODIFIED_FIELD',
      object: mapping.source,
      message: `no modified column was found, so every delta reads all of its records. ${setting}.`,
    });
  }
  return warnings;
}

/** `problems` with the source warnings added to its warnings (for the places that print check's problems). */
export function withSourceWarnings<T extends { warnings: MappingProblem[] }>(
  problems: T,
  project: Pick<ProjectFile, 'source' | 'objects'>,
  sourceSchema: SchemaDescription,
): T {
  return { ...problems, warnings: [...problems.warnings, ...sourceWarnings(project, sourceSchema)] };
}
