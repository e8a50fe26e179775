import { z } from 'zod';
import type { ObjectSchema, SchemaDescription } from '../../core/schema.js';
import type { MappingProblem } from '../../project/project-file.js';
import type { ObjectMapping, ProjectFile } from '../../project/types.js';
import type { FieldView, MappingResponse, ObjectMappingView, ObjectView } from '../api.js';
import { TRANSFORM_KINDS } from '../../project/project-file.js';
import { DURATION_UNITS } from '../../project/types.js';
import { HttpError } from './errors.js';

const value = z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(z.string())]);
const names = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

const transformSchema = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({ kind: z.literal('copy') }),
    z.strictObject({ kind: z.literal('join'), separator: z.string() }),
    z.strictObject({ kind: z.literal('split'), separator: z.string(), part: z.union([z.enum(['first', 'rest']), z.int().min(0)]) }),
    z.strictObject({ kind: z.literal('constant'), value }),
    z.strictObject({ kind: z.literal('map'), values: z.record(z.string(), value), default: value.optional(), unmapped: z.enum(['fail', 'keep', 'default']) }),
    z.strictObject({ kind: z.literal('date'), zone: z.string().min(1).optional() }),
    z.strictObject({ kind: z.literal('datetime'), zone: z.string().min(1).optional() }),
    z.strictObject({ kind: z.literal('lowercase') }),
    z.strictObject({ kind: z.literal('trim') }),
    z.strictObject({ kind: z.literal('domain') }),
    z.strictObject({ kind: z.literal('duration'), from: z.enum(DURATION_UNITS), to: z.enum(DURATION_UNITS) }),
  ],
  { error: 'unknown transform kind (expected copy, join, split, constant, map, date, datetime, lowercase, trim, domain or duration)' },
);

/**
 * A transform this page checks the shape of, or another kind the project file knows (a transform added to the
 * engine after this page: `domain`, ...), passed through as it is; ferry.yaml's own parser checks it before the
 * save is written (see the PUT route).
 */
const anyTransformSchema = z.union([
  transformSchema,
  z.looseObject({ kind: z.string().refine((kind) => (TRANSFORM_KINDS as readonly string[]).includes(kind), { message: `unknown transform kind (expected one of ${TRANSFORM_KINDS.join(', ')})` }) }),
]);

// Loose objects: keys this page does not edit (a field's `onInvalid` or `locale`, an object's `where`) go back
// as they came; the project file's parser checks them before the save is written.
export const objectMappingViewSchema = z.looseObject({
  /** The entry's key under objects when it is not the source name (routing: several mappings of one source). */
  key: z.string().min(1).optional(),
  source: z.string().min(1),
  target: z.string().min(1),
  fields: z.array(z.looseObject({ source: z.array(z.string().min(1)), target: z.string().min(1), transform: anyTransformSchema })),
  matchKeys: z.array(z.strictObject({ source: names, target: names, kind: z.enum(['email', 'domain', 'phone', 'name', 'exact']) })),
  matched: z.enum(['update', 'fill-empty', 'skip']),
  duplicates: z.enum(['merge', 'separate']),
  ambiguous: z.enum(['hold', 'create']),
  matchOnly: z.boolean(),
  links: z.record(z.string(), z.string().min(1)),
  /** Row filter (project/routing.ts): source field -> accepted values. */
  where: z.record(z.string().min(1), z.array(z.string()).min(1)).optional(),
});

function issuePath(path: PropertyKey[], body: unknown): string {
  let out = '';
  let node: unknown = body;
  for (const segment of path) {
    if (typeof segment === 'number') {
      const item = Array.isArray(node) ? (node[segment] as unknown) : undefined;
      const target = item && typeof item === 'object' && 'target' in item ? (item as { target: unknown }).target : undefined;
      out += typeof target === 'string' ? `[${segment}: ${target}]` : `[${segment}]`;
      node = item;
    } else {
      out += `${out ? '.' : ''}${String(segment)}`;
      node = node && typeof node === 'object' ? (node as Record<string, unknown>)[String(segment)] : undefined;
    }
  }
  return out;
}

/** The body of PUT /api/mapping/objects/:source, checked for shape (400 naming object and path). */
export function parseObjectMappingView(source: string, body: unknown): ObjectMapping {
  const parsed = objectMappingViewSchema.safeParse(body);
  if (!parsed.success) {
    const problems = parsed.error.issues.slice(0, 20).map((issue) => ({ object: source, path: issuePath(issue.path, body), message: issue.message }));
    throw new HttpError(
      400,
      'CONFIG_INVALID',
      `The mapping of ${source} is not valid: ${problems.map((problem) => `${problem.path || '(body)'}: ${problem.message}`).join('; ')}`,
      { object: source, problems },
    );
  }
  if (parsed.data.source !== source) {
    throw new HttpError(400, 'USAGE', `The body maps ${parsed.data.source}, but the URL names ${source}.`, { object: source, field: 'source', value: parsed.data.source });
  }
  return structuredClone(parsed.data) as ObjectMapping;
}

export function mappingView(mapping: ObjectMapping): ObjectMappingView {
  return structuredClone(mapping) as ObjectMappingView;
}

export function mappingResponse(project: ProjectFile, problems: { errors: MappingProblem[]; warnings: MappingProblem[] }, notes: string[]): MappingResponse {
  return { objects: project.objects.map(mappingView), problems, notes };
}

function fieldView(field: ObjectSchema['fields'][number]): FieldView {
  return {
    name: field.name,
    ...(field.label !== undefined ? { label: field.label } : {}),
    type: field.type,
    required: field.required === true,
    ...(field.readOnly ? { readOnly: true } : {}),
    ...(field.options ? { picklist: field.options.map((option) => ({ value: option.value, ...(option.label !== undefined ? { label: option.label } : {}) })) } : {}),
    ...(field.reference ? { references: field.reference.object } : {}),
  };
}

export function objectViews(schema: SchemaDescription): ObjectView[] {
  return schema.objects.map((object) => ({
    name: object.name,
    ...(object.label !== undefined ? { label: object.label } : {}),
    ...(object.count !== undefined ? { count: object.count } : {}),
    fields: object.fields.map(fieldView),
  }));
}
