/**
 * The wizard's HTTP API: the one contract between `ferry serve` (src/wizard/server) and the page (web/).
 * Types only, so the browser bundle can import them without pulling Node code in.
 *
 * Every route is under /api and answers JSON. Errors answer with a 4xx/5xx status and an `ApiError` body.
 * Authentication: the URL printed by `ferry serve` carries a one-time token (`/?token=...`). Visiting it sets an
 * HttpOnly, SameSite=Strict session cookie and redirects to `/`; the token cannot be used twice. Every /api
 * request needs that cookie (or `Authorization: Bearer <session>` for scripts and tests). Requests whose
 * `Origin` is not the server's own origin, or whose `Host` is not 127.0.0.1/localhost on the server's port,
 * are refused with 403 (cross-site requests and DNS rebinding).
 *
 * Runs started from the page are the same engine calls the CLI makes, on the same project file and ledger.
 * One job runs at a time; it goes on when the browser is closed, and the page picks it up again from
 * `GET /api/job` and the event stream.
 */
import type { ConnectorSettingSpecEntry, ConnectorSpecEntry } from '../connectors/specs.js';
import type { Counts } from '../core/progress.js';
import type { FieldType } from '../core/schema.js';
import type { Estimate, ConflictPolicy, VerifyResult } from '../engine/types.js';
import type { Conflict, Failure, MatchIssue, Run } from '../ledger/ledger.js';
import type { Sync } from '../ledger/sync.js';
import type { MappingProblem } from '../project/project-file.js';
import type { FieldMapping, FieldTransform, MatchKey, ObjectMapping } from '../project/types.js';

