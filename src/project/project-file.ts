import { readFile } from 'node:fs/promises';
import { Document, isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { Node as YamlNode, Pair, Scalar, YAMLMap, YAMLSeq } from 'yaml';
import { z } from 'zod';
import { FerryError } from '../core/errors.js';
import type { FieldSchema, FieldType, FieldValue, ObjectSchema, SchemaDescription } from '../core/schema.js';
import type {
  ConnectionConfig,
  FieldMapping,
  FieldTransform,
  MatchKey,
  MatchKeyKind,
  ObjectMapping,
  ProjectFile,
} from './types.js';

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

export const DEFAULT_OPTIONS = { demoSampleSize: 5, pageSize: 500 } as const;
export const DEFAULT_STATE = '.ferry/state.db';
export const DEFAULT_TIME_ZONE = 'UTC';
export const OBJECT_DEFAULTS = {
  matched: 'fill-empty',
  duplicates: 'merge',
  ambiguous: 'hold',
  matchOnly: false,
} as const;

/** An object mapping with the project file's defaults for every option `partial` leaves out. */
export function objectMapping(partial: Partial<ObjectMapping> & Pick<ObjectMapping, 'source' | 'target' | 'fields'>): ObjectMapping {
  return { matchKeys: [], ...OBJECT_DEFAULTS, links: {}, ...partial };
}

/** A plain copy of one source field into one target field (`source: target` in ferry.yaml). */
export function copyField(source: string, target = source): FieldMapping {
  return { source: [source], target, transform: { kind: 'copy' } };
}

export const TRANSFORM_KINDS = ['copy', 'join', 'split', 'constant', 'map', 'date', 'datetime', 'lowercase', 'trim'] as const;
export const MATCH_KEY_KINDS = ['email', 'domain', 'phone', 'name', 'exact'] as const;

// ---------------------------------------------------------------------------------------------------------
// The YAML form (zod)

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

const localeSchema = z.string().refine(
  (locale) => {
    try {
      return Intl.NumberFormat.supportedLocalesOf([locale]).length > 0;
    } catch {
      return false;
    }
  },
  { error: (issue) => `unknown locale ${JSON.stringify(issue.input)} (use a BCP-47 tag such as de-DE or en-US)` },
);

const FIELD_ENTRY_KEYS = ['source', 'target', 'transform', 'separator', 'part', 'constant', 'value', 'map', 'unmapped', 'default', 'zone'] as const;

const fieldEntryObjectSchema = z.strictObject({
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
});

const fieldEntryItemSchema = z.union([z.string().min(1), fieldEntryObjectSchema], {
  error: 'expected a target field name or a mapping such as { target: name, transform: trim }',
});
const fieldEntrySchema = z.union([z.string().min(1), fieldEntryObjectSchema, z.array(fieldEntryItemSchema).min(1)], {
  error: 'expected a target field name, a mapping such as { target: name, transform: trim }, or a list of them',
});

const MATCH_KEY_KEYS = ['source', 'target', 'kind'] as const;
const matchKeySchema = z.union(
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

const OBJECT_ENTRY_KEYS = ['source', 'target', 'match', 'matched', 'duplicates', 'ambiguous', 'matchOnly', 'links', 'fields'] as const;
const objectEntrySchema = z.strictObject({
  source: z.string().min(1).optional(),
  target: z.string().min(1).optional(),
  match: z.array(matchKeySchema).nullable().optional(),
  matched: z.enum(['update', 'fill-empty', 'skip']).optional(),
  duplicates: z.enum(['merge', 'separate']).optional(),
  ambiguous: z.enum(['hold', 'create']).optional(),
  matchOnly: z.boolean().optional(),
  links: z.record(z.string(), z.union([z.string().min(1), z.number()])).nullable().optional(),
  fields: z.record(z.string(), fieldEntrySchema).nullable().optional(),
});

const connectionSchema = z.looseObject({ connector: z.string().min(1) });

const OPTION_KEYS = ['demoSampleSize', 'pageSize', 'lookbackMs'] as const;
const TOP_KEYS = ['version', 'source', 'target', 'state', 'sourceTimeZone', 'sourceLocale', 'options', 'objects'] as const;

/** The YAML form of ferry.yaml, as zod validates it (before defaults and key resolution). */
export const projectFileYamlSchema = z.strictObject({
  version: z.literal(1, { error: 'expected version: 1' }),
  source: connectionSchema,
  target: connectionSchema,
  state: z.string().min(1).optional(),
  sourceTimeZone: zoneSchema.optional(),
  /** BCP-47 locale of numbers and numeric dates written as text in the source (`de-DE`: 1.234,56). */
  sourceLocale: localeSchema.optional(),
  options: z
    .strictObject({
      demoSampleSize: z.int().positive().optional(),
      pageSize: z.int().positive().optional(),
      lookbackMs: z.int().min(0).optional(),
    })
    .nullable()
    .optional(),
  objects: z.record(z.string(), objectEntrySchema.nullable()).nullable().optional(),
});

export type ProjectFileYaml = z.input<typeof projectFileYamlSchema>;
type FieldEntryObject = z.output<typeof fieldEntryObjectSchema>;
type FieldEntry = z.output<typeof fieldEntrySchema>;
type ObjectEntry = z.output<typeof objectEntrySchema>;
type MatchKeyEntry = z.output<typeof matchKeySchema>;

/** JSON Schema of the YAML form, for editors (yaml-language-server) and the wizard. */
export function projectFileJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(projectFileYamlSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return { ...schema, title: 'Ferry project file (ferry.yaml)' };
}

// ---------------------------------------------------------------------------------------------------------
// Errors with positions

type PathSegment = string | number;

/** A problem found while translating the YAML form; `path` is located in the document by the loader. */
class FormError extends Error {
  constructor(
    readonly path: PathSegment[],
    message: string,
    readonly atKey = false,
  ) {
    super(message);
  }
}

export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

function findPair(map: YAMLMap, key: PathSegment): Pair | undefined {
  for (const item of map.items) {
    const itemKey: unknown = isScalar(item.key) ? item.key.value : item.key;
    if (String(itemKey) === String(key)) return item;
  }
  return undefined;
}

/** The node at `path` (or the nearest existing ancestor); `atKey` prefers the key of the last pair. */
function locate(doc: Document, path: readonly PathSegment[], atKey = false): YamlNode | undefined {
  let node: unknown = doc.contents;
  let last: YamlNode | undefined = (doc.contents as YamlNode | null) ?? undefined;
  for (let index = 0; index < path.length; index++) {
    const segment = path[index]!;
    if (isMap(node)) {
      const pair = findPair(node, segment);
      if (!pair) return last;
      const isLast = index === path.length - 1;
      const keyNode = isScalar(pair.key) ? (pair.key as Scalar) : undefined;
      if (isLast && atKey && keyNode) return keyNode;
      node = pair.value;
      if (node && (isScalar(node) || isMap(node) || isSeq(node))) last = node as YamlNode;
      else if (keyNode) {
        last = keyNode;
        if (!isLast) return last;
      }
    } else if (isSeq(node) && typeof segment === 'number') {
      node = node.items[segment];
      if (node && (isScalar(node) || isMap(node) || isSeq(node))) last = node as YamlNode;
      else return last;
    } else {
      return last;
    }
  }
  return last;
}

interface Located {
  line?: number;
  column?: number;
}

function position(doc: Document, lineCounter: LineCounter, path: readonly PathSegment[], atKey = false): Located {
  const node = locate(doc, path, atKey);
  const offset = node?.range?.[0];
  if (offset === undefined) return {};
  const { line, col } = lineCounter.linePos(offset);
  return { line, column: col };
}

function configError(file: string, where: Located, path: readonly PathSegment[], message: string, extra: string[] = []): FerryError {
  const at = where.line !== undefined ? `${file}:${where.line}:${where.column ?? 1}` : file;
  const pathText = formatPath(path);
  const text = `${at}: ${pathText ? `${pathText}: ` : ''}${message}`;
  return new FerryError('CONFIG_INVALID', [text, ...extra].join('\n'), {
    path: pathText || undefined,
    line: where.line,
    column: where.column,
    file,
  });
}

// ---------------------------------------------------------------------------------------------------------
// Suggestions

export function editDistance(a: string, b: string): number {
  const previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = previous[0]!;
    previous[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = previous[j]!;
      previous[j] = Math.min(above + 1, previous[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return previous[b.length]!;
}

/** The closest candidate by edit distance (case-insensitive), when it is close enough to be a likely typo. */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  const lower = word.toLowerCase();
  for (const candidate of candidates) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  if (best === undefined) return undefined;
  return bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function didYouMean(word: string, candidates: readonly string[]): string {
  const hint = suggest(word, candidates);
  return hint ? ` (did you mean "${hint}"?)` : '';
}

function knownKeysAt(path: readonly PathSegment[]): readonly string[] {
  if (path.length === 0) return TOP_KEYS;
  if (path.length === 1 && path[0] === 'options') return OPTION_KEYS;
  if (path[0] === 'objects') {
    if (path.length === 2) return OBJECT_ENTRY_KEYS;
    if (path[2] === 'match') return MATCH_KEY_KEYS;
    if (path[2] === 'fields') return FIELD_ENTRY_KEYS;
  }
  return [];
}

// ---------------------------------------------------------------------------------------------------------
// Secrets and ${ENV} substitution

const ENV_REF = /\$(\$?)\{([A-Za-z_][A-Za-z0-9_]*)\}/g;
const ONLY_ENV_REF = /^\s*\$\{[A-Za-z_][A-Za-z0-9_]*\}\s*$/;
const SECRET_KEY = /(password|passwd|pwd|token|secret|apikey|privatekey|credentials?)$/;
const URL_PASSWORD = /^[a-z][a-z0-9+.-]*:\/\/[^/?#@:\s]*:([^/?#@\s]*)@/i;

function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key.toLowerCase().replace(/[_\-\s]/g, ''));
}

/** Why a value may not be written as is (a literal secret), or undefined when it is fine. */
function literalSecretProblem(key: string, value: unknown): string | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  if (isSecretKey(key) && (typeof value !== 'string' || !ONLY_ENV_REF.test(value))) {
    return `"${key}" holds a literal secret; secrets must come from an environment variable: write ${key}: \${SOME_ENV_VAR} and set the variable`;
  }
  if (typeof value === 'string') {
    const match = URL_PASSWORD.exec(value);
    if (match && match[1] !== '' && !ONLY_ENV_REF.test(match[1]!)) {
      return 'the connection URL contains a literal password; put the whole URL (or just the password) in an environment variable, e.g. url: ${TARGET_DATABASE_URL}';
    }
  }
  return undefined;
}

/** Resolved value -> the `${VAR}` text it came from, so a re-serialised file never contains the secret. */
const substitutions = new Map<string, string>();

function substitute(text: string, env: NodeJS.ProcessEnv, onMissing: (name: string) => never): string {
  return text.replace(ENV_REF, (_whole, escape: string, name: string) => {
    if (escape) return `\${${name}}`;
    const value = env[name];
    if (value === undefined) onMissing(name);
    return value;
  });
}

function walkNodes(node: unknown, path: PathSegment[], visit: (scalar: Scalar, path: PathSegment[]) => void): void {
  if (isScalar(node)) visit(node, path);
  else if (isMap(node)) {
    for (const pair of node.items) {
      const key: unknown = isScalar(pair.key) ? pair.key.value : pair.key;
      walkNodes(pair.value, [...path, String(key)], visit);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, index) => walkNodes(item, [...path, index], visit));
  }
}

// ---------------------------------------------------------------------------------------------------------
// Loading

/** Reads and validates ferry.yaml. CONFIG_MISSING when the file does not exist, CONFIG_INVALID otherwise. */
export async function loadProjectFile(path: string, env: NodeJS.ProcessEnv = process.env): Promise<ProjectFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new FerryError('CONFIG_MISSING', `${path} not found. Run \`ferry init\` to create a project file, or pass --project <file>.`, { path }, { cause: error });
    }
    throw new FerryError('CONFIG_INVALID', `${path}: cannot be read: ${(error as Error).message}`, { path }, { cause: error });
  }
  return parseProjectFile(text, path, env);
}

