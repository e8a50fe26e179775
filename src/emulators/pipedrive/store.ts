import { createHash } from 'node:crypto';
import { RecordStore, type RecordTable, type Row } from '../kit/index.js';
import { PipedriveHttpError, gone, invalid, notFound, required } from './errors.js';
import { ACTIVITY_TYPES, CUSTOM_FIELD_TYPES, ENTITIES, standardFields, type CustomFieldType, type EntityInfo, type EntityName, type FieldDefinition, type RefTarget } from './schema.js';
import { checkCustom, checkStandard, parseDateTime, type ValueContext } from './values.js';

/** Soft-deleted v2 records are purged after 30 days (migration guide: "Soft-deleted items are purged after 30 days"). */
export const PURGE_AFTER_MS = 30 * 86_400_000;

export interface CustomField extends FieldDefinition {
  field_type: CustomFieldType;
  entity: EntityName;
}

export type RecordData = Record<string, unknown> & { custom: Record<string, unknown> };

export interface UserData {
  name: string;
  email: string;
  is_admin: boolean;
  active_flag: boolean;
  default_currency: string;
  timezone_name: string;
  locale: string;
  role_id: number | null;
}

export interface NoteData {
  content: string;
  deal_id: number | null;
  person_id: number | null;
  org_id: number | null;
  user_id: number;
  last_update_user_id: number;
  pinned_to_deal_flag: boolean;
  pinned_to_person_flag: boolean;
  pinned_to_organization_flag: boolean;
}

export interface ParticipantData {
  deal_id: number;
  person_id: number;
  added_by_user_id: number;
}

/** v2 times: RFC 3339 in UTC, to the second (`2026-03-01T12:00:00Z`). */
export function rfc3339(millis: number): string {
  return `${new Date(Math.floor(millis / 1000) * 1000).toISOString().slice(0, 19)}Z`;
}

/** v1 times: `YYYY-MM-DD HH:MM:SS` in UTC without a zone. */
export function v1Time(millis: number): string {
  return new Date(millis).toISOString().slice(0, 19).replace('T', ' ');
}

/** Deal and activity keys that hold times (stored as epoch ms, answered as RFC 3339). */
const TIME_KEYS = new Set(['archive_time', 'stage_change_time', 'close_time', 'won_time', 'lost_time', 'marked_as_done_time']);

/**
 * The company's data. Ids come from one sequence per object type, as Pipedrive numbers each type on its own;
 * times come from the injected clock. Tests may call the write methods directly to act "as a person in the
 * Pipedrive UI": the same validation applies.
 */
export class PipedriveStore {
  readonly kit: RecordStore;
  readonly users: RecordTable<UserData>;
  readonly notes: RecordTable<NoteData>;
  readonly participants: RecordTable<ParticipantData>;
  readonly customFields = new Map<EntityName, CustomField[]>();
  /** The user the API token (and the OAuth token) belongs to: `is_you`, the default owner and author. */
  currentUserId = 1;
  readonly companyId = 13_000_001;
  readonly companyDomain: string;
  private nextOptionId = 1;
  private fieldSeq = 0;

  constructor(
    readonly clock: () => number,
    options: { companyDomain?: string } = {},
  ) {
    this.kit = new RecordStore(clock, { sequences: 'per-table', firstId: 1 });
    this.users = this.kit.table<UserData>('users');
    this.notes = this.kit.table<NoteData>('notes');
    this.participants = this.kit.table<ParticipantData>('participants');
    this.companyDomain = options.companyDomain ?? 'emulated-company';
  }

  table(entity: EntityName): RecordTable<RecordData> {
    return this.kit.table<RecordData>(entity);
  }

  /** Live, or soft-deleted less than 30 days ago (still readable, `is_deleted: true`). */
  visible(row: Row<unknown>): boolean {
    return !row.deleted || this.clock() - (row.deleteTime ?? 0) < PURGE_AFTER_MS;
  }

  find(entity: EntityName, id: number): Row<RecordData> | undefined {
    const row = this.table(entity).get(id);
    return row && this.visible(row) ? row : undefined;
  }

  exists(target: RefTarget, id: number): boolean {
    if (target === 'users') return this.users.live(id)?.data.active_flag === true;
    return this.table(target).live(id) !== undefined;
  }

  private get context(): ValueContext {
    return { exists: (target, id) => this.exists(target, id) };
  }

