#!/usr/bin/env node
/* global process, console, fetch, setTimeout, clearTimeout, URL */
/**
 * Ferry installed outside this clone, as a consultant installs it: packs the repo (`npm pack`, which runs
 * `prepare` = the build), installs the tarball into a fresh temp folder with `npm install`, and runs the
 * installed `ferry` there:
 *
 *   - `ferry --help` and `ferry --version` (the package's own version);
 *   - `ferry demo --json` in an empty folder: the whole story completes and its verify finds nothing
 *     missing, no mismatch and no broken link;
 *   - `ferry serve --port 0` in the demo folder: the one-time link opens the built wizard page (not the
 *     "not built" page) and its script loads; Ctrl-C (SIGINT) stops it with exit code 0;
 *   - `ferry init` in an empty folder writes ferry.yaml, and a second `ferry init` refuses to overwrite it.
 *
 *   node scripts/test-install.mjs [--tarball <file.tgz>] [--keep]
 *
 * --tarball skips packing and installs that file; --keep leaves the temp folder for a look. Exit code 0 when
 * every check passes, 1 otherwise (each failed check is printed). Takes a few minutes: the install compiles
 * better-sqlite3 when no prebuilt binary can be downloaded. Timings are printed, never asserted.
 *
 * The install folder's package.json approves better-sqlite3's install script (`allowScripts`), as a
 * consultant's project must once npm blocks unreviewed install scripts (npm 12; npm 11 only warns).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const args = process.argv.slice(2);
const keep = args.includes('--keep');
const tarballArg = args.includes('--tarball') ? args[args.indexOf('--tarball') + 1] : undefined;
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

const failures = [];
const started = Date.now();
const seconds = (since) => `${((Date.now() - since) / 1000).toFixed(1)} s`;

function check(condition, message) {
  if (condition) console.log(`  ok   ${message}`);
  else {
    console.log(`  FAIL ${message}`);
    failures.push(message);
  }
  return condition;
}

/**
 * Runs a command to its end; never throws. The environment drops npm's per-run variables (an outer
 * `npm run test:install` sets npm_config_* and npm_package_* for this repo), so the install sees only the
 * user's own npm configuration, as a consultant's shell does.
 */
