import { z } from 'zod';
import { isSupportedLocale } from '../core/locale-number.js';
import type { FieldValue } from '../core/schema.js';
import { DURATION_UNITS } from './types.js';

/*
 * The YAML form of ferry.yaml as zod validates it (before defaults and key resolution), the JSON Schema
 * derived from it, and the defaults the loader fills in. docs/project-file.md documents every key here.
 * A new key goes in two places: its zod entry below and the matching *_KEYS list (used for "did you mean").
 */

export const DEFAULT_OPTIONS = { demoSampleSize: 5, pageSize: 500 } as const;
export const DEFAULT_STATE = '.ferry/state.db';
export const DEFAULT_TIME_ZONE = 'UTC';
export const OBJECT_DEFAULTS = {
  matched: 'fill-empty',
  duplicates: 'merge',
  ambiguous: 'hold',
  matchOnly: false,
} as const;


export const TRANSFORM_KINDS = ['copy', 'join', 'split', 'constant', 'map', 'date', 'datetime', 'lowercase', 'trim', 'domain', 'duration'] as const;
export const ON_INVALID = ['fail', 'empty', 'keep'] as const;
export const MATCH_KEY_KINDS = ['email', 'domain', 'phone', 'name', 'exact'] as const;

const fieldValueSchema = z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(z.string())]);
const nameOrNames = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

function isValidZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const zoneSchema = z.string().refine(isValidZone, { error: (issue) => `unknown time zone ${JSON.stringify(issue.input)} (use an IANA name such as Europe/Berlin, or UTC)` });

const localeSchema = z.string().refine(isSupportedLocale, {
  error: (issue) => `unknown locale ${JSON.stringify(issue.input)} (use a BCP-47 tag such as de-DE, fr-FR or en-US)`,
});

const durationUnitSchema = z.enum(DURATION_UNITS, { error: (issue) => `unknown unit ${JSON.stringify(issue.input)} (expected one of ${DURATION_UNITS.join(', ')})` });

export const FIELD_ENTRY_KEYS = ['source', 'target', 'transform', 'separator', 'part', 'constant', 'value', 'map', 'unmapped', 'default', 'zone', 'from', 'to', 'onInvalid', 'locale'] as const;

export const fieldEntryObjectSchema = z.strictObject({
  source: nameOrNames.optional(),
  target: z.string().min(1).optional(),
  transform: z
    .enum(TRANSFORM_KINDS, { error: (issue) => `unknown transform ${JSON.stringify(issue.input)} (expected one of ${TRANSFORM_KINDS.join(', ')})` })
    .optional(),
  separator: z.string().optional(),
  part: z.union([z.enum(['first', 'rest']), z.int().min(0)]).optional(),
  constant: fieldValueSchema.optional(),
  value: fieldValueSchema.optional(),
  map: z.record(z.string(), fieldValueSchema).optional(),
  unmapped: z.enum(['fail', 'keep', 'default']).optional(),
  default: fieldValueSchema.optional(),
  zone: zoneSchema.optional(),
  from: durationUnitSchema.optional(),
  to: durationUnitSchema.optional(),
  onInvalid: z.enum(ON_INVALID).optional(),
  locale: localeSchema.optional(),
});

const fieldEntryItemSchema = z.union([z.string().min(1), fieldEntryObjectSchema], {
  error: 'expected a target field name or a mapping such as { target: name, transform: trim }',
});
export const fieldEntrySchema = z.union([z.string().min(1), fieldEntryObjectSchema, z.array(fieldEntryItemSchema).min(1)], {
  error: 'expected a target field name, a mapping such as { target: name, transform: trim }, or a list of them',
});

export const MATCH_KEY_KEYS = ['source', 'target', 'kind'] as const;
export const matchKeySchema = z.union(
  [
    z.string().min(1),
    z.strictObject({
      source: nameOrNames,
      target: nameOrNames.optional(),
      kind: z.enum(MATCH_KEY_KINDS).optional(),
    }),
  ],
  { error: 'expected a field name or { source, target, kind }' },
);

export const OBJECT_ENTRY_KEYS = ['source', 'target', 'where', 'match', 'matched', 'duplicates', 'ambiguous', 'matchOnly', 'links', 'fields'] as const;
// Row filter (routing, project/routing.ts): `where: { Type: Call }` or `{ Type: [Call, Meeting] }`; ~ or "" takes an empty value.
const whereValueSchema = z.union([z.string(), z.number(), z.boolean(), z.null()]);
const whereSchema = z.record(z.string().min(1), z.union([whereValueSchema, z.array(whereValueSchema).min(1)]), {
  error: 'expected a mapping of source fields to a value or a list of values, such as { Type: [Call, Meeting] }',
});
export const objectEntrySchema = z.strictObject({
  source: z.string().min(1).optional(),
  target: z.string().min(1).optional(),
  where: whereSchema.nullable().optional(),
  match: z.array(matchKeySchema).nullable().optional(),
  matched: z.enum(['update', 'fill-empty', 'skip']).optional(),
  duplicates: z.enum(['merge', 'separate']).optional(),
  ambiguous: z.enum(['hold', 'create']).optional(),
  matchOnly: z.boolean().optional(),
  links: z.record(z.string(), z.union([z.string().min(1), z.number()])).nullable().optional(),
  fields: z.record(z.string(), fieldEntrySchema).nullable().optional(),
});

const connectionSchema = z.looseObject({ connector: z.string().min(1) });

export const OPTION_KEYS = ['demoSampleSize', 'pageSize', 'lookbackMs', 'maxFileBytes', 'attachments'] as const;
export const TOP_KEYS = ['version', 'source', 'target', 'state', 'sourceTimeZone', 'sourceLocale', 'options', 'objects'] as const;

/** The YAML form of ferry.yaml, as zod validates it (before defaults and key resolution). */
export const projectFileYamlSchema = z.strictObject({
  version: z.literal(1, { error: 'expected version: 1' }),
  source: connectionSchema,
  target: connectionSchema,
  state: z.string().min(1).optional(),
  sourceTimeZone: zoneSchema.optional(),
  sourceLocale: localeSchema.optional(),
  options: z
    .strictObject({
      demoSampleSize: z.int().positive().optional(),
      pageSize: z.int().positive().optional(),
      lookbackMs: z.int().min(0).optional(),
      /** Largest file copied, in bytes (docs/attachments.md); larger ones fail with FILE_TOO_LARGE. */
      maxFileBytes: z.int().positive().optional(),
      /** `false` copies no files even where both connectors can. */
      attachments: z.boolean().optional(),
    })
    .nullable()
    .optional(),
  objects: z.record(z.string(), objectEntrySchema.nullable()).nullable().optional(),
});

export type ProjectFileYaml = z.input<typeof projectFileYamlSchema>;
export type FieldEntryObject = z.output<typeof fieldEntryObjectSchema>;
export type FieldEntry = z.output<typeof fieldEntrySchema>;
export type ObjectEntry = z.output<typeof objectEntrySchema>;
export type MatchKeyEntry = z.output<typeof matchKeySchema>;

/** JSON Schema of the YAML form, for editors (yaml-language-server) and the wizard. */
export function projectFileJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(projectFileYamlSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return { ...schema, title: 'Ferry project file (ferry.yaml)' };
}

/** A value of the YAML form as the serialiser builds it. */
export type Plain = FieldValue | Plain[] | { [key: string]: Plain | undefined };