  /**
   * What a new Pipedrive company has: its first user (the admin, who owns the API token) and the default
   * pipeline with its five stages.
   */
  initCompany(admin: { name: string; email: string } = { name: 'Alex Admin', email: 'alex.admin@example.com' }): void {
    const user = this.addUser({ ...admin, is_admin: true });
    this.currentUserId = user.id;
    const pipeline = this.create('pipelines', { name: 'Pipeline', is_deal_probability_enabled: false });
    ['Qualified', 'Contact Made', 'Demo Scheduled', 'Proposal Made', 'Negotiations Started'].forEach((name, index) => this.create('stages', { name, pipeline_id: pipeline.id, deal_probability: (index + 1) * 20 }));
  }

  // ---- users ------------------------------------------------------------------------------------------

  addUser(user: { name: string; email: string; is_admin?: boolean; active_flag?: boolean }): Row<UserData> {
    return this.users.insert({ name: user.name, email: user.email, is_admin: user.is_admin ?? false, active_flag: user.active_flag ?? true, default_currency: 'USD', timezone_name: 'UTC', locale: 'en_US', role_id: null });
  }

  // ---- field definitions ------------------------------------------------------------------------------

  fields(entity: EntityName): FieldDefinition[] {
    return [...standardFields(entity), ...(this.customFields.get(entity) ?? [])];
  }

  custom(entity: EntityName): CustomField[] {
    return this.customFields.get(entity) ?? [];
  }

  /**
   * A custom field with a 40-character hex key (Pipedrive's keys are "randomly generated 40-character
   * hashes", different in every company: here a SHA-1 of the entity, name and a counter) and option ids drawn
   * from one company-wide sequence.
   */
  addCustomField(entity: EntityName, input: unknown): CustomField {
    const info = ENTITIES[entity];
    if (!info.customFields) throw new PipedriveHttpError(400, `Custom fields are not supported for ${entity}`);
    const body = objectBody(input);
    if (typeof body.field_name !== 'string' || body.field_name.trim() === '') throw required('field_name');
    if (body.field_name.length > 255) throw invalid('field_name', 'must be at most 255 characters long.');
    if (typeof body.field_type !== 'string') throw required('field_type');
    if (!(CUSTOM_FIELD_TYPES as readonly string[]).includes(body.field_type)) throw invalid('field_type', `must be one of [${CUSTOM_FIELD_TYPES.join(', ')}], got "${body.field_type}".`);
    const type = body.field_type as CustomFieldType;
    let options: { id: number; label: string }[] | null = null;
    if (type === 'enum' || type === 'set') {
      if (!Array.isArray(body.options) || body.options.length === 0) throw invalid('options', `is required for field_type ${type}.`);
      options = body.options.map((option, index) => {
        const label = (option as { label?: unknown } | null)?.label;
        if (typeof label !== 'string' || label === '') throw required(`options[${index}].label`);
        return { id: this.nextOptionId++, label };
      });
    } else if (body.options !== undefined) throw invalid('options', `is only allowed for enum and set fields.`);
    const field_code = createHash('sha1').update(`${entity}:${body.field_name}:${this.fieldSeq++}`).digest('hex');
    const field: CustomField = {
      field_code,
      field_name: body.field_name,
      field_type: type,
      options,
      is_custom_field: true,
      description: typeof body.description === 'string' ? body.description : null,
      entity,
    };
    this.customFields.set(entity, [...this.custom(entity), field]);
    return field;
  }

  // ---- records ----------------------------------------------------------------------------------------

  private checkInput(info: EntityInfo, input: Record<string, unknown>): { changes: Record<string, unknown>; custom: Record<string, unknown>; addTime?: number } {
    const changes: Record<string, unknown> = {};
    const custom: Record<string, unknown> = {};
    let addTime: number | undefined;
    for (const [key, value] of Object.entries(input)) {
      if (value === undefined) continue;
      if (key === 'custom_fields' && info.customFields) {
        if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid('custom_fields', 'must be an object.');
        for (const [code, customValue] of Object.entries(value as Record<string, unknown>)) {
          const field = this.custom(info.name).find((candidate) => candidate.field_code === code);
          if (!field) throw invalid(`custom_fields.${code}`, `is not a custom field of ${info.name}.`);
          custom[code] = checkCustom(field, customValue, this.context);
        }
        continue;
      }
      if (info.name === 'activities' && key === 'person_id') throw invalid('person_id', 'is read-only; link a person with participants [{person_id, primary}].');
      const kind = info.writable[key];
      if (!kind) throw invalid(key, 'is not allowed.');
      const checked = checkStandard(kind, key, value, this.context);
      if (key === 'add_time') addTime = checked as number;
      else changes[key] = checked;
    }
    return { changes, custom, addTime };
  }

