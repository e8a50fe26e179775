import { HubspotHttpError, badRequest, notFound, type HubspotErrorBody } from './errors.js';
import { runSearch } from './search.js';
import type { PublicRecord, StoredRecord, WriteOptions } from './store.js';
import type { HandlerContext, HandlerResult } from './routes.js';

/**
 * CRM objects v3: list, read, create, update, archive, the five batch endpoints and search.
 * https://developers.hubspot.com/docs/api-reference/legacy/crm/objects/objects/batch/create-objects
 * Status codes as in the official SDK (codegen/crm/objects/apis/BatchApi.ts): create 201 (207 partial),
 * read/update/upsert 200 (207 partial), archive 204.
 */
export const BATCH_LIMIT = 100;
const LIST_MAX = 100;

/**
 * The store key of the path's object type. Custom objects are named by objectTypeId, fullyQualifiedName or
 * `p_{name}`; their base name is refused as HubSpot refuses it since 2025
 * (https://developers.hubspot.com/changelog/breaking-change-removed-support-for-referencing-custom-object-types-by-base-name).
 */
export function objectType(ctx: HandlerContext, raw: string): string {
  const type = ctx.store.resolveType(raw);
  if (!type) throw badRequest(`Unable to infer object type from: ${raw}`);
  return type;
}

function listParam(ctx: HandlerContext, name: string): string[] | undefined {
  const values = ctx.query.getAll(name).flatMap((value) => value.split(',')).map((value) => value.trim()).filter(Boolean);
  return values.length > 0 ? values : undefined;
}

function associationTypesParam(ctx: HandlerContext): string[] | undefined {
  return listParam(ctx, 'associations')?.map((name) => ctx.store.resolveType(name) ?? name);
}

function isoNow(ctx: HandlerContext): string {
  return new Date(ctx.store.clock()).toISOString();
}

function inputsOf(body: unknown): Record<string, unknown>[] {
  const inputs = (body as { inputs?: unknown } | undefined)?.inputs;
  if (!Array.isArray(inputs)) throw badRequest('Invalid input JSON: inputs must be an array');
  // "at most 100 inputs" per batch: https://developers.hubspot.com/docs/api/crm/understanding-the-crm (batch limits)
  if (inputs.length > BATCH_LIMIT) throw badRequest(`Batch input is limited to ${BATCH_LIMIT} inputs, got ${inputs.length}`, { context: { limit: [String(BATCH_LIMIT)] } });
  return inputs as Record<string, unknown>[];
}

export function listObjects(ctx: HandlerContext, rawType: string): HandlerResult {
  const type = objectType(ctx, rawType);
  const limitText = ctx.query.get('limit');
  const limit = limitText === null ? 10 : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > LIST_MAX) throw badRequest(`limit must be between 1 and ${LIST_MAX}, got ${limitText}`);
  const after = ctx.query.get('after');
  const afterId = after === null || after === '' ? 0 : Number(after);
  if (!Number.isFinite(afterId)) throw badRequest(`Invalid after value: ${after}`);
  const archived = ctx.query.get('archived') === 'true';
  const properties = listParam(ctx, 'properties');
  const associations = associationTypesParam(ctx);
  const results: PublicRecord[] = [];
  let next: string | undefined;
  // Records page in id order; `after` is the id the next page starts at (an opaque cursor to clients).
  for (const record of ctx.store.table(type).values()) {
    if (record.archived !== archived || Number(record.id) < afterId) continue;
    if (results.length === limit) {
      next = record.id;
      break;
    }
    results.push(ctx.store.toPublic(record, properties, { associations }));
  }
  const body: Record<string, unknown> = { results };
  if (next !== undefined) {
    const link = new URL(`${ctx.baseUrl}/crm/v3/objects/${rawType}`);
    ctx.query.forEach((value, key) => {
      if (key !== 'after') link.searchParams.append(key, value);
    });
    link.searchParams.set('after', next);
    body.paging = { next: { after: next, link: link.toString() } };
  }
  return { status: 200, body };
}

