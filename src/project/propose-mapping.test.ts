import { describe, expect, it } from 'vitest';
import type { FieldSchema, SchemaDescription } from '../core/schema.js';
import { parseProjectFile, serialiseProjectFile, validateMapping } from './project-file.js';
import { normaliseName, proposeMapping } from './propose-mapping.js';
import type { ObjectMapping, ProjectFile } from './types.js';

const ts = (): FieldSchema[] => [
  { name: 'created_at', type: 'datetime' },
  { name: 'updated_at', type: 'datetime' },
];
const ref = (name: string, object: string): FieldSchema => ({ name, type: 'reference', reference: { object } });

/** The demo's "legacy CRM". */
const SOURCE: SchemaDescription = {
  objects: [
    {
      name: 'owners',
      modifiedField: 'updated_at',
      fields: [{ name: 'id', type: 'string' }, { name: 'email', type: 'email' }, { name: 'first_name', type: 'string' }, { name: 'last_name', type: 'string' }, ...ts()],
    },
    {
      name: 'companies',
      modifiedField: 'updated_at',
      fields: [
        { name: 'id', type: 'string' },
        { name: 'name', type: 'string' },
        { name: 'domain', type: 'string' },
        { name: 'phone', type: 'phone' },
        { name: 'industry', type: 'string' },
        ref('parent_company_id', 'companies'),
        ref('owner_id', 'owners'),
        { name: 'annual_revenue', type: 'number' },
        ...ts(),
      ],
    },
    {
      name: 'contacts',
      modifiedField: 'updated_at',
      fields: [
        { name: 'id', type: 'string' },
        { name: 'first_name', type: 'string' },
        { name: 'last_name', type: 'string' },
        { name: 'email', type: 'email' },
        { name: 'phone', type: 'phone' },
        { name: 'job_title', type: 'string' },
        ref('company_id', 'companies'),
        ref('owner_id', 'owners'),
        { name: 'birthday', type: 'date' },
        { name: 'lifecycle_stage', type: 'string' },
        ...ts(),
      ],
    },
    {
      name: 'deals',
      modifiedField: 'updated_at',
      fields: [
        { name: 'id', type: 'string' },
        { name: 'name', type: 'string' },
        { name: 'amount', type: 'number' },
        { name: 'currency', type: 'string' },
        { name: 'stage', type: 'string' },
        { name: 'close_date', type: 'date' },
        ref('company_id', 'companies'),
        ref('owner_id', 'owners'),
        { name: 'contacts', type: 'reference-list', reference: { object: 'contacts' } },
        ...ts(),
      ],
    },
    {
      name: 'notes',
      modifiedField: 'updated_at',
      fields: [
        { name: 'id', type: 'string' },
        { name: 'body', type: 'text' },
        ref('company_id', 'companies'),
        ref('contact_id', 'contacts'),
        ref('deal_id', 'deals'),
        ref('owner_id', 'owners'),
        ...ts(),
      ],
    },
    {
      name: 'tasks',
      modifiedField: 'updated_at',
      fields: [
        { name: 'id', type: 'string' },
        { name: 'subject', type: 'string' },
        { name: 'status', type: 'string' },
        { name: 'due_date', type: 'datetime' },
        ref('company_id', 'companies'),
        ref('contact_id', 'contacts'),
        ref('deal_id', 'deals'),
        ref('owner_id', 'owners'),
        ...ts(),
      ],
    },
  ],
};

const tts = (): FieldSchema[] => [
  { name: 'id', type: 'string', readOnly: true },
  { name: 'created_at', type: 'datetime', readOnly: true },
  { name: 'updated_at', type: 'datetime', readOnly: true },
];

/** The demo's "new CRM". */
const TARGET: SchemaDescription = {
  objects: [
    {
      name: 'users',
      modifiedField: 'updated_at',
      createdField: 'created_at',
      fields: [...tts(), { name: 'email', type: 'email', unique: true, required: true }, { name: 'name', type: 'string' }],
    },
    {
      name: 'companies',
      modifiedField: 'updated_at',
      createdField: 'created_at',
      fields: [
        ...tts(),
        { name: 'name', type: 'string', required: true },
        { name: 'domain', type: 'string' },
        { name: 'phone', type: 'phone' },
        { name: 'industry', type: 'string' },
        ref('parent_id', 'companies'),
        ref('owner_id', 'users'),
        { name: 'annual_revenue', type: 'number' },
      ],
    },
    {
      name: 'contacts',
      modifiedField: 'updated_at',
      createdField: 'created_at',
      fields: [
        ...tts(),
        { name: 'firstname', type: 'string' },
        { name: 'lastname', type: 'string' },
        { name: 'email', type: 'email' },
        { name: 'phone', type: 'phone' },
        { name: 'jobtitle', type: 'string' },
        ref('company_id', 'companies'),
        ref('owner_id', 'users'),
        { name: 'date_of_birth', type: 'date' },
        { name: 'lifecycle_stage', type: 'string' },
      ],
    },
    {
      name: 'deals',
      modifiedField: 'updated_at',
      createdField: 'created_at',
      fields: [
        ...tts(),
        { name: 'dealname', type: 'string', required: true },
        { name: 'amount', type: 'number' },
        { name: 'currency', type: 'string' },
        {
          name: 'dealstage',
          type: 'enum',
          required: true,
          options: ['appointmentscheduled', 'qualifiedtobuy', 'presentationscheduled', 'contractsent', 'closedwon', 'closedlost'].map((value) => ({ value })),
        },
        { name: 'closedate', type: 'date' },
        ref('company_id', 'companies'),
        ref('owner_id', 'users'),
        { name: 'contacts', type: 'reference-list', reference: { object: 'contacts' } },
      ],
    },
    {
      name: 'notes',
      modifiedField: 'updated_at',
      createdField: 'created_at',
      fields: [...tts(), { name: 'body', type: 'text' }, ref('company_id', 'companies'), ref('contact_id', 'contacts'), ref('deal_id', 'deals'), ref('owner_id', 'users')],
    },
    {
      name: 'tasks',
      modifiedField: 'updated_at',
      createdField: 'created_at',
      fields: [
        ...tts(),
        { name: 'subject', type: 'string', required: true },
        { name: 'status', type: 'enum', options: [{ value: 'NOT_STARTED', label: 'Not started' }, { value: 'COMPLETED', label: 'Completed' }] },
        { name: 'due_at', type: 'datetime' },
        ref('company_id', 'companies'),
        ref('contact_id', 'contacts'),
        ref('deal_id', 'deals'),
        ref('owner_id', 'users'),
      ],
    },
  ],
};

