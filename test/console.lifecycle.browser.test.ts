/// <reference lib="dom" />
/**
 * The console's key-lifecycle views (issue 16) in a real browser against a real server, on every database,
 * on a clock the test moves forward: expiry in the keys tables and "Expired" once it has passed; the org's
 * key policy and a key's expiry set and cleared, with the API's detail beside the field; rotation, the new
 * private key shown once while the old one works through its grace period; the last use and the usage
 * chart after requests the test made; what an ORG_READ_ONLY user sees. axe-core finds no serious or
 * critical violation; the key page works at 390 px.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN,
  announceMissingBrowser,
  axeViolations,
  browserSuite,
  HAVE_BROWSER,
  keysSettled,
  newPage,
  poll,
  signIn,
} from './browser/harness.js';
import { bootstrap, type Creds, digest } from './support/client.js';
import { DIALECTS } from './support/dialects.js';
import { startTestServer, type TestServer } from './support/server.js';

interface WireKey extends Creds {
  id: string;
  expiresAt?: string;
}
type Json = Record<string, unknown>;

const DAY_MS = 86_400_000;
/** ISO-8601 UTC to the second, as the API takes and answers times. */
const iso = (ms: number) => `${new Date(ms).toISOString().slice(0, 19)}Z`;
/** A time as the console prints it. */
const shown = (t: string) => t.replace('T', ' ').replace('Z', ' UTC');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

if (!HAVE_BROWSER) announceMissingBrowser('console key lifecycle');

