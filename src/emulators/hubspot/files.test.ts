import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readMultipart, type PartHead } from './multipart.js';
import { startHubspotEmulator, type HubspotEmulator } from './server.js';
import { call } from './test-support.js';

/** The Files API of the emulator (routes-files.ts) and its streaming multipart reader. */

function form(fields: Record<string, string>, file?: { name: string; data: Buffer; filename?: string }): { boundary: string; body: Buffer } {
  const boundary = 'xYz-boundary-42';
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(fields)) parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`));
  if (file) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${file.name}"; filename="${file.filename ?? 'f.bin'}"\r\nContent-Type: application/octet-stream\r\n\r\n`));
    parts.push(file.data, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { boundary, body: Buffer.concat(parts) };
}

async function parse(body: Buffer, boundary: string, cuts: number[]): Promise<{ fields: Record<string, string>; file?: Buffer; head?: PartHead }> {
  const stream = new PassThrough();
  let previous = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    stream.write(body.subarray(previous, cut));
    previous = cut;
  }
  stream.end(body.subarray(previous));
  const chunks: Buffer[] = [];
  let head: PartHead | undefined;
  const fields = await readMultipart(stream, boundary, (part) => {
    head = part;
    return { write: async (chunk) => void chunks.push(Buffer.from(chunk)), end: async () => undefined };
  });
  return { fields, ...(head ? { file: Buffer.concat(chunks), head } : {}) };
}

describe('multipart reader', () => {
  it('reads the same fields and file bytes however the body is cut into chunks', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 0, maxLength: 400 }), fc.array(fc.nat(), { maxLength: 12 }), async (bytes, rawCuts) => {
        // File content that holds pieces of the delimiter itself must come through unchanged.
        const data = Buffer.concat([Buffer.from('\r\n--xYz-boundary-4'), Buffer.from(bytes), Buffer.from('\r\n--')]);
        // A sender picks a boundary its content does not hold (RFC 2046 5.1.1).
        fc.pre(!data.includes('\r\n--xYz-boundary-42'));
        const { boundary, body } = form({ fileName: 'report.pdf', options: '{"access":"PRIVATE"}' }, { name: 'file', data, filename: 'a "b".pdf' });
        const cuts = rawCuts.map((cut) => cut % (body.length + 1));
        const parsed = await parse(body, boundary, cuts);
        expect(parsed.fields).toEqual({ fileName: 'report.pdf', options: '{"access":"PRIVATE"}' });
        expect(parsed.head).toMatchObject({ name: 'file', contentType: 'application/octet-stream' });
        expect(parsed.file!.equals(data)).toBe(true);
      }),
      { seed: 20261207, numRuns: 200 },
    );
  });

  it('refuses a body cut off before its closing boundary', async () => {
    const { boundary, body } = form({ a: '1' });
    await expect(parse(body.subarray(0, body.length - 10), boundary, [])).rejects.toThrow(/closing boundary/);
  });
});