  private ownerDefaults(data: RecordData): void {
    if ('owner_id' in data && data.owner_id === null) data.owner_id = this.currentUserId;
    if ('creator_user_id' in data && data.creator_user_id === null) data.creator_user_id = this.currentUserId;
  }

  /** Creates a record after validating every field. Throws PipedriveHttpError (400) naming the field. */
  create(entity: EntityName, input: unknown): Row<RecordData> {
    const info = ENTITIES[entity];
    const body = objectBody(input);
    const data: RecordData = { ...structuredClone(info.template), custom: {} };
    const { changes, custom, addTime } = this.checkInput(info, body);
    for (const name of info.required) {
      const value = changes[name];
      if (value === undefined || value === null || value === '') throw required(name);
    }
    Object.assign(data, changes);
    Object.assign(data.custom, custom);
    this.ownerDefaults(data);
    const now = this.clock();
    this.derive(info, data, undefined, changes, now);
    return this.table(entity).insert(data, { addTime });
  }

  /** PATCH: changes only the given fields (custom fields too) and moves update_time to now. */
  update(entity: EntityName, id: number, input: unknown): Row<RecordData> {
    const info = ENTITIES[entity];
    const row = this.table(entity).get(id);
    if (!row || !this.visible(row)) throw notFound();
    if (row.deleted) throw gone(info.singular);
    const body = objectBody(input);
    const { changes, custom, addTime } = this.checkInput(info, body);
    for (const name of info.required) {
      if (name in changes && (changes[name] === null || changes[name] === '')) throw required(name);
    }
    const before = structuredClone(row.data);
    const next: RecordData = { ...structuredClone(row.data), ...changes, custom: { ...row.data.custom, ...custom } };
    this.derive(info, next, before, changes, this.clock());
    if (addTime !== undefined) row.addTime = addTime;
    return this.table(entity).update(id, (data) => {
      for (const key of Object.keys(data)) delete data[key];
      Object.assign(data, next);
    })!;
  }

  /** DELETE: a soft delete (`is_deleted: true`, readable for 30 days, then purged). */
  remove(entity: EntityName, id: number): Row<RecordData> {
    const row = this.table(entity).get(id);
    if (!row || !this.visible(row)) throw notFound();
    if (row.deleted) throw gone(ENTITIES[entity].singular);
    return this.table(entity).markDeleted(id)!;
  }

  /** Server-set fields that follow from the others (names, pipeline and stage, status times, order). */
  private derive(info: EntityInfo, data: RecordData, before: RecordData | undefined, changes: Record<string, unknown>, now: number): void {
    switch (info.name) {
      case 'persons': {
        const name = String(data.name ?? '').trim();
        const space = name.indexOf(' ');
        data.first_name = space < 0 ? name : name.slice(0, space);
        data.last_name = space < 0 ? null : name.slice(space + 1);
        break;
      }
      case 'deals':
        this.deriveDeal(data, before, changes, now);
        break;
      case 'activities': {
        const type = String(data.type ?? 'task');
        const known = ACTIVITY_TYPES.find((candidate) => candidate.key_string === type);
        if (!known) throw invalid('type', `must be an activity type key [${ACTIVITY_TYPES.map((candidate) => candidate.key_string).join(', ')}], got "${type}".`);
        data.type = type;
        if (data.subject === null || data.subject === '') data.subject = known.name;
        const participants = data.participants as { person_id: number; primary: boolean }[];
        data.person_id = participants.find((participant) => participant.primary)?.person_id ?? null;
        if ('done' in changes && changes.done !== before?.done) data.marked_as_done_time = data.done ? now : null;
        break;
      }
      case 'pipelines':
        if (!before) data.order_nr = Math.max(0, ...this.table('pipelines').liveRows().map((row) => Number(row.data.order_nr))) + 1;
        break;
      case 'stages':
        if (!before || changes.pipeline_id !== undefined) {
          const siblings = this.table('stages').liveRows().filter((row) => row.data.pipeline_id === data.pipeline_id);
          if (!before || before.pipeline_id !== data.pipeline_id) data.order_nr = Math.max(0, ...siblings.map((row) => Number(row.data.order_nr))) + 1;
        }
        break;
      default:
        break;
    }
  }

