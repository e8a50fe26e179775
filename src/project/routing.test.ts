import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SchemaDescription } from '../core/schema.js';
import { isFerryError } from '../core/errors.js';
import { copyField, objectMapping, parseProjectFile, serialiseProjectFile, validateMapping } from './project-file.js';
import { filtersOverlap, ledgerKeys, takesRecord } from './routing.js';
import type { ObjectMapping, ProjectFile } from './types.js';

const HEAD = `version: 1
source: { connector: sql, dialect: sqlite, path: source.db }
target: { connector: sql, dialect: sqlite, path: target.db }
`;

const ROUTED = `${HEAD}objects:
  activities:
    target: calls
    where: { Type: Call }
    fields: { subject: subject }
  meetings:
    source: activities
    where:
      Type: [Meeting, " Video call "]
      Done: true
    fields: { subject: subject }
  tasks:
    source: activities
    where: { Type: ~ }
    fields: { subject: subject }
`;

const schema: SchemaDescription = {
  objects: [
    {
      name: 'activities',
      fields: [
        { name: 'id', type: 'string' },
        { name: 'Type', type: 'string' },
        { name: 'Done', type: 'boolean' },
        { name: 'subject', type: 'string' },
      ],
    },
    { name: 'calls', fields: [{ name: 'subject', type: 'string' }] },
    { name: 'meetings', fields: [{ name: 'subject', type: 'string' }] },
    { name: 'tasks', fields: [{ name: 'subject', type: 'string' }] },
  ],
};

function routed(): ProjectFile {
  return parseProjectFile(ROUTED, 'ferry.yaml', {});
}

describe('where (row filter) in ferry.yaml', () => {
  it('reads a value, a list, booleans and ~ as text values, and keeps the key of each mapping', () => {
    const project = routed();
    expect(project.objects.map((mapping) => [mapping.key, mapping.source, mapping.target, mapping.where])).toEqual([
      [undefined, 'activities', 'calls', { Type: ['Call'] }],
      ['meetings', 'activities', 'meetings', { Type: ['Meeting', ' Video call '], Done: ['true'] }],
      ['tasks', 'activities', 'tasks', { Type: [''] }],
    ]);
  });

  it('writes it back unchanged, and a mapping built in code gets a where entry', () => {
    const project = routed();
    expect(parseProjectFile(serialiseProjectFile(project), 'ferry.yaml', {}).objects).toEqual(project.objects);
    const edited: ProjectFile = { ...project, objects: [...project.objects, objectMapping({ source: 'activities', target: 'calls', fields: [copyField('subject')], where: { Type: ['Phone'] } })] };
    const text = serialiseProjectFile(edited, ROUTED);
    expect(text).toContain('where: { Type: Call }');
    const again = parseProjectFile(text, 'ferry.yaml', {});
    expect(again.objects).toHaveLength(4);
    expect(again.objects[3]).toMatchObject({ key: 'activities_to_calls', source: 'activities', target: 'calls', where: { Type: ['Phone'] } });
  });

  it('rejects a where that is not a mapping of fields to values, naming the place', () => {
    expect(() => parseProjectFile(`${HEAD}objects:\n  activities:\n    target: calls\n    where: Call\n`, 'ferry.yaml', {})).toThrow(/objects\.activities\.where/);
    expect(() => parseProjectFile(`${HEAD}objects:\n  activities:\n    target: calls\n    where: { Type: [] }\n`, 'ferry.yaml', {})).toThrow(/objects\.activities\.where/);
  });
});

