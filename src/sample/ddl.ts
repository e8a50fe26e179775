import type { SourceTable, TargetTable } from './constants.js';

/** SOURCE schema ("legacy CRM"), SQLite: timestamps as naive text. */
export const SOURCE_SQLITE_DDL: Record<SourceTable, string> = {
  owners: `CREATE TABLE owners (
    id INTEGER PRIMARY KEY, email TEXT UNIQUE, first_name TEXT, last_name TEXT, created_at TEXT, updated_at TEXT)`,
  companies: `CREATE TABLE companies (
    id INTEGER PRIMARY KEY, name TEXT, domain TEXT, phone TEXT, industry TEXT,
    parent_company_id INTEGER REFERENCES companies(id), owner_id INTEGER REFERENCES owners(id),
    annual_revenue NUMERIC, created_at TEXT, updated_at TEXT)`,
  contacts: `CREATE TABLE contacts (
    id INTEGER PRIMARY KEY, first_name TEXT, last_name TEXT, email TEXT, phone TEXT, job_title TEXT,
    company_id INTEGER REFERENCES companies(id), owner_id INTEGER REFERENCES owners(id), birthday TEXT,
    lifecycle_stage TEXT, created_at TEXT, updated_at TEXT)`,
  deals: `CREATE TABLE deals (
    id INTEGER PRIMARY KEY, name TEXT, amount NUMERIC, currency TEXT, stage TEXT, close_date TEXT,
    company_id INTEGER REFERENCES companies(id), owner_id INTEGER REFERENCES owners(id), created_at TEXT, updated_at TEXT)`,
  deal_contacts: `CREATE TABLE deal_contacts (
    deal_id INTEGER NOT NULL REFERENCES deals(id), contact_id INTEGER NOT NULL REFERENCES contacts(id),
    PRIMARY KEY (deal_id, contact_id))`,
  notes: `CREATE TABLE notes (
    id INTEGER PRIMARY KEY, body TEXT, company_id INTEGER REFERENCES companies(id), contact_id INTEGER REFERENCES contacts(id),
    deal_id INTEGER REFERENCES deals(id), owner_id INTEGER REFERENCES owners(id), created_at TEXT, updated_at TEXT)`,
  tasks: `CREATE TABLE tasks (
    id INTEGER PRIMARY KEY, subject TEXT, status TEXT, due_date TEXT, company_id INTEGER REFERENCES companies(id),
    contact_id INTEGER REFERENCES contacts(id), deal_id INTEGER REFERENCES deals(id), owner_id INTEGER REFERENCES owners(id),
    created_at TEXT, updated_at TEXT)`,
  activities: `CREATE TABLE activities (
    id INTEGER PRIMARY KEY, type TEXT, subject TEXT, body TEXT, direction TEXT, duration_minutes INTEGER, outcome TEXT,
    activity_date TEXT, end_time TEXT, company_id INTEGER REFERENCES companies(id), contact_id INTEGER REFERENCES contacts(id),
    deal_id INTEGER REFERENCES deals(id), owner_id INTEGER REFERENCES owners(id), created_at TEXT, updated_at TEXT)`,
};

/** SOURCE schema, PostgreSQL: created_at/updated_at are `timestamp without time zone` (naive, on purpose). */
export const SOURCE_POSTGRES_DDL: Record<SourceTable, string> = {
  owners: `CREATE TABLE owners (
    id integer PRIMARY KEY, email text UNIQUE, first_name text, last_name text,
    created_at timestamp without time zone, updated_at timestamp without time zone)`,
  companies: `CREATE TABLE companies (
    id integer PRIMARY KEY, name text, domain text, phone text, industry text,
    parent_company_id integer REFERENCES companies(id), owner_id integer REFERENCES owners(id),
    annual_revenue numeric, created_at timestamp without time zone, updated_at timestamp without time zone)`,
  contacts: `CREATE TABLE contacts (
    id integer PRIMARY KEY, first_name text, last_name text, email text, phone text, job_title text,
    company_id integer REFERENCES companies(id), owner_id integer REFERENCES owners(id), birthday date,
    lifecycle_stage text, created_at timestamp without time zone, updated_at timestamp without time zone)`,
  deals: `CREATE TABLE deals (
    id integer PRIMARY KEY, name text, amount numeric, currency text, stage text, close_date date,
    company_id integer REFERENCES companies(id), owner_id integer REFERENCES owners(id),
    created_at timestamp without time zone, updated_at timestamp without time zone)`,
  deal_contacts: `CREATE TABLE deal_contacts (
    deal_id integer NOT NULL REFERENCES deals(id), contact_id integer NOT NULL REFERENCES contacts(id),
    PRIMARY KEY (deal_id, contact_id))`,
  notes: `CREATE TABLE notes (
    id integer PRIMARY KEY, body text, company_id integer REFERENCES companies(id), contact_id integer REFERENCES contacts(id),
    deal_id integer REFERENCES deals(id), owner_id integer REFERENCES owners(id),
    created_at timestamp without time zone, updated_at timestamp without time zone)`,
  tasks: `CREATE TABLE tasks (
    id integer PRIMARY KEY, subject text, status text, due_date timestamp without time zone,
    company_id integer REFERENCES companies(id), contact_id integer REFERENCES contacts(id), deal_id integer REFERENCES deals(id),
    owner_id integer REFERENCES owners(id), created_at timestamp without time zone, updated_at timestamp without time zone)`,
  activities: `CREATE TABLE activities (
    id integer PRIMARY KEY, type text, subject text, body text, direction text, duration_minutes integer, outcome text,
    activity_date timestamp without time zone, end_time timestamp without time zone,
    company_id integer REFERENCES companies(id), contact_id integer REFERENCES contacts(id), deal_id integer REFERENCES deals(id),
    owner_id integer REFERENCES owners(id), created_at timestamp without time zone, updated_at timestamp without time zone)`,
};

