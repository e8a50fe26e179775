import { isMap, isScalar, isSeq } from 'yaml';
import type { Document, LineCounter, Node as YamlNode, Pair, Scalar, YAMLMap } from 'yaml';
import { FerryError } from '../core/errors.js';
import { FIELD_ENTRY_KEYS, MATCH_KEY_KEYS, OBJECT_ENTRY_KEYS, OPTION_KEYS, TOP_KEYS } from './project-schema.js';

/*
 * Errors in ferry.yaml with a file:line:column position, readable zod messages, and "did you mean" hints.
 */

export type PathSegment = string | number;

/** A problem found while translating the YAML form; `path` is located in the document by the loader. */
export class FormError extends Error {
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

export function findPair(map: YAMLMap, key: PathSegment): Pair | undefined {
  for (const item of map.items) {
    const itemKey: unknown = isScalar(item.key) ? item.key.value : item.key;
    if (String(itemKey) === String(key)) return item;
  }
  return undefined;
}

/** The node at `path` (or the nearest existing ancestor); `atKey` prefers the key of the last pair. */
export function locate(doc: Document, path: readonly PathSegment[], atKey = false): YamlNode | undefined {
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

export interface Located {
  line?: number;
  column?: number;
}

export function position(doc: Document, lineCounter: LineCounter, path: readonly PathSegment[], atKey = false): Located {
  const node = locate(doc, path, atKey);
  const offset = node?.range?.[0];
  if (offset === undefined) return {};
  const { line, col } = lineCounter.linePos(offset);
  return { line, column: col };
}

export function configError(file: string, where: Located, path: readonly PathSegment[], message: string, extra: string[] = []): FerryError {
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

export function walkNodes(node: unknown, path: PathSegment[], visit: (scalar: Scalar, path: PathSegment[]) => void): void {
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

export function didYouMean(word: string, candidates: readonly string[]): string {
  const hint = suggest(word, candidates);
  return hint ? ` (did you mean "${hint}"?)` : '';
}

export function knownKeysAt(path: readonly PathSegment[]): readonly string[] {
  if (path.length === 0) return TOP_KEYS;
  if (path.length === 1 && path[0] === 'options') return OPTION_KEYS;
  if (path[0] === 'objects') {
    if (path.length === 2) return OBJECT_ENTRY_KEYS;
    if (path[2] === 'match') return MATCH_KEY_KEYS;
    if (path[2] === 'fields') return FIELD_ENTRY_KEYS;
  }
  return [];
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
export function describeIssue(issue: IssueLike, base: PathSegment[]): { path: PathSegment[]; message: string; atKey: boolean } {
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

export function shortValue(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 59)}…` : text;
}