  /** The first live stage of a pipeline by order_nr. */
  firstStage(pipelineId: number): Row<RecordData> | undefined {
    return this.table('stages')
      .liveRows()
      .filter((row) => row.data.pipeline_id === pipelineId)
      .sort((a, b) => Number(a.data.order_nr) - Number(b.data.order_nr) || a.id - b.id)[0];
  }

  /**
   * Deals: pipeline and stage agree (a stage of another pipeline is a 400; a stage alone moves the deal to its
   * pipeline; a pipeline alone puts the deal in its first stage); status times follow status; lost_reason,
   * won_time, lost_time and close_time only with the matching status ("Can only be set if deal status is
   * lost/won/won or lost", v2 OpenAPI deal bodies).
   */
  private deriveDeal(data: RecordData, before: RecordData | undefined, changes: Record<string, unknown>, now: number): void {
    const stages = this.table('stages');
    if (changes.stage_id !== undefined && changes.pipeline_id === undefined) {
      data.pipeline_id = stages.get(Number(changes.stage_id))!.data.pipeline_id;
    } else if (changes.pipeline_id !== undefined && changes.stage_id === undefined && before?.pipeline_id !== changes.pipeline_id) {
      data.stage_id = this.firstStage(Number(changes.pipeline_id))?.id ?? null;
    }
    if (data.pipeline_id === null) {
      const first = this.table('pipelines')
        .liveRows()
        .sort((a, b) => Number(a.data.order_nr) - Number(b.data.order_nr) || a.id - b.id)[0];
      if (!first) throw invalid('pipeline_id', 'is required: the company has no pipeline.');
      data.pipeline_id = first.id;
    }
    if (data.stage_id === null) data.stage_id = this.firstStage(Number(data.pipeline_id))?.id ?? null;
    if (data.stage_id === null) throw invalid('stage_id', `is required: pipeline ${data.pipeline_id} has no stage.`);
    const stage = stages.get(Number(data.stage_id))!;
    if (stage.data.pipeline_id !== data.pipeline_id) throw invalid('stage_id', `refers to stage ${stage.id} of pipeline ${stage.data.pipeline_id}, not of pipeline ${data.pipeline_id}.`);
    if (!before || before.stage_id !== data.stage_id) data.stage_change_time = before ? now : null;

    const status = data.status as string;
    if (before?.status !== status) {
      data.won_time = status === 'won' ? (changes.won_time ?? now) : null;
      data.lost_time = status === 'lost' ? (changes.lost_time ?? now) : null;
      data.close_time = status === 'open' ? null : (changes.close_time ?? now);
      if (status !== 'lost' && changes.lost_reason === undefined) data.lost_reason = null;
    }
    const onlyWith: [string, string[]][] = [
      ['lost_reason', ['lost']],
      ['lost_time', ['lost']],
      ['won_time', ['won']],
      ['close_time', ['won', 'lost']],
    ];
    for (const [field, statuses] of onlyWith) {
      if (changes[field] !== undefined && changes[field] !== null && !statuses.includes(status)) throw invalid(field, `can only be set if the deal status is ${statuses.join(' or ')}.`);
    }
    if (changes.is_archived !== undefined && changes.is_archived !== before?.is_archived) data.archive_time = data.is_archived ? (changes.archive_time ?? now) : null;
  }

  // ---- output -----------------------------------------------------------------------------------------

  /**
   * The record as v2 returns it. `customKeys` limits custom_fields to those keys (the `custom_fields` query);
   * `optionLabels` answers enum and set values as `{id, label}` instead of ids (`include_option_labels=true`,
   * migration guide, 2026-05-21).
   */
  toV2(entity: EntityName, row: Row<RecordData>, customKeys?: string[], optionLabels = false): Record<string, unknown> {
    const info = ENTITIES[entity];
    const result: Record<string, unknown> = { id: row.id };
    for (const key of Object.keys(info.template)) {
      const value = row.data[key];
      result[key] = TIME_KEYS.has(key) && typeof value === 'number' ? rfc3339(value) : structuredClone(value);
    }
    if (entity === 'activities') result.marked_as_done_time = typeof row.data.marked_as_done_time === 'number' ? rfc3339(row.data.marked_as_done_time) : null;
    result.add_time = rfc3339(row.addTime);
    result.update_time = rfc3339(row.updateTime);
    result.is_deleted = row.deleted;
    if (info.customFields) {
      const custom: Record<string, unknown> = {};
      for (const field of this.custom(entity)) {
        if (customKeys && !customKeys.includes(field.field_code)) continue;
        const value = structuredClone(row.data.custom[field.field_code] ?? null);
        const label = (id: unknown) => ({ id, label: field.options?.find((option) => option.id === id)?.label ?? null });
        if (optionLabels && value !== null && field.field_type === 'enum') custom[field.field_code] = label(value);
        else if (optionLabels && Array.isArray(value) && field.field_type === 'set') custom[field.field_code] = value.map(label);
        else custom[field.field_code] = value;
      }
      result.custom_fields = custom;
    }
    return result;
  }

