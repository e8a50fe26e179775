/**
 * A record store for emulators: tables of rows with server-set numeric ids and server-set times from an
 * injected clock. Vendors keep their own field shapes in `data`; the store only owns identity, time and the
 * deleted flag, which every CRM API has and which clients depend on (ids they never chose, modification
 * times they page by).
 *
 * Ids: each table draws from a sequence. `sequences: 'per-table'` (Pipedrive: every object type counts from
 * 1 on its own) or `'shared'` (HubSpot: one account-wide sequence, so ids never repeat across types), each
 * starting at `firstId`.
 */
export interface Row<T> {
  readonly id: number;
  /** Creation time (epoch ms). */
  addTime: number;
  /** Last modification time (epoch ms); every update moves it to the clock's now. */
  updateTime: number;
  deleted: boolean;
  deleteTime?: number;
  data: T;
}

export class IdSequence {
  constructor(private nextValue = 1) {}

  next(): number {
    return this.nextValue++;
  }

  peek(): number {
    return this.nextValue;
  }
}

export interface InsertOptions {
  /** A creation time given by the caller (imports, seeds); default the clock's now. */
  addTime?: number;
  /** Default: the clock's now (not `addTime`: a back-dated import is still modified now). */
  updateTime?: number;
}

export class RecordTable<T> {
  private readonly rows = new Map<number, Row<T>>();

  constructor(
    readonly name: string,
    private readonly clock: () => number,
    private readonly ids: IdSequence,
  ) {}

  insert(data: T, options: InsertOptions = {}): Row<T> {
    const now = this.clock();
    const row: Row<T> = { id: this.ids.next(), addTime: options.addTime ?? now, updateTime: options.updateTime ?? now, deleted: false, data };
    this.rows.set(row.id, row);
    return row;
  }

  get(id: number): Row<T> | undefined {
    return this.rows.get(id);
  }

  /** The row unless it is deleted. */
  live(id: number): Row<T> | undefined {
    const row = this.rows.get(id);
    return row && !row.deleted ? row : undefined;
  }

  /** Applies `change` to a row's data and moves its update time to now (even when nothing changed). */
  update(id: number, change: (data: T) => void): Row<T> | undefined {
    const row = this.rows.get(id);
    if (!row) return undefined;
    change(row.data);
    row.updateTime = this.clock();
    return row;
  }

  /** Marks a row deleted (kept, readable as deleted) and moves its update time to now. */
  markDeleted(id: number): Row<T> | undefined {
    const row = this.rows.get(id);
    if (!row || row.deleted) return undefined;
    const now = this.clock();
    row.deleted = true;
    row.deleteTime = now;
    row.updateTime = now;
    return row;
  }

  /** Removes a row for good (a purge). */
  purge(id: number): boolean {
    return this.rows.delete(id);
  }

  /** Every row in id order (insertion order, ids only grow). */
  all(): Row<T>[] {
    return [...this.rows.values()];
  }

  liveRows(): Row<T>[] {
    return this.all().filter((row) => !row.deleted);
  }

  get size(): number {
    return this.rows.size;
  }
}

export class RecordStore {
  private readonly tables = new Map<string, RecordTable<unknown>>();
  private readonly sequences = new Map<string, IdSequence>();

  constructor(
    readonly clock: () => number,
    private readonly options: { sequences?: 'per-table' | 'shared'; firstId?: number } = {},
  ) {}

  private sequence(name: string): IdSequence {
    const key = this.options.sequences === 'shared' ? '*' : name;
    let sequence = this.sequences.get(key);
    if (!sequence) {
      sequence = new IdSequence(this.options.firstId ?? 1);
      this.sequences.set(key, sequence);
    }
    return sequence;
  }

  /** The table `name`, created empty on first use. */
  table<T>(name: string): RecordTable<T> {
    let table = this.tables.get(name);
    if (!table) {
      table = new RecordTable<unknown>(name, this.clock, this.sequence(name));
      this.tables.set(name, table);
    }
    return table as RecordTable<T>;
  }
}
