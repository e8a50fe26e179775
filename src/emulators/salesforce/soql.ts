import { SalesforceHttpError } from './errors.js';
import { normalizeId } from './ids.js';
import type { FieldDef, ObjectDef, Schema } from './schema.js';
import type { SalesforceStore, SfRecord } from './store.js';
import { dayStart, isoDate, parseDateTime } from './values.js';

/**
 * The SOQL subset the emulator runs (SOQL and SOSL Reference,
 * https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/):
 *
 *   SELECT field, Parent.field, ... | COUNT()  FROM Object
 *   [WHERE condition]  [ORDER BY field [ASC|DESC] [NULLS FIRST|LAST], ...]  [LIMIT n]  [OFFSET n]
 *
 * Conditions: = != <> < <= > >= LIKE, IN (...), NOT IN (...), AND / OR / NOT and parentheses (mixing AND and
 * OR at one level without parentheses is a MALFORMED_QUERY, as in SOQL); literals: 'strings' (with \ escapes),
 * numbers, true/false, null, dates (2024-03-17), datetimes (2024-03-17T14:05:00Z, with offset or .sss), and
 * the date literals TODAY, YESTERDAY, TOMORROW, LAST_N_DAYS:n, NEXT_N_DAYS:n (UTC days; the org's time zone
 * in Salesforce). String comparisons and ordering are case-insensitive, as in SOQL; `!=` and NOT IN match
 * null values. Not supported (MALFORMED_QUERY): subqueries, aggregates other than COUNT(), GROUP BY, TYPEOF,
 * FIELDS(), aliases, WITH, FOR.
 */
type TokenKind = 'word' | 'string' | 'number' | 'date' | 'datetime' | 'op' | 'punct';

interface Token {
  kind: TokenKind;
  text: string;
  value?: unknown;
  pos: number;
}

export type Literal =
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: number }
  | { kind: 'boolean'; value: boolean }
  | { kind: 'null' }
  | { kind: 'date'; value: string }
  | { kind: 'datetime'; value: number }
  | { kind: 'range'; name: string; n?: number };

export interface FieldRef {
  /** Reference fields walked from the queried object. */
  refs: FieldDef[];
  /** The field's name on the object at the end of the walk (may be polymorphic: resolved per record). */
  leafName: string;
  /** The leaf's definition on the first possible target (for type checks). */
  leaf: FieldDef;
}

export type Condition =
  | { kind: 'and' | 'or'; items: Condition[] }
  | { kind: 'not'; item: Condition }
  | { kind: 'compare'; field: FieldRef; op: string; value: Literal }
  | { kind: 'in'; field: FieldRef; negated: boolean; values: Literal[] };

export interface OrderItem {
  field: FieldRef;
  descending: boolean;
  nullsFirst: boolean;
}

export interface Query {
  object: ObjectDef;
  fields: FieldRef[];
  count: boolean;
  where?: Condition;
  orderBy: OrderItem[];
  limit?: number;
  offset?: number;
}

function positioned(soql: string, pos: number, message: string): string {
  return `\n${soql}\n${' '.repeat(pos)}^\nERROR at Row:1:Column:${pos + 1}\n${message}`;
}

export function malformed(soql: string, pos: number, message: string): SalesforceHttpError {
  return new SalesforceHttpError(400, [{ message: positioned(soql, pos, message), errorCode: 'MALFORMED_QUERY' }]);
}

function queryError(soql: string, pos: number, errorCode: string, message: string): SalesforceHttpError {
  return new SalesforceHttpError(400, [{ message: positioned(soql, pos, message), errorCode }]);
}

const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?(Z|[+-]\d{2}:\d{2})/;
const DATE = /^\d{4}-\d{2}-\d{2}/;
const NUMBER = /^-?\d+(\.\d+)?/;
const WORD = /^[A-Za-z_][A-Za-z0-9_.]*(:\d+)?/;
const OP = /^(<=|>=|!=|<>|=|<|>)/;

