/**
 * The wizard's server over real HTTP (ferry serve's API): security, the Connect/Map/Match/Demo/Full/Delta/
 * Reports steps, jobs with pause and resume, server-sent events, secrets. Each test starts its own server on
 * a free port in a temp folder with seeded demo data; nothing waits for wall-clock time (jobs are polled).
 */
import { request as httpRequest } from 'node:http';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Counts } from '../../src/core/progress.js';
import { startHubspotEmulator, type HubspotEmulator } from '../../src/emulators/hubspot/index.js';
import { Ledger } from '../../src/ledger/index.js';
import { copyField, objectMapping } from '../../src/project/project-file.js';
import { serialiseProjectFile } from '../../src/project/serialise.js';
import { applySourceChanges, writeSampleSqlite } from '../../src/sample/index.js';
import type {
  ConnectResponse,
  DemoChangesResponse,
  JobView,
  MappingResponse,
  MatchResponse,
  ObjectMappingView,
  RunDetailResponse,
  RunSampleResponse,
  RunsResponse,
  SamplesResponse,
  SchemasResponse,
  StartJobRequest,
  WizardState,
} from '../../src/wizard/api.js';
import { startWizardServer, type WizardServer } from '../../src/wizard/server/index.js';
import { readSecrets, writeSecrets } from '../../src/project/secrets-file.js';

const WAIT = 120_000;
const SEED = 7;

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json<T = unknown>(): T;
}

/** One HTTP request with full control over the headers (Host and Origin included). */
function send(server: WizardServer, method: string, path: string, options: { headers?: Record<string, string>; body?: unknown } = {}): Promise<Reply> {
  const body = options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port: server.port,
        method,
        path,
        headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...options.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: <T>() => JSON.parse(text) as T });
        });
      },
    );
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** A client signed in with a session (as a script would be: Authorization: Bearer). */
class Client {
  readonly session: string;
  constructor(readonly server: WizardServer) {
    this.session = server.issueSession();
  }

