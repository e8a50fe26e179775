import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHubspotConnector } from '../connectors/hubspot/index.js';
import type { FieldSchema, ObjectSchema, SchemaDescription } from '../core/schema.js';
import { CALL_OUTCOMES } from '../emulators/hubspot/schema.js';
import { startHubspotEmulator, type HubspotEmulator } from '../emulators/hubspot/index.js';
import { parseProjectFile, serialiseProjectFile, validateMapping } from './project-file.js';
import { activityKindOf, planActivityRoutes } from './propose-activities.js';
import { proposeMapping } from './propose-mapping.js';
import { takesRecord, validateRouting } from './routing.js';
import type { ObjectMapping, ProjectFile } from './types.js';

const ref = (name: string, object: string): FieldSchema => ({ name, type: 'reference', reference: { object } });
const contacts: ObjectSchema = { name: 'contacts', fields: [{ name: 'id', type: 'string' }, { name: 'email', type: 'email' }] };
const companies: ObjectSchema = { name: 'companies', fields: [{ name: 'id', type: 'string' }, { name: 'name', type: 'string' }, { name: 'domain', type: 'string' }] };
const deals: ObjectSchema = { name: 'deals', fields: [{ name: 'id', type: 'string' }, { name: 'name', type: 'string' }] };

/** A legacy CRM's one activities table (as the SQL connector describes src/sample's). */
const ACTIVITIES: ObjectSchema = {
  name: 'activities',
  modifiedField: 'updated_at',
  fields: [
    { name: 'id', type: 'integer' },
    { name: 'type', type: 'string' },
    { name: 'subject', type: 'string' },
    { name: 'body', type: 'string' },
    { name: 'direction', type: 'string' },
    { name: 'duration_minutes', type: 'integer' },
    { name: 'outcome', type: 'string' },
    { name: 'activity_date', type: 'string' },
    { name: 'end_time', type: 'string' },
    ref('company_id', 'companies'),
    ref('contact_id', 'contacts'),
    ref('deal_id', 'deals'),
    { name: 'created_at', type: 'string' },
    { name: 'updated_at', type: 'string' },
  ],
};

const SAMPLES: Record<string, string[]> = {
  'activities.type': ['Call', 'call', 'CALL ', 'Meeting', 'meeting', 'Email', 'E-mail', 'Lunch', 'Follow-up'],
  'activities.direction': ['inbound', 'outbound'],
  'activities.outcome': ['Connected', 'No answer', 'Left voicemail', 'Busy', 'Wrong number', 'Completed', 'No show', 'Canceled', 'Scheduled', 'Sent', 'Bounced'],
};
const samples = async (object: string, field: string): Promise<string[]> => SAMPLES[`${object}.${field}`] ?? [];
const source = { connector: 'sql', dialect: 'sqlite', path: './legacy.db' };
const target = { connector: 'hubspot', accessToken: '${HUBSPOT_TOKEN}' };

function routed(project: ProjectFile, source: string): ObjectMapping[] {
  return project.objects.filter((mapping) => mapping.source === source);
}
function field(mapping: ObjectMapping, target: string) {
  return mapping.fields.find((entry) => entry.target === target);
}