export function tokenize(soql: string): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  while (pos < soql.length) {
    const char = soql[pos]!;
    if (/\s/.test(char)) {
      pos++;
      continue;
    }
    const rest = soql.slice(pos);
    if (char === '\'') {
      let value = '';
      let index = pos + 1;
      for (;;) {
        if (index >= soql.length) throw malformed(soql, pos, `line 1:${pos} mismatched character '<EOF>' expecting '''`);
        const c = soql[index]!;
        if (c === '\\') {
          const next = soql[index + 1];
          const escapes: Record<string, string> = { n: '\n', r: '\r', t: '\t', b: '\b', f: '\f', '"': '"', '\'': '\'', '\\': '\\', '%': '\\%', _: '\\_' };
          if (next === undefined || !(next in escapes)) throw malformed(soql, index, `Invalid string literal '\\${next ?? ''}'. Illegal character sequence '\\${next ?? ''}' in string literal.`);
          value += escapes[next];
          index += 2;
          continue;
        }
        if (c === '\'') break;
        value += c;
        index++;
      }
      tokens.push({ kind: 'string', text: soql.slice(pos, index + 1), value, pos });
      pos = index + 1;
      continue;
    }
    let match = DATETIME.exec(rest);
    if (match) {
      const ms = parseDateTime(match[0]);
      if (ms === undefined) throw malformed(soql, pos, `line 1:${pos} no viable alternative at character '${match[0]}'`);
      tokens.push({ kind: 'datetime', text: match[0], value: ms, pos });
      pos += match[0].length;
      continue;
    }
    match = DATE.exec(rest);
    if (match && !/^[\d.]/.test(rest.slice(10, 11))) {
      tokens.push({ kind: 'date', text: match[0], value: match[0], pos });
      pos += match[0].length;
      continue;
    }
    match = NUMBER.exec(rest) ?? WORD.exec(rest) ?? OP.exec(rest);
    if (match) {
      const text = match[0];
      const kind: TokenKind = NUMBER.test(text) && /^[-\d]/.test(text) ? 'number' : OP.test(text) ? 'op' : 'word';
      tokens.push({ kind, text, value: kind === 'number' ? Number(text) : undefined, pos });
      pos += text.length;
      continue;
    }
    if ('(),'.includes(char)) {
      tokens.push({ kind: 'punct', text: char, pos });
      pos++;
      continue;
    }
    throw malformed(soql, pos, `line 1:${pos} no viable alternative at character '${char}'`);
  }
  return tokens;
}

const STRINGISH = new Set(['id', 'reference', 'string', 'textarea', 'email', 'phone', 'url', 'picklist', 'multipicklist']);
const NUMERIC = new Set(['int', 'double', 'currency', 'percent']);
const RANGES = new Set(['TODAY', 'YESTERDAY', 'TOMORROW', 'LAST_N_DAYS', 'NEXT_N_DAYS']);

class Parser {
  private index = 0;
  constructor(
    private readonly soql: string,
    private readonly tokens: Token[],
    private readonly schema: Schema,
  ) {}

  private peek(offset = 0): Token | undefined {
    return this.tokens[this.index + offset];
  }

  private isWord(word: string, offset = 0): boolean {
    const token = this.peek(offset);
    return token?.kind === 'word' && token.text.toUpperCase() === word;
  }

  private unexpected(token = this.peek()): SalesforceHttpError {
    return token ? malformed(this.soql, token.pos, `unexpected token: '${token.text}'`) : malformed(this.soql, this.soql.length, 'unexpected token: \'<EOF>\'');
  }

  private expectWord(word: string): Token {
    if (!this.isWord(word)) throw this.unexpected();
    return this.tokens[this.index++]!;
  }

  private expectPunct(text: string): void {
    const token = this.peek();
    if (token?.kind !== 'punct' || token.text !== text) throw this.unexpected();
    this.index++;
  }