export function getObject(ctx: HandlerContext, rawType: string, id: string): HandlerResult {
  const type = objectType(ctx, rawType);
  const idProperty = ctx.query.get('idProperty') ?? undefined;
  const archived = ctx.query.get('archived') === 'true';
  const record = archived ? ctx.store.get(type, id) : ctx.store.find(type, id, idProperty);
  if (!record || record.archived !== archived) throw notFound();
  return { status: 200, body: ctx.store.toPublic(record, listParam(ctx, 'properties'), { associations: associationTypesParam(ctx) }) };
}

export function createObject(ctx: HandlerContext, rawType: string): HandlerResult {
  const type = objectType(ctx, rawType);
  const body = (ctx.body ?? {}) as { properties?: Record<string, unknown>; associations?: WriteOptions['associations'] };
  const record = ctx.store.create(type, body.properties ?? {}, { associations: body.associations });
  return { status: 201, body: ctx.store.toPublic(record, Object.keys(body.properties ?? {})) };
}

export function updateObject(ctx: HandlerContext, rawType: string, id: string): HandlerResult {
  const type = objectType(ctx, rawType);
  const body = (ctx.body ?? {}) as { properties?: Record<string, unknown> };
  const record = ctx.store.update(type, id, body.properties ?? {}, { idProperty: ctx.query.get('idProperty') ?? undefined });
  return { status: 200, body: ctx.store.toPublic(record, Object.keys(body.properties ?? {})) };
}

export function archiveObject(ctx: HandlerContext, rawType: string, id: string): HandlerResult {
  const type = objectType(ctx, rawType);
  ctx.store.archive(type, id);
  return { status: 204 };
}

export function searchObjects(ctx: HandlerContext, rawType: string): HandlerResult {
  const type = objectType(ctx, rawType);
  return { status: 200, body: runSearch(ctx.store, type, ctx.body) };
}

// ---- batch ------------------------------------------------------------------------------------------------

interface BatchOutcome {
  results: unknown[];
  errors: HubspotErrorBody[];
  startedAt: string;
}

function batchResponse(ctx: HandlerContext, outcome: BatchOutcome, okStatus: number): HandlerResult {
  const body: Record<string, unknown> = { status: 'COMPLETE', results: outcome.results, startedAt: outcome.startedAt, completedAt: isoNow(ctx) };
  if (outcome.errors.length === 0) return { status: okStatus, body };
  body.numErrors = outcome.errors.length;
  body.errors = outcome.errors;
  return { status: 207, body };
}

/** One input's error inside a 207, attributed by objectWriteTraceId when the input carried one. */
function inputError(error: HubspotHttpError, traceId: string | undefined): HubspotErrorBody {
  const context = { ...(error.body.context ?? {}), ...(traceId !== undefined ? { objectWriteTraceId: [traceId] } : {}) };
  return { ...error.body, context, errors: error.body.errors ?? [] };
}

function injectedFailure(): HubspotHttpError {
  return new HubspotHttpError(500, 'INTERNAL_ERROR', 'An internal error occurred while processing this input; it was not written. (injected fault)');
}

/** Which inputs the partial-batch fault fails (deterministic: drawn from the injector's seeded PRNG). */
function injectedFailures(ctx: HandlerContext, count: number): Set<number> {
  const failed = new Set<number>();
  const fraction = ctx.faults.partialBatchFraction;
  if (fraction === undefined) return failed;
  for (let index = 0; index < count; index++) if (ctx.injector.draw() < fraction) failed.add(index);
  return failed;
}

function traceIdOf(input: Record<string, unknown>): string | undefined {
  const trace = input.objectWriteTraceId;
  return typeof trace === 'string' && trace !== '' ? trace : undefined;
}

/**
 * Multi-status: an input that fails is reported in a 207 beside the inputs that were written only when it carries
 * an `objectWriteTraceId`; without one the whole batch fails and nothing is written (HubSpot: "include a unique
 * objectWriteTraceId value for each input ... the response will show which records were created and which were
 * not", https://developers.hubspot.com/docs/api-reference/latest/error-handling; all-or-nothing otherwise:
 * https://github.com/HubSpot/hubspot-api-python/issues/51).
 */
