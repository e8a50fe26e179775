import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Context } from 'hono';

/** The built page: `dist/wizard-ui` in the package (vite builds it there). */
export function defaultUiDir(): string {
  // src/wizard/server/static.ts and dist/wizard/server/static.js are both three levels below the package root.
  return resolve(fileURLToPath(new URL('../../../', import.meta.url)), 'dist', 'wizard-ui');
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Ferry wizard</title></head>
<body><h1>Ferry wizard</h1>
<p>The wizard's page has not been built. Run <code>npm run build</code> in the Ferry folder (it builds the page into
<code>dist/wizard-ui</code>), then start <code>ferry serve</code> again.</p>
<p>The API answers already: see docs/wizard.md.</p></body></html>
`;

/** Files of the built page, with the SPA fallback to index.html; a plain page when it is not built. */
export async function serveStatic(c: Context, uiDir: string): Promise<Response> {
  const index = join(uiDir, 'index.html');
  if (!existsSync(index)) return c.html(NOT_BUILT, 200);
  let path: string;
  try {
    path = decodeURIComponent(c.req.path);
  } catch {
    return c.text('Bad path', 400);
  }
  const root = resolve(uiDir);
  const file = resolve(root, normalize(`.${path}`));
  const inside = file === root || file.startsWith(root + sep);
  let target = index;
  if (inside && file !== root && existsSync(file) && statSync(file).isFile()) target = file;
  else if (extname(path) !== '' && extname(path) !== '.html') return c.text('Not found', 404);
  const body = await readFile(target);
  return c.body(new Uint8Array(body), 200, { 'Content-Type': TYPES[extname(target).toLowerCase()] ?? 'application/octet-stream' });
}