describe('proposed mapping: activities split by type into HubSpot calls, meetings, e-mails (and tasks)', () => {
  let hubspot: HubspotEmulator;
  let schema: SchemaDescription;

  beforeAll(async () => {
    hubspot = await startHubspotEmulator({ burstLimit: { requests: 100_000, intervalMs: 10_000 }, searchPerSecond: 1000 });
    const connector = createHubspotConnector({ accessToken: hubspot.token, baseUrl: hubspot.url, burstLimit: 1000, searchPerSecond: 50 });
    try {
      schema = await connector.describe();
    } finally {
      await connector.close();
    }
  });
  afterAll(async () => {
    await hubspot.close();
  });

  it('knows the kinds of activity by their usual names', () => {
    expect(['Call', 'phone call', 'Outbound call', 'CALL '].map(activityKindOf)).toEqual(['call', 'call', 'call', 'call']);
    expect(['Meeting', 'lunch', 'Video call', 'Site visit'].map(activityKindOf)).toEqual(['meeting', 'meeting', 'meeting', 'meeting']);
    expect(['Email', 'E-mail', 'ListEmail', 'inbound email'].map(activityKindOf)).toEqual(['email', 'email', 'email', 'email']);
    expect(['Task', 'deadline', 'To-do', 'Follow-up'].map(activityKindOf)).toEqual(['task', 'task', 'task', 'task']);
    expect(['Other', '', 'Webinar'].map(activityKindOf)).toEqual([undefined, undefined, undefined]);
    // Nothing to split when every value lands in the paired object, or the target has no engagement objects.
    expect(planActivityRoutes(['Task', 'Deadline'], ['tasks', 'calls'], 'tasks')).toBeUndefined();
    expect(planActivityRoutes(['Call', 'Task'], ['tasks', 'contacts'], 'tasks')).toBeUndefined();
    expect(planActivityRoutes(['Call', 'Webinar'], ['calls'], undefined)).toEqual({ routes: [{ target: 'calls', values: ['Call'] }], unrouted: ['Webinar'] });
  });

  it('routes a SQL activities table by its type column, converting the fields of each kind', async () => {
    const sourceSchema: SchemaDescription = { objects: [contacts, companies, deals, ACTIVITIES] };
    const { project, notes } = await proposeMapping({ sourceSchema, targetSchema: schema, sampleValues: samples, source, target });
    const mappings = routed(project, 'activities');
    expect(mappings.map((mapping) => [mapping.key, mapping.target, mapping.where])).toEqual([
      ['calls', 'calls', { type: ['call'] }],
      ['meetings', 'meetings', { type: ['Lunch', 'meeting'] }],
      ['emails', 'emails', { type: ['E-mail', 'Email'] }],
      ['tasks', 'tasks', { type: ['Follow-up'] }],
    ]);
    // Every type value of the source is taken by exactly one mapping.
    for (const value of SAMPLES['activities.type']!) expect(mappings.filter((mapping) => takesRecord(mapping, { type: value })), value).toHaveLength(1);
    expect(validateRouting(project, sourceSchema)).toEqual({ errors: [], warnings: [] });

    const [calls, meetings, emails] = mappings as [ObjectMapping, ObjectMapping, ObjectMapping];
    expect(field(calls, 'hs_call_title')?.source).toEqual(['subject']);
    expect(field(calls, 'hs_call_body')?.source).toEqual(['body']);
    expect(field(calls, 'hs_timestamp')).toEqual({ source: ['activity_date'], target: 'hs_timestamp', transform: { kind: 'datetime' } });
    expect(field(calls, 'hs_call_duration')).toEqual({ source: ['duration_minutes'], target: 'hs_call_duration', transform: { kind: 'duration', from: 'minutes', to: 'milliseconds' } });
    expect(field(calls, 'hs_call_direction')?.transform).toMatchObject({ kind: 'map', values: { inbound: 'INBOUND', outbound: 'OUTBOUND' } });
    // Outcomes by their label onto HubSpot's outcome ids.
    const outcomes = field(calls, 'hs_call_disposition')?.transform;
    expect(outcomes?.kind).toBe('map');
    if (outcomes?.kind === 'map') for (const [id, label] of CALL_OUTCOMES.filter(([, label]) => SAMPLES['activities.outcome']!.includes(label))) expect(outcomes.values[label], label).toBe(id);
    expect(field(calls, 'associated_contacts')?.source).toEqual(['contact_id']);
    expect(field(calls, 'associated_companies')?.source).toEqual(['company_id']);
    expect(field(calls, 'associated_deals')?.source).toEqual(['deal_id']);

    expect(field(meetings, 'hs_meeting_title')?.source).toEqual(['subject']);
    expect(field(meetings, 'hs_timestamp')?.source).toEqual(['activity_date']);
    expect(field(meetings, 'hs_meeting_start_time')?.source).toEqual(['activity_date']);
    expect(field(meetings, 'hs_meeting_end_time')?.source).toEqual(['end_time']);
    expect(field(meetings, 'hs_meeting_outcome')?.transform).toMatchObject({ kind: 'map', values: { Completed: 'COMPLETED', 'No show': 'NO_SHOW', Canceled: 'CANCELED', Scheduled: 'SCHEDULED' } });

    expect(field(emails, 'hs_email_subject')?.source).toEqual(['subject']);
    expect(field(emails, 'hs_email_text')?.source).toEqual(['body']);
    expect(field(emails, 'hs_timestamp')?.source).toEqual(['activity_date']);
    expect(field(emails, 'hs_email_direction')?.transform).toMatchObject({ kind: 'map', values: { inbound: 'INCOMING_EMAIL', outbound: 'EMAIL' } });
    expect(notes.some((note) => note.startsWith('activities: split by type into calls, meetings, emails, tasks'))).toBe(true);
    expect(notes.some((note) => note.includes('duration_minutes → hs_call_duration converted from minutes to milliseconds'))).toBe(true);

    // The file ferry map writes reads back the same, and passes ferry check.
    const again = parseProjectFile(serialiseProjectFile(project), 'ferry.yaml', { HUBSPOT_TOKEN: 'x' });
    const comparable = (list: ObjectMapping[]) => list.map((mapping) => [mapping.key, mapping.where, [...mapping.fields].sort((a, b) => a.target.localeCompare(b.target))]);
    expect(comparable(routed(again, 'activities'))).toEqual(comparable(mappings));
    // (The fixture's deals have no stage: only the activities' mappings are checked here.)
    expect(validateMapping(project, sourceSchema, schema).errors.filter((error) => error.object !== 'deals')).toEqual([]);
  });

  it('routes a Pipedrive activities export by Activity - Type, the other types staying tasks', async () => {
    const pipedrive: ObjectSchema = {
      name: 'activities',
      preset: { vendor: 'pipedrive', object: 'activity' },
      fields: [
        { name: 'Activity - ID', type: 'string' },
        { name: 'Activity - Subject', type: 'string', meaning: 'title', label: 'Subject' },
        { name: 'Activity - Type', type: 'string', meaning: 'type', label: 'Type' },
        { name: 'Activity - Due date', type: 'date', meaning: 'duedate', label: 'Due date' },
        { name: 'Activity - Duration', type: 'string', label: 'Duration' },
        { name: 'Activity - Done', type: 'string', meaning: 'status', label: 'Done' },
        { name: 'Person - ID', type: 'reference', reference: { object: 'people' } },
        { name: 'Deal - ID', type: 'reference', reference: { object: 'deals' } },
      ],
    };
    const people: ObjectSchema = { name: 'people', preset: { vendor: 'pipedrive', object: 'person' }, fields: [{ name: 'Person - ID', type: 'string' }, { name: 'Person - Email', type: 'email', meaning: 'email' }] };
    const sourceSchema: SchemaDescription = { objects: [people, { ...deals, preset: { vendor: 'pipedrive', object: 'deal' } }, pipedrive] };
    const values: Record<string, string[]> = { 'activities.Activity - Type': ['call', 'deadline', 'email', 'lunch', 'meeting', 'task'], 'activities.Activity - Done': ['Done', 'To do'] };
    const { project, notes } = await proposeMapping({ sourceSchema, targetSchema: schema, sampleValues: async (object, name) => values[`${object}.${name}`] ?? [], source: { connector: 'csv', path: 'export' }, target });
    const mappings = routed(project, 'activities');
    expect(mappings.map((mapping) => [mapping.target, mapping.where])).toEqual([
      ['calls', { 'Activity - Type': ['call'] }],
      ['meetings', { 'Activity - Type': ['lunch', 'meeting'] }],
      ['emails', { 'Activity - Type': ['email'] }],
      ['tasks', { 'Activity - Type': ['deadline', 'task'] }],
    ]);
    const [calls, meetings, , tasks] = mappings as [ObjectMapping, ObjectMapping, ObjectMapping, ObjectMapping];
    // The due date is when the activity happens; Pipedrive's duration (H:MM) has no unit in its name: minutes, said in a note.
    expect(field(calls, 'hs_timestamp')?.source).toEqual(['Activity - Due date']);
    expect(field(calls, 'hs_call_title')?.source).toEqual(['Activity - Subject']);
    expect(field(calls, 'hs_call_duration')?.transform).toEqual({ kind: 'duration', from: 'minutes', to: 'milliseconds' });
    expect(notes.some((note) => note.includes('Activity - Duration → hs_call_duration converted from minutes (assumed'))).toBe(true);
    expect(field(meetings, 'hs_meeting_start_time')?.source).toEqual(['Activity - Due date']);
    expect(field(calls, 'associated_contacts')?.source).toEqual(['Person - ID']);
    expect(field(tasks, 'hs_timestamp')?.source).toEqual(['Activity - Due date']);
    expect(field(tasks, 'hs_task_subject')?.source).toEqual(['Activity - Subject']);
    // Done / To do is a to-do's state, not a call's dialling state nor an e-mail's send state: only tasks get it.
    expect(field(tasks, 'hs_task_status')?.source).toEqual(['Activity - Done']);
    for (const mapping of mappings.slice(0, 3)) expect(mapping.fields.some((entry) => entry.source.includes('Activity - Done')), mapping.target).toBe(false);
  });

  it('routes a Salesforce Task export by TaskSubtype', async () => {
    const task: ObjectSchema = {
      name: 'tasks',
      preset: { vendor: 'salesforce', object: 'task' },
      fields: [
        { name: 'Id', type: 'string' },
        { name: 'Subject', type: 'string', meaning: 'title' },
        { name: 'TaskSubtype', type: 'string' },
        { name: 'ActivityDate', type: 'date', meaning: 'duedate' },
        { name: 'CallDurationInSeconds', type: 'integer' },
        { name: 'Status', type: 'string', meaning: 'status' },
      ],
    };
    const values: Record<string, string[]> = { 'tasks.TaskSubtype': ['Call', 'Email', 'Task'] };
    const { project } = await proposeMapping({ sourceSchema: { objects: [task] }, targetSchema: schema, sampleValues: async (object, name) => values[`${object}.${name}`] ?? [], source: { connector: 'csv', path: 'export' }, target });
    const mappings = routed(project, 'tasks');
    // `tasks` is both the source object's name and a target: that mapping is keyed source_to_target.
    expect(mappings.map((mapping) => [mapping.key, mapping.target, mapping.where])).toEqual([
      ['calls', 'calls', { TaskSubtype: ['Call'] }],
      ['emails', 'emails', { TaskSubtype: ['Email'] }],
      ['tasks_to_tasks', 'tasks', { TaskSubtype: ['Task'] }],
    ]);
    expect(field(mappings[0]!, 'hs_call_duration')?.transform).toEqual({ kind: 'duration', from: 'seconds', to: 'milliseconds' });
  });

  it('a calls export of its own (Zoho) pairs with calls by name, taking the duration whose name states its unit', async () => {
    const calls: ObjectSchema = {
      name: 'Calls',
      fields: [
        { name: 'Id', type: 'string' },
        { name: 'Subject', type: 'string' },
        { name: 'Call Start Time', type: 'datetime' },
        { name: 'Call Duration', type: 'string' },
        { name: 'Call Duration (in seconds)', type: 'integer' },
      ],
    };
    const { project, notes } = await proposeMapping({ sourceSchema: { objects: [calls] }, targetSchema: schema, sampleValues: samples, source: { connector: 'csv', path: 'export' }, target });
    const [mapping] = routed(project, 'Calls');
    expect(mapping?.target).toBe('calls');
    expect(mapping?.where).toBeUndefined();
    expect(field(mapping!, 'hs_call_duration')).toEqual({ source: ['Call Duration (in seconds)'], target: 'hs_call_duration', transform: { kind: 'duration', from: 'seconds', to: 'milliseconds' } });
    expect(field(mapping!, 'hs_timestamp')?.source).toEqual(['Call Start Time']);
    expect(notes.some((note) => note.includes('assumed'))).toBe(false);
  });

  it('keeps one mapping when the target has no engagement objects, or the project already maps the table', async () => {
    const sqlTarget: SchemaDescription = {
      objects: [contacts, companies, deals, { name: 'tasks', fields: [{ name: 'id', type: 'integer' }, { name: 'subject', type: 'string' }, { name: 'due_at', type: 'string' }] }],
    };
    const sourceSchema: SchemaDescription = { objects: [contacts, companies, deals, ACTIVITIES] };
    const intoSql = await proposeMapping({ sourceSchema, targetSchema: sqlTarget, sampleValues: samples, source, target: source });
    expect(routed(intoSql.project, 'activities').map((mapping) => [mapping.target, mapping.where])).toEqual([['tasks', undefined]]);
    const first = await proposeMapping({ sourceSchema, targetSchema: schema, sampleValues: samples, source, target });
    const edited: ProjectFile = { ...first.project, objects: first.project.objects.filter((mapping) => mapping.source !== 'activities' || mapping.target === 'calls') };
    const again = await proposeMapping({ sourceSchema, targetSchema: schema, sampleValues: samples, source, target, existing: edited });
    expect(routed(again.project, 'activities').map((mapping) => mapping.target)).toEqual(['calls']);
  });
});
