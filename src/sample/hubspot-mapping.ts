import { copyField as copy, objectMapping as object } from '../project/project-file.js';
import type { ObjectMapping } from '../project/types.js';
import { DEAL_STAGE_VALUE_MAP } from './constants.js';

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
  ];
}
