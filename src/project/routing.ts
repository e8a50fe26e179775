import { FerryError } from '../core/errors.js';
import type { FieldValue, SchemaDescription } from '../core/schema.js';
import type { MappingProblem } from './validate-mapping.js';
import type { ObjectMapping, ProjectFile } from './types.js';

/*
 * Routing: several object mappings may read one source object, each taking the records its row filter
 * (`where`) accepts (docs/concepts.md, "Routing records").
 *
 * THE LEDGER KEY. Everything the ledger keeps per record (links, units of work, failures, conflicts, the
 * journal, deferred references, match issues) is keyed by the mapping's ledger key, not by the source
 * object: a record of `activities` taken by both `calls` and `tasks` has one link per mapping. The key is
 * the source object's name when only one mapping reads that source (so every ledger written before
 * routing existed keeps working unchanged), and the mapping's key under `objects` in ferry.yaml when
 * several do.
 */

/** Each mapping's ledger key, in project order (see above). Throws when two mappings would share one. */
export function ledgerKeys(objects: readonly ObjectMapping[]): string[] {
  const perSource = new Map<string, number>();
  for (const mapping of objects) perSource.set(mapping.source, (perSource.get(mapping.source) ?? 0) + 1);
  const used = new Map<string, ObjectMapping>();
  return objects.map((mapping) => {
    let key = mapping.source;
    if ((perSource.get(mapping.source) ?? 0) > 1) {
      key = mapping.key ?? mapping.source;
      // Mappings built in code carry no key: the same names the project file would be written with.
      if (mapping.key === undefined && used.has(key)) key = `${mapping.source}_to_${mapping.target}`;
      for (let n = 2; mapping.key === undefined && used.has(key); n++) key = `${mapping.source}_to_${mapping.target}_${n}`;
    }
    const other = used.get(key);
    if (other) {
      throw new FerryError(
        'CONFIG_INVALID',
        `objects: the mappings ${describeMapping(other)} and ${describeMapping(mapping)} would share the ledger name "${key}"; rename one of the entries under objects`,
        { object: key },
      );
    }
    used.set(key, mapping);
    return key;
  });
}

function describeMapping(mapping: ObjectMapping): string {
  return `${mapping.key ?? mapping.source} (${mapping.source} → ${mapping.target})`;
}

/** How a value is compared with a filter's values: trimmed, lower-cased text; empty for null. */
function comparable(value: FieldValue | undefined): string[] {
  if (value === null || value === undefined) return [''];
  if (Array.isArray(value)) return value.length === 0 ? [''] : value.map((item) => String(item).trim().toLowerCase());
  return [String(value).trim().toLowerCase()];
}

/**
 * Whether a mapping takes a source record: every `where` field holds one of its values (a list value:
 * any of its items). No filter takes every record.
 */
export function takesRecord(mapping: Pick<ObjectMapping, 'where'>, fields: Record<string, FieldValue>): boolean {
  if (!mapping.where) return true;
  for (const [field, wanted] of Object.entries(mapping.where)) {
    const accepted = new Set(wanted.map((value) => value.trim().toLowerCase()));
    if (!comparable(fields[field]).some((value) => accepted.has(value))) return false;
  }
  return true;
}

/** Source fields a mapping's filter reads (to add to a read that names its fields). */
export function whereFields(mapping: Pick<ObjectMapping, 'where'>): string[] {
  return Object.keys(mapping.where ?? {});
}

/**
 * Whether some record could be taken by both mappings: on every field both filters name, their values
 * share one (a field only one of them names does not separate them).
 */
export function filtersOverlap(a: Pick<ObjectMapping, 'where'>, b: Pick<ObjectMapping, 'where'>): boolean {
  for (const [field, values] of Object.entries(a.where ?? {})) {
    const other = b.where?.[field];
    if (!other) continue;
    const left = new Set(values.map((value) => value.trim().toLowerCase()));
    if (!other.some((value) => left.has(value.trim().toLowerCase()))) return false;
  }
  return true;
}

/** `Type: Call` / `Type: Call or Meeting`, for messages. */
export function describeWhere(mapping: Pick<ObjectMapping, 'where'>): string {
  if (!mapping.where) return 'every record';
  return Object.entries(mapping.where)
    .map(([field, values]) => `${field}: ${values.map((value) => (value === '' ? '(empty)' : value)).join(' or ')}`)
    .join(', ');
}

/**
 * `ferry check` for row filters and routed source objects: every `where` field exists on the source object
 * (error); two mappings of one source object that could both take a record are a warning, since both
 * then write it, each to a target record of its own (one link per mapping); ledger names must not clash.
 */
export function validateRouting(project: ProjectFile, sourceSchema: SchemaDescription): { errors: MappingProblem[]; warnings: MappingProblem[] } {
  const errors: MappingProblem[] = [];
  const warnings: MappingProblem[] = [];
  let keys: string[];
  try {
    keys = ledgerKeys(project.objects);
  } catch (error) {
    const object = (error instanceof FerryError && typeof error.details.object === 'string' ? error.details.object : undefined) ?? 'objects';
    errors.push({ code: 'ROUTE_NAME_CLASH', object, message: error instanceof Error ? error.message : String(error) });
    return { errors, warnings };
  }
  const name = (index: number): string => `${keys[index]!} (${project.objects[index]!.source} → ${project.objects[index]!.target})`;
  project.objects.forEach((mapping, index) => {
    const source = sourceSchema.objects.find((candidate) => candidate.name === mapping.source);
    if (!source) return; // reported as UNKNOWN_SOURCE_OBJECT
    const names = source.fields.map((field) => field.name);
    for (const field of whereFields(mapping)) {
      if (names.includes(field)) continue;
      const near = names.filter((candidate) => candidate.toLowerCase() === field.toLowerCase());
      errors.push({
        code: 'WHERE_UNKNOWN_FIELD',
        object: mapping.source,
        field,
        message: `${name(index)}: the row filter (where) reads ${mapping.source}.${field}, which does not exist${near.length > 0 ? ` (did you mean ${near.map((candidate) => JSON.stringify(candidate)).join(', ')}?)` : ''}`,
      });
    }
  });
  for (let a = 0; a < project.objects.length; a++) {
    for (let b = a + 1; b < project.objects.length; b++) {
      const left = project.objects[a]!;
      const right = project.objects[b]!;
      if (left.source !== right.source || !filtersOverlap(left, right)) continue;
      warnings.push({
        code: 'WHERE_OVERLAP',
        object: left.source,
        message:
          `${name(a)} takes ${describeWhere(left)} and ${name(b)} takes ${describeWhere(right)}: a record both take is written by both, ` +
          `each to a record of its own; give them filters that do not overlap (where) if each record should go to one place`,
      });
    }
  }
  return { errors, warnings };
}
