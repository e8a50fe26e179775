import { join, resolve } from 'node:path';
import { Hono, type Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import { CONNECTOR_KINDS } from '../../connectors/registry.js';
import { CONNECTOR_SPECS } from '../../connectors/specs.js';
import { FerryError } from '../../core/errors.js';
import type { SchemaDescription } from '../../core/schema.js';
import type { Ledger, Run } from '../../ledger/index.js';
import type { ConnectionConfig, ProjectFile } from '../../project/types.js';
import type {
  ConnectRequest,
  ConnectResponse,
  CsvInspectRequest,
  CsvObjectSettings,
  ProjectSourceSettings,
  ConnectorSpec,
  ConnectorSettingSpec,
  DemoChangesResponse,
  MatchResponse,
  ProposeMappingRequest,
  RunDetailResponse,
  RunPartsResponse,
  RunSampleResponse,
  RerunPreviewResponse,
  RecordChoicesResponse,
  RunsResponse,
  SyncCycleView,
  SyncResponse,
  SampleComparison,
  SamplesResponse,
  SideSummary,
  WizardState,
} from '../api.js';
import { apiError, errorView, HttpError, type Scrubber } from './errors.js';
import { validateJobRequest, type JobListener, type JobManager } from './jobs.js';
import { mappingResponse, objectViews, parseObjectMappingView } from './mapping-view.js';
import type { Side, WizardProject } from './project.js';
import { secretsPath, secretVariable, writeSecrets } from '../../project/secrets-file.js';
import { ledgerKeys } from '../../project/routing.js';
import { SESSION_COOKIE, type Access } from './security.js';
import { serveStatic } from './static.js';
import { buildCsvSource, cleanCsvObjects, inspectCsvFolder } from './csv-form.js';
import { choiceFrom, deleteSetting, hasSetting, setSetting, settingAt } from './settings-form.js';

export interface AppDeps {
  project: WizardProject;
  jobs: JobManager;
  access: Access;
  scrub: Scrubber;
  uiDir: string;
}

const SIDES: Side[] = ['source', 'target'];
const ENV_REF = /\$(\$?)\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

async function jsonBody(c: Context): Promise<unknown> {
  try {
    return await c.req.json();
  } catch {
    throw new HttpError(400, 'USAGE', 'The body is not valid JSON.');
  }
}

/** The objects of a connected side as the Connect step lists them. */
function objectSummaries(schema: SchemaDescription): NonNullable<SideSummary['objects']> {
  return schema.objects.map((object) => ({
    name: object.name,
    ...(object.label !== undefined ? { label: object.label } : {}),
    fields: object.fields.length,
    ...(object.count !== undefined ? { count: object.count } : {}),
  }));
}

function runIdParam(c: Context): number {
  const raw = c.req.param('id') ?? '';
  if (!/^\d+$/.test(raw)) throw new HttpError(400, 'USAGE', `Run id must be a positive whole number, got "${raw}".`);
  return Number(raw);
}

function specOf(kind: string): ConnectorSpec | undefined {
  return CONNECTOR_SPECS.find((spec) => spec.kind === kind);
}

/** Substitutes ${VAR} in a side's settings (the same substitution ferry.yaml gets). */
function resolveConfig(raw: Record<string, unknown>, env: NodeJS.ProcessEnv, side: Side): ConnectionConfig {
  const resolve = (value: unknown, key: string): unknown => {
    if (typeof value === 'string') {
      return value.replace(ENV_REF, (_whole, escape: string, name: string) => {
        if (escape) return `\${${name}}`;
        const found = env[name];
        if (found === undefined) throw new HttpError(400, 'CONFIG_INVALID', `${side}.${key}: environment variable ${name} is not set (nor in the secrets file).`, { field: key });
        return found;
      });
    }
    if (Array.isArray(value)) return value.map((item) => resolve(item, key));
    if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([inner, item]) => [inner, resolve(item, `${key}.${inner}`)]));
    return value;
  };
  return Object.fromEntries(Object.entries(raw).map(([key, value]) => [key, resolve(value, key)])) as ConnectionConfig;
}

/**
 * Settings shown to the page: scalar, not secret (secret ones are named in `secretsSet` when they have a value),
 * by the form's names (`oauth.clientId` for a nested key), with a form-only choice read back from the settings
 * it governs (HubSpot's `auth` is `oauth` when there is an oauth block).
 */
function sideSettings(raw: Record<string, unknown>, resolved: ConnectionConfig): Pick<SideSummary, 'settings' | 'secretsSet'> {
  const spec = specOf(String(raw.connector));
  const specSettings = spec?.settings ?? [];
  const secretNames = new Set(specSettings.filter((setting) => setting.secret).map((setting) => setting.name));
  const settings: SideSummary['settings'] = {};
  const secretsSet: string[] = [];
  const scalar = (value: unknown): value is string | number | boolean => typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
  for (const choice of specSettings.filter((setting) => setting.formOnly)) {
    const governed = specSettings.filter((setting) => setting.when?.setting === choice.name);
    if (spec && governed.some((setting) => hasSetting(raw, setting.name))) settings[choice.name] = choiceFrom(spec, choice, (name) => hasSetting(raw, name))!;
  }
  for (const [key, value] of Object.entries(raw)) {
    if (key === 'connector') continue;
    // A block the form edits key by key (oauth): its keys by their dotted names, secret as the spec says.
    const nested = specSettings.filter((setting) => setting.name.startsWith(`${key}.`));
    if (nested.length > 0) {
      for (const setting of nested) {
        const inner = settingAt(raw, setting.name);
        if (inner === undefined) continue;
        if (setting.secret) {
          if (hasSetting(resolved as unknown as Record<string, unknown>, setting.name)) secretsSet.push(setting.name);
        } else if (scalar(inner)) settings[setting.name] = inner;
      }
      continue;
    }
    if (secretNames.has(key) || /password|token|secret|apikey/i.test(key)) {
      if (resolved[key] !== undefined && resolved[key] !== '') secretsSet.push(key);
      continue;
    }
    if (scalar(value)) settings[key] = value;
  }
  return { settings, secretsSet };
}

/**
 * A connection error as the Connect form shows it, at the field to fix (`details.field`) when there is one:
 * - A 401 from HubSpot to a token means the token itself is wrong or has expired: the form field is what to fix
 *   (not ferry.yaml, which only refers to the secrets file), and scopes do not matter yet (they are named for a
 *   403, a token lacking one).
 * - An OAuth app's refresh token the vendor's token endpoint refuses (the kit's RefreshingToken marks it
 *   `grant: refresh_token`): the refresh token field, or the client secret when the vendor says the client is
 *   what it does not know.
 * `typed`: the secrets typed in the form this time (else the stored ones were used).
 */