const STAGE_CHECK = `CHECK (dealstage IN ('appointmentscheduled','qualifiedtobuy','presentationscheduled','contractsent','closedwon','closedlost'))`;
const STATUS_CHECK = `CHECK (status IN ('NOT_STARTED','COMPLETED'))`;

/** TARGET schema ("new CRM"), SQLite: timestamps as ISO UTC text. */
export const TARGET_SQLITE_DDL: Record<TargetTable, string> = {
  users: `CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT, email TEXT UNIQUE NOT NULL, name TEXT, created_at TEXT, updated_at TEXT)`,
  companies: `CREATE TABLE companies (
    id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, domain TEXT, phone TEXT, industry TEXT,
    parent_id INTEGER REFERENCES companies(id), owner_id INTEGER REFERENCES users(id), annual_revenue NUMERIC,
    created_at TEXT, updated_at TEXT)`,
  contacts: `CREATE TABLE contacts (
    id INTEGER PRIMARY KEY AUTOINCREMENT, firstname TEXT, lastname TEXT, email TEXT, phone TEXT, jobtitle TEXT,
    company_id INTEGER REFERENCES companies(id), owner_id INTEGER REFERENCES users(id), date_of_birth TEXT,
    lifecycle_stage TEXT, created_at TEXT, updated_at TEXT)`,
  deals: `CREATE TABLE deals (
    id INTEGER PRIMARY KEY AUTOINCREMENT, dealname TEXT NOT NULL, amount NUMERIC, currency TEXT,
    dealstage TEXT NOT NULL ${STAGE_CHECK}, closedate TEXT,
    company_id INTEGER REFERENCES companies(id), owner_id INTEGER REFERENCES users(id), created_at TEXT, updated_at TEXT)`,
  deal_contacts: `CREATE TABLE deal_contacts (
    deal_id INTEGER NOT NULL REFERENCES deals(id), contact_id INTEGER NOT NULL REFERENCES contacts(id),
    PRIMARY KEY (deal_id, contact_id))`,
  notes: `CREATE TABLE notes (
    id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT, company_id INTEGER REFERENCES companies(id),
    contact_id INTEGER REFERENCES contacts(id), deal_id INTEGER REFERENCES deals(id), owner_id INTEGER REFERENCES users(id),
    created_at TEXT, updated_at TEXT)`,
  tasks: `CREATE TABLE tasks (
    id INTEGER PRIMARY KEY AUTOINCREMENT, subject TEXT NOT NULL, status TEXT ${STATUS_CHECK}, due_at TEXT,
    company_id INTEGER REFERENCES companies(id), contact_id INTEGER REFERENCES contacts(id), deal_id INTEGER REFERENCES deals(id),
    owner_id INTEGER REFERENCES users(id), created_at TEXT, updated_at TEXT)`,
};

/** TARGET schema, PostgreSQL: timestamptz, identity ids. */
export const TARGET_POSTGRES_DDL: Record<TargetTable, string> = {
  users: `CREATE TABLE users (
    id integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, email text UNIQUE NOT NULL, name text,
    created_at timestamptz, updated_at timestamptz)`,
  companies: `CREATE TABLE companies (
    id integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, name text NOT NULL, domain text, phone text, industry text,
    parent_id integer REFERENCES companies(id), owner_id integer REFERENCES users(id), annual_revenue numeric,
    created_at timestamptz, updated_at timestamptz)`,
  contacts: `CREATE TABLE contacts (
    id integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, firstname text, lastname text, email text, phone text,
    jobtitle text, company_id integer REFERENCES companies(id), owner_id integer REFERENCES users(id), date_of_birth date,
    lifecycle_stage text, created_at timestamptz, updated_at timestamptz)`,
  deals: `CREATE TABLE deals (
    id integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, dealname text NOT NULL, amount numeric, currency text,
    dealstage text NOT NULL ${STAGE_CHECK}, closedate date,
    company_id integer REFERENCES companies(id), owner_id integer REFERENCES users(id),
    created_at timestamptz, updated_at timestamptz)`,
  deal_contacts: `CREATE TABLE deal_contacts (
    deal_id integer NOT NULL REFERENCES deals(id), contact_id integer NOT NULL REFERENCES contacts(id),
    PRIMARY KEY (deal_id, contact_id))`,
  notes: `CREATE TABLE notes (
    id integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, body text, company_id integer REFERENCES companies(id),
    contact_id integer REFERENCES contacts(id), deal_id integer REFERENCES deals(id), owner_id integer REFERENCES users(id),
    created_at timestamptz, updated_at timestamptz)`,
  tasks: `CREATE TABLE tasks (
    id integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, subject text NOT NULL, status text ${STATUS_CHECK},
    due_at timestamptz, company_id integer REFERENCES companies(id), contact_id integer REFERENCES contacts(id),
    deal_id integer REFERENCES deals(id), owner_id integer REFERENCES users(id), created_at timestamptz, updated_at timestamptz)`,
};
