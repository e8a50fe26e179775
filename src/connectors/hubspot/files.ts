import { randomBytes } from 'node:crypto';
import type { ApiClient } from '../kit/index.js';
import type { Readable } from 'node:stream';
import type { CrmRecord } from '../../core/connector.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { FerryError, isFerryError } from '../../core/errors.js';
import type { ConnectorFiles, FileUpload, SourceFile, StoredFile } from '../../core/files.js';
import type { HubspotSettings } from './config.js';

/**
 * Objects whose records carry files in `hs_attachment_ids` (semicolon-separated file ids): the note and the
 * engagements. https://developers.hubspot.com/docs/api-reference/legacy/files/guide ("Attach a file to a
 * record" creates a note with hs_attachment_ids) and the engagement pages (calls, emails, meetings, tasks).
 */
export const ATTACHMENT_OBJECTS: ReadonlySet<string> = new Set(['notes', 'calls', 'meetings', 'emails', 'tasks']);
export const ATTACHMENT_PROPERTY = 'hs_attachment_ids';

/** Uploads and downloads of large files get this long per attempt instead of the client's 30 s. */
const TRANSFER_TIMEOUT_MS = 60 * 60 * 1000;
const BATCH = 100;
const UPLOAD_ATTEMPTS = 5;
const UPLOAD_BACKOFF_MS = 500;

interface HubspotFile {
  id: string;
  name?: string;
  extension?: string;
  size?: number;
  path?: string;
  url?: string;
}

/** `a;b;;c` -> ['a', 'b', 'c']. */
export function attachmentIds(value: unknown): string[] {
  if (value === null || value === undefined) return [];
  return String(value)
    .split(';')
    .map((id) => id.trim())
    .filter((id) => id !== '');
}

/** HubSpot keeps the extension apart from the name; users know the file by both. */
function displayName(file: HubspotFile): string {
  const name = file.name ?? `file ${file.id}`;
  return file.extension && !name.toLowerCase().endsWith(`.${file.extension.toLowerCase()}`) ? `${name}.${file.extension}` : name;
}

/** A quoted-string value of a multipart header (RFC 7578: quotes and line breaks escaped). */
function quoted(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '%22').replace(/\r|\n/g, ' ')}"`;
}

/**
 * HubSpot's Files API (https://developers.hubspot.com/docs/api-reference/files-files-v3/guide) as the file
 * side of the connector: `GET /files/v3/files/{id}` and `/signed-url` to read, `POST /files/v3/files`
 * (multipart: file, fileName, folderPath, options) to upload, `DELETE /files/v3/files/{id}` for undo, and the
 * record's `hs_attachment_ids` to attach.
 *
 * Each upload goes to its own folder `<filesFolder>/<stamp>` under its own name, so a file whose upload
 * answer was lost is found again by its path (`GET /files/v3/files/stat/{path}`), and users still see the
 * original file name.
 */
export class HubspotFiles implements ConnectorFiles {
  constructor(
    private readonly client: ApiClient,
    private readonly settings: HubspotSettings,
  ) {}

  readable(object: string): boolean {
    return ATTACHMENT_OBJECTS.has(object);
  }

  writable(object: string): boolean {
    return ATTACHMENT_OBJECTS.has(object) && !this.settings.readOnly;
  }

