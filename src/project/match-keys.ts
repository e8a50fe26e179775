import type { FieldValue } from '../core/schema.js';
import type { MatchKeyKind } from './types.js';

/**
 * Normalisation of match keys (semantics: Matching). A key that is empty or not valid for its kind is
 * `undefined`: it never matches and never makes records duplicates of each other.
 */
export function normaliseKey(kind: MatchKeyKind, value: FieldValue | FieldValue[] | undefined): string | undefined {
  const text = keyText(value);
  if (text === undefined) return undefined;
  switch (kind) {
    case 'email':
      return normaliseEmail(text);
    case 'domain':
      return normaliseDomain(text);
    case 'phone':
      return normalisePhone(text);
    case 'name':
      return normaliseName(text);
    case 'exact':
      return text.trim() || undefined;
  }
}

/** Joins several source values with a space (first + last name); empty parts are left out. */
function keyText(value: FieldValue | FieldValue[] | undefined): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (Array.isArray(value)) {
    const parts: string[] = [];
    for (const part of value.flat()) {
      const text = keyText(part);
      if (text !== undefined && text.trim() !== '') parts.push(text.trim());
    }
    return parts.length > 0 ? parts.join(' ') : undefined;
  }
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : undefined;
  if (typeof value === 'boolean') return String(value);
  return value.trim() === '' ? undefined : value;
}

const EMAIL = /^[^\s@<>(),;:"[\]]+@[^\s@<>(),;:"[\]]+\.[^\s@<>(),;:"[\]]+$/;

function normaliseEmail(text: string): string | undefined {
  let email = text.trim();
  // "Jane Doe <jane@example.com>"
  const angle = /<([^<>]+)>\s*$/.exec(email);
  if (angle) email = angle[1]!.trim();
  if (/^mailto:/i.test(email)) email = email.slice(7);
  email = email.toLowerCase();
  return EMAIL.test(email) ? email : undefined;
}

/**
 * The host of a URL, e-mail address or host name: lower-case, without `www.`, port, path or user; undefined
 * when there is none (`n/a`, `localhost`). Used for domain match keys and `transform: domain`.
 */
export function normaliseDomain(text: string): string | undefined {
  let host = text.trim().toLowerCase();
  // "Jane Doe <jane@example.com>", "mailto:jane@example.com"
  const angle = /<([^<>]+)>\s*$/.exec(host);
  if (angle) host = angle[1]!.trim();
  host = host.replace(/^mailto:/, '');
  if (host.includes('@') && !host.includes('/')) host = host.slice(host.lastIndexOf('@') + 1);
  host = host.replace(/^[a-z][a-z0-9+.-]*:\/\//, '').replace(/^\/\//, '');
  host = host.split(/[/?#]/, 1)[0] ?? '';
  if (host.includes('@')) host = host.slice(host.lastIndexOf('@') + 1);
  host = host.replace(/:\d*$/, '').replace(/\.$/, '');
  if (host.startsWith('www.')) host = host.slice(4);
  if (!host.includes('.') || host.startsWith('.') || host.includes('..')) return undefined;
  if (/[\s,;:'"<>()[\]{}\\]/.test(host)) return undefined;
  return host;
}

function normalisePhone(text: string): string | undefined {
  // Extensions are not part of the number: "+1 555 010 9999 ext. 12", "... x12".
  const main = text.trim().split(/\s*(?:ext\.?|extension|x|#)\s*\d+\s*$/i)[0] ?? '';
  const international = /^\s*(?:\+|00)/.test(main);
  let digits = main.replace(/\D/g, '');
  if (international && main.trim().startsWith('00')) digits = digits.slice(2);
  if (digits.length < 5) return undefined;
  return international ? `+${digits}` : digits;
}

function normaliseName(text: string): string | undefined {
  const name = text.normalize('NFC').toLocaleLowerCase('und').replace(/\s+/gu, ' ').trim();
  return name === '' ? undefined : name;
}
