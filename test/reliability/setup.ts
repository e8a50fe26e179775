import { afterAll } from 'vitest';
import { FaultInjector } from '../../src/emulators/hubspot/index.js';
import { recordFigures } from './figures.js';

/**
 * Setup of `npm run test:reliability`: counts the faults the HubSpot emulator injects in the fault tests
 * (each request a fault fired on: a 5xx, a 429, a dropped connection, a partial batch, added latency).
 */
let faults = 0;
const evaluate = FaultInjector.prototype.evaluate;
FaultInjector.prototype.evaluate = function (this: FaultInjector, method: string, path: string, isBatchWrite: boolean) {
  const triggered = evaluate.call(this, method, path, isBatchWrite);
  faults += (triggered.terminal ? 1 : 0) + (triggered.partialBatchFraction !== undefined ? 1 : 0) + (triggered.latencyMs > 0 ? 1 : 0);
  return triggered;
};

afterAll(() => {
  if (faults > 0) recordFigures('hubspot faults', { faultsInjected: faults });
});
