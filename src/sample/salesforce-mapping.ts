import { copyField as copy, objectMapping as object } from '../project/project-file.js';
import type { ObjectMapping } from '../project/types.js';
import { SOURCE_DEAL_STAGE_VALUES } from './constants.js';
import { canonicalSampleStage } from './pipedrive-mapping.js';

/** Canonical sample stage -> a stage of a new Salesforce org's Opportunity StageName picklist. */
export const SALESFORCE_STAGES: Readonly<Record<string, string>> = {
  Prospecting: 'Prospecting',
  Qualification: 'Qualification',
  Proposal: 'Proposal/Price Quote',
  Negotiation: 'Negotiation/Review',
  'Closed Won': 'Closed Won',
  'Closed Lost': 'Closed Lost',
};

/** Sample task status -> Task Status. */
export const SALESFORCE_TASK_STATUS: Readonly<Record<string, string>> = { done: 'Completed', open: 'Not Started' };

/**
 * The sample "legacy CRM" into Salesforce, written by hand: owners matched to Salesforce users by e-mail,
 * companies as accounts (with their parent), contacts, deals as opportunities, tasks on Who (the contact) and
 * What (the deal, else the company), and notes as classic notes on the deal, contact or company. The deals'
 * contacts (a join table in the sample) are not written here; with the source setting `joinTables:
 * { deal_contacts: { object: true } }` they can go to OpportunityContactRole as well (docs/connectors/sql.md,
 * "Join tables as objects"; test/e2e/salesforce-junction.test.ts).
 */
export function sampleToSalesforceObjects(): ObjectMapping[] {
  const stages = Object.fromEntries(SOURCE_DEAL_STAGE_VALUES.map((value) => [value, SALESFORCE_STAGES[canonicalSampleStage(value)]!]));
  return [
    object({ source: 'owners', target: 'User', matchOnly: true, matchKeys: [{ source: 'email', target: 'Email', kind: 'email' }], fields: [] }),
    object({ source: 'companies', target: 'Account', fields: [copy('name', 'Name'), copy('phone', 'Phone'), copy('industry', 'Industry'), copy('annual_revenue', 'AnnualRevenue'), copy('parent_company_id', 'ParentId'), copy('owner_id', 'OwnerId')] }),
    object({
      source: 'contacts',
      target: 'Contact',
      fields: [copy('first_name', 'FirstName'), copy('last_name', 'LastName'), copy('email', 'Email'), copy('phone', 'Phone'), copy('job_title', 'Title'), copy('company_id', 'AccountId'), copy('owner_id', 'OwnerId')],
    }),
    object({
      source: 'deals',
      target: 'Opportunity',
      fields: [
        copy('name', 'Name'),
        copy('amount', 'Amount'),
        { source: ['stage'], target: 'StageName', transform: { kind: 'map', values: stages, unmapped: 'fail' } },
        { source: ['close_date'], target: 'CloseDate', transform: { kind: 'date' } },
        copy('company_id', 'AccountId'),
        copy('owner_id', 'OwnerId'),
      ],
    }),
    object({
      source: 'tasks',
      target: 'Task',
      fields: [
        copy('subject', 'Subject'),
        { source: ['status'], target: 'Status', transform: { kind: 'map', values: { ...SALESFORCE_TASK_STATUS }, unmapped: 'fail' } },
        { source: ['due_date'], target: 'ActivityDate', transform: { kind: 'date' } },
        copy('contact_id', 'WhoId:Contact'),
        copy('deal_id', 'WhatId:Opportunity'),
        copy('company_id', 'WhatId:Account'),
        copy('owner_id', 'OwnerId'),
      ],
    }),
    object({
      source: 'notes',
      target: 'Note',
      fields: [
        { source: ['body'], target: 'Title', transform: { kind: 'constant', value: 'Note from the legacy CRM' } },
        copy('body', 'Body'),
        copy('deal_id', 'ParentId:Opportunity'),
        copy('contact_id', 'ParentId:Contact'),
        copy('company_id', 'ParentId:Account'),
        copy('owner_id', 'OwnerId'),
      ],
    }),
  ];
}
