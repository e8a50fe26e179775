import { appendFileSync } from 'node:fs';

/**
 * Figures of the reliability suite. Each test appends one JSON line to the file named by
 * FERRY_RELIABILITY_FIGURES (set by `npm run test:reliability`, see run.ts); without it nothing is written,
 * so the same tests run silently under `npm test`.
 */
export interface Figures {
  killPoints: number;
  faultsInjected: number;
  badRecords: number;
  recordsChecked: number;
  lost: number;
  duplicated: number;
  /** Runs started on a ledger another process was using, refused (LEDGER_LOCKED). */
  runsRefused: number;
  /** Source records changed or created by "another user" at exact points while a run read the source. */
  sourceChanges: number;
}

export const FIGURES_FILE_ENV = 'FERRY_RELIABILITY_FIGURES';

/** Multiplies record counts and kill points (FERRY_RELIABILITY_SCALE, default 1). */
export const SCALE = Math.max(1, Math.floor(Number(process.env.FERRY_RELIABILITY_SCALE ?? 1) || 1));

export function recordFigures(source: string, figures: Partial<Figures>): void {
  const file = process.env[FIGURES_FILE_ENV];
  if (!file) return;
  appendFileSync(file, `${JSON.stringify({ source, ...figures })}\n`);
}