function run(command, commandArgs, cwd, timeoutMs = 120_000) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_(config|package|lifecycle)_/i.test(key)));
  const result = spawnSync(command, commandArgs, { cwd, env, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  return { status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '', error: result.error };
}

function describeFailure(result) {
  const tail = (text) => text.trim().split('\n').slice(-15).join('\n');
  return `exit ${result.status}${result.error ? ` (${result.error.message})` : ''}\n${tail(result.stderr) || tail(result.stdout)}`;
}

const work = mkdtempSync(join(tmpdir(), 'ferry-install-'));
console.log(`Ferry install test in ${work}`);

try {
  // ---- 1. pack -------------------------------------------------------------------------------------------
  let tarball = tarballArg ? resolve(tarballArg) : undefined;
  if (!tarball) {
    const since = Date.now();
    console.log('\n== npm pack (runs prepare: the build)');
    const packDir = join(work, 'pack');
    mkdirSync(packDir);
    const packed = run(NPM, ['pack', '--json', '--pack-destination', packDir], ROOT, 600_000);
    if (!check(packed.status === 0, `npm pack exits 0 (${seconds(since)})`)) throw new Error(describeFailure(packed));
    // npm prints build output before the JSON when prepare runs; the JSON array is the last thing on stdout.
    const info = JSON.parse(packed.stdout.slice(packed.stdout.lastIndexOf('\n[') + 1));
    tarball = join(packDir, info[0].filename);
    const files = info[0].files.map((file) => file.path);
    for (const needed of ['bin/ferry.js', 'dist/cli/main.js', 'dist/wizard/server/index.js', 'dist/wizard-ui/index.html', 'README.md', 'package.json']) {
      check(files.includes(needed), `the tarball holds ${needed}`);
    }
    check(files.some((file) => /^dist\/wizard-ui\/assets\/.+\.js$/.test(file)), 'the tarball holds the built wizard page script (dist/wizard-ui/assets/*.js)');
    const stray = files.filter((file) => /^(src|test|web|scripts|\.ci)\//.test(file) || /\.test\.js$/.test(file) || file.endsWith('.map'));
    check(stray.length === 0, `the tarball holds no sources, tests or source maps${stray.length ? `: ${stray.slice(0, 5).join(', ')}` : ''}`);
    console.log(`  ${files.length} files, ${(info[0].size / 1024).toFixed(0)} kB packed`);
  }

  // ---- 2. install into an empty folder --------------------------------------------------------------------
  const app = join(work, 'app');
  mkdirSync(app);
  writeFileSync(
    join(app, 'package.json'),
    `${JSON.stringify({ name: 'ferry-install-test', private: true, allowScripts: { 'better-sqlite3': true } }, null, 2)}\n`,
  );
  {
    const since = Date.now();
    console.log('\n== npm install <tarball> into an empty folder');
    const installed = run(NPM, ['install', '--no-audit', '--no-fund', tarball], app, 900_000);
    if (!check(installed.status === 0, `npm install exits 0 (${seconds(since)})`)) throw new Error(describeFailure(installed));
  }
  const ferry = join(app, 'node_modules', '.bin', process.platform === 'win32' ? 'ferry.cmd' : 'ferry');
  if (!check(existsSync(ferry), 'node_modules/.bin/ferry exists')) throw new Error('no ferry binary after the install');
  check(!existsSync(join(app, 'node_modules', 'typescript')) && !existsSync(join(app, 'node_modules', 'vitest')), 'no dev dependency was installed');

  // ---- 3. --help, --version -------------------------------------------------------------------------------
  console.log('\n== ferry --help, --version');
  const help = run(ferry, ['--help'], app);
  check(help.status === 0, 'ferry --help exits 0');
  for (const command of ['init', 'map', 'check', 'demo', 'migrate', 'delta', 'verify', 'serve']) {
    check(new RegExp(`^\\s+${command}\\b`, 'm').test(help.stdout), `--help lists \`${command}\``);
  }
  const version = run(ferry, ['--version'], app);
  check(version.status === 0 && version.stdout.trim() === pkg.version, `ferry --version prints ${pkg.version} (got ${JSON.stringify(version.stdout.trim())})`);

  // ---- 4. demo --------------------------------------------------------------------------------------------
  const demoDir = join(work, 'demo');
  mkdirSync(demoDir);
  {
    const since = Date.now();
    console.log('\n== ferry demo --json in an empty folder');
    const demo = run(ferry, ['demo', '--json'], demoDir, 300_000);
    if (check(demo.status === 0, `ferry demo exits 0 (${seconds(since)})`)) {
      const result = JSON.parse(demo.stdout);
      check(result.command === 'demo' && existsSync(join(demoDir, 'ferry-demo', 'ferry.yaml')), 'the demo wrote ./ferry-demo/ferry.yaml');
      for (const step of ['match', 'demo', 'full', 'delta', 'verify']) check(result.steps?.[step] !== undefined, `the demo ran its ${step} step`);
      const objects = Object.entries(result.steps?.verify?.objects ?? {});
      const total = (key) => objects.reduce((sum, [, counts]) => sum + counts[key], 0);
      check(objects.length > 0 && objects.every(([, counts]) => counts.checked > 0), `verify checked every object (${total('checked')} records in ${objects.length} objects)`);
      // The demo's legacy data holds records that fail on purpose (invalid values); verify lists them as not
      // migrated, which is why its overall `ok` is false. Nothing else may be wrong.
      check(total('missing') === 0 && total('mismatched') === 0 && total('brokenReferences') === 0, `verify passes: ${total('missing')} missing, ${total('mismatched')} mismatched, ${total('brokenReferences')} broken links (${total('notMigrated')} records failed on purpose)`);
    } else console.log(describeFailure(demo));
  }

  // ---- 5. serve -------------------------------------------------------------------------------------------
  if (existsSync(join(demoDir, 'ferry-demo', 'ferry.yaml'))) {
    console.log('\n== ferry serve --port 0 in the demo folder');
    await checkServe(ferry, join(demoDir, 'ferry-demo'));
  }

  // ---- 6. init --------------------------------------------------------------------------------------------
  console.log('\n== ferry init in an empty folder');
  const projectDir = join(work, 'project');
  mkdirSync(projectDir);
  const init = run(ferry, ['init'], projectDir);
  const yamlPath = join(projectDir, 'ferry.yaml');
  if (check(init.status === 0 && existsSync(yamlPath), 'ferry init exits 0 and writes ferry.yaml')) {
    const text = readFileSync(yamlPath, 'utf8');
    check(/^source:/m.test(text) && /^target:/m.test(text), 'ferry.yaml has a source and a target section');
    const again = run(ferry, ['init'], projectDir);
    check(again.status !== 0 && readFileSync(yamlPath, 'utf8') === text, 'a second ferry init refuses to overwrite it');
  } else console.log(describeFailure(init));
} catch (error) {
  console.log(`\nStopped: ${error instanceof Error ? error.message : String(error)}`);
  if (failures.length === 0) failures.push('stopped early');
} finally {
  if (keep) console.log(`\nKept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}

console.log(`\n${failures.length === 0 ? 'Install test passed' : `Install test FAILED (${failures.length} checks)`} in ${seconds(started)}.`);
process.exitCode = failures.length === 0 ? 0 : 1;

/** Starts `ferry serve`, opens its one-time link like a browser (cookie kept), loads the page and its script, then stops it. */
async function checkServe(ferry, cwd) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_(config|package|lifecycle)_/i.test(key)));
  const child = spawn(ferry, ['serve', '--port', '0'], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
  const exited = new Promise((resolveExit) => child.on('exit', (code, signal) => resolveExit({ code, signal })));
  try {
    const url = await new Promise((resolveUrl, reject) => {
      const timer = setTimeout(() => reject(new Error(`ferry serve printed no link in 60 s\n${stdout}${stderr}`)), 60_000);
      const look = () => {
        const match = /Open (http:\/\/\S+)/.exec(stdout);
        if (match) {
          clearTimeout(timer);
          resolveUrl(match[1]);
        }
      };
      child.stdout.on('data', look);
      child.on('exit', () => {
        clearTimeout(timer);
        reject(new Error(`ferry serve exited before printing a link\n${stdout}${stderr}`));
      });
    });
    check(true, `ferry serve printed a one-time link (${new URL(url).origin})`);
    // The link exchanges its token for a session cookie; a browser keeps the cookie and follows the redirect.
    let response = await fetch(url, { redirect: 'manual' });
    const cookie = (response.headers.getSetCookie?.() ?? []).map((value) => value.split(';')[0]).join('; ');
    if (response.status >= 300 && response.status < 400) {
      response = await fetch(new URL(response.headers.get('location') ?? '/', url), { headers: { cookie }, redirect: 'manual' });
    }
    const html = await response.text();
    check(response.status === 200 && !html.includes('has not been built'), `the link opens the built wizard page (HTTP ${response.status})`);
    const script = /<script[^>]+src="([^"]+\.js)"/.exec(html)?.[1];
    if (check(script !== undefined, `the page references its script (${script ?? 'none'})`)) {
      const asset = await fetch(new URL(script, response.url || url), { headers: { cookie } });
      const body = await asset.text();
      check(asset.status === 200 && /javascript/.test(asset.headers.get('content-type') ?? '') && body.length > 10_000, `its script loads (HTTP ${asset.status}, ${(body.length / 1024).toFixed(0)} kB)`);
    }
  } catch (error) {
    check(false, error instanceof Error ? error.message : String(error));
  } finally {
    if (child.exitCode === null) child.kill('SIGINT');
    const { code, signal } = await exited;
    check(code === 0, `Ctrl-C stops ferry serve with exit code 0 (got ${code ?? signal})`);
  }
}
