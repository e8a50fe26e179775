import { randomBytes } from 'node:crypto';
import { isFerryError } from '../../core/errors.js';
import { emptyCounts, ProgressStream, type ProgressEvent } from '../../core/progress.js';
import { withProject, type OpenProject } from '../../cli/open-project.js';
import type { JobView, ObjectProgressView, StartJobRequest } from '../api.js';
import { errorView, HttpError, type Scrubber } from './errors.js';
import type { WizardProject } from './project.js';

/** How far back the rate looks. */
const RATE_WINDOW_MS = 5_000;
const MAX_RECENT_FAILURES = 50;
const MAX_MESSAGES = 200;

export type JobListener = (event: { type: 'job'; job: JobView } | { type: 'progress'; event: ProgressEvent }) => void;

interface ObjectTracker {
  view: ObjectProgressView;
  samples: { at: number; processed: number }[];
}

/** The one engine call for a job: the same calls the CLI commands make. */
async function runEngine(project: OpenProject, request: StartJobRequest, signal: AbortSignal, job: JobView): Promise<void> {
  const common = { dryRun: request.dryRun === true, restart: request.restart === true, signal };
  const { engine } = project;
  const needRun = (): number => {
    if (request.runId === undefined) throw new HttpError(400, 'USAGE', `A ${request.kind} job needs runId.`);
    return request.runId;
  };
  let result;
  switch (request.kind) {
    case 'match':
      result = await engine.match(common);
      break;
    case 'demo':
      result = await engine.demo({ ...common, ...(request.sampleSize !== undefined ? { sampleSize: request.sampleSize } : {}) });
      break;
    case 'full':
      result = await engine.migrate({ ...common, rerun: request.rerun === true });
      break;
    case 'delta':
      result = await engine.delta({
        ...common,
        createNew: request.createNew === true,
        updateChanged: request.updateChanged === true,
        onConflict: request.onConflict ?? 'source-wins',
      });
      break;
    case 'retry':
      result = await engine.retry(needRun(), common);
      break;
    case 'undo':
      result = await engine.undo(needRun(), common);
      break;
    case 'verify':
      job.verify = await engine.verify();
      return;
  }
  job.runId = result.runId;
  job.result = {
    runId: result.runId,
    status: result.status,
    dryRun: result.dryRun,
    counts: result.counts,
    ...(result.estimate ? { estimate: result.estimate } : {}),
    messages: result.messages,
  };
}

export function validateJobRequest(body: unknown): StartJobRequest {
  if (body === null || typeof body !== 'object') throw new HttpError(400, 'USAGE', 'Expected a JSON object such as { "kind": "full" }.');
  const request = body as Record<string, unknown>;
  const kinds = ['match', 'demo', 'full', 'delta', 'retry', 'undo', 'verify'];
  if (typeof request.kind !== 'string' || !kinds.includes(request.kind)) throw new HttpError(400, 'USAGE', `kind must be one of ${kinds.join(', ')}.`, { field: 'kind', value: request.kind });
  const booleans = ['dryRun', 'rerun', 'createNew', 'updateChanged', 'restart'];
  for (const key of booleans) {
    if (request[key] !== undefined && typeof request[key] !== 'boolean') throw new HttpError(400, 'USAGE', `${key} must be true or false.`, { field: key, value: request[key] });
  }
  for (const key of ['sampleSize', 'runId']) {
    const value = request[key];
    if (value !== undefined && (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1)) {
      throw new HttpError(400, 'USAGE', `${key} must be a positive whole number.`, { field: key, value });
    }
  }
  if (request.onConflict !== undefined && !['source-wins', 'target-wins', 'skip-record'].includes(request.onConflict as string)) {
    throw new HttpError(400, 'USAGE', 'onConflict must be source-wins, target-wins or skip-record.', { field: 'onConflict', value: request.onConflict });
  }
  if (request.kind === 'delta' && request.createNew !== true && request.updateChanged !== true) {
    throw new HttpError(400, 'USAGE', 'A delta needs createNew, updateChanged, or both.', { field: 'createNew' });
  }
  if ((request.kind === 'retry' || request.kind === 'undo') && request.runId === undefined) {
    throw new HttpError(400, 'USAGE', `A ${request.kind} job needs runId (the run to ${request.kind}).`, { field: 'runId' });
  }
  const known = ['kind', 'dryRun', 'sampleSize', 'rerun', 'createNew', 'updateChanged', 'onConflict', 'runId', 'restart'];
  const out: Record<string, unknown> = {};
  for (const key of known) if (request[key] !== undefined) out[key] = request[key];
  return out as unknown as StartJobRequest;
}

