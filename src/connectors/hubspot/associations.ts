import type { HubspotBatchResponse, HubspotError } from './transport.js';
import type { ApiClient } from '../kit/index.js';

/**
 * v4 associations, in batches. Endpoints (all POST under /crm/v4/associations/{from}/{to}/):
 * batch/read, batch/associate/default (unlabeled), batch/create (with a type id), batch/archive.
 * https://developers.hubspot.com/docs/api-reference/legacy/crm/associations/associate-records/batch/get-associations
 * https://developers.hubspot.com/docs/api-reference/latest/crm/associations/associate-records/batch/create-associations
 * Ids without any association come back as errors in a 207, which is normal, not a failure.
 */

const BATCH = 100;

export interface AssociatedIds {
  ids: string[];
  /** Ids whose association carries the primary type id. */
  primary: string[];
}

interface ReadResult {
  from: { id: string | number };
  to: { toObjectId: string | number; associationTypes?: { category?: string; typeId?: number; label?: string | null }[] }[];
  paging?: { next?: { after?: string } };
}

interface LabelResult {
  category?: string;
  typeId: number;
  label?: string | null;
}

/** Documented default type ids of the Primary label, used when the labels endpoint is not there. */
const PRIMARY_FALLBACK: Record<string, number> = { 'contacts/companies': 1, 'deals/companies': 5 };

function chunks<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let index = 0; index < items.length; index += size) result.push(items.slice(index, index + size));
  return result;
}

export class HubspotAssociations {
  private readonly labelCache = new Map<string, Promise<LabelResult[]>>();

  constructor(private readonly client: ApiClient) {}

  /** The association types between two object types (GET .../labels), fetched once per pair. */
  private labels(fromType: string, toType: string): Promise<LabelResult[]> {
    const key = `${fromType}/${toType}`;
    let found = this.labelCache.get(key);
    if (!found) {
      found = (async () => {
        const response = await this.client.get<{ results?: LabelResult[] }>(`/crm/v4/associations/${fromType}/${toType}/labels`, { accept: [404] });
        return response.status === 404 ? [] : (response.body.results ?? []);
      })();
      this.labelCache.set(key, found);
      found.catch(() => this.labelCache.delete(key));
    }
    return found;
  }

  /** The HUBSPOT_DEFINED type id labelled Primary for this pair (GET .../labels). */
  async primaryTypeId(fromType: string, toType: string): Promise<number | undefined> {
    const labels = await this.labels(fromType, toType);
    const primary = labels.find((label) => label.category === 'HUBSPOT_DEFINED' && /primary/i.test(label.label ?? ''));
    return primary?.typeId ?? PRIMARY_FALLBACK[`${fromType}/${toType}`];
  }

  /**
   * The unlabeled (default) association type of a pair, the one `batch/associate/default` creates: the
   * labels endpoint lists it with `label: null`. Undefined when the account does not say.
   */
  async defaultType(fromType: string, toType: string): Promise<{ category: string; typeId: number } | undefined> {
    const labels = await this.labels(fromType, toType);
    const unlabeled = labels.filter((label) => (label.label ?? null) === null && label.category !== undefined);
    const chosen = unlabeled.find((label) => label.category === 'HUBSPOT_DEFINED') ?? unlabeled[0];
    return chosen ? { category: chosen.category!, typeId: chosen.typeId } : undefined;
  }

