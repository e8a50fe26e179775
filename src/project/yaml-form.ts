import { z } from 'zod';
import type { ConnectionConfig, FieldMapping, FieldTransform, MatchKey, MatchKeyKind, ObjectMapping, ProjectFile } from './types.js';
import { DURATION_UNITS } from './types.js';
import { DEFAULT_OPTIONS, DEFAULT_TIME_ZONE, OBJECT_DEFAULTS, TRANSFORM_KINDS } from './project-schema.js';
import type { FieldEntry, FieldEntryObject, MatchKeyEntry, ObjectEntry, projectFileYamlSchema } from './project-schema.js';
import { FormError } from './yaml-errors.js';
import type { PathSegment } from './yaml-errors.js';

/*
 * ferry.yaml: the YAML form (documented in docs/project-file.md) and its translation to the in-memory
 * ProjectFile of types.ts.
 *
 * THE KEY RULE. Under `objects` and under an object's `fields`, every entry's key is the default for both
 * `source` and `target`: an entry that gives neither maps the key to the same name, `source:` overrides the
 * source side, `target:` the target side. The string shorthand `key: name` means `{ target: name }`
 * (source field `key` copied to target field `name`). A constant has no source. A key may hold a list of
 * entries when one source field feeds several target fields (split).
 */

/** An object mapping with the project file's defaults for every option `partial` leaves out. */
export function objectMapping(partial: Partial<ObjectMapping> & Pick<ObjectMapping, 'source' | 'target' | 'fields'>): ObjectMapping {
  return { matchKeys: [], ...OBJECT_DEFAULTS, links: {}, ...partial };
}

/** A plain copy of one source field into one target field (`source: target` in ferry.yaml). */
export function copyField(source: string, target = source): FieldMapping {
  return { source: [source], target, transform: { kind: 'copy' } };
}

function inferKind(field: string): MatchKeyKind {
  const name = field.toLowerCase();
  if (name.includes('email') || name.includes('e_mail')) return 'email';
  if (name.includes('domain') || name.includes('website') || name.includes('url')) return 'domain';
  if (name.includes('phone') || name.includes('mobile') || name.includes('tel')) return 'phone';
  if (name.includes('name')) return 'name';
  return 'exact';
}

function toMatchKey(entry: MatchKeyEntry): MatchKey {
  if (typeof entry === 'string') return { source: entry, target: entry, kind: inferKind(entry) };
  const first = Array.isArray(entry.source) ? entry.source[0]! : entry.source;
  return { source: entry.source, target: entry.target ?? entry.source, kind: entry.kind ?? inferKind(first) };
}

const PARAMS_BY_TRANSFORM: Record<FieldTransform['kind'], readonly string[]> = {
  copy: [],
  join: ['separator'],
  split: ['separator', 'part'],
  constant: ['value', 'constant'],
  map: ['map', 'unmapped', 'default'],
  date: ['zone'],
  datetime: ['zone'],
  lowercase: [],
  trim: [],
  domain: [],
  duration: ['from', 'to'],
};
const TRANSFORM_PARAMS = ['separator', 'part', 'value', 'constant', 'map', 'unmapped', 'default', 'zone', 'from', 'to'] as const;

/** One field entry (key + value) to field mappings; `path` points at the entry for error messages. */
export function toFieldMappings(key: string, entry: FieldEntry, path: PathSegment[]): FieldMapping[] {
  if (Array.isArray(entry)) return entry.map((item, index) => toFieldMapping(key, item, [...path, index]));
  return [toFieldMapping(key, entry, path)];
}

