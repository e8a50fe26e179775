import { valuesLimitedByVariant, variantLabel, type FieldSchema, type FieldType, type ObjectSchema, type SchemaDescription } from '../core/schema.js';
import type { FieldMapping, ObjectMapping, ProjectFile } from './types.js';
import { validateRouting } from './routing.js';
import { didYouMean } from './yaml-errors.js';

// ---------------------------------------------------------------------------------------------------------
// validateMapping (ferry check)

export type MappingProblemCode =
  | 'UNKNOWN_SOURCE_OBJECT'
  | 'UNKNOWN_TARGET_OBJECT'
  | 'UNKNOWN_SOURCE_FIELD'
  | 'UNKNOWN_TARGET_FIELD'
  | 'READ_ONLY_TARGET'
  | 'DUPLICATE_TARGET_FIELD'
  | 'REQUIRED_UNMAPPED'
  | 'TYPE_MISMATCH'
  | 'ENUM_VALUE_INVALID'
  | 'ENUM_WITHOUT_MAP'
  | 'ENUM_OPTIONS_DIFFER'
  /** Values written into a picklist that some variants of the target record (record types) do not offer. */
  | 'ENUM_VALUE_VARIANT_LIMITED'
  | 'REFERENCE_MISMATCH'
  | 'REFERENCE_NOT_MIGRATED'
  | 'MATCH_KEY_UNKNOWN_FIELD'
  | 'LOCALE_UNUSED'
  | 'EMPTY_INTO_REQUIRED'
  /** A mapped source object has no modified column: deltas read all of it (source-warnings.ts). */
  | 'NO_MODIFIED_FIELD'
  // Row filters and routing (routing.ts, validateRouting)
  | 'WHERE_UNKNOWN_FIELD'
  | 'WHERE_OVERLAP'
  | 'ROUTE_NAME_CLASH';

export interface MappingProblem {
  code: MappingProblemCode;
  /** Source object name of the mapping (or the unknown object). */
  object: string;
  /** The target field concerned (source field for unknown source fields). */
  field?: string;
  message: string;
}

const TEXT_TYPES: ReadonlySet<FieldType> = new Set(['string', 'text', 'email', 'phone', 'url', 'enum']);
const REFERENCE_TYPES: ReadonlySet<FieldType> = new Set(['reference', 'reference-list']);

/** The type of a mapping's output before conversion, or undefined when unknown. */
function outputType(mapping: FieldMapping, source: ObjectSchema): FieldType | undefined {
  switch (mapping.transform.kind) {
    case 'copy':
    case 'map': {
      if (mapping.source.length !== 1) return 'string';
      return source.fields.find((field) => field.name === mapping.source[0])?.type;
    }
    case 'join':
    case 'split':
    case 'lowercase':
    case 'trim':
    case 'domain':
      return 'string';
    case 'date':
      return 'date';
    case 'datetime':
      return 'datetime';
    case 'duration':
      return 'number';
    case 'constant':
      return undefined;
  }
}

/** Whether a value of type `from` converts to `to` without surprises; the reason when it does not. */
function typeMismatch(from: FieldType, to: FieldType): string | undefined {
  if (from === to || to === 'json' || from === 'json') return undefined;
  if (REFERENCE_TYPES.has(to) || REFERENCE_TYPES.has(from)) {
    if (REFERENCE_TYPES.has(to) && REFERENCE_TYPES.has(from)) return from === 'reference-list' ? 'a list of references goes into a single reference' : undefined;
    return `${from} → ${to}`;
  }
  if (TEXT_TYPES.has(to)) {
    if (to === 'enum') return undefined; // handled by the enum checks
    if (TEXT_TYPES.has(from) || from === 'number' || from === 'integer' || from === 'boolean' || from === 'date' || from === 'datetime') {
      if (to === 'email' && from !== 'email' && !TEXT_TYPES.has(from)) return `${from} → email`;
      return undefined;
    }
  }
  if ((to === 'number' || to === 'integer') && (from === 'number' || from === 'integer')) {
    return from === 'number' && to === 'integer' ? 'decimals in number → integer fail' : undefined;
  }
  if (to === 'date' && from === 'datetime') return 'datetime → date takes the UTC date; use transform: date to take the date in sourceTimeZone';
  if (to === 'datetime' && from === 'date') return 'date → datetime gives midnight UTC; use transform: datetime to read it in sourceTimeZone';
  return `${from} → ${to}: values that do not convert fail their record`;
}

