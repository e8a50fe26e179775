import { createHash } from 'node:crypto';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import type { Connector, CrmRecord, RecordError } from '../core/connector.js';
import { FerryError, isFerryError, type ErrorCode } from '../core/errors.js';
import type { ConnectorFiles, SourceFile } from '../core/files.js';
import type { FileLink, Link } from '../ledger/index.js';
import type { ProjectFile } from '../project/types.js';
import type { ObjectPlan } from './plan.js';
import type { RunState } from './run-state.js';
import type { WriteMode } from './writer.js';

/** Default largest file copied (options.maxFileBytes), below every vendor limit Ferry knows of. */
export const DEFAULT_MAX_FILE_BYTES = 100 * 1024 * 1024;

/** Failure codes of files: settled once the record's files all made it. */
export const FILE_FAILURE_CODES: ErrorCode[] = ['FILE_TOO_LARGE', 'FILE_FAILED'];

/**
 * Errors that stop the run instead of failing one file: the same problem would fail every file after it
 * (credentials, an unreachable server, limits used up, the ledger itself). The run is resumed later and
 * picks the file up again.
 */
const FATAL_CODES = new Set<ErrorCode>(['AUTH_FAILED', 'CONNECTION_FAILED', 'RATE_LIMITED', 'TRANSIENT', 'LEDGER_ERROR', 'LEDGER_LOCKED', 'RUN_PAUSED', 'CONFIG_INVALID', 'USAGE']);

/**
 * What makes one version of a source file: its SHA-256 when the source stores one, else its size. A file
 * whose version the ledger already holds is never uploaded again (re-runs, retries, deltas).
 */
export function fileVersion(file: SourceFile): string {
  return file.sha256 ? `sha256:${file.sha256.toLowerCase()}` : `size:${file.size ?? 'unknown'}`;
}

/**
 * The name an upload carries so that it can be found again when its answer is lost: derived from what
 * identifies the file, so every attempt of every run computes the same one. It is written to the ledger
 * (state `pending`) before the upload starts.
 */
export function fileStamp(object: string, recordId: string, file: SourceFile): string {
  return `ferry-${createHash('sha256').update(`${object}\u0000${recordId}\u0000${file.id}\u0000${fileVersion(file)}`).digest('hex').slice(0, 20)}`;
}

/** Passes bytes through, counting and hashing them; fails once more than `limit` bytes came. */
class MeteredStream extends Transform {
  bytes = 0;
  private readonly hash = createHash('sha256');

  constructor(
    private readonly limit: number,
    private readonly describe: () => string,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.limit) {
      callback(new FerryError('FILE_TOO_LARGE', `${this.describe()} is larger than ${this.limit} bytes (options.maxFileBytes or the target's limit): not copied`));
      return;
    }
    this.hash.update(chunk);
    callback(null, chunk);
  }

  digest(): string {
    return this.hash.digest('hex');
  }
}

/**
 * Copies the files of written records (docs/attachments.md). Engine code: it knows connectors only through
 * `Connector.files` and keeps every decision in the ledger's `files` table:
 *
 * 1. a file version the ledger holds as uploaded or attached is reused, never uploaded again;
 * 2. before an upload, its intent (`pending`, with the stamp) is committed; a run killed between the
 *    upload and the ledger write finds the file by that stamp when resumed and records it, uploading nothing;
 * 3. each file streams from source to target through a meter (bytes, SHA-256, the size limit): never a
 *    whole file in memory;
 * 4. a file that fails (too large, unreadable, refused) is a failure of its record, with the file's name
 *    and the reason; the record and every other file go on.
 */
export class AttachmentCopier {
  private readonly sourceFiles?: ConnectorFiles;
  private readonly targetFiles?: ConnectorFiles;
  private readonly maxBytes: number;

  constructor(
    private readonly state: RunState,
    project: ProjectFile,
    source: Connector,
    target: Connector,
  ) {
    if (project.options.attachments !== false) {
      this.sourceFiles = source.files;
      this.targetFiles = target.files;
    }
    const targetLimit = target.files?.maxFileBytes ?? Number.POSITIVE_INFINITY;
    this.maxBytes = Math.min(project.options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES, targetLimit);
  }

  /** Whether this object's records carry files this run copies. */
  copies(plan: ObjectPlan): boolean {
    return Boolean(this.sourceFiles?.readable(plan.sourceObject) && this.targetFiles?.writable(plan.targetObject)) && !plan.mapping.matchOnly;
  }

