import type { FieldValue } from '../core/schema.js';

/**
 * The validated, in-memory form of `ferry.yaml`. The zod schema in project-schema.ts, translated by yaml-form.ts, produces exactly this.
 * Connection settings are connector-specific and stay a plain record here; each connector validates its own.
 */
export interface ConnectionConfig {
  connector: string;
  [setting: string]: unknown;
}

/** How a key is normalised before comparison (see semantics: Matching). */
export type MatchKeyKind = 'email' | 'domain' | 'phone' | 'name' | 'exact';

export interface MatchKey {
  /** Source field (or several, joined with a space, e.g. first + last name). */
  source: string | string[];
  target: string | string[];
  kind: MatchKeyKind;
}

export type FieldTransform =
  | { kind: 'copy' }
  | { kind: 'join'; separator: string }
  | { kind: 'split'; separator: string; part: 'first' | 'rest' | number }
  | { kind: 'constant'; value: FieldValue }
  | { kind: 'map'; values: Record<string, FieldValue>; default?: FieldValue; unmapped: 'fail' | 'keep' | 'default' }
  | { kind: 'date'; zone?: string }
  | { kind: 'datetime'; zone?: string }
  | { kind: 'lowercase' }
  | { kind: 'trim' }
  /** URL, e-mail address or host name -> lower-case host without `www.`, port or path. */
  | { kind: 'domain' }
  /**
   * A length of time from one unit to another (a call's duration in minutes -> HubSpot's milliseconds). A
   * number is read in `from`; a clock text `H:MM:SS` is hours, minutes and seconds, `A:B` is hours:minutes
   * (Pipedrive's `00:30`) unless `from` is seconds or milliseconds, then minutes:seconds (Zoho's `05:30`).
   * Milliseconds are rounded to a whole number.
   */
  | { kind: 'duration'; from: DurationUnit; to: DurationUnit };

export const DURATION_UNITS = ['milliseconds', 'seconds', 'minutes', 'hours'] as const;
export type DurationUnit = (typeof DURATION_UNITS)[number];

/** What happens to a value that does not convert (a bad e-mail, a number that is no number, an unmapped value). */
export type OnInvalid = 'fail' | 'empty' | 'keep';

export interface FieldMapping {
  /**
   * Source fields read (none for a constant). Several for join (joined) and map (looked up in order: the
   * first value found in the map wins).
   */
  source: string[];
  /** The one target field written. A split writes two mappings, one per part. */
  target: string;
  transform: FieldTransform;
  /**
   * A value that does not convert: `fail` (default) fails the record; `empty` writes the field empty and
   * records a warning for the record; `keep` writes the value as it is (the target may still refuse it) and
   * records a warning.
   */
  onInvalid?: OnInvalid;
  /** BCP-47 locale for reading text into a number field (`1.234,56` under de-DE); overrides sourceLocale. */
  locale?: string;
}

/** What happens to a matched record's fields (semantics: Matching). */
export type MatchedRecordOption = 'update' | 'fill-empty' | 'skip';

export interface ObjectMapping {
  /**
   * The entry's key under `objects` in ferry.yaml when it differs from `source` (undefined: the key is the
   * source name, or the mapping was built in code). It names the mapping in the ledger when several
   * mappings read one source object (see ledgerKeys in engine/plan.ts).
   */
  key?: string;
  source: string;
  target: string;
  fields: FieldMapping[];
  matchKeys: MatchKey[];
  matched: MatchedRecordOption;
  /** Source duplicates: link all to one target record, or create each. */
  duplicates: 'merge' | 'separate';
  /** Several target candidates: hold back (listed as failed `ambiguous_match`) or create. */
  ambiguous: 'hold' | 'create';
  /** Only link to existing target records, never create (typical for owners/users). */
  matchOnly: boolean;
  /** Source id -> target id links set by hand (e.g. the owner map). */
  links: Record<string, string>;
  /**
   * Row filter (`where:` in ferry.yaml): source field -> accepted values. The mapping takes a record only
   * when every field holds one of its values (trimmed, case-insensitive; `""` accepts an empty value).
   * Undefined: every record. See docs/concepts.md, "Routing records".
   */
  where?: Record<string, string[]>;
}

export interface ProjectFile {
  version: 1;
  source: ConnectionConfig;
  target: ConnectionConfig;
  /** Ledger location: a SQLite path (default `.ferry/state.db`) or a postgres:// URL. */
  state?: string;
  /** Zone used to read date-times that carry none (default UTC). */
  sourceTimeZone: string;
  /**
   * BCP-47 locale of numbers written as text in the source (`de-DE`: `1.234,56`). None (the default): `.` is
   * the decimal point and grouped forms that could mean two things are refused.
   */
  sourceLocale?: string;
  objects: ObjectMapping[];
  options: {
    demoSampleSize: number;
    pageSize: number;
    lookbackMs?: number;
    /** Largest file copied, in bytes (default 100 MB, and never above the target's own limit). */
    maxFileBytes?: number;
    /** `false`: copy no files (default: copy them wherever the source lists files and the target takes them). */
    attachments?: boolean;
  };
}