/**
 * Checks a project against both schemas (`ferry check`): errors stop a run before any write, warnings are
 * shown. Each problem has a stable code.
 */
export function validateMapping(
  project: ProjectFile,
  sourceSchema: SchemaDescription,
  targetSchema: SchemaDescription,
): { errors: MappingProblem[]; warnings: MappingProblem[] } {
  const errors: MappingProblem[] = [];
  const warnings: MappingProblem[] = [];
  const sourceNames = sourceSchema.objects.map((object) => object.name);
  const targetNames = targetSchema.objects.map((object) => object.name);
  for (const mapping of project.objects) {
    const object = mapping.source;
    const error = (code: MappingProblemCode, message: string, field?: string): void => {
      errors.push(field === undefined ? { code, object, message } : { code, object, field, message });
    };
    const warn = (code: MappingProblemCode, message: string, field?: string): void => {
      warnings.push(field === undefined ? { code, object, message } : { code, object, field, message });
    };
    const source = sourceSchema.objects.find((candidate) => candidate.name === mapping.source);
    const target = targetSchema.objects.find((candidate) => candidate.name === mapping.target);
    if (!source) error('UNKNOWN_SOURCE_OBJECT', `source object "${mapping.source}" does not exist${didYouMean(mapping.source, sourceNames)}`);
    if (!target) error('UNKNOWN_TARGET_OBJECT', `target object "${mapping.target}" does not exist${didYouMean(mapping.target, targetNames)}`);
    const sourceFieldNames = source?.fields.map((field) => field.name) ?? [];
    const targetFieldNames = target?.fields.map((field) => field.name) ?? [];
    const written = new Set<string>();

    for (const field of mapping.fields) {
      const sourceFields: FieldSchema[] = [];
      for (const name of field.source) {
        const found = source?.fields.find((candidate) => candidate.name === name);
        if (source && !found) {
          error('UNKNOWN_SOURCE_FIELD', `${mapping.source}.${name} does not exist${didYouMean(name, sourceFieldNames)}`, name);
        }
        if (found) sourceFields.push(found);
      }
      if (written.has(field.target)) error('DUPLICATE_TARGET_FIELD', `${mapping.target}.${field.target} is written by more than one mapping`, field.target);
      written.add(field.target);
      if (!target) continue;
      const targetField = target.fields.find((candidate) => candidate.name === field.target);
      if (!targetField) {
        error('UNKNOWN_TARGET_FIELD', `${mapping.target}.${field.target} does not exist${didYouMean(field.target, targetFieldNames)}`, field.target);
        continue;
      }
      if (targetField.readOnly) error('READ_ONLY_TARGET', `${mapping.target}.${field.target} is read-only in the target and cannot be written`, field.target);
      if (field.locale !== undefined && targetField.type !== 'number' && targetField.type !== 'integer') {
        warn('LOCALE_UNUSED', `${mapping.target}.${field.target}: locale ${field.locale} only applies to text going into a number field (this one is ${targetField.type})`, field.target);
      }
      if (field.onInvalid === 'empty' && targetField.required) {
        warn('EMPTY_INTO_REQUIRED', `${mapping.target}.${field.target} is required in the target: a value written empty by onInvalid: empty fails its record there`, field.target);
      }
      if (!source || sourceFields.length !== field.source.length) continue;
      checkFieldTypes(project, mapping, field, sourceFields, targetField, source, error, warn, target);
    }

    if (target && !mapping.matchOnly) {
      for (const field of target.fields) {
        if (!field.required || field.readOnly || written.has(field.name)) continue;
        if (field.name === target.externalIdField || field.name === target.createdField || field.name === target.modifiedField) continue;
        error('REQUIRED_UNMAPPED', `${mapping.target}.${field.name} is required in the target but nothing is mapped to it: map a source field to it, or a constant`, field.name);
      }
      for (const group of target.requiredAnyOf ?? []) {
        if (group.some((name) => written.has(name))) continue;
        error(
          'REQUIRED_UNMAPPED',
          `${mapping.target} needs at least one of ${group.map((name) => `${mapping.target}.${name}`).join(', ')} in the target but nothing is mapped to any of them`,
          group[0],
        );
      }
    }

    for (const key of mapping.matchKeys) {
      const sources = Array.isArray(key.source) ? key.source : [key.source];
      const targets = Array.isArray(key.target) ? key.target : [key.target];
      if (source) {
        for (const name of sources) {
          if (!sourceFieldNames.includes(name)) {
            error('MATCH_KEY_UNKNOWN_FIELD', `match key: source field ${mapping.source}.${name} does not exist${didYouMean(name, sourceFieldNames)}`, name);
          }
        }
      }
      if (target) {
        for (const name of targets) {
          if (!targetFieldNames.includes(name)) {
            error('MATCH_KEY_UNKNOWN_FIELD', `match key: target field ${mapping.target}.${name} does not exist${didYouMean(name, targetFieldNames)}`, name);
          }
        }
      }
    }
  }
  const routing = validateRouting(project, sourceSchema);
  errors.push(...routing.errors);
  warnings.push(...routing.warnings);
  return { errors, warnings };
}