function runBatch<P>(
  ctx: HandlerContext,
  inputs: Record<string, unknown>[],
  validate: (input: Record<string, unknown>, claimed: Map<string, Set<string>>) => P,
  apply: (input: Record<string, unknown>, prepared: P) => unknown,
): BatchOutcome {
  const startedAt = isoNow(ctx);
  const injected = injectedFailures(ctx, inputs.length);
  const claimed = new Map<string, Set<string>>();
  const prepared: ({ ok: true; value: P } | { ok: false; error: HubspotHttpError })[] = inputs.map((input, index) => {
    if (injected.has(index)) return { ok: false, error: injectedFailure() };
    try {
      return { ok: true, value: validate(input, claimed) };
    } catch (error) {
      if (error instanceof HubspotHttpError) return { ok: false, error };
      throw error;
    }
  });
  const fatal = prepared.find((entry, index) => !entry.ok && traceIdOf(inputs[index]!) === undefined && !injected.has(index) && entry.error.status !== 404);
  if (fatal && !fatal.ok) throw fatal.error;
  const results: unknown[] = [];
  const errors: HubspotErrorBody[] = [];
  prepared.forEach((entry, index) => {
    const input = inputs[index]!;
    if (entry.ok) results.push(apply(input, entry.value));
    else errors.push(inputError(entry.error, traceIdOf(input)));
  });
  return { results, errors, startedAt };
}

/** Unique values claimed by earlier inputs of the same batch count as taken. */
function claimUnique(ctx: HandlerContext, type: string, values: Map<string, string>, claimed: Map<string, Set<string>>): void {
  for (const name of ctx.store.uniqueProperties(type)) {
    const value = values.get(name);
    if (value === undefined || value === '') continue;
    let seen = claimed.get(name);
    if (!seen) {
      seen = new Set();
      claimed.set(name, seen);
    }
    if (seen.has(value)) {
      const label = ctx.store.info(type).singular;
      throw new HubspotHttpError(409, 'CONFLICT', `Duplicate ${name} "${value}" within the batch: another ${label} input already sets it.`);
    }
    seen.add(value);
  }
}

function withTrace(record: PublicRecord, input: Record<string, unknown>): PublicRecord {
  const trace = traceIdOf(input);
  return trace === undefined ? record : { ...record, objectWriteTraceId: trace };
}

export function batchCreate(ctx: HandlerContext, rawType: string): HandlerResult {
  const type = objectType(ctx, rawType);
  const inputs = inputsOf(ctx.body);
  const outcome = runBatch(
    ctx,
    inputs,
    (input, claimed) => {
      const changes = ctx.store.prepareChanges(type, (input.properties ?? {}) as Record<string, unknown>, new Map());
      ctx.store.requireOnCreate(type, changes);
      ctx.store.checkUnique(type, changes);
      claimUnique(ctx, type, changes, claimed);
      ctx.store.resolveAssociations(type, (input.associations ?? []) as NonNullable<WriteOptions['associations']>);
      return changes;
    },
    (input) => {
      const record = ctx.store.create(type, (input.properties ?? {}) as Record<string, unknown>, { associations: input.associations as WriteOptions['associations'] });
      return withTrace(ctx.store.toPublic(record, Object.keys((input.properties ?? {}) as object)), input);
    },
  );
  return batchResponse(ctx, outcome, 201);
}

function findForWrite(ctx: HandlerContext, type: string, input: Record<string, unknown>, idProperty: string | undefined): StoredRecord {
  const id = String(input.id ?? '');
  const record = ctx.store.find(type, id, idProperty);
  if (!record) {
    throw new HubspotHttpError(404, 'OBJECT_NOT_FOUND', `Could not find ${ctx.store.info(type).singular} ${idProperty ? `with ${idProperty}=` : ''}${id}`, { context: { ids: [id] } });
  }
  return record;
}

function requireUniqueIdProperty(ctx: HandlerContext, type: string, idProperty: string | undefined): void {
  if (idProperty === undefined || idProperty === 'hs_object_id') return;
  if (!ctx.store.uniqueProperties(type).includes(idProperty)) {
    // Wording seen from HubSpot: https://github.com/HubSpot/hubspot-api-nodejs/issues/548
    throw badRequest(`Unable to perform update/upsert by non-unique ${ctx.store.info(type).objectTypeId} property`, { context: { idProperty: [idProperty] } });
  }
}

