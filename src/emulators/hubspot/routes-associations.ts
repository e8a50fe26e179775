import { HubspotHttpError, badRequest, type HubspotErrorBody } from './errors.js';
import { BATCH_LIMIT, objectType } from './routes-objects.js';
import type { HandlerContext, HandlerResult } from './routes.js';

/**
 * Associations v4 (https://developers.hubspot.com/docs/api/crm/associations). Request and response shapes follow
 * the official SDK (codegen/crm/associations/v4): batch/create -> 201 `LabelsBetweenObjectPair` results (207 partial),
 * batch/associate/default -> 200 `PublicDefaultAssociation`, batch/read -> 200 `PublicAssociationMultiWithLabel`
 * (207 partial), batch/archive -> 204.
 */

type Input = Record<string, unknown>;

function inputs(ctx: HandlerContext): Input[] {
  const list = (ctx.body as { inputs?: unknown } | undefined)?.inputs;
  if (!Array.isArray(list)) throw badRequest('Invalid input JSON: inputs must be an array');
  if (list.length > BATCH_LIMIT) throw badRequest(`Batch input is limited to ${BATCH_LIMIT} inputs, got ${list.length}`);
  return list as Input[];
}

function idOf(value: unknown): string {
  return String((value as { id?: unknown } | undefined)?.id ?? '');
}

/** `{category, typeId, label}` of one association type, as v4 reads report it. */
function typeLabel(ctx: HandlerContext, from: string, typeId: number): { category: string; typeId: number; label: string | null } {
  const type = ctx.store.associationType(from, typeId);
  return { category: type?.category ?? 'HUBSPOT_DEFINED', typeId, label: type?.label ?? null };
}

function now(ctx: HandlerContext): string {
  return new Date(ctx.store.clock()).toISOString();
}

function respond(ctx: HandlerContext, startedAt: string, results: unknown[], errors: HubspotErrorBody[], okStatus: number): HandlerResult {
  const body: Record<string, unknown> = { status: 'COMPLETE', results, startedAt, completedAt: now(ctx) };
  if (errors.length === 0) return { status: okStatus, body };
  return { status: 207, body: { ...body, numErrors: errors.length, errors } };
}

function missing(ctx: HandlerContext, type: string, id: string): HubspotErrorBody | undefined {
  if (ctx.store.find(type, id)) return undefined;
  return new HubspotHttpError(400, 'VALIDATION_ERROR', `${ctx.store.info(type).singular} ${id} does not exist or is archived`, { context: { ids: [id] }, errors: [] }).body;
}

export function batchCreateAssociations(ctx: HandlerContext, rawFrom: string, rawTo: string): HandlerResult {
  const from = objectType(ctx, rawFrom);
  const to = objectType(ctx, rawTo);
  const startedAt = now(ctx);
  const results: unknown[] = [];
  const errors: HubspotErrorBody[] = [];
  for (const input of inputs(ctx)) {
    const fromId = idOf(input.from);
    const toId = idOf(input.to);
    const problem = missing(ctx, from, fromId) ?? missing(ctx, to, toId);
    if (problem) {
      errors.push(problem);
      continue;
    }
    const types = Array.isArray(input.types) ? (input.types as { associationCategory?: string; associationTypeId?: unknown }[]) : [];
    const invalid = types.find((spec) => ctx.store.associationType(from, Number(spec.associationTypeId))?.toType !== to);
    if (types.length === 0 || invalid) {
      errors.push(new HubspotHttpError(400, 'VALIDATION_ERROR', `Invalid association type ${String(invalid?.associationTypeId ?? '(none)')} from ${from} to ${to}`, { errors: [] }).body);
      continue;
    }
    for (const spec of types) ctx.store.associate(from, fromId, to, toId, Number(spec.associationTypeId));
    results.push({
      fromObjectTypeId: ctx.store.info(from).objectTypeId,
      fromObjectId: Number(fromId),
      toObjectTypeId: ctx.store.info(to).objectTypeId,
      toObjectId: Number(toId),
      labels: types.map((spec) => ctx.store.associationType(from, Number(spec.associationTypeId))?.label).filter((label): label is string => typeof label === 'string'),
    });
  }
  return respond(ctx, startedAt, results, errors, 201);
}

