/** Tables of the sample SOURCE database ("legacy CRM"), in dependency order. */
export const SOURCE_TABLES = ['owners', 'companies', 'contacts', 'deals', 'deal_contacts', 'notes', 'tasks', 'activities'] as const;
export type SourceTable = (typeof SOURCE_TABLES)[number];

/** Tables of the demo TARGET database ("new CRM"), in dependency order. */
export const TARGET_TABLES = ['users', 'companies', 'contacts', 'deals', 'deal_contacts', 'notes', 'tasks'] as const;
export type TargetTable = (typeof TARGET_TABLES)[number];

/** Column order of every source table (what the writers create and insert). */
export const SOURCE_COLUMNS: Record<SourceTable, readonly string[]> = {
  owners: ['id', 'email', 'first_name', 'last_name', 'created_at', 'updated_at'],
  companies: ['id', 'name', 'domain', 'phone', 'industry', 'parent_company_id', 'owner_id', 'annual_revenue', 'created_at', 'updated_at'],
  contacts: [
    'id',
    'first_name',
    'last_name',
    'email',
    'phone',
    'job_title',
    'company_id',
    'owner_id',
    'birthday',
    'lifecycle_stage',
    'created_at',
    'updated_at',
  ],
  deals: ['id', 'name', 'amount', 'currency', 'stage', 'close_date', 'company_id', 'owner_id', 'created_at', 'updated_at'],
  deal_contacts: ['deal_id', 'contact_id'],
  notes: ['id', 'body', 'company_id', 'contact_id', 'deal_id', 'owner_id', 'created_at', 'updated_at'],
  tasks: ['id', 'subject', 'status', 'due_date', 'company_id', 'contact_id', 'deal_id', 'owner_id', 'created_at', 'updated_at'],
  activities: [
    'id',
    'type',
    'subject',
    'body',
    'direction',
    'duration_minutes',
    'outcome',
    'activity_date',
    'end_time',
    'company_id',
    'contact_id',
    'deal_id',
    'owner_id',
    'created_at',
    'updated_at',
  ],
};

export const TARGET_COLUMNS: Record<TargetTable, readonly string[]> = {
  users: ['id', 'email', 'name', 'created_at', 'updated_at'],
  companies: ['id', 'name', 'domain', 'phone', 'industry', 'parent_id', 'owner_id', 'annual_revenue', 'created_at', 'updated_at'],
  contacts: [
    'id',
    'firstname',
    'lastname',
    'email',
    'phone',
    'jobtitle',
    'company_id',
    'owner_id',
    'date_of_birth',
    'lifecycle_stage',
    'created_at',
    'updated_at',
  ],
  deals: ['id', 'dealname', 'amount', 'currency', 'dealstage', 'closedate', 'company_id', 'owner_id', 'created_at', 'updated_at'],
  deal_contacts: ['deal_id', 'contact_id'],
  notes: ['id', 'body', 'company_id', 'contact_id', 'deal_id', 'owner_id', 'created_at', 'updated_at'],
  tasks: ['id', 'subject', 'status', 'due_at', 'company_id', 'contact_id', 'deal_id', 'owner_id', 'created_at', 'updated_at'],
};

/** The source's canonical deal stages. */
export const SOURCE_DEAL_STAGES = ['Prospecting', 'Qualification', 'Proposal', 'Negotiation', 'Closed Won', 'Closed Lost'] as const;
export type SourceDealStage = (typeof SOURCE_DEAL_STAGES)[number];

/** Messy spellings found in the source's stage column, with the stage each one means. */
export const SOURCE_DEAL_STAGE_VARIANTS: Readonly<Record<string, SourceDealStage>> = {
  prospecting: 'Prospecting',
  'Prospecting ': 'Prospecting',
  qualification: 'Qualification',
  proposal: 'Proposal',
  'PROPOSAL': 'Proposal',
  negotiation: 'Negotiation',
  'closed won': 'Closed Won',
  'Closed-Won ': 'Closed Won',
  'CLOSED WON': 'Closed Won',
  'closed lost': 'Closed Lost',
  'Closed-Lost': 'Closed Lost',
};

/** Every value the source's stage column can hold (canonical stages and variants). */
export const SOURCE_DEAL_STAGE_VALUES: readonly string[] = [...SOURCE_DEAL_STAGES, ...Object.keys(SOURCE_DEAL_STAGE_VARIANTS)];

/** The target's deal stages (the CHECK constraint on deals.dealstage). */
export const TARGET_DEAL_STAGES = [
  'appointmentscheduled',
  'qualifiedtobuy',
  'presentationscheduled',
  'contractsent',
  'closedwon',
  'closedlost',
] as const;
export type TargetDealStage = (typeof TARGET_DEAL_STAGES)[number];

/** Canonical source stage -> target stage. */
export const DEAL_STAGE_MAP: Readonly<Record<SourceDealStage, TargetDealStage>> = {
  Prospecting: 'appointmentscheduled',
  Qualification: 'qualifiedtobuy',
  Proposal: 'presentationscheduled',
  Negotiation: 'contractsent',
  'Closed Won': 'closedwon',
  'Closed Lost': 'closedlost',
};

/** Every source stage value (variants included) -> target stage: the value map a mapping needs. */
export const DEAL_STAGE_VALUE_MAP: Readonly<Record<string, TargetDealStage>> = Object.fromEntries(
  SOURCE_DEAL_STAGE_VALUES.map((value) => [value, DEAL_STAGE_MAP[SOURCE_DEAL_STAGE_VARIANTS[value] ?? (value as SourceDealStage)]]),
);

export const SOURCE_TASK_STATUSES = ['open', 'done'] as const;
export const TARGET_TASK_STATUSES = ['NOT_STARTED', 'COMPLETED'] as const;
export const TASK_STATUS_MAP: Readonly<Record<(typeof SOURCE_TASK_STATUSES)[number], (typeof TARGET_TASK_STATUSES)[number]>> = {
  open: 'NOT_STARTED',
  done: 'COMPLETED',
};

/**
 * The legacy CRM's logged activities: one table, a `type` column (with the spellings people typed) saying
 * whether a row is a call, a meeting or an e-mail.
 */
export const SOURCE_ACTIVITY_TYPES = ['call', 'meeting', 'email'] as const;
export type SourceActivityType = (typeof SOURCE_ACTIVITY_TYPES)[number];
/** Every spelling of each type in the `type` column. */
export const SOURCE_ACTIVITY_TYPE_SPELLINGS: Readonly<Record<SourceActivityType, readonly string[]>> = {
  call: ['Call', 'call', 'CALL '],
  meeting: ['Meeting', 'meeting'],
  email: ['Email', 'email', 'E-mail'],
};
export const SOURCE_CALL_OUTCOMES = ['Connected', 'No answer', 'Left voicemail', 'Busy', 'Wrong number'] as const;
export const SOURCE_MEETING_OUTCOMES = ['Completed', 'No show', 'Canceled', 'Scheduled'] as const;
export const SOURCE_EMAIL_OUTCOMES = ['Sent', 'Bounced'] as const;

export const LIFECYCLE_STAGES = ['subscriber', 'lead', 'marketingqualifiedlead', 'salesqualifiedlead', 'opportunity', 'customer'] as const;

export const DEFAULT_BASE_TIME = '2026-01-15T09:00:00.000Z';
