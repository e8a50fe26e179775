import type { RecordError } from './connector.js';

/** Per-object counts, the same names in --json output, reports and the wizard. */
export interface Counts {
  /** Distinct source records read by the run (a record read again is in `reread`, not here). */
  read: number;
  /**
   * Reads of records the run had already read: a record written earlier without a reference, read again
   * at the end of the run to attach it (in a full run, and in a delta when it was in the delta's window).
   */
  reread: number;
  created: number;
  updated: number;
  matched: number;
  unchanged: number;
  skipped: number;
  /** Records the mapping's row filter (`where`) leaves out: taken by another mapping of the source, or by none. */
  filtered: number;
  failed: number;
  conflicts: number;
  /** Target records deleted (undo, --rerun). */
  deleted: number;
  /** Files uploaded to the target (a file copied by an earlier run or attempt is not counted again). */
  files: number;
  /** Bytes of those files. */
  fileBytes: number;
}

export function emptyCounts(): Counts {
  return { read: 0, reread: 0, created: 0, updated: 0, matched: 0, unchanged: 0, skipped: 0, filtered: 0, failed: 0, conflicts: 0, deleted: 0, files: 0, fileBytes: 0 };
}

export function addCounts(into: Counts, from: Partial<Counts>): Counts {
  for (const key of Object.keys(into) as (keyof Counts)[]) into[key] += from[key] ?? 0;
  return into;
}

export type ProgressEvent =
  | { type: 'run-started'; runId: string; kind: string; objects: string[]; resumed: boolean; dryRun: boolean }
  | { type: 'phase'; runId: string; phase: string; object?: string }
  | { type: 'object-started'; runId: string; object: string; total?: number }
  | { type: 'object-progress'; runId: string; object: string; processed: number; total?: number; counts: Counts }
  | { type: 'object-finished'; runId: string; object: string; counts: Counts }
  | { type: 'record-failed'; runId: string; object: string; sourceId: string; error: RecordError }
  | {
      type: 'conflict';
      runId: string;
      object: string;
      sourceId: string;
      targetId: string;
      field: string;
      sourceValue: unknown;
      targetValue: unknown;
      resolution: string;
    }
  /** One file copied (or, with `reused`, found already copied by an earlier attempt whose answer was lost). */
  | { type: 'file-copied'; runId: string; object: string; sourceId: string; name: string; bytes: number; reused: boolean }
  | { type: 'message'; runId?: string; level: 'info' | 'warn' | 'error'; text: string }
  | { type: 'run-finished'; runId: string; status: string; counts: Record<string, Counts> }
  /**
   * A queued run written in parts by workers (docs/workers.md), as the command waiting for it reads it from
   * the ledger: each part's state, the worker holding its lease and the records it has read so far.
   */
  | { type: 'parts'; runId: string; total: number; done: number; parts: { key: string; object: string; state: 'waiting' | 'running' | 'done' | 'failed'; worker?: string; read: number }[] };

export type ProgressListener = (event: ProgressEvent) => void;

/** The one progress stream the terminal, the wizard and the reports read. */
export class ProgressStream {
  private readonly listeners = new Set<ProgressListener>();

  on(listener: ProgressListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: ProgressEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}
