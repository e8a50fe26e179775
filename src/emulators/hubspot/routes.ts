import { findRoute } from '../kit/index.js';
import { HubspotHttpError } from './errors.js';
import type { FaultInjector, TriggeredFaults } from './faults.js';
import * as associations from './routes-associations.js';
import * as metadata from './routes-metadata.js';
import * as objects from './routes-objects.js';
import * as schemas from './routes-schemas.js';
import type { HubspotStore } from './store.js';

export interface HandlerContext {
  method: string;
  path: string;
  query: URLSearchParams;
  body: unknown;
  store: HubspotStore;
  baseUrl: string;
  faults: TriggeredFaults;
  injector: FaultInjector;
}

export interface HandlerResult {
  status: number;
  body?: unknown;
}

type Handler = (ctx: HandlerContext, ...params: string[]) => HandlerResult;

/** Method, path pattern (`:name` segments) and handler. Earlier routes win (the kit's `findRoute`). */
const TABLE: [string, string, Handler][] = [
  ['POST', '/crm/v3/objects/:type/batch/read', objects.batchRead],
  ['POST', '/crm/v3/objects/:type/batch/create', objects.batchCreate],
  ['POST', '/crm/v3/objects/:type/batch/update', objects.batchUpdate],
  ['POST', '/crm/v3/objects/:type/batch/upsert', objects.batchUpsert],
  ['POST', '/crm/v3/objects/:type/batch/archive', objects.batchArchive],
  ['POST', '/crm/v3/objects/:type/search', objects.searchObjects],
  ['GET', '/crm/v3/objects/:type', objects.listObjects],
  ['POST', '/crm/v3/objects/:type', objects.createObject],
  ['GET', '/crm/v3/objects/:type/:id', objects.getObject],
  ['PATCH', '/crm/v3/objects/:type/:id', objects.updateObject],
  ['DELETE', '/crm/v3/objects/:type/:id', objects.archiveObject],
  ['POST', '/crm/v3/properties/:type/batch/create', metadata.batchCreateProperties],
  ['POST', '/crm/v3/properties/:type/batch/read', metadata.batchReadProperties],
  ['GET', '/crm/v3/properties/:type/groups', metadata.listGroups],
  ['POST', '/crm/v3/properties/:type/groups', metadata.createGroup],
  ['GET', '/crm/v3/properties/:type', metadata.listProperties],
  ['POST', '/crm/v3/properties/:type', metadata.postProperty],
  ['GET', '/crm/v3/properties/:type/:name', metadata.getProperty],
  ['PATCH', '/crm/v3/properties/:type/:name', metadata.patchProperty],
  ['DELETE', '/crm/v3/properties/:type/:name', metadata.deleteProperty],
  ['GET', '/crm/v3/pipelines/:type', metadata.listPipelines],
  ['GET', '/crm/v3/pipelines/:type/:id', metadata.getPipeline],
  ['GET', '/crm/v3/pipelines/:type/:id/stages', metadata.listStages],
  // Custom object schemas, under both the guide's path and the reference pages' path.
  ...(['/crm/v3/schemas', '/crm-object-schemas/v3/schemas'] as const).flatMap((base): [string, string, Handler][] => [
    ['GET', base, schemas.listSchemas],
    ['POST', base, schemas.createSchema],
    ['POST', `${base}/:type/associations`, schemas.createSchemaAssociation],
    ['GET', `${base}/:type`, schemas.getSchema],
    ['DELETE', `${base}/:type`, schemas.archiveSchema],
  ]),
  ['GET', '/crm/v3/owners', metadata.listOwners],
  ['GET', '/crm/v3/owners/:id', metadata.getOwner],
  ['POST', '/crm/v4/associations/:from/:to/batch/create', associations.batchCreateAssociations],
  ['POST', '/crm/v4/associations/:from/:to/batch/associate/default', associations.batchAssociateDefault],
  ['POST', '/crm/v4/associations/:from/:to/batch/read', associations.batchReadAssociations],
  ['POST', '/crm/v4/associations/:from/:to/batch/archive', associations.batchArchiveAssociations],
  ['GET', '/crm/v4/associations/:from/:to/labels', associations.associationLabels],
  ['PUT', '/crm/v4/objects/:from/:id/associations/default/:to/:toId', associations.associateDefaultSingle],
  ['GET', '/crm/v4/objects/:from/:id/associations/:to', associations.listRecordAssociations],
];

const ROUTES = TABLE.map(([method, pattern, handler]) => ({ method, pattern, handler }));

/** True for the endpoints that have their own per-second limit. */
export function isSearchPath(method: string, path: string): boolean {
  return method === 'POST' && /^\/crm\/v3\/objects\/[^/]+\/search\/?$/.test(path);
}

export function isBatchWritePath(method: string, path: string): boolean {
  return method === 'POST' && /^\/crm\/v3\/objects\/[^/]+\/batch\/(create|update|upsert)\/?$/.test(path);
}

export function dispatch(ctx: HandlerContext): HandlerResult {
  const found = findRoute(ROUTES, ctx.method, ctx.path);
  if (found === 'method-not-allowed') throw new HubspotHttpError(405, 'VALIDATION_ERROR', `Method ${ctx.method} is not allowed on ${ctx.path}`);
  if (found === 'not-found') throw new HubspotHttpError(404, 'OBJECT_NOT_FOUND', `No endpoint ${ctx.method} ${ctx.path} (not emulated)`);
  return found.route.handler(ctx, ...found.params);
}
