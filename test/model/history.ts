import fc from 'fast-check';
import type { Policy } from './model.js';

/**
 * Random histories for the model-based test: what people do to both CRMs between runs, and the runs.
 * Records are picked by a number taken modulo what exists when the step runs, so a shrunk history (steps
 * dropped) stays meaningful.
 */
export type Step =
  | { t: 'tick'; minutes: number }
  | { t: 'source-company'; name: string | null; domain: string | null }
  | { t: 'source-company-edit'; pick: number; field: 'name' | 'domain'; value: string | null }
  | { t: 'source-contact'; first: string | null; email: string | null; title: string | null; company: number | null }
  | { t: 'source-contact-edit'; pick: number; field: 'first_name' | 'email' | 'job_title' | 'company_id'; value: string | null; company: number | null }
  | { t: 'source-contact-delete'; pick: number }
  | { t: 'target-company'; name: string; domain: string | null }
  | { t: 'target-contact'; first: string | null; email: string | null; title: string | null }
  | { t: 'target-edit'; object: 'companies' | 'contacts'; pick: number; field: string; value: string | null }
  | { t: 'delta'; create: boolean; update: boolean; policy: Policy; crashAt: number | null }
  | { t: 'undo' }
  | { t: 'match' }
  | { t: 'source-move'; pick: number; name: string | null; domain: string | null }
  | { t: 'both-edit'; pick: number; field: 'first_name' | 'job_title'; sourceValue: string | null; targetValue: string | null }
  | { t: 'retry'; pick: number };

export interface History {
  /** Both CRMs before the migration. */
  setup: Step[];
  /** A demo (sample of 2 per object) before the full migration. */
  demo?: boolean;
  /** The full migration's crash point (a write whose answer is lost), if any. */
  fullCrashAt: number | null;
  later: Step[];
}

// Small value pools, so keys collide (duplicates, ambiguous matches) and values repeat (no-op edits).
const emails = fc.constantFrom('ann@x.test', 'Ann@X.test', 'bob@x.test', 'cy@y.test', 'not-an-email', null);
const domains = fc.constantFrom('x.test', 'www.x.test', 'y.test', 'z.test', null);
// null: the target refuses it (NOT NULL), rarely, so most companies make it.
const companyNames = fc.oneof({ arbitrary: fc.constantFrom('Acme', 'Bolt', 'Core'), weight: 5 }, { arbitrary: fc.constant(null), weight: 1 });
const titles = fc.constantFrom('CEO', 'CTO', 'Buyer', null);
const firsts = fc.constantFrom('Ann', 'Bob', 'Cy', null);
const pick = fc.nat(30);
const crash = fc.option(fc.nat(4), { nil: null, freq: 3 });

const sourceSteps: fc.Arbitrary<Step>[] = [
  fc.record({ t: fc.constant('source-company' as const), name: companyNames, domain: domains }),
  fc.record({ t: fc.constant('source-company-edit' as const), pick, field: fc.constantFrom('name' as const, 'domain' as const), value: fc.oneof(companyNames, domains) }),
  fc.record({ t: fc.constant('source-contact' as const), first: firsts, email: emails, title: titles, company: fc.option(pick, { nil: null }) }),
  fc.record({
    t: fc.constant('source-contact-edit' as const),
    pick,
    field: fc.constantFrom('first_name' as const, 'email' as const, 'job_title' as const, 'company_id' as const),
    value: fc.oneof(firsts, emails, titles),
    company: fc.option(pick, { nil: null }),
  }),
];
const targetSteps: fc.Arbitrary<Step>[] = [
  fc.record({ t: fc.constant('target-company' as const), name: fc.constantFrom('Acme (typed)', 'Bolt'), domain: domains }),
  fc.record({ t: fc.constant('target-contact' as const), first: firsts, email: emails, title: titles }),
];
const targetEdit: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ t: fc.constant('target-edit' as const), object: fc.constant('contacts' as const), pick, field: fc.constantFrom('firstname', 'jobtitle', 'email'), value: fc.oneof(firsts, titles, emails) }),
  fc.record({ t: fc.constant('target-edit' as const), object: fc.constant('companies' as const), pick, field: fc.constant('name'), value: fc.constantFrom('Edited Co', 'Acme') }),
  fc.record({ t: fc.constant('target-edit' as const), object: fc.constant('companies' as const), pick, field: fc.constant('domain'), value: domains }),
);
const delta: fc.Arbitrary<Step> = fc
  .record({
    t: fc.constant('delta' as const),
    which: fc.constantFrom('create', 'update', 'both'),
    policy: fc.constantFrom<Policy>('source-wins', 'target-wins', 'skip-record'),
    crashAt: crash,
  })
  .map(({ which, ...rest }) => ({ ...rest, create: which !== 'update', update: which !== 'create' }));

