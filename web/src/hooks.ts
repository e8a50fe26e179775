import { useEffect, useState } from 'react';
import type { Run } from '../../src/ledger/ledger.js';
import type { StartJobRequest } from '../../src/wizard/api.js';
import { api, errorText } from './api.js';

/**
 * Every run in the ledger, loaded again whenever `generation` changes (a job finished). A load that a newer
 * one overtook is dropped; a failure goes to `onError` as text.
 */
export function useRuns(generation: number, onError: (text: string) => void): Run[] | null {
  const [runs, setRuns] = useState<Run[] | null>(null);
  useEffect(() => {
    let cancelled = false;
    api
      .runs()
      .then((answer) => !cancelled && setRuns(answer.runs))
      .catch((err: unknown) => !cancelled && onError(errorText(err)));
    return () => {
      cancelled = true;
    };
    // onError is a state setter in every caller (stable): only the generation triggers a reload.
  }, [generation]);
  return runs;
}

/**
 * A step's "start this job" action: clears the step's error, starts the job, and shows why when the server
 * refuses it (as text, through `onError`).
 */
export function jobStarter(startJob: (request: StartJobRequest) => Promise<unknown>, onError: (text: string | null) => void) {
  return async (request: StartJobRequest): Promise<void> => {
    onError(null);
    try {
      await startJob(request);
    } catch (err) {
      onError(errorText(err));
    }
  };
}