  userV1(row: Row<UserData>): Record<string, unknown> {
    const user = row.data;
    return {
      id: row.id,
      name: user.name,
      default_currency: user.default_currency,
      locale: user.locale,
      lang: 1,
      email: user.email,
      phone: null,
      activated: user.active_flag,
      last_login: v1Time(row.updateTime),
      created: v1Time(row.addTime),
      modified: v1Time(row.updateTime),
      has_created_company: row.id === 1,
      access: [{ app: 'sales', admin: user.is_admin, permission_set_id: null }],
      active_flag: user.active_flag,
      timezone_name: user.timezone_name,
      timezone_offset: '+00:00',
      role_id: user.role_id,
      icon_url: null,
      is_you: row.id === this.currentUserId,
      is_admin: user.is_admin ? 1 : 0,
      is_deleted: row.deleted,
    };
  }

  // ---- notes (v1) -------------------------------------------------------------------------------------

  /**
   * v1 notes: HTML `content` (required), attached to at least one of deal, person or organization (lead,
   * project and task notes are not emulated), `pinned_to_*_flag` sent as 0/1 (booleans accepted too) and
   * answered as booleans, `add_time` optional as `YYYY-MM-DD HH:MM:SS` UTC.
   */
  writeNote(input: unknown, id?: number): Row<NoteData> {
    const body = objectBody(input);
    const existing = id === undefined ? undefined : this.notes.live(id);
    if (id !== undefined && !existing) throw notFound('Note');
    const next: NoteData = existing
      ? { ...existing.data }
      : { content: '', deal_id: null, person_id: null, org_id: null, user_id: this.currentUserId, last_update_user_id: this.currentUserId, pinned_to_deal_flag: false, pinned_to_person_flag: false, pinned_to_organization_flag: false };
    let addTime: number | undefined;
    const refs: [keyof NoteData, RefTarget][] = [
      ['deal_id', 'deals'],
      ['person_id', 'persons'],
      ['org_id', 'organizations'],
    ];
    for (const [key, value] of Object.entries(body)) {
      if (key === 'content') {
        if (typeof value !== 'string') throw invalid('content', 'must be a string.');
        next.content = sanitizeHtml(value);
      } else if (refs.some(([ref]) => ref === key)) {
        const target = refs.find(([ref]) => ref === key)![1];
        if (value === null) (next as unknown as Record<string, unknown>)[key] = null;
        else (next as unknown as Record<string, unknown>)[key] = checkStandard({ ref: target }, key, value, this.context);
      } else if (key === 'user_id') {
        next.user_id = checkStandard({ ref: 'users' }, key, value, this.context) as number;
      } else if (key === 'add_time') {
        const millis = typeof value === 'string' ? parseDateTime(value) : undefined;
        if (millis === undefined) throw invalid('add_time', `must be in the format YYYY-MM-DD HH:MM:SS, got ${JSON.stringify(value)}.`);
        addTime = millis;
      } else if (key === 'pinned_to_deal_flag' || key === 'pinned_to_person_flag' || key === 'pinned_to_organization_flag') {
        if (![0, 1, true, false].includes(value as number | boolean)) throw invalid(key, `must be 0 or 1, got ${JSON.stringify(value)}.`);
        next[key] = value === 1 || value === true;
      } else if (key === 'lead_id' || key === 'project_id' || key === 'task_id' || key === 'pinned_to_lead_flag' || key === 'pinned_to_project_flag' || key === 'pinned_to_task_flag') {
        throw invalid(key, 'is not emulated (lead, project and task notes).');
      } else {
        throw invalid(key, 'is not allowed.');
      }
    }
    if (next.content.trim() === '') throw required('content');
    if (next.deal_id === null && next.person_id === null && next.org_id === null) throw invalid('deal_id', 'or "person_id" or "org_id" is required: a note must be attached to a deal, person or organization.');
    const pins: [keyof NoteData, keyof NoteData][] = [
      ['pinned_to_deal_flag', 'deal_id'],
      ['pinned_to_person_flag', 'person_id'],
      ['pinned_to_organization_flag', 'org_id'],
    ];
    for (const [flag, ref] of pins) if (next[flag] && next[ref] === null) throw invalid(String(flag), `requires "${ref}".`);
    next.last_update_user_id = this.currentUserId;
    if (!existing) return this.notes.insert(next, { addTime });
    if (addTime !== undefined) existing.addTime = addTime;
    return this.notes.update(existing.id, (data) => Object.assign(data, next))!;
  }

