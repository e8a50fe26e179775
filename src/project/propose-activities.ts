import type { FieldSchema, ObjectSchema } from '../core/schema.js';
import type { DurationUnit } from './types.js';

/*
 * Activities split by type, for `ferry map`: a legacy CRM keeps calls, meetings, e-mails and to-dos in one
 * table (a SQL `activities` table, Pipedrive's activities export, a Salesforce Task export with
 * `TaskSubtype`), while a target such as HubSpot keeps each in an object of its own. When the source object
 * looks like such a table and the target has objects for the kinds its type column holds, the proposal
 * writes one routed mapping per target object, each with a row filter (`where`) on the type column listing
 * the values it takes (docs/concepts.md, "Routing records"). Values of no known kind go to the object the
 * source was paired with (tasks, usually), or are left out and named in a note.
 */

export type ActivityKind = 'call' | 'meeting' | 'email' | 'task' | 'note';

/** Target object names that hold each kind (HubSpot's, and the usual SQL table names). */
const TARGETS: Record<ActivityKind, readonly string[]> = {
  call: ['calls', 'call', 'phonecalls'],
  meeting: ['meetings', 'meeting', 'events', 'appointments'],
  email: ['emails', 'email', 'emailmessages'],
  task: ['tasks', 'task', 'todos'],
  note: ['notes', 'note'],
};

/**
 * Type values by kind, compared lower-case without separators (`Phone call`, `phone_call` → `phonecall`).
 * Pipedrive's default activity types are call, meeting, task, deadline, email and lunch; Salesforce's
 * TaskSubtype is Call, Email, Task (or ListEmail, Cadence); HubSpot's own task types are CALL, EMAIL, TODO.
 */
const VALUES: Record<ActivityKind, readonly string[]> = {
  call: ['call', 'calls', 'phonecall', 'phone', 'telephone', 'calllog', 'loggedcall', 'inboundcall', 'outboundcall', 'coldcall'],
  meeting: ['meeting', 'meetings', 'event', 'appointment', 'lunch', 'visit', 'sitevisit', 'demo', 'videocall', 'videomeeting', 'onlinemeeting', 'conference'],
  email: ['email', 'emails', 'mail', 'emailmessage', 'listemail', 'inboundemail', 'outboundemail', 'loggedemail'],
  task: ['task', 'tasks', 'todo', 'deadline', 'followup', 'reminder', 'cadence'],
  note: ['note', 'notes', 'comment'],
};

const squash = (text: string): string =>
  text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '');

/** The kind a type value names, by the whole value, or else by one of its words (`Outbound call`). */
export function activityKindOf(value: string): ActivityKind | undefined {
  const whole = squash(value);
  if (whole === '') return undefined;
  const kinds = Object.keys(VALUES) as ActivityKind[];
  const exact = kinds.find((kind) => VALUES[kind].includes(whole));
  if (exact) return exact;
  const words = value.split(/[\s_\-./]+/).map(squash).filter((word) => word.length > 2);
  // Meetings first: a "video call" is a meeting.
  for (const kind of ['meeting', 'email', 'call', 'task', 'note'] as ActivityKind[]) {
    if (words.some((word) => VALUES[kind].includes(word))) return kind;
  }
  return undefined;
}

/** Source objects that can hold several kinds of activity (by their name or their vendor object). */
const ACTIVITY_OBJECTS = ['activity', 'activities', 'engagement', 'engagements', 'interaction', 'interactions', 'task', 'tasks', 'history', 'event', 'events'];

export function isActivityObject(object: ObjectSchema): boolean {
  return ACTIVITY_OBJECTS.includes(squash(object.name)) || (object.preset !== undefined && ACTIVITY_OBJECTS.includes(squash(object.preset.object)));
}

const TYPE_FIELDS = ['type', 'activitytype', 'tasksubtype', 'eventsubtype', 'subtype', 'kind', 'activitykind', 'engagementtype', 'category'];