  /** Associated ids per record id (sorted), following per-record paging. */
  async read(fromType: string, toType: string, ids: string[], primaryTypeId?: number): Promise<Map<string, AssociatedIds>> {
    const result = new Map<string, AssociatedIds>();
    let pending: { id: string; after?: string }[] = ids.map((id) => ({ id }));
    while (pending.length > 0) {
      const next: { id: string; after?: string }[] = [];
      for (const chunk of chunks(pending, BATCH)) {
        const response = await this.client.post<HubspotBatchResponse<ReadResult>>(`/crm/v4/associations/${fromType}/${toType}/batch/read`, { inputs: chunk }, { accept: [207, 404] });
        for (const entry of response.body.results ?? []) {
          const id = String(entry.from.id);
          const current = result.get(id) ?? { ids: [], primary: [] };
          for (const to of entry.to ?? []) {
            const toId = String(to.toObjectId);
            if (!current.ids.includes(toId)) current.ids.push(toId);
            const types = to.associationTypes ?? [];
            const isPrimary = types.some((type) => (primaryTypeId !== undefined && type.typeId === primaryTypeId) || (type.category === 'HUBSPOT_DEFINED' && /primary/i.test(type.label ?? '')));
            if (isPrimary && !current.primary.includes(toId)) current.primary.push(toId);
          }
          result.set(id, current);
          if (entry.paging?.next?.after) next.push({ id, after: entry.paging.next.after });
        }
      }
      pending = next;
    }
    for (const value of result.values()) {
      value.ids.sort();
      value.primary.sort();
    }
    return result;
  }

  /** Creates unlabeled associations; returns the failed pairs with HubSpot's error. */
  async associate(fromType: string, toType: string, pairs: { from: string; to: string }[]): Promise<Map<string, HubspotError>> {
    return this.write(`/crm/v4/associations/${fromType}/${toType}/batch/associate/default`, pairs, (pair) => ({ from: { id: pair.from }, to: { id: pair.to } }));
  }

  /** Creates associations with a HubSpot-defined type (e.g. Primary company). */
  async associateTyped(fromType: string, toType: string, typeId: number, pairs: { from: string; to: string }[]): Promise<Map<string, HubspotError>> {
    return this.write(`/crm/v4/associations/${fromType}/${toType}/batch/create`, pairs, (pair) => ({
      from: { id: pair.from },
      to: { id: pair.to },
      types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: typeId }],
    }));
  }

  /** Removes every association between each pair. */
  async archive(fromType: string, toType: string, pairs: { from: string; to: string }[]): Promise<Map<string, HubspotError>> {
    const byFrom = new Map<string, string[]>();
    for (const pair of pairs) byFrom.set(pair.from, [...(byFrom.get(pair.from) ?? []), pair.to]);
    const failures = new Map<string, HubspotError>();
    const inputs = [...byFrom.entries()].map(([from, to]) => ({ from: { id: from }, to: to.map((id) => ({ id })) }));
    for (const chunk of chunks(inputs, BATCH)) {
      const response = await this.client.post<HubspotBatchResponse<unknown>>(`/crm/v4/associations/${fromType}/${toType}/batch/archive`, { inputs: chunk }, { accept: [207, 400, 404] });
      if (response.status >= 400 || (response.body?.errors?.length ?? 0) > 0) {
        for (const input of chunk) for (const to of input.to) failures.set(`${input.from.id}/${to.id}`, response.body?.errors?.[0] ?? { message: `HTTP ${response.status}` });
      }
    }
    return failures;
  }

  /**
   * Posts pairs in batches. When a batch reports errors that cannot be pinned to pairs, its pairs are
   * sent again one by one, so each failure lands on the pair that caused it. Keys are `from/to`.
   */
  private async write<T>(path: string, pairs: { from: string; to: string }[], input: (pair: { from: string; to: string }) => T): Promise<Map<string, HubspotError>> {
    const failures = new Map<string, HubspotError>();
    for (const chunk of chunks(pairs, BATCH)) {
      const response = await this.client.post<HubspotBatchResponse<unknown>>(path, { inputs: chunk.map(input) }, { accept: [207, 400, 404, 409] });
      const errors = response.body?.errors ?? [];
      const failed = response.status >= 400 || errors.length > 0;
      if (!failed) continue;
      if (chunk.length === 1) {
        failures.set(`${chunk[0]!.from}/${chunk[0]!.to}`, errors[0] ?? (response.body as HubspotError | undefined) ?? { message: `HTTP ${response.status}` });
        continue;
      }
      for (const pair of chunk) {
        const single = await this.write(path, [pair], input);
        for (const [key, value] of single) failures.set(key, value);
      }
    }
    return failures;
  }
}