  noteV1(row: Row<NoteData>): Record<string, unknown> {
    const note = row.data;
    const deal = note.deal_id === null ? undefined : this.table('deals').get(note.deal_id);
    const person = note.person_id === null ? undefined : this.table('persons').get(note.person_id);
    const org = note.org_id === null ? undefined : this.table('organizations').get(note.org_id);
    const user = this.users.get(note.user_id);
    return {
      id: row.id,
      active_flag: !row.deleted,
      add_time: v1Time(row.addTime),
      content: note.content,
      deal: deal ? { title: deal.data.title } : null,
      lead_id: null,
      deal_id: note.deal_id,
      last_update_user_id: note.last_update_user_id,
      org_id: note.org_id,
      organization: org ? { name: org.data.name } : null,
      person: person ? { name: person.data.name } : null,
      person_id: note.person_id,
      project_id: null,
      project: null,
      pinned_to_lead_flag: false,
      pinned_to_deal_flag: note.pinned_to_deal_flag,
      pinned_to_organization_flag: note.pinned_to_organization_flag,
      pinned_to_person_flag: note.pinned_to_person_flag,
      pinned_to_project_flag: false,
      update_time: v1Time(row.updateTime),
      user: user ? { email: user.data.email, icon_url: null, is_you: user.id === this.currentUserId, name: user.data.name } : null,
      user_id: note.user_id,
    };
  }

  // ---- deal participants (v1) -------------------------------------------------------------------------

  addParticipant(dealId: number, input: unknown): Row<ParticipantData> {
    const deal = this.table('deals').live(dealId);
    if (!deal) throw notFound('Deal');
    const body = objectBody(input);
    if (body.person_id === undefined || body.person_id === null) throw required('person_id');
    const personId = checkStandard({ ref: 'persons' }, 'person_id', body.person_id, this.context) as number;
    if (this.participants.liveRows().some((row) => row.data.deal_id === dealId && row.data.person_id === personId)) {
      throw invalid('person_id', `refers to person ${personId}, who is already a participant of deal ${dealId}.`);
    }
    return this.participants.insert({ deal_id: dealId, person_id: personId, added_by_user_id: this.currentUserId });
  }

  participantV1(row: Row<ParticipantData>): Record<string, unknown> {
    const person = this.table('persons').get(row.data.person_id);
    const deal = this.table('deals').get(row.data.deal_id);
    const user = this.users.get(row.data.added_by_user_id);
    const emails = (person?.data.emails as unknown[]) ?? [];
    const phones = (person?.data.phones as unknown[]) ?? [];
    return {
      id: row.id,
      person_id: { active_flag: person ? !person.deleted : false, name: person?.data.name ?? null, email: emails, phone: phones, value: row.data.person_id },
      add_time: v1Time(row.addTime),
      active_flag: !row.deleted,
      related_item_data: { deal_id: row.data.deal_id, title: deal?.data.title ?? null },
      person: person ? { id: person.id, name: person.data.name, first_name: person.data.first_name, last_name: person.data.last_name, org_id: person.data.org_id, email: emails, phone: phones, add_time: v1Time(person.addTime), update_time: v1Time(person.updateTime), active_flag: !person.deleted } : null,
      added_by_user_id: user ? { id: user.id, name: user.data.name, email: user.data.email, active_flag: user.data.active_flag, value: user.id } : null,
      related_item_type: 'deal',
      related_item_id: row.data.deal_id,
    };
  }
}

export function objectBody(input: unknown): Record<string, unknown> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new PipedriveHttpError(400, 'The request body must be a JSON object.');
  return input as Record<string, unknown>;
}

/** Notes' content is "subject to sanitization on the back-end": scripts and event handlers are removed. */
export function sanitizeHtml(html: string): string {
  return html
    .replace(/<script\b[^>]*>[\s\S]*?<\/script\s*>/gi, '')
    .replace(/\s+on[a-z]+\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)/gi, '');
}