function toFieldMapping(key: string, entry: string | FieldEntryObject, path: PathSegment[]): FieldMapping {
  if (typeof entry === 'string') return copyField(key, entry);
  const has = (name: keyof FieldEntryObject): boolean => Object.hasOwn(entry, name) && entry[name] !== undefined;
  let kind: FieldTransform['kind'];
  if (entry.transform) kind = entry.transform;
  else if (Object.hasOwn(entry, 'constant')) kind = 'constant';
  else if (has('map')) kind = 'map';
  else if (Array.isArray(entry.source) && entry.source.length > 1) {
    throw new FormError(path, 'several source fields need a transform that combines them: transform: join, or a value map (map: { ... }) that looks them up in order');
  } else kind = 'copy';
  if (kind !== 'constant' && Object.hasOwn(entry, 'constant')) {
    throw new FormError([...path, 'constant'], `"constant" cannot be combined with transform: ${kind}`, true);
  }
  if (kind !== 'map' && has('map')) throw new FormError([...path, 'map'], `"map" cannot be combined with transform: ${kind}`, true);
  for (const param of TRANSFORM_PARAMS) {
    if (has(param) && !PARAMS_BY_TRANSFORM[kind].includes(param)) {
      const users = TRANSFORM_KINDS.filter((transform) => PARAMS_BY_TRANSFORM[transform].includes(param));
      throw new FormError([...path, param], `"${param}" does not apply to transform ${kind} (only to ${users.join(', ')})`, true);
    }
  }
  const target = entry.target ?? key;
  let source: string[] = entry.source === undefined ? [key] : Array.isArray(entry.source) ? entry.source : [entry.source];
  let transform: FieldTransform;
  switch (kind) {
    case 'constant': {
      if (has('source')) throw new FormError([...path, 'source'], 'a constant has no source field; remove "source"', true);
      source = [];
      const value = Object.hasOwn(entry, 'constant') ? entry.constant : entry.value;
      if (value === undefined) throw new FormError(path, 'transform constant needs "value" (or write constant: <value>)');
      transform = { kind: 'constant', value };
      break;
    }
    case 'join':
      transform = { kind: 'join', separator: entry.separator ?? ' ' };
      break;
    case 'split':
      if (source.length !== 1) throw new FormError([...path, 'source'], 'split reads exactly one source field', true);
      if (entry.part === undefined) throw new FormError(path, 'split needs "part": first, rest or a position (0, 1, ...)');
      transform = { kind: 'split', separator: entry.separator ?? ' ', part: entry.part };
      break;
    case 'map': {
      if (!entry.map) throw new FormError(path, 'transform map needs "map": { source value: target value, ... }');
      const unmapped = entry.unmapped ?? (has('default') ? 'default' : 'fail');
      if (unmapped === 'default' && !Object.hasOwn(entry, 'default')) {
        throw new FormError([...path, 'unmapped'], 'unmapped: default needs a "default" value', true);
      }
      transform = { kind: 'map', values: { ...entry.map }, unmapped };
      if (Object.hasOwn(entry, 'default') && entry.default !== undefined) transform.default = entry.default;
      break;
    }
    case 'date':
    case 'datetime':
      transform = entry.zone ? { kind, zone: entry.zone } : { kind };
      break;
    case 'duration':
      // Both units are explicit: a guessed unit would be off by a factor of 60 or 1,000 without any error.
      if (entry.from === undefined || entry.to === undefined) {
        throw new FormError(path, `transform duration needs "from" and "to" units (${DURATION_UNITS.join(', ')}), e.g. from: minutes, to: milliseconds`);
      }
      transform = { kind: 'duration', from: entry.from, to: entry.to };
      break;
    default:
      transform = { kind };
  }
  if (kind !== 'constant' && kind !== 'join' && kind !== 'map' && source.length !== 1) {
    throw new FormError([...path, 'source'], `transform ${kind} reads exactly one source field`, true);
  }
  const mapping: FieldMapping = { source, target, transform };
  if (entry.onInvalid !== undefined) {
    if (kind === 'constant') throw new FormError([...path, 'onInvalid'], '"onInvalid" does not apply to a constant', true);
    if (entry.onInvalid !== 'fail') mapping.onInvalid = entry.onInvalid;
  }
  if (entry.locale !== undefined) {
    if (kind === 'constant') throw new FormError([...path, 'locale'], '"locale" does not apply to a constant', true);
    mapping.locale = entry.locale;
  }
  return mapping;
}

export function toObjectMapping(key: string, entry: ObjectEntry | null, path: PathSegment[]): ObjectMapping {
  const value = entry ?? {};
  const fields: FieldMapping[] = [];
  const writtenBy = new Map<string, string>();
  for (const [fieldKey, fieldEntry] of Object.entries(value.fields ?? {})) {
    const fieldPath = [...path, 'fields', fieldKey];
    for (const mapping of toFieldMappings(fieldKey, fieldEntry, fieldPath)) {
      const other = writtenBy.get(mapping.target);
      if (other !== undefined) {
        throw new FormError(fieldPath, `target field "${mapping.target}" is already written by fields.${other}; each target field is written by one mapping`, true);
      }
      writtenBy.set(mapping.target, fieldKey);
      fields.push(mapping);
    }
  }
  const links: Record<string, string> = {};
  for (const [sourceId, targetId] of Object.entries(value.links ?? {})) links[sourceId] = String(targetId);
  const mapping: ObjectMapping = {
    source: value.source ?? key,
    target: value.target ?? key,
    fields,
    matchKeys: (value.match ?? []).map(toMatchKey),
    matched: value.matched ?? OBJECT_DEFAULTS.matched,
    duplicates: value.duplicates ?? OBJECT_DEFAULTS.duplicates,
    ambiguous: value.ambiguous ?? OBJECT_DEFAULTS.ambiguous,
    matchOnly: value.matchOnly ?? OBJECT_DEFAULTS.matchOnly,
    links,
  };
  // The entry's key names the mapping in the ledger when several read one source (project/routing.ts).
  if (key !== mapping.source) mapping.key = key;
  const where = toWhere(value.where);
  if (where) mapping.where = where;
  return mapping;
}

/** The row filter's YAML form -> field -> accepted values as text (~ -> "", which takes an empty value). */
function toWhere(entry: ObjectEntry['where']): ObjectMapping['where'] {
  if (!entry || Object.keys(entry).length === 0) return undefined;
  const out: Record<string, string[]> = {};
  for (const [field, value] of Object.entries(entry)) out[field] = (Array.isArray(value) ? value : [value]).map((item) => (item === null ? '' : String(item)));
  return out;
}

export function fromYamlForm(data: z.output<typeof projectFileYamlSchema>): ProjectFile {
  const objects = Object.entries(data.objects ?? {}).map(([key, entry]) => toObjectMapping(key, entry, ['objects', key]));
  const options: ProjectFile['options'] = {
    demoSampleSize: data.options?.demoSampleSize ?? DEFAULT_OPTIONS.demoSampleSize,
    pageSize: data.options?.pageSize ?? DEFAULT_OPTIONS.pageSize,
  };
  if (data.options?.lookbackMs !== undefined) options.lookbackMs = data.options.lookbackMs;
  if (data.options?.maxFileBytes !== undefined) options.maxFileBytes = data.options.maxFileBytes;
  if (data.options?.attachments !== undefined) options.attachments = data.options.attachments;
  const project: ProjectFile = {
    version: 1,
    source: data.source as ConnectionConfig,
    target: data.target as ConnectionConfig,
    sourceTimeZone: data.sourceTimeZone ?? DEFAULT_TIME_ZONE,
    objects,
    options,
  };
  if (data.state !== undefined) project.state = data.state;
  if (data.sourceLocale !== undefined) project.sourceLocale = data.sourceLocale;
  return project;
}
