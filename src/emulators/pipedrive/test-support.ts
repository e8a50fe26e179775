import { readAnswer, type ApiResponse } from '../kit/test-support.js';
import type { PipedriveEmulator } from './server.js';

export type Auth = { apiToken: string } | { queryToken: string } | { bearer: string } | { none: true };

/** One HTTP call to the emulator the way a connector makes it (fetch, JSON, x-api-token by default). */
export async function call(pipedrive: PipedriveEmulator, method: string, path: string, body?: unknown, auth: Auth = { apiToken: pipedrive.token }): Promise<ApiResponse> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  let url = `${pipedrive.url}${path}`;
  if ('apiToken' in auth) headers['x-api-token'] = auth.apiToken;
  else if ('bearer' in auth) headers.Authorization = `Bearer ${auth.bearer}`;
  else if ('queryToken' in auth) url += `${path.includes('?') ? '&' : '?'}api_token=${encodeURIComponent(auth.queryToken)}`;
  return readAnswer(await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) }));
}

/** Every item of a v2 list, following next_cursor. */
export async function allPages(pipedrive: PipedriveEmulator, path: string): Promise<{ items: Record<string, unknown>[]; pages: number }> {
  const items: Record<string, unknown>[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const separator = path.includes('?') ? '&' : '?';
    const response = await call(pipedrive, 'GET', `${path}${cursor ? `${separator}cursor=${encodeURIComponent(cursor)}` : ''}`);
    if (response.status !== 200) throw new Error(`GET ${path}: ${response.status} ${JSON.stringify(response.body)}`);
    items.push(...response.body.data);
    cursor = response.body.additional_data.next_cursor;
    pages++;
  } while (cursor);
  return { items, pages };
}

export { manualClock } from '../hubspot/test-support.js';
