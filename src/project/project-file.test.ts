import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FerryError } from '../core/errors.js';
import type { SchemaDescription } from '../core/schema.js';
import { loadProjectFile, parseProjectFile, projectFileJsonSchema, serialiseProjectFile, validateMapping } from './project-file.js';
import { STARTER_PROJECT_FILE } from '../cli/starter.js';
import type { ProjectFile } from './types.js';

const ENV = { TARGET_URL: 'postgres://ferry:s3cret@db.internal:5432/crm', API_TOKEN: 'tok-123' };

const EXAMPLE = `# Ferry project: legacy CRM -> new CRM
version: 1
source: { connector: sql, dialect: sqlite, path: ./source.db }
target:
  connector: sql
  dialect: postgres
  url: \${TARGET_URL}      # never a literal password
sourceTimeZone: Europe/Berlin
options: { demoSampleSize: 5, pageSize: 200 }
objects:
  # companies first: contacts and deals point at them
  companies:
    target: companies
    match: [ { source: domain, target: domain, kind: domain }, { source: name, kind: name } ]
    matched: fill-empty   # only fill empty target fields
    fields:
      name: name                  # shorthand: source -> target
      domain: { target: domain, transform: lowercase }
      parent_company_id: parent_id
  contacts:
    fields:
      full_name: { source: [first_name, last_name], transform: join, separator: " " }
      email: email
      lifecycle: { target: lifecycle_stage, constant: customer }
  deals:
    duplicates: separate
    fields:
      stage: { target: dealstage, map: { "Closed Won": closedwon, "closed won": closedwon }, unmapped: fail }
      close: [ { source: close_at, target: closedate, transform: date, zone: UTC } ]
  owners: { target: users, matchOnly: true, match: [ email ], links: { 7: 12, "8": "13" } }
`;

function parse(text: string, env: Record<string, string> = ENV): ProjectFile {
  return parseProjectFile(text, 'ferry.yaml', env);
}

function parseError(text: string, env: Record<string, string> = ENV): FerryError {
  try {
    parse(text, env);
  } catch (error) {
    expect(error).toBeInstanceOf(FerryError);
    return error as FerryError;
  }
  throw new Error('expected an error');
}

