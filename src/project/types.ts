import type { FieldValue } from '../core/schema.js';

/**
 * The validated, in-memory form of `ferry.yaml`. The zod schema in project-file.ts produces exactly this.
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
  | { kind: 'trim' };

export interface FieldMapping {
  /** Source fields read (none for a constant). */
  source: string[];
  /** The one target field written. A split writes two mappings, one per part. */
  target: string;
  transform: FieldTransform;
}

/** What happens to a matched record's fields (semantics: Matching). */
export type MatchedRecordOption = 'update' | 'fill-empty' | 'skip';

export interface ObjectMapping {
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
}

export interface ProjectFile {
  version: 1;
  source: ConnectionConfig;
  target: ConnectionConfig;
  /** Ledger location: a SQLite path (default `.ferry/state.db`) or a postgres:// URL. */
  state?: string;
  /** Zone used to read date-times that carry none (default UTC). */
  sourceTimeZone: string;
  /** BCP-47 locale of numbers and numeric dates the source writes as text (`de-DE`); none by default. */
  sourceLocale?: string;
  objects: ObjectMapping[];
  options: {
    demoSampleSize: number;
    pageSize: number;
    lookbackMs?: number;
  };
}
