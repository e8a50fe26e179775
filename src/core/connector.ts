import type { ErrorCode } from './errors.js';
import type { ConnectorFiles } from './files.js';
import type { FieldValue, SchemaDescription } from './schema.js';

/** A record as every connector returns it. `fields` follow the value conventions in schema.ts. */
export interface CrmRecord {
  id: string;
  /** Last-modified instant (ISO UTC with ms), or null when the object has none. */
  updatedAt: string | null;
  fields: Record<string, FieldValue>;
}

export interface ReadOptions {
  /** Inclusive lower bound (ISO UTC): only records with updatedAt >= this. Needs `capabilities.modifiedSince`. */
  modifiedSince?: string;
  /** Opaque cursor from a previous page's `next`; absent for the first page. */
  after?: string;
  /** Page size wish; the connector may return fewer (never more than capabilities.maxPageSize). */
  limit?: number;
  /** Restrict returned fields (the id and modified field are always returned). */
  fields?: string[];
  /**
   * The caller needs every record once, not the (updatedAt, id) order (matching reads only keys): the
   * connector may page in its cheapest stable order instead (SQL: the primary key, with no sort of a
   * table whose modified column has no index). A cursor of such a read continues only such a read.
   */
  anyOrder?: boolean;
  /**
   * Only records whose id is after `after` (exclusive) and up to `until` (inclusive), in the connector's
   * id order (the order of an `anyOrder` read). Needs `capabilities.idRanges`: how queued runs split an
   * object into parts that workers write at the same time (docs/workers.md). Either bound may be absent.
   */
  idRange?: { after?: string; until?: string };
}

/**
 * One page of records. Records are ordered by (updatedAt, id) ascending when the connector has
 * `orderedByModified`, so a record changed while the read goes on moves behind the cursor and is read
 * again rather than lost. `next` is absent on the last page.
 */
export interface ReadPage {
  records: CrmRecord[];
  next?: string;
}

export interface CreateInput {
  /** Caller's reference for attributing results (e.g. the source record id). */
  ref: string;
  fields: Record<string, FieldValue>;
  /** Stamped on the target record's external-id field when the connector supports it. */
  externalId?: string;
}

export interface UpdateInput {
  id: string;
  fields: Record<string, FieldValue>;
}

export interface RecordError {
  code: ErrorCode;
  message: string;
  field?: string;
  value?: FieldValue;
}

/** A source row the connector could not turn into a record (skipped; the read goes on). */
export interface ReadError {
  object: string;
  /** The record id when it could be read, else a position such as `line 42`. */
  recordId: string;
  code: ErrorCode;
  message: string;
  field?: string;
  value?: FieldValue;
}

/** A record deleted in the source, as the source can still tell (a tombstone, or a known id that is gone). */
export interface SourceDeletion {
  id: string;
  /** When it was deleted (ISO UTC), when the source says; null when it only knows the record is gone. */
  deletedAt: string | null;
}

/** What `Connector.readDeletions` is asked. */
export interface DeletionQuery {
  /** Inclusive lower bound (ISO UTC): deletions at or after this instant (the delta's window). */
  since: string;
  /**
   * The ids of this object the caller has migrated, a page at a time. A source that keeps no tombstones for
   * the object (no list of deleted records) can check which of them are gone; one with tombstones ignores it.
   */
  known(): AsyncIterable<string[]>;
}

/** One result per input, in input order. */
export type WriteResult = { ok: true; id: string } | { ok: false; error: RecordError };

export interface Capabilities {
  /** Can filter reads by modification time (`ReadOptions.modifiedSince`). */
  modifiedSince: boolean;
  /** Reads come ordered by (updatedAt, id). */
  orderedByModified: boolean;
  /** Can be written to (create/update/delete). */
  writable: boolean;
  /** Supports stamping and finding records by an external id (crash-safe creates). */
  externalId: boolean;
  /** Can add fields/columns to its schema when asked. */
  createFields: boolean;
  /**
   * The user asked this connector (in its settings) to create the fields and picklist options a write
   * names that its schema lacks. The engine then accepts such fields and values in the mapping.
   */
  createsMissingOnWrite?: boolean;
  /**
   * Refuses to delete a record other records still refer to (a database's foreign keys), instead of
   * deleting it and dropping the references (HubSpot). `migrate --rerun` then keeps such records, and its
   * preview says so.
   */
  refusesDeletingReferenced?: boolean;
  /** Reads can be bounded by id (`ReadOptions.idRange`), and an `anyOrder` read pages in that id order. */
  idRanges?: boolean;
  maxPageSize: number;
  batchSize: { read: number; create: number; update: number; delete: number };
  /**
   * As a target: records it writes best in one call (a bulk job takes over from this size). The engine
   * gathers source pages up to this many records before writing them, as one unit of work; absent: a
   * source page at a time.
   */
  writeGroup?: number;
  /** Default delta lookback in milliseconds (clock skew and commit delays of the source). */
  lookbackMs: number;
  /** Pacing the engine uses to estimate run time (requests per second), when the connector is rate limited. */
  requestsPerSecond?: number;
  /**
   * What writing one record costs of a daily request budget the vendor counts in its own unit (Pipedrive:
   * tokens), for dry runs to forecast the cost of the writes they do not send.
   */
  writeCost?: { unit: string; create: number; update: number; delete: number };
}

