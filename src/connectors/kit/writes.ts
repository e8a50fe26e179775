import type { RecordError, WriteResult } from '../../core/connector.js';
import { forEachConcurrently } from '../../core/concurrency.js';
import { FerryError, isFerryError, type ErrorCode } from '../../core/errors.js';
import { isHttpError, realClock, type Clock } from '../../core/http.js';
import type { FieldValue } from '../../core/schema.js';

/**
 * Writes for vendors without batch writes (Pipedrive): one request per record, several in flight under the
 * pacer, each result attributed to its own input (never by timing or position in an answer), and creates
 * that are never sent twice after a lost answer (the vendor looks the record up, by an external id or otherwise).
 */

/** Codes that fail one record; every other code stops the run (auth, limits, connection, internal). */
const RECORD_CODES: ReadonlySet<ErrorCode> = new Set(['VALIDATION', 'REQUIRED_MISSING', 'INVALID_VALUE', 'UNKNOWN_FIELD', 'UNIQUE_VIOLATION', 'NOT_FOUND', 'REFERENCE_MISSING', 'WRITE_FAILED']);

export function isRecordLevel(error: unknown): error is FerryError {
  return isFerryError(error) && RECORD_CODES.has(error.code);
}

export function failure(code: ErrorCode, message: string, field?: string, value?: FieldValue): WriteResult {
  const error: RecordError = { code, message };
  if (field !== undefined) {
    error.field = field;
    error.value = value ?? null;
  }
  return { ok: false, error };
}

/**
 * Vendor hook for a refused write: which of the record's fields the answer is about (by the vendor's own
 * field name), and the code it means; the value is taken from what the record asked to write.
 */
export interface ErrorAttribution {
  field?: string;
  code?: ErrorCode;
}

/** A record-level FerryError as the record's RecordError, naming field and value when the vendor hook finds them. */
export function toRecordError(error: FerryError, fields: Record<string, FieldValue>, attribute: (error: FerryError) => ErrorAttribution = () => ({})): RecordError {
  const found = attribute(error);
  const result: RecordError = { code: found.code ?? error.code, message: error.message };
  if (found.field !== undefined) {
    result.field = found.field;
    result.value = fields[found.field] ?? null;
  }
  return result;
}

/**
 * Runs `write` for every input, `concurrency` at a time, and returns one result per input in input order. A
 * record-level error fails that record alone; a run-level error (auth, rate limit, connection) lets the
 * writes in flight finish and is thrown then (the engine's pending links and external ids find what was
 * written, see docs/semantics.md).
 */
export async function writeEach<T>(
  inputs: readonly T[],
  concurrency: number,
  write: (input: T, index: number) => Promise<WriteResult>,
  onRecordError: (error: FerryError, input: T) => RecordError = (error) => ({ code: error.code, message: error.message }),
): Promise<WriteResult[]> {
  const results: WriteResult[] = new Array<WriteResult>(inputs.length);
  await forEachConcurrently(inputs, concurrency, async (input, index) => {
    try {
      results[index] = await write(input, index);
    } catch (error) {
      if (!isRecordLevel(error)) throw error;
      results[index] = { ok: false, error: onRecordError(error, input) };
    }
  });
  return results;
}

export interface IdempotentCreateOptions {
  /** Sends the create once (no retries inside); returns the new id. */
  send: () => Promise<string>;
  /** Finds the record an earlier attempt created, by its external id; undefined when none exists. */
  lookup?: () => Promise<string | undefined>;
  retries: number;
  backoffMs?: (attempt: number) => number;
  clock?: Clock;
}

function unanswered(error: unknown): boolean {
  // A network error, timeout or 5xx: the create may have been carried out and only its answer lost.
  return isFerryError(error) && (error.code === 'TRANSIENT' || (error.code === 'CONNECTION_FAILED' && error.details.cause !== 'ENOTFOUND'));
}

function refusedUnread(error: unknown): number | undefined {
  // A 429 is refused before it runs: safe to send again after the window frees.
  if (isHttpError(error) && error.status === 429 && !error.details.resumable) return 1000;
  return undefined;
}

/**
 * A create that is never carried out twice: sent without automatic retries; after an answer that may have
 * been lost (network error, timeout, 5xx), the record is first looked up by the external id it stamped, and
 * sent again only when it is not there. Without an external id a lost answer is not retried (the error stands:
 * sending again could duplicate the record).
 */
export async function createIdempotent(options: IdempotentCreateOptions): Promise<string> {
  const clock = options.clock ?? realClock;
  const backoff = options.backoffMs ?? ((attempt: number) => Math.min(30_000, 500 * 2 ** (attempt - 1)));
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await options.send();
    } catch (error) {
      if (attempt > options.retries) throw error;
      const wait = refusedUnread(error);
      if (wait !== undefined) {
        await clock.sleep(wait);
        continue;
      }
      if (!unanswered(error) || !options.lookup) throw error;
      let found: string | undefined;
      try {
        found = await options.lookup();
      } catch {
        throw error;
      }
      if (found !== undefined) return found;
      await clock.sleep(backoff(attempt));
    }
  }
}

/**
 * External id -> record id, for a vendor whose lists cannot filter on the external-id field: reads `pages` (a
 * paged list narrowed to that field where the vendor allows) until every wanted id is found or the list ends.
 * The first record holding an id wins (a second one would be a duplicate the caller did not create).
 */
export async function findExternalIds<Row>(pages: AsyncIterable<Row[]>, externalIds: readonly string[], externalIdOf: (row: Row) => string | undefined, idOf: (row: Row) => string): Promise<Map<string, string>> {
  const wanted = new Set(externalIds);
  const found = new Map<string, string>();
  if (wanted.size === 0) return found;
  for await (const page of pages) {
    for (const row of page) {
      const value = externalIdOf(row);
      if (value !== undefined && wanted.has(value) && !found.has(value)) found.set(value, idOf(row));
    }
    if (found.size === wanted.size) break;
  }
  return found;
}
