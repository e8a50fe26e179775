import { Random } from '../../sample/random.js';
import { CALL_OUTCOMES } from './schema.js';
import type { HubspotStore } from './store.js';

export interface SeedCounts {
  owners: number;
  companies: number;
  contacts: number;
  deals: number;
  notes: number;
  tasks: number;
  calls: number;
  meetings: number;
  emails: number;
}

const FIRST = ['Ada', 'Grace', 'Linus', 'Margaret', 'Alan', 'Katherine', 'Dennis', 'Barbara', 'José', 'Zoë', 'Søren', '李雷'];
const LAST = ['Lovelace', 'Hopper', 'Torvalds', 'Hamilton', 'Turing', 'Johnson', 'Ritchie', 'Liskov', 'García', 'Müller'];
const WORDS = ['Acme', 'Globex', 'Initech', 'Umbrella', 'Hooli', 'Vandelay', 'Tyrell', 'Aperture'];
const NOUNS = ['Systems', 'Logistics', 'Labs', 'Foods', 'Robotics', 'Energy'];
const STAGES = ['appointmentscheduled', 'qualifiedtobuy', 'presentationscheduled', 'decisionmakerboughtin', 'contractsent', 'closedwon', 'closedlost'];
const DAY = 86_400_000;

/**
 * A small, deterministic sample CRM as it would look inside HubSpot: owners, companies, contacts (with primary
 * companies), deals in the default pipeline (with contacts and a primary company), notes and tasks attached to
 * records, and the engagements a sales team logs (calls, meetings, e-mails), each associated with a contact, a
 * company or a deal. The same seed always gives the same data; timestamps derive from `baseMillis`.
 */
