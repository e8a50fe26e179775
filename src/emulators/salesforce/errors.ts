/**
 * Salesforce's error shapes (REST API Developer Guide, "Status Codes and Error Responses",
 * https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/errorcodes.htm):
 * top-level errors are an array `[{message, errorCode, fields?}]`; per-record errors inside sObject
 * Collections results are `{statusCode, message, fields}`.
 */
export interface TopError {
  message: string;
  errorCode: string;
  fields?: string[];
}

export interface RecordError {
  statusCode: string;
  message: string;
  fields: string[];
}

export class SalesforceHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(typeof body === 'object' && Array.isArray(body) ? String((body[0] as TopError | undefined)?.message) : `HTTP ${status}`);
  }
}

export function httpError(status: number, errorCode: string, message: string, fields?: string[]): SalesforceHttpError {
  return new SalesforceHttpError(status, [fields ? { message, errorCode, fields } : { message, errorCode }]);
}

/** A failed write of one record, before it is shaped for a single-record (top-level) or collection answer. */
export class RecordFailure extends Error {
  constructor(
    readonly statusCode: string,
    message: string,
    readonly fields: string[] = [],
  ) {
    super(message);
  }

  asRecordError(): RecordError {
    return { statusCode: this.statusCode, message: this.message, fields: this.fields };
  }

  /** The single-record REST answer: 400 with `[{message, errorCode, fields}]` (404 for records that are gone). */
  asHttp(): SalesforceHttpError {
    const status = this.statusCode === 'ENTITY_IS_DELETED' || this.statusCode === 'NOT_FOUND' ? 404 : 400;
    return new SalesforceHttpError(status, [{ message: this.message, errorCode: this.statusCode, fields: this.fields }]);
  }
}

export const NOT_FOUND = () => httpError(404, 'NOT_FOUND', 'The requested resource does not exist');
export const INVALID_SESSION = [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }];
export const LIMIT_EXCEEDED = [{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }];
/** The concurrent long-running request limit (API limits cheat sheet: 25 requests of 20 s or more in production). */
export const CONCURRENT_LIMIT_EXCEEDED = [{ message: 'ConcurrentRequests (Concurrent API Requests) Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }];