  parse(): Query {
    this.expectWord('SELECT');
    let count = false;
    const raw: Token[] = [];
    if (this.isWord('COUNT') && this.peek(1)?.text === '(') {
      this.index += 2;
      if (this.peek()?.text !== ')') throw malformed(this.soql, this.peek()?.pos ?? this.soql.length, 'COUNT(field) is not emulated; use COUNT()');
      this.index++;
      count = true;
    } else {
      for (;;) {
        const token = this.peek();
        if (token?.kind !== 'word' || token.text.toUpperCase() === 'FROM') throw this.unexpected(token);
        if (this.peek(1)?.text === '(') throw malformed(this.soql, token.pos, `${token.text}() is not emulated (only COUNT())`);
        raw.push(token);
        this.index++;
        if (this.peek()?.text !== ',') break;
        this.index++;
      }
    }
    this.expectWord('FROM');
    const objectToken = this.peek();
    if (objectToken?.kind !== 'word') throw this.unexpected(objectToken);
    this.index++;
    const object = this.schema.object(objectToken.text);
    if (!object) throw queryError(this.soql, objectToken.pos, 'INVALID_TYPE', `sObject type '${objectToken.text}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.`);
    const fields = raw.map((token) => this.fieldRef(object, token));
    const query: Query = { object, fields, count, orderBy: [] };
    if (this.isWord('WHERE')) {
      this.index++;
      query.where = this.condition(object);
    }
    if (this.isWord('ORDER')) {
      this.index++;
      this.expectWord('BY');
      for (;;) {
        const token = this.peek();
        if (token?.kind !== 'word') throw this.unexpected(token);
        this.index++;
        const item: OrderItem = { field: this.fieldRef(object, token), descending: false, nullsFirst: true };
        if (this.isWord('ASC')) this.index++;
        else if (this.isWord('DESC')) {
          this.index++;
          item.descending = true;
          item.nullsFirst = false;
        }
        if (this.isWord('NULLS')) {
          this.index++;
          if (this.isWord('FIRST')) item.nullsFirst = true;
          else if (this.isWord('LAST')) item.nullsFirst = false;
          else throw this.unexpected();
          this.index++;
        }
        query.orderBy.push(item);
        if (this.peek()?.text !== ',') break;
        this.index++;
      }
    }
    if (this.isWord('LIMIT')) {
      this.index++;
      query.limit = this.integer();
    }
    if (this.isWord('OFFSET')) {
      this.index++;
      const token = this.peek();
      query.offset = this.integer();
      if (query.offset > 2000) throw queryError(this.soql, token!.pos, 'NUMBER_OUTSIDE_VALID_RANGE', 'Maximum SOQL offset allowed is 2000');
    }
    if (this.peek()) throw this.unexpected();
    if (object.name === 'ContentDocumentLink' && !filtersById(query.where)) {
      throw malformed(this.soql, 0, 'Implementation restriction: ContentDocumentLink requires a filter by a single Id on ContentDocumentId or LinkedEntityId using the equals operator or multiple Id\'s using the IN operator.');
    }
    return query;
  }

  private integer(): number {
    const token = this.peek();
    if (token?.kind !== 'number' || !Number.isInteger(token.value) || (token.value as number) < 0) throw this.unexpected(token);
    this.index++;
    return token.value as number;
  }

  private fieldRef(object: ObjectDef, token: Token): FieldRef {
    const parts = token.text.split('.');
    const refs: FieldDef[] = [];
    let targets: ObjectDef[] = [object];
    for (const part of parts.slice(0, -1)) {
      const relation = targets.map((target) => target.relationships.get(part.toLowerCase())).find(Boolean);
      if (!relation) throw queryError(this.soql, token.pos, 'INVALID_FIELD', `Didn't understand relationship '${part}' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names.`);
      refs.push(relation);
      targets = relation.referenceTo.map((name) => this.schema.object(name)).filter((each): each is ObjectDef => each !== undefined);
    }
    const leafName = parts[parts.length - 1]!;
    const leaf = targets.map((target) => target.byName.get(leafName.toLowerCase())).find(Boolean);
    if (!leaf) {
      const entity = refs.length === 0 ? object.name : targets[0]?.name ?? object.name;
      throw queryError(this.soql, token.pos, 'INVALID_FIELD', `No such column '${leafName}' on entity '${entity}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.`);
    }
    return { refs, leafName: leaf.name, leaf };
  }

