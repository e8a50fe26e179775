import cliProgress from 'cli-progress';
import type { Counts, ProgressEvent, ProgressStream } from '../core/progress.js';
import { formatNumber, formatSeconds } from '../report/index.js';
import type { Output } from './io.js';

export type ProgressMode = 'bars' | 'lines' | 'none';

/** Bars on a terminal, one line per finished object otherwise, nothing with --json. */
export function progressMode(out: Output): ProgressMode {
  if (out.json) return 'none';
  return out.interactive && out.io.stderr.isTTY === true ? 'bars' : 'lines';
}

interface ObjectState {
  startedAt: number;
  processed: number;
  total?: number;
  bar?: cliProgress.SingleBar;
}

function rate(state: ObjectState, now: number): number {
  const seconds = (now - state.startedAt) / 1000;
  return seconds > 0 ? state.processed / seconds : 0;
}

function summaryLine(counts: Counts): string {
  const parts = [`${formatNumber(counts.read)} read`];
  for (const key of ['created', 'updated', 'matched', 'unchanged', 'skipped', 'filtered', 'failed', 'conflicts', 'deleted'] as const) {
    if (counts[key] > 0) parts.push(`${formatNumber(counts[key])} ${key}`);
  }
  // Attachments (docs/attachments.md): only when the run copied some.
  if (counts.files > 0) parts.push(`${formatNumber(counts.files)} file${counts.files === 1 ? '' : 's'} (${formatBytes(counts.fileBytes)})`);
  return parts.join(', ');
}

function formatBytes(bytes: number): string {
  if (bytes < 1024 * 1024) return `${formatNumber(Math.round(bytes / 1024))} KB`;
  return `${formatNumber(Math.round((bytes / 2 ** 20) * 10) / 10)} MB`;
}

/** `  parts: 2/5 done; writing contacts#1 on host:41 (40 read); failed (tried again): deals` */
export function partsText(event: Extract<ProgressEvent, { type: 'parts' }>): string {
  const writing = event.parts
    .filter((part) => part.state === 'running')
    .map((part) => `${part.key} on ${part.worker ?? '?'}${part.read > 0 ? ` (${formatNumber(part.read)} read)` : ''}`);
  const failed = event.parts.filter((part) => part.state === 'failed').map((part) => part.key);
  return `  parts: ${event.done}/${event.total} done${writing.length > 0 ? `; writing ${writing.join(', ')}` : ''}${failed.length > 0 ? `; failed (tried again): ${failed.join(', ')}` : ''}`;
}

export interface ProgressView {
  /** Detaches from the stream and leaves the bars as they are. */
  stop(): void;
  shown: Set<string>;
}

/**
 * The terminal view of a run, fed only from the engine's progress events (the same stream the wizard
 * reads).
 */
export function attachProgressView(
  progress: ProgressStream,
  out: Output,
  mode: ProgressMode = progressMode(out),
  now: () => number = Date.now,
): ProgressView {
  /** Messages already shown, so the summary does not repeat them from RunResult.messages. */
  const shown = new Set<string>();
  const objects = new Map<string, ObjectState>();
  let multibar: cliProgress.MultiBar | undefined;
  const warn = (level: string, text: string): void => {
    shown.add(text);
    if (multibar) multibar.log(`${level}: ${text}\n`);
    else out.warn(`${level}: ${text}`);
  };
  if (mode === 'none') {
    // Warnings still matter to a script's log; they go to stderr.
    const detach = progress.on((event) => {
      if (event.type === 'message' && event.level !== 'info') warn(event.level, event.text);
    });
    return { stop: detach, shown };
  }
  let width = 10;
  let partsSignature = '';

  const print = (text: string): void => {
    if (multibar) multibar.log(`${text}\n`);
    else out.line(text);
  };

  const barPayload = (object: string, state: ObjectState): Record<string, string> => {
    const perSecond = rate(state, now());
    const remaining = state.total !== undefined ? Math.max(0, state.total - state.processed) : undefined;
    return {
      object: object.padEnd(width),
      processedText: formatNumber(state.processed),
      totalText: state.total !== undefined ? formatNumber(state.total) : '?',
      rateText: perSecond > 0 ? formatNumber(Math.round(perSecond)) : '-',
      etaText: remaining !== undefined && perSecond > 0 ? formatSeconds(remaining / perSecond) : '-',
    };
  };

  const ensureMultibar = (): cliProgress.MultiBar => {
    multibar ??= new cliProgress.MultiBar(
      {
        stream: out.io.stderr as NodeJS.WritableStream,
        format: ' {object} |{bar}| {processedText}/{totalText} | {rateText} records/s | ETA {etaText}',
        barsize: 30,
        // A run stopped with Ctrl-C must not leave the terminal without its cursor.
        hideCursor: false,
        clearOnComplete: false,
        stopOnComplete: false,
        autopadding: true,
        fps: 10,
      },
      cliProgress.Presets.shades_classic,
    );
    return multibar;
  };

  const onEvent = (event: ProgressEvent): void => {
    switch (event.type) {
      case 'run-started':
        width = Math.max(6, ...event.objects.map((object) => object.length));
        print(
          event.resumed
            ? `Resuming unfinished run ${event.runId} (${event.kind}); \`--restart\` abandons it instead.`
            : `Run ${event.runId} (${event.kind}${event.dryRun ? ', dry run' : ''}) started.`,
        );
        break;
      case 'object-started': {
        const state: ObjectState = { startedAt: now(), processed: 0, total: event.total };
        objects.set(event.object, state);
        if (mode === 'bars') state.bar = ensureMultibar().create(Math.max(event.total ?? 1, 1), 0, barPayload(event.object, state));
        break;
      }
      case 'object-progress': {
        let state = objects.get(event.object);
        if (!state) objects.set(event.object, (state = { startedAt: now(), processed: 0 }));
        state.processed = event.processed;
        if (event.total !== undefined) state.total = event.total;
        if (state.bar) {
          // Unknown totals grow with the work so the bar never shows more than 100 %.
          state.bar.setTotal(Math.max(state.total ?? state.processed, state.processed, 1));
          state.bar.update(state.processed, barPayload(event.object, state));
        }
        break;
      }
      case 'object-finished': {
        const state = objects.get(event.object) ?? { startedAt: now(), processed: event.counts.read };
        state.processed = Math.max(state.processed, event.counts.read);
        const seconds = (now() - state.startedAt) / 1000;
        if (state.bar) {
          state.bar.setTotal(Math.max(state.processed, 1));
          state.bar.update(state.processed, barPayload(event.object, state));
        } else {
          const speed = seconds > 0 && state.processed > 0 ? `, ${formatNumber(Math.round(state.processed / seconds))} records/s` : '';
          print(`  ${event.object}: ${summaryLine(event.counts)} (${formatSeconds(seconds)}${speed})`);
        }
        break;
      }
      case 'parts': {
        // A line when a part starts, ends or changes hands, with what each running part has read so far;
        // without bars (a log), also when a part records a page (the waiting command polls every half second).
        const signature = event.parts.map((part) => `${part.key}:${part.state}:${part.worker ?? ''}:${mode === 'lines' ? part.read : ''}`).join(',');
        if (signature === partsSignature) break;
        partsSignature = signature;
        print(partsText(event));
        break;
      }
      case 'message':
        if (event.level !== 'info') warn(event.level, event.text);
        break;
      default:
        break;
    }
  };

  const detach = progress.on(onEvent);
  return {
    shown,
    stop: () => {
      detach();
      multibar?.stop();
      multibar = undefined;
    },
  };
}
