import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, type WriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { badRequest, HubspotHttpError, notFound } from './errors.js';
import { makeProperty } from './schema.js';
import type { HubspotStore } from './store.js';
import { MultipartError, readMultipart, type PartSink } from './multipart.js';

/**
 * HubSpot's Files API, the part a migration uses (https://developers.hubspot.com/docs/api-reference/files-files-v3/guide):
 * `POST /files/v3/files` (multipart: file, fileName, folderPath or folderId, options with `access`),
 * `GET /files/v3/files/{id}`, `GET /files/v3/files/{id}/signed-url`, `GET /files/v3/files/stat/{path}`,
 * `DELETE /files/v3/files/{id}`. Contents live in a temporary folder on disk (removed on close), never in
 * memory; only metadata is kept in memory. See docs/connectors/hubspot-emulator.md for what is assumed.
 */

export interface StoredFile {
  id: string;
  /** Without the extension, as HubSpot's File model keeps it. */
  name: string;
  extension: string;
  size: number;
  /** `/<folder path>/<name>.<extension>` */
  path: string;
  parentFolderPath: string;
  access: string;
  createdAt: string;
  updatedAt: string;
  archived: boolean;
  diskPath: string;
  /** Part of the signed download URL. */
  token: string;
}

export interface FileStoreOptions {
  /** Largest file accepted, in bytes (default 2 GiB: see the emulator page). */
  maxFileBytes?: number;
  clock: () => number;
}

const ACCESS = ['PUBLIC_INDEXABLE', 'PUBLIC_NOT_INDEXABLE', 'PRIVATE', 'HIDDEN_INDEXABLE', 'HIDDEN_NOT_INDEXABLE', 'HIDDEN_PRIVATE', 'HIDDEN_SENSITIVE', 'SENSITIVE'];
const DEFAULT_MAX_FILE_BYTES = 2 * 1024 * 1024 * 1024;

export const FILES_PREFIX = '/files/v3/files';

/** The objects whose records carry `hs_attachment_ids` (notes and engagements). */
const ATTACHMENT_TYPES = ['notes', 'calls', 'meetings', 'emails', 'tasks'];

/**
 * Gives every engagement type the store has its `hs_attachment_ids` property (semicolon-separated file ids,
 * https://developers.hubspot.com/docs/api-reference/legacy/files/guide), kept here with the Files API so the
 * object definitions stay as they are.
 */
export function addAttachmentProperties(store: HubspotStore): void {
  for (const type of ATTACHMENT_TYPES) {
    if (!store.resolveType(type)) continue;
    const properties = store.properties(type);
    if (properties.has('hs_attachment_ids')) continue;
    properties.set('hs_attachment_ids', makeProperty('hs_attachment_ids', { label: 'Attachment IDs', type: 'string', fieldType: 'text' }, 'engagement', properties.size));
  }
}
/** Where signed URLs point (the CDN of the live service); no Authorization header is needed there. */
export const DOWNLOAD_PREFIX = '/_emulator/file-content';

export function isFilesPath(path: string): boolean {
  return path === FILES_PREFIX || path.startsWith(`${FILES_PREFIX}/`) || path.startsWith(`${DOWNLOAD_PREFIX}/`);
}

function splitName(fileName: string): { name: string; extension: string } {
  const dot = fileName.lastIndexOf('.');
  return dot > 0 ? { name: fileName.slice(0, dot), extension: fileName.slice(dot + 1) } : { name: fileName, extension: '' };
}

export class FileStore {
  readonly files = new Map<string, StoredFile>();
  readonly dir = mkdtempSync(join(tmpdir(), 'ferry-hubspot-files-'));
  readonly maxFileBytes: number;
  /** Uploads accepted (a test counts them to tell a re-upload). */
  uploads = 0;
  private nextId = 180_000_000_001;

  constructor(private readonly options: FileStoreOptions) {
    this.maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  }

  now(): number {
    return this.options.clock();
  }