const SAMPLES: Record<string, string[]> = {
  'deals.stage': ['Appointment Scheduled', 'Qualification', 'Proposal', 'Contract Sent', 'Closed Won', 'closed won', 'Closed Lost'],
  'tasks.status': ['open', 'done', 'Open'],
};
const sampleValues = async (object: string, field: string): Promise<string[]> => SAMPLES[`${object}.${field}`] ?? [];

const source = { connector: 'sql', dialect: 'sqlite', path: './legacy.db' };
const target = { connector: 'sql', dialect: 'postgres', url: 'postgres://localhost/new' };

function object(project: ProjectFile, name: string): ObjectMapping {
  const found = project.objects.find((mapping) => mapping.source === name);
  if (!found) throw new Error(`no mapping for ${name}`);
  return found;
}

function fieldMap(mapping: ObjectMapping): Record<string, string> {
  return Object.fromEntries(mapping.fields.map((field) => [field.source.join('+') || '(constant)', `${field.target}:${field.transform.kind}`]));
}

describe('normaliseName', () => {
  it('ignores case and separators', () => {
    expect(normaliseName('First_Name')).toBe('firstname');
    expect(normaliseName('first-name')).toBe('firstname');
    expect(normaliseName('First Name')).toBe('firstname');
    expect(normaliseName('firstname')).toBe('firstname');
  });
});

