import { describe, expect, it } from 'vitest';
import { readableMessage, toRecordError } from './write-errors.js';

/**
 * HubSpot's error bodies (https://developers.hubspot.com/docs/faq/api-error-responses: `status`, `message`,
 * `category`, `errors[]` with `message`, `in`, `code`, `context`; every field optional) as readable text.
 */
describe('HubSpot error bodies as readable messages', () => {
  it('unpacks the JSON list HubSpot embeds in "Property values were not valid", naming the property', () => {
    const body = {
      status: 'error',
      message: 'Property values were not valid: [{"isValid":false,"message":"Email address not-an-email is invalid","error":"INVALID_EMAIL","name":"email"}]',
      category: 'VALIDATION_ERROR',
      correlationId: 'a43683b0-5717-4ceb-80b4-104d02915d8c',
    };
    const error = toRecordError(body, 400, { email: 'not-an-email', firstname: 'Ann' }, { email: 'not-an-email', firstname: 'Ann' });
    expect(error).toEqual({
      code: 'INVALID_VALUE',
      field: 'email',
      value: 'not-an-email',
      message: 'HubSpot rejected the record (VALIDATION_ERROR): Property values were not valid: email: Email address not-an-email is invalid (INVALID_EMAIL)',
    });
    expect(error.message).not.toContain('{');
  });

  it('lists several invalid properties, each with its name', () => {
    const message = readableMessage({
      message:
        'Property values were not valid: [{"isValid":false,"message":"1,5 is not a valid number","error":"INVALID_DECIMAL","name":"amount"},{"isValid":false,"message":"maybe was not one of the allowed options","error":"INVALID_OPTION","name":"dealstage"}]',
      category: 'VALIDATION_ERROR',
    });
    expect(message).toBe(
      'HubSpot rejected the record (VALIDATION_ERROR): Property values were not valid: amount: 1,5 is not a valid number (INVALID_DECIMAL); dealstage: maybe was not one of the allowed options (INVALID_OPTION)',
    );
  });

  it('uses errors[] with `in` and context.propertyName, as the documented example has them', () => {
    expect(readableMessage({ status: 'error', message: 'Invalid input', errors: [{ message: 'must not be blank', in: 'name' }], category: 'VALIDATION_ERROR' })).toBe(
      'HubSpot rejected the record (VALIDATION_ERROR): Invalid input: name: must not be blank',
    );
    expect(readableMessage({ message: 'Required property missing', errors: [{ message: 'hs_timestamp is required', code: 'MISSING_REQUIRED_PROPERTY', context: { propertyName: ['hs_timestamp'] } }] })).toBe(
      'HubSpot rejected the record: Required property missing: hs_timestamp: hs_timestamp is required (MISSING_REQUIRED_PROPERTY)',
    );
  });

  it('keeps a plain message as it is, and says something when the body says nothing', () => {
    expect(readableMessage({ message: 'Contact already exists. Existing ID: 501', category: 'CONFLICT' }, 409)).toBe('HubSpot rejected the record (CONFLICT): Contact already exists. Existing ID: 501');
    expect(readableMessage({}, 400)).toBe('HubSpot rejected the record (HTTP 400)');
    expect(readableMessage({ message: 'not valid: [{broken json' })).toBe('HubSpot rejected the record: not valid: [{broken json');
  });
});
