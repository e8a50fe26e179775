/**
 * Helpers for the wizard's browser tests: build the page, start the real server in-process in a temp folder,
 * drive Debian's Chromium with playwright-core, and wait for page states (never for time).
 */
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { it } from 'vitest';
import { startWizardServer, type WizardServer } from '../../src/wizard/server/index.js';
import { CHROMIUM } from './browser-gate.js';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const SCREENSHOTS = join(ROOT, 'test-results', 'wizard');
/** Generous: two shared cores, other test files running beside this one. */
export const WAIT = 45_000;
/** Per test: a step waits for several page states. */
export const TEST_TIMEOUT = 240_000;

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Builds web/ with its Vite config into a temp folder, so the tests always see the current page. */
export async function buildPage(outDir: string): Promise<void> {
  const { build } = await import('vite');
  await build({
    configFile: join(ROOT, 'web', 'vite.config.ts'),
    mode: 'production',
    // vitest sets NODE_ENV=test; the page is built as it ships (React's production build).
    define: { 'process.env.NODE_ENV': JSON.stringify('production') },
    logLevel: 'warn',
    build: { outDir, emptyOutDir: true },
  });
}

export interface Harness {
  dir: string;
  projectPath: string;
  server: WizardServer;
  context: BrowserContext;
  page: Page;
  /** Errors the page threw or logged. */
  problems: string[];
  close(): Promise<void>;
}

export async function startHarness(): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-wizard-browser-'));
  const uiDir = join(dir, 'ui');
  await buildPage(uiDir);
  const projectDir = join(dir, 'project');
  await mkdir(projectDir);
  const projectPath = join(projectDir, 'ferry.yaml');
  const env: NodeJS.ProcessEnv = { ...process.env, TZ: 'UTC' };
  const server = await startWizardServer({ projectPath, cwd: projectDir, env, port: 0, uiDir });
  const context = await chromium.launchPersistentContext(join(dir, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 800 },
    acceptDownloads: true,
    reducedMotion: 'reduce',
    timezoneId: 'UTC',
    locale: 'en-GB',
  });
  context.setDefaultTimeout(WAIT);
  const page = context.pages()[0] ?? (await context.newPage());
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  await mkdir(SCREENSHOTS, { recursive: true });
  // Screenshots of failures from an earlier run would mislead a reviewer.
  for (const name of await readdir(SCREENSHOTS)) if (name.startsWith('FAILED-')) await rm(join(SCREENSHOTS, name), { force: true });
  return {
    dir,
    projectPath,
    server,
    context,
    page,
    problems,
    close: async () => {
      await context.close().catch(() => undefined);
      await server.close().catch(() => undefined);
      await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    },
  };
}

/** Polls until `read` gives a value `accept` takes; fails with the last value seen. */
/** startHarness, then the page opened through the one-time link (which sets the session cookie), on the Connect step. */
export async function openWizard(): Promise<Harness> {
  const h = await startHarness();
  await h.page.goto(h.server.url);
  await h.page
    .getByRole('heading', { level: 1, name: /Connect your CRMs/ })
    .waitFor()
    .catch((error: unknown) => {
      throw new Error(`${String(error)}\n${h.problems.join('\n')}`);
    });
  return h;
}

/**
 * `it` for one step of a journey through the page; on failure, the server's problems and a screenshot of the
 * page as it was (named after `prefix` and the step).
 */
export function journeyStep(harness: () => Harness, prefix: string) {
  return (name: string, body: () => Promise<void>) =>
    it(
      name,
      async () => {
        const h = harness();
        try {
          await body();
        } catch (error) {
          if (h.problems.length > 0) console.error(h.problems.join('\n'));
          await screenshot(h.page, `${prefix}${name.slice(0, 40).replace(/[^a-z0-9]+/gi, '-')}`).catch(() => undefined);
          throw error;
        }
      },
      TEST_TIMEOUT,
    );
}

export async function waitFor<T>(read: () => Promise<T>, accept: (value: T) => boolean, what: string, timeout = WAIT): Promise<T> {
  const deadline = Date.now() + timeout;
  let last: T | undefined;
  let lastError: unknown;
  for (;;) {
    try {
      last = await read();
      if (accept(last)) return last;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`Timed out waiting for ${what}; last value: ${JSON.stringify(last)}${lastError ? `, last error: ${String(lastError)}` : ''}`);
    }
    await new Promise((resolveWait) => setTimeout(resolveWait, 100));
  }
}

/** The text of a locator once it matches `pattern`. */
export async function textMatching(locator: Locator, pattern: RegExp, what = String(pattern)): Promise<string> {
  return waitFor(
    async () => ((await locator.count()) > 0 ? ((await locator.first().textContent()) ?? '') : ''),
    (text) => pattern.test(text),
    what,
  );
}

/** "1,234" -> 1234 */
export function toNumber(text: string | null): number {
  const digits = (text ?? '').replace(/[^\d-]/g, '');
  if (digits === '') throw new Error(`Not a number: "${text}"`);
  return Number(digits);
}

