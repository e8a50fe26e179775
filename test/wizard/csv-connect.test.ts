/**
 * The wizard's CSV connection form over real HTTP: what POST /api/csv/inspect finds file by file (and the
 * connector's errors beside the file), what Save and connect writes into ferry.yaml (per-file settings, the
 * project's sourceTimeZone), the Match step's "not in the target yet" for a CSV source (which has no record
 * count), and a HubSpot 401 that blames the token, not ferry.yaml.
 */
import { request as httpRequest } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml, parseDocument } from 'yaml';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startHubspotEmulator, type HubspotEmulator } from '../../src/emulators/hubspot/index.js';
import type { ConnectResponse, CsvInspectResponse, JobView, MappingResponse, MatchResponse, RecordChoicesResponse, StartJobRequest, WizardState } from '../../src/wizard/api.js';
import { startWizardServer, type WizardServer } from '../../src/wizard/server/index.js';
import { guessIdColumn, splitHeader } from '../../src/wizard/server/csv-form.js';
import { writeTargetDb, writeTrickyExport } from './csv-fixtures.js';

const WAIT = 120_000;

interface Reply {
  status: number;
  text: string;
  json<T = unknown>(): T;
}

function send(server: WizardServer, session: string, method: string, path: string, body?: unknown): Promise<Reply> {
  const text = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port: server.port,
        method,
        path,
        headers: { authorization: `Bearer ${session}`, ...(text !== undefined ? { 'content-type': 'application/json' } : {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const answer = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, text: answer, json: <T>() => JSON.parse(answer) as T });
        });
      },
    );
    req.on('error', reject);
    if (text !== undefined) req.write(text);
    req.end();
  });
}

