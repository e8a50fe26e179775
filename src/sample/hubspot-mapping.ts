import { CALL_OUTCOMES } from '../emulators/hubspot/schema.js';
import { copyField as copy, objectMapping as object } from '../project/project-file.js';
import type { FieldMapping, ObjectMapping } from '../project/types.js';
import { DEAL_STAGE_VALUE_MAP, SOURCE_ACTIVITY_TYPE_SPELLINGS, type SourceActivityType } from './constants.js';

/** The `type` values of one kind of activity, for a mapping's row filter (compared trimmed, case-insensitive). */
function activityWhere(type: SourceActivityType): Record<string, string[]> {
  return { type: [...new Set(SOURCE_ACTIVITY_TYPE_SPELLINGS[type].map((value) => value.trim().toLowerCase()))] };
}

/** What every engagement carries: when it happened, its owner, and the record it is logged on. */
const ENGAGEMENT_FIELDS: FieldMapping[] = [
  { source: ['activity_date'], target: 'hs_timestamp', transform: { kind: 'datetime' } },
  copy('owner_id', 'hubspot_owner_id'),
  copy('contact_id', 'associated_contacts'),
  copy('company_id', 'associated_companies'),
  copy('deal_id', 'associated_deals'),
];

/** The sample's call outcomes -> HubSpot's default outcome ids (hs_call_disposition holds the id, not the label). */
const CALL_OUTCOME_IDS: Record<string, string> = Object.fromEntries(CALL_OUTCOMES.map(([id, label]) => [label, id]));

/**
 * The sample "legacy CRM" into HubSpot, written by hand with every relation HubSpot has an association for:
 * the mapping of the HubSpot end-to-end tests and of the HubSpot API benchmark.
 */
export function sampleToHubspotObjects(): ObjectMapping[] {
  return [
    object({ source: 'owners', target: 'owners', matchOnly: true, matchKeys: [{ source: 'email', target: 'email', kind: 'email' }], fields: [] }),
    object({
      source: 'companies',
      target: 'companies',
      matchKeys: [{ source: 'domain', target: 'domain', kind: 'domain' }],
      fields: [
        copy('name'),
        copy('domain'),
        copy('phone'),
        {
          source: ['industry'],
          target: 'industry',
          transform: {
            kind: 'map',
            values: { Software: 'COMPUTER_SOFTWARE', Retail: 'RETAIL', Finance: 'FINANCIAL_SERVICES', Healthcare: 'HOSPITAL_HEALTH_CARE', Education: 'EDUCATION_MANAGEMENT', Logistics: 'LOGISTICS_AND_SUPPLY_CHAIN', Media: 'MEDIA_PRODUCTION', Manufacturing: 'MACHINERY' },
            unmapped: 'default',
            default: null,
          },
        },
        copy('annual_revenue', 'annualrevenue'),
        copy('owner_id', 'hubspot_owner_id'),
      ],
    }),
    object({
      source: 'contacts',
      target: 'contacts',
      matchKeys: [{ source: 'email', target: 'email', kind: 'email' }],
      fields: [
        copy('first_name', 'firstname'),
        copy('last_name', 'lastname'),
        copy('email'),
        copy('phone'),
        copy('job_title', 'jobtitle'),
        copy('birthday', 'date_of_birth'),
        copy('lifecycle_stage', 'lifecyclestage'),
        copy('company_id', 'primary_company'),
        copy('owner_id', 'hubspot_owner_id'),
      ],
    }),
    object({
      source: 'deals',
      target: 'deals',
      fields: [
        copy('name', 'dealname'),
        copy('amount'),
        { source: ['currency'], target: 'deal_currency_code', transform: { kind: 'map', values: { usd: 'USD' }, unmapped: 'keep' } },
        { source: ['stage'], target: 'dealstage', transform: { kind: 'map', values: { ...DEAL_STAGE_VALUE_MAP }, unmapped: 'fail' } },
        { source: ['close_date'], target: 'closedate', transform: { kind: 'date' } },
        copy('company_id', 'primary_company'),
        copy('contacts', 'associated_contacts'),
        copy('owner_id', 'hubspot_owner_id'),
      ],
    }),
    object({
      source: 'notes',
      target: 'notes',
      fields: [
        copy('body', 'hs_note_body'),
        { source: ['created_at'], target: 'hs_timestamp', transform: { kind: 'datetime' } },
        copy('contact_id', 'associated_contacts'),
        copy('company_id', 'associated_companies'),
        copy('deal_id', 'associated_deals'),
        copy('owner_id', 'hubspot_owner_id'),
      ],
    }),
    // One `activities` table, three HubSpot objects: each mapping takes the rows of its type (routing, `where`).
    object({
      key: 'calls',
      source: 'activities',
      target: 'calls',
      where: activityWhere('call'),
      fields: [
        copy('subject', 'hs_call_title'),
        copy('body', 'hs_call_body'),
        { source: ['direction'], target: 'hs_call_direction', transform: { kind: 'map', values: { inbound: 'INBOUND', outbound: 'OUTBOUND' }, unmapped: 'fail' } },
        // The legacy CRM keeps whole minutes; HubSpot's hs_call_duration is milliseconds.
        { source: ['duration_minutes'], target: 'hs_call_duration', transform: { kind: 'duration', from: 'minutes', to: 'milliseconds' } },
        { source: ['outcome'], target: 'hs_call_disposition', transform: { kind: 'map', values: CALL_OUTCOME_IDS, unmapped: 'fail' } },
        ...ENGAGEMENT_FIELDS,
      ],
    }),
    object({
      key: 'meetings',
      source: 'activities',
      target: 'meetings',
      where: activityWhere('meeting'),
      fields: [
        copy('subject', 'hs_meeting_title'),
        copy('body', 'hs_meeting_body'),
        { source: ['activity_date'], target: 'hs_meeting_start_time', transform: { kind: 'datetime' } },
        { source: ['end_time'], target: 'hs_meeting_end_time', transform: { kind: 'datetime' } },
        {
          source: ['outcome'],
          target: 'hs_meeting_outcome',
          transform: { kind: 'map', values: { Completed: 'COMPLETED', 'No show': 'NO_SHOW', Canceled: 'CANCELED', Scheduled: 'SCHEDULED' }, unmapped: 'fail' },
        },
        ...ENGAGEMENT_FIELDS,
      ],
    }),
    object({
      key: 'emails',
      source: 'activities',
      target: 'emails',
      where: activityWhere('email'),
      fields: [
        copy('subject', 'hs_email_subject'),
        copy('body', 'hs_email_text'),
        // HubSpot's direction of a logged e-mail: EMAIL (sent from the CRM or logged by BCC), INCOMING_EMAIL (a reply).
        { source: ['direction'], target: 'hs_email_direction', transform: { kind: 'map', values: { outbound: 'EMAIL', inbound: 'INCOMING_EMAIL' }, unmapped: 'fail' } },
        { source: ['outcome'], target: 'hs_email_status', transform: { kind: 'map', values: { Sent: 'SENT', Bounced: 'BOUNCED' }, unmapped: 'fail' } },
        ...ENGAGEMENT_FIELDS,
      ],
    }),
  ];
}