describe('which mapping takes a record', () => {
  const mapping = (where?: Record<string, string[]>): Pick<ObjectMapping, 'where'> => (where ? { where } : {});

  it('compares trimmed and case-insensitive, every entry must hold, a list value matches by any item', () => {
    const meetings = mapping({ Type: ['Meeting', ' Video call '], Done: ['true'] });
    expect(takesRecord(meetings, { Type: ' MEETING ', Done: true })).toBe(true);
    expect(takesRecord(meetings, { Type: 'video CALL', Done: 'TRUE' })).toBe(true);
    expect(takesRecord(meetings, { Type: 'Meeting', Done: false })).toBe(false);
    expect(takesRecord(meetings, { Type: 'Call', Done: true })).toBe(false);
    expect(takesRecord(mapping({ Tags: ['vip'] }), { Tags: ['new', 'VIP'] })).toBe(true);
    expect(takesRecord(mapping({ Type: [''] }), { Type: null })).toBe(true);
    expect(takesRecord(mapping({ Type: [''] }), {})).toBe(true);
    expect(takesRecord(mapping({ Type: [''] }), { Type: '  ' })).toBe(true);
    expect(takesRecord(mapping({ Type: ['Call'] }), {})).toBe(false);
    expect(takesRecord(mapping(), { anything: 1 })).toBe(true);
  });

  it('property: a value is taken exactly when its trimmed, lower-cased text is one of the filter values so', () => {
    const word = fc.constantFrom('Call', 'call', 'Meeting', 'MEETING', 'Task', '', ' Call ', 'Émail', 'émail');
    fc.assert(
      fc.property(fc.array(word, { minLength: 1, maxLength: 3 }), word, (wanted, value) => {
        const expected = wanted.map((item) => item.trim().toLowerCase()).includes(value.trim().toLowerCase());
        expect(takesRecord(mapping({ Type: wanted }), { Type: value })).toBe(expected);
      }),
    );
  });

  it('property: filtersOverlap is true exactly when some record is taken by both', () => {
    const values = ['a', 'b', 'c'];
    const filter = fc.option(fc.dictionary(fc.constantFrom('X', 'Y'), fc.subarray(values, { minLength: 1 })), { nil: undefined });
    fc.assert(
      fc.property(filter, filter, (a, b) => {
        const left = mapping(a);
        const right = mapping(b);
        let some = false;
        for (const x of values) for (const y of values) if (takesRecord(left, { X: x, Y: y }) && takesRecord(right, { X: x, Y: y })) some = true;
        expect(filtersOverlap(left, right)).toBe(some);
      }),
    );
  });
});

describe('ledger keys', () => {
  it('are the source name when one mapping reads the source (existing ledgers keep working), the entry key when several do', () => {
    const project = routed();
    expect(ledgerKeys(project.objects)).toEqual(['activities', 'meetings', 'tasks']);
    const single = parseProjectFile(`${HEAD}objects:\n  people:\n    source: persons\n    target: contacts\n`, 'ferry.yaml', {});
    expect(single.objects[0]!.key).toBe('people');
    expect(ledgerKeys(single.objects)).toEqual(['persons']);
  });

  it('are made unique for mappings built in code, and two entries that would share one are an error', () => {
    const a = objectMapping({ source: 'activities', target: 'calls', fields: [] });
    const b = objectMapping({ source: 'activities', target: 'meetings', fields: [] });
    expect(ledgerKeys([a, b, { ...a }])).toEqual(['activities', 'activities_to_meetings', 'activities_to_calls']);
    // `persons` maps alone (key persons) while an activities mapping is named persons.
    const clash = [objectMapping({ key: 'people', source: 'persons', target: 'contacts', fields: [] }), { ...a, key: 'persons' }, { ...b, key: 'meetings' }];
    let caught: unknown;
    try {
      ledgerKeys(clash);
    } catch (error) {
      caught = error;
    }
    expect(isFerryError(caught) && caught.code).toBe('CONFIG_INVALID');
    expect(String((caught as Error).message)).toMatch(/would share the ledger name "persons"/);
  });
});

describe('ferry check on routed mappings', () => {
  it('reports a where field the source object lacks, with the near name', () => {
    const project = parseProjectFile(`${HEAD}objects:\n  activities:\n    target: calls\n    where: { type: Call }\n    fields: { subject: subject }\n`, 'ferry.yaml', {});
    const { errors } = validateMapping(project, schema, schema);
    expect(errors).toEqual([
      expect.objectContaining({ code: 'WHERE_UNKNOWN_FIELD', object: 'activities', field: 'type', message: expect.stringMatching(/activities\.type, which does not exist \(did you mean "Type"\?\)/) }),
    ]);
  });

  it('warns when two mappings of one source can take the same record, and not when their filters are apart', () => {
    const apart = validateMapping(routed(), schema, schema);
    expect(apart.errors).toEqual([]);
    expect(apart.warnings.filter((problem) => problem.code === 'WHERE_OVERLAP')).toEqual([]);

    const project = routed();
    project.objects[1]!.where = { Done: ['true'] };
    delete project.objects[2]!.where;
    const { warnings } = validateMapping(project, schema, schema);
    const overlaps = warnings.filter((problem) => problem.code === 'WHERE_OVERLAP').map((problem) => problem.message);
    expect(overlaps).toHaveLength(3);
    expect(overlaps[0]).toMatch(/^activities \(activities → calls\) takes Type: Call and meetings \(activities → meetings\) takes Done: true: a record both take is written by both/);
    expect(overlaps[2]).toMatch(/tasks \(activities → tasks\) takes every record/);
  });

  it('reports mappings that would share a ledger name', () => {
    const project = routed();
    project.objects.push(objectMapping({ key: 'x', source: 'tasks', target: 'tasks', fields: [] }));
    project.objects[2]!.key = 'tasks';
    const { errors } = validateMapping(project, schema, schema);
    expect(errors.map((problem) => problem.code)).toContain('ROUTE_NAME_CLASH');
  });
});