describe('proposeMapping on the demo schemas', () => {
  it('pairs the objects, owners → users as link-only', async () => {
    const { project } = await proposeMapping({ sourceSchema: SOURCE, targetSchema: TARGET, sampleValues, source, target });
    expect(project.objects.map((mapping) => `${mapping.source}->${mapping.target}`)).toEqual([
      'owners->users',
      'companies->companies',
      'contacts->contacts',
      'deals->deals',
      'tasks->tasks',
      'notes->notes',
    ]);
    const owners = object(project, 'owners');
    expect(owners.matchOnly).toBe(true);
    expect(owners.matchKeys).toEqual([{ source: 'email', target: 'email', kind: 'email' }]);
    expect(owners.fields).toContainEqual({ source: ['first_name', 'last_name'], target: 'name', transform: { kind: 'join', separator: ' ' } });
    expect(project.objects.filter((mapping) => mapping.matchOnly).map((mapping) => mapping.source)).toEqual(['owners']);
    expect(project.version).toBe(1);
    expect(project.source).toEqual(source);
    expect(project.options).toEqual({ demoSampleSize: 5, pageSize: 500 });
  });

  it('maps the fields by name, synonyms and references, never onto read-only fields', async () => {
    const { project } = await proposeMapping({ sourceSchema: SOURCE, targetSchema: TARGET, sampleValues, source, target });
    expect(fieldMap(object(project, 'companies'))).toEqual({
      name: 'name:copy',
      domain: 'domain:copy',
      phone: 'phone:copy',
      industry: 'industry:copy',
      parent_company_id: 'parent_id:copy',
      owner_id: 'owner_id:copy',
      annual_revenue: 'annual_revenue:copy',
    });
    expect(fieldMap(object(project, 'contacts'))).toEqual({
      first_name: 'firstname:copy',
      last_name: 'lastname:copy',
      email: 'email:copy',
      phone: 'phone:copy',
      job_title: 'jobtitle:copy',
      company_id: 'company_id:copy',
      owner_id: 'owner_id:copy',
      birthday: 'date_of_birth:copy',
      lifecycle_stage: 'lifecycle_stage:copy',
    });
    expect(fieldMap(object(project, 'deals'))).toEqual({
      name: 'dealname:copy',
      amount: 'amount:copy',
      currency: 'currency:copy',
      stage: 'dealstage:map',
      close_date: 'closedate:copy',
      company_id: 'company_id:copy',
      owner_id: 'owner_id:copy',
      contacts: 'contacts:copy',
    });
    expect(fieldMap(object(project, 'notes'))).toEqual({
      body: 'body:copy',
      company_id: 'company_id:copy',
      contact_id: 'contact_id:copy',
      deal_id: 'deal_id:copy',
      owner_id: 'owner_id:copy',
    });
    expect(fieldMap(object(project, 'tasks'))).toMatchObject({ subject: 'subject:copy', status: 'status:map', due_date: 'due_at:copy' });
    for (const mapping of project.objects) {
      for (const field of mapping.fields) expect(['id', 'created_at', 'updated_at']).not.toContain(field.target);
    }
  });

  it('proposes value maps for picklists and reports what it could not map', async () => {
    const { project, notes } = await proposeMapping({ sourceSchema: SOURCE, targetSchema: TARGET, sampleValues, source, target });
    const stage = object(project, 'deals').fields.find((field) => field.target === 'dealstage')!;
    expect(stage.transform).toEqual({
      kind: 'map',
      unmapped: 'fail',
      values: {
        'Appointment Scheduled': 'appointmentscheduled',
        Qualification: 'qualifiedtobuy',
        Proposal: 'presentationscheduled',
        'Contract Sent': 'contractsent',
        'Closed Won': 'closedwon',
        'closed won': 'closedwon',
        'Closed Lost': 'closedlost',
      },
    });
    expect(notes.some((note) => note.includes('guessed "Proposal" → presentationscheduled'))).toBe(true);
    const status = object(project, 'tasks').fields.find((field) => field.target === 'status')!;
    expect(status.transform).toEqual({ kind: 'map', unmapped: 'fail', values: { open: 'NOT_STARTED', Open: 'NOT_STARTED', done: 'COMPLETED' } });
  });

  it('leaves values without a good option unmapped and says so', async () => {
    const { project, notes } = await proposeMapping({
      sourceSchema: SOURCE,
      targetSchema: TARGET,
      sampleValues: async (objectName, field) => (objectName === 'deals' && field === 'stage' ? ['Closed Won', 'Banana'] : []),
      source,
      target,
    });
    const stage = object(project, 'deals').fields.find((field) => field.target === 'dealstage')!;
    expect(stage.transform).toEqual({ kind: 'map', unmapped: 'fail', values: { 'Closed Won': 'closedwon' } });
    expect(notes.some((note) => note.includes('"Banana"') && note.includes('no target option'))).toBe(true);
  });

  it('notes the proposed stage values that some record types (variants) of the target do not offer', async () => {
    const targetSchema: SchemaDescription = {
      objects: TARGET.objects.map((each) =>
        each.name !== 'deals'
          ? each
          : {
              ...each,
              variants: { field: 'pipeline', kind: 'record type', list: [{ id: 'sales', label: 'Sales' }, { id: 'renewals', label: 'Renewals' }] },
              fields: each.fields.map((field) => (field.name === 'dealstage' ? { ...field, variantOptions: { renewals: (field.options ?? []).map((option) => option.value).filter((value) => value !== 'appointmentscheduled') } } : field)),
            },
      ),
    };
    const { project, notes } = await proposeMapping({ sourceSchema: SOURCE, targetSchema, sampleValues, source, target });
    const stage = object(project, 'deals').fields.find((field) => field.target === 'dealstage')!;
    expect(stage.transform.kind === 'map' && Object.values(stage.transform.values)).toContain('appointmentscheduled');
    const note = notes.find((each) => each.includes('not every record type offers'));
    expect(note).toContain('"appointmentscheduled" (from ');
    expect(note).toContain('not in "Renewals" (renewals)');
    // Without variants, no such note.
    const plain = await proposeMapping({ sourceSchema: SOURCE, targetSchema: TARGET, sampleValues, source, target });
    expect(plain.notes.some((each) => each.includes('not every record type'))).toBe(false);
  });

  it('proposes match keys: email for people, domain then name for companies, none for deals/notes/tasks', async () => {
    const { project } = await proposeMapping({ sourceSchema: SOURCE, targetSchema: TARGET, sampleValues, source, target });
    expect(object(project, 'contacts').matchKeys).toEqual([{ source: 'email', target: 'email', kind: 'email' }]);
    expect(object(project, 'companies').matchKeys).toEqual([
      { source: 'domain', target: 'domain', kind: 'domain' },
      { source: 'name', target: 'name', kind: 'name' },
    ]);
    for (const name of ['deals', 'notes', 'tasks']) expect(object(project, name).matchKeys).toEqual([]);
  });

  it('gives type-appropriate transforms (datetime → date, date → datetime)', async () => {
    const sourceSchema: SchemaDescription = {
      objects: [{ name: 'Deals', fields: [{ name: 'Close Date', type: 'datetime' }, { name: 'Created', type: 'date' }, { name: 'Deal Name', type: 'string' }] }],
    };
    const targetSchema: SchemaDescription = {
      objects: [{ name: 'opportunities', fields: [{ name: 'closedate', type: 'date' }, { name: 'created', type: 'datetime' }, { name: 'name', type: 'string' }] }],
    };
    const { project } = await proposeMapping({ sourceSchema, targetSchema, source, target });
    expect(project.objects[0]).toMatchObject({ source: 'Deals', target: 'opportunities' });
    expect(fieldMap(project.objects[0]!)).toEqual({ 'Close Date': 'closedate:date', Created: 'created:datetime', 'Deal Name': 'name:copy' });
  });

  it('pairs objects by synonyms and singular/plural', async () => {
    const names = (list: string[]): SchemaDescription => ({ objects: list.map((name) => ({ name, fields: [] })) });
    const { project } = await proposeMapping({
      sourceSchema: names(['Organisations', 'people', 'opportunity', 'members', 'Activities', 'widgets']),
      targetSchema: names(['accounts', 'contacts', 'deals', 'users', 'tasks', 'gadgets']),
      source,
      target,
    });
    expect(Object.fromEntries(project.objects.map((mapping) => [mapping.source, mapping.target]))).toEqual({
      Organisations: 'accounts',
      people: 'contacts',
      opportunity: 'deals',
      members: 'users',
      Activities: 'tasks',
    });
  });

  it('produces a mapping that passes validateMapping without errors', async () => {
    const { project } = await proposeMapping({ sourceSchema: SOURCE, targetSchema: TARGET, sampleValues, source, target });
    const { errors } = validateMapping(project, SOURCE, TARGET);
    expect(errors).toEqual([]);
  });

  it('keeps what the user edited and adds only what is missing', async () => {
    const first = await proposeMapping({ sourceSchema: SOURCE, targetSchema: TARGET, sampleValues, source, target });
    const edited = structuredClone(first.project);
    const contacts = object(edited, 'contacts');
    // The user maps job_title elsewhere, drops the phone mapping and removes the notes object.
    contacts.fields = contacts.fields.filter((field) => field.target !== 'phone' && field.target !== 'jobtitle');
    contacts.fields.push({ source: ['job_title'], target: 'lifecycle_stage', transform: { kind: 'trim' } });
    contacts.fields = contacts.fields.filter((field) => field.source[0] !== 'lifecycle_stage');
    contacts.matched = 'update';
    edited.objects = edited.objects.filter((mapping) => mapping.source !== 'notes');
    edited.target = { connector: 'sql', dialect: 'postgres', url: 'postgres://elsewhere/db' };

    const { project, notes } = await proposeMapping({ sourceSchema: SOURCE, targetSchema: TARGET, sampleValues, existing: edited, source, target });
    const merged = object(project, 'contacts');
    expect(merged.matched).toBe('update');
    expect(merged.fields).toContainEqual({ source: ['job_title'], target: 'lifecycle_stage', transform: { kind: 'trim' } });
    // job_title is used, lifecycle_stage target is written: neither is proposed again; phone is added back.
    expect(merged.fields.filter((field) => field.target === 'lifecycle_stage')).toHaveLength(1);
    expect(merged.fields.some((field) => field.target === 'jobtitle')).toBe(false);
    expect(merged.fields).toContainEqual({ source: ['phone'], target: 'phone', transform: { kind: 'copy' } });
    expect(project.target).toEqual(edited.target);
    expect(object(project, 'notes').fields.length).toBeGreaterThan(0);
    expect(notes).toContain('contacts: added phone → contacts.phone');
    expect(notes.some((note) => note.startsWith('added notes → notes'))).toBe(true);
    // Everything the user had is still there, in their order.
    expect(project.objects.slice(0, edited.objects.length).map((mapping) => mapping.source)).toEqual(edited.objects.map((mapping) => mapping.source));
    expect(object(project, 'companies')).toEqual(object(edited, 'companies'));
  });

  it('round-trips through ferry.yaml', async () => {
    const { project } = await proposeMapping({ sourceSchema: SOURCE, targetSchema: TARGET, sampleValues, source, target });
    const text = serialiseProjectFile(project);
    expect(parseProjectFile(text, 'ferry.yaml', {})).toEqual(project);
  });
});