describe('parseProjectFile', () => {
  it('reads the YAML form into the in-memory ProjectFile with defaults', () => {
    const project = parse(EXAMPLE);
    expect(project.version).toBe(1);
    expect(project.target).toEqual({ connector: 'sql', dialect: 'postgres', url: ENV.TARGET_URL });
    expect(project.sourceTimeZone).toBe('Europe/Berlin');
    expect(project.options).toEqual({ demoSampleSize: 5, pageSize: 200 });
    expect(project.state).toBeUndefined();
    const [companies, contacts, deals, owners] = project.objects;
    expect(companies).toEqual({
      source: 'companies',
      target: 'companies',
      fields: [
        { source: ['name'], target: 'name', transform: { kind: 'copy' } },
        { source: ['domain'], target: 'domain', transform: { kind: 'lowercase' } },
        { source: ['parent_company_id'], target: 'parent_id', transform: { kind: 'copy' } },
      ],
      matchKeys: [
        { source: 'domain', target: 'domain', kind: 'domain' },
        { source: 'name', target: 'name', kind: 'name' },
      ],
      matched: 'fill-empty',
      duplicates: 'merge',
      ambiguous: 'hold',
      matchOnly: false,
      links: {},
    });
    expect(contacts!.target).toBe('contacts');
    expect(contacts!.fields).toEqual([
      { source: ['first_name', 'last_name'], target: 'full_name', transform: { kind: 'join', separator: ' ' } },
      { source: ['email'], target: 'email', transform: { kind: 'copy' } },
      { source: [], target: 'lifecycle_stage', transform: { kind: 'constant', value: 'customer' } },
    ]);
    expect(deals!.duplicates).toBe('separate');
    expect(deals!.fields).toEqual([
      { source: ['stage'], target: 'dealstage', transform: { kind: 'map', values: { 'Closed Won': 'closedwon', 'closed won': 'closedwon' }, unmapped: 'fail' } },
      { source: ['close_at'], target: 'closedate', transform: { kind: 'date', zone: 'UTC' } },
    ]);
    expect(owners).toMatchObject({ source: 'owners', target: 'users', matchOnly: true, matchKeys: [{ source: 'email', target: 'email', kind: 'email' }], links: { '7': '12', '8': '13' } });
  });

  it('accepts a minimal file', () => {
    const project = parse('version: 1\nsource: { connector: csv, dir: ./in }\ntarget: { connector: sql, dialect: sqlite, path: out.db }\nobjects:\n  notes:\n');
    expect(project.objects).toEqual([
      { source: 'notes', target: 'notes', fields: [], matchKeys: [], matched: 'fill-empty', duplicates: 'merge', ambiguous: 'hold', matchOnly: false, links: {} },
    ]);
    expect(project.sourceTimeZone).toBe('UTC');
    expect(project.options).toEqual({ demoSampleSize: 5, pageSize: 500 });
  });

  it('reports a YAML syntax error with line and column', () => {
    const broken = EXAMPLE.replace('    matched: fill-empty', '   matched: fill-empty');
    const error = parseError(broken);
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toMatch(/^ferry\.yaml:15:\d+: YAML syntax error: /);
    expect(error.details.line).toBe(15);
  });

  it('points at the line, column and key path of an unknown transform', () => {
    const error = parseError(EXAMPLE.replace('transform: lowercase', 'transform: mapp'));
    expect(error.message).toBe(
      'ferry.yaml:18:44: objects.companies.fields.domain.transform: unknown transform "mapp" (expected one of copy, join, split, constant, map, date, datetime, lowercase, trim, domain, duration)',
    );
    expect(error.details).toMatchObject({ line: 18, column: 44, path: 'objects.companies.fields.domain.transform' });
  });

  it('points at a misspelt key and suggests the right one', () => {
    const error = parseError(EXAMPLE.replace('    duplicates: separate', '    duplicate: separate'));
    expect(error.message).toBe('ferry.yaml:26:5: objects.deals.duplicate: unknown key "duplicate" (did you mean "duplicates"?)');
    const top = parseError(EXAMPLE.replace('sourceTimeZone:', 'sourceTimezone:'));
    expect(top.message).toMatch(/^ferry\.yaml:8:1: sourceTimezone: unknown key "sourceTimezone" \(did you mean "sourceTimeZone"\?\)/);
  });

  it('reports wrong values and missing keys with positions', () => {
    expect(parseError(EXAMPLE.replace('matched: fill-empty', 'matched: fill')).message).toMatch(
      /^ferry\.yaml:15:14: objects\.companies\.matched: unknown value "fill" \(expected one of update, fill-empty, skip\)/,
    );
    expect(parseError(EXAMPLE.replace('version: 1', 'version: 2')).message).toBe('ferry.yaml:2:10: version: expected version: 1');
    expect(parseError(EXAMPLE.replace(/^target:\n( {2}.*\n)+/m, '')).message).toMatch(/^ferry\.yaml:2:1: missing required key "target"$/);
    expect(parseError(EXAMPLE.replace('sourceTimeZone: Europe/Berlin', 'sourceTimeZone: Mars/Olympus')).message).toMatch(
      /^ferry\.yaml:8:17: sourceTimeZone: unknown time zone "Mars\/Olympus"/,
    );
    expect(parseError(EXAMPLE.replace('separator: " " }', 'separator: " ", part: 1 }')).message).toMatch(
      /^ferry\.yaml:22:\d+: objects\.contacts\.fields\.full_name\.part: "part" does not apply to transform join \(only to split\)/,
    );
    expect(parseError(EXAMPLE.replace('      email: email\n', '      email: email\n      mail: { target: email }\n')).message).toMatch(
      /^ferry\.yaml:24:7: objects\.contacts\.fields\.mail: target field "email" is already written by fields\.email/,
    );
    expect(parseError(EXAMPLE.replace('email: email', 'email: 42')).message).toMatch(/^ferry\.yaml:23:14: objects\.contacts\.fields\.email: expected a target field name/);
    expect(parseError(EXAMPLE.replace('      email: email\n', '      both: { source: [a, b] }\n')).message).toMatch(/needs? a transform that combines them: transform: join/);
  });

  it('substitutes ${ENV_VAR} and names a missing variable with its line', () => {
    expect(parse(EXAMPLE).target.url).toBe(ENV.TARGET_URL);
    const text = EXAMPLE.replace('path: ./source.db', 'path: "${DATA_DIR}/source.db"');
    expect(parse(text, { ...ENV, DATA_DIR: '/data' }).source.path).toBe('/data/source.db');
    const missing = parseError(EXAMPLE, {});
    expect(missing.message).toMatch(/^ferry\.yaml:7:8: target\.url: environment variable TARGET_URL is not set \(nor in \.ferry\/secrets\.env\)\. /);
    expect(missing.message).toContain('export TARGET_URL=...');
    expect(missing.message).toContain('add the line TARGET_URL=... to .ferry/secrets.env');
    expect(parse(EXAMPLE.replace('path: ./source.db', () => 'path: "$${HOME}/x"')).source.path).toBe('${HOME}/x');
  });

  it('explains that ${VAR} inside { } must be quoted', () => {
    const error = parseError('version: 1\nsource: { connector: csv }\ntarget: { connector: sql, url: ${TARGET_URL} }\n');
    expect(error.message).toMatch(/^ferry\.yaml:3:\d+: YAML syntax error: .*must be quoted/);
  });

  it('rejects literal secrets without echoing them', () => {
    const url = parseError(EXAMPLE.replace('url: ${TARGET_URL}', 'url: postgres://ferry:hunter2@db/crm'));
    expect(url.code).toBe('CONFIG_INVALID');
    expect(url.message).toMatch(/^ferry\.yaml:7:8: target\.url: the connection URL contains a literal password; .*environment variable/);
    expect(url.message).not.toContain('hunter2');
    expect(JSON.stringify(url.details)).not.toContain('hunter2');
    for (const key of ['password', 'token', 'secret', 'apiKey', 'api_key', 'accessToken', 'clientSecret']) {
      const error = parseError(EXAMPLE.replace('  dialect: postgres', `  dialect: postgres\n  ${key}: hunter2`));
      expect(error.message, key).toMatch(new RegExp(`^ferry\\.yaml:7:\\d+: target\\.${key}: .*environment variable`));
      expect(error.message).not.toContain('hunter2');
    }
    // Allowed: the secret from the environment, in a key or inside the URL; a URL without password.
    expect(parse(EXAMPLE.replace('  dialect: postgres', '  dialect: postgres\n  token: ${API_TOKEN}')).target.token).toBe('tok-123');
    expect(parse(EXAMPLE.replace('url: ${TARGET_URL}', 'url: postgres://ferry:${API_TOKEN}@db/crm')).target.url).toBe('postgres://ferry:tok-123@db/crm');
    expect(parse(EXAMPLE.replace('url: ${TARGET_URL}', 'url: postgres://ferry@db/crm')).target.url).toBe('postgres://ferry@db/crm');
    expect(parseError(EXAMPLE.replace('sourceTimeZone:', 'state: postgres://u:pw@db/ledger\nsourceTimeZone:')).message).toMatch(/^ferry\.yaml:8:8: state: .*literal password/);
  });

  it('suggests a variable named after the side the literal secret is on', () => {
    const source = parseError(EXAMPLE.replace('source: { connector: sql, dialect: sqlite, path: ./source.db }', 'source: { connector: sql, dialect: postgres, url: "postgres://u:pw@old/crm" }'));
    expect(source.message).toMatch(/^ferry\.yaml:3:\d+: source\.url: .*url: \$\{SOURCE_DATABASE_URL\}/);
    expect(source.message).not.toContain('TARGET_');
    expect(source.message).toContain('.ferry/secrets.env');
    const target = parseError(EXAMPLE.replace('url: ${TARGET_URL}', 'url: postgres://ferry:hunter2@db/crm'));
    expect(target.message).toContain('url: ${TARGET_DATABASE_URL}');
    const token = parseError(EXAMPLE.replace('  dialect: postgres', '  dialect: postgres\n  accessToken: hunter2'));
    expect(token.message).toContain('accessToken: ${TARGET_ACCESS_TOKEN}');
    const sourceToken = parseError(EXAMPLE.replace('source: { connector: sql, dialect: sqlite, path: ./source.db }', 'source: { connector: hubspot, apiKey: hunter2 }'));
    expect(sourceToken.message).toContain('apiKey: ${SOURCE_API_KEY}');
    expect(parseError(EXAMPLE.replace('sourceTimeZone:', 'state: postgres://u:pw@db/ledger\nsourceTimeZone:')).message).toContain('state: ${FERRY_STATE_URL}');
  });
});

