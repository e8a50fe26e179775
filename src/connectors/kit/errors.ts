import type { RecordError } from '../../core/connector.js';
import { FerryError, type ErrorCode } from '../../core/errors.js';
import type { FieldValue } from '../../core/schema.js';
import { toRecordError } from './writes.js';

/**
 * A vendor's refusal of one record, mapped to a Ferry RecordError by declarations instead of code: the vendor
 * writes a parser from its error body to `VendorErrorFacts` and declares its codes (`ErrorDeclarations`); the
 * kit picks the Ferry code, the field the answer is about (the value comes from what the record asked to
 * write, via toRecordError) and a message a person can read. HubSpot's 207 / 4xx bodies are the first user
 * (src/connectors/hubspot/write-errors.ts).
 */

/** One entry of a vendor's per-field error list (HubSpot `errors[]`, Salesforce `fields`, …). */
export interface ErrorDetail {
  /** The vendor's code for this detail, e.g. `INVALID_EMAIL`. */
  code?: string;
  /** The vendor's field name the detail is about. */
  field?: string;
  message?: string;
}

/** What a vendor's error answer says, in the vendor's terms (its parser fills this in). */
export interface VendorErrorFacts {
  /** The HTTP status of the answer, when known. */
  status?: number;
  /** The vendor's error classes the rules match (HubSpot: `category`), compared case-insensitively. */
  categories: string[];
  /** The whole message as sent; rules' `message` patterns test it. */
  message: string;
  /** The message as shown: without what the details repeat (an embedded JSON list); defaults to `message`. */
  lead?: string;
  /** Shown in parentheses after "<vendor> rejected the record", e.g. the category or `HTTP 400`. */
  label?: string;
  details: ErrorDetail[];
  /** The field the answer names at its top level (HubSpot `context.propertyName`), before any detail's. */
  field?: string;
  /** Text in which a written field's name may appear (message and details as sent); defaults to `message`. */
  text?: string;
}

/** One declared mapping: any of its conditions matching gives `code`. */
export interface ErrorRule {
  code: ErrorCode;
  categories?: readonly string[];
  statuses?: readonly number[];
  message?: RegExp;
}

export interface ErrorDeclarations {
  /** The vendor's name in messages ("HubSpot rejected the record …"). */
  vendor: string;
  /** Detail codes -> Ferry codes (keys in upper case); the first detail with a known code decides. */
  detailCodes: Readonly<Record<string, ErrorCode>>;
  /** Tried in order after the detail codes. */
  rules: readonly ErrorRule[];
  /** The code when nothing matched. */
  fallback: ErrorCode;
  /** Codes whose errors are about the record, not a field (e.g. NOT_FOUND): no field is named. */
  recordCodes?: readonly ErrorCode[];
}

function matches(rule: ErrorRule, facts: VendorErrorFacts): boolean {
  if (rule.categories?.some((category) => facts.categories.some((name) => name.toUpperCase() === category.toUpperCase()))) return true;
  if (rule.statuses && facts.status !== undefined && rule.statuses.includes(facts.status)) return true;
  return rule.message !== undefined && rule.message.test(facts.message);
}

/** The Ferry code of a vendor error: detail codes first (in the details' order), then the rules, then the fallback. */
export function vendorErrorCode(declarations: ErrorDeclarations, facts: VendorErrorFacts): ErrorCode {
  for (const detail of facts.details) {
    const mapped = detail.code ? declarations.detailCodes[detail.code.toUpperCase()] : undefined;
    if (mapped) return mapped;
  }
  return declarations.rules.find((rule) => matches(rule, facts))?.code ?? declarations.fallback;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The field an error is about: the one the answer names, else the first detail's, else the longest written
 * field name that appears as a whole word in the answer's text.
 */
export function vendorErrorField(facts: VendorErrorFacts, written: Record<string, unknown>): string | undefined {
  if (facts.field) return facts.field;
  for (const detail of facts.details) if (detail.field) return detail.field;
  const text = facts.text ?? facts.message;
  const names = Object.keys(written).sort((a, b) => b.length - a.length);
  return names.find((name) => new RegExp(`(^|[^a-z0-9_])${escapeRegExp(name)}([^a-z0-9_]|$)`, 'i').test(text));
}

/**
 * The answer as one sentence: `<vendor> rejected the record (<label>): <lead>: <field>: <message> (<CODE>); …`,
 * leaving out details that only repeat the lead.
 */
export function vendorErrorMessage(declarations: ErrorDeclarations, facts: VendorErrorFacts): string {
  const lead = (facts.lead ?? facts.message).trim().replace(/[:\s]+$/, '');
  const parts = facts.details
    .filter((detail) => detail.message || detail.code)
    .map((detail) => `${detail.field ? `${detail.field}: ` : ''}${detail.message ?? detail.code}${detail.code && detail.message && !detail.message.includes(detail.code) ? ` (${detail.code})` : ''}`);
  const extra = [...new Set(parts)].filter((part) => part !== lead);
  const head = `${declarations.vendor} rejected the record${facts.label ? ` (${facts.label})` : ''}`;
  const body = [lead, extra.join('; ')].filter(Boolean).join(': ');
  return body ? `${head}: ${body}` : head;
}

/**
 * A vendor's refusal of one record as its RecordError: the declared code, the readable message, and the field
 * (by the vendor's name, as `written` has it) with the value the record asked to write (`values`).
 */
export function vendorRecordError(declarations: ErrorDeclarations, facts: VendorErrorFacts, written: Record<string, unknown>, values: Record<string, FieldValue>): RecordError {
  const code = vendorErrorCode(declarations, facts);
  const error = new FerryError(code, vendorErrorMessage(declarations, facts), facts.status !== undefined ? { status: facts.status } : {});
  const field = declarations.recordCodes?.includes(code) ? undefined : vendorErrorField(facts, written);
  return toRecordError(error, values, () => (field === undefined ? {} : { field }));
}
