/**
 * One error type for the whole product. `code` is stable: scripts, reports and the wizard key on it,
 * so codes are only ever added, never renamed.
 */
export const ERROR_CODES = [
  // usage and configuration (exit 2)
  'USAGE',
  'CONFIG_MISSING',
  'CONFIG_INVALID',
  'MAPPING_INVALID',
  // fatal run problems (exit 1)
  'AUTH_FAILED',
  'CONNECTION_FAILED',
  'SCHEMA_MISMATCH',
  'LEDGER_LOCKED',
  'LEDGER_ERROR',
  'RUN_NOT_FOUND',
  'RUN_UNFINISHED',
  /** Stopped on request (the wizard's pause) after a checkpoint; the same command resumes it. */
  'RUN_PAUSED',
  'RATE_LIMITED',
  'TRANSIENT',
  'INTERNAL',
  // record level (the record fails, the run goes on)
  'VALIDATION',
  'REQUIRED_MISSING',
  'INVALID_VALUE',
  'UNKNOWN_FIELD',
  'UNIQUE_VIOLATION',
  'NOT_FOUND',
  'REFERENCE_MISSING',
  'AMBIGUOUS_MATCH',
  'VALUE_NOT_MAPPED',
  'CSV_ROW_INVALID',
  'WRITE_FAILED',
  /** Undo found the target changed since Ferry wrote it, and left it alone. */
  'TARGET_CHANGED',
  /** A record a mapping wrote before no longer passes its row filter (`where`): its target record is left as it is. */
  'ROUTE_CHANGED',
  /** A record's file is larger than the largest allowed (`options.maxFileBytes`, or the target's limit): not copied. */
  'FILE_TOO_LARGE',
  /** A record's file could not be read, stored or attached: not copied; the record itself was written. */
  'FILE_FAILED',
  /** Reported by a delta: the source record was deleted; its target record is kept (deletions are never propagated). */
  'DELETED_IN_SOURCE',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorDetails {
  object?: string;
  recordId?: string;
  field?: string;
  value?: unknown;
  line?: number;
  column?: number;
  path?: string;
  [key: string]: unknown;
}

const USAGE_CODES: ReadonlySet<ErrorCode> = new Set(['USAGE', 'CONFIG_MISSING', 'CONFIG_INVALID', 'MAPPING_INVALID']);

export class FerryError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FerryError';
    this.code = code;
    this.details = details;
  }

  /** Exit code of the CLI when this error stops a command: 2 for usage/configuration, 1 otherwise. */
  get exitCode(): number {
    return USAGE_CODES.has(this.code) ? 2 : 1;
  }

  toJSON(): { code: ErrorCode; message: string; details: ErrorDetails } {
    return { code: this.code, message: this.message, details: this.details };
  }
}

export function isFerryError(error: unknown): error is FerryError {
  return error instanceof FerryError;
}

/** Wraps anything thrown into a FerryError, keeping the original as `cause`. */
export function toFerryError(error: unknown, fallback: ErrorCode = 'INTERNAL'): FerryError {
  if (error instanceof FerryError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new FerryError(fallback, message, {}, { cause: error });
}

/** Short printable form of a value for error messages: long values are cut, never the whole note. */
export function describeValue(value: unknown, max = 80): string {
  let text: string;
  if (typeof value === 'string') text = JSON.stringify(value);
  else if (value === undefined) text = 'undefined';
  else text = JSON.stringify(value) ?? String(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