export function connectionErrorView(error: unknown, kind: string, scrub: Scrubber, typed: ReadonlySet<string>, settings?: Record<string, unknown>): ApiErrorBody {
  const view = errorView(error, scrub);
  const spec = specOf(kind);
  const vendor = spec?.label.replace(/\s*\(.*$/, '') ?? kind;
  const labelOf = (name: string): string => spec?.settings.find((setting) => setting.name === name)?.label ?? name;
  if (view.code === 'AUTH_FAILED' && view.details?.grant === 'refresh_token' && spec?.settings.some((setting) => setting.name === 'oauth.refreshToken')) {
    const code = typeof view.details.oauthError === 'string' ? view.details.oauthError : undefined;
    const answer = `${String(view.details.status ?? '')}${code ? ` ${code}` : ''}`.trim();
    const client = code !== undefined && /client/i.test(code);
    const field = client ? 'oauth.clientSecret' : 'oauth.refreshToken';
    const what = client ? 'client secret' : 'refresh token';
    const where = typed.has(field) ? `the ${what} typed in the form` : `the stored ${what} (in .ferry/secrets.env)`;
    return {
      code: 'AUTH_FAILED',
      message: client
        ? `${vendor} did not accept the OAuth app's client id and secret (${answer}): ${where}, or the client id beside it, is not the app's. Copy both from the app's settings into “${labelOf('oauth.clientId')}” and “${labelOf(field)}” and connect again.`
        : `${vendor} refused the refresh token (${answer}): ${where} is wrong, was revoked (the app uninstalled), or went unused too long. Paste the install's current refresh token into the “${labelOf(field)}” field (install the app again for a new one) and connect again.`,
      details: { ...view.details, field },
    };
  }
  if (kind === 'hubspot' && view.code === 'AUTH_FAILED' && view.details?.status === 401 && settingAt(settings, 'oauth') === undefined) {
    const where = typed.has('accessToken') ? 'The token typed in the form' : 'The stored token (in .ferry/secrets.env)';
    return {
      code: 'AUTH_FAILED',
      message: `HubSpot rejected the access token (401): ${where} is wrong or has expired. Paste the private app's current access token into the “Private app access token” field and connect again.`,
      details: { ...view.details, field: 'accessToken' },
    };
  }
  return view;
}
type ApiErrorBody = ReturnType<typeof errorView>;

function validProjectSettings(input: unknown): ProjectSourceSettings {
  if (input === undefined || input === null) return {};
  if (typeof input !== 'object' || Array.isArray(input)) throw new HttpError(400, 'USAGE', 'project must be an object.', { field: 'project' });
  const { sourceTimeZone, sourceLocale, ...rest } = input as Record<string, unknown>;
  const unknownKey = Object.keys(rest)[0];
  if (unknownKey !== undefined) throw new HttpError(400, 'USAGE', `project.${unknownKey}: unknown setting (expected sourceTimeZone or sourceLocale).`, { field: unknownKey });
  const out: ProjectSourceSettings = {};
  if (sourceTimeZone !== undefined && sourceTimeZone !== '') {
    if (typeof sourceTimeZone !== 'string') throw new HttpError(400, 'USAGE', 'sourceTimeZone must be text.', { field: 'sourceTimeZone' });
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: sourceTimeZone.trim() });
    } catch {
      throw new HttpError(400, 'CONFIG_INVALID', `sourceTimeZone: unknown time zone "${sourceTimeZone}" (use an IANA name such as Europe/Berlin).`, { field: 'sourceTimeZone', value: sourceTimeZone });
    }
    out.sourceTimeZone = sourceTimeZone.trim();
  }
  if (sourceLocale !== undefined && sourceLocale !== '') {
    if (typeof sourceLocale !== 'string') throw new HttpError(400, 'USAGE', 'sourceLocale must be text.', { field: 'sourceLocale' });
    try {
      out.sourceLocale = Intl.getCanonicalLocales(sourceLocale.trim())[0]!;
    } catch {
      throw new HttpError(400, 'CONFIG_INVALID', `sourceLocale: "${sourceLocale}" is not a locale (use a BCP-47 tag such as de-DE).`, { field: 'sourceLocale', value: sourceLocale });
    }
  }
  return out;
}

/** Whether ferry.yaml takes a top-level `sourceLocale` in this version (asked of the project file's parser). */
async function projectTakesSourceLocale(): Promise<boolean> {
  const { parseProjectFile } = await import('../../project/project-file.js');
  try {
    parseProjectFile('version: 1\nsource: { connector: csv, path: . }\ntarget: { connector: csv, path: . }\nsourceLocale: de-DE\nobjects: {}\n', 'probe.yaml', {});
    return true;
  } catch (error) {
    return !/sourceLocale/.test(error instanceof Error ? error.message : String(error));
  }
}

export interface WizardApp {
  app: Hono;
  /** Ends every open event stream (the server is closing). */
  closeStreams(): void;
}

