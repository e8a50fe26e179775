import { FerryError } from '../../core/errors.js';

/** Read cursors are opaque to the engine: base64url JSON of whatever state the connector needs. */
export function encodeCursor(state: unknown): string {
  return Buffer.from(JSON.stringify(state), 'utf8').toString('base64url');
}

/** Decodes a cursor made by encodeCursor, checked by `valid`; anything else is a USAGE error naming the vendor. */
export function decodeCursor<T>(text: string, vendor: string, valid: (value: unknown) => value is T): T {
  try {
    const value: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (valid(value)) return value;
  } catch {
    // reported below
  }
  throw new FerryError('USAGE', `The read cursor is not one this ${vendor} connector produced`);
}
