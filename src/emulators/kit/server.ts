import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { FaultInjector, type FaultRule, type TriggeredFaults } from './faults.js';
import { countCost, countRequest, emptyStats, type RequestLogEntry, type RequestStats } from './stats.js';

/**
 * The loopback HTTP server every emulator runs on. The kit owns the request's life cycle; the vendor fills
 * in, through hooks, everything the vendor decides (auth, limits, bodies, routes):
 *
 *  1. log the request and count it (`stats.byPath`, the request log);
 *  2. `before` (optional): an answer given ahead of everything, e.g. a CDN block page;
 *  3. read the body (as `bodyMode` says: JSON, text, or left unread as a stream); `open` (optional): an
 *     endpoint without an API credential (an OAuth token endpoint); `authenticate`: a principal, or the
 *     vendor's refusal (401);
 *  4. draw faults (seeded): latency, drop before the request runs, 5xx (`serverError` body), 429 storm
 *     (`rateLimitFault` body);
 *  5. `admit`: rate limits and budgets; the answer's limit headers, what the request cost, or a refusal (429);
 *  6. parse a JSON body (`invalidJson` answer when it does not parse; `json` mode only);
 *  7. `handle`; a thrown error becomes `error(...)`'s answer;
 *  8. drop after the write (the request ran, the answer is lost) when that fault fired;
 *  9. send: JSON for objects, HTML for strings, `responseHeaders` (optional), `Date` from the injected clock,
 *     the admit headers, the answer's headers; then `after` (optional) sees the status.
 *
 * A `stream` request's body is never read by the kit: `handle` reads it from `request.incoming` (uploads of any
 * size); when the kit answers without calling `handle` (refusal, fault), it reads the body to its end and drops it.
 */
export interface KitRequest {
  method: string;
  /** Path without trailing slashes (`/` for the root). */
  path: string;
  url: URL;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** The body as text (`json` and `text` modes; empty in `stream` mode). */
  raw: string;
  /** The Node request: a `stream` route reads its body from it. */
  incoming: IncomingMessage;
  /** The parsed JSON body (undefined when the body is empty). Set before `handle`. */
  body?: unknown;
  /** The log entry of this request: vendors may add `fault` text to it. */
  log: RequestLogEntry;
}

export interface KitResponse {
  status: number;
  /** An object or array is sent as JSON; a string as an HTML page; undefined (or status 204): no body. */
  body?: unknown;
  headers?: Record<string, string>;
  /**
   * A body the vendor writes itself (a file download): the kit writes the status and headers, then hands over
   * the response. `body` is ignored when this is set.
   */
  stream?: (out: ServerResponse) => Promise<void>;
}

/**
 * How the kit reads a request's body: `json` (default) reads and parses it (`invalidJson` when it does not
 * parse); `text` reads it and leaves it to the route (forms, CSV); `stream` leaves it unread (multipart uploads).
 */
export type BodyMode = 'json' | 'text' | 'stream';

export interface Admission {
  /** Set when the request is refused (a 429, a 403...). */
  refusal?: KitResponse;
  /** Headers for the answer (limit headers), refused or not. */
  headers: Record<string, string>;
  /** Budget units the admitted request spent (for stats and the log). */
  cost?: number;
}

export interface HandleContext<P> {
  request: KitRequest;
  principal: P;
  body: unknown;
  baseUrl: string;
  faults: TriggeredFaults;
  injector: FaultInjector;
}

export interface VendorHooks<P> {
  before?(request: KitRequest): KitResponse | undefined;
  /** How this request's body is read (default `json` for every request). */
  bodyMode?(request: KitRequest): BodyMode;
  /**
   * An endpoint that takes no API credential, answered once its body is read and before authentication,
   * faults and limits: an OAuth token endpoint (its own client authentication is in the request).
   */
  open?(request: KitRequest, baseUrl: string): KitResponse | undefined;
  /** A principal (whatever the vendor's limits and handlers need: token, kind, company) or a refusal. */
  authenticate(request: KitRequest): { principal: P } | { refusal: KitResponse };
  /** Whether partial-batch faults apply to this request (multi-item writes). Default: never. */
  partialEligible?(request: KitRequest): boolean;
  serverError(status: number, request: KitRequest): KitResponse;
  rateLimitFault(rule: Extract<FaultRule, { kind: 'rate-limit' }>, request: KitRequest, principal: P): KitResponse;
  admit(request: KitRequest, principal: P): Admission;
  invalidJson(request: KitRequest): KitResponse;
  handle(context: HandleContext<P>): KitResponse | Promise<KitResponse>;
  /** Maps an error thrown by `handle` (the vendor's HTTP error, or anything else: a 500). */
  error(error: unknown, request: KitRequest): KitResponse;
  after?(request: KitRequest, status: number, principal: P | undefined): void;
  /**
   * Headers every answer carries, computed from the answer (e.g. HubSpot's `X-HubSpot-Correlation-Id`, the
   * body's correlationId when it has one). The answer's own and the admit headers win over these.
   */
  responseHeaders?(answer: KitResponse, request: KitRequest): Record<string, string>;
}

export interface KitServerOptions<P> {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  clock?: () => number;
  /** Seed of the fault injector's PRNG (default 1). */
  faultSeed?: number;
  /** The request log to append to (HubSpot keeps it on its store); default a new array. */
  log?: RequestLogEntry[];
  /** Content-Type of JSON answers (default `application/json;charset=utf-8`). */
  jsonContentType?: string;
  hooks: VendorHooks<P>;
}