  private condition(object: ObjectDef): Condition {
    const first = this.unary(object);
    const items = [first];
    let joiner: 'AND' | 'OR' | undefined;
    while (this.isWord('AND') || this.isWord('OR')) {
      const word = this.peek()!.text.toUpperCase() as 'AND' | 'OR';
      if (joiner && word !== joiner) throw this.unexpected();
      joiner = word;
      this.index++;
      items.push(this.unary(object));
    }
    return joiner ? { kind: joiner === 'AND' ? 'and' : 'or', items } : first;
  }

  private unary(object: ObjectDef): Condition {
    if (this.isWord('NOT')) {
      this.index++;
      return { kind: 'not', item: this.unary(object) };
    }
    if (this.peek()?.text === '(') {
      this.index++;
      const inner = this.condition(object);
      this.expectPunct(')');
      return inner;
    }
    const token = this.peek();
    if (token?.kind !== 'word') throw this.unexpected(token);
    this.index++;
    const field = this.fieldRef(object, token);
    if (this.isWord('IN') || (this.isWord('NOT') && this.isWord('IN', 1))) {
      const negated = this.isWord('NOT');
      this.index += negated ? 2 : 1;
      this.expectPunct('(');
      const values: Literal[] = [];
      for (;;) {
        values.push(this.literal(field));
        if (this.peek()?.text !== ',') break;
        this.index++;
      }
      this.expectPunct(')');
      return { kind: 'in', field, negated, values };
    }
    const opToken = this.peek();
    let op: string;
    if (opToken?.kind === 'op') op = opToken.text === '<>' ? '!=' : opToken.text;
    else if (this.isWord('LIKE')) op = 'LIKE';
    else throw this.unexpected(opToken);
    this.index++;
    if (op === 'LIKE' && !STRINGISH.has(field.leaf.type)) throw queryError(this.soql, opToken!.pos, 'INVALID_QUERY_FILTER_OPERATOR', `invalid operator on ${field.leaf.type} field: ${field.leafName}`);
    return { kind: 'compare', field, op, value: this.literal(field) };
  }

  private literal(field: FieldRef): Literal {
    const token = this.peek();
    if (!token) throw this.unexpected();
    this.index++;
    let literal: Literal;
    const word = token.kind === 'word' ? token.text.toUpperCase() : '';
    if (token.kind === 'string') literal = { kind: 'string', value: token.value as string };
    else if (token.kind === 'number') literal = { kind: 'number', value: token.value as number };
    else if (token.kind === 'date') literal = { kind: 'date', value: token.value as string };
    else if (token.kind === 'datetime') literal = { kind: 'datetime', value: token.value as number };
    else if (word === 'TRUE' || word === 'FALSE') literal = { kind: 'boolean', value: word === 'TRUE' };
    else if (word === 'NULL') literal = { kind: 'null' };
    else if (RANGES.has(word.split(':')[0]!)) {
      const [name, n] = word.split(':');
      if ((name === 'LAST_N_DAYS' || name === 'NEXT_N_DAYS') !== (n !== undefined)) throw this.unexpected(token);
      literal = { kind: 'range', name: name!, n: n === undefined ? undefined : Number(n) };
    } else throw this.unexpected(token);
    return this.typed(field, literal, token);
  }

