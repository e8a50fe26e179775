import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startHubspotEmulator, type HubspotEmulator } from '../../emulators/hubspot/index.js';
import { attachmentIds } from './files.js';
import { createHubspotConnector } from './index.js';

/** The HubSpot connector's file side against the emulator: lost answers, attach and detach, reading back. */
describe('HubSpot files', () => {
  let hubspot: HubspotEmulator;
  beforeEach(async () => {
    hubspot = await startHubspotEmulator({ burstLimit: { requests: 10_000, intervalMs: 10_000 } });
  });
  afterEach(async () => {
    await hubspot.close();
  });

  const connector = () => createHubspotConnector({ accessToken: hubspot.token, baseUrl: hubspot.url, burstLimit: 1000, filesFolder: '/migrated' });
  const upload = { name: 'plan.pdf', size: 7, contentType: 'application/pdf', stamp: 'ferry-s1', targetRecordId: '1', open: async () => Readable.from([Buffer.from('content')]) };

  it('an upload whose answer is lost (connection dropped after the file was stored) is found by its path, not stored twice', async () => {
    hubspot.faults.dropConnection({ path: '/files/v3/files', method: 'POST', afterWrite: true, count: 1 });
    const files = connector().files;
    const id = await files.upload('notes', upload);
    expect(hubspot.files.uploads).toBe(1);
    expect(hubspot.files.files.get(id)).toMatchObject({ path: '/migrated/ferry-s1/plan.pdf' });
    expect(await files.findUploaded('notes', upload)).toBe(id);
  });

  it('an upload refused with a 5xx before anything was stored is sent again', async () => {
    hubspot.faults.serverError(503, { path: '/files/v3/files', method: 'POST', count: 1 });
    const id = await connector().files.upload('notes', upload);
    expect(hubspot.files.uploads).toBe(1);
    expect(hubspot.files.live().map((file) => file.id)).toEqual([id]);
  });

  it('attach keeps the ids a note has, detach removes only the given ones, and list/open read the files back', async () => {
    const note = hubspot.store.createRecord('notes', { hs_timestamp: '2026-01-01T00:00:00.000Z', hs_attachment_ids: '111' });
    const hubspotConnector = connector();
    const files = hubspotConnector.files;
    const first = await files.upload('notes', upload);
    const second = await files.upload('notes', { ...upload, name: 'b.txt', stamp: 'ferry-s2', open: async () => Readable.from([Buffer.from('bee')]) });
    await files.attach('notes', note.id, [first, second]);
    await files.attach('notes', note.id, [first]);
    expect(attachmentIds(hubspot.store.get('notes', note.id)!.properties.get('hs_attachment_ids'))).toEqual(['111', first, second]);
    const listed = await files.list('notes', [{ id: note.id, updatedAt: null, fields: {} }]);
    expect(listed.get(note.id)!.map((file) => [file.name, file.size])).toEqual([
      ['file 111', null],
      ['plan.pdf', 7],
      ['b.txt', 3],
    ]);
    const chunks: Buffer[] = [];
    for await (const chunk of await files.open('notes', note.id, listed.get(note.id)![2]!)) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('bee');
    // The download from the signed URL is no API request: the budget counts what HubSpot's daily limit counts.
    expect(hubspot.stats.byPath['GET /files/v3/files/' + second + '/signed-url']).toBe(1);
    expect(hubspotConnector.usage().spent).toBe(hubspot.limits.usedToday());
    await expect(files.open('notes', note.id, listed.get(note.id)![0]!)).rejects.toMatchObject({ code: 'FILE_FAILED' });
    await files.detach('notes', note.id, [first]);
    expect(attachmentIds(hubspot.store.get('notes', note.id)!.properties.get('hs_attachment_ids'))).toEqual(['111', second]);
    await files.delete('notes', [first, second, 'nope']);
    expect(hubspot.files.live()).toEqual([]);
  });
});
