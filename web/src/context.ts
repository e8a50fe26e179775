import { createContext, useContext } from 'react';
import type { JobView, StartJobRequest, WizardState } from '../../src/wizard/api.js';

export const STEPS = [
  { id: 'connect', title: 'Connect', long: 'Connect your CRMs' },
  { id: 'map', title: 'Map', long: 'Map objects and fields' },
  { id: 'match', title: 'Match', long: 'Match existing records' },
  { id: 'demo', title: 'Demo', long: 'Try a sample' },
  { id: 'migrate', title: 'Full migration', long: 'Full migration' },
  { id: 'delta', title: 'Delta', long: 'Delta migrations' },
  { id: 'reports', title: 'Reports', long: 'Reports' },
] as const;

export type StepId = (typeof STEPS)[number]['id'];

export interface Wizard {
  state: WizardState | null;
  job: JobView | null;
  /** Changes each time a job ends, so steps reload what it changed. */
  jobGeneration: number;
  reloadState: () => Promise<void>;
  /** Starts a job; resolves with the job, or throws an ApiRequestError. */
  startJob: (request: StartJobRequest) => Promise<JobView>;
  /** A run to show in the Reports step (set by links from other steps). */
  selectRun: (runId: number) => void;
  selectedRun: number | null;
}

export const WizardContext = createContext<Wizard | null>(null);

export function useWizard(): Wizard {
  const wizard = useContext(WizardContext);
  if (!wizard) throw new Error('useWizard outside the wizard');
  return wizard;
}

export function isActive(job: JobView | null | undefined): boolean {
  return !!job && (job.status === 'running' || job.status === 'pausing' || job.status === 'paused');
}

export function stepOfJob(job: JobView): StepId {
  switch (job.kind) {
    case 'match':
      return 'match';
    case 'demo':
      return 'demo';
    case 'full':
      return 'migrate';
    case 'delta':
      return 'delta';
    default:
      return 'reports';
  }
}
