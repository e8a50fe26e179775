import { FerryError } from '../core/errors.js';
import { findField, findObject, type FieldSchema, type FieldType, type ObjectSchema, type SchemaDescription } from '../core/schema.js';
import { ledgerKeys } from '../project/routing.js';
import type { ObjectMapping, ProjectFile } from '../project/types.js';

/** A target field whose value is another record's id, translated through the ledger. */
export interface ReferencePlan {
  targetField: string;
  /** The SOURCE object the value is an id of (for messages). */
  sourceObject: string;
  /**
   * Ledger keys of the mappings whose links translate the value, tried in order: the mappings of
   * `sourceObject` whose target object is the one the target field refers to (all of them when the field
   * does not say). One key unless the source object is routed to several mappings.
   */
  objects: string[];
  list: boolean;
  required: boolean;
  /**
   * True when the referenced object is this one or is migrated later (a cycle): a value whose link does
   * not exist yet is written in the link pass instead of being reported missing.
   */
  deferrable: boolean;
}

/**
 * When the target creates missing fields and picklist options on write (the user asked for it in the
 * target's settings), the mapping may name target fields the schema lacks and values its picklists lack.
 * This returns the target schema as it will be: missing fields added with the type of what is mapped into
 * them, and picklists of writable fields open to new values. Everything downstream (mapping validation,
 * the plan, value conversion) then works on it unchanged.
 */
export function schemaWithFieldsToCreate(project: ProjectFile, sourceSchema: SchemaDescription, targetSchema: SchemaDescription): SchemaDescription {
  return {
    objects: targetSchema.objects.map((object) => {
      const mappings = project.objects.filter((mapping) => mapping.target === object.name);
      if (mappings.length === 0) return object;
      const fields: FieldSchema[] = object.fields.map((field) => (field.type === 'enum' && !field.readOnly ? { ...field, options: undefined } : field));
      for (const mapping of mappings) {
        const source = findObject(sourceSchema, mapping.source);
        for (const field of mapping.fields) {
          if (fields.some((existing) => existing.name === field.target)) continue;
          const sourceField = source && field.source.length === 1 ? findField(source, field.source[0]!) : undefined;
          fields.push({ name: field.target, type: typeToCreate(sourceField?.type) });
        }
      }
      return { ...object, fields };
    }),
  };
}

function typeToCreate(sourceType: FieldType | undefined): FieldType {
  switch (sourceType) {
    case 'number':
    case 'integer':
    case 'boolean':
    case 'date':
    case 'datetime':
      return sourceType;
    default:
      // Text, e-mails, phones, picklist values and ids of records all arrive as text.
      return 'string';
  }
}

export interface ObjectPlan {
  /**
   * The mapping's ledger key: the key of everything in the ledger, of the run's counts and of progress.
   * The source object's name unless several mappings read it (project/routing.ts, ledgerKeys).
   */
  object: string;
  /** The source object read. */
  sourceObject: string;
  /** The first mapping of its source object: reports the rows the source could not read (once, not per mapping). */
  readErrors: boolean;
  targetObject: string;
  mapping: ObjectMapping;
  sourceSchema: ObjectSchema;
  targetSchema: ObjectSchema;
  references: ReferencePlan[];
  /** Target fields written by the mapping. */
  targetFields: string[];
  targetFieldSchemas: Map<string, FieldSchema>;
}

/**
 * Resolves the mapping against both schemas and orders objects so that referenced objects come first
 * (companies before contacts before deals before notes). References inside a cycle, and self references
 * such as a parent company, become deferrable: written in the link pass when the record they point to
 * comes later.
 */
export function buildPlan(project: ProjectFile, sourceSchema: SchemaDescription, targetSchema: SchemaDescription): ObjectPlan[] {
  const keys = ledgerKeys(project.objects);
  const entries = project.objects.map((mapping, index) => ({ mapping, key: keys[index]! }));
  const byTarget = new Map<string, ObjectMapping>();
  for (const mapping of project.objects) {
    if (!byTarget.has(mapping.target)) byTarget.set(mapping.target, mapping);
  }
  /** The ledger keys that translate ids of `source` into records of `targetObject` (see ReferencePlan.objects). */
  const referenceKeys = (source: string, targetObject: string | undefined): string[] => {
    const all = entries.filter((entry) => entry.mapping.source === source);
    const fitting = targetObject === undefined ? all : all.filter((entry) => entry.mapping.target === targetObject);
    return (fitting.length > 0 ? fitting : all).map((entry) => entry.key);
  };

  const draft = entries.map(({ mapping, key }) => {
    const source = findObject(sourceSchema, mapping.source);
    if (!source) throw new FerryError('SCHEMA_MISMATCH', `The source has no object "${mapping.source}" (mapped in the project file).`, { object: mapping.source });
    const target = findObject(targetSchema, mapping.target);
    if (!target) throw new FerryError('SCHEMA_MISMATCH', `The target has no object "${mapping.target}" (mapped from "${mapping.source}").`, { object: mapping.target });
    const targetFieldSchemas = new Map<string, FieldSchema>();
    const references: Omit<ReferencePlan, 'deferrable'>[] = [];
    for (const field of mapping.fields) {
      const targetField = findField(target, field.target);
      if (!targetField) {
        throw new FerryError('SCHEMA_MISMATCH', `The target object "${mapping.target}" has no field "${field.target}".`, {
          object: mapping.target,
          field: field.target,
        });
      }
      targetFieldSchemas.set(field.target, targetField);
      if (targetField.type !== 'reference' && targetField.type !== 'reference-list') continue;
      // A constant or a value map (the owner table: owner name → target owner id) writes target ids: not translated.
      if (field.transform.kind === 'constant' || field.transform.kind === 'map') continue;
      const sourceField = field.source.length === 1 ? findField(source, field.source[0]!) : undefined;
      const referencedSource =
        sourceField?.reference?.object ?? (targetField.reference ? byTarget.get(targetField.reference.object)?.source : undefined);
      if (!referencedSource) continue;
      references.push({
        targetField: field.target,
        sourceObject: referencedSource,
        objects: referenceKeys(referencedSource, targetField.reference?.object),
        list: targetField.type === 'reference-list',
        required: targetField.required === true,
      });
    }
    return { mapping, key, source, target, references, targetFieldSchemas };
  });

  // Kahn's algorithm in project-file order over ledger keys; a cycle is broken at the first object still waiting.
  const names = new Set(draft.map((entry) => entry.key));
  const ordered: typeof draft = [];
  const done = new Set<string>();
  const waiting = [...draft];
  while (waiting.length > 0) {
    let index = waiting.findIndex((entry) =>
      entry.references.every((reference) => reference.objects.every((key) => key === entry.key || done.has(key) || !names.has(key))),
    );
    if (index === -1) index = 0;
    const [next] = waiting.splice(index, 1);
    ordered.push(next!);
    done.add(next!.key);
  }

  const position = new Map(ordered.map((entry, index) => [entry.key, index]));
  const firstOfSource = new Set<string>();
  return ordered.map((entry, index) => ({
    object: entry.key,
    sourceObject: entry.mapping.source,
    readErrors: firstOfSource.size < firstOfSource.add(entry.mapping.source).size,
    targetObject: entry.mapping.target,
    mapping: entry.mapping,
    sourceSchema: entry.source,
    targetSchema: entry.target,
    targetFields: [...entry.targetFieldSchemas.keys()],
    targetFieldSchemas: entry.targetFieldSchemas,
    references: entry.references.map((reference) => ({
      ...reference,
      deferrable: reference.objects.some((key) => (position.get(key) ?? -1) >= index),
    })),
  }));
}