  call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
    return send(this.server, method, path, { headers: { authorization: `Bearer ${this.session}`, ...headers }, ...(body !== undefined ? { body } : {}) });
  }

  async ok<T>(method: string, path: string, body?: unknown): Promise<T> {
    const reply = await this.call(method, path, body);
    expect(reply.status, `${method} ${path}: ${reply.text}`).toBeLessThan(300);
    return reply.json<T>();
  }

  /** Starts a job and polls GET /api/job until it is no longer running. */
  async job(request: StartJobRequest): Promise<JobView> {
    const started = await this.ok<JobView>('POST', '/api/jobs', request);
    expect(started.status).toBe('running');
    return this.waitForJob(started.id);
  }

  async waitForJob(id: string, settled: (job: JobView) => boolean = (job) => job.status !== 'running' && job.status !== 'pausing'): Promise<JobView> {
    for (;;) {
      const job = await this.ok<JobView>('GET', '/api/job');
      expect(job.id).toBe(id);
      if (settled(job)) return job;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

interface Setup {
  dir: string;
  projectPath: string;
  server: WizardServer;
  client: Client;
}

const cleanups: (() => Promise<void>)[] = [];

async function setup(options: { uiDir?: string } = {}): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-wizard-server-'));
  const projectPath = join(dir, 'ferry.yaml');
  const server = await startWizardServer({ projectPath, cwd: dir, env: { ...process.env, TZ: 'UTC' }, port: 0, uiDir: options.uiDir ?? join(dir, 'no-ui') });
  cleanups.push(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, projectPath, server, client: new Client(server) };
}

async function withDemoData(contacts = 60): Promise<Setup> {
  const context = await setup();
  await context.client.ok<WizardState>('POST', '/api/demo-data', { contacts, seed: SEED });
  return context;
}

function total(counts: Record<string, Counts> | undefined, key: keyof Counts): number {
  return Object.values(counts ?? {}).reduce((sum, value) => sum + value[key], 0);
}

/** Every target table's rows, for comparing two migrations. */
function targetRows(dir: string): Record<string, unknown[]> {
  const database = new Database(join(dir, 'target.db'), { readonly: true });
  try {
    const out: Record<string, unknown[]> = {};
    for (const table of ['users', 'companies', 'contacts', 'deals', 'deal_contacts', 'notes', 'tasks']) {
      // Without the write times the target stamps on every write.
      out[table] = (database.prepare(`SELECT * FROM ${table} ORDER BY 1, 2`).all() as Record<string, unknown>[]).map(({ created_at: _created, updated_at: _updated, ...row }) => row);
    }
    return out;
  } finally {
    database.close();
  }
}

afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

describe('access', () => {
  it('exchanges the one-time token for an HttpOnly SameSite=Strict session cookie, once', async () => {
    const { server } = await setup();
    const url = new URL(server.url);
    const token = url.searchParams.get('token')!;
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(url.hostname).toBe('127.0.0.1');

    const first = await send(server, 'GET', `/?token=${encodeURIComponent(token)}`);
    expect(first.status).toBe(302);
    expect(first.headers.location).toBe('/');
    const cookie = String(first.headers['set-cookie']);
    expect(cookie).toMatch(/^ferry_session=[A-Za-z0-9_-]+;/);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    expect(cookie).not.toContain(token);
    const session = cookie.split(';')[0]!;

    const state = await send(server, 'GET', '/api/state', { headers: { cookie: session } });
    expect(state.status).toBe(200);
    expect(state.json<WizardState>().projectExists).toBe(false);

    const again = await send(server, 'GET', `/?token=${encodeURIComponent(token)}`);
    expect(again.status).toBe(401);
    expect(again.headers['set-cookie']).toBeUndefined();
    // The browser it signed in may open the link again (a second tab): it goes in, with no new session.
    const sameBrowser = await send(server, 'GET', `/?token=${encodeURIComponent(token)}`, { headers: { cookie: session } });
    expect(sameBrowser.status).toBe(302);
    expect(sameBrowser.headers.location).toBe('/');
    expect(sameBrowser.headers['set-cookie']).toBeUndefined();
    // The page itself needs the session too.
    expect((await send(server, 'GET', '/')).status).toBe(401);
    expect((await send(server, 'GET', '/', { headers: { cookie: session } })).status).toBe(200);
  });

  it('answers 401 without a session or with a wrong one, 403 for a foreign Origin or Host, 415 for a non-JSON change', async () => {
    const { server, client } = await setup();
    const auth = { authorization: `Bearer ${client.session}` };
    const missing = await send(server, 'GET', '/api/state');
    expect(missing.status).toBe(401);
    expect(missing.json<{ error: { code: string } }>().error.code).toBe('UNAUTHORIZED');
    expect((await send(server, 'GET', '/api/state', { headers: { authorization: 'Bearer not-a-session' } })).status).toBe(401);
    expect((await send(server, 'GET', '/api/state', { headers: { cookie: 'ferry_session=forged' } })).status).toBe(401);
    expect((await send(server, 'GET', '/api/runs', { headers: auth })).status).toBe(200);

    const foreign = await send(server, 'POST', '/api/jobs', { headers: { ...auth, origin: 'https://evil.example' }, body: { kind: 'match' } });
    expect(foreign.status).toBe(403);
    expect((await send(server, 'GET', '/api/state', { headers: { ...auth, origin: 'http://127.0.0.1:1' } })).status).toBe(403);
    expect((await send(server, 'GET', '/api/state', { headers: { ...auth, origin: server.origin } })).status).toBe(200);
    expect((await send(server, 'GET', '/api/state', { headers: { ...auth, origin: `http://localhost:${server.port}` } })).status).toBe(200);

    // DNS rebinding: the right address under another name.
    expect((await send(server, 'GET', '/api/state', { headers: { ...auth, host: `evil.example:${server.port}` } })).status).toBe(403);
    expect((await send(server, 'GET', '/api/state', { headers: { ...auth, host: '127.0.0.1:1' } })).status).toBe(403);
    expect((await send(server, 'GET', '/api/state', { headers: { ...auth, host: `localhost:${server.port}` } })).status).toBe(200);

    // A cross-site form post cannot send JSON.
    const form = await send(server, 'POST', '/api/jobs', { headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' }, body: 'kind=match' });
    expect(form.status).toBe(415);
    const plain = await send(server, 'POST', '/api/job/pause', { headers: { ...auth, 'content-type': 'text/plain' }, body: '{}' });
    expect(plain.status).toBe(415);
  });

  it('sends the security headers, serves the page with an SPA fallback, and says how to build it when it is missing', async () => {
    const uiDir = mkdtempSync(join(tmpdir(), 'ferry-wizard-ui-'));
    cleanups.push(async () => rmSync(uiDir, { recursive: true, force: true }));
    writeFileSync(join(uiDir, 'index.html'), '<!doctype html><title>Ferry wizard</title><div id="root"></div><script type="module" src="/assets/app.js"></script>');
    mkdirSync(join(uiDir, 'assets'));
    writeFileSync(join(uiDir, 'assets', 'app.js'), 'console.log("ferry")');
    const { server, client } = await setup({ uiDir });
    const page = await client.call('GET', '/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.text).toContain('<div id="root">');
    expect(page.headers['content-security-policy']).toContain("default-src 'self'");
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    const script = await client.call('GET', '/assets/app.js');
    expect(script.headers['content-type']).toMatch(/^text\/javascript/);
    expect(script.text).toContain('ferry');
    expect((await client.call('GET', '/reports/3')).text).toContain('<div id="root">');
    expect((await client.call('GET', '/assets/missing.js')).status).toBe(404);
    expect((await client.call('GET', '/../../etc/passwd')).text).not.toContain('root:');
    expect((await client.call('GET', '/api/nothing-here')).status).toBe(404);
    const api = await client.call('GET', '/api/state');
    expect(api.headers['x-frame-options']).toBe('DENY');
    await server.close();

    const bare = await setup();
    const missing = await bare.client.call('GET', '/');
    expect(missing.status).toBe(200);
    expect(missing.text).toContain('npm run build');
  });
});

describe('the steps', () => {
  let context: Setup;
  let client: Client;

  beforeAll(async () => {
    context = await withDemoData(60);
    client = context.client;
    // The suite's cleanup runs after each test; this context lives for the whole describe.
    cleanups.pop();
  }, WAIT);
  afterAll(async () => {
    await context.server.close();
    rmSync(context.dir, { recursive: true, force: true });
  });

  it('demo data: both sides connected with their objects and counts, the mapping proposed into ferry.yaml', async () => {
    const state = await client.ok<WizardState>('GET', '/api/state');
    expect(state.projectExists).toBe(true);
    expect(state.projectError).toBeUndefined();
    expect(state.source).toMatchObject({ connector: 'sql', connected: true, settings: { dialect: 'sqlite', path: 'source.db' }, secretsSet: [] });
    expect(state.target).toMatchObject({ connector: 'sql', connected: true, settings: { dialect: 'sqlite', path: 'target.db' } });
    const contacts = state.source!.objects!.find((object) => object.name === 'contacts');
    expect(contacts?.count).toBe(60);
    expect(contacts!.fields).toBeGreaterThan(5);
    expect(state.target!.objects!.find((object) => object.name === 'contacts')?.count).toBeGreaterThan(0);
    expect(state.steps).toMatchObject({ connected: true, mapped: true, matched: false, demo: false, full: false, deltas: 0 });
    expect(state.connectors.map((connector) => connector.kind)).toEqual(['sql', 'csv', 'hubspot', 'pipedrive', 'salesforce']);
    expect(readFileSync(context.projectPath, 'utf8')).toContain('# Ferry demo project, written by `ferry serve`');

    // A second time refuses to write over the files.
    const again = await client.call('POST', '/api/demo-data', { contacts: 60 });
    expect(again.status).toBe(400);
    expect(again.json<{ error: { message: string } }>().error.message).toContain('already exist');

    const schemas = await client.ok<SchemasResponse>('GET', '/api/schemas');
    const targetContacts = schemas.target.find((object) => object.name === 'contacts')!;
    expect(targetContacts.fields.find((field) => field.name === 'company_id')).toMatchObject({ type: 'reference', references: 'companies' });
    expect(schemas.source.find((object) => object.name === 'contacts')?.count).toBe(60);

    const samples = await client.ok<SamplesResponse>('GET', '/api/samples?side=source&object=contacts&field=lifecycle_stage&limit=50');
    expect(samples.values.length).toBeGreaterThan(1);
    const targetSamples = await client.ok<SamplesResponse>('GET', '/api/samples?side=target&object=contacts&field=email&limit=3');
    expect(targetSamples.values).toHaveLength(3);
    expect((await client.call('GET', '/api/samples?side=source&object=contacts&field=nope')).status).toBe(404);
  });

  it('mapping: an edited field and a value map are saved to ferry.yaml with its comments; bad input is answered 400 naming object, field and value', async () => {
    const before = await client.ok<MappingResponse>('GET', '/api/mapping');
    const contacts = before.objects.find((object) => object.source === 'contacts')!;
    expect(contacts.target).toBe('contacts');
    expect(contacts.matchKeys.length).toBeGreaterThan(0);
    const schemas = await client.ok<SchemasResponse>('GET', '/api/schemas');
    const stageOptions = schemas.target.find((object) => object.name === 'contacts')!.fields.find((field) => field.name === 'lifecycle_stage')?.picklist;

    // Hand edits in the file survive the wizard's writes.
    const text = readFileSync(context.projectPath, 'utf8');
    writeFileSync(context.projectPath, text.replace('version: 1', '# kept by the wizard\nversion: 1'));

    const edited: ObjectMappingView = structuredClone(contacts);
    // The job title goes into the last name (a changed target field)...
    const jobtitle = edited.fields.find((field) => field.target === 'jobtitle')!;
    expect(jobtitle).toBeDefined();
    edited.fields = edited.fields.filter((field) => field.target !== 'lastname');
    jobtitle.target = 'lastname';
    // ... and the stages get a value map of our own.
    const stage = edited.fields.find((field) => field.target === 'lifecycle_stage');
    const firstOption = stageOptions?.[0]?.value ?? 'lead';
    const sourceStages = await client.ok<SamplesResponse>('GET', '/api/samples?side=source&object=contacts&field=lifecycle_stage&limit=50');
    const values = Object.fromEntries(sourceStages.values.map((value) => [value, firstOption]));
    if (stage) stage.transform = { kind: 'map', values, unmapped: 'keep' };
    else edited.fields.push({ source: ['lifecycle_stage'], target: 'lifecycle_stage', transform: { kind: 'map', values, unmapped: 'keep' } });
    edited.matched = 'update';

    const saved = await client.ok<MappingResponse>('PUT', '/api/mapping/objects/contacts', edited);
    const after = saved.objects.find((object) => object.source === 'contacts')!;
    expect(after.matched).toBe('update');
    expect(after.fields.find((field) => field.source[0] === 'job_title')?.target).toBe('lastname');
    expect(after.fields.find((field) => field.target === 'lifecycle_stage')?.transform).toMatchObject({ kind: 'map', unmapped: 'keep' });
    const file = readFileSync(context.projectPath, 'utf8');
    expect(file).toContain('# kept by the wizard');
    expect(file).toContain('# Ferry demo project');
    expect(file).toMatch(/source: job_title\s+target: lastname/);
    expect(file).toContain('matched: update');
    expect(file).toContain(`${sourceStages.values[0]}: ${firstOption}`);
    expect((await client.ok<MappingResponse>('GET', '/api/mapping')).objects.find((object) => object.source === 'contacts')?.matched).toBe('update');

    // An unknown target field: 400 naming the object and the field; the file is untouched.
    const unknownField = structuredClone(after);
    unknownField.fields.push({ source: ['email'], target: 'no_such_field', transform: { kind: 'copy' } });
    const bad = await client.call('PUT', '/api/mapping/objects/contacts', unknownField);
    expect(bad.status).toBe(400);
    const badError = bad.json<{ error: { code: string; message: string; details: { object: string; problems: { field?: string }[] } } }>().error;
    expect(badError.code).toBe('MAPPING_INVALID');
    expect(badError.details.object).toBe('contacts');
    expect(badError.details.problems.some((problem) => problem.field === 'no_such_field')).toBe(true);
    expect(badError.message).toContain('contacts.no_such_field');
    expect(readFileSync(context.projectPath, 'utf8')).toBe(file);

    // A value map into a value the target's picklist does not have: named in the answer.
    const dealstage = schemas.target.find((object) => object.name === 'deals')!.fields.find((field) => field.name === 'dealstage')!;
    expect(dealstage.picklist?.length).toBeGreaterThan(0);
    const deals = structuredClone(before.objects.find((object) => object.source === 'deals')!);
    const stageMap = deals.fields.find((field) => field.target === 'dealstage')!;
    expect(stageMap.transform.kind).toBe('map');
    const [firstStage] = Object.keys((stageMap.transform as { values: Record<string, unknown> }).values);
    stageMap.transform = { kind: 'map', values: { ...(stageMap.transform as { values: Record<string, string> }).values, [firstStage!]: 'not-a-stage' }, unmapped: 'fail' };
    const badValue = await client.call('PUT', '/api/mapping/objects/deals', deals);
    expect(badValue.status).toBe(400);
    const valueError = badValue.json<{ error: { message: string; details: { object: string; problems: { field?: string; message: string }[] } } }>().error;
    expect(valueError.details.object).toBe('deals');
    expect(valueError.details.problems[0]).toMatchObject({ field: 'dealstage' });
    expect(valueError.message).toContain('not-a-stage');
    expect(readFileSync(context.projectPath, 'utf8')).toBe(file);

    // Malformed input: the path of the bad part.
    const malformed = structuredClone(after) as unknown as { fields: { transform: { kind: string } }[] };
    malformed.fields[0]!.transform = { kind: 'uppercase' };
    const shape = await client.call('PUT', '/api/mapping/objects/contacts', malformed);
    expect(shape.status).toBe(400);
    expect(shape.json<{ error: { message: string; details: { object: string } } }>().error.details.object).toBe('contacts');
    expect(shape.text).toContain('fields[0');
    expect((await client.call('PUT', '/api/mapping/objects/deals', after)).status).toBe(400);
    expect(readFileSync(context.projectPath, 'utf8')).toBe(file);
    // A key the page does not edit goes through to ferry.yaml's own parser, which refuses one it does not know.
    const extra = structuredClone(after) as unknown as { fields: Record<string, unknown>[] };
    extra.fields[0]!.colour = 'blue';
    const unknownKey = await client.call('PUT', '/api/mapping/objects/contacts', extra);
    expect(unknownKey.status).toBe(400);
    expect(unknownKey.json<{ error: { code: string; message: string } }>().error).toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringMatching(/not saved.*colour/) });
    expect(readFileSync(context.projectPath, 'utf8')).toBe(file);
  });

  it('match, demo (with the side-by-side sample and its undo), full (dry run first), delta, retry and verify jobs', async () => {
    // ---- match
    const match = await client.job({ kind: 'match' });
    expect(match.status).toBe('finished');
    expect(match.result?.status).toBe('completed');
    expect(total(match.result?.counts, 'matched')).toBeGreaterThan(0);
    const matched = await client.ok<MatchResponse>('GET', '/api/match');
    const contacts = matched.objects.find((object) => object.object === 'contacts')!;
    expect(contacts.matched).toBeGreaterThan(0);
    expect(contacts.ambiguous + contacts.duplicates).toBeGreaterThan(0);
    expect(matched.issues.length).toBe(matched.objects.reduce((sum, object) => sum + object.ambiguous + object.duplicates, 0));
    expect(matched.issues[0]).toHaveProperty('candidates');

    // ---- demo sample, compared side by side, then undone
    const demo = await client.job({ kind: 'demo', sampleSize: 3 });
    expect(demo.status).toBe('finished');
    const demoRun = demo.result!.runId;
    expect(total(demo.result?.counts, 'created') + total(demo.result?.counts, 'updated')).toBeGreaterThan(0);
    const sample = await client.ok<RunSampleResponse>('GET', `/api/runs/${demoRun}/sample`);
    expect(sample.runId).toBe(demoRun);
    const sampledContacts = sample.objects.find((object) => object.object === 'contacts')!;
    expect(sampledContacts.targetObject).toBe('contacts');
    expect(sampledContacts.records.length).toBeGreaterThan(0);
    const record = sampledContacts.records.find((entry) => entry.targetId !== null)!;
    const email = record.fields.find((field) => field.target === 'email')!;
    // The same address, as e-mails compare (case and surrounding spaces aside): a record someone typed with
    // spaces keeps them, since Ferry does not rewrite an address that is already the source's.
    expect(String(email.targetValue ?? '').trim().toLowerCase()).toBe(String(email.sourceValue ?? '').trim().toLowerCase());
    expect(record.fields.find((field) => field.source === 'job_title')?.target).toBe('lastname');
    let state = await client.ok<WizardState>('GET', '/api/state');
    expect(state.steps).toMatchObject({ matched: true, demo: true, full: false });

    const undo = await client.job({ kind: 'undo', runId: demoRun });
    expect(undo.status).toBe('finished');
    expect(total(undo.result?.counts, 'deleted')).toBe(total(demo.result?.counts, 'created'));
    const undoneDemo = await client.ok<RunDetailResponse>('GET', `/api/runs/${demoRun}`);
    expect(undoneDemo.run.undoneByRunId).toBe(undo.result!.runId);
    expect(undoneDemo.undo).toMatchObject({ possible: false });
    state = await client.ok<WizardState>('GET', '/api/state');
    expect(state.steps.demo).toBe(false);

    // ---- full: the forecast first, then the run
    const dry = await client.job({ kind: 'full', dryRun: true });
    expect(dry.status).toBe('finished');
    expect(dry.result).toMatchObject({ dryRun: true });
    expect(dry.result!.estimate!.apiCalls).toBeGreaterThan(0);
    const toCreate = total(dry.result!.counts, 'created');
    expect(toCreate).toBeGreaterThan(0);
    const full = await client.job({ kind: 'full' });
    expect(full.status).toBe('finished');
    expect(total(full.result!.counts, 'created')).toBe(toCreate);
    expect(full.objects.every((object) => object.finished)).toBe(true);
    expect(full.objects.find((object) => object.object === 'contacts')).toMatchObject({ processed: 60, total: 60 });
    const fullRun = full.result!.runId;
    const failed = total(full.result!.counts, 'failed');

    const detail = await client.ok<RunDetailResponse>('GET', `/api/runs/${fullRun}`);
    expect(detail.run.kind).toBe('full');
    expect(detail.failures.filter((failure) => failure.severity === 'error')).toHaveLength(failed);
    expect(Object.values(detail.failuresByCode ?? {}).reduce((sum, count) => sum + count, 0)).toBe(failed);
    expect(detail.undo).toEqual({ possible: true });
    expect(detail.retry.openFailures).toBeGreaterThanOrEqual(failed);

    // ---- reports, as downloads
    const csv = await client.call('GET', `/api/runs/${fullRun}/report.csv`);
    expect(csv.status).toBe(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect(csv.headers['content-disposition']).toBe(`attachment; filename="ferry-run-${fullRun}.csv"`);
    expect(csv.text.split('\n')[0]).toContain('kind');
    if (failed > 0) expect(csv.text).toContain('failure');
    const html = await client.call('GET', `/api/runs/${fullRun}/report.html`);
    expect(html.headers['content-type']).toMatch(/^text\/html/);
    expect(html.headers['content-disposition']).toContain('.html');
    expect(html.text).toMatch(/^<!doctype html>/i);
    expect(html.text).toContain('contacts');
    const json = await client.call('GET', `/api/runs/${fullRun}/report.json`);
    expect(json.headers['content-type']).toMatch(/^application\/json/);
    expect(json.json<{ run: { id: number } }>().run.id).toBe(fullRun);
    expect((await client.call('GET', '/api/runs/999/report.csv')).status).toBe(404);

    // ---- delta after time passed: new and changed source records
    const changes = await applySourceChanges(join(context.dir, 'source.db'), { seed: SEED, newRecords: 4, changedRecords: 6, at: new Date(Date.now() + 60_000).toISOString() });
    const newContacts = changes.created.contacts?.length ?? 0;
    const deltaDry = await client.job({ kind: 'delta', createNew: true, updateChanged: true, dryRun: true });
    expect(deltaDry.status).toBe('finished');
    expect(deltaDry.result?.estimate).toBeDefined();
    const delta = await client.job({ kind: 'delta', createNew: true, updateChanged: true, onConflict: 'source-wins' });
    expect(delta.status).toBe('finished');
    expect(delta.result!.counts.contacts!.created).toBe(deltaDry.result!.counts.contacts!.created);
    expect(delta.result!.counts.contacts!.created).toBeLessThanOrEqual(newContacts);
    expect(total(delta.result!.counts, 'created') + total(delta.result!.counts, 'updated')).toBeGreaterThan(0);
    const onlyNew = await client.job({ kind: 'delta', createNew: true });
    expect(onlyNew.status).toBe('finished');
    expect(total(onlyNew.result!.counts, 'created')).toBe(0);
    state = await client.ok<WizardState>('GET', '/api/state');
    expect(state.steps).toMatchObject({ full: true, deltas: 2 });
    const runs = await client.ok<RunsResponse>('GET', '/api/runs');
    expect(runs.runs[0]!.id).toBe(onlyNew.result!.runId);
    expect(runs.runs.filter((run) => run.kind === 'delta' && !run.dryRun)).toHaveLength(2);

    // ---- retry the full run's failed records, verify
    const retry = await client.job({ kind: 'retry', runId: fullRun });
    expect(retry.status).toBe('finished');
    expect(retry.result!.runId).toBeGreaterThan(onlyNew.result!.runId);
    expect(total(retry.result!.counts, 'read')).toBeLessThanOrEqual(detail.retry.openFailures);
    const verify = await client.job({ kind: 'verify' });
    expect(verify.status).toBe('finished');
    expect(verify.verify?.objects.contacts?.checked).toBeGreaterThan(0);

    // ---- bad requests
    expect((await client.call('POST', '/api/jobs', { kind: 'delta' })).status).toBe(400);
    expect((await client.call('POST', '/api/jobs', { kind: 'undo' })).status).toBe(400);
    expect((await client.call('POST', '/api/jobs', { kind: 'launch' })).status).toBe(400);
    const undoFull = await client.job({ kind: 'undo', runId: fullRun });
    expect(undoFull.status).toBe('failed');
    expect(undoFull.error?.code).toBe('USAGE');
    expect(undoFull.error?.message).toContain('undo them first');
  }, WAIT);
});

describe('time passing on the demo data', () => {
  it('new, changed and edited records (some edited on both sides), which the next delta brings over with its conflicts', async () => {
    const { client } = await withDemoData(80);
    const state = await client.ok<WizardState>('GET', '/api/state');
    expect(state.demo).toEqual({ seed: SEED, size: 80 });
    const full = await client.job({ kind: 'full' });
    expect(full.status).toBe('finished');
    const passed = await client.ok<DemoChangesResponse>('POST', '/api/demo-data/changes', {});
    expect(Object.values(passed.created).reduce((sum, count) => sum + count, 0)).toBeGreaterThan(0);
    expect(Object.values(passed.changed).reduce((sum, count) => sum + count, 0)).toBeGreaterThan(0);
    expect(passed.targetEdits).toBeGreaterThan(0);
    expect(passed.conflictingEdits).toBeGreaterThan(0);
    const delta = await client.job({ kind: 'delta', createNew: true, updateChanged: true, onConflict: 'target-wins' });
    expect(delta.status).toBe('finished');
    expect(total(delta.result!.counts, 'created')).toBeGreaterThan(0);
    expect(total(delta.result!.counts, 'updated')).toBeGreaterThan(0);
    expect(total(delta.result!.counts, 'conflicts')).toBeGreaterThanOrEqual(passed.conflictingEdits);
    const detail = await client.ok<RunDetailResponse>('GET', `/api/runs/${delta.result!.runId}`);
    expect(detail.conflicts.length).toBeGreaterThanOrEqual(passed.conflictingEdits);
    expect(detail.conflicts.some((conflict) => String(conflict.targetValue).startsWith('Edited in the new CRM'))).toBe(true);
  }, WAIT);

  it('is refused for a project that is not the demo data', async () => {
    const { client, projectPath } = await withDemoData(20);
    writeFileSync(projectPath, readFileSync(projectPath, 'utf8').replace(/^# Ferry demo project.*$/m, '# my own project'));
    const reply = await client.call('POST', '/api/demo-data/changes', {});
    expect(reply.status).toBe(409);
    expect(reply.json<{ error: { message: string } }>().error.message).toContain('not the demo data');
    expect((await client.ok<WizardState>('GET', '/api/state')).demo).toBeUndefined();
  }, WAIT);
});

describe('a fresh mapping proposal', () => {
  it('drops every object mapping (edits included) and proposes again from both schemas; keeps the connections', async () => {
    const { client, projectPath } = await withDemoData(20);
    const before = await client.ok<MappingResponse>('GET', '/api/mapping');
    const contacts = before.objects.find((object) => object.source === 'contacts')!;
    // An edit that "propose again" keeps and a fresh proposal drops: matched contacts are left alone.
    expect(contacts.matched).not.toBe('skip');
    await client.ok<MappingResponse>('PUT', '/api/mapping/objects/contacts', { ...contacts, matched: 'skip' });
    const kept = await client.ok<MappingResponse>('POST', '/api/mapping/propose', {});
    expect(kept.objects.find((object) => object.source === 'contacts')!.matched).toBe('skip');
    const fresh = await client.ok<MappingResponse>('POST', '/api/mapping/propose', { fresh: true });
    expect(fresh.objects.map((object) => object.source).sort()).toEqual(before.objects.map((object) => object.source).sort());
    expect(fresh.objects.find((object) => object.source === 'contacts')).toEqual(contacts);
    expect(fresh.problems.errors).toEqual([]);
    const yaml = readFileSync(projectPath, 'utf8');
    expect(yaml).toMatch(/^# Ferry demo project/); // the header (and so the demo data) is kept
    expect(yaml).toContain('path: source.db');
    expect(yaml).toContain('path: target.db');
    const wrong = await client.call('POST', '/api/mapping/propose', { fresh: 'yes' });
    expect(wrong.status).toBe(400);
    expect(wrong.text).toContain('fresh must be true or false');
  }, WAIT);
});

describe('jobs in the background', () => {
  it('pauses a full migration and resumes it to the same target as an uninterrupted run', async () => {
    const paused = await withDemoData(200);
    const straight = await withDemoData(200);
    for (const context of [paused, straight]) {
      writeFileSync(context.projectPath, `${readFileSync(context.projectPath, 'utf8')}\noptions:\n  pageSize: 10\n`);
    }

    const started = await paused.client.ok<JobView>('POST', '/api/jobs', { kind: 'full' });
    const pausing = await paused.client.ok<JobView>('POST', '/api/job/pause', {});
    expect(['pausing', 'paused']).toContain(pausing.status);
    const stopped = await paused.client.waitForJob(started.id);
    expect(stopped.status).toBe('paused');
    expect(stopped.error).toBeUndefined();
    const runId = stopped.runId!;
    const state = await paused.client.ok<WizardState>('GET', '/api/state');
    expect(state.unfinishedRun).toMatchObject({ id: runId, kind: 'full', status: 'interrupted' });
    expect(state.job?.status).toBe('paused');
    // While paused, another kind of run is refused by the engine, cleanly.
    const other = await paused.client.job({ kind: 'match' });
    expect(other.status).toBe('failed');
    expect(other.error?.code).toBe('RUN_UNFINISHED');
    expect((await paused.client.call('POST', '/api/job/resume', {})).status).toBe(409);

    // Resume = the same request again: a full job resumes the interrupted run.
    const resumed = await paused.client.job({ kind: 'full' });
    expect(resumed.status).toBe('finished');
    expect(resumed.result!.runId).toBe(runId);
    expect(resumed.result!.messages.join(' ')).toContain(`Resumed run ${runId}`);

    const uninterrupted = await straight.client.job({ kind: 'full' });
    expect(uninterrupted.status).toBe('finished');
    expect(resumed.result!.counts).toEqual(uninterrupted.result!.counts);
    expect(targetRows(paused.dir)).toEqual(targetRows(straight.dir));
  }, WAIT);

  it('POST /api/job/resume resumes the paused job itself; a second job meanwhile is refused with 409', async () => {
    const context = await withDemoData(200);
    writeFileSync(context.projectPath, `${readFileSync(context.projectPath, 'utf8')}\noptions:\n  pageSize: 10\n`);
    const started = await context.client.ok<JobView>('POST', '/api/jobs', { kind: 'full' });
    const busy = await context.client.call('POST', '/api/jobs', { kind: 'match' });
    expect(busy.status).toBe(409);
    expect(busy.json<{ error: { code: string } }>().error.code).toBe('JOB_RUNNING');
    await context.client.ok('POST', '/api/job/pause', {});
    expect((await context.client.waitForJob(started.id)).status).toBe('paused');
    const resumed = await context.client.ok<JobView>('POST', '/api/job/resume', {});
    expect(resumed).toMatchObject({ id: started.id, status: 'running' });
    const done = await context.client.waitForJob(started.id);
    expect(done.status).toBe('finished');
    expect(done.result?.counts.contacts?.read).toBe(200);
  }, WAIT);

  it('counts the files a run copies (files, bytes) in its progress, its result, its run page and its verify', async () => {
    const context = await setup();
    const source = new Database(join(context.dir, 'source.db'));
    source.exec('CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); CREATE TABLE note_files (id INTEGER PRIMARY KEY, note_id INTEGER, file_name TEXT, data BLOB);');
    for (const id of [1, 2]) source.prepare('INSERT INTO notes (id, body) VALUES (?, ?)').run(id, `Note ${id}`);
    source.prepare('INSERT INTO note_files (id, note_id, file_name, data) VALUES (?, ?, ?, ?)').run(10, 1, 'a.pdf', Buffer.alloc(3000, 1));
    source.prepare('INSERT INTO note_files (id, note_id, file_name, data) VALUES (?, ?, ?, ?)').run(11, 2, 'b.txt', Buffer.alloc(500, 2));
    source.close();
    const target = new Database(join(context.dir, 'target.db'));
    target.exec('CREATE TABLE notes (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT); CREATE TABLE stored_files (id INTEGER PRIMARY KEY AUTOINCREMENT, note_id INTEGER, name TEXT, data BLOB);');
    target.close();
    writeFileSync(
      context.projectPath,
      serialiseProjectFile({
        version: 1,
        source: { connector: 'sql', dialect: 'sqlite', path: 'source.db', files: { notes: { table: 'note_files', record: 'note_id', name: 'file_name', content: 'data' } } },
        target: { connector: 'sql', dialect: 'sqlite', path: 'target.db', files: { notes: { table: 'stored_files', record: 'note_id', name: 'name', content: 'data' } } },
        sourceTimeZone: 'UTC',
        options: { demoSampleSize: 3, pageSize: 100 },
        objects: [objectMapping({ source: 'notes', target: 'notes', fields: [copyField('body', 'body')] })],
      }),
    );
    const full = await context.client.job({ kind: 'full' });
    expect(full.status, JSON.stringify(full.error)).toBe('finished');
    expect(full.result!.counts.notes).toMatchObject({ created: 2, files: 2, fileBytes: 3500 });
    // The progress per object (what the page shows while it runs) carries them too.
    expect(full.objects.find((object) => object.object === 'notes')?.counts).toMatchObject({ files: 2, fileBytes: 3500 });
    const detail = await context.client.ok<RunDetailResponse>('GET', `/api/runs/${full.result!.runId}`);
    expect(detail.run.counts.notes).toMatchObject({ files: 2, fileBytes: 3500 });
    const verify = await context.client.job({ kind: 'verify' });
    expect(verify.verify?.objects.notes).toMatchObject({ filesChecked: 2, filesMissing: 0, filesUnattached: 0, filesMismatched: 0 });
  }, WAIT);

  it('shows a run the CLI holds the ledger for as a clean LEDGER_LOCKED error', async () => {
    const context = await withDemoData(30);
    const ledger = await Ledger.open(join(context.dir, '.ferry', 'state.db'));
    const lock = await ledger.acquireLock('run `ferry migrate`');
    try {
      const refused = await context.client.job({ kind: 'full' });
      expect(refused.status).toBe('failed');
      expect(refused.error?.code).toBe('LEDGER_LOCKED');
      expect(refused.error?.message).toContain('is in use by');
    } finally {
      await lock.release();
      await ledger.close();
    }
    const full = await context.client.job({ kind: 'full' });
    expect(full.status).toBe('finished');
    const state = await context.client.ok<WizardState>('GET', '/api/state');
    // Counts are read afresh after a run.
    expect(state.target!.objects!.find((object) => object.name === 'contacts')!.count).toBeGreaterThan(30);
  }, WAIT);

  it('streams the job and the engine progress as server-sent events', async () => {
    const context = await withDemoData(60);
    const events: { event: string; data: unknown }[] = [];
    let finished!: () => void;
    const done = new Promise<void>((resolve) => (finished = resolve));
    const stream = httpRequest({
      host: '127.0.0.1',
      port: context.server.port,
      path: '/api/events',
      headers: { authorization: `Bearer ${context.client.session}`, accept: 'text/event-stream' },
    });
    const opened = new Promise<Record<string, string | string[] | undefined>>((resolve, reject) => {
      stream.on('response', (res) => {
        resolve(res.headers);
        let buffer = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffer += chunk;
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const event = /^event: (.*)$/m.exec(block)?.[1];
            const data = /^data: (.*)$/m.exec(block)?.[1];
            if (!event || data === undefined) continue;
            const parsed = JSON.parse(data) as { status?: string };
            events.push({ event, data: parsed });
            if (event === 'job' && ['finished', 'failed', 'paused'].includes(parsed.status ?? '')) finished();
          }
        });
      });
      stream.on('error', reject);
    });
    stream.end();
    const headers = await opened;
    expect(headers['content-type']).toMatch(/^text\/event-stream/);
    await context.client.ok('POST', '/api/jobs', { kind: 'full' });
    await done;
    stream.destroy();
    const progress = events.filter((event) => event.event === 'progress').map((event) => event.data as { type: string; object?: string });
    expect(progress[0]?.type).toBe('run-started');
    expect(progress.some((event) => event.type === 'object-progress' && event.object === 'contacts')).toBe(true);
    expect(progress.at(-1)?.type).toBe('run-finished');
    const jobs = events.filter((event) => event.event === 'job').map((event) => event.data as JobView);
    expect(jobs.at(-1)?.status).toBe('finished');
    expect(jobs[0]?.status).toBe('running');
    expect(jobs.at(-1)?.result?.counts.contacts?.read).toBe(60);

    // A client that connects later gets the job at once.
    const late = await new Promise<string>((resolve) => {
      const again = httpRequest({ host: '127.0.0.1', port: context.server.port, path: '/api/events', headers: { authorization: `Bearer ${context.client.session}` } }, (res) => {
        res.setEncoding('utf8');
        res.once('data', (chunk: string) => {
          resolve(chunk);
          again.destroy();
        });
      });
      again.end();
    });
    expect(late).toContain('event: job');
    expect(late).toContain('"status":"finished"');
  }, WAIT);
});

describe('connect and secrets', () => {
  let hubspot: HubspotEmulator;
  beforeAll(async () => {
    hubspot = await startHubspotEmulator({ seed: 'sample', token: 'emulator-secret-token-1234', burstLimit: { requests: 10_000, intervalMs: 10_000 }, searchPerSecond: 1000 });
  });
  afterAll(async () => {
    await hubspot.close();
  });

  it('connects both sides before ferry.yaml exists, keeps the token in a 0600 secrets file, and never sends it back', async () => {
    const context = await setup();
    const { client } = context;
    await writeSampleSqlite(join(context.dir, 'legacy.db'), { seed: SEED, size: 20 });

    const test = await client.ok<ConnectResponse>('POST', '/api/connect', { side: 'source', connector: 'sql', settings: { dialect: 'sqlite', path: 'legacy.db' }, testOnly: true });
    expect(test).toMatchObject({ connected: true });
    expect(test.objects?.find((object) => object.name === 'contacts')?.count).toBe(20);
    let state = await client.ok<WizardState>('GET', '/api/state');
    expect(state.source).toBeUndefined();

    const source = await client.ok<ConnectResponse>('POST', '/api/connect', { side: 'source', connector: 'sql', settings: { dialect: 'sqlite', path: 'legacy.db' } });
    expect(source.connected).toBe(true);
    state = await client.ok<WizardState>('GET', '/api/state');
    expect(state.projectExists).toBe(false);
    expect(state.source).toMatchObject({ connector: 'sql', connected: true });

    // A wrong token: not connected, an error without the token, nothing saved.
    const wrong = await client.call('POST', '/api/connect', {
      side: 'target',
      connector: 'hubspot',
      settings: { baseUrl: hubspot.url },
      secrets: { accessToken: 'wrong-token-abcdefgh' },
    });
    expect(wrong.status).toBe(200);
    expect(wrong.json<ConnectResponse>()).toMatchObject({ connected: false, error: { code: 'AUTH_FAILED' } });
    expect(wrong.text).not.toContain('wrong-token-abcdefgh');
    expect(statSync(context.dir).isDirectory()).toBe(true);
    expect(() => statSync(join(context.dir, '.ferry', 'secrets.env'))).toThrow();

    const target = await client.call('POST', '/api/connect', {
      side: 'target',
      connector: 'hubspot',
      settings: { baseUrl: hubspot.url, burstLimit: 1000 },
      secrets: { accessToken: hubspot.token },
    });
    expect(target.status).toBe(200);
    expect(target.json<ConnectResponse>()).toMatchObject({ connected: true, connector: 'hubspot', secretsSet: ['accessToken'], settings: { baseUrl: hubspot.url } });
    expect(target.text).not.toContain(hubspot.token);

    const secretsFile = join(context.dir, '.ferry', 'secrets.env');
    expect(statSync(secretsFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(secretsFile, 'utf8')).toContain(`FERRY_TARGET_ACCESS_TOKEN=${hubspot.token}`);
    const yaml = readFileSync(context.projectPath, 'utf8');
    expect(yaml).toContain('accessToken: ${FERRY_TARGET_ACCESS_TOKEN}');
    expect(yaml).not.toContain(hubspot.token);
    expect(yaml).toContain('path: legacy.db');

    state = await client.ok<WizardState>('GET', '/api/state');
    expect(state.projectExists).toBe(true);
    expect(state.target).toMatchObject({ connector: 'hubspot', connected: true, secretsSet: ['accessToken'] });
    expect(state.steps.connected).toBe(true);
    expect(state.secretsFile).toBe(secretsFile);
    const everything = [
      JSON.stringify(state),
      (await client.call('POST', '/api/mapping/propose', {})).text,
      (await client.call('GET', '/api/schemas')).text,
      (await client.call('GET', '/api/runs')).text,
    ].join('\n');
    expect(everything).not.toContain(hubspot.token);

    // Connecting again without a token keeps the stored one.
    const kept = await client.ok<ConnectResponse>('POST', '/api/connect', { side: 'target', connector: 'hubspot', settings: { baseUrl: hubspot.url } });
    expect(kept).toMatchObject({ connected: true, secretsSet: ['accessToken'] });

    // A secret in `settings` is refused: it would land in ferry.yaml.
    const leaked = await client.call('POST', '/api/connect', { side: 'target', connector: 'hubspot', settings: { baseUrl: hubspot.url, accessToken: 'in-settings-123456' } });
    expect(leaked.status).toBe(400);
    expect(leaked.text).not.toContain('in-settings-123456');

    // A secrets file others can read is refused, with the fix in the message.
    chmodSync(secretsFile, 0o644);
    state = await client.ok<WizardState>('GET', '/api/state');
    expect(state.projectError).toContain('chmod 600');
    expect(JSON.stringify(state)).not.toContain(hubspot.token);
    chmodSync(secretsFile, 0o600);
    expect((await client.ok<WizardState>('GET', '/api/state')).projectError).toBeUndefined();
  }, WAIT);

  it('keeps any secret value intact in the secrets file (plain, quoted, with quotes and newlines)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-wizard-secrets-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const values = { A: 'postgres://u:p%40ss@h:5432/db', B: 'with space & $dollar', C: `it's "quoted"\nand two lines`, D: '=x#y' };
    await writeSecrets(dir, values);
    expect(statSync(join(dir, '.ferry', 'secrets.env')).mode & 0o777).toBe(0o600);
    expect(await readSecrets(dir)).toEqual(values);
    await writeSecrets(dir, { B: '' });
    expect(Object.keys(await readSecrets(dir)).sort()).toEqual(['A', 'C', 'D']);
  });

  it('works with no ferry.yaml: an empty state, no runs, and jobs refused until a project exists', async () => {
    const { client } = await setup();
    const state = await client.ok<WizardState>('GET', '/api/state');
    expect(state).toMatchObject({ projectExists: false, steps: { connected: false, mapped: false } });
    expect(state.connectors.find((connector) => connector.kind === 'hubspot')?.settings.find((setting) => setting.name === 'accessToken')?.secret).toBe(true);
    expect((await client.ok<RunsResponse>('GET', '/api/runs')).runs).toEqual([]);
    expect((await client.call('GET', '/api/job')).status).toBe(204);
    const job = await client.call('POST', '/api/jobs', { kind: 'full' });
    expect(job.status).toBe(409);
    expect(job.json<{ error: { code: string } }>().error.code).toBe('CONFIG_MISSING');
    expect((await client.call('GET', '/api/mapping')).status).toBe(409);
  });
});
