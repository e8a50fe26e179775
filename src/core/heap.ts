import { setFlagsFromString } from 'node:v8';
import { FerryError } from './errors.js';

/** Ferry's default: V8 starts a major collection when the heap is 20% over what the last one left alive. */
export const DEFAULT_HEAP_GROWING_PERCENT = 20;

/**
 * Bounds how far V8 lets the heap grow between major garbage collections, for a process that runs Ferry
 * (`bin/ferry.js`, and the benchmark's measured children, so they measure what ships).
 *
 * Why: a migration keeps little alive (30-70 MB of heap, whatever the size: matching lives in a scratch
 * database, pages are streamed), but it makes garbage fast. With its default heuristics on a machine with
 * a lot of memory, V8 lets the heap grow up to four times the live size before a major collection, so a
 * 1M-record run peaked at 353 MB of RSS, mostly garbage not yet collected. At 20% the same run peaks at
 * 246 MB for about 7% more CPU (docs/performance.md, "Peak RSS").
 *
 * How: `--heap-growing-percent` is a V8 flag that V8 reads each time it sets the next collection's limit,
 * so setting it at start-up takes effect (unlike `--max-old-space-size`, fixed when the heap is made;
 * Node's docs call flags changed after start "undefined behaviour" in general, which is why this one flag
 * only, measured by `npm run bench`). It is left alone when the process was started with
 * `--heap-growing-percent` (Node refuses it in NODE_OPTIONS) or `--max-old-space-size` (in its arguments
 * or NODE_OPTIONS), and `FERRY_HEAP_GROWING_PERCENT` replaces the 20 (0 keeps V8's own heuristics).
 *
 * Returns the percent set, or undefined when V8's own heuristics (or the user's flags) apply.
 */
export function boundHeapGrowth(env: NodeJS.ProcessEnv = process.env, execArgv: readonly string[] = process.execArgv): number | undefined {
  const percent = heapGrowingPercent(env, execArgv);
  if (percent !== undefined) setFlagsFromString(`--heap-growing-percent=${percent}`);
  return percent;
}

/** The percent boundHeapGrowth sets for a process with this environment and these Node arguments (undefined: none). */
export function heapGrowingPercent(env: NodeJS.ProcessEnv, execArgv: readonly string[]): number | undefined {
  const given = [...execArgv, ...(env.NODE_OPTIONS ?? '').split(/\s+/)];
  if (given.some((flag) => /^--(heap[-_]growing[-_]percent|max[-_]old[-_]space[-_]size)\b/.test(flag))) return undefined;
  const text = env.FERRY_HEAP_GROWING_PERCENT?.trim();
  const percent = text ? Number(text) : DEFAULT_HEAP_GROWING_PERCENT;
  if (!Number.isInteger(percent) || percent < 0 || percent > 1000) {
    throw new FerryError('CONFIG_INVALID', `FERRY_HEAP_GROWING_PERCENT must be a whole number from 0 to 1000 (0: V8's default), not "${text}"`);
  }
  return percent === 0 ? undefined : percent;
}