export function batchAssociateDefault(ctx: HandlerContext, rawFrom: string, rawTo: string): HandlerResult {
  const from = objectType(ctx, rawFrom);
  const to = objectType(ctx, rawTo);
  const defaultType = ctx.store.associationTypesBetween(from, to).find((type) => type.isDefault);
  if (!defaultType) throw badRequest(`There is no default association type from ${from} to ${to}`);
  const startedAt = now(ctx);
  const results: unknown[] = [];
  const errors: HubspotErrorBody[] = [];
  for (const input of inputs(ctx)) {
    const fromId = idOf(input.from);
    const toId = idOf(input.to);
    const problem = missing(ctx, from, fromId) ?? missing(ctx, to, toId);
    if (problem) {
      errors.push(problem);
      continue;
    }
    ctx.store.associate(from, fromId, to, toId, defaultType.typeId);
    results.push({ from: { id: fromId }, to: { id: toId }, associationSpec: { associationCategory: defaultType.category, associationTypeId: defaultType.typeId } });
  }
  return respond(ctx, startedAt, results, errors, 200);
}

export function batchReadAssociations(ctx: HandlerContext, rawFrom: string, rawTo: string): HandlerResult {
  const from = objectType(ctx, rawFrom);
  const to = objectType(ctx, rawTo);
  const startedAt = now(ctx);
  const results: unknown[] = [];
  const errors: HubspotErrorBody[] = [];
  for (const input of inputs(ctx)) {
    const fromId = String(input.id ?? '');
    const found = ctx.store.associationsOf(from, fromId, to);
    if (found.length === 0) {
      // Records without associations are reported as errors of a 207, not as empty results (assumption from
      // observed behaviour; see docs/connectors/hubspot-emulator.md).
      errors.push(
        new HubspotHttpError(404, 'OBJECT_NOT_FOUND', `No ${to} is associated with ${ctx.store.info(from).singular} ${fromId}.`, { context: { fromObjectId: [fromId] }, errors: [] })
          .body,
      );
      continue;
    }
    results.push({
      from: { id: fromId },
      to: found.map(([toId, typeIds]) => ({
        toObjectId: Number(toId),
        associationTypes: typeIds.map((typeId) => typeLabel(ctx, from, typeId)),
      })),
    });
  }
  return respond(ctx, startedAt, results, errors, 200);
}

export function batchArchiveAssociations(ctx: HandlerContext, rawFrom: string, rawTo: string): HandlerResult {
  const from = objectType(ctx, rawFrom);
  const to = objectType(ctx, rawTo);
  for (const input of inputs(ctx)) {
    const fromId = idOf(input.from);
    const targets = Array.isArray(input.to) ? (input.to as unknown[]) : [];
    for (const target of targets) ctx.store.dissociate(from, fromId, to, idOf(target));
  }
  return { status: 204 };
}

export function associationLabels(ctx: HandlerContext, rawFrom: string, rawTo: string): HandlerResult {
  const from = objectType(ctx, rawFrom);
  const to = objectType(ctx, rawTo);
  return {
    status: 200,
    body: { results: ctx.store.associationTypesBetween(from, to).map((type) => ({ category: type.category, typeId: type.typeId, label: type.label })) },
  };
}

/** PUT /crm/v4/objects/{from}/{id}/associations/default/{to}/{toId}. */
export function associateDefaultSingle(ctx: HandlerContext, rawFrom: string, fromId: string, rawTo: string, toId: string): HandlerResult {
  const from = objectType(ctx, rawFrom);
  const to = objectType(ctx, rawTo);
  const defaultType = ctx.store.associationTypesBetween(from, to).find((type) => type.isDefault);
  if (!defaultType) throw badRequest(`There is no default association type from ${from} to ${to}`);
  const problem = missing(ctx, from, fromId) ?? missing(ctx, to, toId);
  if (problem) throw new HubspotHttpError(400, problem.category, problem.message, { context: problem.context });
  ctx.store.associate(from, fromId, to, toId, defaultType.typeId);
  return respond(ctx, now(ctx), [{ from: { id: fromId }, to: { id: toId }, associationSpec: { associationCategory: defaultType.category, associationTypeId: defaultType.typeId } }], [], 200);
}

/** GET /crm/v4/objects/{from}/{id}/associations/{to}: the record's associations, paged (limit default 500). */
export function listRecordAssociations(ctx: HandlerContext, rawFrom: string, fromId: string, rawTo: string): HandlerResult {
  const from = objectType(ctx, rawFrom);
  const to = objectType(ctx, rawTo);
  const limit = Math.min(500, Number(ctx.query.get('limit') ?? '500') || 500);
  const offset = Number(ctx.query.get('after') ?? '0') || 0;
  const found = ctx.store.associationsOf(from, fromId, to);
  const page = found.slice(offset, offset + limit);
  const body: Record<string, unknown> = {
    results: page.map(([toId, typeIds]) => ({
      toObjectId: Number(toId),
      associationTypes: typeIds.map((typeId) => typeLabel(ctx, from, typeId)),
    })),
  };
  if (offset + limit < found.length) body.paging = { next: { after: String(offset + limit) } };
  return { status: 200, body };
}