export function parseProjectFile(text: string, path = 'ferry.yaml', env: NodeJS.ProcessEnv = process.env): ProjectFile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const yamlError = doc.errors[0];
  if (yamlError) {
    const offset = yamlError.pos[0];
    const { line, col } = lineCounter.linePos(offset);
    const message = yamlError.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    const lineText = text.split(/\r?\n/)[line - 1] ?? '';
    const hint = /\{[^}]*\$\{/.test(lineText) ? ' (a ${VAR} inside { ... } must be quoted: url: "${TARGET_URL}", or use block style)' : '';
    throw new FerryError('CONFIG_INVALID', `${path}:${line}:${col}: YAML syntax error: ${message}${hint}`, { line, column: col, file: path, yamlCode: yamlError.code });
  }
  if (doc.contents === null || !isMap(doc.contents)) {
    throw configError(path, { line: 1, column: 1 }, [], 'expected a mapping with version, source, target and objects');
  }

  // Literal secrets are refused before anything else (the message never repeats the value).
  for (const section of ['source', 'target', 'state']) {
    const pair = findPair(doc.contents, section);
    if (!pair) continue;
    walkNodes(pair.value, [section], (scalar, scalarPath) => {
      const key = String(scalarPath[scalarPath.length - 1]);
      const problem = literalSecretProblem(key, scalar.value);
      if (problem) throw configError(path, position(doc, lineCounter, scalarPath), scalarPath, problem);
    });
  }

  // ${ENV_VAR} substitution in every string value.
  walkNodes(doc.contents, [], (scalar, scalarPath) => {
    if (typeof scalar.value !== 'string' || !scalar.value.includes('${')) return;
    const raw = scalar.value;
    const resolved = substitute(raw, env, (name) => {
      throw configError(path, position(doc, lineCounter, scalarPath), scalarPath, `environment variable ${name} is not set`);
    });
    if (resolved !== raw) substitutions.set(resolved, raw);
    scalar.value = resolved;
  });

  const data: unknown = doc.toJS();
  const parsed = projectFileYamlSchema.safeParse(data, { reportInput: true });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => describeIssue(issue, []));
    const located = problems.map((problem) => configError(path, position(doc, lineCounter, problem.path, problem.atKey), problem.path, problem.message));
    const [first, ...rest] = located;
    throw new FerryError('CONFIG_INVALID', [first!.message, ...rest.slice(0, 9).map((error) => error.message)].join('\n'), first!.details);
  }
  try {
    return fromYamlForm(parsed.data);
  } catch (error) {
    if (error instanceof FormError) throw configError(path, position(doc, lineCounter, error.path, error.atKey), error.path, error.message);
    throw error;
  }
}

