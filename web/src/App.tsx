import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { Run } from '../../src/ledger/ledger.js';
import type { JobKind, JobView, StartJobRequest, WizardState } from '../../src/wizard/api.js';
import { api, errorText, subscribeEvents } from './api.js';
import { ErrorBox } from './components/common.js';
import { STEPS, WizardContext, isActive, stepOfJob, type StepId, type Wizard } from './context.js';
import { KIND_LABELS, num, runKindLabel, runStatusLabel } from './format.js';
import { ConnectStep } from './steps/Connect.js';
import { MapStep } from './steps/Map.js';
import { MatchStep } from './steps/Match.js';
import { DemoStep } from './steps/Demo.js';
import { MigrateStep } from './steps/Migrate.js';
import { DeltaStep } from './steps/Delta.js';
import { ReportsStep } from './steps/Reports.js';

function stepFromHash(): StepId {
  const id = window.location.hash.replace(/^#\/?/, '');
  return (STEPS.find((step) => step.id === id)?.id ?? 'connect') as StepId;
}

function stepDone(state: WizardState | null, id: StepId): boolean {
  if (!state) return false;
  switch (id) {
    case 'connect':
      return state.steps.connected;
    case 'map':
      return state.steps.mapped;
    case 'match':
      return state.steps.matched;
    case 'demo':
      return state.steps.demo;
    case 'migrate':
      return state.steps.full;
    case 'delta':
      return state.steps.deltas > 0;
    default:
      return false;
  }
}

export function App() {
  const [step, setStep] = useState<StepId>(stepFromHash);
  const [state, setState] = useState<WizardState | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [job, setJob] = useState<JobView | null>(null);
  const [jobGeneration, setJobGeneration] = useState(0);
  const [selectedRun, setSelectedRun] = useState<number | null>(null);
  const [streamDown, setStreamDown] = useState(false);
  const headingRef = useRef<HTMLHeadingElement>(null);
  const firstRender = useRef(true);
  const endedJobs = useRef(new Set<string>());

  /** Takes a job from any source (state, GET /api/job, events); counts a generation when a job has ended. */
  const acceptJob = useCallback((next: JobView) => {
    setJob(next);
    if (!isActive(next) && !endedJobs.current.has(next.id)) {
      endedJobs.current.add(next.id);
      setJobGeneration((generation) => generation + 1);
    }
  }, []);

  const reloadState = useCallback(async () => {
    try {
      const next = await api.state();
      setState(next);
      setLoadError(null);
    } catch (error) {
      setLoadError(errorText(error));
    }
  }, []);

  useEffect(() => {
    api
      .job()
      .then((current) => {
        if (current) acceptJob(current);
      })
      .catch(() => undefined);
    const unsubscribe = subscribeEvents({
      onJob: acceptJob,
      onOpen: () => setStreamDown(false),
      onError: () => setStreamDown(true),
    });
    return unsubscribe;
  }, [reloadState, acceptJob]);

  // When a job ends, what the steps show may have changed (steps done, counts): read the state again.
  useEffect(() => {
    void reloadState();
  }, [jobGeneration, reloadState]);

  useEffect(() => {
    const onHash = () => setStep(stepFromHash());
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

  // Focus the step's heading on navigation (not on the first load), so keyboard and screen reader users
  // start reading at the new step.
  useEffect(() => {
    if (firstRender.current) {
      firstRender.current = false;
      return;
    }
    headingRef.current?.focus();
    document.title = `${STEPS.find((s) => s.id === step)?.long ?? 'Ferry'} · Ferry migration wizard`;
  }, [step]);

  const startJob = useCallback(
    async (request: StartJobRequest) => {
      const started = await api.startJob(request);
      acceptJob(started);
      return started;
    },
    [acceptJob],
  );

  const selectRun = useCallback((runId: number) => setSelectedRun(runId), []);

  const wizard: Wizard = useMemo(
    () => ({ state, job, jobGeneration, reloadState, startJob, selectRun, selectedRun }),
    [state, job, jobGeneration, reloadState, startJob, selectRun, selectedRun],
  );

  const current = STEPS.find((s) => s.id === step) ?? STEPS[0];
  const index = STEPS.findIndex((s) => s.id === step);
  const next = STEPS[index + 1];
  const previous = index > 0 ? STEPS[index - 1] : undefined;
  const activeJob = job && isActive(job) ? job : null;

  return (
    <WizardContext.Provider value={wizard}>
      <a className="skip-link" href="#main" onClick={(event) => {
        event.preventDefault();
        headingRef.current?.focus();
      }}>
        Skip to the step
      </a>
      <header className="site-header">
        <div className="brand">
          <svg className="logo" viewBox="0 0 32 32" width="28" height="28" aria-hidden="true" focusable="false">
            <path d="M4 20h24l-3.5 6h-17z" fill="#9cc3ec" />
            <path d="M9 20v-6h14v6" fill="none" stroke="#fff" strokeWidth="2" />
            <path d="M14 14V9h4v5" fill="none" stroke="#fff" strokeWidth="2" />
            <path d="M2 29c3 0 3-1.5 6-1.5S11 29 14 29s3-1.5 6-1.5 3 1.5 6 1.5 3-1.5 4-1.5" fill="none" stroke="#9cc3ec" strokeWidth="1.5" />
          </svg>
          <span>
            <strong>Ferry</strong> migration wizard
          </span>
        </div>
        {state ? (
          <p className="project-path">
            Project file: <code>{state.projectPath}</code>
          </p>
        ) : null}
      </header>
      <nav className="steps" aria-label="Steps">
        <ol>
          {STEPS.map((s, i) => {
            const done = stepDone(state, s.id);
            return (
              <li key={s.id} className={s.id === step ? 'current' : undefined}>
                <a href={`#/${s.id}`} aria-current={s.id === step ? 'step' : undefined}>
                  <span className="step-number" aria-hidden="true">
                    {done ? '✓' : i + 1}
                  </span>
                  <span className="step-title">{s.title}</span>
                  {done ? <span className="visually-hidden"> (done)</span> : null}
                </a>
              </li>
            );
          })}
        </ol>
      </nav>
      {activeJob && stepOfJob(activeJob) !== step ? (
        <div className="job-banner" role="status">
          {KIND_LABELS[activeJob.kind]} {activeJob.request.dryRun ? '(dry run) ' : ''}
          {activeJob.status === 'paused' ? 'is paused' : 'is running'}
          {activeJob.objects.length > 0
            ? `: ${num(activeJob.objects.reduce((sum, o) => sum + o.processed, 0))} records so far`
            : ''}
          . <a href={`#/${stepOfJob(activeJob)}`}>See its progress</a>
        </div>
      ) : null}
      {state?.unfinishedRun && !activeJob ? <UnfinishedRun run={state.unfinishedRun} onStart={startJob} /> : null}
      {streamDown ? (
        <div className="notice notice-warn" role="status">
          Live updates are interrupted; the page reconnects on its own. Numbers may lag until then.
        </div>
      ) : null}
      <main id="main">
        <h1 ref={headingRef} tabIndex={-1}>
          <span className="step-of">
            Step {index + 1} of {STEPS.length}
          </span>{' '}
          {current.long}
        </h1>
        <ErrorBox error={loadError} title="Could not load the project." />
        {state?.projectError ? (
          <div className="notice notice-error" role="alert">
            <strong>ferry.yaml could not be read. </strong>
            {state.projectError}
          </div>
        ) : null}
        {state ? <StepBody step={step} /> : loadError ? null : <p role="status">Loading the project…</p>}
        <nav className="step-pager" aria-label="Previous and next step">
          {previous ? (
            <a className="button secondary" href={`#/${previous.id}`}>
              ← Back: {previous.title}
            </a>
          ) : (
            <span />
          )}
          {next ? (
            <a className="button secondary" href={`#/${next.id}`}>
              Next: {next.title} →
            </a>
          ) : null}
        </nav>
      </main>
    </WizardContext.Provider>
  );
}

function StepBody({ step }: { step: StepId }) {
  switch (step) {
    case 'connect':
      return <ConnectStep />;
    case 'map':
      return <MapStep />;
    case 'match':
      return <MatchStep />;
    case 'demo':
      return <DemoStep />;
    case 'migrate':
      return <MigrateStep />;
    case 'delta':
      return <DeltaStep />;
    case 'reports':
      return <ReportsStep />;
  }
}

function UnfinishedRun({ run, onStart }: { run: Run; onStart: (request: StartJobRequest) => Promise<JobView> }) {
  const [error, setError] = useState<string | null>(null);
  const kind: JobKind | null = run.kind === 'rerun-wipe' ? 'full' : run.kind === 'undo' || run.kind === 'match' || run.kind === 'demo' || run.kind === 'full' || run.kind === 'delta' || run.kind === 'retry' ? run.kind : null;
  if (!kind) return null;
  const base: StartJobRequest = {
    kind,
    ...(run.kind === 'rerun-wipe' ? { rerun: true } : {}),
    ...(kind === 'delta' ? { createNew: run.creates, updateChanged: run.updates } : {}),
    ...(typeof run.options.onConflict === 'string' ? { onConflict: run.options.onConflict as StartJobRequest['onConflict'] } : {}),
    ...(typeof run.options.sampleSize === 'number' ? { sampleSize: run.options.sampleSize } : {}),
    ...(typeof run.options.runId === 'number' ? { runId: run.options.runId } : {}),
  };
  const start = (request: StartJobRequest) => {
    setError(null);
    onStart(request).then(
      (job) => {
        window.location.hash = `#/${stepOfJob(job)}`;
      },
      (err: unknown) => setError(errorText(err)),
    );
  };
  return (
    <div className="notice notice-warn unfinished" role="status">
      <p>
        <strong>
          Run {run.id} ({runKindLabel(run.kind)}) stopped before it finished
        </strong>{' '}
        ({runStatusLabel(run.status)}{run.error ? `: ${run.error}` : ''}). Nothing is lost: resuming carries on where it stopped,
        without writing anything twice. Other runs wait until it is resumed or abandoned.
      </p>
      <div className="actions">
        <button type="button" onClick={() => start(base)}>
          Resume run {run.id}
        </button>
        <button type="button" className="secondary" onClick={() => start({ ...base, restart: true })}>
          Abandon it and start over
        </button>
      </div>
      <ErrorBox error={error} />
    </div>
  );
}