describe('Files API', () => {
  let hubspot: HubspotEmulator;
  beforeEach(async () => {
    hubspot = await startHubspotEmulator({ maxFileBytes: 1000 });
  });
  afterEach(async () => {
    await hubspot.close();
  });

  async function upload(fields: Record<string, string>, data = Buffer.from('hello file'), token = hubspot.token): Promise<{ status: number; body: Record<string, unknown> }> {
    const { boundary, body } = form(fields, { name: 'file', data, filename: 'orig.txt' });
    const response = await fetch(`${hubspot.url}/files/v3/files`, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': `multipart/form-data; boundary=${boundary}` }, body });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  it('uploads into a folder path, answers 201 with the file, finds it by path, signs a download URL, and deletes it', async () => {
    const created = await upload({ fileName: 'minutes.txt', folderPath: '/ferry/ab12', options: JSON.stringify({ access: 'PRIVATE' }) });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'minutes', extension: 'txt', size: 10, path: '/ferry/ab12/minutes.txt', access: 'PRIVATE', archived: false });
    // A private file has no public URL.
    expect(created.body.url).toBeUndefined();
    const id = String(created.body.id);
    expect((await call(hubspot, 'GET', `/files/v3/files/${id}`)).body).toMatchObject({ id, name: 'minutes' });
    expect((await call(hubspot, 'GET', '/files/v3/files/stat/ferry/ab12/minutes.txt')).body.file).toMatchObject({ id });
    const signed = await call(hubspot, 'GET', `/files/v3/files/${id}/signed-url`);
    expect(signed.status).toBe(200);
    const download = await fetch(signed.body.url as string);
    expect(Buffer.from(await download.arrayBuffer()).toString()).toBe('hello file');
    expect((await call(hubspot, 'DELETE', `/files/v3/files/${id}`)).status).toBe(204);
    const gone = await call(hubspot, 'GET', `/files/v3/files/${id}`);
    expect(gone.status).toBe(404);
    expect(gone.body).toMatchObject({ status: 'error', category: 'OBJECT_NOT_FOUND' });
    expect(typeof gone.body.correlationId).toBe('string');
    expect((await call(hubspot, 'GET', '/files/v3/files/stat/ferry/ab12/minutes.txt')).status).toBe(404);
    expect((await fetch(signed.body.url as string)).status).toBe(404);
  });

  it('answers errors in HubSpot shape: access missing, both folder fields, too large, bad token', async () => {
    const noAccess = await upload({ folderPath: '/x' });
    expect(noAccess.status).toBe(400);
    expect(noAccess.body).toMatchObject({ status: 'error', category: 'VALIDATION_ERROR', message: expect.stringContaining('options.access is required') });
    expect((await upload({ folderPath: '/x', folderId: '12', options: '{"access":"PRIVATE"}' })).body.message).toContain('either folderId or folderPath');
    const large = await upload({ folderPath: '/x', options: '{"access":"PRIVATE"}' }, Buffer.alloc(1001));
    expect(large.status).toBe(413);
    expect(large.body).toMatchObject({ status: 'error', category: 'VALIDATION_ERROR' });
    expect((await upload({ folderPath: '/x', options: '{"access":"PRIVATE"}' }, Buffer.alloc(10), 'wrong')).status).toBe(401);
    expect(hubspot.files.uploads).toBe(0);
  });

  it('gives notes and the engagements an hs_attachment_ids property', async () => {
    for (const type of ['notes', 'calls', 'meetings', 'tasks']) {
      const property = await call(hubspot, 'GET', `/crm/v3/properties/${type}/hs_attachment_ids`);
      expect(property.status, type).toBe(200);
      expect(property.body).toMatchObject({ name: 'hs_attachment_ids', type: 'string' });
    }
  });

  it('keeps both files when two uploads name one path, renaming the second', async () => {
    const fields = { fileName: 'a.txt', folderPath: '/f', options: '{"access":"PUBLIC_NOT_INDEXABLE"}' };
    const first = await upload(fields);
    const second = await upload(fields);
    expect(first.body.path).toBe('/f/a.txt');
    expect(second.body.path).not.toBe('/f/a.txt');
    expect(typeof first.body.url).toBe('string');
    expect(hubspot.files.live()).toHaveLength(2);
  });

  it('takes faults like every route, drawn before the limits; downloads take none', async () => {
    const fields = { fileName: 'a.txt', folderPath: '/f', options: JSON.stringify({ access: 'PUBLIC_NOT_INDEXABLE' }) };
    hubspot.faults.rateLimitStorm({ path: '/files/v3/files', count: 1, policyName: 'SECONDLY' });
    const storm = await upload(fields);
    expect([storm.status, storm.body.policyName]).toEqual([429, 'SECONDLY']);
    hubspot.faults.serverError(503, { path: '/files/v3/files', count: 1 });
    expect((await upload(fields)).status).toBe(503);
    // Neither faulted upload ran or counted against the daily limit; nothing was stored.
    expect([hubspot.limits.usedToday(), hubspot.files.uploads]).toEqual([0, 0]);
    expect(hubspot.store.requests.map((entry) => entry.fault)).toEqual(['rate-limit', 'server-error 503']);
    const stored = await upload(fields);
    expect([stored.status, hubspot.limits.usedToday()]).toEqual([201, 1]);
    hubspot.faults.serverError(500, { count: 5 });
    const download = await fetch(String(stored.body.url));
    expect([download.status, await download.text(), download.headers.get('x-hubspot-correlation-id')?.length]).toEqual([200, 'hello file', 36]);
    expect(Object.values(hubspot.faults.fired())).toEqual([1, 1, 0]); // the download drew no fault
  });

  it('refuses the OAuth app on the Files API, which it accepts on the CRM routes', async () => {
    const oauth = await startHubspotEmulator({ oauthToken: 'oauth-app' });
    try {
      const { boundary, body } = form({ fileName: 'a.txt', folderPath: '/f', options: JSON.stringify({ access: 'PRIVATE' }) }, { name: 'file', data: Buffer.from('x') });
      const refused = await fetch(`${oauth.url}/files/v3/files`, { method: 'POST', headers: { Authorization: 'Bearer oauth-app', 'Content-Type': `multipart/form-data; boundary=${boundary}` }, body });
      expect([refused.status, ((await refused.json()) as { category: string }).category]).toEqual([401, 'INVALID_AUTHENTICATION']);
      expect((await call(oauth, 'GET', '/crm/v3/owners', undefined, 'oauth-app')).status).toBe(200);
      expect(oauth.files.uploads).toBe(0);
    } finally {
      await oauth.close();
    }
  });
});