export const historyArbitrary = (size: { setup: number; later: number }): fc.Arbitrary<History> =>
  fc.record({
    setup: fc.array(fc.oneof({ arbitrary: fc.oneof(...sourceSteps), weight: 3 }, { arbitrary: fc.oneof(...targetSteps), weight: 1 }), {
      minLength: Math.min(2, size.setup),
      maxLength: size.setup,
      size: 'max',
    }),
    demo: fc.boolean(),
    fullCrashAt: crash,
    later: fc.array(
      fc.oneof(
        { arbitrary: fc.record({ t: fc.constant('tick' as const), minutes: fc.constantFrom(0, 1, 5) }), weight: 2 },
        { arbitrary: fc.oneof(...sourceSteps), weight: 4 },
        { arbitrary: fc.record({ t: fc.constant('source-contact-delete' as const), pick }), weight: 1 },
        { arbitrary: fc.oneof(...targetSteps), weight: 1 },
        { arbitrary: targetEdit, weight: 3 },
        { arbitrary: delta, weight: 3 },
        { arbitrary: fc.constant({ t: 'undo' as const }), weight: 1 },
        { arbitrary: fc.constant({ t: 'match' as const }), weight: 1 },
        // A new company, and a contact moves to it: a reference to a record not in the target yet.
        { arbitrary: fc.record({ t: fc.constant('source-move' as const), pick, name: companyNames, domain: domains }), weight: 2 },
        {
          // The same field of a migrated contact changed on both sides: what conflicts are made of.
          arbitrary: fc.record({
            t: fc.constant('both-edit' as const),
            pick,
            field: fc.constantFrom('first_name' as const, 'job_title' as const),
            sourceValue: fc.oneof(firsts, titles),
            targetValue: fc.oneof(firsts, titles),
          }),
          weight: 2,
        },
        { arbitrary: fc.record({ t: fc.constant('retry' as const), pick }), weight: 1 },
      ),
      { minLength: Math.min(4, size.later), maxLength: size.later, size: 'max' },
    ),
  });

/** A history as a story a person can follow (printed with a divergence). */
export function describeStep(step: Step): string {
  switch (step.t) {
    case 'tick':
      return `${step.minutes} minute(s) pass`;
    case 'source-company':
      return `source: new company name=${show(step.name)} domain=${show(step.domain)}`;
    case 'source-company-edit':
      return `source: company #${step.pick} gets ${step.field}=${show(step.value)}`;
    case 'source-contact':
      return `source: new contact first=${show(step.first)} email=${show(step.email)} title=${show(step.title)} company=#${show(step.company)}`;
    case 'source-contact-edit':
      return `source: contact #${step.pick} gets ${step.field}=${step.field === 'company_id' ? `company #${show(step.company)}` : show(step.value)}`;
    case 'source-contact-delete':
      return `source: contact #${step.pick} is deleted`;
    case 'target-company':
      return `target: someone types a company name=${show(step.name)} domain=${show(step.domain)}`;
    case 'target-contact':
      return `target: someone types a contact first=${show(step.first)} email=${show(step.email)} title=${show(step.title)}`;
    case 'target-edit':
      return `target: someone edits ${step.object} #${step.pick}: ${step.field}=${show(step.value)}`;
    case 'retry':
      return `ferry retry <run #${step.pick} of those not undone>`;
    case 'match':
      return 'ferry match';
    case 'source-move':
      return `source: new company name=${show(step.name)} domain=${show(step.domain)}, and contact #${step.pick} moves to it`;
    case 'both-edit':
      return `both sides: migrated contact #${step.pick} gets ${step.field}=${show(step.sourceValue)} in the source and ${show(step.targetValue)} in the target`;
    case 'undo':
      return 'ferry undo <the newest run> (when nobody changed the target since it)';
    case 'delta':
      return `ferry delta${step.create ? ' --create-new' : ''}${step.update ? ' --update-changed' : ''} --on-conflict ${step.policy}${step.crashAt === null ? '' : ` (killed at write ${step.crashAt}, then resumed)`}`;
  }
}

const show = (value: unknown) => (value === null ? 'null' : typeof value === 'string' ? JSON.stringify(value) : String(value));

export function describeHistory(history: History): string {
  return [
    ...history.setup.map(describeStep),
    ...(history.demo ? ['ferry demo (2 records per object and what they refer to)'] : []),
    `ferry migrate${history.fullCrashAt === null ? '' : ` (killed at write ${history.fullCrashAt}, then resumed)`}`,
    ...history.later.map(describeStep),
  ]
    .map((line, index) => `${String(index + 1).padStart(3)}. ${line}`)
    .join('\n');
}