  /** The literal must suit the field's type, as SOQL requires (INVALID_QUERY_FILTER_OPERATOR otherwise). */
  private typed(field: FieldRef, literal: Literal, token: Token): Literal {
    if (literal.kind === 'null') return literal;
    const type = field.leaf.type;
    const want: string = STRINGISH.has(type) ? 'string' : NUMERIC.has(type) ? 'number' : type === 'boolean' ? 'boolean' : type;
    const fits =
      (want === 'string' && literal.kind === 'string') ||
      (want === 'number' && literal.kind === 'number') ||
      (want === 'boolean' && literal.kind === 'boolean') ||
      (want === 'date' && (literal.kind === 'date' || literal.kind === 'range')) ||
      (want === 'datetime' && (literal.kind === 'datetime' || literal.kind === 'range'));
    if (!fits) {
      const typeName = ({ string: type === 'id' || type === 'reference' ? 'id' : 'string', number: 'double', boolean: 'boolean', date: 'date', datetime: 'dateTime' } as Record<string, string>)[want] ?? want;
      throw queryError(this.soql, token.pos, 'INVALID_QUERY_FILTER_OPERATOR', `value of filter criterion for field '${field.leafName}' must be of type ${typeName} and should ${want === 'string' ? '' : 'not '}be enclosed in quotes`);
    }
    if ((type === 'id' || type === 'reference') && literal.kind === 'string') {
      const normal = normalizeId(literal.value);
      if (!normal) throw queryError(this.soql, token.pos, 'INVALID_QUERY_FILTER_OPERATOR', `invalid ID field: ${literal.value}`);
      return { kind: 'string', value: normal };
    }
    return literal;
  }
}

/** ContentDocumentLink can only be queried by document or linked record: `=` or `IN` on one of them, at the top or in a top-level AND. */
function filtersById(where: Condition | undefined): boolean {
  if (!where) return false;
  if (where.kind === 'and') return where.items.some(filtersById);
  const byId = (field: FieldRef) => field.refs.length === 0 && (field.leafName === 'ContentDocumentId' || field.leafName === 'LinkedEntityId');
  if (where.kind === 'compare') return where.op === '=' && byId(where.field);
  return where.kind === 'in' && !where.negated && byId(where.field);
}

export function parseSoql(soql: string, schema: Schema): Query {
  return new Parser(soql, tokenize(soql), schema).parse();
}

/** The record at the end of a field path's references (undefined when a reference on the way is empty). */
function walk(store: SalesforceStore, record: SfRecord, refs: FieldDef[]): SfRecord | undefined {
  let current: SfRecord | undefined = record;
  for (const ref of refs) {
    const id: unknown = current ? store.value(current, ref.name) : null;
    current = typeof id === 'string' ? store.find(id) : undefined;
    if (!current) return undefined;
  }
  return current;
}

export function fieldValue(store: SalesforceStore, record: SfRecord, field: FieldRef): unknown {
  const target = walk(store, record, field.refs);
  if (!target || !target.object.byName.has(field.leafName.toLowerCase())) return null;
  return store.value(target, field.leafName);
}

function compareValues(a: unknown, b: unknown): number {
  if (typeof a === 'string' && typeof b === 'string') {
    const left = a.toLowerCase();
    const right = b.toLowerCase();
    return left < right ? -1 : left > right ? 1 : 0;
  }
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
}

function rangeOf(literal: Extract<Literal, { kind: 'range' }>, now: number, dateField: boolean): [unknown, unknown] {
  const n = literal.n ?? 0;
  const [from, to] = {
    TODAY: [0, 1],
    YESTERDAY: [-1, 0],
    TOMORROW: [1, 2],
    LAST_N_DAYS: [-n, 1],
    NEXT_N_DAYS: [1, n + 1],
  }[literal.name] as [number, number];
  const start = dayStart(now, from);
  const end = dayStart(now, to);
  return dateField ? [isoDate(start), isoDate(end)] : [start, end];
}

function likeRegex(pattern: string): RegExp {
  let source = '';
  for (let index = 0; index < pattern.length; index++) {
    const char = pattern[index]!;
    if (char === '\\' && (pattern[index + 1] === '%' || pattern[index + 1] === '_')) {
      source += pattern[index + 1];
      index++;
    } else if (char === '%') source += '[\\s\\S]*';
    else if (char === '_') source += '[\\s\\S]';
    else source += char.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 'i');
}

function equals(value: unknown, literal: Literal): boolean {
  if (literal.kind === 'null') return value === null;
  if (value === null) return false;
  return compareValues(value, (literal as { value: unknown }).value) === 0;
}

