import type { Counts } from '../../src/core/progress.js';
import type { JobKind } from '../../src/wizard/api.js';

const numberFormat = new Intl.NumberFormat('en-US');

export function num(value: number | undefined | null): string {
  return value === undefined || value === null ? '–' : numberFormat.format(value);
}

export function plural(count: number, word: string, many = `${word}s`): string {
  return `${num(count)} ${count === 1 ? word : many}`;
}

export function duration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '–';
  if (seconds < 1) return 'less than a second';
  if (seconds < 90) return `${Math.round(seconds)} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 90) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return `${hours} h ${minutes % 60} min`;
}

export function dateTime(iso: string | null | undefined): string {
  if (!iso) return '–';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'medium' });
}

/** A value from a CRM, as plain text for a table cell. */
export function valueText(value: unknown): string {
  if (value === null || value === undefined || value === '') return '(empty)';
  if (Array.isArray(value)) return value.length === 0 ? '(empty)' : value.map((item) => valueText(item)).join(', ');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

export const COUNT_KEYS: (keyof Counts)[] = ['read', 'created', 'updated', 'matched', 'unchanged', 'skipped', 'failed', 'conflicts', 'deleted', 'files', 'fileBytes'];

/** Bytes as people read them (1,536 -> "1.5 KB"), in powers of 1,024. */
export function bytes(value: number): string {
  const units = ['bytes', 'KB', 'MB', 'GB', 'TB'];
  let amount = value;
  let unit = 0;
  while (amount >= 1024 && unit < units.length - 1) {
    amount /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${num(amount)} ${amount === 1 ? 'byte' : 'bytes'}` : `${amount.toFixed(1)} ${units[unit]}`;
}

/** A count for a table cell: file bytes as bytes, the rest as numbers. */
export function countText(key: keyof Counts, value: number): string {
  return key === 'fileBytes' ? bytes(value) : num(value);
}

export const COUNT_LABELS: Record<keyof Counts, string> = {
  read: 'Read',
  reread: 'Read again',
  created: 'Created',
  updated: 'Updated',
  matched: 'Matched',
  unchanged: 'Unchanged',
  skipped: 'Skipped',
  filtered: 'Left out by filter',
  failed: 'Failed',
  conflicts: 'Conflicts',
  deleted: 'Deleted',
  files: 'Files',
  fileBytes: 'File bytes',
};

export function emptyCounts(): Counts {
  return { read: 0, reread: 0, created: 0, updated: 0, matched: 0, unchanged: 0, skipped: 0, filtered: 0, failed: 0, conflicts: 0, deleted: 0, files: 0, fileBytes: 0 };
}

export function totalCounts(counts: Record<string, Counts>): Counts {
  const total = emptyCounts();
  for (const object of Object.values(counts)) {
    for (const key of COUNT_KEYS) total[key] += object[key] ?? 0;
  }
  return total;
}

export const KIND_LABELS: Record<JobKind, string> = {
  match: 'Matching',
  demo: 'Demo sample',
  full: 'Full migration',
  delta: 'Delta migration',
  retry: 'Retry of failed records',
  undo: 'Undo',
  verify: 'Verification',
};

export function runKindLabel(kind: string): string {
  return (KIND_LABELS as Record<string, string>)[kind] ?? kind;
}

const RUN_STATUS: Record<string, string> = {
  running: 'running or unfinished',
  interrupted: 'interrupted (can be resumed)',
  completed: 'completed',
  completed_with_failures: 'completed with failed records',
  failed: 'stopped by an error',
  abandoned: 'abandoned',
};

export function runStatusLabel(status: string): string {
  return RUN_STATUS[status] ?? status;
}
