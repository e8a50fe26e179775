import { Document, isMap, isScalar, isSeq, parseDocument } from 'yaml';
import type { Node as YamlNode, Pair, YAMLMap, YAMLSeq } from 'yaml';
import type { FieldMapping, MatchKey, ObjectMapping, ProjectFile } from './types.js';
import { DEFAULT_OPTIONS, DEFAULT_TIME_ZONE, fieldEntrySchema, OBJECT_DEFAULTS, objectEntrySchema } from './project-schema.js';
import type { Plain } from './project-schema.js';
import { assertNoLiteralSecrets, restoreSecrets, restoreValue } from './env-secrets.js';
import { findPair } from './yaml-errors.js';
import { toFieldMappings, toObjectMapping } from './yaml-form.js';

/*
 * ProjectFile -> ferry.yaml: the YAML form (defaults left out, the key rule of yaml-form.ts applied in
 * reverse) and the serialiser that merges it into the user's existing file, keeping comments and order.
 */

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
  const plain = (mapping.onInvalid ?? 'fail') === 'fail' && mapping.locale === undefined;
  if (transform.kind === 'copy' && sourceIsKey && plain) return mapping.target;
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
    case 'duration':
      form.transform = 'duration';
      form.from = transform.from;
      form.to = transform.to;
      break;
    default:
      form.transform = transform.kind;
  }
  if (mapping.onInvalid !== undefined && mapping.onInvalid !== 'fail') form.onInvalid = mapping.onInvalid;
  if (mapping.locale !== undefined) form.locale = mapping.locale;
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
  if (mapping.where) form.where = Object.fromEntries(Object.entries(mapping.where).map(([field, values]) => [field, values.length === 1 ? values[0]! : [...values]]));
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
  if (project.options.maxFileBytes !== undefined) form.maxFileBytes = project.options.maxFileBytes;
  if (project.options.attachments !== undefined) form.attachments = project.options.attachments;
  return Object.keys(form).length > 0 ? form : undefined;
}

function uniqueObjectKeys(objects: ObjectMapping[]): string[] {
  const used = new Set<string>();
  return objects.map((mapping) => {
    let key = mapping.key ?? mapping.source;
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
  for (const pair of objects.items) styleObjectEntry(pair.value);
}

/** Block style, except for an empty map, which stays `{}` (a block map with no entries is no YAML). */
function blockStyle(map: YAMLMap): void {
  if (map.items.length > 0) map.flow = false;
}

/**
 * The layout of a newly written object entry: block style for the entry and its fields (one line each),
 * flow style for each match key and a field's list of sources.
 */
function styleObjectEntry(node: unknown): void {
  if (!isMap(node)) return;
  blockStyle(node);
  const match = findPair(node, 'match')?.value;
  if (isSeq(match)) for (const item of match.items) if (isMap(item)) item.flow = true;
  const fields = findPair(node, 'fields')?.value;
  if (isMap(fields)) {
    blockStyle(fields);
    for (const field of fields.items) {
      if (isMap(field.value)) {
        const source = findPair(field.value, 'source')?.value;
        if (isSeq(source)) source.flow = true;
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
    (mapping.key !== undefined ? existing.find((item) => !used.has(item.pair) && item.key === mapping.key) : undefined) ??
    existing.find((item) => !used.has(item.pair) && item.mapping?.source === mapping.source && item.mapping.target === mapping.target) ??
    existing.find((item) => !used.has(item.pair) && (item.mapping?.source ?? item.key) === mapping.source);
  const keys = new Set(existing.map((item) => item.key));
  for (const mapping of objects) {
    const found = pick(mapping);
    if (!found) {
      let key = mapping.key ?? mapping.source;
      if (keys.has(key)) key = `${mapping.source}_to_${mapping.target}`;
      for (let n = 2; keys.has(key); n++) key = `${mapping.source}_to_${mapping.target}_${n}`;
      keys.add(key);
      const pair = doc.createPair(key, objectForm(mapping, key)) as Pair;
      styleObjectEntry(pair.value);
      added.push(pair);
      continue;
    }
    used.add(found.pair);
    // The key is where the entry is, not part of what it maps.
    if (found.mapping && deepEqual({ ...found.mapping, key: undefined }, { ...mapping, key: undefined })) continue;
    mergeObjectEntry(doc, found.pair, found.key, mapping);
  }
  map.items = [...map.items.filter((pair) => used.has(pair)), ...added];
  // `objects: {}` (ferry init, the wizard's first save) is a flow map; entries added to it would inherit
  // flow style and the whole mapping would land on one line.
  if (added.length > 0) blockStyle(map);
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
  else {
    entry.items.push(doc.createPair('fields', fieldsForm(mapping.fields)) as Pair);
    styleObjectEntry(entry);
  }
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
  // New entries in a flow map (`fields: {}`) would all land on one line: switch the map to block style.
  if (unused.size > 0) blockStyle(map);
}
