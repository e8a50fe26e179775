/**
 * Pipedrive's error envelope: `{success: false, error, error_info, data: null, additional_data: null}`
 * (https://pipedrive.readme.io/docs/core-api-concepts-responses; the OpenAPI files' 400/404/410 examples, e.g.
 * `"\"outcome\" is required."` for a missing field and `"Entity was not found"` for a 404). 403s caused by an
 * account limit add a `code` (https://developers.pipedrive.com/changelog/post/new-error-message-and-code-for-post-deals-and-custom-fields-endpoints).
 */
export const ERROR_INFO = 'Please check developers.pipedrive.com for more information about Pipedrive API.';

export interface PipedriveErrorBody {
  success: false;
  error: string;
  error_info: string;
  data: null;
  additional_data: null;
  [key: string]: unknown;
}

export function errorBody(error: string, extra: Record<string, unknown> = {}): PipedriveErrorBody {
  return { success: false, error, error_info: ERROR_INFO, data: null, additional_data: null, ...extra };
}

/** Thrown by handlers and the store; the server turns it into the HTTP answer. */
export class PipedriveHttpError extends Error {
  readonly body: PipedriveErrorBody;

  constructor(
    readonly status: number,
    message: string,
    extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.body = errorBody(message, extra);
  }
}

/** 400 naming the field, in the `"field" ...` form of Pipedrive's validation messages. */
export function invalid(field: string, problem: string): PipedriveHttpError {
  return new PipedriveHttpError(400, `"${field}" ${problem}`);
}

export function required(field: string): PipedriveHttpError {
  return invalid(field, 'is required.');
}

export function notFound(what = 'Entity'): PipedriveHttpError {
  return new PipedriveHttpError(404, `${what} was not found`);
}

/** A soft-deleted record written to (the 410 "no longer available" of the OpenAPI files). */
export function gone(singular: string): PipedriveHttpError {
  return new PipedriveHttpError(410, `The ${singular} you are trying to access is no longer available`);
}

/**
 * 401 as the live gateway answers it for a missing or wrong token (body observed on api.pipedrive.com, see
 * docs/connectors/pipedrive-emulator.md: it has `errorCode` and a shorter `error_info`, no data keys).
 */
export const UNAUTHORIZED_BODY = { success: false, error: 'unauthorized access', errorCode: 401, error_info: 'Please check developers.pipedrive.com' };