describe('proposeMapping into HubSpot (the schema the HubSpot connector describes from the emulator)', () => {
  /** What `ferry check` sees of a HubSpot account: the connector's describe() against the emulator. */
  async function hubspotSchema(): Promise<SchemaDescription> {
    const { startHubspotEmulator } = await import('../emulators/hubspot/index.js');
    const { createHubspotConnector } = await import('../connectors/hubspot/index.js');
    const hubspot = await startHubspotEmulator({ burstLimit: { requests: 100_000, intervalMs: 10_000 }, searchPerSecond: 1000 });
    const connector = createHubspotConnector({ accessToken: hubspot.token, baseUrl: hubspot.url, burstLimit: 1000, searchPerSecond: 50 });
    try {
      return await connector.describe();
    } finally {
      await connector.close();
      await hubspot.close();
    }
  }

  const HUBSPOT_SAMPLES: Record<string, string[]> = {
    ...SAMPLES,
    'deals.stage': ['Prospecting', 'Qualification', 'Proposal', 'Negotiation', 'Closed Won', 'closed won', 'Closed Lost'],
    'companies.industry': ['Software', 'Healthcare', 'Retail', 'Finance', 'Manufacturing'],
    'contacts.lifecycle_stage': ['lead', 'customer'],
  };
  const hubspotSamples = async (object: string, field: string): Promise<string[]> => HUBSPOT_SAMPLES[`${object}.${field}`] ?? [];
  const hubspotTarget = { connector: 'hubspot', accessToken: '${HUBSPOT_TOKEN}' };
  let schema: SchemaDescription;
  let proposal: Awaited<ReturnType<typeof proposeMapping>>;
  const targetsOf = (name: string): Record<string, string> =>
    Object.fromEntries(object(proposal.project, name).fields.map((field) => [field.source.join(' + '), field.target]));

  it('describes the emulator (setup)', async () => {
    schema = await hubspotSchema();
    proposal = await proposeMapping({ sourceSchema: SOURCE, targetSchema: schema, sampleValues: hubspotSamples, source, target: hubspotTarget });
    expect(schema.objects.map((entry) => entry.name)).toEqual(expect.arrayContaining(['contacts', 'companies', 'deals', 'notes', 'tasks', 'owners']));
  });

  it('matches owners to HubSpot owners by e-mail, link only (owners are read-only in HubSpot)', () => {
    const owners = object(proposal.project, 'owners');
    expect(owners.target).toBe('owners');
    expect(owners.matchOnly).toBe(true);
    expect(owners.matchKeys).toEqual([{ source: 'email', target: 'email', kind: 'email' }]);
    expect(owners.fields).toEqual([]);
  });

  it('maps single references to the primary company, not to the list of associated companies', () => {
    expect(targetsOf('contacts')).toMatchObject({
      first_name: 'firstname',
      last_name: 'lastname',
      email: 'email',
      phone: 'phone',
      job_title: 'jobtitle',
      company_id: 'primary_company',
      owner_id: 'hubspot_owner_id',
      lifecycle_stage: 'lifecyclestage',
    });
    const deals = targetsOf('deals');
    expect(deals).toMatchObject({
      name: 'dealname',
      amount: 'amount',
      stage: 'dealstage',
      close_date: 'closedate',
      company_id: 'primary_company',
      contacts: 'associated_contacts',
      owner_id: 'hubspot_owner_id',
    });
    expect(Object.values(deals)).not.toContain('associated_companies');
  });

  it('maps activity references to the association lists and hs_ properties by their bare names and labels', () => {
    expect(targetsOf('notes')).toEqual({
      body: 'hs_note_body',
      company_id: 'associated_companies',
      contact_id: 'associated_contacts',
      deal_id: 'associated_deals',
      owner_id: 'hubspot_owner_id',
      created_at: 'hs_timestamp',
    });
    // Tasks' hs_timestamp is labelled "Due date": the due date, not the creation time.
    expect(targetsOf('tasks')).toMatchObject({
      subject: 'hs_task_subject',
      status: 'hs_task_status',
      due_date: 'hs_timestamp',
      company_id: 'associated_companies',
      contact_id: 'associated_contacts',
      deal_id: 'associated_deals',
      owner_id: 'hubspot_owner_id',
    });
  });

  it('proposes value maps onto the pipeline stage ids, task statuses and industries', () => {
    const valueMap = (name: string, field: string): Record<string, unknown> => {
      const mapping = object(proposal.project, name).fields.find((entry) => entry.target === field);
      if (mapping?.transform.kind !== 'map') throw new Error(`${name}.${field} has no value map`);
      return mapping.transform.values;
    };
    expect(valueMap('deals', 'dealstage')).toEqual({
      Prospecting: 'appointmentscheduled',
      Qualification: 'qualifiedtobuy',
      Proposal: 'presentationscheduled',
      Negotiation: 'contractsent',
      'Closed Won': 'closedwon',
      'closed won': 'closedwon',
      'Closed Lost': 'closedlost',
    });
    expect(valueMap('tasks', 'hs_task_status')).toMatchObject({ open: 'NOT_STARTED', done: 'COMPLETED' });
    expect(valueMap('companies', 'industry')).toEqual({
      Software: 'COMPUTER_SOFTWARE',
      Healthcare: 'HOSPITAL_HEALTH_CARE',
      Retail: 'RETAIL',
      Finance: 'FINANCIAL_SERVICES',
      Manufacturing: 'MACHINERY',
    });
    // The weak pair is reported as a guess.
    expect(proposal.notes.some((note) => note.includes('"Manufacturing" → MACHINERY'))).toBe(true);
  });

  it('produces a mapping that passes validateMapping without errors', () => {
    const { errors } = validateMapping(proposal.project, SOURCE, schema);
    expect(errors).toEqual([]);
  });
});

