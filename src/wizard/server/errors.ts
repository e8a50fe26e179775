import { FerryError, toFerryError, type ErrorCode } from '../../core/errors.js';
import type { ApiError } from '../api.js';

/** An error the API answers with a status of its choosing (400, 404, 409, ...). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

const URL_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^/?#@:\s]*:)([^/?#@\s]+)@/gi;

/**
 * Removes secrets from text shown to the page: every known secret value (from the secrets file and the
 * variables ferry.yaml refers to) and any password in a URL.
 */
export class Scrubber {
  private secrets: string[] = [];

  setSecrets(values: Iterable<string>): void {
    // Longest first, so a secret that contains another is replaced whole.
    this.secrets = [...new Set([...values].filter((value) => value.length >= 4))].sort((a, b) => b.length - a.length);
  }

  text(text: string): string {
    let out = text.replace(URL_PASSWORD, '$1***@');
    for (const secret of this.secrets) out = out.split(secret).join('***');
    return out;
  }

  /** Scrubs every string inside a JSON-like value. */
  value<T>(value: T): T {
    if (typeof value === 'string') return this.text(value) as T;
    if (Array.isArray(value)) return value.map((item: unknown) => this.value(item)) as T;
    if (value !== null && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value as Record<string, unknown>)) out[key] = this.value(item);
      return out as T;
    }
    return value;
  }
}

const STATUS_BY_CODE: Partial<Record<ErrorCode, number>> = {
  USAGE: 400,
  CONFIG_MISSING: 409,
  CONFIG_INVALID: 400,
  MAPPING_INVALID: 400,
  RUN_NOT_FOUND: 404,
  RUN_UNFINISHED: 409,
  LEDGER_LOCKED: 409,
  AUTH_FAILED: 502,
  CONNECTION_FAILED: 502,
};

/** The status and ApiError body of anything thrown, scrubbed. */
export function apiError(thrown: unknown, scrub: Scrubber): { status: number; body: ApiError } {
  if (thrown instanceof HttpError) {
    return { status: thrown.status, body: { error: scrub.value({ code: thrown.code, message: thrown.message, ...(thrown.details ? { details: thrown.details } : {}) }) } };
  }
  const error = thrown instanceof FerryError ? thrown : toFerryError(thrown);
  const status = STATUS_BY_CODE[error.code] ?? 500;
  const details = Object.keys(error.details).length > 0 ? (error.details as Record<string, unknown>) : undefined;
  return { status, body: { error: scrub.value({ code: error.code, message: error.message, ...(details ? { details } : {}) }) } };
}

/** The `error` of a JobView or SideSummary: code and message, scrubbed. */
export function errorView(thrown: unknown, scrub: Scrubber): ApiError['error'] {
  return apiError(thrown, scrub).body.error;
}