  live(): StoredFile[] {
    return [...this.files.values()].filter((file) => !file.archived);
  }

  byPath(path: string): StoredFile | undefined {
    return this.live().find((file) => file.path === path);
  }

  close(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  view(file: StoredFile, baseUrl: string): Record<string, unknown> {
    const view: Record<string, unknown> = {
      id: file.id,
      name: file.name,
      extension: file.extension,
      size: file.size,
      path: file.path,
      parentFolderId: String(folderId(file.parentFolderPath)),
      access: file.access,
      archived: file.archived,
      createdAt: file.createdAt,
      updatedAt: file.updatedAt,
      type: 'OTHER',
      isUsableInContent: true,
    };
    // Public files have a hosting URL; private ones are reached through a signed URL only.
    if (file.access.startsWith('PUBLIC')) view.url = `${baseUrl}${DOWNLOAD_PREFIX}/${file.id}/${file.token}`;
    return view;
  }

  /** Takes one multipart upload: the file part streams to disk, the limit is checked as bytes arrive. */
  async upload(request: IncomingMessage): Promise<StoredFile> {
    const type = request.headers['content-type'] ?? '';
    const boundary = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(type);
    if (!/^multipart\/form-data/i.test(type) || !boundary) throw badRequest('Content-Type must be multipart/form-data with a boundary');
    const id = String(this.nextId++);
    const diskPath = join(this.dir, id);
    let size = 0;
    let partName: string | undefined;
    let out: WriteStream | undefined;
    const limit = this.maxFileBytes;
    const sink = (fileName: string | undefined): PartSink => {
      partName = fileName;
      out = createWriteStream(diskPath);
      const stream = out;
      return {
        write: async (chunk) => {
          size += chunk.length;
          if (size > limit) throw new HubspotHttpError(413, 'VALIDATION_ERROR', `File exceeds the maximum upload size of ${limit} bytes`);
          if (!stream.write(chunk)) await new Promise<void>((resolve) => stream.once('drain', resolve));
        },
        end: () => new Promise<void>((resolve, reject) => stream.end((error?: Error | null) => (error ? reject(error) : resolve()))),
      };
    };
    let fields: Record<string, string>;
    try {
      fields = await readMultipart(request, (boundary[1] ?? boundary[2])!.trim(), (head) => {
        if (head.name !== 'file' || out) throw new MultipartError(`unexpected file part "${head.name}"`);
        return sink(head.fileName);
      });
    } catch (error) {
      out?.destroy();
      await rm(diskPath, { force: true });
      if (error instanceof HubspotHttpError) throw error;
      throw badRequest(error instanceof Error ? error.message : 'Invalid multipart body');
    }
    const fail = async (message: string): Promise<never> => {
      await rm(diskPath, { force: true });
      throw badRequest(message);
    };
    if (!out) return fail('The file part is required');
    let options: { access?: string; overwrite?: boolean } = {};
    try {
      options = fields.options ? (JSON.parse(fields.options) as typeof options) : {};
    } catch {
      return fail('options must be a JSON object');
    }
    // "options ... access, which is required" (files guide).
    if (!options.access || !ACCESS.includes(options.access)) return fail(`options.access is required, one of ${ACCESS.join(', ')}`);
    if (fields.folderPath && fields.folderId) return fail('Provide either folderId or folderPath, not both');
    const folder = fields.folderPath ? `/${fields.folderPath.replace(/^\/+|\/+$/g, '')}` : fields.folderId ? `/folder-${fields.folderId}` : '/';
    const { name, extension } = splitName(fields.fileName || partName || `file-${id}`);
    const path = `${folder === '/' ? '' : folder}/${extension ? `${name}.${extension}` : name}`;
    const existing = this.byPath(path);
    if (existing && !options.overwrite) {
      // Two uploads to one path keep both, the second renamed (HubSpot appends a suffix); overwrite replaces.
      return this.store({ id, name: `${name}-${id}`, extension, size, path: `${path.slice(0, path.lastIndexOf('/'))}/${name}-${id}${extension ? `.${extension}` : ''}`, folder, access: options.access, diskPath });
    }
    if (existing) existing.archived = true;
    return this.store({ id, name, extension, size, path, folder, access: options.access, diskPath });
  }

  private store(input: { id: string; name: string; extension: string; size: number; path: string; folder: string; access: string; diskPath: string }): StoredFile {
    const at = new Date(this.options.clock()).toISOString();
    const file: StoredFile = {
      id: input.id,
      name: input.name,
      extension: input.extension,
      size: input.size,
      path: input.path,
      parentFolderPath: input.folder,
      access: input.access,
      createdAt: at,
      updatedAt: at,
      archived: false,
      diskPath: input.diskPath,
      token: randomBytes(12).toString('hex'),
    };
    this.files.set(file.id, file);
    this.uploads += 1;
    return file;
  }

  async remove(id: string): Promise<boolean> {
    const file = this.files.get(id);
    if (!file || file.archived) return false;
    file.archived = true;
    await rm(file.diskPath, { force: true });
    return true;
  }
}

function folderId(path: string): number {
  let hash = 0;
  for (const char of path) hash = (hash * 31 + char.charCodeAt(0)) % 1_000_000_007;
  return 100_000 + hash;
}

export interface FilesRequest {
  request: IncomingMessage;
  response: ServerResponse;
  method: string;
  path: string;
  query: URLSearchParams;
  baseUrl: string;
  /** Sends a JSON answer (and logs it), as every other route's. */
  finish: (status: number, body: unknown) => void;
}

/** Serves one Files API request (authentication and rate limits were checked by the server). */
export async function handleFilesRequest(store: FileStore, context: FilesRequest): Promise<void> {
  const { method, path, finish, baseUrl } = context;
  try {
    if (path.startsWith(`${DOWNLOAD_PREFIX}/`)) {
      const [id, token] = path.slice(DOWNLOAD_PREFIX.length + 1).split('/');
      const file = store.files.get(id ?? '');
      if (!file || file.archived || file.token !== token) throw notFound('File not found');
      context.response.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': String(file.size) });
      await pipeline(createReadStream(file.diskPath), context.response);
      return;
    }
    if (method === 'POST' && path === FILES_PREFIX) {
      const file = await store.upload(context.request);
      finish(201, store.view(file, baseUrl));
      return;
    }
    // Everything else has no body worth reading.
    context.request.resume();
    if (method === 'GET' && path.startsWith(`${FILES_PREFIX}/stat/`)) {
      const wanted = `/${decodeURIComponent(path.slice(`${FILES_PREFIX}/stat/`.length))}`;
      const file = store.byPath(wanted);
      if (!file) throw notFound(`No file or folder at ${wanted}`);
      finish(200, { file: store.view(file, baseUrl) });
      return;
    }
    const match = /^\/files\/v3\/files\/([^/]+)(\/signed-url)?$/.exec(path);
    if (!match) throw notFound(`Unknown path ${path}`);
    const id = decodeURIComponent(match[1]!);
    const file = store.files.get(id);
    if (method === 'DELETE' && !match[2]) {
      if (!(await store.remove(id))) throw notFound(`File ${id} not found`);
      finish(204, undefined);
      return;
    }
    if (method !== 'GET') throw new HubspotHttpError(405, 'VALIDATION_ERROR', `${method} is not supported on ${path}`);
    if (!file || file.archived) throw notFound(`File ${id} not found`);
    if (match[2]) {
      const expiresAt = new Date(store.now() + 3_600_000).toISOString();
      finish(200, { url: `${baseUrl}${DOWNLOAD_PREFIX}/${file.id}/${file.token}`, expiresAt, name: file.name, extension: file.extension, size: file.size, type: 'OTHER' });
      return;
    }
    finish(200, store.view(file, baseUrl));
  } catch (error) {
    context.request.resume();
    if (error instanceof HubspotHttpError) finish(error.status, error.body);
    else throw error;
  }
}