/**
 * Runs one job at a time in this process: the engine call, its progress folded into a JobView (rate over
 * a sliding window, ETA from the total), broadcast to every listener (the SSE clients). A job goes on when
 * no client is connected. Pause aborts the engine's signal (the run stops at its next checkpoint, resumable);
 * resume starts the same request again, which the engine resumes.
 */
export class JobManager {
  private job?: JobView;
  private running?: Promise<void>;
  private controller?: AbortController;
  private readonly trackers = new Map<string, ObjectTracker>();
  private readonly listeners = new Set<JobListener>();
  private jobTimer?: NodeJS.Timeout;
  private lastJobSent = 0;
  private sequence = 0;

  constructor(
    private readonly project: WizardProject,
    private readonly scrub: Scrubber,
    /** At most this many `job` events per second go to listeners. */
    private readonly jobEventsPerSecond = 4,
  ) {}

  current(): JobView | undefined {
    return this.job ? this.snapshot() : undefined;
  }

  isActive(): boolean {
    return this.job?.status === 'running' || this.job?.status === 'pausing';
  }

  /** Resolves when the running job (if any) has settled. */
  async settled(): Promise<void> {
    await this.running;
  }

  on(listener: JobListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(request: StartJobRequest): JobView {
    if (this.isActive()) {
      throw new HttpError(409, 'JOB_RUNNING', `A ${this.job!.kind} job is running; wait for it, or pause it first.`, { job: this.job!.id });
    }
    this.sequence += 1;
    this.job = {
      id: `${this.sequence}-${randomBytes(4).toString('hex')}`,
      kind: request.kind,
      request,
      status: 'running',
      startedAt: new Date().toISOString(),
      objects: [],
      recentFailures: [],
      messages: [],
    };
    this.trackers.clear();
    this.launch(request);
    return this.snapshot();
  }

  pause(): JobView {
    if (!this.job || !this.isActive()) throw new HttpError(409, 'NO_JOB_RUNNING', 'No job is running.');
    if (this.job.status === 'running') {
      this.job.status = 'pausing';
      this.controller?.abort();
      this.sendJob(true);
    }
    return this.snapshot();
  }

  resume(): JobView {
    if (!this.job || this.job.status !== 'paused') throw new HttpError(409, 'NOT_PAUSED', 'There is no paused job to resume.');
    const request = { ...this.job.request, restart: false };
    this.job.status = 'running';
    delete this.job.error;
    delete this.job.finishedAt;
    for (const tracker of this.trackers.values()) tracker.samples = [];
    this.launch(request);
    return this.snapshot();
  }

  private launch(request: StartJobRequest): void {
    const job = this.job!;
    const controller = new AbortController();
    this.controller = controller;
    const progress = new ProgressStream();
    const unsubscribe = progress.on((event) => this.onProgress(event));
    this.sendJob(true);
    this.running = (async () => {
      try {
        const options = await this.project.openOptions(progress);
        await withProject(options, (opened) => runEngine(opened, request, controller.signal, job));
        job.status = 'finished';
        for (const [object, counts] of Object.entries(job.result?.counts ?? {})) {
          const tracker = this.tracker(object);
          tracker.view.counts = { ...counts };
          tracker.view.finished = true;
          delete tracker.view.etaSeconds;
        }
      } catch (error) {
        if (isFerryError(error) && error.code === 'RUN_PAUSED') {
          job.status = 'paused';
        } else {
          job.status = 'failed';
          job.error = errorView(error, this.scrub);
        }
      } finally {
        unsubscribe();
        // Record counts changed: the next state describes both sides afresh.
        this.project.invalidate();
        job.finishedAt = new Date().toISOString();
        for (const tracker of this.trackers.values()) tracker.view.rate = 0;
        this.sendJob(true);
      }
    })();
  }

  private tracker(object: string): ObjectTracker {
    let tracker = this.trackers.get(object);
    if (!tracker) {
      tracker = {
        view: {
          object,
          processed: 0,
          counts: emptyCounts(),
          rate: 0,
          finished: false,
        },
        samples: [],
      };
      this.trackers.set(object, tracker);
      this.job!.objects.push(tracker.view);
    }
    return tracker;
  }

  private measure(tracker: ObjectTracker, processed: number): void {
    const now = Date.now();
    tracker.samples.push({ at: now, processed });
    while (tracker.samples.length > 2 && now - tracker.samples[0]!.at > RATE_WINDOW_MS) tracker.samples.shift();
    const first = tracker.samples[0]!;
    const seconds = (now - first.at) / 1000;
    tracker.view.rate = seconds > 0 ? Math.max(0, (processed - first.processed) / seconds) : tracker.view.rate;
    const total = tracker.view.total;
    if (total !== undefined && tracker.view.rate > 0) tracker.view.etaSeconds = Math.max(0, (total - processed) / tracker.view.rate);
    else delete tracker.view.etaSeconds;
  }

  private onProgress(event: ProgressEvent): void {
    const job = this.job;
    if (!job) return;
    switch (event.type) {
      case 'run-started':
        job.runId = Number(event.runId);
        for (const object of event.objects) this.tracker(object);
        break;
      case 'phase':
        job.phase = event.object ? `${event.phase}: ${event.object}` : event.phase;
        break;
      case 'object-started': {
        const tracker = this.tracker(event.object);
        if (event.total !== undefined) tracker.view.total = event.total;
        tracker.view.finished = false;
        tracker.samples = [{ at: Date.now(), processed: tracker.view.processed }];
        job.phase = `write: ${event.object}`;
        break;
      }
      case 'object-progress': {
        const tracker = this.tracker(event.object);
        if (event.total !== undefined) tracker.view.total = event.total;
        tracker.view.processed = event.processed;
        tracker.view.counts = { ...event.counts };
        this.measure(tracker, event.processed);
        break;
      }
      case 'object-finished': {
        const tracker = this.tracker(event.object);
        tracker.view.counts = { ...event.counts };
        tracker.view.finished = true;
        tracker.view.rate = 0;
        delete tracker.view.etaSeconds;
        break;
      }
      case 'record-failed':
        job.recentFailures.push(
          this.scrub.value({
            object: event.object,
            sourceId: event.sourceId,
            code: event.error.code,
            ...(event.error.field !== undefined ? { field: event.error.field } : {}),
            ...(event.error.value !== undefined && event.error.value !== null ? { value: Array.isArray(event.error.value) ? event.error.value.join(', ') : String(event.error.value) } : {}),
            message: event.error.message,
          }),
        );
        if (job.recentFailures.length > MAX_RECENT_FAILURES) job.recentFailures.splice(0, job.recentFailures.length - MAX_RECENT_FAILURES);
        break;
      case 'message':
        job.messages.push(this.scrub.text(event.text));
        if (job.messages.length > MAX_MESSAGES) job.messages.splice(0, job.messages.length - MAX_MESSAGES);
        break;
      case 'run-finished':
        for (const [object, counts] of Object.entries(event.counts)) {
          const tracker = this.tracker(object);
          tracker.view.counts = { ...counts };
        }
        break;
      case 'conflict':
        break;
    }
    this.emit({ type: 'progress', event: this.scrub.value(event) });
    this.sendJob(false);
  }

  private snapshot(): JobView {
    return structuredClone(this.job!);
  }

  private emit(event: Parameters<JobListener>[0]): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // a listener that fails (a closed stream) does not stop the job
      }
    }
  }

  /** Sends the job now (`force`) or at most `jobEventsPerSecond` times a second. */
  private sendJob(force: boolean): void {
    if (!this.job) return;
    const interval = 1000 / this.jobEventsPerSecond;
    const now = Date.now();
    if (force || now - this.lastJobSent >= interval) {
      if (this.jobTimer) clearTimeout(this.jobTimer);
      this.jobTimer = undefined;
      this.lastJobSent = now;
      this.emit({ type: 'job', job: this.snapshot() });
      return;
    }
    if (!this.jobTimer) {
      this.jobTimer = setTimeout(() => {
        this.jobTimer = undefined;
        this.sendJob(true);
      }, interval - (now - this.lastJobSent));
      this.jobTimer.unref();
    }
  }

  close(): void {
    if (this.jobTimer) clearTimeout(this.jobTimer);
    this.listeners.clear();
  }
}
