import { readFile } from 'node:fs/promises';
import { isMap, LineCounter, parseDocument } from 'yaml';
import { FerryError } from '../core/errors.js';
import type { ProjectFile } from './types.js';
import { projectFileYamlSchema } from './project-schema.js';
import { refuseLiteralSecrets, substituteEnvironment } from './env-secrets.js';
import { configError, describeIssue, FormError, position } from './yaml-errors.js';
import { fromYamlForm } from './yaml-form.js';

/*
 * ferry.yaml: loading and parsing (YAML syntax -> literal-secret check -> ${VAR} substitution -> zod
 * validation -> the in-memory ProjectFile of types.ts). The parts live beside this file:
 *   project-schema.ts    the YAML form (zod), its JSON Schema, defaults
 *   yaml-errors.ts       error positions (file:line:column), readable zod issues, "did you mean"
 *   env-secrets.ts       ${VAR} substitution, literal-secret refusal, restoring ${VAR} on write
 *   yaml-form.ts         YAML form -> ProjectFile (the key rule, transforms and their parameters)
 *   serialise.ts         ProjectFile -> YAML (toYamlForm, serialiseProjectFile keeping comments)
 *   validate-mapping.ts  validateMapping (ferry check) against both schemas
 * Callers may keep importing everything from here.
 */

export { DEFAULT_OPTIONS, DEFAULT_STATE, DEFAULT_TIME_ZONE, MATCH_KEY_KINDS, OBJECT_DEFAULTS, projectFileJsonSchema, projectFileYamlSchema, TRANSFORM_KINDS } from './project-schema.js';
export type { ProjectFileYaml } from './project-schema.js';
export { editDistance, formatPath, suggest } from './yaml-errors.js';
export { copyField, objectMapping } from './yaml-form.js';
export { serialiseProjectFile, toYamlForm } from './serialise.js';
export { validateMapping } from './validate-mapping.js';
export type { MappingProblem, MappingProblemCode } from './validate-mapping.js';


/** Reads and validates ferry.yaml. CONFIG_MISSING when the file does not exist, CONFIG_INVALID otherwise. */
export async function loadProjectFile(path: string, env: NodeJS.ProcessEnv = process.env): Promise<ProjectFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new FerryError('CONFIG_MISSING', `${path} not found. Run \`ferry init\` to create a project file here, or name an existing one with the global option --config <file> (e.g. \`ferry --config clients/acme/ferry.yaml check\`).`, { path }, { cause: error });
    }
    throw new FerryError('CONFIG_INVALID', `${path}: cannot be read: ${(error as Error).message}`, { path }, { cause: error });
  }
  return parseProjectFile(text, path, env);
}

export function parseProjectFile(text: string, path = 'ferry.yaml', env: NodeJS.ProcessEnv = process.env): ProjectFile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const yamlError = doc.errors[0];
  if (yamlError) {
    const offset = yamlError.pos[0];
    const { line, col } = lineCounter.linePos(offset);
    const message = yamlError.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    const lineText = text.split(/\r?\n/)[line - 1] ?? '';
    const hint = /\{[^}]*\$\{/.test(lineText) ? ' (a ${VAR} inside { ... } must be quoted: url: "${TARGET_URL}", or use block style)' : '';
    throw new FerryError('CONFIG_INVALID', `${path}:${line}:${col}: YAML syntax error: ${message}${hint}`, { line, column: col, file: path, yamlCode: yamlError.code });
  }
  if (doc.contents === null || !isMap(doc.contents)) {
    throw configError(path, { line: 1, column: 1 }, [], 'expected a mapping with version, source, target and objects');
  }

  // Literal secrets are refused before anything else (the message never repeats the value).
  refuseLiteralSecrets(doc, lineCounter, path);
  substituteEnvironment(doc, lineCounter, path, env);

  const data: unknown = doc.toJS();
  const parsed = projectFileYamlSchema.safeParse(data, { reportInput: true });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => describeIssue(issue, []));
    const located = problems.map((problem) => configError(path, position(doc, lineCounter, problem.path, problem.atKey), problem.path, problem.message));
    const [first, ...rest] = located;
    throw new FerryError('CONFIG_INVALID', [first!.message, ...rest.slice(0, 9).map((error) => error.message)].join('\n'), first!.details);
  }
  try {
    return fromYamlForm(parsed.data);
  } catch (error) {
    if (error instanceof FormError) throw configError(path, position(doc, lineCounter, error.path, error.atKey), error.path, error.message);
    throw error;
  }
}