export async function numberIn(locator: Locator): Promise<number> {
  await locator.first().waitFor({ state: 'visible' });
  return toNumber(await locator.first().textContent());
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** The id of the job panel of `kind` on the page now, if any. */
export async function jobIdShown(page: Page, kind: string): Promise<string | null> {
  const panel = page.locator(`.job-panel[data-job-kind="${kind}"]`);
  return (await panel.count()) > 0 ? panel.first().getAttribute('data-job-id') : null;
}

/**
 * Clicks what starts a job of `kind`, waits for the page to show that new job (another id than before),
 * then until it has ended (or `until` accepts its status); returns the status.
 */
export async function runJob(
  page: Page,
  kind: string,
  start: () => Promise<void>,
  until: (status: string) => boolean = (status) => status === 'finished' || status === 'failed',
): Promise<string> {
  const before = await jobIdShown(page, kind);
  await start();
  const panel = page.locator(`.job-panel[data-job-kind="${kind}"]`);
  await waitFor(() => jobIdShown(page, kind), (id) => id !== null && id !== before, `a new ${kind} job on the page`);
  return waitFor(async () => (await panel.first().getAttribute('data-job-status')) ?? '', until, `the ${kind} job's status`);
}

/**
 * The little of the DOM the tests read inside the page. Functions given to page.evaluate run in the browser; the
 * project's type-check has no DOM library, so they see the page through this type.
 */
interface PageElement {
  tagName: string;
  className: string;
  getBoundingClientRect(): { right: number };
  textContent: string | null;
  closest(selector: string): PageElement | null;
  parentElement: PageElement | null;
  getAttribute(name: string): string | null;
}
interface PageGlobals {
  document: { activeElement: PageElement | null; documentElement: { scrollWidth: number }; querySelectorAll(selector: string): Iterable<PageElement> };
  innerWidth: number;
  getComputedStyle(element: PageElement): { outlineStyle: string; outlineWidth: string };
}

/** Document wider than the window = horizontal scrolling; `offenders` names the elements that stick out. */
export async function horizontalOverflow(page: Page): Promise<{ scrollWidth: number; innerWidth: number; offenders: string[] }> {
  return page.evaluate(() => {
    const g = globalThis as unknown as PageGlobals;
    const offenders: string[] = [];
    for (const element of g.document.querySelectorAll('body *')) {
      if (element.parentElement?.closest('.table-wrap')) continue;
      const right = element.getBoundingClientRect().right;
      if (right > g.innerWidth + 0.5 && offenders.length < 8) {
        offenders.push(`${element.tagName.toLowerCase()}.${element.className} (${Math.round(right)}px): ${(element.textContent ?? '').slice(0, 40)}`);
      }
    }
    if (offenders.length === 0 && g.document.documentElement.scrollWidth > g.innerWidth) {
      const all = [...g.document.querySelectorAll('body *')].map((element) => ({ element, right: element.getBoundingClientRect().right }));
      all.sort((a, b) => b.right - a.right);
      for (const { element, right } of all.slice(0, 6)) {
        offenders.push(`inside a table box: ${element.tagName.toLowerCase()}.${element.className} (${Math.round(right)}px)`);
      }
    }
    return { scrollWidth: g.document.documentElement.scrollWidth, innerWidth: g.innerWidth, offenders };
  });
}

/** What has the keyboard focus: tag, text, visible outline, the aria-label of the nav it is in. */
export async function focused(page: Page): Promise<{ tag: string; text: string; outline: string; nav: string | null }> {
  return page.evaluate(() => {
    const g = globalThis as unknown as PageGlobals;
    const element = g.document.activeElement;
    if (!element) return { tag: '', text: '', outline: 'none', nav: null };
    const style = g.getComputedStyle(element);
    return {
      tag: element.tagName,
      text: (element.textContent ?? '').trim(),
      outline: style.outlineStyle === 'none' || style.outlineWidth === '0px' ? 'none' : style.outlineStyle,
      nav: element.closest('nav')?.getAttribute('aria-label') ?? null,
    };
  });
}

/** Presses Tab until `accept` takes the focused element (at most `max` times). */
export async function tabTo(page: Page, accept: (focus: Awaited<ReturnType<typeof focused>>) => boolean, what: string, max = 40, key = 'Tab'): Promise<void> {
  for (let i = 0; i < max; i++) {
    if (accept(await focused(page))) return;
    await page.keyboard.press(key);
  }
  throw new Error(`${what} never got the focus (pressed ${key} ${max} times; last: ${JSON.stringify(await focused(page))})`);
}

/** Navigates with the step list and waits for the step's heading to have focus. */
export async function goToStep(page: Page, title: string | RegExp, heading: RegExp): Promise<void> {
  await page.getByRole('navigation', { name: 'Steps' }).getByRole('link', { name: title }).click();
  await waitFor(
    () => focused(page),
    (focus) => focus.tag === 'H1' && heading.test(focus.text),
    `focus on the heading ${String(heading)}`,
  );
}