function checkFieldTypes(
  project: ProjectFile,
  mapping: ObjectMapping,
  field: FieldMapping,
  sourceFields: FieldSchema[],
  targetField: FieldSchema,
  source: ObjectSchema,
  error: (code: MappingProblemCode, message: string, field?: string) => void,
  warn: (code: MappingProblemCode, message: string, field?: string) => void,
  target?: ObjectSchema,
): void {
  const where = `${mapping.source} → ${mapping.target}.${field.target}`;
  const transform = field.transform;
  const options = targetField.options?.map((option) => option.value);

  // References: the referenced source object must map to the object the target field refers to. A value map
  // (the owner table of `ferry map`: owner name → target owner id) writes target ids, like a constant.
  if (REFERENCE_TYPES.has(targetField.type) && transform.kind !== 'constant' && transform.kind !== 'map') {
    const sourceField = sourceFields[0];
    if (!sourceField || !REFERENCE_TYPES.has(sourceField.type) || sourceFields.length !== 1) {
      error('REFERENCE_MISMATCH', `${where}: a reference field must be fed by a reference field (got ${sourceFields.map((item) => item.type).join(', ') || 'nothing'})`, field.target);
      return;
    }
    const referenced = sourceField.reference?.object;
    const wanted = targetField.reference?.object;
    if (referenced && wanted) {
      const referencedMappings = project.objects.filter((candidate) => candidate.source === referenced);
      if (referencedMappings.length === 0) {
        warn('REFERENCE_NOT_MIGRATED', `${where}: ${mapping.source}.${sourceField.name} refers to ${referenced}, which is not mapped; the reference will be left empty`, field.target);
      } else if (!referencedMappings.some((candidate) => candidate.target === wanted)) {
        error(
          'REFERENCE_MISMATCH',
          `${where}: ${mapping.source}.${sourceField.name} refers to ${referenced} (mapped to ${referencedMappings.map((candidate) => candidate.target).join(', ')}), but ${mapping.target}.${targetField.name} refers to ${wanted}`,
          field.target,
        );
      }
    }
    const mismatch = typeMismatch(sourceField.type, targetField.type);
    if (mismatch) warn('TYPE_MISMATCH', `${where}: ${mismatch}`, field.target);
    return;
  }

  if (targetField.type === 'enum' && options && options.length > 0) {
    if (target) checkVariantValues(mapping, field, sourceFields, targetField, target, where, error, warn);
    if (transform.kind === 'map') {
      const bad = Object.entries(transform.values).filter(([, value]) => typeof value !== 'string' || !options.includes(value));
      if (transform.default !== undefined && transform.default !== null && (typeof transform.default !== 'string' || !options.includes(transform.default))) {
        bad.push(['(default)', transform.default]);
      }
      if (bad.length > 0) {
        error(
          'ENUM_VALUE_INVALID',
          `${where}: the value map writes ${bad.map(([key, value]) => `${JSON.stringify(key)} → ${JSON.stringify(value)}`).join(', ')}, not options of the target (options: ${options.join(', ')})`,
          field.target,
        );
      }
      return;
    }
    if (transform.kind === 'constant') {
      if (transform.value !== null && (typeof transform.value !== 'string' || !options.includes(transform.value))) {
        error('ENUM_VALUE_INVALID', `${where}: constant ${JSON.stringify(transform.value)} is not an option of the target (options: ${options.join(', ')})`, field.target);
      }
      return;
    }
    const sourceField = sourceFields[0];
    if (sourceField?.type === 'enum' && sourceField.options && sourceField.options.length > 0 && (transform.kind === 'copy' || transform.kind === 'trim')) {
      const missing = sourceField.options.map((option) => option.value).filter((value) => !options.includes(value));
      if (missing.length > 0) warn('ENUM_OPTIONS_DIFFER', `${where}: source options ${missing.map((value) => JSON.stringify(value)).join(', ')} are not target options; add a value map`, field.target);
      return;
    }
    warn('ENUM_WITHOUT_MAP', `${where}: free text goes into a picklist without a value map; values that are not options (${options.join(', ')}) will fail`, field.target);
    return;
  }

  if (transform.kind === 'constant') return;
  const from = outputType(field, source);
  if (!from) return;
  const mismatch = typeMismatch(from, targetField.type);
  if (mismatch) warn('TYPE_MISMATCH', `${where}: ${mismatch}`, field.target);
}