  async list(object: string, records: CrmRecord[]): Promise<Map<string, SourceFile[]>> {
    // The records as read may not carry the property (a read restricted to mapped fields): read it for them.
    const ids = new Map<string, string[]>();
    for (let start = 0; start < records.length; start += BATCH) {
      const part = records.slice(start, start + BATCH);
      const response = await this.client.post<{ results?: { id: string; properties?: Record<string, string | null> }[] }>(`/crm/v3/objects/${object}/batch/read`, {
        properties: [ATTACHMENT_PROPERTY],
        inputs: part.map((record) => ({ id: record.id })),
      });
      for (const result of response.body.results ?? []) {
        const list = attachmentIds(result.properties?.[ATTACHMENT_PROPERTY]);
        if (list.length > 0) ids.set(result.id, list);
      }
    }
    const out = new Map<string, SourceFile[]>();
    for (const [recordId, fileIds] of ids) {
      const files: SourceFile[] = [];
      for (const fileId of fileIds) {
        const response = await this.client.get<HubspotFile>(`/files/v3/files/${encodeURIComponent(fileId)}`, { accept: [404] });
        // A file deleted from the file manager still listed on the record: reported when it is opened.
        if (response.status === 404) files.push({ id: fileId, name: `file ${fileId}`, size: null, contentType: null });
        else files.push({ id: fileId, name: displayName(response.body), size: typeof response.body.size === 'number' ? response.body.size : null, contentType: null });
      }
      out.set(recordId, files);
    }
    return out;
  }

  async open(_object: string, recordId: string, file: SourceFile): Promise<Readable> {
    // A signed URL works for private and public files alike.
    const signed = await this.client.get<{ url?: string }>(`/files/v3/files/${encodeURIComponent(file.id)}/signed-url`, { accept: [404] });
    if (signed.status === 404 || !signed.body.url) throw new FerryError('FILE_FAILED', `HubSpot file ${file.id} of record ${recordId} is not in the file manager any more`);
    const download = await this.client.request<Readable>('GET', signed.body.url, { absolute: true, stream: true, timeoutMs: TRANSFER_TIMEOUT_MS });
    return download.body;
  }

  private folderOf(stamp: string): string {
    return `${this.settings.filesFolder}/${stamp}`;
  }