describe('proposeMapping for vendor exports (fields with meanings and labels)', () => {
  const f = (name: string, type: FieldSchema['type'], meaning?: string, label?: string): FieldSchema => ({ name, type, ...(meaning ? { meaning } : {}), ...(label ? { label } : {}) });
  const preset = (object: string) => ({ vendor: 'pipedrive' as const, object });
  const EXPORT: SchemaDescription = {
    objects: [
      { name: 'orgs', preset: preset('organization'), fields: [f('Organization - ID', 'string'), f('Organization - Name', 'string', 'title'), f('Organization - Website', 'url', 'website'), f('Organization - Owner', 'string', 'owner')] },
      { name: 'persons', preset: preset('person'), fields: [f('Person - ID', 'string'), f('Person - Name', 'string', 'fullname'), f('Person - Email - Work', 'email', 'email'), f('Person - Email - Home', 'email', undefined, 'Email - Home'), { ...ref('Organization - ID', 'orgs'), meaning: undefined }] },
      { name: 'opps', fields: [f('id', 'string'), f('Deal - Status', 'string', 'status'), f('Deal - Stage', 'string', 'stage'), f('Deal - Title', 'string', 'title')] },
      { name: 'memos', fields: [f('id', 'string'), f('text', 'text')] },
      { name: 'employees', fields: [f('id', 'string'), f('email', 'email')] },
    ],
  };
  const HUB: SchemaDescription = {
    objects: [
      { name: 'owners', fields: [f('email', 'email'), f('firstName', 'string'), f('lastName', 'string')].map((field) => ({ ...field, readOnly: true })) },
      { name: 'companies', fields: [f('name', 'string'), f('domain', 'string'), f('website', 'url'), { ...ref('hubspot_owner_id', 'owners') }] },
      { name: 'contacts', fields: [f('firstname', 'string'), f('lastname', 'string'), f('email', 'email'), ref('primary_company', 'companies')] },
      {
        name: 'deals',
        fields: [f('dealname', 'string'), { name: 'dealstage', type: 'enum', options: ['appointmentscheduled', 'qualifiedtobuy', 'contractsent', 'closedwon', 'closedlost'].map((value) => ({ value })) }],
      },
      { name: 'notes', fields: [f('hs_note_body', 'text')] },
    ],
  };
  const VALUES: Record<string, string[]> = {
    'orgs.Organization - Owner': ['Anna Schmidt', 'Jonas Becker', 'anna  schmidt'],
    'opps.Deal - Status': ['open', 'won', 'lost'],
    'opps.Deal - Stage': ['Qualified', 'Negotiations Started'],
  };
  const OWNERS = [
    { id: '101', updatedAt: null, fields: { email: 'anna@x.io', firstName: 'Anna', lastName: 'Schmidt' } },
    { id: '102', updatedAt: null, fields: { email: 'max@x.io', firstName: 'Max', lastName: 'Weber' } },
  ];
  let proposal: Awaited<ReturnType<typeof proposeMapping>>;
  const mapped = (name: string) => object(proposal.project, name);

  it('pairs objects by the vendor object and the CRM synonyms (opp, memo, employee)', async () => {
    proposal = await proposeMapping({
      sourceSchema: EXPORT,
      targetSchema: HUB,
      source,
      target: { connector: 'hubspot', accessToken: '${T}' },
      sampleValues: async (objectName, field) => VALUES[`${objectName}.${field}`] ?? [],
      targetRecords: async (objectName) => (objectName === 'owners' ? OWNERS : []),
    });
    expect(Object.fromEntries(proposal.project.objects.map((mapping) => [mapping.source, mapping.target]))).toEqual({
      orgs: 'companies',
      persons: 'contacts',
      opps: 'deals',
      memos: 'notes',
      employees: 'owners',
    });
  });

  it('splits a full name into first and last name, takes the first e-mail, never the home one by name', () => {
    expect(fieldMap(mapped('persons'))).toEqual({ 'Person - Name': 'lastname:split', 'Person - Email - Work': 'email:split', 'Organization - ID': 'primary_company:copy' });
    const name = mapped('persons').fields.filter((field) => field.source[0] === 'Person - Name');
    expect(name.map((field) => [field.target, field.transform])).toEqual([
      ['firstname', { kind: 'split', separator: ' ', part: 'first' }],
      ['lastname', { kind: 'split', separator: ' ', part: 'rest' }],
    ]);
    expect(mapped('persons').fields.find((field) => field.target === 'email')!.transform).toEqual({ kind: 'split', separator: ',', part: 'first' });
  });

  it('writes the website as website and as domain', () => {
    const web = mapped('orgs').fields.filter((field) => field.source[0] === 'Organization - Website');
    expect(web.map((field) => [field.target, field.transform.kind])).toEqual([
      ['website', 'copy'],
      ['domain', 'domain'],
    ]);
  });

  it('maps status and stage into one stage: won and lost from the status, otherwise the stage', () => {
    const stage = mapped('opps').fields.find((field) => field.target === 'dealstage')!;
    expect(stage.source).toEqual(['Deal - Status', 'Deal - Stage']);
    expect(stage.transform).toEqual({ kind: 'map', values: { won: 'closedwon', lost: 'closedlost', Qualified: 'qualifiedtobuy', 'Negotiations Started': 'contractsent' }, unmapped: 'fail' });
    expect(proposal.notes.some((note) => note.includes('guessed "Negotiations Started" → contractsent'))).toBe(true);
  });

  it('writes an owner table: names matched to owner ids (case and spaces aside), the others null and listed', () => {
    const owner = mapped('orgs').fields.find((field) => field.target === 'hubspot_owner_id')!;
    expect(owner).toEqual({
      source: ['Organization - Owner'],
      target: 'hubspot_owner_id',
      transform: { kind: 'map', values: { 'Anna Schmidt': '101', 'Jonas Becker': null, 'anna  schmidt': '101' }, unmapped: 'default', default: null },
    });
    expect(proposal.notes.find((note) => note.startsWith('orgs.Organization - Owner'))).toContain('fill in the owners id of "Jonas Becker"');
    // A value map into a reference writes target ids: no REFERENCE_MISMATCH.
    const problems = validateMapping(proposal.project, EXPORT, HUB);
    expect(problems.errors.filter((problem) => problem.code === 'REFERENCE_MISMATCH')).toEqual([]);
  });

  it('without the target\'s owners every name is left for the user', async () => {
    const bare = await proposeMapping({ sourceSchema: EXPORT, targetSchema: HUB, source, target: { connector: 'hubspot', accessToken: '${T}' }, sampleValues: async (objectName, field) => VALUES[`${objectName}.${field}`] ?? [] });
    const owner = object(bare.project, 'orgs').fields.find((field) => field.target === 'hubspot_owner_id')!;
    expect(owner.transform).toMatchObject({ kind: 'map', values: { 'Anna Schmidt': null, 'Jonas Becker': null }, unmapped: 'default', default: null });
  });

  it('round-trips through ferry.yaml', () => {
    expect(parseProjectFile(serialiseProjectFile(proposal.project), 'ferry.yaml', { T: 't' })).toEqual({ ...proposal.project, target: { connector: 'hubspot', accessToken: 't' } });
  });
});

