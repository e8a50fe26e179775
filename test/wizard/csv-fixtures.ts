/**
 * A small CSV export and a SQLite target for the wizard's CSV tests. The contacts file is `;`-delimited with
 * as many commas as semicolons in its header (column names like "Name, Vorname, Titel"), so detection takes the
 * comma; its id column is "Kundennummer", which no name-based detection takes for an id. Contacts name their
 * owner by name ("Owner": Anna Schmidt / Bob Meyer), as Pipedrive's `Deal - Owner` does.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

export const OWNER_NAMES = ['Anna Schmidt', 'Bob Meyer'] as const;

export function writeTrickyExport(folder: string, contacts = 12): void {
  mkdirSync(folder, { recursive: true });
  const companyRows = ['id;name;domain', '1;Acme GmbH;acme.example', '2;Beta AG;beta.example', '3;Gamma KG;gamma.example'];
  writeFileSync(join(folder, 'companies.csv'), `${companyRows.join('\r\n')}\r\n`);
  const lines = ['Kundennummer;Name, Vorname, Titel;Ort, PLZ, Land, Region, Kreis;email;company_id;Owner;Geändert'];
  for (let i = 1; i <= contacts; i++) {
    lines.push(
      `K-${String(i).padStart(3, '0')};"Person ${i}, Anna, Dr.";"Berlin, 1011${i % 10}, DE, BE, Mitte";anna${i}@example.org;${(i % 3) + 1};${OWNER_NAMES[i % 2]};2024-03-${String((i % 27) + 1).padStart(2, '0')} 10:00:00`,
    );
  }
  writeFileSync(join(folder, 'contacts.csv'), `${lines.join('\r\n')}\r\n`);
}

/**
 * A SQLite target: companies (name NOT NULL), contacts (owner_id refers to users), and users where "Anna
 * Schmidt" is one user and "Bob Meyer" two (so only Anna can be matched by name). `existing` contacts are in
 * the target already (same e-mail).
 */
export function writeTargetDb(path: string, existing: number[] = []): void {
  const db = new Database(path);
  try {
    db.exec(`CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT, email TEXT);
      CREATE TABLE companies (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, domain TEXT);
      CREATE TABLE contacts (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT, email TEXT, company_id INTEGER REFERENCES companies(id), owner_id INTEGER REFERENCES users(id));
      INSERT INTO users (name, email) VALUES ('Anna Schmidt', 'anna.schmidt@new.example'), ('Bob Meyer', 'bob@new.example'), ('Bob Meyer', 'bob.meyer@new.example');`);
    const insert = db.prepare('INSERT INTO contacts (name, email) VALUES (?, ?)');
    for (const i of existing) insert.run(`Person ${i}`, `anna${i}@example.org`);
  } finally {
    db.close();
  }
}
