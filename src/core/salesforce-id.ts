/**
 * Salesforce record ids, shared by the CSV presets (exported ids), the Salesforce emulator and the Salesforce
 * connector. Source: https://help.salesforce.com/s/articleView?id=000385585 and the CASESAFEID() formula.
 */
export const ID15 = /^[a-zA-Z0-9]{15}$/;
export const ID18 = /^[a-zA-Z0-9]{18}$/;
const SUFFIX_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';

function suffixOf(id15: string): string {
  let suffix = '';
  for (let chunk = 0; chunk < 3; chunk++) {
    let bits = 0;
    for (let position = 0; position < 5; position++) {
      const char = id15[chunk * 5 + position]!;
      if (char >= 'A' && char <= 'Z') bits |= 1 << position;
    }
    suffix += SUFFIX_ALPHABET[bits];
  }
  return suffix;
}

/**
 * The 18-character form of a Salesforce id, so a 15-character reference (report exports, formulas) finds the
 * 18-character id of the Data Export. The 15-character id is case-sensitive; the 3-character suffix encodes
 * which of its letters are upper case. An 18-character id whose case was lost (a spreadsheet upper-cased it)
 * gets its case back from the suffix. Anything else (not 15 or 18 letters and digits) is returned as is.
 */
export function salesforceId18(value: string): string {
  const text = value.trim();
  if (ID15.test(text)) return text + suffixOf(text);
  if (!ID18.test(text)) return text;
  const suffix = text.slice(15).toUpperCase();
  let restored = '';
  for (let chunk = 0; chunk < 3; chunk++) {
    const bits = SUFFIX_ALPHABET.indexOf(suffix[chunk]!);
    if (bits === -1) return text;
    for (let position = 0; position < 5; position++) {
      const char = text[chunk * 5 + position]!;
      restored += bits & (1 << position) ? char.toUpperCase() : char.toLowerCase();
    }
  }
  return restored + suffix;
}
