import type { Readable } from 'node:stream';
import type { CrmRecord } from './connector.js';

/**
 * Files attached to records (docs/attachments.md). A connector that can list a record's files, or store
 * files and attach them to records, implements `Connector.files`; the engine copies every file once,
 * as a stream, and keeps which source file became which target file in the ledger.
 */

/** One file of a source record, as its connector lists it. */
export interface SourceFile {
  /** Stable id of the file in the source (a file id, a row id, a path relative to the attachments folder). */
  id: string;
  /** File name as users see it, with its extension. */
  name: string;
  /** Bytes, when the source knows without reading the file. */
  size: number | null;
  contentType: string | null;
  /** Hex SHA-256 of the content, when the source stores one: a changed file is then copied again. */
  sha256?: string;
}

/** A file to store in the target for one target record. */
export interface FileUpload {
  name: string;
  size: number | null;
  contentType: string | null;
  /**
   * A name unique to this source file (and its version), chosen by the engine and recorded before the
   * upload: a connector stores it with the file (a folder name, a column) so `findUploaded` finds a file
   * whose upload answer was lost.
   */
  stamp: string;
  /** The target record the file belongs to (a database files table stores it in the file's row). */
  targetRecordId: string;
  /**
   * Opens the content, once per attempt: an upload that is retried after a network error reads it again.
   * The engine's stream counts and hashes the bytes and fails when the file is larger than allowed.
   */
  open: () => Promise<Readable>;
}

/** A stored target file as the target has it now (`ferry verify`). */
export interface StoredFile {
  /** Whether the file is among the attachments of the record it was copied for. */
  attached: boolean;
  /** Bytes, when the target tells them. */
  size: number | null;
  /** Hex SHA-256 of the content, when the target stores one. */
  sha256?: string;
}

export interface ConnectorFiles {
  /** This object's records have files this connector can list and open (source side). */
  readable(object: string): boolean;
  /** This object's records can get files (target side). */
  writable(object: string): boolean;
  /** The largest file the connector can store, in bytes (the vendor's published limit), if it has one. */
  readonly maxFileBytes?: number;
  /** The files of these records (record id -> files); records without files may be left out. */
  list(object: string, records: CrmRecord[]): Promise<Map<string, SourceFile[]>>;
  /** The content of one listed file. */
  open(object: string, recordId: string, file: SourceFile): Promise<Readable>;
  /** Stores a file and returns its target id. Consumes `open()`'s stream. */
  upload(object: string, file: FileUpload): Promise<string>;
  /** The id of a file stored earlier with this stamp (an upload whose answer was lost), or undefined. */
  findUploaded(object: string, file: Pick<FileUpload, 'name' | 'stamp' | 'targetRecordId'>): Promise<string | undefined>;
  /**
   * Makes these files the record's attachments besides those it has (HubSpot: `hs_attachment_ids`). A
   * target whose upload already ties the file to its record (a database files table) does nothing.
   */
  attach(object: string, recordId: string, fileIds: string[]): Promise<void>;
  /** Removes these files from the record's attachments (undo), leaving the others. A missing record is no error. */
  detach(object: string, recordId: string, fileIds: string[]): Promise<void>;
  /** Deletes stored files (undo); files that are gone already are no error. */
  delete(object: string, fileIds: string[]): Promise<void>;
  /**
   * What the target has of these stored files (`ferry verify`), by target file id: a file that is gone is
   * left out. `recordId` is the target record each was attached to.
   */
  inspect(object: string, files: { fileId: string; recordId: string }[]): Promise<Map<string, StoredFile>>;
}