interface IssueLike {
  code: string;
  path: PropertyKey[];
  message: string;
  input?: unknown;
  keys?: string[];
  values?: unknown[];
  expected?: string;
  errors?: IssueLike[][];
}

/** Turns a zod issue into a readable message and a document path (digging into union branches). */
function describeIssue(issue: IssueLike, base: PathSegment[]): { path: PathSegment[]; message: string; atKey: boolean } {
  const path = [...base, ...issue.path.map((segment) => (typeof segment === 'number' ? segment : String(segment)))];
  if (issue.code === 'invalid_union' && issue.errors && issue.errors.length > 0) {
    // Take the branch whose type fitted the input (its problems are deeper than "expected X").
    const fitting = issue.errors.filter((branch) => !branch.some((inner) => inner.code === 'invalid_type' && inner.path.length === 0));
    const branch = fitting[0];
    if (branch && branch[0]) return describeIssue(branch[0], path);
    return { path, message: issue.message === 'Invalid input' ? `unexpected value ${shortValue(issue.input)}` : issue.message, atKey: false };
  }
  if (issue.code === 'unrecognized_keys' && issue.keys && issue.keys.length > 0) {
    const key = issue.keys[0]!;
    const known = knownKeysAt(path);
    const expected = known.length > 0 ? ` (expected one of ${known.join(', ')})` : '';
    const hint = didYouMean(key, known);
    return { path: [...path, key], message: `unknown key "${key}"${hint || expected}`, atKey: true };
  }
  if (issue.code === 'invalid_type' && issue.input === undefined) {
    const key = path[path.length - 1];
    if (typeof key === 'string') return { path: path.slice(0, -1), message: `missing required key "${key}"`, atKey: false };
    return { path, message: 'a value is required', atKey: false };
  }
  if (issue.code === 'invalid_value' && issue.values && !issue.message.startsWith('unknown transform') && !issue.message.startsWith('expected version')) {
    const options = issue.values.map((value) => String(value));
    return { path, message: `unknown value ${shortValue(issue.input)} (expected one of ${options.join(', ')})${didYouMean(String(issue.input), options)}`, atKey: false };
  }
  return { path, message: issue.message.replace(/^Invalid input: /, ''), atKey: false };
}

