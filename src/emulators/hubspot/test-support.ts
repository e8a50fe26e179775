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

/**
 * Places records at a known modified time, bypassing the API (the contract suites' `modifyOutside`: a person
 * editing in HubSpot at `modifiedAt`): every modification property of the object moves, and search sees the
 * new state at once.
 */
export function setModifiedAt(hubspot: HubspotEmulator, objectType: string, ids: string[], modifiedAt: string): void {
  const millis = Date.parse(modifiedAt);
  for (const id of ids) {
    const record = hubspot.store.get(objectType, id);
    if (!record) throw new Error(`no ${objectType} ${id}`);
    record.updatedAt = millis;
    for (const name of ['hs_lastmodifieddate', 'lastmodifieddate']) if (record.properties.has(name)) record.properties.set(name, String(millis));
    record.searchableAt = 0;
    record.indexed = undefined;
  }
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
