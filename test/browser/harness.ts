/// <reference lib="dom" />
/**
 * Browser-test harness: Debian's Chromium (`/usr/bin/chromium`) driven by playwright-core, against real
 * pakman servers on real sockets, with the console built by the same Vite config `npm run build` uses.
 *
 * Without Chromium the browser suites are skipped with a loud message, unless CI or
 * PAKMAN_REQUIRE_BROWSER=1 is set: then they fail.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import axe from 'axe-core';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect } from 'vitest';

/** The first user the browser suites sign in as (made by bootstrap() or the first-user form). */
export const ADMIN = { username: 'admin@example.com', password: 'Correct-Horse-9' };

/** Polls like expect.poll, with room for a loaded machine. */
export const poll = <T>(fn: () => Promise<T> | T) => expect.poll(fn, { timeout: 15_000 });

/** Where Debian puts Chromium (`apt-get install -y chromium`). */
export const CHROMIUM = '/usr/bin/chromium';
/** Whether the browser suites can run here. */
export const HAVE_BROWSER = existsSync(CHROMIUM);
/** Whether a missing browser is a failure (CI) rather than a skip. */
export const REQUIRE_BROWSER = !!process.env.CI || process.env.PAKMAN_REQUIRE_BROWSER === '1';

/** Says loudly that browser suites were skipped (or fails where they are required). */
export function announceMissingBrowser(suite: string): void {
  const message = `${CHROMIUM} is missing: the ${suite} browser tests cannot run (apt-get install -y chromium)`;
  if (REQUIRE_BROWSER) throw new Error(`${message}; CI or PAKMAN_REQUIRE_BROWSER=1 requires them`);
  process.stderr.write(`\n\x1b[41m\x1b[97m SKIPPED \x1b[0m ${message}\n\n`);
}

/** Launches headless Chromium with nothing that talks to the network. */
export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
}

/** A built console in a directory of its own (so parallel suites never share a half-written build). */
export interface BuiltConsole {
  dir: string;
  /** Gzipped size of the JavaScript index.html loads first (bytes). */
  firstLoadJsGzip: number;
  remove(): void;
}

/** Builds the console with console/vite.config.ts into a temporary directory. */
export async function buildConsole(): Promise<BuiltConsole> {
  const { build } = await import('vite');
  const dir = mkdtempSync(join(tmpdir(), 'pakman-console-'));
  await build({
    configFile: new URL('../../console/vite.config.ts', import.meta.url).pathname,
    logLevel: 'error',
    build: { outDir: dir, emptyOutDir: true },
  });
  const html = readFileSync(join(dir, 'index.html'), 'utf8');
  let firstLoadJsGzip = 0;
  for (const m of html.matchAll(/src="\/console\/(assets\/[^"]+\.js)"/g))
    firstLoadJsGzip += gzipSync(readFileSync(join(dir, m[1]!)), { level: 9 }).length;
  expect(readdirSync(join(dir, 'assets')).length).toBeGreaterThan(0);
  return { dir, firstLoadJsGzip, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * A browser suite's shared pieces: the console built and Chromium launched once before the suite's tests
 * (beforeAll), both gone after them. Read the fields inside tests and hooks, not at collection.
 */
export function browserSuite(): { readonly built: BuiltConsole; readonly browser: Browser } {
  const suite = {} as { built: BuiltConsole; browser: Browser };
  beforeAll(async () => {
    [suite.built, suite.browser] = await Promise.all([buildConsole(), launch()]);
  });
  afterAll(async () => {
    await suite.browser?.close();
    suite.built?.remove();
  });
  return suite;
}

/** A fresh browser context (its own cookies) with a page, failing the test on any page error. */
export async function newPage(
  browser: Browser,
  width = 1280,
): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport: { width, height: 900 } });
  // Shorter than a test's timeout, so a missing element fails with its name rather than a bare timeout.
  context.setDefaultTimeout(12_000);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    // A 4xx a test provokes is logged by Chromium as a failed resource; only script errors count.
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) errors.push(m.text());
  });
  return { context, page, errors };
}

/** Runs axe-core on the page; answers the serious and critical violations (none expected). */
export async function axeViolations(page: Page): Promise<string[]> {
  // Evaluated through the DevTools protocol, which the page's CSP (no inline script) does not govern.
  await page.evaluate(axe.source);
  const result = await page.evaluate(async () => {
    const w = window as unknown as {
      axe: {
        run: (
          c: unknown,
          o: unknown,
        ) => Promise<{
          violations: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[];
        }>;
      };
    };
    return w.axe.run(document, { resultTypes: ['violations'] });
  });
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/** Signs in through the form. */
export async function signIn(page: Page, origin: string, username: string, password: string): Promise<void> {
  await page.goto(`${origin}/console/`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

/** Waits until the keys table has read every row's access list (no cell still shows "…"). */
export async function keysSettled(page: Page): Promise<void> {
  const table = page.getByTestId('keys-table');
  await table.waitFor();
  await page.waitForFunction(
    () => !document.querySelector('[data-testid="keys-table"]')?.textContent?.includes('…'),
  );
}