function shortValue(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 59)}…` : text;
}

// ---------------------------------------------------------------------------------------------------------
// YAML form -> ProjectFile

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
};
const TRANSFORM_PARAMS = ['separator', 'part', 'value', 'constant', 'map', 'unmapped', 'default', 'zone'] as const;

/** One field entry (key + value) to field mappings; `path` points at the entry for error messages. */
function toFieldMappings(key: string, entry: FieldEntry, path: PathSegment[]): FieldMapping[] {
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
    throw new FormError(path, 'several source fields need a transform that combines them: transform: join');
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
    default:
      transform = { kind };
  }
  if (kind !== 'constant' && kind !== 'join' && source.length !== 1) {
    throw new FormError([...path, 'source'], `transform ${kind} reads exactly one source field`, true);
  }
  return { source, target, transform };
}

function toObjectMapping(key: string, entry: ObjectEntry | null, path: PathSegment[]): ObjectMapping {
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
  return {
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
}

function fromYamlForm(data: z.output<typeof projectFileYamlSchema>): ProjectFile {
  const objects = Object.entries(data.objects ?? {}).map(([key, entry]) => toObjectMapping(key, entry, ['objects', key]));
  const options: ProjectFile['options'] = {
    demoSampleSize: data.options?.demoSampleSize ?? DEFAULT_OPTIONS.demoSampleSize,
    pageSize: data.options?.pageSize ?? DEFAULT_OPTIONS.pageSize,
  };
  if (data.options?.lookbackMs !== undefined) options.lookbackMs = data.options.lookbackMs;
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

// ---------------------------------------------------------------------------------------------------------
// ProjectFile -> YAML form

type Plain = FieldValue | Plain[] | { [key: string]: Plain | undefined };

function restoreSecrets(config: Record<string, unknown>): Record<string, Plain> {
  const out: Record<string, Plain> = {};
  for (const [key, value] of Object.entries(config)) {
    if (value === undefined) continue;
    out[key] = restoreValue(value);
  }
  return out;
}

function restoreValue(value: unknown): Plain {
  if (typeof value === 'string') return substitutions.get(value) ?? value;
  if (Array.isArray(value)) return value.map(restoreValue);
  if (value !== null && typeof value === 'object') return restoreSecrets(value as Record<string, unknown>);
  return value as Plain;
}

function matchKeyForm(key: MatchKey): Plain {
  const form: Record<string, Plain> = { source: key.source };
  if (JSON.stringify(key.target) !== JSON.stringify(key.source)) form.target = key.target;
  form.kind = key.kind;
  return form;
}

/** The YAML form of one field mapping under the key `key` (any key works: differing sides are explicit). */
function fieldForm(mapping: FieldMapping, key: string): Plain {
  const transform = mapping.transform;
  const form: Record<string, Plain> = {};
  const sourceIsKey = mapping.source.length === 1 && mapping.source[0] === key;
  if (transform.kind === 'copy' && sourceIsKey) return mapping.target;
  if (transform.kind !== 'constant' && !sourceIsKey) form.source = mapping.source.length === 1 ? mapping.source[0]! : [...mapping.source];
  if (mapping.target !== key) form.target = mapping.target;
  switch (transform.kind) {
    case 'copy':
      break;
    case 'constant':
      form.constant = transform.value;
      break;
    case 'join':
      form.transform = 'join';
      form.separator = transform.separator;
      break;
    case 'split':
      form.transform = 'split';
      form.separator = transform.separator;
      form.part = transform.part;
      break;
    case 'map': {
      form.map = { ...transform.values };
      const implied = transform.default !== undefined ? 'default' : 'fail';
      if (transform.unmapped !== implied) form.unmapped = transform.unmapped;
      if (transform.default !== undefined) form.default = transform.default;
      break;
    }
    case 'date':
    case 'datetime':
      form.transform = transform.kind;
      if (transform.zone) form.zone = transform.zone;
      break;
    default:
      form.transform = transform.kind;
  }
  return form;
}

function canonicalFieldKey(mapping: FieldMapping): string {
  return mapping.transform.kind !== 'constant' && mapping.source.length === 1 ? mapping.source[0]! : mapping.target;
}

function fieldsForm(fields: FieldMapping[]): Record<string, Plain> {
  const groups = new Map<string, FieldMapping[]>();
  for (const mapping of fields) {
    const key = canonicalFieldKey(mapping);
    groups.set(key, [...(groups.get(key) ?? []), mapping]);
  }
  const out: Record<string, Plain> = {};
  for (const [key, mappings] of groups) {
    out[key] = mappings.length === 1 ? fieldForm(mappings[0]!, key) : mappings.map((mapping) => fieldForm(mapping, key));
  }
  return out;
}

function objectOptionsForm(mapping: ObjectMapping, key: string): Record<string, Plain> {
  const form: Record<string, Plain> = {};
  if (mapping.source !== key) form.source = mapping.source;
  form.target = mapping.target;
  if (mapping.matchOnly !== OBJECT_DEFAULTS.matchOnly) form.matchOnly = mapping.matchOnly;
  if (mapping.matchKeys.length > 0) form.match = mapping.matchKeys.map(matchKeyForm);
  if (mapping.matched !== OBJECT_DEFAULTS.matched) form.matched = mapping.matched;
  if (mapping.duplicates !== OBJECT_DEFAULTS.duplicates) form.duplicates = mapping.duplicates;
  if (mapping.ambiguous !== OBJECT_DEFAULTS.ambiguous) form.ambiguous = mapping.ambiguous;
  if (Object.keys(mapping.links).length > 0) form.links = { ...mapping.links };
  return form;
}

function objectForm(mapping: ObjectMapping, key: string): Record<string, Plain> {
  const form = objectOptionsForm(mapping, key);
  if (mapping.fields.length > 0) form.fields = fieldsForm(mapping.fields);
  return form;
}

function optionsForm(project: ProjectFile): Record<string, Plain> | undefined {
  const form: Record<string, Plain> = {};
  if (project.options.demoSampleSize !== DEFAULT_OPTIONS.demoSampleSize) form.demoSampleSize = project.options.demoSampleSize;
  if (project.options.pageSize !== DEFAULT_OPTIONS.pageSize) form.pageSize = project.options.pageSize;
  if (project.options.lookbackMs !== undefined) form.lookbackMs = project.options.lookbackMs;
  return Object.keys(form).length > 0 ? form : undefined;
}

function uniqueObjectKeys(objects: ObjectMapping[]): string[] {
  const used = new Set<string>();
  return objects.map((mapping) => {
    let key = mapping.source;
    if (used.has(key)) key = `${mapping.source}_to_${mapping.target}`;
    for (let n = 2; used.has(key); n++) key = `${mapping.source}_to_${mapping.target}_${n}`;
    used.add(key);
    return key;
  });
}

/** The YAML form of a project (defaults left out, `${VAR}` restored for substituted values). */
export function toYamlForm(project: ProjectFile): Record<string, Plain> {
  const form: Record<string, Plain> = {
    version: 1,
    source: restoreSecrets(project.source),
    target: restoreSecrets(project.target),
  };
  if (project.state !== undefined) form.state = restoreValue(project.state);
  if (project.sourceTimeZone !== DEFAULT_TIME_ZONE) form.sourceTimeZone = project.sourceTimeZone;
  if (project.sourceLocale !== undefined) form.sourceLocale = project.sourceLocale;
  const options = optionsForm(project);
  if (options) form.options = options;
  const keys = uniqueObjectKeys(project.objects);
  const objects: Record<string, Plain> = {};
  project.objects.forEach((mapping, index) => {
    objects[keys[index]!] = objectForm(mapping, keys[index]!);
  });
  form.objects = objects;
  return form;
}

function assertNoLiteralSecrets(form: Record<string, Plain>): void {
  for (const section of ['source', 'target', 'state']) {
    const check = (key: string, value: Plain | undefined, path: PathSegment[]): void => {
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
        for (const [inner, item] of Object.entries(value)) check(inner, item, [...path, inner]);
        return;
      }
      const problem = literalSecretProblem(key, value);
      if (problem) throw new FerryError('CONFIG_INVALID', `cannot write ${formatPath(path)}: ${problem}`, { path: formatPath(path) });
    };
    check(section, form[section], [section]);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Serialising (keeping the user's comments and order)

/**
 * Writes the project as YAML. With `existingText` (the current file), the user's comments, key order and
 * shorthand forms are kept; only what changed is rewritten. Literal secrets are never written.
 */
export function serialiseProjectFile(project: ProjectFile, existingText?: string): string {
  const form = toYamlForm(project);
  assertNoLiteralSecrets(form);
  if (existingText !== undefined && existingText.trim() !== '') {
    const doc = parseDocument(existingText);
    if (doc.errors.length === 0 && isMap(doc.contents)) {
      mergeTop(doc, doc.contents, form, project);
      return doc.toString({ lineWidth: 0 });
    }
  }
  const doc = new Document(form);
  doc.commentBefore = ' Ferry project file: see docs/project-file.md';
  flowMatchKeys(doc);
  return doc.toString({ lineWidth: 0 });
}

/** Match keys and short lists read best on one line each. */
function flowMatchKeys(doc: Document): void {
  const objects = isMap(doc.contents) ? findPair(doc.contents, 'objects')?.value : undefined;
  if (!isMap(objects)) return;
  for (const pair of objects.items) {
    if (!isMap(pair.value)) continue;
    const match = findPair(pair.value, 'match')?.value;
    if (isSeq(match)) for (const item of match.items) if (isMap(item)) item.flow = true;
    const fields = findPair(pair.value, 'fields')?.value;
    if (isMap(fields)) {
      for (const field of fields.items) {
        if (isMap(field.value)) {
          const source = findPair(field.value, 'source')?.value;
          if (isSeq(source)) source.flow = true;
        }
      }
    }
  }
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, index) => deepEqual(item, b[index]));
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const left = Object.entries(a).filter(([, value]) => value !== undefined);
    const right = Object.entries(b).filter(([, value]) => value !== undefined);
    return left.length === right.length && left.every(([key, value]) => deepEqual(value, (b as Record<string, unknown>)[key]));
  }
  return false;
}

function nodeToJS(node: unknown): unknown {
  if (node === null || node === undefined) return null;
  if (isScalar(node) || isMap(node) || isSeq(node)) return node.toJSON();
  return node;
}

/** Replaces a value node, keeping the comments that were attached to the old one. */
function replacement(doc: Document, old: unknown, value: Plain): YamlNode {
  const node = doc.createNode(value) as YamlNode;
  if (old && (isScalar(old) || isMap(old) || isSeq(old))) {
    if (old.commentBefore) node.commentBefore = old.commentBefore;
    if (old.comment) node.comment = old.comment;
    if ((isMap(old) || isSeq(old)) && old.flow && (isMap(node) || isSeq(node))) node.flow = true;
  }
  return node;
}

/** Merges `value` into an existing node and returns the node to keep in its place. */
function mergeValue(doc: Document, old: unknown, value: Plain, defaults: Record<string, unknown> = {}): unknown {
  if (isScalar(old) && (value === null || typeof value !== 'object')) {
    if (old.value !== value) old.value = value;
    return old;
  }
  if (isMap(old) && value !== null && typeof value === 'object' && !Array.isArray(value)) {
    mergeMap(doc, old, value, defaults);
    return old;
  }
  if (isSeq(old) && Array.isArray(value)) {
    if (deepEqual(old.toJSON(), value)) return old;
    value.forEach((item, index) => {
      if (index < old.items.length) old.items[index] = mergeValue(doc, old.items[index], item);
      else old.items.push(doc.createNode(item));
    });
    old.items.splice(value.length);
    return old;
  }
  return replacement(doc, old, value);
}

function mergeMap(doc: Document, map: YAMLMap, value: Record<string, Plain | undefined>, defaults: Record<string, unknown>): void {
  for (const [key, item] of Object.entries(value)) {
    if (item === undefined) continue;
    const pair = findPair(map, key);
    if (pair) pair.value = mergeValue(doc, pair.value, item);
    else map.items.push(doc.createPair(key, item) as Pair);
  }
  map.items = map.items.filter((pair) => {
    const key = String(isScalar(pair.key) ? pair.key.value : pair.key);
    if (value[key] !== undefined) return true;
    // A key the user wrote with its default value stays (it is not a change).
    return Object.hasOwn(defaults, key) && deepEqual(nodeToJS(pair.value), defaults[key]);
  });
}

function mergeTop(doc: Document, top: YAMLMap, form: Record<string, Plain>, project: ProjectFile): void {
  const { objects, ...rest } = form;
  for (const key of Object.keys(rest)) {
    const item = rest[key]!;
    const pair = findPair(top, key);
    if (key === 'options' && pair && isMap(pair.value)) mergeMap(doc, pair.value, item as Record<string, Plain>, DEFAULT_OPTIONS);
    else if (pair) pair.value = mergeValue(doc, pair.value, item);
    else top.items.splice(Math.max(0, top.items.findIndex((other) => pairKey(other) === 'objects')), 0, doc.createPair(key, item) as Pair);
  }
  const optionsPair = findPair(top, 'options');
  if (optionsPair && isMap(optionsPair.value) && rest.options === undefined) mergeMap(doc, optionsPair.value, {}, DEFAULT_OPTIONS);
  top.items = top.items.filter((pair) => {
    const key = pairKey(pair);
    if (key === 'objects' || rest[key] !== undefined) return true;
    if (key === 'options') return isMap(pair.value) && pair.value.items.length > 0;
    return key === 'sourceTimeZone' && nodeToJS(pair.value) === DEFAULT_TIME_ZONE;
  });
  const objectsPair = findPair(top, 'objects');
  if (objectsPair && isMap(objectsPair.value)) mergeObjects(doc, objectsPair.value, project.objects);
  else if (objectsPair) objectsPair.value = replacement(doc, objectsPair.value, objects ?? {});
  else top.items.push(doc.createPair('objects', objects) as Pair);
}

const OBJECT_OPTION_DEFAULTS: Record<string, unknown> = { ...OBJECT_DEFAULTS, links: {}, match: [] };

function pairKey(pair: Pair): string {
  return String(isScalar(pair.key) ? pair.key.value : pair.key);
}

/** Reads an existing object entry without failing (for matching it to a mapping). */
function readObjectEntry(key: string, node: unknown): ObjectMapping | undefined {
  const parsed = objectEntrySchema.nullable().safeParse(nodeToJS(node));
  if (!parsed.success) return undefined;
  try {
    return toObjectMapping(key, parsed.data, []);
  } catch {
    return undefined;
  }
}

function mergeObjects(doc: Document, map: YAMLMap, objects: ObjectMapping[]): void {
  const existing = map.items.map((pair) => ({ pair, key: pairKey(pair), mapping: readObjectEntry(pairKey(pair), pair.value) }));
  const used = new Set<Pair>();
  const added: Pair[] = [];
  const pick = (mapping: ObjectMapping): (typeof existing)[number] | undefined =>
    existing.find((item) => !used.has(item.pair) && item.mapping?.source === mapping.source && item.mapping.target === mapping.target) ??
    existing.find((item) => !used.has(item.pair) && (item.mapping?.source ?? item.key) === mapping.source);
  const keys = new Set(existing.map((item) => item.key));
  for (const mapping of objects) {
    const found = pick(mapping);
    if (!found) {
      let key = mapping.source;
      if (keys.has(key)) key = `${mapping.source}_to_${mapping.target}`;
      for (let n = 2; keys.has(key); n++) key = `${mapping.source}_to_${mapping.target}_${n}`;
      keys.add(key);
      const pair = doc.createPair(key, objectForm(mapping, key)) as Pair;
      added.push(pair);
      continue;
    }
    used.add(found.pair);
    if (found.mapping && deepEqual(found.mapping, mapping)) continue;
    mergeObjectEntry(doc, found.pair, found.key, mapping);
  }
  map.items = [...map.items.filter((pair) => used.has(pair)), ...added];
}

function mergeObjectEntry(doc: Document, pair: Pair, key: string, mapping: ObjectMapping): void {
  if (!isMap(pair.value)) {
    pair.value = replacement(doc, pair.value, objectForm(mapping, key));
    return;
  }
  const entry = pair.value;
  const options = objectOptionsForm(mapping, key);
  // target may be left out by the user when it equals the key.
  const targetPair = findPair(entry, 'target');
  if (!targetPair && mapping.target === key) delete options.target;
  const matchPair = findPair(entry, 'match');
  if (matchPair) {
    const current = readObjectEntry(key, { match: nodeToJS(matchPair.value) })?.matchKeys;
    if (current && deepEqual(current, mapping.matchKeys)) delete options.match;
  }
  const fieldsPair = findPair(entry, 'fields');
  for (const [optionKey, item] of Object.entries(options)) {
    if (item === undefined) continue;
    const found = findPair(entry, optionKey);
    if (optionKey === 'match' && found) {
      found.value = replacement(doc, found.value, item);
      if (isSeq(found.value)) for (const matchItem of found.value.items) if (isMap(matchItem)) matchItem.flow = true;
    } else if (found) found.value = mergeValue(doc, found.value, item);
    else {
      const newPair = doc.createPair(optionKey, item) as Pair;
      if (optionKey === 'match' && isSeq(newPair.value)) for (const matchItem of newPair.value.items) if (isMap(matchItem)) matchItem.flow = true;
      // Options go before `fields` so the fields stay last.
      const at = fieldsPair ? entry.items.indexOf(fieldsPair) : entry.items.length;
      entry.items.splice(at, 0, newPair);
    }
  }
  entry.items = entry.items.filter((item) => {
    const itemKey = pairKey(item);
    if (itemKey === 'fields') return true;
    if (itemKey === 'match' && matchPair === item && !Object.hasOwn(options, 'match') && mapping.matchKeys.length > 0) return true;
    if (options[itemKey] !== undefined) return true;
    if (itemKey === 'target' && mapping.target === key) return true;
    if (itemKey === 'source' && mapping.source === key) return true;
    return Object.hasOwn(OBJECT_OPTION_DEFAULTS, itemKey) && deepEqual(nodeToJS(item.value), OBJECT_OPTION_DEFAULTS[itemKey]);
  });
  if (mapping.fields.length === 0) {
    entry.items = entry.items.filter((item) => pairKey(item) !== 'fields' || (isMap(item.value) && item.value.items.length === 0));
    return;
  }
  if (fieldsPair && isMap(fieldsPair.value)) mergeFields(doc, fieldsPair.value, mapping.fields);
  else if (fieldsPair) fieldsPair.value = replacement(doc, fieldsPair.value, fieldsForm(mapping.fields));
  else entry.items.push(doc.createPair('fields', fieldsForm(mapping.fields)) as Pair);
}

function readFieldEntry(key: string, node: unknown): FieldMapping[] | undefined {
  const parsed = fieldEntrySchema.safeParse(nodeToJS(node));
  if (!parsed.success) return undefined;
  try {
    return toFieldMappings(key, parsed.data, []);
  } catch {
    return undefined;
  }
}

function mergeFields(doc: Document, map: YAMLMap, fields: FieldMapping[]): void {
  const unused = new Set(fields);
  const takeEqual = (mapping: FieldMapping): boolean => {
    for (const candidate of unused) {
      if (deepEqual(candidate, mapping)) {
        unused.delete(candidate);
        return true;
      }
    }
    return false;
  };
  const kept: Pair[] = [];
  for (const pair of map.items) {
    const key = pairKey(pair);
    const current = readFieldEntry(key, pair.value);
    if (current && current.every((mapping) => [...unused].some((candidate) => deepEqual(candidate, mapping)))) {
      current.forEach(takeEqual);
      kept.push(pair);
      continue;
    }
    // An edited single mapping: rewrite it in place (same target), keeping the entry's comments.
    if (current && current.length === 1) {
      const replacementMapping = [...unused].find((candidate) => candidate.target === current[0]!.target);
      if (replacementMapping) {
        unused.delete(replacementMapping);
        pair.value = mergeValue(doc, pair.value, fieldForm(replacementMapping, key));
        kept.push(pair);
      }
    }
  }
  map.items = kept;
  const keys = new Set(kept.map(pairKey));
  for (const mapping of fields) {
    if (!unused.has(mapping)) continue;
    let key = canonicalFieldKey(mapping);
    if (keys.has(key)) key = mapping.target;
    for (let n = 2; keys.has(key); n++) key = `${mapping.target}_${n}`;
    keys.add(key);
    const pair = doc.createPair(key, fieldForm(mapping, key)) as Pair;
    if (isMap(pair.value)) {
      const source = findPair(pair.value, 'source')?.value;
      if (isSeq(source)) (source as YAMLSeq).flow = true;
    }
    map.items.push(pair);
  }
}

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
  | 'REFERENCE_MISMATCH'
  | 'REFERENCE_NOT_MIGRATED'
  | 'MATCH_KEY_UNKNOWN_FIELD'
  /** A mapped source object has no modified column: deltas read all of it (source-warnings.ts). */
  | 'NO_MODIFIED_FIELD';

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
      return 'string';
    case 'date':
      return 'date';
    case 'datetime':
      return 'datetime';
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
      if (!source || sourceFields.length !== field.source.length) continue;
      checkFieldTypes(project, mapping, field, sourceFields, targetField, source, error, warn);
    }

    if (target && !mapping.matchOnly) {
      for (const field of target.fields) {
        if (!field.required || field.readOnly || written.has(field.name)) continue;
        if (field.name === target.externalIdField || field.name === target.createdField || field.name === target.modifiedField) continue;
        error('REQUIRED_UNMAPPED', `${mapping.target}.${field.name} is required in the target but nothing is mapped to it`, field.name);
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
): void {
  const where = `${mapping.source} → ${mapping.target}.${field.target}`;
  const transform = field.transform;
  const options = targetField.options?.map((option) => option.value);

  // References: the referenced source object must map to the object the target field refers to.
  if (REFERENCE_TYPES.has(targetField.type) && transform.kind !== 'constant') {
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