/** What a connector would do to give an object its external-id field (Connector.planExternalId). */
export interface ExternalIdPlan {
  object: string;
  /** The external-id field's name. */
  field: string;
  /**
   * `exists`: the field is there and usable; `create`: it is missing and would be created; `unsupported`: the
   * object cannot have one (creates into it are sent once); `conflict`: a field of that name exists but cannot
   * serve (e.g. not marked External ID), which a person has to settle.
   */
  action: 'exists' | 'create' | 'unsupported' | 'conflict';
  /** A run does it by itself (the connector's settings allow it); otherwise only an explicit request does. */
  automatic: boolean;
  /** One sentence for people: what is there, what would be created and how, or why not. */
  detail: string;
}

/** What a connection spent of its vendor's daily request budget (Connector.usage). */
export interface RequestUsage {
  /** The budget's unit, e.g. `tokens`. */
  unit: string;
  /** Spent by this connection so far. */
  spent: number;
  /** Left today as the vendor last said, when known. */
  remaining?: number;
}

/**
 * What every source and target implements. A connector knows its vendor and nothing about ledgers,
 * runs or mappings; the engine knows connectors only through this interface.
 */
export interface Connector {
  readonly kind: string;
  capabilities(): Capabilities;
  /** Checks credentials and reachability; throws FerryError AUTH_FAILED / CONNECTION_FAILED. */
  check(): Promise<void>;
  describe(): Promise<SchemaDescription>;
  read(object: string, options?: ReadOptions): Promise<ReadPage>;
  /** Records with these ids; ids that do not exist are left out. */
  readByIds(object: string, ids: string[], fields?: string[]): Promise<CrmRecord[]>;
  create(object: string, inputs: CreateInput[]): Promise<WriteResult[]>;
  update(object: string, inputs: UpdateInput[]): Promise<WriteResult[]>;
  delete(object: string, ids: string[]): Promise<WriteResult[]>;
  /**
   * Makes sure the object has an external-id field (creating it when allowed) and returns its name,
   * or undefined when the connector cannot stamp external ids on this object. `create: true` is the user's
   * explicit request to create a missing one (`ferry external-ids`) where the connector otherwise creates
   * none unless its settings say so (Salesforce).
   */
  ensureExternalId?(object: string, options?: { create?: boolean }): Promise<string | undefined>;
  /** What `ensureExternalId(object, { create: true })` would do, without doing it (`ferry external-ids --dry-run`). */
  planExternalId?(object: string): Promise<ExternalIdPlan>;
  /** Target ids of records stamped with these external ids (externalId -> target id). */
  findByExternalIds?(object: string, externalIds: string[]): Promise<Map<string, string>>;
  /**
   * Records whose text `field`, lower-cased, contains one of `values` (given lower-case and ASCII), in id
   * order: a superset the caller narrows, so it may return more but never fewer. Lets refresh matching in a
   * delta look up the few new records' keys instead of reading every target record (docs/performance.md).
   */
  findContaining?(object: string, field: string, values: string[], fields?: string[]): Promise<CrmRecord[]>;
  /**
   * Records of `object` deleted in the source, for a delta to report (never to propagate: semantics.md,
   * "a delta never deletes anything in the target"). Tombstones where the vendor keeps them (Pipedrive's
   * deleted deals for 30 days, Salesforce `queryAll` with `IsDeleted`, HubSpot `archived=true`), otherwise the
   * `known` ids that are gone. Undefined when the connector cannot see deletions of this object.
   */
  readDeletions?(object: string, query: DeletionQuery): Promise<SourceDeletion[] | undefined>;
  /** What this connection spent of a vendor's daily request budget (a connector whose vendor has one). */
  usage?(): RequestUsage;
  /** Rows skipped by reads since the last call (e.g. a CSV row with broken quoting); each reported once. */
  takeReadErrors?(): ReadError[];
  /**
   * The source's own clock (ISO UTC): a run's high-water mark. Undefined (or no method) when the source
   * knows no time at all; the engine then takes the local clock.
   */
  now?(): Promise<string | undefined>;
  /** Files attached to records: listing and opening them (source), storing and attaching them (target). */
  readonly files?: ConnectorFiles;
  close(): Promise<void>;
}

/** Reads every page of an object. */
export async function* readAll(connector: Connector, object: string, options: ReadOptions = {}): AsyncGenerator<CrmRecord> {
  let after = options.after;
  for (;;) {
    const page = await connector.read(object, { ...options, after });
    for (const record of page.records) yield record;
    if (!page.next) return;
    after = page.next;
  }
}
