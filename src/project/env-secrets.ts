import { isMap } from 'yaml';
import type { Document, LineCounter } from 'yaml';
import { FerryError } from '../core/errors.js';
import type { Plain } from './project-schema.js';
import { SECRETS_FILE } from './secrets-file.js';
import { configError, findPair, formatPath, position, walkNodes } from './yaml-errors.js';
import type { PathSegment } from './yaml-errors.js';

/*
 * Secrets in ferry.yaml: literal secrets are refused (they must come from an environment variable or the
 * project's .ferry/secrets.env, see secrets-file.ts), `${VAR}` is substituted on load, and the `${VAR}`
 * text is restored when the project is written back, so a re-serialised file never contains the secret.
 */

const ENV_REF = /\$(\$?)\{([A-Za-z_][A-Za-z0-9_]*)\}/g;
const ONLY_ENV_REF = /^\s*\$\{[A-Za-z_][A-Za-z0-9_]*\}\s*$/;
const SECRET_KEY = /(password|passwd|pwd|token|secret|apikey|privatekey|credentials?)$/;
const URL_PASSWORD = /^[a-z][a-z0-9+.-]*:\/\/[^/?#@:\s]*:([^/?#@\s]*)@/i;

function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key.toLowerCase().replace(/[_\-\s]/g, ''));
}

/** `accessToken` -> `ACCESS_TOKEN`. */
function envName(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/[^A-Za-z0-9]+/g, '_').toUpperCase();
}

/** The variable a message suggests for a secret: named after the side it belongs to. */
function suggestedVariable(section: string, key: string): string {
  if (section === 'state') return 'FERRY_STATE_URL';
  const side = section === 'target' ? 'TARGET' : 'SOURCE';
  return key === 'url' ? `${side}_DATABASE_URL` : `${side}_${envName(key)}`;
}

/**
 * Why a value may not be written as is (a literal secret), or undefined when it is fine. `section` is the
 * top-level key it is under (source, target or state): the suggested variable is named after it.
 */
export function literalSecretProblem(key: string, value: unknown, section = 'source'): string | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  const where = `put it in an environment variable or in ${SECRETS_FILE} beside ferry.yaml (a NAME=value line, mode 600)`;
  if (isSecretKey(key) && (typeof value !== 'string' || !ONLY_ENV_REF.test(value))) {
    return `"${key}" holds a literal secret; secrets must not be written in ferry.yaml: write ${key}: \${${suggestedVariable(section, key)}} and ${where}`;
  }
  if (typeof value === 'string') {
    const match = URL_PASSWORD.exec(value);
    if (match && match[1] !== '' && !ONLY_ENV_REF.test(match[1]!)) {
      return `the connection URL contains a literal password; write ${key}: \${${suggestedVariable(section, key)}} and ${where} (the whole URL, or write only the password as \${...} inside it)`;
    }
  }
  return undefined;
}

/** The message for a `${NAME}` that neither the environment nor the secrets file sets. */
export function missingVariableMessage(name: string): string {
  return (
    `environment variable ${name} is not set (nor in ${SECRETS_FILE}). Set it in the shell (export ${name}=...) ` +
    `or add the line ${name}=... to ${SECRETS_FILE} beside ferry.yaml, readable only by you (chmod 600); ` +
    '`ferry serve` writes that file when you enter a secret in the wizard'
  );
}

/** Resolved value -> the `${VAR}` text it came from, so a re-serialised file never contains the secret. */
const substitutions = new Map<string, string>();

function substitute(text: string, env: NodeJS.ProcessEnv, onMissing: (name: string) => never): string {
  return text.replace(ENV_REF, (_whole, escape: string, name: string) => {
    if (escape) return `\${${name}}`;
    const value = env[name];
    if (value === undefined) onMissing(name);
    return value;
  });
}

/** Refuses literal secrets under source, target and state (the message never repeats the value). */
export function refuseLiteralSecrets(doc: Document, lineCounter: LineCounter, path: string): void {
  if (!isMap(doc.contents)) return;
  const top = doc.contents;
  for (const section of ['source', 'target', 'state']) {
    const pair = findPair(top, section);
    if (!pair) continue;
    walkNodes(pair.value, [section], (scalar, scalarPath) => {
      const key = String(scalarPath[scalarPath.length - 1]);
      const problem = literalSecretProblem(key, scalar.value, section);
      if (problem) throw configError(path, position(doc, lineCounter, scalarPath), scalarPath, problem);
    });
  }
}

/** ${ENV_VAR} substitution in every string value of the document. */
export function substituteEnvironment(doc: Document, lineCounter: LineCounter, path: string, env: NodeJS.ProcessEnv): void {
  walkNodes(doc.contents, [], (scalar, scalarPath) => {
    if (typeof scalar.value !== 'string' || !scalar.value.includes('${')) return;
    const raw = scalar.value;
    const resolved = substitute(raw, env, (name) => {
      throw configError(path, position(doc, lineCounter, scalarPath), scalarPath, missingVariableMessage(name));
    });
    if (resolved !== raw) substitutions.set(resolved, raw);
    scalar.value = resolved;
  });
}

export function restoreSecrets(config: Record<string, unknown>): Record<string, Plain> {
  const out: Record<string, Plain> = {};
  for (const [key, value] of Object.entries(config)) {
    if (value === undefined) continue;
    out[key] = restoreValue(value);
  }
  return out;
}

export function restoreValue(value: unknown): Plain {
  if (typeof value === 'string') return substitutions.get(value) ?? value;
  if (Array.isArray(value)) return value.map(restoreValue);
  if (value !== null && typeof value === 'object') return restoreSecrets(value as Record<string, unknown>);
  return value as Plain;
}

export function assertNoLiteralSecrets(form: Record<string, Plain>): void {
  for (const section of ['source', 'target', 'state']) {
    const check = (key: string, value: Plain | undefined, path: PathSegment[]): void => {
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
        for (const [inner, item] of Object.entries(value)) check(inner, item, [...path, inner]);
        return;
      }
      const problem = literalSecretProblem(key, value, section);
      if (problem) throw new FerryError('CONFIG_INVALID', `cannot write ${formatPath(path)}: ${problem}`, { path: formatPath(path) });
    };
    check(section, form[section], [section]);
  }
}
