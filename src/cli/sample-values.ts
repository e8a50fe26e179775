import type { Connector } from '../core/connector.js';

export interface SampleValueOptions {
  /** Pages read per object (the first ones). */
  pages?: number;
  pageSize?: number;
  /** Distinct values kept per field: a picklist has few; a free-text field is cut off here. */
  maxDistinct?: number;
}

/**
 * Distinct values of source fields, read straight through the source connector: `ferry map` runs before
 * the mapping is valid, so it cannot ask the engine. Each object is read once (its first pages) and every
 * field's values are kept, so proposing value maps for ten picklists costs one read per object.
 */
export function sourceValueSampler(
  source: Connector,
  options: SampleValueOptions = {},
): (object: string, field: string) => Promise<string[]> {
  const pages = options.pages ?? 2;
  const pageSize = options.pageSize ?? 500;
  const maxDistinct = options.maxDistinct ?? 200;
  const perObject = new Map<string, Promise<Map<string, Set<string>>>>();

  const readObject = async (object: string): Promise<Map<string, Set<string>>> => {
    const values = new Map<string, Set<string>>();
    let after: string | undefined;
    for (let page = 0; page < pages; page++) {
      const result = await source.read(object, { after, limit: pageSize });
      for (const record of result.records) {
        for (const [field, value] of Object.entries(record.fields)) {
          if (value === null || Array.isArray(value)) continue;
          const text = String(value);
          if (text.trim() === '') continue;
          let set = values.get(field);
          if (!set) values.set(field, (set = new Set()));
          if (set.size < maxDistinct) set.add(text);
        }
      }
      if (!result.next) break;
      after = result.next;
    }
    return values;
  };

  return async (object, field) => {
    let values = perObject.get(object);
    if (!values) {
      values = readObject(object);
      perObject.set(object, values);
    }
    // Sorted: the proposal (and so ferry.yaml) does not depend on the order the source returned rows in.
    return [...((await values).get(field) ?? [])].sort();
  };
}