interface Setup {
  dir: string;
  projectPath: string;
  call(method: string, path: string, body?: unknown): Promise<Reply>;
  ok<T>(method: string, path: string, body?: unknown): Promise<T>;
  job(request: StartJobRequest): Promise<JobView>;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function setup(): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-wizard-csv-'));
  const projectPath = join(dir, 'ferry.yaml');
  const server = await startWizardServer({ projectPath, cwd: dir, env: { ...process.env, TZ: 'UTC' }, port: 0, uiDir: join(dir, 'no-ui') });
  cleanups.push(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const session = server.issueSession();
  const call = (method: string, path: string, body?: unknown) => send(server, session, method, path, body);
  const ok = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const reply = await call(method, path, body);
    expect(reply.status, `${method} ${path}: ${reply.text}`).toBeLessThan(300);
    return reply.json<T>();
  };
  const job = async (request: StartJobRequest): Promise<JobView> => {
    const started = await ok<JobView>('POST', '/api/jobs', request);
    for (;;) {
      const current = await ok<JobView>('GET', '/api/job');
      if (current.id === started.id && current.status !== 'running' && current.status !== 'pausing') return current;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  return { dir, projectPath, call, ok, job };
}

describe('the CSV form helpers', () => {
  it('splits a header at the delimiter outside quotes', () => {
    expect(splitHeader('a;"b;c";"say ""hi""";d', ';')).toEqual(['a', 'b;c', 'say "hi"', 'd']);
    expect(splitHeader('one', ',')).toEqual(['one']);
  });
  it('guesses the id column of vendor exports, and nothing from a reference column', () => {
    expect(guessIdColumn('people', ['Person - Name', 'Person - ID', 'Organization - ID'])).toBe('Person - ID');
    expect(guessIdColumn('contacts', ['Record ID', 'First Name'])).toBe('Record ID');
    expect(guessIdColumn('accounts', ['Id', 'Name'])).toBe('Id');
    expect(guessIdColumn('contacts', ['Kundennummer', 'company_id'])).toBeUndefined();
  });
});

describe('CSV connection form', () => {
  it('lists each file with what was detected, the connector error beside its file, and writes the corrected settings into ferry.yaml', async () => {
    const s = await setup();
    writeTrickyExport(join(s.dir, 'export'));
    writeTargetDb(join(s.dir, 'target.db'));

    const first = await s.ok<CsvInspectResponse>('POST', '/api/csv/inspect', { path: 'export' });
    expect(first.ok).toBe(false);
    expect(first.files.map((file) => file.file)).toEqual(['companies.csv', 'contacts.csv']);
    const companies = first.files.find((file) => file.object === 'companies')!;
    expect(companies).toMatchObject({ problems: [], detected: { delimiter: ';', id: 'id' } });
    expect(companies.columns).toEqual(['id', 'name', 'domain']);
    const contacts = first.files.find((file) => file.object === 'contacts')!;
    // Detection takes the commas in the column names for the delimiter.
    expect(contacts.detected.delimiter).toBe(',');
    expect(contacts.detected.id).toBeUndefined();
    expect(contacts.problems.map((problem) => problem.code)).toContain('CSV_NO_ID_COLUMN');
    expect(contacts.problems[0]!.message).toMatch(/contacts\.csv has no id column "id".*source\.objects\.contacts\.id/);

    // Corrected: the delimiter and the id column.
    const csvObjects = { contacts: { delimiter: ';', id: 'Kundennummer', updatedAt: 'Geändert' } };
    const fixed = await s.ok<CsvInspectResponse>('POST', '/api/csv/inspect', { path: 'export', csvObjects });
    expect(fixed.error).toBeUndefined();
    expect(fixed.ok).toBe(true);
    const fixedContacts = fixed.files.find((file) => file.object === 'contacts')!;
    expect(fixedContacts.columns).toEqual(['Kundennummer', 'Name, Vorname, Titel', 'Ort, PLZ, Land, Region, Kreis', 'email', 'company_id', 'Owner', 'Geändert']);
    expect(fixedContacts.detected).toMatchObject({ id: 'Kundennummer', updatedAt: 'Geändert', references: { company_id: 'companies' } });
    expect(fixedContacts.problems).toEqual([]);

    // A key the connector does not take is refused by its own schema, naming the ferry.yaml key.
    const bogus = await s.call('POST', '/api/csv/inspect', { path: 'export', csvObjects: { contacts: { ...csvObjects.contacts, colour: 'blue' } } });
    expect(bogus.status).toBe(400);
    expect(bogus.json<{ error: { code: string; message: string } }>().error).toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringMatching(/source\.objects\.contacts.*colour/) });
    // A bad time zone is refused before anything is saved.
    const zone = await s.call('POST', '/api/connect', { side: 'source', connector: 'csv', settings: { path: 'export' }, csvObjects, project: { sourceTimeZone: 'Mars/Olympus' } });
    expect(zone.status).toBe(400);
    expect(zone.text).toContain('Mars/Olympus');

    const source = await s.ok<ConnectResponse>('POST', '/api/connect', {
      side: 'source',
      connector: 'csv',
      settings: { path: 'export' },
      csvObjects,
      project: { sourceTimeZone: 'Europe/Berlin' },
    });
    expect(source.error).toBeUndefined();
    expect(source.connected).toBe(true);
    const target = await s.ok<ConnectResponse>('POST', '/api/connect', { side: 'target', connector: 'sql', settings: { dialect: 'sqlite', path: 'target.db' } });
    expect(target.connected).toBe(true);

    const yaml = parseYaml(readFileSync(s.projectPath, 'utf8')) as {
      sourceTimeZone?: string;
      source: { delimiter?: string; objects: Record<string, { delimiter?: string }> };
    };
    expect(yaml.sourceTimeZone).toBe('Europe/Berlin');
    expect(yaml.source).toMatchObject({ connector: 'csv', path: 'export', objects: { contacts: { id: 'Kundennummer', updatedAt: 'Geändert' } } });
    // Per file where the connector takes it, else for the whole folder (both read contacts.csv right).
    expect(yaml.source.objects.contacts?.delimiter ?? yaml.source.delimiter).toBe(';');
    const state = await s.ok<WizardState>('GET', '/api/state');
    expect(state.source).toMatchObject({ connected: true, csvObjects: { contacts: { id: 'Kundennummer' } } });
    expect(state.sourceSettings?.sourceTimeZone).toBe('Europe/Berlin');
  }, WAIT);

  it('Match counts the CSV records not in the target yet (a CSV export has no record count)', async () => {
    const s = await setup();
    writeTrickyExport(join(s.dir, 'export'), 12);
    // Three of the twelve contacts are in the target already (same e-mail).
    writeTargetDb(join(s.dir, 'target.db'), [2, 5, 9]);
    await s.ok('POST', '/api/connect', { side: 'source', connector: 'csv', settings: { path: 'export' }, csvObjects: { contacts: { delimiter: ';', id: 'Kundennummer' } } });
    await s.ok('POST', '/api/connect', { side: 'target', connector: 'sql', settings: { dialect: 'sqlite', path: 'target.db' } });
    const mapping = await s.ok<MappingResponse>('POST', '/api/mapping/propose', {});
    const contacts = mapping.objects.find((object) => object.source === 'contacts');
    expect(contacts?.target).toBe('contacts');
    expect(contacts?.matchKeys.some((key) => key.kind === 'email')).toBe(true);

    const before = await s.ok<MatchResponse>('GET', '/api/match');
    // Nothing linked yet: every record is not in the target yet.
    expect(before.objects.find((object) => object.object === 'contacts')).toMatchObject({ matched: 0, unlinked: 12 });
    expect(before.objects.find((object) => object.object === 'companies')).toMatchObject({ unlinked: 3 });

    // The owner table's choices: the target's users by name and e-mail.
    const users = await s.ok<RecordChoicesResponse>('GET', '/api/records?side=target&object=users');
    expect(users.truncated).toBe(false);
    expect(users.records).toEqual([
      { id: '1', name: 'Anna Schmidt', email: 'anna.schmidt@new.example' },
      { id: '2', name: 'Bob Meyer', email: 'bob@new.example' },
      { id: '3', name: 'Bob Meyer', email: 'bob.meyer@new.example' },
    ]);
    expect((await s.call('GET', '/api/records?side=target&object=nothing')).status).toBe(404);
    expect((await s.ok<WizardState>('GET', '/api/state')).mappingErrors).toEqual({ total: 0, requiredUnmapped: [] });

    const job = await s.job({ kind: 'match' });
    expect(job.status, JSON.stringify(job.error)).toBe('finished');
    const after = await s.ok<MatchResponse>('GET', '/api/match');
    expect(after.objects.find((object) => object.object === 'contacts')).toMatchObject({ matched: 3, unlinked: 9 });
  }, WAIT);
});