  async upload(_object: string, file: FileUpload): Promise<string> {
    const boundary = `ferry-${randomBytes(12).toString('hex')}`;
    const options = JSON.stringify({ access: this.settings.filesAccess, overwrite: false, duplicateValidationStrategy: 'NONE', duplicateValidationScope: 'EXACT_FOLDER' });
    const field = (name: string, value: string) => `--${boundary}\r\nContent-Disposition: form-data; name=${quoted(name)}\r\n\r\n${value}\r\n`;
    const head =
      field('fileName', file.name) +
      field('folderPath', this.folderOf(file.stamp)) +
      field('options', options) +
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename=${quoted(file.name)}\r\nContent-Type: ${file.contentType ?? 'application/octet-stream'}\r\n\r\n`;
    const tail = `\r\n--${boundary}--\r\n`;
    const open = async (): Promise<AsyncIterable<Uint8Array>> => {
      const content = await file.open();
      return (async function* () {
        yield Buffer.from(head, 'utf8');
        for await (const chunk of content as AsyncIterable<Buffer>) yield chunk;
        yield Buffer.from(tail, 'utf8');
      })();
    };
    // No blind retries: an upload whose answer was lost (a dropped connection, a 5xx after the write) may
    // have stored the file, so before each new attempt the file is looked for by its path.
    for (let attempt = 1; ; attempt++) {
      try {
        const response = await this.client.request<HubspotFile>('POST', '/files/v3/files', {
          upload: { contentType: `multipart/form-data; boundary=${boundary}`, open },
          timeoutMs: TRANSFER_TIMEOUT_MS,
          maxRetries: 0,
        });
        if (!response.body?.id) throw new FerryError('FILE_FAILED', `HubSpot answered the upload of "${file.name}" without a file id`);
        return String(response.body.id);
      } catch (error) {
        // A resumable stop (the daily limit) is not waited out here: the run stops.
        const retryable = isFerryError(error) && !error.details.resumable && (error.code === 'TRANSIENT' || error.code === 'RATE_LIMITED' || error.code === 'CONNECTION_FAILED');
        if (!retryable || attempt >= UPLOAD_ATTEMPTS) throw error;
        await sleep(UPLOAD_BACKOFF_MS * attempt);
        const found = await this.findUploaded(_object, file);
        if (found !== undefined) return found;
      }
    }
  }

  async findUploaded(_object: string, file: Pick<FileUpload, 'name' | 'stamp'>): Promise<string | undefined> {
    const path = `${this.folderOf(file.stamp)}/${file.name}`
      .split('/')
      .map((segment) => encodeURIComponent(segment))
      .join('/');
    const response = await this.client.get<{ file?: HubspotFile }>(`/files/v3/files/stat${path}`, { accept: [404] });
    return response.status === 404 || !response.body.file?.id ? undefined : String(response.body.file.id);
  }

  private async attachmentIdsOf(object: string, recordId: string): Promise<string[] | undefined> {
    const response = await this.client.get<{ properties?: Record<string, string | null> }>(`/crm/v3/objects/${object}/${encodeURIComponent(recordId)}`, {
      query: { properties: ATTACHMENT_PROPERTY },
      accept: [404],
    });
    return response.status === 404 ? undefined : attachmentIds(response.body.properties?.[ATTACHMENT_PROPERTY]);
  }

  async attach(object: string, recordId: string, fileIds: string[]): Promise<void> {
    const current = await this.attachmentIdsOf(object, recordId);
    if (current === undefined) throw new FerryError('NOT_FOUND', `HubSpot ${object} ${recordId} does not exist`);
    const next = [...new Set([...current, ...fileIds])];
    if (next.length === current.length) return;
    await this.client.patch(`/crm/v3/objects/${object}/${encodeURIComponent(recordId)}`, { properties: { [ATTACHMENT_PROPERTY]: next.join(';') } });
  }

  async detach(object: string, recordId: string, fileIds: string[]): Promise<void> {
    const current = await this.attachmentIdsOf(object, recordId);
    if (current === undefined) return;
    const drop = new Set(fileIds);
    const next = current.filter((id) => !drop.has(id));
    if (next.length === current.length) return;
    await this.client.patch(`/crm/v3/objects/${object}/${encodeURIComponent(recordId)}`, { properties: { [ATTACHMENT_PROPERTY]: next.join(';') } }, { accept: [404] });
  }

  async delete(_object: string, fileIds: string[]): Promise<void> {
    for (const id of fileIds) await this.client.request('DELETE', `/files/v3/files/${encodeURIComponent(id)}`, { accept: [404] });
  }

  /**
   * Each file's metadata (`GET /files/v3/files/{id}`: 404 when it was deleted; its `size`) and the records'
   * `hs_attachment_ids` (batch read). HubSpot stores no SHA-256 (only `fileMd5`), so only the size is compared.
   */
  async inspect(object: string, files: { fileId: string; recordId: string }[]): Promise<Map<string, StoredFile>> {
    const attachments = new Map<string, Set<string>>();
    const recordIds = [...new Set(files.map((file) => file.recordId))];
    for (let start = 0; start < recordIds.length; start += BATCH) {
      const response = await this.client.post<{ results?: { id: string; properties?: Record<string, string | null> }[] }>(`/crm/v3/objects/${object}/batch/read`, {
        properties: [ATTACHMENT_PROPERTY],
        inputs: recordIds.slice(start, start + BATCH).map((id) => ({ id })),
      });
      for (const result of response.body.results ?? []) attachments.set(result.id, new Set(attachmentIds(result.properties?.[ATTACHMENT_PROPERTY])));
    }
    const out = new Map<string, StoredFile>();
    for (const file of files) {
      const response = await this.client.get<HubspotFile>(`/files/v3/files/${encodeURIComponent(file.fileId)}`, { accept: [404] });
      if (response.status === 404) continue;
      out.set(file.fileId, { attached: attachments.get(file.recordId)?.has(file.fileId) ?? false, size: typeof response.body.size === 'number' ? response.body.size : null });
    }
    return out;
  }
}
