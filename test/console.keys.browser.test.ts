/// <reference lib="dom" />
/**
 * The console's sign-in and org API key pages in a real browser (Chromium) against a real server, on every
 * database: the first-user form, sign-in failures, the keys list (paging, search), create with the private
 * key shown once, the access-list step, edit, delete, RBAC, CSRF, session expiry, and sign-out on one node
 * ending the session on another. axe-core finds no serious or critical violation on any page.
 */
import type { Page } from 'playwright-core';
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
import { type Creds, digest } from './support/client.js';
import { DIALECTS } from './support/dialects.js';
import { startTestServer, type TestServer } from './support/server.js';

type Json = Record<string, unknown>;

if (!HAVE_BROWSER) announceMissingBrowser('console keys');

describe.runIf(HAVE_BROWSER)('console in a browser: sign-in and API keys', () => {
  const suite = browserSuite();

  describe.each(DIALECTS)('on %s', (dialect) => {
    let s: TestServer;
    let offset = 0;
    let admin: Creds;
    let orgId: string;
    const api = (method: string, path: string, body?: unknown) =>
      digest(admin, method, `${s.base}${path}`, body === undefined ? {} : { body });

    beforeAll(async () => {
      s = await startTestServer({ dialect, consoleDir: suite.built.dir, clock: () => Date.now() + offset });
    });
    afterAll(async () => s?.close());

    it('offers the first-user form while no user exists, then signs that user in', async () => {
      const { context, page, errors } = await newPage(suite.browser);
      await page.goto(`${s.origin}/console/`);
      await poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Create the first user');
      expect(await axeViolations(page)).toEqual([]);
      await page.getByLabel('Username').fill(ADMIN.username);
      await page.getByLabel('Password').fill(ADMIN.password);
      await page.getByLabel('First name').fill('Ada');
      await page.getByLabel('Last name').fill('Admin');
      await page.getByRole('button', { name: 'Create user and sign in' }).click();
      await page.getByRole('button', { name: 'Sign out' }).waitFor();
      expect(await page.textContent('header')).toContain(ADMIN.username);
      expect(errors).toEqual([]);
      await context.close();
      // The console showed no programmatic key: the test's own digest key is made with the user's session.
      const made = await fetch(`${s.origin}/console/api/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(ADMIN),
      });
      const cookie = made.headers.get('set-cookie')!.split(';')[0]!;
      const csrf = ((await made.json()) as Json).csrfToken as string;
      const key = await fetch(`${s.base}/admin/apiKeys`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie, 'x-csrf-token': csrf },
        body: JSON.stringify({ desc: 'test harness', roles: ['GLOBAL_OWNER'] }),
      });
      expect(key.status).toBe(200);
      admin = (await key.json()) as Creds;
      orgId = ((await api('POST', '/orgs', { name: 'Browser Org' })).json as Json).id as string;
    });

    it('shows why a sign-in failed, next to the form, and the lock-out after 5 failures', async () => {
      const { context, page } = await newPage(suite.browser);
      await page.goto(`${s.origin}/console/`);
      await page.getByLabel('Username').fill('locked@example.com');
      for (let i = 0; i < 5; i++) {
        await page.getByLabel('Password').fill(`wrong-${i}`);
        await page.getByRole('button', { name: 'Sign in' }).click();
        await expect
          .poll(() => page.getByRole('alert').textContent())
          .toBe('The username or password is incorrect.');
        await page.getByRole('button', { name: 'Sign in' }).and(page.locator(':enabled')).waitFor();
      }
      // The lock lasts 1 s, then 2, 4…: on a slow machine the next attempt may come after it ended, so
      // try until the lock is met (each failure doubles it).
      const alert = page.getByRole('alert');
      for (let i = 0; i < 6; i++) {
        await page.getByLabel('Password').fill(`wrong-again-${i}`);
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.getByRole('button', { name: 'Sign in' }).and(page.locator(':enabled')).waitFor();
        if ((await alert.textContent())?.startsWith('Too many')) break;
      }
      expect(await alert.textContent()).toMatch(
        /^Too many failed sign-ins for this username; try again in \d+ seconds\.$/,
      );
      expect(await axeViolations(page)).toEqual([]);
      await context.close();
    });

    it('lists the org keys with human role names, pages them on the server and searches them', async () => {
      for (let batch = 0; batch < 55; batch += 11)
        await Promise.all(
          Array.from({ length: 11 }, (_, j) => batch + j).map((i) =>
            api('POST', `/orgs/${orgId}/apiKeys`, {
              desc: i === 7 ? 'Nightly backup job' : `Service ${String(i).padStart(2, '0')}`,
              roles: i === 7 ? ['ORG_OWNER'] : ['ORG_MEMBER'],
            }),
          ),
        );
      const { context, page, errors } = await newPage(suite.browser);
      await signIn(page, s.origin, ADMIN.username, ADMIN.password);
      await page.goto(`${s.origin}/console/#/orgs/${orgId}/keys`);
      const rows = page.getByTestId('keys-table').locator('tbody tr');
      await poll(() => rows.count()).toBe(50);
      expect(await page.getByText('Page 1 of 2 (55 in all)').count()).toBe(1);
      expect(await page.getByTestId('keys-table').textContent()).toContain('Organization Member');
      await page.getByRole('button', { name: 'Next' }).click();
      await poll(() => rows.count()).toBe(5);
      await page.getByLabel('Search by description or public key').fill('nightly');
      await poll(() => rows.count()).toBe(1);
      expect(await rows.first().textContent()).toContain('Organization Owner');
      expect(await page.getByText('Page 1 of 1 (1 in all)').count()).toBe(1);
      expect(await axeViolations(page)).toEqual([]);
      expect(errors).toEqual([]);
      await context.close();
    });

    it('creates a key: the private key shown once with a copy button, then the access-list step', async () => {
      const { context, page, errors } = await newPage(suite.browser);
      await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: s.origin });
      await signIn(page, s.origin, ADMIN.username, ADMIN.password);
      await page.goto(`${s.origin}/console/#/orgs/${orgId}/keys`);
      await page.getByRole('link', { name: 'Create API key' }).click();
      await page.getByLabel('Description').fill('Deploy pipeline');
      await page.getByLabel('Organization Member').check();
      await page.getByLabel('Organization Read Only').check();
      await page.getByRole('button', { name: 'Create API key' }).click();
      const privateKey = await page.getByLabel('Private key', { exact: true }).inputValue();
      expect(privateKey).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(await page.getByRole('note').textContent()).toContain(
        'The private key will not be displayed again',
      );
      await page.getByRole('button', { name: 'Copy' }).click();
      await page.getByText('Copied.').waitFor();
      expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(privateKey);
      expect(await axeViolations(page)).toEqual([]);
      const publicKey = (await page.getByTestId('public-key').textContent())!;

      // The access-list step: the server tells the browser its address.
      await page.getByRole('button', { name: /Use my current address/ }).click();
      expect(await page.getByLabel('IP address or CIDR block (IPv4 or IPv6)').inputValue()).toBe('127.0.0.1');
      await page.getByRole('button', { name: 'Add to access list' }).click();
      await page.getByRole('cell', { name: '127.0.0.1' }).waitFor();

      // The key works as shown (its access list admits this address).
      const own = await digest({ publicKey, privateKey }, 'GET', `${s.base}/orgs/${orgId}`);
      expect(own.status).toBe(200);

      await page.getByRole('link', { name: /I have saved the private key/ }).click();
      await page.getByRole('heading', { name: `API key ${publicKey}` }).waitFor();
      // Never again: not on the key's page, not in storage, not in the URL or the history.
      const tail = privateKey.slice(-12);
      await poll(() => page.textContent('main')).toContain(`********-****-****-${tail}`);
      expect(await page.content()).not.toContain(privateKey);
      const stored = await page.evaluate(() =>
        JSON.stringify([{ ...localStorage }, { ...sessionStorage }, location.href, document.cookie]),
      );
      expect(stored).not.toContain(privateKey);
      await page.goBack();
      await page.waitForLoadState();
      expect(await page.content()).not.toContain(privateKey);
      expect(page.url()).not.toContain(privateKey);
      expect(errors).toEqual([]);
      await context.close();
    });

    it('edits a key, manages its access list (IPv4, IPv6, bad input shown) and deletes it after asking', async () => {
      const key = (
        await api('POST', `/orgs/${orgId}/apiKeys`, { desc: 'To be edited', roles: ['ORG_MEMBER'] })
      ).json as Json;
      const { context, page, errors } = await newPage(suite.browser);
      await signIn(page, s.origin, ADMIN.username, ADMIN.password);
      await page.goto(`${s.origin}/console/#/orgs/${orgId}/keys/${key.id}`);
      await page.getByLabel('Description').fill('Edited in the console');
      await page.getByLabel('Organization Member').uncheck();
      await page.getByLabel('Organization Project Creator').check();
      await page.getByRole('button', { name: 'Save changes' }).click();
      await page.getByText('Saved.').waitFor();
      const after = (await api('GET', `/orgs/${orgId}/apiKeys/${key.id}`)).json as Json;
      expect(after).toMatchObject({
        desc: 'Edited in the console',
        roles: [{ orgId, roleName: 'ORG_GROUP_CREATOR' }],
      });

      // An API error is shown as its detail, next to the form, and nothing is added.
      const input = page.getByLabel('IP address or CIDR block (IPv4 or IPv6)');
      await input.fill('not-an-address');
      await page.getByRole('button', { name: 'Add to access list' }).click();
      await poll(() => page.locator('#acl-error').textContent()).toBe(
        'Invalid attribute ipAddress specified.',
      );
      for (const entry of ['203.0.113.0/24', '2001:db8::/32']) {
        await input.fill(entry);
        await page.getByRole('button', { name: 'Add to access list' }).click();
        await page.getByRole('cell', { name: entry }).waitFor();
      }
      const list = (await api('GET', `/orgs/${orgId}/apiKeys/${key.id}/accessList`)).json as Json;
      expect(list.totalCount).toBe(2);
      expect(await axeViolations(page)).toEqual([]);
      await page
        .getByRole('row', { name: /203\.0\.113\.0\/24/ })
        .getByRole('button', { name: 'Remove' })
        .click();
      await page.getByRole('button', { name: 'Yes, remove' }).click();
      await poll(() => page.getByRole('cell', { name: '203.0.113.0/24' }).count()).toBe(0);
      expect(
        ((await api('GET', `/orgs/${orgId}/apiKeys/${key.id}/accessList`)).json as Json).totalCount,
      ).toBe(1);

      await page.getByRole('button', { name: 'Delete', exact: true }).click();
      await page.getByRole('button', { name: 'Cancel' }).click();
      expect((await api('GET', `/orgs/${orgId}/apiKeys/${key.id}`)).status).toBe(200);
      await page.getByRole('button', { name: 'Delete', exact: true }).click();
      await page.getByRole('button', { name: 'Yes, delete' }).click();
      await page.getByRole('heading', { name: 'API keys' }).waitFor();
      expect((await api('GET', `/orgs/${orgId}/apiKeys/${key.id}`)).status).toBe(404);
      expect(errors).toEqual([]);
      await context.close();
    });

    it('shows an ORG_READ_ONLY user no write control, and the API refuses the write anyway', async () => {
      await api('POST', '/users', {
        username: 'reader@example.com',
        password: 'Reader-Pass-123',
        firstName: 'Rita',
        lastName: 'Reader',
        roles: [{ orgId, roleName: 'ORG_READ_ONLY' }],
      });
      const key = (await api('POST', `/orgs/${orgId}/apiKeys`, { desc: 'Read me', roles: ['ORG_MEMBER'] }))
        .json as Json;
      const { context, page } = await newPage(suite.browser);
      await signIn(page, s.origin, 'reader@example.com', 'Reader-Pass-123');
      await page.goto(`${s.origin}/console/#/orgs/${orgId}/keys`);
      await page.getByTestId('keys-table').waitFor();
      expect(await page.getByRole('link', { name: 'Create API key' }).count()).toBe(0);
      await page.goto(`${s.origin}/console/#/orgs/${orgId}/keys/${key.id}`);
      await page.getByRole('heading', { name: /API key/ }).waitFor();
      expect(await page.getByRole('button', { name: 'Save changes' }).count()).toBe(0);
      expect(await page.getByRole('button', { name: 'Delete' }).count()).toBe(0);
      expect(await page.getByRole('button', { name: 'Add to access list' }).count()).toBe(0);
      expect(await axeViolations(page)).toEqual([]);
      // The same write, sent by the page with its session and CSRF token: refused by the API.
      const res = await page.evaluate(async (url) => {
        const session = (await (await fetch('/console/api/session')).json()) as { csrfToken: string };
        const r = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-csrf-token': session.csrfToken },
          body: JSON.stringify({ desc: 'sneaky', roles: ['ORG_OWNER'] }),
        });
        return { status: r.status, body: await r.json() };
      }, `/api/public/v1.0/orgs/${orgId}/apiKeys`);
      expect(res).toMatchObject({ status: 401, body: { errorCode: 'USER_UNAUTHORIZED' } });
      await context.close();
    });

    it('refuses a change sent with the session cookie but without the CSRF token', async () => {
      const { context, page } = await newPage(suite.browser);
      await signIn(page, s.origin, ADMIN.username, ADMIN.password);
      const res = await page.evaluate(async (url) => {
        const r = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ desc: 'forged', roles: ['ORG_OWNER'] }),
        });
        return { status: r.status, body: await r.json() };
      }, `/api/public/v1.0/orgs/${orgId}/apiKeys`);
      expect(res).toMatchObject({
        status: 403,
        body: {
          errorCode: 'CONSOLE_CSRF_TOKEN_INVALID',
          detail: "A change made with a console session needs the session's X-CSRF-Token header.",
        },
      });
      const found = (await api('GET', `/orgs/${orgId}/apiKeys?search=forged`)).json as Json;
      expect(found.totalCount).toBe(0);
      // The cookie is HttpOnly: the page's script cannot read it.
      expect(await page.evaluate(() => document.cookie)).toBe('');
      await context.close();
    });

    it('sends the user back to sign-in when the session has been idle too long', async () => {
      const { context, page } = await newPage(suite.browser);
      await signIn(page, s.origin, ADMIN.username, ADMIN.password);
      await page.goto(`${s.origin}/console/#/orgs/${orgId}/keys`);
      // Requests already sent when the session ends get the digest challenge (docs/console.md).
      await keysSettled(page);
      offset += 12 * 3600_000 + 60_000;
      await page.getByLabel('Per page').selectOption('20');
      await page.getByRole('heading', { name: 'Sign in to pakman' }).waitFor();
      await context.close();
    });

    it('ends the session on node B when the user signs out on node A', { timeout: 60_000 }, async () => {
      const b = await startTestServer({
        dialect,
        databaseUrl: s.databaseUrl,
        consoleDir: suite.built.dir,
        clock: () => Date.now() + offset,
      });
      const { context, page } = await newPage(suite.browser);
      try {
        await signIn(page, s.origin, ADMIN.username, ADMIN.password);
        // Cookies belong to the host, not the port: node B on the same address receives the same cookie.
        const other: Page = await context.newPage();
        await other.goto(`${b.origin}/console/#/orgs/${orgId}/keys`);
        await keysSettled(other);
        await keysSettled(page);
        await page.getByRole('button', { name: 'Sign out' }).click();
        await page.getByRole('heading', { name: 'Sign in to pakman' }).waitFor();
        // Node B learns it from the database: its next API call finds no session, and it shows sign-in.
        const res = await other.evaluate(
          async () => (await (await fetch('/console/api/session')).json()).signedIn,
        );
        expect(res).toBe(false);
        await other.getByLabel('Per page').selectOption('20');
        await other.getByRole('heading', { name: 'Sign in to pakman' }).waitFor();
      } finally {
        await context.close();
        await b.close();
      }
    });

    it('is usable at 390 px wide: no page-wide horizontal scroll, controls reachable', async () => {
      const { context, page } = await newPage(suite.browser, 390);
      await signIn(page, s.origin, ADMIN.username, ADMIN.password);
      await page.goto(`${s.origin}/console/#/orgs/${orgId}/keys`);
      await page.getByTestId('keys-table').waitFor();
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow).toBeLessThanOrEqual(0);
      // Keyboard: Tab reaches the skip link first, then the header controls.
      await page.keyboard.press('Tab');
      expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
      expect(await axeViolations(page)).toEqual([]);
      await context.close();
    });
  });
});