export function createWizardApp(deps: AppDeps): WizardApp {
  const { project, jobs, access, scrub } = deps;
  const app = new Hono();
  /** Open event streams, ended when the server closes. */
  const closers = new Set<() => void>();

  app.use('*', access.guard());
  app.use('*', async (c, next) => {
    if (c.req.path === '/' && c.req.method === 'GET' && c.req.query('token') !== undefined) return next();
    return access.require()(c, next);
  });

  app.onError((error, c) => {
    const { status, body } = apiError(error, scrub);
    return c.json(body, status as 400);
  });

  // ---------------------------------------------------------------- state and connections

  /** A side's raw (YAML, with ${VAR}) and resolved settings, from ferry.yaml or the pending connections. */
  async function sideConfigs(
    env: NodeJS.ProcessEnv,
  ): Promise<{ project?: ProjectFile; projectError?: string; raw: Partial<Record<Side, Record<string, unknown>>>; resolved: Partial<Record<Side, ConnectionConfig>>; errors: Partial<Record<Side, unknown>> }> {
    const raw: Partial<Record<Side, Record<string, unknown>>> = {};
    const resolved: Partial<Record<Side, ConnectionConfig>> = {};
    const errors: Partial<Record<Side, unknown>> = {};
    let loaded: ProjectFile | undefined;
    let projectError: string | undefined;
    if (project.exists()) {
      try {
        const { parseProjectFile, toYamlForm } = await import('../../project/project-file.js');
        loaded = parseProjectFile((await project.readText()) ?? '', project.projectPath, env);
        const form = toYamlForm(loaded);
        for (const side of SIDES) {
          raw[side] = form[side] as Record<string, unknown>;
          resolved[side] = loaded[side];
        }
      } catch (error) {
        projectError = scrub.text(error instanceof Error ? error.message : String(error));
      }
    } else {
      for (const side of SIDES) {
        const pending = project.pending[side];
        if (!pending) continue;
        raw[side] = pending;
        try {
          resolved[side] = resolveConfig(pending, env, side);
        } catch (error) {
          errors[side] = error;
        }
      }
    }
    return { ...(loaded ? { project: loaded } : {}), ...(projectError ? { projectError } : {}), raw, resolved, errors };
  }

  async function sideSummary(side: Side, raw: Record<string, unknown>, resolved: ConnectionConfig | undefined, failure?: unknown): Promise<SideSummary> {
    const summary: SideSummary = {
      connector: String(raw.connector),
      ...sideSettings(raw, resolved ?? ({ connector: String(raw.connector) } as ConnectionConfig)),
      connected: false,
    };
    if (summary.connector === 'csv' && raw.objects && typeof raw.objects === 'object') summary.csvObjects = structuredClone(raw.objects) as Record<string, CsvObjectSettings>;
    if (!resolved) {
      if (failure !== undefined) summary.error = errorView(failure, scrub);
      return summary;
    }
    try {
      const connection = await project.side(side, resolved);
      summary.connected = true;
      summary.objects = objectSummaries(connection.schema);
    } catch (error) {
      summary.error = connectionErrorView(error, summary.connector, scrub, new Set(), raw);
    }
    return summary;
  }

  async function ledgerFacts(): Promise<{ steps: Pick<WizardState['steps'], 'matched' | 'demo' | 'full' | 'deltas'>; unfinished?: Run } | undefined> {
    try {
      return await project.withLedger(async (ledger) => {
        const runs = await ledger.listRuns();
        const done = (run: Run): boolean => !run.dryRun && (run.status === 'completed' || run.status === 'completed_with_failures') && run.undoneByRunId === null;
        const unfinished = (await ledger.unfinishedRuns())[0];
        return {
          steps: {
            matched: runs.some((run) => done(run) && ['match', 'demo', 'full', 'delta'].includes(run.kind)),
            demo: runs.some((run) => done(run) && run.kind === 'demo'),
            full: runs.some((run) => done(run) && run.kind === 'full'),
            deltas: runs.filter((run) => done(run) && run.kind === 'delta').length,
          },
          ...(unfinished ? { unfinished } : {}),
        };
      });
    } catch {
      return undefined;
    }
  }

  async function buildState(): Promise<WizardState> {
    const state: WizardState = {
      projectPath: project.projectPath,
      projectExists: project.exists(),
      connectors: CONNECTOR_SPECS.map((spec) => structuredClone(spec)),
      steps: { connected: false, mapped: false, matched: false, demo: false, full: false, deltas: 0 },
      secretsFile: secretsPath(project.baseDir),
    };
    const job = jobs.current();
    if (job) state.job = job;
    let env: NodeJS.ProcessEnv;
    try {
      env = await project.env();
    } catch (error) {
      state.projectError = scrub.text(error instanceof Error ? error.message : String(error));
      return state;
    }
    const configs = await sideConfigs(env);
    if (configs.projectError) state.projectError = configs.projectError;
    for (const side of SIDES) {
      const raw = configs.raw[side];
      if (raw) state[side] = await sideSummary(side, raw, configs.resolved[side], configs.errors[side]);
    }
    state.steps.connected = state.source?.connected === true && state.target?.connected === true;
    const loadedProject = configs.project as (ProjectFile & { sourceLocale?: string }) | undefined;
    state.sourceSettings = loadedProject
      ? { sourceTimeZone: loadedProject.sourceTimeZone, ...(loadedProject.sourceLocale ? { sourceLocale: loadedProject.sourceLocale } : {}) }
      : { ...project.pendingProject };
    state.acceptsSourceLocale = await projectTakesSourceLocale();
    state.steps.mapped = (configs.project?.objects.length ?? 0) > 0;
    if (state.steps.connected && state.steps.mapped) {
      try {
        const connections = await project.connections();
        const targetOf = new Map(connections.project.objects.map((mapping) => [mapping.source, mapping.target]));
        state.mappingErrors = {
          total: connections.mapping.errors.length,
          requiredUnmapped: connections.mapping.errors
            .filter((problem) => String(problem.code).startsWith('REQUIRED'))
            .map((problem) => ({ object: problem.object, target: targetOf.get(problem.object) ?? problem.object, field: problem.field ?? '', message: problem.message })),
        };
      } catch {
        // the Map step shows why the mapping cannot be checked
      }
    }
    const { demoSceneOf } = await import('../../cli/demo-setup.js');
    const scene = demoSceneOf((await project.readText()) ?? '');
    if (scene) state.demo = scene;
    if (configs.project) {
      const facts = await ledgerFacts();
      if (facts) {
        Object.assign(state.steps, facts.steps);
        if (facts.unfinished) state.unfinishedRun = facts.unfinished;
      }
    }
    return scrub.value(state);
  }

  function refuseWhileRunning(what: string): void {
    if (jobs.isActive()) throw new HttpError(409, 'JOB_RUNNING', `A job is running; ${what} waits until it is done (or paused).`);
  }

  app.get('/api/state', async (c) => c.json(await buildState()));

  app.post('/api/demo-data', async (c) => {
    const body = (await jsonBody(c)) as Record<string, unknown> | null;
    refuseWhileRunning('writing demo data');
    const { DEMO_SEED, DEMO_SIZE } = await import('../../cli/demo-story.js');
    const size = body?.contacts ?? DEMO_SIZE;
    const seed = body?.seed ?? DEMO_SEED;
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 10 || size > 200_000) {
      throw new HttpError(400, 'USAGE', 'contacts must be a whole number from 10 to 200000.', { field: 'contacts', value: size });
    }
    if (typeof seed !== 'number' || !Number.isSafeInteger(seed) || seed < 1) throw new HttpError(400, 'USAGE', 'seed must be a positive whole number.', { field: 'seed', value: seed });
    const { writeSqliteDemoScene } = await import('../../cli/demo-setup.js');
    await writeSqliteDemoScene(project.baseDir, project.projectPath, { seed, size, command: 'ferry serve' });
    for (const side of SIDES) delete project.pending[side];
    await project.forget();
    await proposeMapping();
    return c.json(await buildState());
  });

  // "Time passes" on the demo data (as step 5 of `ferry demo`), so a delta from the wizard has work to do.
  app.post('/api/demo-data/changes', async (c) => {
    await jsonBody(c);
    refuseWhileRunning('changing the demo data');
    const { demoSceneOf, demoTimePasses } = await import('../../cli/demo-setup.js');
    const scene = demoSceneOf((await project.readText()) ?? '');
    if (!scene) throw new HttpError(409, 'USAGE', 'This project is not the demo data: only the demo data can be changed from here.');
    const { withProject } = await import('../../cli/open-project.js');
    const { nowIso } = await import('../../core/time.js');
    const loaded = await project.load();
    const isDemoFile = (config: ConnectionConfig, file: string): boolean => {
      const settings = config as unknown as Record<string, unknown>;
      return settings.connector === 'sql' && settings.dialect === 'sqlite' && typeof settings.path === 'string' && resolve(project.baseDir, settings.path) === resolve(project.baseDir, file);
    };
    // The source changes are made in the demo's source.db: it must still be the source.
    if (!isDemoFile(loaded.source, 'source.db')) {
      throw new HttpError(409, 'USAGE', 'The source is no longer the demo data (source.db): only the demo data can be changed from here.');
    }
    const sqliteTarget = isDemoFile(loaded.target, 'target.db');
    let response: DemoChangesResponse;
    if (sqliteTarget) {
      const passed = await withProject(await project.openOptions(), async (opened) => {
        // Another seed each time (from the ledger's history), so each round changes other records.
        const runs = await opened.ledger.listRuns();
        return demoTimePasses(project.baseDir, opened, { seed: scene.seed + runs.length, size: scene.size, at: nowIso() });
      });
      response = { created: passed.created, changed: passed.changed, targetEdits: passed.targetEdits, conflictingEdits: passed.conflictingEdits };
    } else {
      // Another target (HubSpot, ...): the source changes as always; in the target, only the conflicting edits,
      // through its connector, since target.db is not the target any more.
      const sample = await import('../../sample/index.js');
      const { editChangedRecordsInTarget } = await import('../../cli/demo-setup.js');
      response = await withProject(await project.openOptions(), async (opened) => {
        const runs = await opened.ledger.listRuns();
        const seed = scene.seed + runs.length;
        const changes = await sample.applySourceChanges(join(project.baseDir, 'source.db'), {
          seed,
          newRecords: Math.max(5, Math.round(scene.size * 0.03)),
          changedRecords: Math.max(8, Math.round(scene.size * 0.05)),
          at: nowIso(),
        });
        const edits = await editChangedRecordsInTarget(opened, changes.changed, changes.changedFields);
        const count = (ids: Record<string, unknown[]>) => Object.fromEntries(Object.entries(ids).map(([table, list]) => [table, list.length]));
        return {
          created: count(changes.created),
          changed: count(changes.changed),
          targetEdits: 0,
          conflictingEdits: edits.length,
          note: `The target is ${specOf(String((loaded.target as unknown as Record<string, unknown>).connector))?.label ?? 'another CRM'}, not the demo's target.db: only the conflicting edits were made in it, through its API (as any other program using it would).`,
        };
      });
    }
    await project.forget();
    return c.json(scrub.value(response));
  });

  app.post('/api/connect', async (c) => {
    const body = (await jsonBody(c)) as Partial<ConnectRequest> | null;
    if (!body || typeof body !== 'object') throw new HttpError(400, 'USAGE', 'Expected { side, connector, settings }.');
    const side = body.side;
    if (side !== 'source' && side !== 'target') throw new HttpError(400, 'USAGE', 'side must be "source" or "target".', { field: 'side', value: side });
    const kind = body.connector;
    const spec = typeof kind === 'string' ? specOf(kind) : undefined;
    if (!spec || !CONNECTOR_KINDS.includes(spec.kind)) {
      throw new HttpError(400, 'USAGE', `connector must be one of ${CONNECTOR_SPECS.map((entry) => entry.kind).join(', ')}.`, { field: 'connector', value: kind });
    }
    if (!spec.roles.includes(side)) throw new HttpError(400, 'USAGE', `The ${spec.kind} connector cannot be a ${side}.`, { field: 'connector', value: kind });
    const settings = body.settings ?? {};
    if (typeof settings !== 'object' || Array.isArray(settings)) throw new HttpError(400, 'USAGE', 'settings must be an object.', { field: 'settings' });
    const secrets = body.secrets ?? {};
    if (typeof secrets !== 'object' || Array.isArray(secrets) || Object.values(secrets).some((value) => typeof value !== 'string')) {
      throw new HttpError(400, 'USAGE', 'secrets must be an object of strings.', { field: 'secrets' });
    }
    if (!body.testOnly) refuseWhileRunning('changing a connection');

    const env = await project.env();
    const current = await sideConfigs(env);
    const existing = current.raw[side];
    const raw: Record<string, unknown> = existing?.connector === spec.kind ? { ...existing } : { connector: spec.kind };
    const byName = new Map(spec.settings.map((setting) => [setting.name, setting]));
    const secretNames = new Set(spec.settings.filter((setting) => setting.secret).map((setting) => setting.name));
    /** The form-only choices (HubSpot's and Pipedrive's `auth`): they pick settings, and are never written. */
    const choices: Record<string, string> = {};
    for (const [key, value] of Object.entries(settings)) {
      if (key === 'connector') continue;
      if (!['string', 'number', 'boolean'].includes(typeof value)) throw new HttpError(400, 'USAGE', `settings.${key} must be a string, number or boolean.`, { field: key });
      if (secretNames.has(key)) throw new HttpError(400, 'USAGE', `${key} is a secret: send it in "secrets", not "settings" (it is kept out of ferry.yaml).`, { field: key });
      const setting = byName.get(key);
      if (setting?.formOnly) {
        if (value === '') continue;
        if (!(setting.options ?? []).includes(String(value))) {
          throw new HttpError(400, 'USAGE', `settings.${key} must be one of ${(setting.options ?? []).join(', ')}, got "${String(value)}".`, { field: key, value });
        }
        choices[key] = String(value);
        continue;
      }
      // A dotted name of the form is a nested key (oauth.clientId); other keys are taken as they are.
      if (value === '') {
        if (setting) deleteSetting(raw, key);
        else delete raw[key];
      } else if (setting) setSetting(raw, key, value);
      else raw[key] = value;
    }
    // A choice not sent: the one whose settings are sent, else the one ferry.yaml holds, else the first.
    const sent = (name: string): boolean => (settings[name] !== undefined && settings[name] !== '') || (typeof secrets[name] === 'string' && secrets[name] !== '');
    for (const choice of spec.settings.filter((setting) => setting.formOnly)) {
      if (choices[choice.name] !== undefined) continue;
      const governed = spec.settings.filter((setting) => setting.when?.setting === choice.name);
      const found = choiceFrom(spec, choice, governed.some((setting) => sent(setting.name)) ? sent : (name) => hasSetting(raw, name));
      if (found !== undefined) choices[choice.name] = found;
    }
    /** Whether a setting applies to the chosen variant (not a SQLite path once the dialect is postgres, not the token with OAuth). */
    const applies = (setting: ConnectorSettingSpec): boolean =>
      !setting.when || setting.when.values.includes(choices[setting.when.setting] ?? String(settingAt(raw, setting.when.setting)));
    const newSecrets: Record<string, string> = {};
    for (const name of secretNames) {
      const setting = byName.get(name)!;
      const variable = secretVariable(side, name);
      const given = secrets[name];
      if (given && applies(setting)) {
        newSecrets[variable] = given;
        setSetting(raw, name, `\${${variable}}`);
      } else if (settingAt(raw, name) === undefined && env[variable] !== undefined && applies(setting)) setSetting(raw, name, `\${${variable}}`);
    }
    // Settings that do not apply to the chosen variant are dropped from ferry.yaml.
    for (const setting of spec.settings) {
      if (!applies(setting)) deleteSetting(raw, setting.name);
    }
    let sideRaw = raw;
    if (spec.kind === 'csv' && body.csvObjects !== undefined) sideRaw = buildCsvSource(raw, String(raw.path ?? ''), cleanCsvObjects(body.csvObjects));
    const projectSettings = validProjectSettings(body.project);
    if (projectSettings.sourceLocale && !(await projectTakesSourceLocale())) {
      throw new HttpError(400, 'CONFIG_INVALID', 'This version of Ferry does not read a project-wide sourceLocale yet: leave the locale empty.', { field: 'sourceLocale' });
    }
    const testEnv = { ...env, ...newSecrets };
    scrub.setSecrets([...Object.values(newSecrets), ...Object.values(secrets).filter((value) => value !== '')]);
    const resolved = resolveConfig(sideRaw, testEnv, side);

    const summary: ConnectResponse = { connector: spec.kind, ...sideSettings(sideRaw, resolved), connected: false };
    if (spec.kind === 'csv' && sideRaw.objects) summary.csvObjects = structuredClone(sideRaw.objects) as Record<string, CsvObjectSettings>;
    try {
      const connection = await project.connect(side, resolved);
      try {
        summary.connected = true;
        summary.objects = objectSummaries(connection.schema);
      } finally {
        await connection.connector.close().catch(() => undefined);
      }
    } catch (error) {
      summary.error = connectionErrorView(error, spec.kind, scrub, new Set(Object.keys(secrets).filter((name) => secrets[name] !== '')), sideRaw);
    }
    await project.env(); // the scrubber learns the stored secrets again
    if (!summary.connected || body.testOnly) return c.json(scrub.value(summary));

    if (Object.keys(newSecrets).length > 0) await writeSecrets(project.baseDir, newSecrets);
    if (project.exists()) {
      const loaded = (await project.load()) as ProjectFile & { sourceLocale?: string };
      loaded[side] = sideRaw as ConnectionConfig;
      if (projectSettings.sourceTimeZone) loaded.sourceTimeZone = projectSettings.sourceTimeZone;
      if (projectSettings.sourceLocale) loaded.sourceLocale = projectSettings.sourceLocale;
      await project.writeProject(loaded);
    } else {
      Object.assign(project.pendingProject, projectSettings);
      project.pending[side] = sideRaw as ConnectionConfig;
      const { source, target } = project.pending;
      if (source && target) {
        const { DEFAULT_OPTIONS, DEFAULT_TIME_ZONE } = await import('../../project/project-file.js');
        const created: ProjectFile = {
          version: 1,
          source: source as ConnectionConfig,
          target: target as ConnectionConfig,
          sourceTimeZone: project.pendingProject.sourceTimeZone ?? DEFAULT_TIME_ZONE,
          ...(project.pendingProject.sourceLocale ? { sourceLocale: project.pendingProject.sourceLocale } : {}),
          objects: [],
          options: { ...DEFAULT_OPTIONS },
        };
        await project.writeProject(created);
        delete project.pending.source;
        delete project.pending.target;
        for (const key of Object.keys(project.pendingProject)) delete project.pendingProject[key as keyof ProjectSourceSettings];
      }
    }
    await project.env();
    return c.json(scrub.value(summary));
  });

  app.post('/api/csv/inspect', async (c) => {
    const body = (await jsonBody(c)) as Partial<CsvInspectRequest> | null;
    if (!body || typeof body !== 'object' || typeof body.path !== 'string' || body.path.trim() === '') {
      throw new HttpError(400, 'USAGE', 'Expected { path, csvObjects }: path is the folder of the CSV files.', { field: 'path' });
    }
    const env = await project.env();
    const current = await sideConfigs(env);
    const raw = buildCsvSource(current.raw.source, body.path.trim(), cleanCsvObjects(body.csvObjects));
    const answer = await inspectCsvFolder(
      project.baseDir,
      raw,
      async (config) => {
        const connection = await project.connect('source', resolveConfig(config, env, 'source'));
        try {
          return connection.schema;
        } finally {
          await connection.connector.close().catch(() => undefined);
        }
      },
      (error) => errorView(error, scrub),
    );
    return c.json(scrub.value(answer));
  });

  // ---------------------------------------------------------------- schemas and mapping

  async function proposeMapping(fresh = false): Promise<void> {
    const connections = await project.connections();
    const { proposeAndWrite } = await import('../../cli/mapping.js');
    const proposal = await proposeAndWrite({
      projectPath: project.projectPath,
      // Fresh: no object mapping to keep, but the same connections and options (never re-serialised from resolved values).
      existing: fresh ? { ...connections.project, objects: [] } : connections.project,
      source: connections.source.connector,
      sourceSchema: connections.source.schema,
      targetSchema: connections.target.schema,
      sourceConfig: connections.project.source,
      targetConfig: connections.project.target,
      pageSize: connections.project.options.pageSize,
    });
    project.notes = proposal.notes;
  }

  app.get('/api/schemas', async (c) => {
    const connections = await project.connections();
    return c.json({ source: objectViews(connections.source.schema), target: objectViews(connections.plannedTarget) });
  });

  app.get('/api/mapping', async (c) => {
    const connections = await project.connections();
    return c.json(scrub.value(mappingResponse(connections.project, connections.mapping, project.notes)));
  });

  app.post('/api/mapping/propose', async (c) => {
    const body = (await jsonBody(c)) as ProposeMappingRequest | null;
    const fresh = body !== null && typeof body === 'object' ? body.fresh : undefined;
    if (fresh !== undefined && typeof fresh !== 'boolean') throw new HttpError(400, 'USAGE', 'fresh must be true or false.', { field: 'fresh', value: fresh });
    if (fresh === true) refuseWhileRunning('proposing a fresh mapping');
    await proposeMapping(fresh === true);
    const connections = await project.connections();
    return c.json(scrub.value(mappingResponse(connections.project, connections.mapping, project.notes)));
  });

  app.put('/api/mapping/objects/:source', async (c) => {
    const source = c.req.param('source');
    const body = await jsonBody(c);
    const mapping = parseObjectMappingView(source, body);
    const connections = await project.connections();
    if (!connections.source.schema.objects.some((object) => object.name === source)) {
      throw new HttpError(400, 'MAPPING_INVALID', `The source has no object ${source}.`, { object: source, problems: [{ code: 'UNKNOWN_SOURCE_OBJECT', object: source, message: `unknown source object ${source}` }] });
    }
    const updated: ProjectFile = { ...connections.project, objects: [...connections.project.objects] };
    // Several mappings may read one source (routing): the entry is the one with the body's key (a body
    // without one: the source's first entry, which keeps its key).
    let index = updated.objects.findIndex((object) => object.source === source && object.key === mapping.key);
    if (index < 0 && mapping.key === undefined) index = updated.objects.findIndex((object) => object.source === source);
    if (index >= 0) updated.objects[index] = mapping.key === undefined && updated.objects[index]!.key !== undefined ? { ...mapping, key: updated.objects[index]!.key! } : mapping;
    else updated.objects.push(mapping);
    const { schemaWithFieldsToCreate } = await import('../../engine/plan.js');
    const { validateMapping } = await import('../../project/project-file.js');
    const planned = connections.target.connector.capabilities().createsMissingOnWrite
      ? schemaWithFieldsToCreate(updated, connections.source.schema, connections.target.schema)
      : connections.target.schema;
    const problems = validateMapping(updated, connections.source.schema, planned);
    const own = problems.errors.filter((problem) => problem.object === source);
    if (own.length > 0) {
      throw new HttpError(
        400,
        'MAPPING_INVALID',
        `The mapping of ${source} does not fit the schemas (${own.length} problem${own.length === 1 ? '' : 's'}): ` +
          own.map((problem) => `${problem.object}${problem.field ? `.${problem.field}` : ''}: ${problem.message} [${problem.code}]`).join('; '),
        { object: source, problems: own },
      );
    }
    // What ferry.yaml will hold must read back: keys and transforms this page passed through unchecked are
    // checked here by the project file's own parser, before anything is written.
    const { parseProjectFile, serialiseProjectFile } = await import('../../project/project-file.js');
    let readBack: ProjectFile;
    try {
      readBack = parseProjectFile(serialiseProjectFile(updated, await project.readText()), project.projectPath, await project.env());
    } catch (error) {
      throw new HttpError(400, 'CONFIG_INVALID', `The mapping of ${source} was not saved: ${scrub.text(error instanceof Error ? error.message : String(error))}`, { object: source });
    }
    // A key ferry.yaml has no place for would be dropped silently: refuse it instead, naming it.
    // The entry this save wrote: by its key when routing gives one source several mappings.
    const savedObject = (readBack.objects.find((object) => object.source === source && (mapping.key === undefined || object.key === mapping.key) && object.target === mapping.target) ??
      readBack.objects.find((object) => object.source === source && object.target === mapping.target)) as unknown as Record<string, unknown> | undefined;
    const savedFields = (savedObject?.fields ?? []) as Record<string, unknown>[];
    const lost: string[] = Object.keys(mapping).filter((key) => savedObject?.[key] === undefined && (mapping as unknown as Record<string, unknown>)[key] !== undefined && !['fields'].includes(key));
    mapping.fields.forEach((field, index) => {
      const saved = savedFields.find((candidate) => candidate.target === field.target) ?? {};
      for (const [key, value] of Object.entries(field)) if (value !== undefined && saved[key] === undefined) lost.push(`fields[${index}: ${field.target}].${key}`);
    });
    if (lost.length > 0) {
      throw new HttpError(400, 'CONFIG_INVALID', `The mapping of ${source} was not saved: ferry.yaml has no place for ${lost.join(', ')} (unknown key).`, { object: source, fields: lost });
    }
    await project.writeProject(updated);
    const after = await project.connections();
    return c.json(scrub.value(mappingResponse(after.project, after.mapping, project.notes)));
  });

  app.get('/api/samples', async (c) => {
    const side = c.req.query('side') ?? 'source';
    const object = c.req.query('object');
    const field = c.req.query('field');
    const limitText = c.req.query('limit') ?? '20';
    if (side !== 'source' && side !== 'target') throw new HttpError(400, 'USAGE', 'side must be source or target.', { field: 'side', value: side });
    if (!object || !field) throw new HttpError(400, 'USAGE', 'object and field are required.');
    if (!/^\d+$/.test(limitText) || Number(limitText) < 1) throw new HttpError(400, 'USAGE', 'limit must be a positive whole number.', { field: 'limit', value: limitText });
    const connections = await project.connections();
    const connection = connections[side];
    const schema = connection.schema.objects.find((entry) => entry.name === object);
    if (!schema) throw new HttpError(404, 'NOT_FOUND', `The ${side} has no object ${object}.`, { object });
    if (!schema.fields.some((entry) => entry.name === field)) throw new HttpError(404, 'NOT_FOUND', `${side} object ${object} has no field ${field}.`, { object, field });
    const values = (await connection.samples(object, field)).slice(0, Math.min(Number(limitText), 200));
    const response: SamplesResponse = { object, field, values };
    return c.json(scrub.value(response));
  });

  app.get('/api/records', async (c) => {
    const side = c.req.query('side') ?? 'target';
    const object = c.req.query('object');
    const limitText = c.req.query('limit') ?? '500';
    if (side !== 'source' && side !== 'target') throw new HttpError(400, 'USAGE', 'side must be source or target.', { field: 'side', value: side });
    if (!object) throw new HttpError(400, 'USAGE', 'object is required.', { field: 'object' });
    if (!/^\d+$/.test(limitText) || Number(limitText) < 1) throw new HttpError(400, 'USAGE', 'limit must be a positive whole number.', { field: 'limit', value: limitText });
    const limit = Math.min(Number(limitText), 2000);
    const connections = await project.connections();
    const connection = connections[side];
    const schema = connection.schema.objects.find((entry) => entry.name === object);
    if (!schema) throw new HttpError(404, 'NOT_FOUND', `The ${side} has no object ${object}.`, { object });
    const names = schema.fields.map((field) => field.name);
    const pick = (patterns: RegExp[]) => patterns.map((pattern) => names.find((name) => pattern.test(name))).filter((name): name is string => name !== undefined);
    const fullName = pick([/^(full_?)?name$/i, /^display_?name$/i]);
    const parts = fullName.length > 0 ? fullName.slice(0, 1) : pick([/^first_?name$/i, /^last_?name$/i]);
    const email = pick([/^e-?mail$/i, /e-?mail/i])[0];
    const records: RecordChoicesResponse['records'] = [];
    let after: string | undefined;
    let truncated = false;
    do {
      const page = await connection.connector.read(object, { limit: Math.min(500, limit), anyOrder: true, ...(after !== undefined ? { after } : {}) });
      for (const record of page.records) {
        if (records.length >= limit) {
          truncated = true;
          break;
        }
        const name = parts.map((field) => record.fields[field]).filter((value) => value !== null && value !== undefined && String(value).trim() !== '').join(' ');
        const mail = email ? record.fields[email] : undefined;
        records.push({ id: record.id, ...(name ? { name } : {}), ...(mail ? { email: String(mail) } : {}) });
      }
      after = page.next;
    } while (after !== undefined && !truncated);
    const response: RecordChoicesResponse = { object, records, truncated };
    return c.json(scrub.value(response));
  });

  // ---------------------------------------------------------------- jobs

  app.post('/api/jobs', async (c) => {
    const request = validateJobRequest(await jsonBody(c));
    if (!project.exists()) throw new HttpError(409, 'CONFIG_MISSING', 'There is no ferry.yaml yet: connect both sides (or use the demo data) first.');
    return c.json(jobs.start(request), 202);
  });

  app.get('/api/job', (c) => {
    const job = jobs.current();
    return job ? c.json(job) : c.body(null, 204);
  });

  app.post('/api/job/pause', async (c) => {
    await jsonBody(c);
    return c.json(jobs.pause());
  });

  app.post('/api/job/resume', async (c) => {
    await jsonBody(c);
    return c.json(jobs.resume());
  });

  app.get('/api/rerun-preview', async (c) => {
    const { withProject } = await import('../../cli/open-project.js');
    const preview = await withProject(await project.openOptions(), (opened) => opened.engine.rerunPreview());
    const response: RerunPreviewResponse = {
      objects: Object.fromEntries(Object.entries(preview).map(([object, value]) => [object, value.delete])),
      kept: Object.fromEntries(Object.entries(preview).map(([object, value]) => [object, value.keep])),
    };
    return c.json(response);
  });

  app.get('/api/events', (c) =>
    streamSSE(c, async (stream) => {
      let queue = Promise.resolve();
      const send = (event: string, data: unknown): void => {
        queue = queue.then(() => stream.writeSSE({ event, data: JSON.stringify(data) })).catch(() => undefined);
      };
      const listener: JobListener = (event) => {
        if (event.type === 'job') send('job', event.job);
        else send('progress', event.event);
      };
      const off = jobs.on(listener);
      const current = jobs.current();
      if (current) send('job', current);
      else await stream.write(': no job yet\n\n');
      const keepAlive = setInterval(() => {
        queue = queue.then(() => stream.write(': keep-alive\n\n')).then(() => undefined).catch(() => undefined);
      }, 15_000);
      await new Promise<void>((resolve) => {
        stream.onAbort(() => resolve());
        closers.add(resolve);
      });
      clearInterval(keepAlive);
      off();
    }),
  );

  // ---------------------------------------------------------------- runs and reports

  async function withLedgerOrEmpty<T>(empty: T, work: (ledger: Ledger) => Promise<T>): Promise<T> {
    if (!project.exists()) return empty;
    return project.withLedger(work);
  }

  // ---------------------------------------------------------------- continuous sync (`ferry sync` runs it; the page watches and stops it)

  async function syncResponse(stop: boolean): Promise<SyncResponse> {
    const empty: SyncResponse = { sync: null, alive: false, cycles: [] };
    return withLedgerOrEmpty(empty, async (ledger) => {
      const { SyncStore } = await import('../../ledger/sync.js');
      const { syncAlive } = await import('../../sync/loop.js');
      const store = new SyncStore(ledger.kysely);
      let sync = await store.latest();
      if (!sync) return empty;
      if (stop) {
        if (sync.state !== 'running') throw new HttpError(409, 'USAGE', `Sync ${sync.id} is not running (${sync.state}).`);
        await store.requestStop(sync.id, 'wizard');
        sync = (await store.get(sync.id))!;
      }
      const cycles = (await ledger.listRuns())
        .filter((run) => run.kind === 'delta' && !run.dryRun && run.startedAt >= sync.startedAt)
        .reverse()
        .slice(0, 20)
        .map((run): SyncCycleView => {
          const total = (key: 'created' | 'updated' | 'conflicts' | 'failed') => Object.values(run.counts).reduce((sum, count) => sum + (count[key] ?? 0), 0);
          return { runId: run.id, status: run.status, startedAt: run.startedAt, finishedAt: run.finishedAt, created: total('created'), updated: total('updated'), conflicts: total('conflicts'), failed: total('failed') };
        });
      return { sync, alive: syncAlive(sync), cycles };
    });
  }

  app.get('/api/sync', async (c) => c.json(scrub.value(await syncResponse(false))));

  app.post('/api/sync', async (c) => {
    const body = await jsonBody(c);
    if (typeof body !== 'object' || body === null || (body as { stop?: unknown }).stop !== true) {
      throw new HttpError(400, 'USAGE', 'POST /api/sync takes { "stop": true }.');
    }
    return c.json(scrub.value(await syncResponse(true)));
  });

  app.get('/api/runs', async (c) => {
    const runs = await withLedgerOrEmpty<Run[]>([], async (ledger) => ledger.listRuns());
    const response: RunsResponse = { runs: [...runs].reverse() };
    return c.json(scrub.value(response));
  });

  app.get('/api/runs/:id', async (c) => {
    const id = runIdParam(c);
    if (!project.exists()) throw new FerryError('RUN_NOT_FOUND', `There is no run ${id}: there is no project yet.`);
    const response = await project.withLedger(async (ledger): Promise<RunDetailResponse> => {
      const run = await ledger.requireRun(id);
      const [failures, conflicts, openErrors, openWarnings] = await Promise.all([
        ledger.listFailures({ runId: id }),
        ledger.listConflicts(id),
        ledger.openFailureCounts({ runId: id }),
        ledger.openFailureCounts({ runId: id, severity: 'warning' }),
      ]);
      let undo: RunDetailResponse['undo'];
      if (run.kind === 'undo' || run.kind === 'rerun-wipe') undo = { possible: false, reason: `A ${run.kind} run cannot be undone.` };
      else if (run.dryRun) undo = { possible: false, reason: 'A dry run wrote nothing.' };
      else if (run.undoneByRunId !== null) undo = { possible: false, reason: `Already undone by run ${run.undoneByRunId}.` };
      else if (run.status === 'running' || run.status === 'interrupted') undo = { possible: false, reason: 'The run has not finished: resume it first.' };
      else {
        const later = await ledger.laterWritingRuns(id);
        undo = later.length > 0 ? { possible: false, reason: `Run(s) ${later.join(', ')} wrote to the target after it: undo them first, newest first.` } : { possible: true };
      }
      const retryable = !['undo', 'match', 'rerun-wipe'].includes(run.kind) && !run.dryRun;
      // Records, not failure rows (a record can fail on several fields or be read twice), as in the CLI's report.
      const failuresByCode: Record<string, number> = {};
      const counted = new Set<string>();
      for (const failure of failures) {
        const key = `${failure.code}\u0000${failure.object}\u0000${failure.sourceId}`;
        if (failure.severity !== 'error' || counted.has(key)) continue;
        counted.add(key);
        failuresByCode[failure.code] = (failuresByCode[failure.code] ?? 0) + 1;
      }
      // The ledger's one count of open failures (distinct records), errors apart from warnings.
      const retry = { possible: retryable && openErrors.total + openWarnings.total > 0, openFailures: openErrors.total, openWarnings: openWarnings.total };
      return { run, failures, conflicts, undo, retry, failuresByCode };
    });
    return c.json(scrub.value(response));
  });

  app.get('/api/runs/:id/parts', async (c) => {
    const id = runIdParam(c);
    if (!project.exists()) throw new FerryError('RUN_NOT_FOUND', `There is no run ${id}: there is no project yet.`);
    const { ledgerLocation } = await import('../../cli/open-project.js');
    const { location } = await ledgerLocation(await project.openOptions());
    const response = await project.withLedger(async (ledger): Promise<RunPartsResponse> => {
      await ledger.requireRun(id);
      if (ledger.dialect !== 'postgres') return { parts: null };
      const { partsProgress } = await import('../../workers/progress.js');
      return { parts: (await partsProgress(ledger, location, id)) ?? null };
    });
    return c.json(scrub.value(response));
  });

  const REPORT_TYPES = { csv: 'text/csv; charset=utf-8', html: 'text/html; charset=utf-8', json: 'application/json; charset=utf-8' } as const;
  for (const format of Object.keys(REPORT_TYPES) as (keyof typeof REPORT_TYPES)[]) {
    app.get(`/api/runs/:id/report.${format}`, async (c) => {
      const id = runIdParam(c);
      if (!project.exists()) throw new FerryError('RUN_NOT_FOUND', `There is no run ${id}: there is no project yet.`);
      const { buildRunReport, renderReport } = await import('../../report/index.js');
      const text = await project.withLedger(async (ledger) => renderReport(await buildRunReport(ledger, id), format));
      const headers: Record<string, string> = {
        'Content-Type': REPORT_TYPES[format],
        'Content-Disposition': `attachment; filename="ferry-run-${id}.${format}"`,
      };
      // The HTML report is self-contained: its own inline styles, no scripts (same policy as its <meta>).
      if (format === 'html') headers['Content-Security-Policy'] = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'";
      return c.body(scrub.text(text), 200, headers);
    });
  }

  app.get('/api/runs/:id/sample', async (c) => {
    const id = runIdParam(c);
    const limitText = c.req.query('limit') ?? '10';
    if (!/^\d+$/.test(limitText) || Number(limitText) < 1) throw new HttpError(400, 'USAGE', 'limit must be a positive whole number.', { field: 'limit', value: limitText });
    const limit = Math.min(Number(limitText), 100);
    const connections = await project.connections();
    const objects = await project.withLedger(async (ledger) => {
      await ledger.requireRun(id);
      const out: SampleComparison[] = [];
      const written = new Set(await ledger.journalObjects(id));
      // In the mapping's order, which is the order a person reads the objects in.
      const keys = ledgerKeys(connections.project.objects); // a mapping's name in the ledger (routing)
      for (const [index, mapping] of connections.project.objects.entries()) {
        if (!written.has(keys[index]!)) continue;
        const targetIdBySource = new Map<string, string | null>();
        for await (const page of ledger.iterateJournal(id, keys[index]!, Math.max(limit, 50))) {
          for (const entry of page) if (!targetIdBySource.has(entry.sourceId) && targetIdBySource.size < limit) targetIdBySource.set(entry.sourceId, entry.targetId);
          if (targetIdBySource.size >= limit) break;
        }
        const sourceIds = [...targetIdBySource.keys()];
        const links = await ledger.getLinks(keys[index]!, sourceIds);
        for (const sourceId of sourceIds) {
          const link = links.get(sourceId);
          if (link?.targetId) targetIdBySource.set(sourceId, link.targetId);
        }
        const targetIds = [...new Set([...targetIdBySource.values()].filter((value): value is string => Boolean(value)))];
        const [sourceRecords, targetRecords] = await Promise.all([
          connections.source.connector.readByIds(mapping.source, sourceIds),
          targetIds.length > 0 ? connections.target.connector.readByIds(mapping.target, targetIds) : Promise.resolve([]),
        ]);
        const sourceById = new Map(sourceRecords.map((record) => [record.id, record]));
        const targetById = new Map(targetRecords.map((record) => [record.id, record]));
        out.push({
          object: mapping.source,
          targetObject: mapping.target,
          records: sourceIds.map((sourceId) => {
            const targetId = targetIdBySource.get(sourceId) ?? null;
            const sourceRecord = sourceById.get(sourceId);
            const targetRecord = targetId ? targetById.get(targetId) : undefined;
            return {
              sourceId,
              targetId: targetRecord ? targetId : targetId,
              fields: mapping.fields.map((field) => ({
                source: field.source.length > 0 ? field.source.join(' + ') : '(constant)',
                target: field.target,
                sourceValue: field.source.length === 1 ? (sourceRecord?.fields[field.source[0]!] ?? null) : field.source.map((name) => sourceRecord?.fields[name] ?? null),
                targetValue: targetRecord?.fields[field.target] ?? null,
              })),
            };
          }),
        });
      }
      return out;
    });
    const response: RunSampleResponse = { runId: id, objects };
    return c.json(scrub.value(response));
  });

  /**
   * Records of a source object: the schema's count when the connector gives one cheaply, else counted by
   * reading the ids once (a CSV export has no count; "not in the target yet" was 0 for every CSV object),
   * cached for the connection (a run makes the wizard connect afresh, so the count follows the source).
   */
  const counted = new WeakMap<object, Map<string, Promise<number>>>();
  async function sourceCount(connection: { connector: import('../../core/connector.js').Connector; schema: SchemaDescription }, object: string): Promise<number> {
    const known = connection.schema.objects.find((entry) => entry.name === object)?.count;
    if (known !== undefined) return known;
    let perConnection = counted.get(connection);
    if (!perConnection) counted.set(connection, (perConnection = new Map()));
    let total = perConnection.get(object);
    if (!total) {
      total = (async () => {
        let n = 0;
        let after: string | undefined;
        do {
          const page = await connection.connector.read(object, { limit: 1000, fields: [], anyOrder: true, ...(after !== undefined ? { after } : {}) });
          n += page.records.length;
          after = page.next;
        } while (after !== undefined);
        return n;
      })();
      perConnection.set(object, total);
      total.catch(() => perConnection.delete(object));
    }
    return total;
  }

  app.get('/api/match', async (c) => {
    const connections = await project.connections();
    const response = await project.withLedger(async (ledger): Promise<MatchResponse> => {
      const issues = await ledger.listMatchIssues();
      const objects: MatchResponse['objects'] = [];
      const keys = ledgerKeys(connections.project.objects); // a mapping's name in the ledger (routing)
      for (const [index, mapping] of connections.project.objects.entries()) {
        const key = keys[index]!;
        const count = await sourceCount(connections.source, mapping.source);
        const linked = await ledger.countLinks(key);
        objects.push({
          object: key,
          matched: await ledger.countLinks(key, ['matched', 'manual', 'merged']),
          ambiguous: issues.filter((issue) => issue.object === key && issue.kind === 'ambiguous').length,
          duplicates: issues.filter((issue) => issue.object === key && issue.kind === 'duplicate').length,
          unlinked: Math.max(0, count - linked),
        });
      }
      return { objects, issues };
    });
    return c.json(scrub.value(response));
  });

  app.all('/api/*', (c) => c.json({ error: { code: 'NOT_FOUND', message: `No route ${c.req.method} ${c.req.path}.` } }, 404));

  // ---------------------------------------------------------------- the page

  app.get('/', async (c) => {
    const token = c.req.query('token');
    if (token !== undefined) {
      const session = access.exchange(token);
      // The link opened again in the browser it already signed in (a bookmark, a second tab): just go in.
      if (!session && access.hasSession(c)) return c.redirect('/', 302);
      if (!session) {
        return c.html(
          '<!doctype html><meta charset="utf-8"><title>Ferry</title><p>This link was already used or is not valid. ' +
            'Restart <code>ferry serve</code> for a new one (the browser that used it stays signed in).</p>',
          401,
        );
      }
      c.header('Set-Cookie', `${SESSION_COOKIE}=${session}; HttpOnly; SameSite=Strict; Path=/`);
      return c.redirect('/', 302);
    }
    return serveStatic(c, deps.uiDir);
  });
  app.get('*', (c) => serveStatic(c, deps.uiDir));

  return {
    app,
    closeStreams: () => {
      for (const close of closers) close();
      closers.clear();
    },
  };
}