export interface KitServer {
  url: string;
  port: number;
  faults: FaultInjector;
  stats: RequestStats;
  log: RequestLogEntry[];
  close(): Promise<void>;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function send(response: ServerResponse, jsonType: string, answer: KitResponse, headers: Record<string, string>): Promise<void> {
  if (response.destroyed) return;
  const { status, body } = answer;
  if (answer.stream) {
    response.writeHead(status, headers);
    await answer.stream(response);
    return;
  }
  if (status === 204 || body === undefined) {
    response.writeHead(status, headers);
    response.end();
    return;
  }
  if (typeof body === 'string') {
    response.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', ...headers });
    response.end(body);
    return;
  }
  response.writeHead(status, { 'Content-Type': jsonType, ...headers });
  response.end(JSON.stringify(body));
}

export async function startKitServer<P>(options: KitServerOptions<P>): Promise<KitServer> {
  const clock = options.clock ?? Date.now;
  const hooks = options.hooks;
  const faults = new FaultInjector(options.faultSeed ?? 1);
  const stats = emptyStats();
  const log = options.log ?? [];
  const jsonType = options.jsonContentType ?? 'application/json;charset=utf-8';
  let baseUrl = '';

  const handle = async (incoming: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(incoming.url ?? '/', 'http://127.0.0.1');
    const method = (incoming.method ?? 'GET').toUpperCase();
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const entry: RequestLogEntry = { method, path, query: url.search, status: 0, at: clock() };
    log.push(entry);
    const key = `${method} ${path}`;
    countRequest(stats, key);
    const request: KitRequest = { method, path, url, query: url.searchParams, headers: incoming.headers, raw: '', incoming, log: entry };
    const who: { principal?: P } = {};
    let mode: BodyMode = 'json';
    const finish = async (answer: KitResponse, extra: Record<string, string> = {}) => {
      entry.status = answer.status;
      if (answer.status === 429) stats.status429++;
      // A body the route left unread (a refused or faulted upload) is read to its end and dropped.
      if (mode === 'stream') incoming.resume();
      // The Date header tells the emulator's time (the injected clock), as a vendor's tells its own: clients
      // take a run's high-water mark from it, so it must agree with the records' modification times.
      try {
        await send(response, jsonType, answer, { ...hooks.responseHeaders?.(answer, request), Date: new Date(clock()).toUTCString(), ...extra, ...answer.headers });
      } finally {
        hooks.after?.(request, answer.status, who.principal);
      }
    };

    const early = hooks.before?.(request);
    if (early) {
      await finish(early);
      return;
    }
    mode = hooks.bodyMode?.(request) ?? 'json';
    if (mode !== 'stream') request.raw = await readBody(incoming);
    const unauthenticated = hooks.open?.(request, baseUrl);
    if (unauthenticated) {
      await finish(unauthenticated);
      return;
    }
    const auth = hooks.authenticate(request);
    if ('refusal' in auth) {
      await finish(auth.refusal);
      return;
    }
    const principal = auth.principal;
    who.principal = principal;

    const triggered = faults.evaluate(method, path, hooks.partialEligible?.(request) ?? false);
    if (triggered.latencyMs > 0) await sleep(triggered.latencyMs);
    if (triggered.hold) {
      await triggered.hold;
      // Its client went away while it was held (a killed process): the request is never carried out.
      if (incoming.socket.destroyed) {
        entry.fault = 'held, client gone';
        return;
      }
    }
    const terminal = triggered.terminal;
    if (terminal?.kind === 'drop-connection' && !terminal.afterWrite) {
      entry.fault = 'drop-connection';
      incoming.socket.destroy();
      return;
    }
    if (terminal?.kind === 'server-error') {
      entry.fault = `server-error ${terminal.status}`;
      await finish(hooks.serverError(terminal.status, request));
      return;
    }
    if (terminal?.kind === 'rate-limit') {
      entry.fault = 'rate-limit';
      await finish(hooks.rateLimitFault(terminal, request, principal));
      return;
    }

    const admission = hooks.admit(request, principal);
    if (admission.refusal) {
      await finish(admission.refusal, admission.headers);
      return;
    }
    if (admission.cost !== undefined && admission.cost > 0) {
      entry.cost = admission.cost;
      countCost(stats, key, admission.cost);
    }

    let result: KitResponse | undefined;
    if (mode === 'json' && request.raw.trim() !== '') {
      try {
        request.body = JSON.parse(request.raw);
      } catch {
        result = hooks.invalidJson(request);
      }
    }
    if (!result) {
      try {
        result = await hooks.handle({ request, principal, body: request.body, baseUrl, faults: triggered, injector: faults });
      } catch (error) {
        result = hooks.error(error, request);
      }
    }
    if (terminal?.kind === 'drop-connection') {
      // The write happened; only the answer is lost (the case idempotent creates must survive).
      entry.fault = 'drop-connection after write';
      entry.status = result.status;
      incoming.socket.destroy();
      return;
    }
    await finish(result, admission.headers);
  };

  const server = createServer((incoming, response) => {
    handle(incoming, response).catch(() => {
      // A bug in a hook: answer the vendor's 500 when nothing was sent yet.
      if (response.headersSent) {
        response.destroy();
        return;
      }
      const url = new URL(incoming.url ?? '/', 'http://127.0.0.1');
      const entry: RequestLogEntry = { method: incoming.method ?? 'GET', path: url.pathname, query: url.search, status: 500, at: clock() };
      const request: KitRequest = { method: entry.method, path: entry.path, url, query: url.searchParams, headers: incoming.headers, raw: '', incoming, log: entry };
      const answer = hooks.serverError(500, request);
      void send(response, jsonType, { status: 500, body: answer.body }, { ...hooks.responseHeaders?.(answer, request) }).catch(() => response.destroy());
    });
  });
  server.keepAliveTimeout = 1000;
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  baseUrl = `http://${host}:${address.port}`;
  return {
    url: baseUrl,
    port: address.port,
    faults,
    stats,
    log,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