export interface ApiError {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

// ---------------------------------------------------------------- state and connections

/**
 * A connector's settings form, so the page can draw it without knowing the vendor. The specs live beside
 * the connector registry (src/connectors/specs.ts), which is the one place that knows the vendors.
 */
export type ConnectorSettingSpec = ConnectorSettingSpecEntry;
export type ConnectorSpec = ConnectorSpecEntry;

export interface SideSummary {
  connector: string;
  /** Settings as in ferry.yaml; secret values are never sent back, only `secretsSet` names them. */
  settings: Record<string, string | number | boolean>;
  secretsSet: string[];
  connected: boolean;
  error?: ApiError['error'];
  objects?: { name: string; label?: string; fields: number; count?: number }[];
  /** Added: a CSV source's per-file settings as in ferry.yaml (source.objects). */
  csvObjects?: Record<string, CsvObjectSettings>;
}

/** GET /api/state */
export interface WizardState {
  projectPath: string;
  projectExists: boolean;
  /** Why ferry.yaml could not be read (file, line, key path), when it could not. */
  projectError?: string;
  source?: SideSummary;
  target?: SideSummary;
  connectors: ConnectorSpec[];
  /** Which steps have been done at least once, from the ledger. */
  steps: { connected: boolean; mapped: boolean; matched: boolean; demo: boolean; full: boolean; deltas: number };
  job?: JobView;
  /**
   * Added: a run that stopped before it finished (paused, crashed, server restarted). Starting the same job kind
   * again resumes it; `restart: true` abandons it. Other kinds are refused (RUN_UNFINISHED) until then.
   */
  unfinishedRun?: Run;
  /** Added: the secrets file (.ferry/secrets.env beside ferry.yaml); its values are never sent. */
  secretsFile?: string;
  /** Set when the project is the embedded demo data (POST /api/demo-data): its seed and size. */
  demo?: { seed: number; size: number };
  /** Added: the project's source settings (ferry.yaml's top-level sourceTimeZone / sourceLocale, or pending ones). */
  sourceSettings?: ProjectSourceSettings;
  /**
   * Added: the mapping's errors as `ferry check` reports them (when both sides are connected and there is a
   * mapping). Runs that write are refused by the page until they are fixed; required target fields left
   * unmapped are listed apart, since every record would fail on them.
   */
  mappingErrors?: { total: number; requiredUnmapped: { object: string; target: string; field: string; message: string }[] };
  /** Added: whether this version's ferry.yaml takes `sourceLocale` (the field is offered only then). */
  acceptsSourceLocale?: boolean;
}

/** POST /api/demo-data: writes the embedded demo source and target (seeded) beside ferry.yaml and connects to them. */
export interface DemoDataRequest {
  contacts?: number;
  /** Added: seed of the sample data (default 7, as `ferry demo`). */
  seed?: number;
}
/** Answer of POST /api/demo-data: the new state (the mapping is already proposed, as `ferry map` would). */
export type DemoDataResponse = WizardState;

/**
 * POST /api/demo-data/changes (body `{}`): only on the demo data (409 otherwise). "Time passes", as in step 5
 * of `ferry demo`: new and changed records in the source, edits in the target, a few of them on fields the
 * source changed too (the next delta's conflicts).
 *
 * The source changes are made in the demo's source.db. When the target is still the demo's target.db, the
 * target edits are made there (`targetEdits`) and the conflicting edits through the target connector; when the
 * target was connected to another CRM since (e.g. HubSpot), only the conflicting edits are made, through its
 * connector (as any other client of that CRM would), `targetEdits` is 0 and `note` says so.
 */
export interface DemoChangesResponse {
  created: Record<string, number>;
  changed: Record<string, number>;
  /** Target records edited on fields the source did not change. */
  targetEdits: number;
  /** Target records edited on a field the source changed too: the next delta's conflicts. */
  conflictingEdits: number;
  /** Added: what was not done, and why (e.g. the target is not the demo's target.db). */
  note?: string;
}

/** POST /api/connect: tests the connection; when it works, saves it into ferry.yaml (secrets into the secrets file). */
export interface ConnectRequest {
  side: 'source' | 'target';
  connector: string;
  settings: Record<string, string | number | boolean>;
  /** Secret settings by name; an empty or missing value keeps the one already stored. */
  secrets?: Record<string, string>;
  /** Test only, save nothing. */
  testOnly?: boolean;
  /**
   * Added: the CSV connection's per-file settings (`source.objects.<object>` in ferry.yaml), as the CSV form
   * edits them. Keys the CSV connector does not take are refused by its own schema (CONFIG_INVALID).
   */
  csvObjects?: Record<string, CsvObjectSettings>;
  /** Added: project-level settings the source is read with (top-level keys of ferry.yaml). */
  project?: ProjectSourceSettings;
}
export type ConnectResponse = SideSummary;

/** Top-level ferry.yaml settings for reading the source: `sourceTimeZone`, `sourceLocale`. */
export interface ProjectSourceSettings {
  sourceTimeZone?: string;
  sourceLocale?: string;
}

/** One CSV file's settings (`source.objects.<object>` in ferry.yaml); every key optional. */
export interface CsvObjectSettings {
  file?: string;
  id?: string;
  updatedAt?: string;
  createdAt?: string;
  references?: Record<string, string>;
  listSeparator?: string;
  delimiter?: string;
  encoding?: string;
  locale?: string;
}

/**
 * POST /api/csv/inspect: what the CSV connector finds in a folder with the settings given (nothing is saved).
 * Each file's detected settings and the connector's errors, beside the file they are about.
 */
export interface CsvInspectRequest {
  path: string;
  csvObjects?: Record<string, CsvObjectSettings>;
}

export interface CsvFileView {
  /** File name inside the folder. */
  file: string;
  /** The source object the file becomes. */
  object: string;
  columns: string[];
  /** A file of two reference columns (e.g. contact_id, company_id): links between two objects, no records of its own. */
  join?: { object: string; target: string };
  /** What the connector reads the file with when nothing is set: detected (or its defaults). */
  detected: {
    delimiter: string;
    encoding: string;
    /** The id column: the connector's default `id` when the file has it, else a column that looks like one. */
    id?: string;
    updatedAt?: string;
    createdAt?: string;
    references: Record<string, string>;
    preset?: { vendor: string; object: string };
  };
  /** The settings given for the file (ferry.yaml's `source.objects.<object>`). */
  settings: CsvObjectSettings;
  /** What stops the connector reading the file, and which setting fixes it. */
  problems: { code: string; message: string; setting?: keyof CsvObjectSettings }[];
  /** Shown beside the file, not blocking: no modified column (a delta then reads every record), ... */
  warnings: string[];
}

export interface CsvInspectResponse {
  folder: string;
  files: CsvFileView[];
  /** The connector's answer to the whole folder with these settings (when it could not read it). */
  error?: ApiError['error'];
  /** Every file was read: Save and connect will work. */
  ok: boolean;
  /** The per-file keys the CSV connector takes (from its schema): the form offers the others at folder level only. */
  objectKeys: (keyof CsvObjectSettings)[];
  /** Connection-level keys the connector takes besides path (delimiter, encoding, ...). */
  connectionKeys: string[];
}

// ---------------------------------------------------------------- schemas and mapping

export interface FieldView {
  name: string;
  label?: string;
  type: FieldType;
  required: boolean;
  /** Set by the system (e.g. created_at): a mapping cannot write it. */
  readOnly?: boolean;
  picklist?: { value: string; label?: string }[];
  references?: string;
}

export interface ObjectView {
  name: string;
  label?: string;
  count?: number;
  fields: FieldView[];
}

/** GET /api/schemas */
export interface SchemasResponse {
  source: ObjectView[];
  target: ObjectView[];
}

/** The mapping travels as it is in memory (src/project/types.ts), so page and project file cannot drift apart. */
export type TransformView = FieldTransform;
export type FieldMappingView = FieldMapping;
export type MatchKeyView = MatchKey;
export type ObjectMappingView = ObjectMapping;

/** GET /api/mapping, and the answer of every mapping change. */
export interface MappingResponse {
  objects: ObjectMappingView[];
  problems: { errors: MappingProblem[]; warnings: MappingProblem[] };
  /** Notes from the last proposal (what was guessed and why). */
  notes: string[];
}

/**
 * POST /api/mapping/propose: propose again from both schemas, keeping the user's edits (as `ferry map`).
 * Body `{}`, or `{ "fresh": true }` to drop every object mapping first and propose as for a new project (after the
 * target was switched to another CRM, say; the connections and options in ferry.yaml are kept).
 */
export interface ProposeMappingRequest {
  fresh?: boolean;
}
/** PUT /api/mapping/objects/:source  body: ObjectMappingView. Validated, then saved to ferry.yaml (comments kept). */

/** GET /api/samples?side=source|target&object=X&field=Y : distinct sample values, at most `limit` (default 20). */
export interface SamplesResponse {
  object: string;
  field: string;
  values: string[];
}

/**
 * GET /api/records?side=target&object=owners&limit=500: records of an object a reference field points to, by
 * name and e-mail, so a value map from source names (owner names, ...) can offer them (the owner table).
 */
export interface RecordChoicesResponse {
  object: string;
  records: { id: string; name?: string; email?: string }[];
  /** More records than the limit: the list is the first `limit`. */
  truncated: boolean;
}

// ---------------------------------------------------------------- jobs (runs started from the page)

export type JobKind = 'match' | 'demo' | 'full' | 'delta' | 'retry' | 'undo' | 'verify';

/** POST /api/jobs: starts a job; 409 with code JOB_RUNNING when one is running. */
export interface StartJobRequest {
  kind: JobKind;
  dryRun?: boolean;
  /** demo */
  sampleSize?: number;
  /** full */
  rerun?: boolean;
  /** delta */
  createNew?: boolean;
  updateChanged?: boolean;
  onConflict?: ConflictPolicy;
  /** retry and undo: the run concerned */
  runId?: number;
  /** Abandon an unfinished run instead of resuming it. */
  restart?: boolean;
}

export interface ObjectProgressView {
  object: string;
  processed: number;
  total?: number;
  counts: Counts;
  /** Records per second over the last few seconds. */
  rate: number;
  /** Seconds left, when the total is known. */
  etaSeconds?: number;
  finished: boolean;
}

export interface JobView {
  id: string;
  kind: JobKind;
  request: StartJobRequest;
  status: 'running' | 'pausing' | 'paused' | 'finished' | 'failed';
  runId?: number;
  phase?: string;
  startedAt: string;
  finishedAt?: string;
  objects: ObjectProgressView[];
  /** The latest failures as they happen (at most 50; the run's page has them all). */
  recentFailures: { object: string; sourceId: string; code: string; field?: string; value?: string; message: string }[];
  messages: string[];
  result?: {
    runId: number;
    status: string;
    dryRun: boolean;
    counts: Record<string, Counts>;
    estimate?: Estimate;
    messages: string[];
  };
  verify?: VerifyResult;
  error?: ApiError['error'];
}

/** Added. GET /api/rerun-preview: per object, how many target records `full` with `rerun: true` deletes first (ask before). */
export interface RerunPreviewResponse {
  /** Per object, the records earlier runs created that the rerun deletes. */
  objects: Record<string, number>;
  /** Per object, created records it keeps (and updates): still referenced by records Ferry did not create. */
  kept: Record<string, number>;
}

/** GET /api/job: the current or last job, or 204 when there has been none since the server started. */
/** POST /api/job/pause: the run stops after the page it is writing and stays resumable. */
/** POST /api/job/resume: runs the paused command again, which resumes it where it stopped. */

/**
 * GET /api/events: server-sent events. Every event's data is JSON.
 * - `job`: a JobView, whenever the job changes (at most a few per second).
 * - `progress`: a ProgressEvent from the engine, as is.
 */

// ---------------------------------------------------------------- runs and reports

// ---------------------------------------------------------------- continuous sync

/** One cycle of the sync (a delta run started since the sync started), for the records-per-cycle list. */
export interface SyncCycleView {
  runId: number;
  status: Run['status'];
  startedAt: string;
  finishedAt: string | null;
  created: number;
  updated: number;
  conflicts: number;
  failed: number;
}

/**
 * GET /api/sync: the newest `ferry sync` of the ledger (null: none yet), whether its process is alive, and its
 * cycles, newest first (at most 20). POST /api/sync with `{ "stop": true }` asks a running sync to stop after
 * its current cycle (as `ferry cutover` does, without the final delta) and answers the same body.
 */
export interface SyncResponse {
  sync: Sync | null;
  alive: boolean;
  cycles: SyncCycleView[];
}

/** GET /api/runs: every run in the ledger, newest first. */
export interface RunsResponse {
  runs: Run[];
}

/** GET /api/runs/:id */
/**
 * A queued run's parts (ledger on PostgreSQL, written by `ferry worker` processes): each part's state, the
 * worker holding its lease and its counts, as `ferry runs <id> --json` gives them. `parts: null`: the run is
 * not written in parts (an in-process run, or a ledger on SQLite).
 */
export interface RunPartsResponse {
  parts: import('../workers/progress.js').PartsProgress | null;
}

export interface RunDetailResponse {
  run: Run;
  failures: Failure[];
  conflicts: Conflict[];
  /** Whether `undo` can be run on it now (undo is last-in, first-out) and why not. */
  undo: { possible: boolean; reason?: string };
  /**
   * Records of the run still failed (`openFailures`) or written with a warning (`openWarnings`, e.g. without a
   * reference that was missing then); a retry writes both again.
   */
  retry: { possible: boolean; openFailures: number; openWarnings?: number };
  /** Added, for charts: failures of this run per error code (as in the report). */
  failuresByCode?: Record<string, number>;
}

/** GET /api/runs/:id/report.csv | report.html | report.json : the same reports as `ferry report`, as downloads. */

/** GET /api/runs/:id/sample: source and target values side by side for the records a demo wrote. */
export interface SampleComparison {
  object: string;
  targetObject: string;
  records: {
    sourceId: string;
    targetId: string | null;
    fields: { source: string; target: string; sourceValue: unknown; targetValue: unknown }[];
  }[];
}
export interface RunSampleResponse {
  runId: number;
  objects: SampleComparison[];
}

/** GET /api/match: what matching found, per object, with the lists. */
export interface MatchResponse {
  objects: { object: string; matched: number; ambiguous: number; duplicates: number; unlinked: number }[];
  issues: MatchIssue[];
}