describe('value maps of a source picklist whose values are ids', () => {
  it('maps each id by its option label (whole, or its last part after " / "), and shows the label in the notes', async () => {
    const sourceSchema: SchemaDescription = {
      objects: [
        {
          name: 'deals',
          modifiedField: 'updated_at',
          fields: [
            { name: 'id', type: 'string' },
            { name: 'title', type: 'string' },
            {
              name: 'stage',
              type: 'enum',
              options: [
                { value: '7', label: 'Sales / Qualified' },
                { value: '8', label: 'Sales / Contract Sent' },
                { value: '9', label: 'Closed Won' },
                { value: '10', label: 'Sales / Proposal Made' },
              ],
            },
            { name: 'updated_at', type: 'datetime' },
          ],
        },
      ],
    };
    const targetSchema: SchemaDescription = {
      objects: [{ name: 'deals', fields: [{ name: 'dealname', type: 'string' }, { name: 'dealstage', type: 'enum', options: ['qualifiedtobuy', 'presentationscheduled', 'contractsent', 'closedwon'].map((value) => ({ value })) }] }],
    };
    const { project, notes } = await proposeMapping({ sourceSchema, targetSchema, source: { connector: 'sql' }, target: { connector: 'sql' } });
    const stage = project.objects[0]!.fields.find((field) => field.target === 'dealstage')!;
    expect(stage.transform).toEqual({ kind: 'map', unmapped: 'fail', values: { '7': 'qualifiedtobuy', '8': 'contractsent', '9': 'closedwon', '10': 'presentationscheduled' } });
    expect(notes.some((note) => note.includes('"10" (Sales / Proposal Made) → presentationscheduled'))).toBe(true);
  });
});