/**
 * A picklist whose values depend on the target record's variant (a Salesforce record type): the values this
 * mapping writes that some variants offer and others do not. When the variant field is written by a constant,
 * only that variant counts, and a value it lacks is an error; otherwise a warning names the source values, the
 * variants without them and the default one (records of those variants with these values fail).
 */
function checkVariantValues(
  mapping: ObjectMapping,
  field: FieldMapping,
  sourceFields: FieldSchema[],
  targetField: FieldSchema,
  target: ObjectSchema,
  where: string,
  error: (code: MappingProblemCode, message: string, field?: string) => void,
  warn: (code: MappingProblemCode, message: string, field?: string) => void,
): void {
  const variants = target.variants;
  if (!variants || !targetField.variantOptions) return;
  const options = new Set((targetField.options ?? []).map((option) => option.value));
  // Target value -> the source values that give it.
  const written = new Map<string, string[]>();
  const add = (value: unknown, from: string) => {
    if (typeof value !== 'string' || !options.has(value)) return;
    written.set(value, [...(written.get(value) ?? []), from]);
  };
  const transform = field.transform;
  if (transform.kind === 'map') {
    for (const [key, value] of Object.entries(transform.values)) add(value, JSON.stringify(key));
    if (transform.default !== undefined) add(transform.default, '(default)');
  } else if (transform.kind === 'constant') add(transform.value, '(constant)');
  else if ((transform.kind === 'copy' || transform.kind === 'trim') && sourceFields[0]?.options) for (const option of sourceFields[0].options) add(option.value, JSON.stringify(option.value));
  if (written.size === 0) return;
  const fixed = mapping.fields.find((each) => each.target === variants.field && each.transform.kind === 'constant');
  const label = (id: string) => variantLabel(target, id);
  const pairs = (value: string) => `${written.get(value)!.join(', ')} → ${JSON.stringify(value)}`;
  if (fixed && fixed.transform.kind === 'constant' && typeof fixed.transform.value === 'string') {
    const variant = fixed.transform.value;
    const allowed = targetField.variantOptions[variant];
    if (!allowed) return;
    const bad = [...written.keys()].filter((value) => !allowed.includes(value));
    if (bad.length > 0) {
      error('ENUM_VALUE_INVALID', `${where}: ${bad.map(pairs).join('; ')}: not available for ${variants.kind} ${label(variant)}, which every record gets (its values: ${allowed.join(', ')})`, field.target);
    }
    return;
  }
  const limited = valuesLimitedByVariant(target, targetField, [...written.keys()]);
  if (limited.length === 0) return;
  const lines = limited.map((each) => `${pairs(each.value)} (not in ${variants.kind} ${each.missingIn.map(label).join(', ')})`);
  const fallback = variants.default ? `; a create without ${variants.field} gets ${variants.kind} ${label(variants.default)}` : '';
  warn('ENUM_VALUE_VARIANT_LIMITED', `${where}: some ${variants.kind}s do not offer these values, so records of those ${variants.kind}s with them fail: ${lines.join('; ')}${fallback}`, field.target);
}
