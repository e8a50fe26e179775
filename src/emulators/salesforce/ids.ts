import { salesforceId18 } from '../../core/salesforce-id.js';

/**
 * Salesforce record ids: 15 case-sensitive characters (a 3-character key prefix naming the object, then the
 * instance and the record's number in base 62) and the 18-character case-insensitive form, which appends
 * three checksum characters. Each checksum character encodes, for one 5-character block of the 15, which of
 * its characters are upper-case letters (bit i set when character i is A-Z), as an index into A-Z0-5.
 * Source: https://help.salesforce.com/s/articleView?id=000385585 ("What are Salesforce IDs composed of?")
 * and the CASESAFEID() formula function.
 */
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** The 3-character suffix of a 15-character id (shared with the CSV presets, which read exported ids). */
export function checksum(id15: string): string {
  return salesforceId18(id15).slice(15);
}

/** The 18-character id of record number `n` of the object with `prefix` (pod `5g`, reserved `0`). */
export function makeId(prefix: string, n: number): string {
  let digits = '';
  let rest = n;
  do {
    digits = BASE62[rest % 62] + digits;
    rest = Math.floor(rest / 62);
  } while (rest > 0);
  const id15 = `${prefix}5g0${digits.padStart(9, '0')}`;
  return id15 + checksum(id15);
}

const ID_SHAPE = /^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$/;

/**
 * The 18-character form of a 15- or 18-character id, or undefined when the text is not id-shaped. An
 * 18-character id is case-insensitive: its letters get their case back from the suffix (the reason the suffix
 * exists), so `001a0000006vm9riac` is `001A0000006Vm9rIAC`.
 */
export function normalizeId(text: string): string | undefined {
  return ID_SHAPE.test(text) ? salesforceId18(text) : undefined;
}

/** Key prefixes (https://help.salesforce.com/s/articleView?id=000385203, "Standard field record ID prefix decoder"). */
export const KEY_PREFIXES: Record<string, string> = {
  Account: '001',
  Note: '002',
  Contact: '003',
  User: '005',
  Opportunity: '006',
  RecordType: '012',
  ContentDocument: '069',
  ContentNote: '069',
  ContentVersion: '068',
  ContentDocumentLink: '06A',
  Organization: '00D',
  CustomField: '00N',
  PermissionSet: '0PS',
  FieldPermissions: '01k',
  OpportunityContactRole: '00K',
  Lead: '00Q',
  Task: '00T',
  Event: '00U',
  BulkJob: '750',
  QueryLocator: '01g',
};

/** Custom objects get prefixes a01, a02, ... in declaration order, as a fresh org hands them out. */
export function customPrefix(index: number): string {
  return `a${BASE62[Math.floor(index / 62) % 62]}${BASE62[(index % 62) + 1] ?? 'z'}`;
}
