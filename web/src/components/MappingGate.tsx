import type { WizardState } from '../../../src/wizard/api.js';
import { plural } from '../format.js';

/** Whether runs that write must wait: the mapping has errors `ferry check` reports (required fields unmapped, ...). */
export function mappingBlocks(state: WizardState | null): boolean {
  return (state?.mappingErrors?.total ?? 0) > 0;
}

/**
 * Shown above a step's run buttons while the mapping has errors: what they are (required target fields named)
 * and where to fix them. The buttons that write are disabled meanwhile; a dry run stays possible.
 */
export function MappingGate({ state }: { state: WizardState | null }) {
  const errors = state?.mappingErrors;
  if (!errors || errors.total === 0) return null;
  return (
    <div className="notice notice-error" role="alert" data-testid="mapping-gate">
      <strong>The mapping has {plural(errors.total, 'problem')} to fix before a run can write. </strong>
      {errors.requiredUnmapped.length > 0 ? (
        <>
          Required in the target but not mapped:{' '}
          {errors.requiredUnmapped.map((problem) => `${problem.target}.${problem.field}`).join(', ')} (every record would be refused
          without {errors.requiredUnmapped.length === 1 ? 'it' : 'them'}).{' '}
        </>
      ) : null}
      <a href="#/map">Fix them in the Map step</a>.
    </div>
  );
}