  /**
   * After a page of records was written: copies the files of those whose target record exists and that this
   * run may touch (every linked record in a run that updates; in a create-new delta only those it created or
   * linked). Idempotent, so a page read again after a crash costs listing only.
   */
  async copyPage(plan: ObjectPlan, records: CrmRecord[], mode: WriteMode): Promise<void> {
    if (!this.copies(plan) || mode.referencesOnly || records.length === 0) return;
    const state = this.state;
    const links = await state.getLinks(plan.object, records.map((record) => record.id));
    const runId = state.run.id;
    const eligible = records.filter((record) => {
      const link = links.get(record.id);
      return link?.state === 'linked' && link.targetId !== null && (mode.update || link.runId === runId || link.updatedRunId === runId);
    });
    if (eligible.length === 0) return;
    const listed = await this.sourceFiles!.list(plan.sourceObject, eligible);
    if (listed.size === 0) return;
    // A dry run reads them too (a read): it forecasts only the files that are not in the target yet.
    const known = await state.ledger.getFileLinks(plan.object, [...listed.keys()]);
    const byKey = new Map(known.map((row) => [fileKey(row.sourceRecordId, row.sourceFileId, row.version), row]));
    const settled: string[] = [];
    for (const [recordId, files] of listed) {
      const link = links.get(recordId)!;
      if (await this.copyRecordFiles(plan, recordId, link, files, byKey)) settled.push(recordId);
    }
    // Failures of files of earlier runs that now all made it; and this page's failures, in one commit.
    if (!state.dryRun) await state.commit({ object: plan.object, resolved: settled, resolvedCodes: FILE_FAILURE_CODES });
    else await state.flushFailures();
  }

  /** Copies and attaches one record's files; true when every one of them is in the target now. */
  private async copyRecordFiles(plan: ObjectPlan, recordId: string, link: Link, files: SourceFile[], known: Map<string, FileLink>): Promise<boolean> {
    const state = this.state;
    const targetRecordId = link.targetId!;
    const toAttach: FileLink[] = [];
    let complete = true;
    for (const file of files) {
      const version = fileVersion(file);
      const row = known.get(fileKey(recordId, file.id, version));
      if (row && row.state !== 'pending' && row.targetRecordId === targetRecordId) {
        if (row.state === 'uploaded') toAttach.push(row);
        continue;
      }
      if (file.size !== null && file.size > this.maxBytes) {
        complete = false;
        this.failFile(plan, recordId, file, { code: 'FILE_TOO_LARGE', message: `${file.size} bytes, larger than the ${this.maxBytes} allowed (options.maxFileBytes or the target's limit)` });
        continue;
      }
      if (state.dryRun) {
        state.add(plan.object, { files: 1, fileBytes: file.size ?? 0 });
        continue;
      }
      try {
        const uploaded = await this.upload(plan, recordId, targetRecordId, file, version, row);
        toAttach.push(uploaded);
      } catch (error) {
        if (isFerryError(error) && FATAL_CODES.has(error.code)) throw error;
        complete = false;
        const code: ErrorCode = isFerryError(error) && error.code === 'FILE_TOO_LARGE' ? 'FILE_TOO_LARGE' : 'FILE_FAILED';
        this.failFile(plan, recordId, file, { code, message: error instanceof Error ? error.message : String(error) });
      }
    }
    if (toAttach.length === 0 || state.dryRun) return complete;
    try {
      await this.targetFiles!.attach(plan.targetObject, targetRecordId, toAttach.map((row) => row.targetFileId!));
    } catch (error) {
      if (isFerryError(error) && FATAL_CODES.has(error.code)) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      state.failLater(plan.object, recordId, {
        code: 'FILE_FAILED',
        field: 'attachments',
        value: toAttach.map((row) => row.name).join(', '),
        message: `${plan.object} ${recordId}: its file(s) ${toAttach.map((row) => row.name).join(', ')} were uploaded but could not be attached to ${plan.targetObject} ${targetRecordId}: ${reason}`,
      });
      return false;
    }
    await state.ledger.putFileLinks(toAttach.map((row) => ({ ...row, state: 'attached' })));
    return complete;
  }

