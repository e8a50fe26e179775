import { readAnswer, type ApiResponse } from '../kit/test-support.js';
import type { SalesforceEmulator } from './server.js';

export interface CallOptions {
  token?: string | null;
  headers?: Record<string, string>;
  /** Sent as is (CSV, a form) instead of JSON. */
  raw?: string;
}

/** One HTTP call the way jsforce makes it (Bearer token, JSON). `path` is under `/services/data/vNN.N` unless it starts with `/services` or `/id`. */
export async function call(salesforce: SalesforceEmulator, method: string, path: string, body?: unknown, options: CallOptions = {}): Promise<ApiResponse> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json', ...options.headers };
  const token = options.token === undefined ? salesforce.accessToken : options.token;
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  const full = path.startsWith('/services') || path.startsWith('/id/') ? path : `/services/data/v${salesforce.latestVersion}${path}`;
  const payload = options.raw ?? (body === undefined ? undefined : JSON.stringify(body));
  return readAnswer(await fetch(`${salesforce.url}${full}`, { method, headers, body: payload }));
}

export function soql(text: string): string {
  return `/query?q=${encodeURIComponent(text)}`;
}

/** Every record of a query, following nextRecordsUrl; also how many pages it took. */
export async function queryAllPages(salesforce: SalesforceEmulator, text: string, headers: Record<string, string> = {}): Promise<{ records: Record<string, unknown>[]; pages: number; totalSize: number }> {
  let answer = await call(salesforce, 'GET', soql(text), undefined, { headers });
  if (answer.status !== 200) throw new Error(`query ${text}: ${answer.status} ${JSON.stringify(answer.body)}`);
  const records = [...answer.body.records];
  let pages = 1;
  while (!answer.body.done) {
    answer = await call(salesforce, 'GET', answer.body.nextRecordsUrl, undefined, { headers });
    records.push(...answer.body.records);
    pages++;
  }
  return { records, pages, totalSize: answer.body.totalSize };
}

export { manualClock } from '../hubspot/test-support.js';
