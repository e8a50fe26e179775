import { copyField as copy, objectMapping as object } from '../project/project-file.js';
import type { ObjectMapping } from '../project/types.js';
import { SOURCE_DEAL_STAGE_VALUES, SOURCE_DEAL_STAGE_VARIANTS } from './constants.js';

/** Sample stage (any spelling) -> its canonical name. */
export function canonicalSampleStage(value: string): string {
  return SOURCE_DEAL_STAGE_VARIANTS[value] ?? value;
}

/** Canonical sample stage -> stage id in a new Pipedrive company's default pipeline (ids 1-5), and the deal status it means. */
export const PIPEDRIVE_STAGE_IDS: Readonly<Record<string, string>> = { Prospecting: '1', Qualification: '2', Proposal: '4', Negotiation: '5', 'Closed Won': '5', 'Closed Lost': '5' };
export const PIPEDRIVE_STATUS: Readonly<Record<string, string>> = { 'Closed Won': 'won', 'Closed Lost': 'lost' };

/**
 * The sample "legacy CRM" into Pipedrive, written by hand: owners matched to Pipedrive users by e-mail,
 * companies as organizations, contacts as persons, deals with stage, status and participants, notes. The
 * mapping of the Pipedrive end-to-end tests and of the Pipedrive API benchmark. The target needs
 * `dealParticipants: true` for the deals' participants.
 */
export function sampleToPipedriveObjects(): ObjectMapping[] {
  const stageMap = (pick: (stage: string) => string) => Object.fromEntries(SOURCE_DEAL_STAGE_VALUES.map((value) => [value, pick(canonicalSampleStage(value))]));
  return [
    object({ source: 'owners', target: 'users', matchOnly: true, matchKeys: [{ source: 'email', target: 'email', kind: 'email' }], fields: [] }),
    object({ source: 'companies', target: 'organizations', fields: [copy('name'), copy('annual_revenue'), copy('owner_id')] }),
    object({
      source: 'contacts',
      target: 'persons',
      fields: [{ source: ['first_name', 'last_name'], target: 'name', transform: { kind: 'join', separator: ' ' } }, copy('email'), copy('phone'), copy('company_id', 'org_id'), copy('owner_id')],
    }),
    object({
      source: 'deals',
      target: 'deals',
      fields: [
        copy('name', 'title'),
        copy('amount', 'value'),
        { source: ['currency'], target: 'currency', transform: { kind: 'map', values: { usd: 'USD' }, unmapped: 'keep' } },
        { source: ['stage'], target: 'stage_id', transform: { kind: 'map', values: stageMap((stage) => PIPEDRIVE_STAGE_IDS[stage]!), unmapped: 'fail' } },
        { source: ['stage'], target: 'status', transform: { kind: 'map', values: stageMap((stage) => PIPEDRIVE_STATUS[stage] ?? 'open'), unmapped: 'fail' } },
        { source: ['close_date'], target: 'expected_close_date', transform: { kind: 'date' } },
        copy('company_id', 'org_id'),
        copy('contacts', 'participants'),
        copy('owner_id'),
      ],
    }),
    object({
      source: 'notes',
      target: 'notes',
      fields: [copy('body', 'content'), copy('contact_id', 'person_id'), copy('company_id', 'org_id'), copy('deal_id'), copy('owner_id', 'user_id'), { source: ['created_at'], target: 'add_time', transform: { kind: 'datetime' } }],
    }),
  ];
}
