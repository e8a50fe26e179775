import { randomUUID } from 'node:crypto';

/**
 * HubSpot's error body. Fields as in the docs' example error and the SDK's `StandardError`/`ModelError`:
 * https://developers.hubspot.com/docs/api-reference/error-handling
 * https://developers.hubspot.com/docs/faq/api-error-responses
 * `{ status: "error", message, correlationId, category, errors?: [{message, in?, code?, context?}], context? }`
 */
export interface HubspotErrorBody {
  status: 'error';
  message: string;
  correlationId: string;
  category: string;
  subCategory?: string;
  errors?: { message: string; code?: string; in?: string; context?: Record<string, string[]> }[];
  context?: Record<string, string[]>;
  [key: string]: unknown;
}

/** Thrown by handlers; the server turns it into the HTTP response. */
export class HubspotHttpError extends Error {
  readonly status: number;
  readonly body: HubspotErrorBody;

  constructor(status: number, category: string, message: string, extra: Partial<HubspotErrorBody> = {}) {
    super(message);
    this.status = status;
    this.body = { status: 'error', message, correlationId: randomUUID(), category, ...extra };
  }
}

export function correlationId(): string {
  return randomUUID();
}

/** One property value problem, in the shape HubSpot embeds in "Property values were not valid: [...]". */
export interface PropertyProblem {
  name: string;
  code: string;
  message: string;
}

/**
 * HubSpot reports invalid values as VALIDATION_ERROR whose message embeds a JSON list of
 * `{isValid:false, message, error:<CODE>, name}` (codes such as PROPERTY_DOESNT_EXIST, INVALID_EMAIL, INVALID_OPTION,
 * INVALID_DATE seen in real responses, e.g. https://github.com/hubspot-net/HubSpot.NET/issues/50). The emulator also
 * adds the structured `errors` array the error-handling docs describe (message, code, context).
 */
export function propertyValidationMessage(problems: PropertyProblem[]): string {
  return `Property values were not valid: ${JSON.stringify(problems.map((problem) => ({ isValid: false, message: problem.message, error: problem.code, name: problem.name })))}`;
}

export function validationError(problems: PropertyProblem[]): HubspotHttpError {
  return new HubspotHttpError(400, 'VALIDATION_ERROR', propertyValidationMessage(problems), {
    errors: problems.map((problem) => ({ message: problem.message, code: problem.code, context: { propertyName: [problem.name] } })),
  });
}

export function badRequest(message: string, extra: Partial<HubspotErrorBody> = {}): HubspotHttpError {
  return new HubspotHttpError(400, 'VALIDATION_ERROR', message, extra);
}

export function notFound(message = 'resource not found'): HubspotHttpError {
  return new HubspotHttpError(404, 'OBJECT_NOT_FOUND', message);
}
