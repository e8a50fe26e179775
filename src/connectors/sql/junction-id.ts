/**
 * Record ids of junction objects (a join table exposed as an object, docs/connectors/sql.md): the values of
 * the row's two key columns, `<first>|<second>`, each with `%` written `%25` and `|` written `%7C` (and
 * nothing else changed), so `12|34` for integer keys and `a%7Cb|c%25` for the text keys `a|b` and `c%`.
 * Unambiguous for any values: an encoded part holds no `|`, so the id splits in exactly one way, and the
 * escape is undone exactly. Stable: the same two values always make the same id.
 */
export function encodeJunctionId(parts: readonly [string, string]): string {
  return parts.map((part) => part.replace(/%/g, '%25').replace(/\|/g, '%7C')).join('|');
}

/** The two key values of a junction id, or undefined when the text is not one (`encodeJunctionId` never makes it). */
export function decodeJunctionId(id: string): [string, string] | undefined {
  const parts = id.split('|');
  if (parts.length !== 2) return undefined;
  const decoded: string[] = [];
  for (const part of parts) {
    // Only %25 and %7C are ever written; any other % sequence is not an id of ours.
    if (/%(?!25|7C)/.test(part)) return undefined;
    decoded.push(part.replace(/%(25|7C)/g, (_, code: string) => (code === '25' ? '%' : '|')));
  }
  return decoded as [string, string];
}