describe('proposeMapping: Salesforce default picklists onto HubSpot-style options', () => {
  const option = (value: string) => ({ value, label: value });
  const SF_STAGES = ['Prospecting', 'Qualification', 'Needs Analysis', 'Value Proposition', 'Id. Decision Makers', 'Perception Analysis', 'Proposal/Price Quote', 'Negotiation/Review', 'Closed Won', 'Closed Lost'];
  const SF_TASK_STATUSES = ['Not Started', 'In Progress', 'Completed', 'Waiting on someone else', 'Deferred'];
  const sourceSchema: SchemaDescription = {
    objects: [
      { name: 'Opportunity', modifiedField: 'SystemModstamp', fields: [{ name: 'Id', type: 'string' }, { name: 'Name', type: 'string' }, { name: 'StageName', type: 'enum', meaning: 'stage', options: SF_STAGES.map(option) }] },
      { name: 'Task', modifiedField: 'SystemModstamp', fields: [{ name: 'Id', type: 'string' }, { name: 'Subject', type: 'string' }, { name: 'Status', type: 'enum', options: SF_TASK_STATUSES.map(option) }] },
    ],
  };
  const targetSchema: SchemaDescription = {
    objects: [
      { name: 'deals', fields: [{ name: 'id', type: 'string' }, { name: 'name', type: 'string' }, { name: 'dealstage', type: 'enum', options: ['appointmentscheduled', 'qualifiedtobuy', 'presentationscheduled', 'decisionmakerboughtin', 'contractsent', 'closedwon', 'closedlost'].map(option) }] },
      { name: 'tasks', fields: [{ name: 'id', type: 'string' }, { name: 'subject', type: 'string' }, { name: 'status', type: 'enum', options: ['NOT_STARTED', 'COMPLETED'].map(option) }] },
    ],
  };

  it('maps every default stage and task status, and says which ones are guesses', async () => {
    const { project, notes } = await proposeMapping({ sourceSchema, targetSchema, source: { connector: 'salesforce' }, target: { connector: 'sql', dialect: 'sqlite', path: './new.db' } });
    const valueMap = (name: string, field: string): Record<string, unknown> => {
      const mapping = project.objects.find((entry) => entry.source === name)!.fields.find((entry) => entry.target === field);
      if (mapping?.transform.kind !== 'map') throw new Error(`${name}.${field} has no value map`);
      return mapping.transform.values;
    };
    const stages = valueMap('Opportunity', 'dealstage');
    expect(Object.keys(stages).sort()).toEqual([...SF_STAGES].sort());
    expect(stages).toMatchObject({ 'Id. Decision Makers': 'decisionmakerboughtin', 'Perception Analysis': 'decisionmakerboughtin', 'Closed Won': 'closedwon', 'Closed Lost': 'closedlost' });
    expect(valueMap('Task', 'status')).toEqual({ 'Not Started': 'NOT_STARTED', 'In Progress': 'NOT_STARTED', 'Waiting on someone else': 'NOT_STARTED', Deferred: 'NOT_STARTED', Completed: 'COMPLETED' });
    // Open statuses folded into "not started" are guesses the user is asked to check.
    expect(notes.some((note) => note.includes('"In Progress" → NOT_STARTED') && note.includes('please check'))).toBe(true);
  });

  it('a stage the target has no name for takes the target stage of the open stage before it in the pipeline', async () => {
    const fewer: SchemaDescription = {
      objects: targetSchema.objects.map((object) =>
        object.name !== 'deals' ? object : { ...object, fields: object.fields.map((field) => (field.name !== 'dealstage' ? field : { ...field, options: field.options!.filter((o) => o.value !== 'decisionmakerboughtin') })) },
      ),
    };
    const { project, notes } = await proposeMapping({ sourceSchema, targetSchema: fewer, source: { connector: 'salesforce' }, target: { connector: 'sql', dialect: 'sqlite', path: './new.db' } });
    const mapping = project.objects.find((entry) => entry.source === 'Opportunity')!.fields.find((entry) => entry.target === 'dealstage')!;
    if (mapping.transform.kind !== 'map') throw new Error('no value map');
    expect(Object.keys(mapping.transform.values).sort()).toEqual([...SF_STAGES].sort());
    // After Value Proposition (presentationscheduled), before Proposal/Price Quote: still open, no further along.
    expect(mapping.transform.values).toMatchObject({ 'Id. Decision Makers': 'presentationscheduled', 'Perception Analysis': 'presentationscheduled', 'Closed Lost': 'closedlost' });
    expect(notes.some((note) => note.includes('"Perception Analysis" → presentationscheduled (the stage before it')) && notes.some((note) => note.includes('please check'))).toBe(true);
  });
});