export function evaluate(store: SalesforceStore, record: SfRecord, condition: Condition, now: number): boolean {
  switch (condition.kind) {
    case 'and':
      return condition.items.every((item) => evaluate(store, record, item, now));
    case 'or':
      return condition.items.some((item) => evaluate(store, record, item, now));
    case 'not':
      return !evaluate(store, record, condition.item, now);
    case 'in': {
      const value = fieldValue(store, record, condition.field);
      const found = condition.values.some((literal) => equals(value, literal));
      return condition.negated ? !found : found;
    }
    case 'compare': {
      const value = fieldValue(store, record, condition.field);
      const { op, value: literal } = condition;
      if (literal.kind === 'range') {
        if (value === null) return op === '!=';
        const [start, end] = rangeOf(literal, now, condition.field.leaf.type === 'date');
        const before = compareValues(value, start) < 0;
        const afterEnd = compareValues(value, end) >= 0;
        return { '=': !before && !afterEnd, '!=': before || afterEnd, '<': before, '<=': !afterEnd, '>': afterEnd, '>=': !before }[op] ?? false;
      }
      if (op === '=') return equals(value, literal);
      if (op === '!=') return !equals(value, literal);
      if (value === null || literal.kind === 'null') return false;
      if (op === 'LIKE') return likeRegex(String((literal as { value: unknown }).value)).test(String(value));
      const order = compareValues(value, (literal as { value: unknown }).value);
      return { '<': order < 0, '<=': order <= 0, '>': order > 0, '>=': order >= 0 }[op] ?? false;
    }
  }
}

export function execute(store: SalesforceStore, query: Query, options: { includeDeleted: boolean; now: number }): SfRecord[] {
  let rows = store.records(query.object, options.includeDeleted);
  if (query.where) rows = rows.filter((record) => evaluate(store, record, query.where!, options.now));
  if (query.orderBy.length > 0) {
    const keyed = rows.map((record, index) => ({ record, index, keys: query.orderBy.map((item) => fieldValue(store, record, item.field)) }));
    keyed.sort((a, b) => {
      for (let position = 0; position < query.orderBy.length; position++) {
        const item = query.orderBy[position]!;
        const left = a.keys[position];
        const right = b.keys[position];
        if (left === null && right === null) continue;
        if (left === null || right === null) return (left === null) === item.nullsFirst ? -1 : 1;
        const order = compareValues(left, right);
        if (order !== 0) return item.descending ? -order : order;
      }
      return a.index - b.index;
    });
    rows = keyed.map((each) => each.record);
  }
  const offset = query.offset ?? 0;
  return rows.slice(offset, query.limit === undefined ? undefined : offset + query.limit);
}

/** One query result record: the selected fields in SELECT order, parent fields nested under relationship names. */
export function renderRow(store: SalesforceStore, record: SfRecord, fields: FieldRef[], version: string): Record<string, unknown> {
  const attributes = (target: SfRecord) => ({ type: target.object.name, url: `/services/data/v${version}/sobjects/${target.object.name}/${target.id}` });
  const result: Record<string, unknown> = { attributes: attributes(record) };
  for (const field of fields) {
    let holder: Record<string, unknown> | null = result;
    let current: SfRecord | undefined = record;
    for (const ref of field.refs) {
      if (!holder) break;
      const name = ref.relationshipName!;
      const id: unknown = current ? store.value(current, ref.name) : null;
      current = typeof id === 'string' ? store.find(id) : undefined;
      if (!current) {
        if (!(name in holder)) holder[name] = null;
        holder = null;
        break;
      }
      if (!holder[name]) holder[name] = { attributes: attributes(current) };
      holder = holder[name] as Record<string, unknown>;
    }
    if (!holder || !current) continue;
    const definition = current.object.byName.get(field.leafName.toLowerCase());
    holder[definition?.name ?? field.leafName] = definition ? store.outputOf(current, definition, version) : null;
  }
  return result;
}