/** The source field that says what kind of activity a record is: `Type`, `Activity - Type`, `TaskSubtype`. */
export function activityTypeField(object: ObjectSchema): FieldSchema | undefined {
  const candidates = object.fields.filter((field) => field.type === 'string' || field.type === 'enum' || field.type === 'text');
  const prefix = squash(object.preset?.object ?? '');
  const named = (field: FieldSchema) => {
    const name = squash(field.label ?? field.name);
    return TYPE_FIELDS.includes(name) || (prefix !== '' && name.startsWith(prefix) && TYPE_FIELDS.includes(name.slice(prefix.length)));
  };
  return candidates.find((field) => field.meaning === 'type') ?? candidates.find((field) => TYPE_FIELDS.includes(squash(field.name))) ?? candidates.find(named);
}

export interface ActivityRoute {
  target: string;
  /** The type values (as the source writes them) this route takes. */
  values: string[];
}

/**
 * Which type values go to which target object. `targetObjects` are the target's object names; `paired` is
 * the target the source object was paired with by name (the home of values of no kind with an object of
 * its own). Undefined when there is nothing to split: no value of a kind whose object the target has
 * besides the paired one.
 */
export function planActivityRoutes(values: readonly string[], targetObjects: readonly string[], paired: string | undefined): { routes: ActivityRoute[]; unrouted: string[] } | undefined {
  const objectFor = (kind: ActivityKind): string | undefined => TARGETS[kind].map((name) => targetObjects.find((object) => object.toLowerCase() === name)).find((found) => found !== undefined);
  const fallback = paired ?? objectFor('task');
  const byTarget = new Map<string, string[]>();
  const unrouted: string[] = [];
  // Spellings that differ only in case or spaces are one value to a row filter: written once, in lower case
  // when the source has it so (`call` for Call, CALL and call), else as the source first writes it.
  const spellings = new Map<string, string>();
  for (const raw of values) {
    const value = raw.trim();
    const key = value.toLowerCase();
    if (value === '') continue;
    if (!spellings.has(key) || value === key) spellings.set(key, value);
  }
  for (const value of spellings.values()) {
    const kind = activityKindOf(value);
    const target = (kind && objectFor(kind)) ?? fallback;
    if (!target) {
      unrouted.push(value);
      continue;
    }
    byTarget.set(target, [...(byTarget.get(target) ?? []), value]);
  }
  const split = [...byTarget.keys()].some((target) => target !== fallback);
  if (!split) return undefined;
  // Target order: calls, meetings, e-mails, then the rest, so ferry.yaml reads the same every time.
  const rank = (target: string) => {
    const index = (['call', 'meeting', 'email', 'task', 'note'] as ActivityKind[]).findIndex((kind) => TARGETS[kind].includes(target.toLowerCase()));
    return index < 0 ? 99 : index;
  };
  const routes = [...byTarget.entries()].map(([target, taken]) => ({ target, values: taken })).sort((a, b) => rank(a.target) - rank(b.target));
  return { routes, unrouted };
}

/**
 * The unit a duration field's name states (`duration_minutes`, `DurationInMinutes`, `call_length_sec`), or
 * undefined. HubSpot's `hs_call_duration` is milliseconds (https://developers.hubspot.com/docs/api/crm/calls).
 */
export function durationUnitOf(field: FieldSchema, object: ObjectSchema): DurationUnit | undefined {
  const name = squash(field.name);
  if (name === 'hscallduration' && object.name === 'calls') return 'milliseconds';
  if (/(ms|millis|milliseconds?)$/.test(name)) return 'milliseconds';
  if (/(sec|secs|seconds?|insecs|inseconds)$/.test(name)) return 'seconds';
  if (/(min|mins|minutes?|inminutes)$/.test(name)) return 'minutes';
  if (/(hr|hrs|hours?|inhours)$/.test(name)) return 'hours';
  return undefined;
}

/** Whether a field holds a length of time (`duration`, `call_length_sec`, `DurationInMinutes`). */
export function isDurationField(field: FieldSchema): boolean {
  const name = squash(field.name);
  return (name.includes('duration') || /length(ms|sec|secs|seconds|min|mins|minutes)?$/.test(name)) && !REFERENCE_LIKE.has(field.type);
}

const REFERENCE_LIKE = new Set(['reference', 'reference-list', 'boolean', 'date', 'datetime']);