describe('loadProjectFile', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('reads a file; a missing file is CONFIG_MISSING with a hint to run ferry init', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ferry-project-'));
    dirs.push(dir);
    const path = join(dir, 'ferry.yaml');
    await expect(loadProjectFile(path, ENV)).rejects.toMatchObject({ code: 'CONFIG_MISSING', message: expect.stringContaining('ferry init') });
    await expect(loadProjectFile(path, ENV)).rejects.toMatchObject({ message: expect.stringContaining('--config <file>') });
    await writeFile(path, EXAMPLE);
    expect((await loadProjectFile(path, ENV)).objects).toHaveLength(4);
    await writeFile(path, EXAMPLE.replace('transform: lowercase', 'transform: mapp'));
    await expect(loadProjectFile(path, ENV)).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringMatching(new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:18:44: `)) });
  });
});

describe('serialiseProjectFile', () => {
  it('writes a file that reads back to the same project, with ${VAR} instead of the secret', () => {
    const project = parse(EXAMPLE);
    const text = serialiseProjectFile(project);
    expect(text).toContain('url: ${TARGET_URL}');
    expect(text).not.toContain('s3cret');
    expect(parse(text)).toEqual(project);
  });

  it('keeps comments, order and shorthand when nothing changed', () => {
    const project = parse(EXAMPLE);
    const text = serialiseProjectFile(project, EXAMPLE);
    expect(parse(text)).toEqual(project);
    for (const comment of ['# Ferry project: legacy CRM -> new CRM', '# never a literal password', '# companies first: contacts and deals point at them', '# only fill empty target fields', '# shorthand: source -> target']) {
      expect(text).toContain(comment);
    }
    expect(text).toContain('url: ${TARGET_URL}');
    expect(text).toContain('name: name');
    expect(text).toContain('links: { 7: 12, "8": "13" }');
    const keys = [...text.matchAll(/^ {2}(\w+):/gm)].map((match) => match[1]);
    expect(keys).toEqual(['connector', 'dialect', 'url', 'companies', 'contacts', 'deals', 'owners']);
  });

  it('keeps comments when mappings change, and writes only the change', () => {
    const project = parse(EXAMPLE);
    const companies = project.objects[0]!;
    companies.matched = 'update';
    companies.fields[1] = { source: ['domain'], target: 'domain', transform: { kind: 'trim' } };
    companies.fields.push({ source: ['industry'], target: 'industry', transform: { kind: 'copy' } });
    project.objects[1]!.fields = project.objects[1]!.fields.filter((field) => field.target !== 'email');
    project.objects.push({ source: 'tasks', target: 'tasks', fields: [{ source: ['subject'], target: 'subject', transform: { kind: 'copy' } }], matchKeys: [], matched: 'fill-empty', duplicates: 'merge', ambiguous: 'hold', matchOnly: false, links: {} });
    project.options.pageSize = 300;
    const text = serialiseProjectFile(project, EXAMPLE);
    expect(parse(text)).toEqual(project);
    expect(text).toContain('# companies first: contacts and deals point at them');
    expect(text).toContain('# shorthand: source -> target');
    expect(text).toContain('# only fill empty target fields');
    expect(text).toMatch(/matched: update/);
    expect(text).toContain('industry: industry');
    expect(text).toContain('pageSize: 300');
    expect(text.indexOf('owners:')).toBeLessThan(text.indexOf('tasks:'));
  });

  it('writes objects and fields in block style into a file whose mapping is still `objects: {}` (init, the wizard\'s first save)', () => {
    const project = parse(EXAMPLE);
    const empty = serialiseProjectFile({ ...project, objects: [] });
    expect(empty).toMatch(/^objects: \{\}$/m);
    for (const existing of [empty, STARTER_PROJECT_FILE]) {
      const base = existing === STARTER_PROJECT_FILE ? parseProjectFile(STARTER_PROJECT_FILE, 'ferry.yaml', {}) : project;
      const text = serialiseProjectFile({ ...base, objects: project.objects }, existing);
      expect(text).toMatch(/^objects:\n {2}companies:\n {4}target: companies\n {4}match:\n {6}- \{ source: domain, kind: domain \}\n/m);
      expect(text).toMatch(/^ {4}fields:\n {6}name: name\n/m);
      expect(parseProjectFile(text, 'ferry.yaml', ENV).objects).toEqual(project.objects);
      // Fields added to an object whose fields were `{}` go one per line too.
      const again = serialiseProjectFile({ ...base, objects: [{ ...project.objects[0]!, fields: [] }] }, existing).replace(/^( {4}fields:).*$/m, '$1 {}');
      const withFields = serialiseProjectFile({ ...base, objects: [project.objects[0]!] }, again);
      expect(withFields).toMatch(/^ {4}fields:\n {6}name: name\n/m);
    }
  });

  it('refuses to write a literal secret', () => {
    const project = parse(EXAMPLE);
    project.target = { connector: 'sql', url: 'postgres://u:other-pw@h/db' };
    expect(() => serialiseProjectFile(project)).toThrow(/literal password/);
    project.target = { connector: 'hubspot', token: 'abc' };
    expect(() => serialiseProjectFile(project)).toThrow(/environment variable/);
  });
});

describe('projectFileJsonSchema', () => {
  it('describes the YAML form', () => {
    const schema = projectFileJsonSchema() as { type: string; properties: Record<string, unknown>; required: string[] };
    expect(schema.type).toBe('object');
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['version', 'source', 'target', 'objects', 'options']));
    expect(schema.required).toEqual(expect.arrayContaining(['version', 'source', 'target']));
    expect(JSON.stringify(schema)).toContain('"lowercase"');
  });
});

describe('validateMapping', () => {
  const source: SchemaDescription = {
    objects: [
      { name: 'companies', fields: [{ name: 'id', type: 'string' }, { name: 'name', type: 'string' }, { name: 'revenue', type: 'string' }, { name: 'parent', type: 'reference', reference: { object: 'companies' } }] },
      {
        name: 'deals',
        fields: [
          { name: 'title', type: 'string' },
          { name: 'stage', type: 'string' },
          { name: 'kind', type: 'enum', options: [{ value: 'new' }, { value: 'renewal' }] },
          { name: 'company', type: 'reference', reference: { object: 'companies' } },
          { name: 'closed', type: 'datetime' },
        ],
      },
    ],
  };
  const target: SchemaDescription = {
    objects: [
      {
        name: 'accounts',
        fields: [
          { name: 'id', type: 'string', readOnly: true },
          { name: 'name', type: 'string', required: true },
          { name: 'revenue', type: 'number' },
          { name: 'parent_id', type: 'reference', reference: { object: 'accounts' } },
        ],
      },
      {
        name: 'deals',
        fields: [
          { name: 'dealname', type: 'string', required: true },
          { name: 'dealstage', type: 'enum', required: true, options: [{ value: 'open' }, { value: 'closedwon' }] },
          { name: 'dealtype', type: 'enum', options: [{ value: 'new' }] },
          { name: 'company_id', type: 'reference', reference: { object: 'companies' } },
          { name: 'closedate', type: 'date' },
          { name: 'pipeline', type: 'enum', options: [{ value: 'default' }] },
        ],
      },
    ],
  };
  const text = `version: 1
source: { connector: sql }
target: { connector: sql }
objects:
  companies:
    target: accounts
    match: [ { source: domain, target: domain, kind: domain } ]
    fields:
      nmae: name
      revenue: revenue
      parent: parent_id
      id: id
  deals:
    fields:
      title: dealname
      stage: { target: dealstage, map: { Won: closedwon, Lost: closedlost } }
      kind: dealtype
      company: company_id
      closed: closedate
  contact:
    target: contacts
`;

  it('finds unknown names, read-only targets, required gaps, type and enum problems, reference mismatches', () => {
    const { errors, warnings } = validateMapping(parse(text), source, target);
    const codes = (list: typeof errors) => list.map((problem) => `${problem.code} ${problem.object}.${problem.field ?? ''}`);
    expect(codes(errors)).toEqual([
      'UNKNOWN_SOURCE_FIELD companies.nmae',
      'READ_ONLY_TARGET companies.id',
      'MATCH_KEY_UNKNOWN_FIELD companies.domain',
      'MATCH_KEY_UNKNOWN_FIELD companies.domain',
      'ENUM_VALUE_INVALID deals.dealstage',
      'REFERENCE_MISMATCH deals.company_id',
      'UNKNOWN_SOURCE_OBJECT contact.',
      'UNKNOWN_TARGET_OBJECT contact.',
    ]);
    expect(errors[0]!.message).toBe('companies.nmae does not exist (did you mean "name"?)');
    expect(errors.find((problem) => problem.code === 'ENUM_VALUE_INVALID')!.message).toContain('"Lost" → "closedlost"');
    expect(errors.find((problem) => problem.code === 'REFERENCE_MISMATCH')!.message).toContain('mapped to accounts');
    expect(errors.find((problem) => problem.code === 'UNKNOWN_SOURCE_OBJECT')!.message).toBe('source object "contact" does not exist');
    expect(codes(warnings)).toEqual(['TYPE_MISMATCH companies.revenue', 'ENUM_OPTIONS_DIFFER deals.dealtype', 'TYPE_MISMATCH deals.closedate']);
    expect(warnings[2]!.message).toContain('transform: date');
  });

  it('reports required target fields left unmapped and free text into a picklist', () => {
    const project = parse('version: 1\nsource: { connector: sql }\ntarget: { connector: sql }\nobjects:\n  deals:\n    fields:\n      title: dealname\n      stage: pipeline\n');
    const { errors, warnings } = validateMapping(project, source, target);
    expect(errors.map((problem) => `${problem.code} ${problem.field}`)).toEqual(['REQUIRED_UNMAPPED dealstage']);
    expect(warnings.map((problem) => `${problem.code} ${problem.field}`)).toEqual(['ENUM_WITHOUT_MAP pipeline']);
  });

  describe('a target picklist restricted per variant (record type)', () => {
    const variantTarget: SchemaDescription = {
      objects: [
        {
          name: 'Opportunity',
          variants: { field: 'RecordTypeId', kind: 'record type', default: 'rt-new', list: [{ id: 'rt-new', label: 'New Business' }, { id: 'rt-renew', label: 'Renewal' }] },
          fields: [
            { name: 'Name', type: 'string', required: true },
            { name: 'StageName', type: 'enum', options: [{ value: 'Prospecting' }, { value: 'Negotiation' }, { value: 'Closed Won' }], variantOptions: { 'rt-renew': ['Negotiation', 'Closed Won'] } },
            { name: 'RecordTypeId', type: 'reference', reference: { object: 'RecordType' } },
          ],
        },
      ],
    };
    const project = (extra = '') =>
      parse(`version: 1\nsource: { connector: sql }\ntarget: { connector: sql }\nobjects:\n  deals:\n    target: Opportunity\n    fields:\n      title: Name\n      stage: { target: StageName, map: { lead: Prospecting, talks: Negotiation, won: "Closed Won" } }\n${extra}`);

    it('warns about source values mapped to a value some record types lack, naming them and the default', () => {
      const { errors, warnings } = validateMapping(project(), source, variantTarget);
      expect(errors).toEqual([]);
      expect(warnings.map((problem) => `${problem.code} ${problem.field}`)).toEqual(['ENUM_VALUE_VARIANT_LIMITED StageName']);
      const message = warnings[0]!.message;
      expect(message).toContain('"lead" → "Prospecting" (not in record type "Renewal" (rt-renew))');
      expect(message).not.toContain('"talks"');
      expect(message).toContain('a create without RecordTypeId gets record type "New Business" (rt-new)');
    });

    it('with the record type written as a constant, a value that record type lacks is an error, and one it has is fine', () => {
      const renewal = validateMapping(project('      kind: { target: RecordTypeId, constant: rt-renew }\n'), source, variantTarget);
      expect(renewal.errors.map((problem) => `${problem.code} ${problem.field}`)).toEqual(['ENUM_VALUE_INVALID StageName']);
      expect(renewal.errors[0]!.message).toContain('"lead" → "Prospecting": not available for record type "Renewal" (rt-renew)');
      const newBusiness = validateMapping(project('      kind: { target: RecordTypeId, constant: rt-new }\n'), source, variantTarget);
      expect(newBusiness.errors).toEqual([]);
      expect(newBusiness.warnings.map((problem) => problem.code)).not.toContain('ENUM_VALUE_VARIANT_LIMITED');
    });
  });
});

describe('docs/project-file.md', () => {
  it('has a complete example that loads', async () => {
    const { readFile } = await import('node:fs/promises');
    const doc = await readFile(new URL('../../docs/project-file.md', import.meta.url), 'utf8');
    const example = /```yaml\n([\s\S]*?)```/.exec(doc)![1]!;
    const project = parseProjectFile(example, 'ferry.yaml', { TARGET_DATABASE_URL: 'postgres://u:p@h/db' });
    expect(project.objects.map((mapping) => `${mapping.source}->${mapping.target}`)).toEqual([
      'owners->users',
      'companies->companies',
      'contacts->contacts',
      'deals->deals',
      'tasks->tasks',
    ]);
    expect(project.objects[2]!.fields.filter((field) => field.transform.kind === 'split')).toHaveLength(2);
    expect(parseProjectFile(serialiseProjectFile(project, example), 'ferry.yaml', { TARGET_DATABASE_URL: 'postgres://u:p@h/db' })).toEqual(project);
  });
});

describe('transforms of issue 12 in the YAML form', () => {
  const TEXT = `version: 1
source: { connector: csv, path: export }
target: { connector: hubspot }
sourceLocale: de-DE
objects:
  organizations:
    target: companies
    fields:
      Website: { target: domain, transform: domain, onInvalid: empty }
      Umsatz: { target: annualrevenue, locale: en-US, onInvalid: keep }
      Email: { target: email, transform: split, separator: ",", part: first }
  deals:
    fields:
      stage:
        source: [Deal - Status, Deal - Stage]
        target: dealstage
        map: { won: closedwon, lost: closedlost, Qualified: appointmentscheduled }
        unmapped: keep
`;

  it('reads domain, onInvalid, locale, sourceLocale and a map over several fields', () => {
    const project = parseProjectFile(TEXT, 'ferry.yaml', {});
    expect(project.sourceLocale).toBe('de-DE');
    expect(project.objects[0]!.fields).toEqual([
      { source: ['Website'], target: 'domain', transform: { kind: 'domain' }, onInvalid: 'empty' },
      { source: ['Umsatz'], target: 'annualrevenue', transform: { kind: 'copy' }, onInvalid: 'keep', locale: 'en-US' },
      { source: ['Email'], target: 'email', transform: { kind: 'split', separator: ',', part: 'first' } },
    ]);
    expect(project.objects[1]!.fields).toEqual([
      { source: ['Deal - Status', 'Deal - Stage'], target: 'dealstage', transform: { kind: 'map', values: { won: 'closedwon', lost: 'closedlost', Qualified: 'appointmentscheduled' }, unmapped: 'keep' } },
    ]);
    // onInvalid: fail is the default and is not kept as a setting.
    expect(parseProjectFile(TEXT.replace('onInvalid: empty', 'onInvalid: fail'), 'ferry.yaml', {}).objects[0]!.fields[0]).toEqual({ source: ['Website'], target: 'domain', transform: { kind: 'domain' } });
  });

  it('writes them back (fresh and merged into the file) to the same project', () => {
    const project = parseProjectFile(TEXT, 'ferry.yaml', {});
    for (const text of [serialiseProjectFile(project), serialiseProjectFile(project, TEXT)]) {
      expect(parseProjectFile(text, 'ferry.yaml', {})).toEqual(project);
      expect(text).toContain('sourceLocale: de-DE');
    }
    const fresh = serialiseProjectFile(project);
    expect(fresh).toMatch(/source: \[ Deal - Status, Deal - Stage \]/);
    const edited = { ...project, sourceLocale: 'fr-FR', objects: [{ ...project.objects[0]!, fields: [{ source: ['Preis'], target: 'price', transform: { kind: 'copy' as const }, locale: 'de-CH' }] }] };
    const merged = serialiseProjectFile(edited, TEXT);
    expect(parseProjectFile(merged, 'ferry.yaml', {})).toEqual(edited);
    expect(merged).toMatch(/ {6}Preis:\n {8}target: price\n {8}locale: de-CH\n/);
    const withoutLocale: ProjectFile = { ...project };
    delete withoutLocale.sourceLocale;
    expect(serialiseProjectFile(withoutLocale, TEXT)).not.toContain('sourceLocale');
  });

  it('says what is wrong with them', () => {
    const error = (text: string) => parseError(text, {}).message;
    expect(error(TEXT.replace('sourceLocale: de-DE', 'sourceLocale: xx-nonsense'))).toMatch(/^ferry\.yaml:4:15: sourceLocale: unknown locale "xx-nonsense" \(use a BCP-47 tag such as de-DE/);
    expect(error(TEXT.replace('locale: en-US', 'locale: german'))).toMatch(/^ferry\.yaml:10:\d+: objects\.organizations\.fields\.Umsatz\.locale: unknown locale "german"/);
    expect(error(TEXT.replace('onInvalid: empty', 'onInvalid: skip'))).toMatch(/objects\.organizations\.fields\.Website\.onInvalid: unknown value "skip" \(expected one of fail, empty, keep\)/);
    expect(error(TEXT.replace('onInvalid: empty', 'oninvalid: empty'))).toMatch(/unknown key "oninvalid" \(did you mean "onInvalid"\?\)/);
    expect(error(TEXT.replace('sourceLocale: de-DE', 'sourceLokale: de-DE'))).toMatch(/unknown key "sourceLokale" \(did you mean "sourceLocale"\?\)/);
    expect(error(TEXT.replace('Website: { target: domain, transform: domain, onInvalid: empty }', 'Website: { target: domain, constant: x, onInvalid: empty }'))).toMatch(/"onInvalid" does not apply to a constant/);
    expect(error(TEXT.replace('Website: { target: domain, transform: domain, onInvalid: empty }', 'Website: { source: [a, b], target: domain, transform: domain }'))).toMatch(/transform domain reads exactly one source field/);
    expect(error(TEXT.replace('Website: { target: domain, transform: domain, onInvalid: empty }', 'Website: { source: [a, b], target: domain }'))).toMatch(/transform: join, or a value map/);
  });

  it('ferry check warns about a locale on a field that is no number and onInvalid: empty into a required field', () => {
    const project = parseProjectFile(TEXT, 'ferry.yaml', {});
    const source: SchemaDescription = {
      objects: [
        { name: 'organizations', fields: ['Website', 'Umsatz', 'Email'].map((name) => ({ name, type: 'string' as const })) },
        { name: 'deals', fields: ['Deal - Status', 'Deal - Stage'].map((name) => ({ name, type: 'string' as const })) },
      ],
    };
    const targetSchema: SchemaDescription = {
      objects: [
        { name: 'companies', fields: [{ name: 'domain', type: 'string', required: true }, { name: 'annualrevenue', type: 'string' }, { name: 'email', type: 'string' }] },
        { name: 'deals', fields: [{ name: 'dealstage', type: 'string' }] },
      ],
    };
    const { errors, warnings } = validateMapping(project, source, targetSchema);
    expect(errors).toEqual([]);
    expect(warnings.map((warning) => [warning.code, warning.field])).toEqual([
      ['EMPTY_INTO_REQUIRED', 'domain'],
      ['LOCALE_UNUSED', 'annualrevenue'],
    ]);
  });
});