describe.runIf(HAVE_BROWSER)('console in a browser: key lifecycle', () => {
  const suite = browserSuite();

  describe.each(DIALECTS)('on %s', (dialect) => {
    let s: TestServer;
    let offset = 0;
    /** The server's clock: the test moves it forward to pass an expiry or a grace period. */
    const now = () => Date.now() + offset;
    let admin: Creds;
    let orgId: string;
    const api = (method: string, path: string, body?: unknown) =>
      digest(admin, method, `${s.base}${path}`, body === undefined ? {} : { body });
    const newKey = async (body: Json): Promise<WireKey> => {
      const res = await api('POST', `/orgs/${orgId}/apiKeys`, { roles: ['ORG_MEMBER'], ...body });
      expect(res.status, res.text).toBe(200);
      return res.json as WireKey;
    };
    const probe = async (k: Creds) => (await digest(k, 'GET', `${s.base}/orgs/${orgId}`)).status;
    /** A signed-in page at a console route. */
    const open = async (route: string, opts: { width?: number; user?: typeof ADMIN } = {}) => {
      const opened = await newPage(suite.browser, opts.width);
      const user = opts.user ?? ADMIN;
      await signIn(opened.page, s.origin, user.username, user.password);
      await opened.page.goto(`${s.origin}/console/#${route}`);
      return opened;
    };

    beforeAll(async () => {
      s = await startTestServer({ dialect, consoleDir: suite.built.dir, clock: now, usageFlushMs: 100 });
      admin = await bootstrap(s.base);
      orgId = ((await api('POST', '/orgs', { name: 'Lifecycle Org' })).json as Json).id as string;
    });
    afterAll(async () => s?.close());

    it('shows each key\'s expiry in the keys tables, and "Expired" once it has passed', async () => {
      const later = iso(now() + 10 * DAY_MS);
      const soon = iso(now() + 120_000);
      await newKey({ desc: 'Lasting key', expiresAt: later });
      const brief = await newKey({ desc: 'Brief key', expiresAt: soon });
      await newKey({ desc: 'Forever key' });
      const project = (await api('POST', '/groups', { name: 'Expiry Project', orgId })).json as Json;
      await api('PATCH', `/groups/${project.id}/apiKeys/${brief.id}`, { roles: ['GROUP_READ_ONLY'] });
      await api('POST', '/admin/apiKeys', {
        desc: 'Expiring global key',
        roles: ['GLOBAL_READ_ONLY'],
        expiresAt: later,
      });

      const { context, page, errors } = await open(`/orgs/${orgId}/keys`);
      await keysSettled(page);
      const expires = (desc: string) =>
        page.getByRole('row', { name: new RegExp(desc) }).locator('td:nth-child(4)');
      expect(await page.getByRole('columnheader').nth(3).textContent()).toBe('Expires');
      expect(await expires('Lasting key').textContent()).toBe(shown(later));
      expect(await expires('Brief key').textContent()).toBe(shown(soon));
      expect(await expires('Forever key').textContent()).toBe('never');

      offset += 180_000;
      expect(await probe(brief)).toBe(401);
      await page.reload();
      await keysSettled(page);
      expect(await expires('Brief key').textContent()).toBe(`Expired ${shown(soon)}`);
      expect(await expires('Lasting key').textContent()).toBe(shown(later));
      expect(await axeViolations(page)).toEqual([]);

      await page.goto(`${s.origin}/console/#/projects/${project.id}`);
      await poll(() => page.getByTestId('project-keys-table').textContent()).toContain(
        `Expired ${shown(soon)}`,
      );
      await page.goto(`${s.origin}/console/#/admin`);
      await poll(() =>
        page
          .getByRole('row', { name: /Expiring global key/ })
          .locator('td:nth-child(4)')
          .textContent(),
      ).toBe(shown(later));
      expect(errors).toEqual([]);
      await context.close();
    });

    it("sets the org's key policy, then a key's expiry within it and clears both, each API detail beside its field", async () => {
      const key = await newKey({ desc: 'Expiry edited' });
      const { context, page, errors } = await open(`/orgs/${orgId}/keys`);
      const policy = page.getByTestId('key-policy');
      await poll(() => policy.textContent()).toBe(
        'No cap on key lifetimes: a key expires only when given an expiry.',
      );
      // Half a minute is below the API's minimum: its detail is shown, and nothing changes.
      await page.getByLabel('Maximum key lifetime').fill('0.5');
      await page.getByLabel('Unit').selectOption({ label: 'minutes' });
      await page.getByRole('button', { name: 'Save policy' }).click();
      await poll(() => page.locator('#policy-error').textContent()).toMatch(/maxKeyLifetimeSeconds/);
      const unchanged = await api('GET', `/orgs/${orgId}/apiKeyPolicy`);
      expect((unchanged.json as Json).maxKeyLifetimeSeconds).toBeNull();
      await page.getByLabel('Maximum key lifetime').fill('30');
      await page.getByLabel('Unit').selectOption({ label: 'days' });
      await page.getByRole('button', { name: 'Save policy' }).click();
      await poll(() => policy.textContent()).toContain('Keys live at most 30 days');
      expect((await api('GET', `/orgs/${orgId}/apiKeyPolicy`)).json).toEqual({
        maxKeyLifetimeSeconds: 2_592_000,
        orgId,
      });
      expect(await axeViolations(page)).toEqual([]);

      await page.goto(`${s.origin}/console/#/orgs/${orgId}/keys/${key.id}`);
      await poll(() => page.locator('#expiry-hint').textContent()).toContain(
        "The organization's key policy: keys live at most 30 days",
      );
      expect(await page.getByTestId('key-expiry').textContent()).toBe('never');
      const field = page.getByLabel('Expires at (UTC)');
      const error = page.locator('#expiry-error');
      await field.fill(iso(now() + 60 * DAY_MS).slice(0, 16));
      await page.getByRole('button', { name: 'Set expiry' }).click();
      await poll(() => error.textContent()).toBe(
        "Invalid attribute expiresAt: the organization's API keys may live at most 2592000 seconds.",
      );
      await field.fill(iso(now() - DAY_MS).slice(0, 16));
      await page.getByRole('button', { name: 'Set expiry' }).click();
      await poll(() => error.textContent()).toBe('Invalid attribute expiresAt specified.');
      expect(((await api('GET', `/orgs/${orgId}/apiKeys/${key.id}`)).json as Json).expiresAt).toBeUndefined();

      const chosen = `${iso(now() + 10 * DAY_MS).slice(0, 16)}:00Z`;
      await field.fill(chosen.slice(0, 16));
      await page.getByRole('button', { name: 'Set expiry' }).click();
      await page.getByText('Expiry saved.').waitFor();
      await poll(() => page.getByTestId('key-expiry').textContent()).toBe(shown(chosen));
      expect(((await api('GET', `/orgs/${orgId}/apiKeys/${key.id}`)).json as Json).expiresAt).toBe(chosen);
      // Under a cap every key keeps an expiry: no control to remove it.
      expect(await page.getByRole('button', { name: 'Remove expiry' }).count()).toBe(0);
      expect(await axeViolations(page)).toEqual([]);

      await page.goto(`${s.origin}/console/#/orgs/${orgId}/keys`);
      await page.getByRole('button', { name: 'Remove cap' }).click();
      await poll(() => policy.textContent()).toMatch(/^No cap/);
      await page.goto(`${s.origin}/console/#/orgs/${orgId}/keys/${key.id}`);
      await page.getByRole('button', { name: 'Remove expiry' }).click();
      await page.getByText('Expiry removed.').waitFor();
      await poll(() => page.getByTestId('key-expiry').textContent()).toBe('never');
      expect(((await api('GET', `/orgs/${orgId}/apiKeys/${key.id}`)).json as Json).expiresAt).toBeUndefined();
      expect(errors).toEqual([]);
      await context.close();
    });

    it('rotates a key: the new private key once, the old one working through the grace, a second rotation refused with the API detail', async () => {
      const key = await newKey({ desc: 'Rotated key' });
      const { context, page, errors } = await open(`/orgs/${orgId}/keys/${key.id}`);
      await page.getByLabel('Grace period').selectOption({ label: '1 hour' });
      await page.getByRole('button', { name: 'Rotate private key' }).click();
      await page.getByText('Replace the private key? The current one keeps working for 1 hour.').waitFor();
      await page.getByRole('button', { name: 'Yes, rotate private key' }).click();
      const fresh = await page.getByLabel('Private key', { exact: true }).inputValue();
      expect(fresh).toMatch(UUID);
      expect(fresh).not.toBe(key.privateKey);
      expect(await page.getByTestId('public-key').textContent()).toBe(key.publicKey);
      expect(await page.getByRole('note').textContent()).toContain(
        'The private key will not be displayed again',
      );
      const grace = (await page.getByTestId('grace-end').textContent())!;
      const end = /until (\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d) UTC, then stops\.$/.exec(grace);
      expect(end, grace).not.toBeNull();
      expect(Math.abs(Date.parse(`${end![1]}T${end![2]}Z`) - (now() + 3600_000))).toBeLessThan(60_000);
      expect(await axeViolations(page)).toEqual([]);

      // Both private keys work while the grace period lasts.
      const renewed = { publicKey: key.publicKey, privateKey: fresh };
      expect(await probe(key)).toBe(200);
      expect(await probe(renewed)).toBe(200);

      await page.getByRole('button', { name: /I have saved the private key/ }).click();
      await page.getByRole('heading', { name: `API key ${key.publicKey}` }).waitFor();
      await poll(() => page.textContent('main')).toContain(`********-****-****-${fresh.slice(-12)}`);
      expect(await page.content()).not.toContain(fresh);

      await page.getByRole('button', { name: 'Rotate private key' }).click();
      await page.getByRole('button', { name: 'Yes, rotate private key' }).click();
      await poll(() => page.getByRole('alert').textContent()).toMatch(
        new RegExp(
          `^API Key ${key.id} is being rotated; rotate it again once its previous private key expires at `,
        ),
      );
      expect(await probe(renewed)).toBe(200);

      offset += 3601_000;
      expect(await probe(key)).toBe(401);
      expect(await probe(renewed)).toBe(200);
      expect(errors).toEqual([]);
      await context.close();
    });

    it('rotates with no grace period: the old private key is refused at once', async () => {
      const key = await newKey({ desc: 'Rotated at once' });
      const { context, page, errors } = await open(`/orgs/${orgId}/keys/${key.id}`);
      await page.getByLabel('Grace period').selectOption({ label: 'none (at once)' });
      await page.getByRole('button', { name: 'Rotate private key' }).click();
      await page.getByText('Clients using the current one stop working at once.').waitFor();
      await page.getByRole('button', { name: 'Yes, rotate private key' }).click();
      const fresh = await page.getByLabel('Private key', { exact: true }).inputValue();
      expect(await page.getByTestId('grace-end').textContent()).toBe(
        'The previous private key no longer works.',
      );
      expect(await probe(key)).toBe(401);
      expect(await probe({ publicKey: key.publicKey, privateKey: fresh })).toBe(200);
      expect(errors).toEqual([]);
      await context.close();
    });

    it('shows the last use and the usage chart, hourly and daily, after the requests the test made', async () => {
      const key = await newKey({ desc: 'Busy key' });
      const usage = async () =>
        ((await api('GET', `/orgs/${orgId}/apiKeys/${key.id}/usage`)).json as { total: number }).total;
      for (let i = 0; i < 7; i++) expect(await probe(key)).toBe(200);
      // Usage is written in batches (every 100 ms here).
      await poll(usage).toBe(7);

      const { context, page, errors } = await open(`/orgs/${orgId}/keys/${key.id}`);
      await poll(() => page.getByTestId('usage-total').textContent()).toBe('7 in the last 24 hours');
      expect(await page.getByTestId('last-used').textContent()).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:00 UTC$/);
      const chart = page.getByTestId('usage-chart');
      const counts = async () =>
        (await page.getByTestId('usage-table').locator('tbody td:nth-child(2)').allTextContents()).map(
          Number,
        );
      const hourly = await counts();
      expect(hourly).toHaveLength(24);
      expect(hourly.reduce((a, b) => a + b, 0)).toBe(7);
      // One bar per hour with requests (two if an hour turned while the test sent them).
      expect(await chart.locator('rect').count()).toBe(hourly.filter((n) => n > 0).length);
      expect(await chart.getAttribute('aria-label')).toMatch(
        /^Requests per hour, .*: 7 in all, at most \d in one hour\.$/,
      );
      expect(await page.getByRole('img', { name: /Requests per hour/ }).count()).toBe(1);
      expect(await axeViolations(page)).toEqual([]);

      await page.getByRole('button', { name: 'Daily, last 30 days' }).click();
      await poll(() => page.getByTestId('usage-total').textContent()).toBe('7 in the last 30 days');
      expect(
        await page.getByRole('button', { name: 'Daily, last 30 days' }).getAttribute('aria-pressed'),
      ).toBe('true');
      const daily = await counts();
      expect(daily).toHaveLength(30);
      expect(daily.reduce((a, b) => a + b, 0)).toBe(7);
      expect(await chart.getAttribute('aria-label')).toMatch(/^Requests per day, .*: 7 in all/);

      for (let i = 0; i < 3; i++) expect(await probe(key)).toBe(200);
      await poll(usage).toBe(10);
      await page.getByRole('button', { name: 'Refresh' }).click();
      await poll(() => page.getByTestId('usage-total').textContent()).toBe('10 in the last 30 days');
      expect(await axeViolations(page)).toEqual([]);
      expect(errors).toEqual([]);
      await context.close();

      // At 390 px: no page-wide horizontal scroll, the chart within the page.
      const narrow = await open(`/orgs/${orgId}/keys/${key.id}`, { width: 390 });
      await poll(() => narrow.page.getByTestId('usage-total').textContent()).toBe('10 in the last 24 hours');
      const overflow = await narrow.page.evaluate(
        () => document.documentElement.scrollWidth - window.innerWidth,
      );
      expect(overflow).toBeLessThanOrEqual(0);
      const box = await narrow.page.getByTestId('usage-chart').boundingBox();
      expect(box!.x + box!.width).toBeLessThanOrEqual(390);
      expect(await axeViolations(narrow.page)).toEqual([]);
      await narrow.context.close();
    });

    it("gives a global key a page of its own: expiry, rotation and usage, reached from the Global page's table", async () => {
      const made = await api('POST', '/admin/apiKeys', { desc: 'Global robot', roles: ['GLOBAL_READ_ONLY'] });
      const key = made.json as WireKey;
      expect(await probe(key)).toBe(200);
      await poll(
        async () => ((await api('GET', `/admin/apiKeys/${key.id}/usage`)).json as { total: number }).total,
      ).toBe(1);
      const { context, page, errors } = await open('/admin');
      await page.getByRole('link', { name: key.publicKey }).click();
      await page.getByRole('heading', { name: `Global API key ${key.publicKey}` }).waitFor();
      await poll(() => page.getByTestId('usage-total').textContent()).toBe('1 in the last 24 hours');
      // No org, so no policy hint.
      expect(await page.locator('#expiry-hint').textContent()).not.toContain('policy');
      const chosen = `${iso(now() + 3 * DAY_MS).slice(0, 16)}:00Z`;
      await page.getByLabel('Expires at (UTC)').fill(chosen.slice(0, 16));
      await page.getByRole('button', { name: 'Set expiry' }).click();
      await poll(() => page.getByTestId('key-expiry').textContent()).toBe(shown(chosen));
      expect(((await api('GET', `/admin/apiKeys/${key.id}`)).json as Json).expiresAt).toBe(chosen);
      expect(await axeViolations(page)).toEqual([]);
      await page.getByRole('button', { name: 'Rotate private key' }).click();
      await page.getByRole('button', { name: 'Yes, rotate private key' }).click();
      const fresh = await page.getByLabel('Private key', { exact: true }).inputValue();
      expect(await probe({ publicKey: key.publicKey, privateKey: fresh })).toBe(200);
      expect(await probe(key)).toBe(200);
      expect(errors).toEqual([]);
      await context.close();
    });

    it('shows an ORG_READ_ONLY user expiry, policy and usage, but no control to change them', async () => {
      const reader = { username: 'reader@example.com', password: 'Reader-Pass-123' };
      await api('POST', '/users', {
        ...reader,
        firstName: 'Rita',
        lastName: 'Reader',
        roles: [{ orgId, roleName: 'ORG_READ_ONLY' }],
      });
      const later = iso(now() + 5 * DAY_MS);
      const key = await newKey({ desc: 'Read only view', expiresAt: later });
      const { context, page, errors } = await open(`/orgs/${orgId}/keys`, { user: reader });
      await poll(() => page.getByTestId('key-policy').textContent()).toMatch(/^No cap/);
      expect(await page.getByLabel('Maximum key lifetime').count()).toBe(0);
      expect(await page.getByRole('button', { name: 'Save policy' }).count()).toBe(0);
      await page.goto(`${s.origin}/console/#/orgs/${orgId}/keys/${key.id}`);
      await poll(() => page.getByTestId('key-expiry').textContent()).toBe(shown(later));
      await page.getByTestId('usage-total').waitFor();
      expect(await page.getByLabel('Expires at (UTC)').count()).toBe(0);
      expect(await page.getByRole('button', { name: 'Rotate private key' }).count()).toBe(0);
      expect(await axeViolations(page)).toEqual([]);
      expect(errors).toEqual([]);
      await context.close();
    });
  });
});
