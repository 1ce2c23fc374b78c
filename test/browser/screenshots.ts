/**
 * `npm run console:screenshots`: takes the screenshots of docs/console.md (docs/console/*.png) with the
 * browser-test harness, and measures the keys page (docs/benchmarks.md, "Console"): time from navigation to
 * the table rendered for a 500-key and a 100,000-key org on loopback, a search in the latter, and the
 * first-load gzipped JavaScript. Reports, asserts nothing. SQLite, seeded by bench/seed.ts.
 */
import { mkdirSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { createBenchDatabase } from '../../bench/seed.js';
import { bootstrap, type Creds, digest } from '../support/client.js';
import { startTestServer } from '../support/server.js';
import { ADMIN, buildConsole, HAVE_BROWSER, keysSettled, launch, newPage, signIn } from './harness.js';

if (!HAVE_BROWSER) {
  process.stderr.write('console:screenshots needs /usr/bin/chromium (apt-get install -y chromium)\n');
  process.exit(1);
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const iso = (ms: number) => `${new Date(ms).toISOString().slice(0, 19)}Z`;
const out = new URL('../../docs/console/', import.meta.url).pathname;
mkdirSync(out, { recursive: true });

/**
 * A working day's traffic of one key over the last 24 hours and lighter days before, sent with the server's
 * clock moved back to each hour (usage is counted at the clock of the request), then the clock put back.
 */
async function seedUsage(creds: Creds, url: string): Promise<void> {
  const send = async (hoursAgo: number, n: number) => {
    offset = -hoursAgo * HOUR_MS;
    for (let i = 0; i < n; i++) await digest(creds, 'GET', url);
  };
  // In time order, as real traffic comes (an access-list entry keeps the latest request it was told of).
  for (let d = 29; d >= 2; d--) await send(d * 24 + 5, d % 7 < 2 ? 3 : 12 + (d % 5) * 4);
  for (let h = 23; h >= 0; h--) await send(h, 2 + Math.round(6 * Math.abs(Math.sin((h + 3) / 4))));
  offset = 0;
  // Written in batches: wait for the last one.
  await new Promise((r) => setTimeout(r, 500));
}

const built = await buildConsole();
const db = await createBenchDatabase('sqlite', '', [500, 100_000], 1000);
/** The server's clock: moved back while the pictures' org is seeded, so its usage has a history. */
let offset = 0;
const s = await startTestServer({
  databaseUrl: db.url,
  consoleDir: built.dir,
  clock: () => Date.now() + offset,
  usageFlushMs: 100,
});
const browser = await launch();
try {
  const admin = await bootstrap(s.base);
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await digest(admin, method, `${s.base}${path}`, body === undefined ? {} : { body });
    if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
    return res.json as Record<string, unknown>;
  };
  const org500 = db.layout.sized.find((o) => o.keys === 500)!.orgId;
  const org100k = db.layout.sized.find((o) => o.keys === 100_000)!.orgId;

  // A small, realistic org for the pictures.
  const org = (await api('POST', '/orgs', { name: 'Acme Corp' })).id as string;
  const descs: [string, string[]][] = [
    ['CI deploy pipeline', ['ORG_MEMBER']],
    ['Terraform provider', ['ORG_OWNER']],
    ['Nightly backup job', ['ORG_READ_ONLY']],
    ['Monitoring agent', ['ORG_READ_ONLY']],
    ['Project bootstrapper', ['ORG_GROUP_CREATOR', 'ORG_MEMBER']],
  ];
  const keys = [];
  for (const [desc, roles] of descs) keys.push(await api('POST', `/orgs/${org}/apiKeys`, { desc, roles }));
  await api('POST', `/orgs/${org}/apiKeys/${keys[0]!.id}/accessList`, [
    { cidrBlock: '10.20.0.0/16' },
    { ipAddress: '127.0.0.1' },
  ]);
  await seedUsage(
    { publicKey: keys[0]!.publicKey as string, privateKey: keys[0]!.privateKey as string },
    `${s.base}/orgs/${org}`,
  );
  // One key that expired an hour ago (made two hours back), one that expires in 30 days, then a cap.
  offset = -2 * HOUR_MS;
  await api('POST', `/orgs/${org}/apiKeys`, {
    desc: 'Old migration script',
    roles: ['ORG_MEMBER'],
    expiresAt: iso(Date.now() - HOUR_MS),
  });
  offset = 0;
  await api('PATCH', `/orgs/${org}/apiKeys/${keys[2]!.id}`, { expiresAt: iso(Date.now() + 30 * DAY_MS) });
  await api('PATCH', `/orgs/${org}/apiKeyPolicy`, { maxKeyLifetimeSeconds: 90 * 86_400 });
  const project = (await api('POST', '/groups', { name: 'payments-prod', orgId: org })).id as string;
  await api('POST', '/groups', { name: 'payments-staging', orgId: org });
  await api('PATCH', `/groups/${project}/apiKeys/${keys[1]!.id}`, { roles: ['GROUP_OWNER'] });
  await api('POST', `/groups/${project}/apiKeys`, {
    desc: 'Payments service',
    roles: ['GROUP_DATA_ACCESS_READ_WRITE'],
  });
  await api('POST', '/users', {
    username: 'grace@example.com',
    password: 'Grace-Hopper-1906',
    firstName: 'Grace',
    lastName: 'Hopper',
    roles: [{ orgId: org, roleName: 'ORG_OWNER' }],
  });
  // The caller's own address first: a global access list that would shut out the caller is refused.
  await api('POST', '/admin/accessList', { cidrBlock: '127.0.0.1/32', description: 'This machine' });
  await api('POST', '/admin/accessList', { cidrBlock: '10.0.0.0/8', description: 'Corporate network' });

  // Measurements: a signed-in browser goes to the keys page; usable = the table's rows are on screen.
  const { page } = await newPage(browser);
  await signIn(page, s.origin, ADMIN.username, ADMIN.password);
  const timeTo = async (url: string, ready: (p: Page) => Promise<unknown>): Promise<number> => {
    await page.goto('about:blank');
    const t0 = performance.now();
    await page.goto(url);
    await ready(page);
    return performance.now() - t0;
  };
  const rows = (n: number) => (p: Page) =>
    p.waitForFunction(
      (k) => document.querySelectorAll('[data-testid="keys-table"] tbody tr').length === k,
      n,
    );
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const runs = async (label: string, url: string, ready: (p: Page) => Promise<unknown>) => {
    await timeTo(url, ready); // warm-up
    const xs: number[] = [];
    for (let i = 0; i < 7; i++) xs.push(await timeTo(url, ready));
    process.stdout.write(
      `${label}: median ${median(xs).toFixed(0)} ms (min ${Math.min(...xs).toFixed(0)}, max ${Math.max(...xs).toFixed(0)})\n`,
    );
  };
  process.stdout.write(`first-load JS, gzipped: ${(built.firstLoadJsGzip / 1024).toFixed(1)} kB\n`);
  await runs('keys page, 500-key org, 50 rows', `${s.origin}/console/#/orgs/${org500}/keys`, rows(50));
  await runs('keys page, 100,000-key org, 50 rows', `${s.origin}/console/#/orgs/${org100k}/keys`, rows(50));
  const searchUrl = `${s.origin}/console/#/orgs/${org100k}/keys`;
  const searchXs: number[] = [];
  for (let i = 0; i < 5; i++) {
    await page.goto('about:blank');
    await page.goto(searchUrl);
    await rows(50)(page);
    const t0 = performance.now();
    await page.getByLabel('Search by description or public key').fill('aaab');
    await page.waitForFunction(() => {
      const pager = document.querySelector('.pager span')?.textContent ?? '';
      return /\(\d+ in all\)/.test(pager) && !pager.includes('(100000 in all)');
    });
    searchXs.push(performance.now() - t0 - 250); // minus the typing debounce
  }
  process.stdout.write(
    `search in the 100,000-key org (after the 250 ms debounce): median ${median(searchXs).toFixed(0)} ms\n`,
  );

  const shot = async (name: string, width = 1280) => {
    await page.setViewportSize({ width, height: 800 });
    await page.screenshot({ path: `${out}${name}.png`, fullPage: true });
    process.stdout.write(`docs/console/${name}.png\n`);
  };
  await page.goto(`${s.origin}/console/#/orgs/${org}/keys`);
  await keysSettled(page);
  await shot('keys');
  await shot('keys-390', 390);
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.getByRole('link', { name: 'Create API key' }).click();
  await page.getByLabel('Description', { exact: true }).fill('Release automation');
  await page.getByLabel('Organization Member').check();
  await shot('create-key');
  await page.getByRole('button', { name: 'Create API key' }).click();
  await page.getByLabel('Private key', { exact: true }).waitFor();
  await shot('show-once');
  await page.goto(`${s.origin}/console/#/orgs/${org}/keys/${keys[0]!.id}`);
  await page.getByRole('cell', { name: '127.0.0.1', exact: true }).first().waitFor();
  await page.getByTestId('usage-chart').waitFor();
  await shot('key');
  await shot('key-390', 390);
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.getByRole('button', { name: 'Daily, last 30 days' }).click();
  await page.getByRole('img', { name: /^Requests per day/ }).waitFor();
  await page.getByRole('region', { name: 'Usage' }).screenshot({ path: `${out}usage-daily.png` });
  process.stdout.write('docs/console/usage-daily.png\n');
  await page.getByLabel('Grace period').selectOption({ label: '1 day' });
  await page.getByRole('button', { name: 'Rotate private key' }).click();
  await page.getByRole('button', { name: 'Yes, rotate private key' }).click();
  await page.getByTestId('grace-end').waitFor();
  await shot('rotated');
  await page.goto(`${s.origin}/console/#/orgs/${org}/projects`);
  await page.getByRole('link', { name: 'payments-prod' }).waitFor();
  await shot('projects');
  await page.goto(`${s.origin}/console/#/projects/${project}`);
  await page.getByTestId('project-keys-table').waitFor();
  await shot('project');
  await page.goto(`${s.origin}/console/#/admin`);
  await page.getByTestId('global-keys-table').waitFor();
  await page.getByTestId('global-acl-table').waitFor();
  await shot('global');
  await page.goto(`${s.origin}/console/#/orgs/${org}/users`);
  await page.getByTestId('users-table').waitFor();
  await shot('users');
  await page.goto(`${s.origin}/console/#/orgs/${org}/events`);
  await page.getByTestId('events-table').waitFor();
  await shot('events');
  const fresh = await newPage(browser);
  await fresh.page.goto(`${s.origin}/console/`);
  await fresh.page.getByRole('heading', { name: 'Sign in to pakman' }).waitFor();
  page.setViewportSize({ width: 1280, height: 800 });
  await fresh.page.screenshot({ path: `${out}sign-in.png` });
  process.stdout.write('docs/console/sign-in.png\n');
} finally {
  await browser.close();
  await s.close();
  await db.drop();
  built.remove();
}