  /**
   * One file to the target. A `pending` row is an earlier attempt whose outcome was never recorded: the
   * target is asked for a file with its stamp first, and only when there is none is it uploaded.
   */
  private async upload(plan: ObjectPlan, recordId: string, targetRecordId: string, file: SourceFile, version: string, pending: FileLink | undefined): Promise<FileLink> {
    const state = this.state;
    const files = this.targetFiles!;
    const stamp = fileStamp(plan.object, recordId, file);
    const intent: FileLink = {
      object: plan.object,
      sourceRecordId: recordId,
      sourceFileId: file.id,
      version,
      name: file.name,
      stamp,
      targetRecordId,
      targetFileId: null,
      state: 'pending',
      bytes: file.size,
      sha256: file.sha256 ?? null,
      runId: pending?.runId ?? state.run.id,
    };
    const runId = String(state.run.id);
    if (pending) {
      const found = await files.findUploaded(plan.targetObject, { name: file.name, stamp, targetRecordId });
      if (found !== undefined) {
        const done: FileLink = { ...intent, targetFileId: found, state: 'uploaded' };
        await state.ledger.putFileLinks([done]);
        state.progress.emit({ type: 'file-copied', runId, object: plan.object, sourceId: recordId, name: file.name, bytes: file.size ?? 0, reused: true });
        return done;
      }
    } else {
      await state.ledger.putFileLinks([intent]);
    }
    let meter: MeteredStream | undefined;
    const describe = () => `${plan.object} ${recordId}: file "${file.name}"`;
    const open = async (): Promise<Readable> => {
      const content = await this.sourceFiles!.open(plan.sourceObject, recordId, file);
      const metered = new MeteredStream(this.maxBytes, describe);
      meter = metered;
      content.on('error', (error) => metered.destroy(error));
      return content.pipe(metered);
    };
    const targetFileId = await files.upload(plan.targetObject, { name: file.name, size: file.size, contentType: file.contentType, stamp, targetRecordId, open });
    const bytes = meter?.bytes ?? file.size ?? 0;
    const done: FileLink = { ...intent, targetFileId, state: 'uploaded', bytes, sha256: meter ? meter.digest() : intent.sha256 };
    await state.ledger.putFileLinks([done]);
    state.add(plan.object, { files: 1, fileBytes: bytes });
    state.progress.emit({ type: 'file-copied', runId, object: plan.object, sourceId: recordId, name: file.name, bytes, reused: false });
    return done;
  }

  private failFile(plan: ObjectPlan, recordId: string, file: SourceFile, error: Pick<RecordError, 'code' | 'message'>): void {
    const prefix = `${plan.object} ${recordId}: file "${file.name}"`;
    this.state.failLater(plan.object, recordId, {
      code: error.code,
      field: 'attachments',
      value: file.name,
      message: error.message.startsWith(prefix) ? error.message : `${prefix}: ${error.message}`,
    });
  }
}

/**
 * Undo of the files a run uploaded: taken off their records, then deleted from the target, then their
 * ledger rows removed, a page at a time (an interrupted undo resumes with what is left).
 */
export async function undoRunFiles(state: RunState, target: Connector, plan: ObjectPlan, runId: number): Promise<void> {
  const files = target.files;
  if (!files || state.dryRun) return;
  for (;;) {
    const rows = await state.ledger.fileLinksOfRun(runId, plan.object);
    if (rows.length === 0) return;
    const byRecord = new Map<string, string[]>();
    for (const row of rows) {
      if (row.targetFileId === null) continue;
      const list = byRecord.get(row.targetRecordId) ?? [];
      list.push(row.targetFileId);
      byRecord.set(row.targetRecordId, list);
    }
    // A pending row's upload may have happened: its file is found by stamp and deleted too.
    for (const row of rows.filter((entry) => entry.targetFileId === null)) {
      const found = await files.findUploaded(plan.targetObject, { name: row.name, stamp: row.stamp, targetRecordId: row.targetRecordId });
      if (found !== undefined) byRecord.set(row.targetRecordId, [...(byRecord.get(row.targetRecordId) ?? []), found]);
    }
    for (const [recordId, ids] of byRecord) await files.detach(plan.targetObject, recordId, ids);
    const ids = [...byRecord.values()].flat();
    if (ids.length > 0) await files.delete(plan.targetObject, ids);
    await state.ledger.deleteFileLinks(rows);
    // In an undo run `files` counts the files removed.
    state.add(plan.object, { files: ids.length, fileBytes: rows.reduce((sum, row) => sum + (row.bytes ?? 0), 0) });
    if (ids.length > 0) state.messages.push(`${plan.object}: removed ${ids.length} file(s) that run ${runId} uploaded.`);
  }
}

function fileKey(recordId: string, fileId: string, version: string): string {
  return `${recordId}\u0000${fileId}\u0000${version}`;
}
