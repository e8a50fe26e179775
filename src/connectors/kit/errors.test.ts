import { describe, expect, it } from 'vitest';
import { vendorErrorCode, vendorErrorMessage, vendorRecordError, type ErrorDeclarations, type VendorErrorFacts } from './errors.js';

/** A made-up vendor's declarations: what a third vendor writes instead of mapping code. */
const ACME: ErrorDeclarations = {
  vendor: 'Acme',
  detailCodes: { BAD_EMAIL: 'INVALID_VALUE', MISSING: 'REQUIRED_MISSING' },
  rules: [
    { code: 'NOT_FOUND', statuses: [404], categories: ['gone'] },
    { code: 'UNIQUE_VIOLATION', message: /already taken/ },
  ],
  fallback: 'WRITE_FAILED',
  recordCodes: ['NOT_FOUND'],
};

const facts = (overrides: Partial<VendorErrorFacts>): VendorErrorFacts => ({ categories: [], message: '', details: [], ...overrides });

describe('vendor error declarations', () => {
  it('the first detail with a declared code decides, then the rules in order, then the fallback', () => {
    expect(vendorErrorCode(ACME, facts({ details: [{ code: 'other' }, { code: 'missing' }, { code: 'BAD_EMAIL' }], status: 404 }))).toBe('REQUIRED_MISSING');
    expect(vendorErrorCode(ACME, facts({ categories: ['GONE'], message: 'already taken' }))).toBe('NOT_FOUND');
    expect(vendorErrorCode(ACME, facts({ message: 'name already taken' }))).toBe('UNIQUE_VIOLATION');
    expect(vendorErrorCode(ACME, facts({ status: 500 }))).toBe('WRITE_FAILED');
  });

  it('names the field the answer names, else a detail\'s, else the longest written field its text mentions; the value is what the record wrote', () => {
    const written = { email: 'x', email_2: 'y', 'a.b': 'z' };
    const values = { email: 'x', email_2: 'y', 'a.b': 'z' };
    expect(vendorRecordError(ACME, facts({ field: 'email', details: [{ field: 'email_2' }] }), written, values)).toMatchObject({ field: 'email', value: 'x' });
    expect(vendorRecordError(ACME, facts({ details: [{ field: 'email_2', code: 'BAD_EMAIL' }] }), written, values)).toMatchObject({ code: 'INVALID_VALUE', field: 'email_2', value: 'y' });
    expect(vendorRecordError(ACME, facts({ message: 'email_2 is bad' }), written, values)).toMatchObject({ field: 'email_2', value: 'y' });
    // Field names are matched literally (a dot is not "any character"), as whole words only.
    expect(vendorRecordError(ACME, facts({ message: 'aXb and emails are bad' }), written, values).field).toBeUndefined();
    expect(vendorRecordError(ACME, facts({ message: 'a.b is bad' }), written, values)).toMatchObject({ field: 'a.b', value: 'z' });
    // A field named in the answer but not written has no value.
    expect(vendorRecordError(ACME, facts({ field: 'phone' }), written, values)).toMatchObject({ field: 'phone', value: null });
    // Errors about the record name no field.
    expect(vendorRecordError(ACME, facts({ status: 404, message: 'email gone' }), written, values)).toEqual({ code: 'NOT_FOUND', message: 'Acme rejected the record: email gone' });
  });

  it('reads as one sentence: label, lead without trailing colons, each detail once with its code', () => {
    const answer = facts({ label: 'HTTP 400', message: 'Invalid: [...]', lead: 'Invalid:  ', details: [{ field: 'email', message: 'not an e-mail', code: 'BAD_EMAIL' }, { field: 'email', message: 'not an e-mail', code: 'BAD_EMAIL' }, { code: 'MISSING' }, { message: 'Invalid' }] });
    expect(vendorErrorMessage(ACME, answer)).toBe('Acme rejected the record (HTTP 400): Invalid: email: not an e-mail (BAD_EMAIL); MISSING');
    expect(vendorErrorMessage(ACME, facts({}))).toBe('Acme rejected the record');
  });
});