export function batchUpdate(ctx: HandlerContext, rawType: string): HandlerResult {
  const type = objectType(ctx, rawType);
  const inputs = inputsOf(ctx.body);
  const outcome = runBatch(
    ctx,
    inputs,
    (input, claimed) => {
      const idProperty = typeof input.idProperty === 'string' ? input.idProperty : undefined;
      requireUniqueIdProperty(ctx, type, idProperty);
      const record = findForWrite(ctx, type, input, idProperty);
      const changes = ctx.store.prepareChanges(type, (input.properties ?? {}) as Record<string, unknown>, record.properties);
      ctx.store.checkUnique(type, changes, record.id);
      claimUnique(ctx, type, changes, claimed);
      return record;
    },
    (input, record) => withTrace(ctx.store.toPublic(ctx.store.update(type, record.id, (input.properties ?? {}) as Record<string, unknown>), Object.keys((input.properties ?? {}) as object)), input),
  );
  return batchResponse(ctx, outcome, 200);
}

export function batchUpsert(ctx: HandlerContext, rawType: string): HandlerResult {
  const type = objectType(ctx, rawType);
  const inputs = inputsOf(ctx.body);
  const outcome = runBatch(
    ctx,
    inputs,
    (input, claimed) => {
      const idProperty = typeof input.idProperty === 'string' ? input.idProperty : undefined;
      if (idProperty === undefined) throw badRequest('idProperty is required for upsert');
      requireUniqueIdProperty(ctx, type, idProperty);
      const properties = { ...((input.properties ?? {}) as Record<string, unknown>) };
      const existing = ctx.store.find(type, String(input.id ?? ''), idProperty);
      if (existing) {
        const changes = ctx.store.prepareChanges(type, properties, existing.properties);
        ctx.store.checkUnique(type, changes, existing.id);
        claimUnique(ctx, type, changes, claimed);
        return { existing, properties };
      }
      if (idProperty !== 'hs_object_id') properties[idProperty] = input.id;
      const changes = ctx.store.prepareChanges(type, properties, new Map());
      ctx.store.requireOnCreate(type, changes);
      ctx.store.checkUnique(type, changes);
      claimUnique(ctx, type, changes, claimed);
      return { existing: undefined, properties };
    },
    (input, { existing, properties }) => {
      const record = existing ? ctx.store.update(type, existing.id, properties) : ctx.store.create(type, properties);
      return { ...withTrace(ctx.store.toPublic(record, Object.keys(properties)), input), new: existing === undefined };
    },
  );
  return batchResponse(ctx, outcome, 200);
}

export function batchArchive(ctx: HandlerContext, rawType: string): HandlerResult {
  const type = objectType(ctx, rawType);
  for (const input of inputsOf(ctx.body)) ctx.store.archive(type, String(input.id ?? ''));
  return { status: 204 };
}

export function batchRead(ctx: HandlerContext, rawType: string): HandlerResult {
  const type = objectType(ctx, rawType);
  const body = (ctx.body ?? {}) as { properties?: string[]; idProperty?: string };
  const inputs = inputsOf(ctx.body);
  const archived = ctx.query.get('archived') === 'true';
  requireUniqueIdProperty(ctx, type, body.idProperty);
  const startedAt = isoNow(ctx);
  const results: PublicRecord[] = [];
  const missing: string[] = [];
  for (const input of inputs) {
    const id = String(input.id ?? '');
    const record = archived ? ctx.store.get(type, id) : ctx.store.find(type, id, body.idProperty);
    if (!record || record.archived !== archived) missing.push(id);
    else results.push(ctx.store.toPublic(record, body.properties));
  }
  const errors: HubspotErrorBody[] = [];
  if (missing.length > 0) {
    // Message as HubSpot words it for batch reads of unknown ids (all missing ids in one error, `context.ids`).
    errors.push(
      new HubspotHttpError(404, 'OBJECT_NOT_FOUND', `Could not get some ${ctx.store.info(type).singular.toUpperCase()} objects, they may be deleted or not exist. Check that ids are valid.`, {
        context: { ids: missing },
        errors: [],
      }).body,
    );
  }
  return batchResponse(ctx, { results, errors, startedAt }, 200);
}
