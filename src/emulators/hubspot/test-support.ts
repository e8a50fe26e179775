import type { HubspotEmulator } from './server.js';

export interface ApiResponse {
  status: number;
  headers: Headers;
  // Tests read loosely shaped JSON; every access is checked by an assertion.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

/** One HTTP call to the emulator, the way a connector makes it (fetch, bearer token, JSON). */
export async function call(hubspot: HubspotEmulator, method: string, path: string, body?: unknown, token = hubspot.token): Promise<ApiResponse> {
  const response = await fetch(`${hubspot.url}${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown = undefined;
  if (text !== '') {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
  }
  return { status: response.status, headers: response.headers, body: parsed };
}

/** A clock tests move by hand. */
export function manualClock(start = Date.UTC(2026, 2, 1, 12)): { now: () => number; advance: (ms: number) => void; set: (ms: number) => void } {
  let current = start;
  return {
    now: () => current,
    advance: (ms) => {
      current += ms;
    },
    set: (ms) => {
      current = ms;
    },
  };
}