describe('required target fields', () => {
  it('a ferry.yaml that leaves a required target field unmapped: the state lists it, so the page blocks runs that write', async () => {
    const s = await setup();
    writeTrickyExport(join(s.dir, 'export'), 4);
    writeTargetDb(join(s.dir, 'target.db'));
    await s.ok('POST', '/api/connect', { side: 'source', connector: 'csv', settings: { path: 'export' }, csvObjects: { contacts: { delimiter: ';', id: 'Kundennummer' } } });
    await s.ok('POST', '/api/connect', { side: 'target', connector: 'sql', settings: { dialect: 'sqlite', path: 'target.db' } });
    await s.ok<MappingResponse>('POST', '/api/mapping/propose', {});
    // Edited by hand: companies.name (NOT NULL in the target) no longer mapped.
    const document = parseDocument(readFileSync(s.projectPath, 'utf8'));
    const fields = document.getIn(['objects', 'companies', 'fields']) as { items: { key: unknown; value: unknown }[] };
    const before = fields.items.length;
    fields.items = fields.items.filter((pair) => String((pair.value as { value?: unknown })?.value ?? pair.value) !== 'name');
    expect(fields.items.length).toBe(before - 1);
    writeFileSync(s.projectPath, document.toString());
    const state = await s.ok<WizardState>('GET', '/api/state');
    expect(state.mappingErrors?.total).toBeGreaterThanOrEqual(1);
    expect(state.mappingErrors?.requiredUnmapped).toEqual([expect.objectContaining({ object: 'companies', target: 'companies', field: 'name' })]);
    const mapping = await s.ok<MappingResponse>('GET', '/api/mapping');
    expect(mapping.problems.errors.map((problem) => problem.code)).toContain('REQUIRED_UNMAPPED');
  }, WAIT);
});

describe('a HubSpot token the API rejects', () => {
  let hubspot: HubspotEmulator;
  beforeAll(async () => {
    hubspot = await startHubspotEmulator({ seed: 'sample', token: 'emulator-secret-token-1234', burstLimit: { requests: 10_000, intervalMs: 10_000 }, searchPerSecond: 1000 });
  });
  afterAll(async () => {
    await hubspot.close();
  });

  it('says the typed token is wrong or expired, points at the form field, and lists no scopes (401)', async () => {
    const s = await setup();
    const reply = await s.ok<ConnectResponse>('POST', '/api/connect', {
      side: 'target',
      connector: 'hubspot',
      settings: { baseUrl: hubspot.url },
      secrets: { accessToken: 'pat-na1-wrong-0000-0000' },
      testOnly: true,
    });
    expect(reply.connected).toBe(false);
    expect(reply.error?.code).toBe('AUTH_FAILED');
    expect(reply.error?.message).toMatch(/401.*token typed in the form is wrong or has expired/);
    expect(reply.error?.message).toContain('Private app access token');
    expect(reply.error?.message).not.toMatch(/ferry\.yaml|scope/i);
    expect(reply.error?.details?.field).toBe('accessToken');
    expect(reply.error?.message).not.toContain('pat-na1-wrong');
  }, WAIT);
});