export function seedSample(store: HubspotStore, options: { seed?: number; contacts?: number; baseMillis?: number } = {}): SeedCounts {
  const seed = options.seed ?? 42;
  const contactCount = options.contacts ?? 40;
  const base = options.baseMillis ?? Date.UTC(2026, 0, 15, 9);
  const random = Random.for(seed, 'hubspot-sample');
  const at = (offsetDays: number) => String(base - offsetDays * DAY + random.int(0, 86_399) * 1000);

  const owners = Array.from({ length: 3 }, (_, index) => {
    const first = FIRST[index]!;
    const last = LAST[index]!;
    return store.addOwner({ email: `${first}.${last}@owners.example`.toLowerCase(), firstName: first, lastName: last });
  });
  const companies = Array.from({ length: Math.max(1, Math.floor(contactCount / 4)) }, (_, index) => {
    const word = random.pick(WORDS);
    const noun = random.pick(NOUNS);
    return store.createRecord('companies', {
      name: `${word} ${noun} ${index + 1}`,
      domain: `${word}${noun}${index + 1}.com`.toLowerCase(),
      industry: random.pick(['COMPUTER_SOFTWARE', 'RETAIL', 'FINANCIAL_SERVICES', 'MACHINERY']),
      numberofemployees: String(random.int(5, 5000)),
      hubspot_owner_id: random.pick(owners).id,
      createdate: at(random.int(200, 400)),
    });
  });
  const contacts = Array.from({ length: contactCount }, (_, index) => {
    const first = random.pick(FIRST);
    const last = random.pick(LAST);
    const company = random.pick(companies);
    const local = `${first}.${last}`.normalize('NFD').replace(/[^\x20-\x7e]/g, '').toLowerCase() || 'contact';
    return store.createRecord(
      'contacts',
      {
        firstname: first,
        lastname: last,
        email: `${local}.${index + 1}@${company.properties.get('domain') ?? 'example.com'}`,
        phone: random.chance(0.6) ? `+1 555 ${String(random.int(1000000, 9999999))}` : '',
        jobtitle: random.pick(['CEO', 'CTO', 'Buyer', 'Engineer', 'Head of Sales']),
        lifecyclestage: random.pick(['lead', 'opportunity', 'customer']),
        hubspot_owner_id: random.pick(owners).id,
        createdate: at(random.int(30, 200)),
      },
      { associations: [{ to: { id: company.id }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 1 }] }] },
    );
  });
  const deals = Array.from({ length: Math.floor(contactCount / 3) }, (_, index) => {
    const company = random.pick(companies);
    const deal = store.createRecord(
      'deals',
      {
        dealname: `${company.properties.get('name') ?? 'Deal'} - renewal ${index + 1}`,
        amount: String(random.int(500, 90_000)),
        pipeline: 'default',
        dealstage: random.pick(STAGES),
        closedate: String(base + random.int(-90, 90) * DAY),
        deal_currency_code: random.pick(['USD', 'EUR', 'GBP']),
        hubspot_owner_id: random.pick(owners).id,
        createdate: at(random.int(10, 120)),
      },
      { associations: [{ to: { id: company.id }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 5 }] }] },
    );
    for (let count = random.int(1, 3); count > 0; count--) store.associate('deals', deal.id, 'contacts', random.pick(contacts).id, 3);
    return deal;
  });
  const parents = () => {
    const roll = random.next();
    if (roll < 0.2 && deals.length > 0) return { id: random.pick(deals).id, typeId: 214, taskTypeId: 216 };
    if (roll < 0.5) return { id: random.pick(companies).id, typeId: 190, taskTypeId: 192 };
    return { id: random.pick(contacts).id, typeId: 202, taskTypeId: 204 };
  };
  const notes = Array.from({ length: Math.floor(contactCount / 2) }, () => {
    const parent = parents();
    return store.createRecord(
      'notes',
      { hs_note_body: `<p>${random.pick(['Spoke about renewal.', 'Sent pricing.', 'Asked for a demo.', 'Budget approved 🎉'])}</p>`, hs_timestamp: at(random.int(1, 60)), hubspot_owner_id: random.pick(owners).id },
      { associations: [{ to: { id: parent.id }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: parent.typeId }] }] },
    );
  });
  const tasks = Array.from({ length: Math.floor(contactCount / 3) }, () => {
    const parent = parents();
    return store.createRecord(
      'tasks',
      {
        hs_task_subject: random.pick(['Call back', 'Send proposal', 'Schedule demo']),
        hs_task_status: random.chance(0.6) ? 'COMPLETED' : 'NOT_STARTED',
        hs_task_priority: random.pick(['LOW', 'MEDIUM', 'HIGH']),
        hs_timestamp: at(random.int(-30, 30)),
        hubspot_owner_id: random.pick(owners).id,
      },
      { associations: [{ to: { id: parent.id }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: parent.taskTypeId }] }] },
    );
  });
  // Engagements come last, so the records above stay what they were before engagements were seeded.
  // Association type ids per engagement and parent (schema.ts PAIRS): calls 194/182/206, meetings 200/188/212,
  // e-mails 198/186/210 (to contact/company/deal).
  const engagementParent = (typeIds: { contact: number; company: number; deal: number }) => {
    const roll = random.next();
    if (roll < 0.2 && deals.length > 0) return { id: random.pick(deals).id, typeId: typeIds.deal };
    if (roll < 0.4) return { id: random.pick(companies).id, typeId: typeIds.company };
    return { id: random.pick(contacts).id, typeId: typeIds.contact };
  };
  const associated = (parent: { id: string; typeId: number }) => ({ associations: [{ to: { id: parent.id }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: parent.typeId }] }] });
  const calls = Array.from({ length: Math.floor(contactCount / 4) }, () => {
    const outcome = random.pick(CALL_OUTCOMES);
    return store.createRecord(
      'calls',
      {
        hs_call_title: random.pick(['Discovery call', 'Follow-up call', 'Renewal check-in']),
        hs_call_body: `<p>${random.pick(['Discussed pricing.', 'Left a voicemail.', 'Agreed on next steps.'])}</p>`,
        hs_call_direction: random.pick(['INBOUND', 'OUTBOUND']),
        hs_call_duration: String(outcome[1] === 'Connected' ? random.int(60, 3600) * 1000 : random.int(0, 45) * 1000),
        hs_call_disposition: outcome[0],
        hs_call_status: 'COMPLETED',
        hs_timestamp: at(random.int(1, 90)),
        hubspot_owner_id: random.pick(owners).id,
      },
      associated(engagementParent({ contact: 194, company: 182, deal: 206 })),
    );
  });
  const meetings = Array.from({ length: Math.floor(contactCount / 5) }, () => {
    const start = Number(at(random.int(-14, 90)));
    return store.createRecord(
      'meetings',
      {
        hs_meeting_title: random.pick(['Kick-off', 'Quarterly review', 'Product demo']),
        hs_meeting_body: '<p>Agenda: goals, timeline, open questions.</p>',
        hs_meeting_start_time: String(start),
        hs_meeting_end_time: String(start + random.pick([30, 45, 60]) * 60_000),
        hs_meeting_outcome: start > base ? 'SCHEDULED' : random.pick(['COMPLETED', 'NO_SHOW', 'RESCHEDULED']),
        hs_timestamp: String(start),
        hubspot_owner_id: random.pick(owners).id,
      },
      associated(engagementParent({ contact: 200, company: 188, deal: 212 })),
    );
  });
  const emails = Array.from({ length: Math.floor(contactCount / 4) }, () =>
    store.createRecord(
      'emails',
      {
        hs_email_subject: random.pick(['Your quote', 'Re: contract draft', 'Meeting notes']),
        hs_email_text: random.pick(['Please find the quote attached.', 'Thanks, see my comments inline.', 'Notes from today — 👍']),
        hs_email_direction: random.pick(['EMAIL', 'INCOMING_EMAIL']),
        hs_email_status: 'SENT',
        hs_timestamp: at(random.int(1, 90)),
        hubspot_owner_id: random.pick(owners).id,
      },
      associated(engagementParent({ contact: 198, company: 186, deal: 210 })),
    ),
  );
  return {
    owners: owners.length,
    companies: companies.length,
    contacts: contacts.length,
    deals: deals.length,
    notes: notes.length,
    tasks: tasks.length,
    calls: calls.length,
    meetings: meetings.length,
    emails: emails.length,
  };
}