describe('proposeMapping of junction objects (a join table as an object)', () => {
  const sqlSource = { connector: 'sql', dialect: 'sqlite', path: './legacy.db' };
  /** The sample "legacy CRM" as the SQL connector describes it, with its deal_contacts join table asked for as an object too. */
  async function sampleSchema(joinTables: Record<string, { object: boolean }>): Promise<SchemaDescription> {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { writeSampleSqlite } = await import('../sample/index.js');
    const { createSqlConnector } = await import('../connectors/sql/index.js');
    const dir = mkdtempSync(join(tmpdir(), 'ferry-propose-junction-'));
    await writeSampleSqlite(join(dir, 'legacy.db'), { seed: 1, size: 20 });
    const connector = createSqlConnector({ dialect: 'sqlite', path: join(dir, 'legacy.db'), joinTables });
    try {
      return await connector.describe();
    } finally {
      await connector.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  async function salesforceSchema(): Promise<SchemaDescription> {
    const { startSalesforceEmulator } = await import('../emulators/salesforce/index.js');
    const { createSalesforceConnector } = await import('../connectors/salesforce/index.js');
    const emulator = await startSalesforceEmulator({ port: 0 });
    const connector = createSalesforceConnector({ accessToken: emulator.accessToken, instanceUrl: emulator.url });
    try {
      return await connector.describe();
    } finally {
      await connector.close();
      await emulator.close();
    }
  }

  it('pairs deal_contacts with OpportunityContactRole by what it links (not Task or Note, which refer to both too), its keys with the references', async () => {
    const sourceSchema = await sampleSchema({ deal_contacts: { object: true } });
    expect(sourceSchema.objects.find((entry) => entry.name === 'deal_contacts')?.junction).toEqual({ fields: ['deal_id', 'contact_id'] });
    const targetSchema = await salesforceSchema();
    const { project, notes } = await proposeMapping({ sourceSchema, targetSchema, source: sqlSource, target: { connector: 'salesforce' } });
    const mapping = project.objects.find((entry) => entry.source === 'deal_contacts');
    expect(project.objects.find((entry) => entry.source === 'deals')?.target).toBe('Opportunity');
    expect(project.objects.find((entry) => entry.source === 'contacts')?.target).toBe('Contact');
    expect(mapping).toMatchObject({ target: 'OpportunityContactRole', matchKeys: [], matchOnly: false });
    expect(Object.fromEntries(mapping!.fields.map((field) => [field.source.join(' + '), field.target]))).toEqual({ deal_id: 'OpportunityId', contact_id: 'ContactId' });
    expect(notes).toContain('deal_contacts: links deals and contacts, so each of its rows becomes a OpportunityContactRole record (it refers to Opportunity and Contact)');
    // (The sample's notes need a Title and ParentId by hand: not this object's business.)
    expect(validateMapping(project, sourceSchema, targetSchema).errors.filter((issue) => issue.object === 'deal_contacts')).toEqual([]);
  });

  it('without the setting there is no such object, and nothing is proposed for it', async () => {
    const sourceSchema = await sampleSchema({});
    const { project } = await proposeMapping({ sourceSchema, targetSchema: await salesforceSchema(), source: sqlSource, target: { connector: 'salesforce' } });
    expect(project.objects.some((entry) => entry.source === 'deal_contacts' || entry.target === 'OpportunityContactRole')).toBe(false);
  });

  it('into a target that takes the links as a list (SQL -> SQL), the list is mapped and the junction object is not', async () => {
    const sourceSchema = await sampleSchema({ deal_contacts: { object: true } });
    const targetSchema: SchemaDescription = {
      objects: [
        { name: 'deals', fields: [{ name: 'id', type: 'integer', readOnly: true }, { name: 'name', type: 'string' }, { name: 'contacts', type: 'reference-list', reference: { object: 'contacts' } }] },
        { name: 'contacts', fields: [{ name: 'id', type: 'integer', readOnly: true }, { name: 'email', type: 'email' }] },
        { name: 'deal_contacts', junction: { fields: ['deal_id', 'contact_id'] }, fields: [{ ...ref('deal_id', 'deals'), required: true }, { ...ref('contact_id', 'contacts'), required: true }] },
      ],
    };
    const { project, notes } = await proposeMapping({ sourceSchema, targetSchema, source: sqlSource, target: sqlSource });
    expect(project.objects.some((entry) => entry.source === 'deal_contacts')).toBe(false);
    expect(project.objects.find((entry) => entry.source === 'deals')!.fields.find((field) => field.target === 'contacts')?.source).toEqual(['contacts']);
    expect(notes).toContain('deal_contacts: not mapped as an object; its links go into deals.contacts (a list), with the deals or contacts record');
  });

  it('two equally good link objects are no proposal, and neither is one that refers to much else and requires neither', async () => {
    const sourceSchema = await sampleSchema({ deal_contacts: { object: true } });
    const link = (name: string) => ({ name, fields: [{ ...ref('deal', 'deals'), required: true }, { ...ref('person', 'contacts'), required: true }] });
    const base = [
      { name: 'deals', fields: [{ name: 'name', type: 'string' as const }] },
      { name: 'contacts', fields: [{ name: 'email', type: 'email' as const }] },
      { name: 'activities', fields: [ref('deal', 'deals'), ref('person', 'contacts'), ref('company', 'companies')] },
    ];
    const tie = await proposeMapping({ sourceSchema, targetSchema: { objects: [...base, link('roles'), link('stakeholders')] }, source: sqlSource, target: sqlSource });
    expect(tie.project.objects.some((entry) => entry.source === 'deal_contacts')).toBe(false);
    expect(tie.notes).toContain('deal_contacts: links deals and contacts; roles, stakeholders all refer to deals and contacts: not mapped, pick one by hand');
    const none = await proposeMapping({ sourceSchema, targetSchema: { objects: base }, source: sqlSource, target: sqlSource });
    expect(none.project.objects.some((entry) => entry.source === 'deal_contacts')).toBe(false);
    expect(none.notes).toContain('deal_contacts: links deals and contacts; no target object refers to both deals and contacts, so it is not mapped');
  });
});
