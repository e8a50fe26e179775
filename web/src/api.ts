/**
 * The page's client for the wizard API (src/wizard/api.ts is the contract). Typed fetch helpers and the
 * event stream. Everything the server sends is data: it is rendered as text, never as HTML.
 */
import type {
  ApiError,
  ConnectRequest,
  ConnectResponse,
  CsvInspectRequest,
  CsvInspectResponse,
  DemoChangesResponse,
  DemoDataRequest,
  DemoDataResponse,
  RerunPreviewResponse,
  RecordChoicesResponse,
  JobView,
  MappingResponse,
  MatchResponse,
  ObjectMappingView,
  ProposeMappingRequest,
  RunDetailResponse,
  RunPartsResponse,
  RunSampleResponse,
  RunsResponse,
  SamplesResponse,
  SchemasResponse,
  StartJobRequest,
  SyncResponse,
  WizardState,
} from '../../src/wizard/api.js';

/** An error answered by the server (or a network failure), with the server's code and message. */
export class ApiRequestError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details?: Record<string, unknown>;
  constructor(status: number, code: string, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'ApiRequestError';
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

function isApiError(value: unknown): value is ApiError {
  if (typeof value !== 'object' || value === null || !('error' in value)) return false;
  const error = (value as { error: unknown }).error;
  return typeof error === 'object' && error !== null && typeof (error as { message?: unknown }).message === 'string';
}

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers: body === undefined ? { Accept: 'application/json' } : { Accept: 'application/json', 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiRequestError(0, 'NETWORK', 'The wizard server does not answer. Is `ferry serve` still running?');
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let parsed: unknown = undefined;
  if (text !== '') {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
  }
  if (!response.ok) {
    if (isApiError(parsed)) {
      throw new ApiRequestError(response.status, parsed.error.code, parsed.error.message, parsed.error.details);
    }
    if (response.status === 401) {
      throw new ApiRequestError(401, 'UNAUTHENTICATED', 'This page is not signed in. Open the link that `ferry serve` printed again.');
    }
    throw new ApiRequestError(response.status, `HTTP_${response.status}`, `The server answered ${response.status} ${response.statusText}.`);
  }
  return parsed as T;
}

const enc = encodeURIComponent;

export const api = {
  state: () => request<WizardState>('GET', '/api/state'),
  demoData: (body: DemoDataRequest = {}) => request<DemoDataResponse>('POST', '/api/demo-data', body),
  demoChanges: () => request<DemoChangesResponse>('POST', '/api/demo-data/changes', {}),
  rerunPreview: () => request<RerunPreviewResponse>('GET', '/api/rerun-preview'),
  connect: (body: ConnectRequest) => request<ConnectResponse>('POST', '/api/connect', body),
  csvInspect: (body: CsvInspectRequest) => request<CsvInspectResponse>('POST', '/api/csv/inspect', body),
  schemas: () => request<SchemasResponse>('GET', '/api/schemas'),
  mapping: () => request<MappingResponse>('GET', '/api/mapping'),
  proposeMapping: (body: ProposeMappingRequest = {}) => request<MappingResponse>('POST', '/api/mapping/propose', body),
  saveObjectMapping: (mapping: ObjectMappingView) =>
    request<MappingResponse>('PUT', `/api/mapping/objects/${enc(mapping.source)}`, mapping),
  samples: (side: 'source' | 'target', object: string, field: string, limit = 5) =>
    request<SamplesResponse>('GET', `/api/samples?side=${side}&object=${enc(object)}&field=${enc(field)}&limit=${limit}`),
  records: (side: 'source' | 'target', object: string, limit = 500) =>
    request<RecordChoicesResponse>('GET', `/api/records?side=${side}&object=${enc(object)}&limit=${limit}`),
  startJob: (body: StartJobRequest) => request<JobView>('POST', '/api/jobs', body),
  job: () => request<JobView | undefined>('GET', '/api/job'),
  pause: () => request<unknown>('POST', '/api/job/pause', {}),
  resume: () => request<unknown>('POST', '/api/job/resume', {}),
  runs: () => request<RunsResponse>('GET', '/api/runs'),
  run: (id: number) => request<RunDetailResponse>('GET', `/api/runs/${id}`),
  runParts: (id: number) => request<RunPartsResponse>('GET', `/api/runs/${id}/parts`),
  runSample: (id: number) => request<RunSampleResponse>('GET', `/api/runs/${id}/sample`),
  match: () => request<MatchResponse>('GET', '/api/match'),
  sync: () => request<SyncResponse>('GET', '/api/sync'),
  stopSync: () => request<SyncResponse>('POST', '/api/sync', { stop: true }),
};

export function reportUrl(runId: number, format: 'csv' | 'html' | 'json'): string {
  return `/api/runs/${runId}/report.${format}`;
}

export interface EventHandlers {
  onJob: (job: JobView) => void;
  onOpen?: () => void;
  onError?: () => void;
}

/** Subscribes to GET /api/events (the session cookie authenticates it). Returns the unsubscribe function. */
export function subscribeEvents(handlers: EventHandlers): () => void {
  const source = new EventSource('/api/events', { withCredentials: true });
  source.addEventListener('job', (event: MessageEvent<string>) => {
    try {
      handlers.onJob(JSON.parse(event.data) as JobView);
    } catch {
      // a malformed event is ignored; the next one carries the whole job again
    }
  });
  source.addEventListener('open', () => handlers.onOpen?.());
  source.addEventListener('error', () => handlers.onError?.());
  return () => source.close();
}

export function errorText(error: unknown): string {
  if (error instanceof ApiRequestError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}
