/// <reference lib="dom" />
/**
 * The console's other pages in a real browser against a real server, on every database: projects (create,
 * delete), a project's keys (assign an org key with project roles, change roles, unassign, create a project
 * key shown once), global keys and the global access list, users (create, change roles), org and project
 * events with type and date filters. axe-core finds no serious or critical violation on any of them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN,
  announceMissingBrowser,
  axeViolations,
  browserSuite,
  HAVE_BROWSER,
  newPage,
  poll,
  signIn,
} from './browser/harness.js';
import { bootstrap, type Creds, digest } from './support/client.js';
import { DIALECTS } from './support/dialects.js';
import { startTestServer, type TestServer } from './support/server.js';

type Json = Record<string, unknown>;

if (!HAVE_BROWSER) announceMissingBrowser('console pages');

describe.runIf(HAVE_BROWSER)('console in a browser: projects, global, users, events', () => {
  const suite = browserSuite();

  describe.each(DIALECTS)('on %s', (dialect) => {
    let s: TestServer;
    let admin: Creds;
    let orgId: string;
    const api = (method: string, path: string, body?: unknown) =>
      digest(admin, method, `${s.base}${path}`, body === undefined ? {} : { body });

    beforeAll(async () => {
      s = await startTestServer({ dialect, consoleDir: suite.built.dir });
      admin = await bootstrap(s.base);
      orgId = ((await api('POST', '/orgs', { name: 'Pages Org' })).json as Json).id as string;
    });
    afterAll(async () => s?.close());

    it('creates and deletes projects', async () => {
      const { context, page, errors } = await newPage(suite.browser);
      await signIn(page, s.origin, ADMIN.username, ADMIN.password);
      await page.getByRole('link', { name: 'Projects' }).click();
      await page.getByLabel('New project name').fill('Alpha');
      await page.getByRole('button', { name: 'Create project' }).click();
      await page.getByRole('link', { name: 'Alpha' }).waitFor();
      await page.getByLabel('New project name').fill('Alpha');
      await page.getByRole('button', { name: 'Create project' }).click();
      await poll(() => page.getByRole('alert').textContent()).toBe(
        'A group with name "Alpha" already exists.',
      );
      await page.getByLabel('New project name').fill('Doomed');
      await page.getByRole('button', { name: 'Create project' }).click();
      await page.getByRole('link', { name: 'Doomed' }).waitFor();
      expect(await axeViolations(page)).toEqual([]);
      await page
        .getByRole('row', { name: /Doomed/ })
        .getByRole('button', { name: 'Delete' })
        .click();
      await page.getByRole('button', { name: 'Yes, delete' }).click();
      await poll(() => page.getByRole('link', { name: 'Doomed' }).count()).toBe(0);
      const names = ((await api('GET', `/orgs/${orgId}/groups`)).json as { results: Json[] }).results.map(
        (p) => p.name,
      );
      expect(names).toEqual(['Alpha']);
      expect(errors).toEqual([]);
      await context.close();
    });

    it("manages a project's keys: assign with roles, change roles, unassign, create a project key", async () => {
      const project = (await api('POST', '/groups', { name: 'Keys Project', orgId })).json as Json;
      const orgKey = (
        await api('POST', `/orgs/${orgId}/apiKeys`, { desc: 'Assignable key', roles: ['ORG_MEMBER'] })
      ).json as Json;
      const { context, page, errors } = await newPage(suite.browser);
      await signIn(page, s.origin, ADMIN.username, ADMIN.password);
      await page.goto(`${s.origin}/console/#/projects/${project.id}`);
      await page.getByRole('heading', { name: 'Project Keys Project' }).waitFor();
      await page.getByLabel('Find a key by description or public key').fill('assignable');
      await poll(() => page.getByLabel('Key', { exact: true }).locator('option').count()).toBe(2);
      await page.getByLabel('Key', { exact: true }).selectOption(orgKey.id as string);
      await page.getByLabel('Project Read Only').check();
      await page.getByRole('button', { name: 'Assign key' }).click();
      const table = page.getByTestId('project-keys-table');
      await poll(() => table.textContent()).toContain('Project Read Only');
      expect(await axeViolations(page)).toEqual([]);

      await table.getByRole('button', { name: 'Change roles' }).click();
      await table.getByLabel('Project Read Only').uncheck();
      await table.getByLabel('Project Owner').check();
      await table.getByRole('button', { name: 'Save roles' }).click();
      await table.getByRole('button', { name: 'Change roles' }).waitFor();
      await poll(() => table.locator('tbody tr td:nth-child(3)').textContent()).toBe('Project Owner');
      const assigned = (await api('GET', `/groups/${project.id}/apiKeys`)).json as { results: ApiKeyJson[] };
      expect(assigned.results[0]!.roles.filter((r) => r.groupId)).toEqual([
        { groupId: project.id, roleName: 'GROUP_OWNER' },
      ]);

      await table.getByRole('button', { name: 'Unassign' }).click();
      await page.getByRole('button', { name: 'Yes, unassign' }).click();
      await page.getByText('No keys in this project yet.').waitFor();
      expect(((await api('GET', `/groups/${project.id}/apiKeys`)).json as Json).totalCount).toBe(0);

      await page.getByRole('button', { name: 'Create a project key' }).click();
      const form = page.getByRole('region', { name: 'Create a project key' });
      await form.getByLabel('Description', { exact: true }).fill('Project-only key');
      await form.getByLabel('Project Data Access Read Only').check();
      await form.getByRole('button', { name: 'Create API key' }).click();
      const privateKey = await page.getByLabel('Private key', { exact: true }).inputValue();
      expect(privateKey).toMatch(/^[0-9a-f-]{36}$/);
      await page.getByRole('button', { name: /I have saved the private key/ }).click();
      await poll(() => page.getByTestId('project-keys-table').textContent()).toContain('Project-only key');
      expect(await page.content()).not.toContain(privateKey);
      expect(errors).toEqual([]);
      await context.close();
    });

    it('manages global keys and the global access list', async () => {
      const { context, page, errors } = await newPage(suite.browser);
      await signIn(page, s.origin, ADMIN.username, ADMIN.password);
      await page.getByRole('link', { name: 'Global' }).click();
      await page.getByRole('heading', { name: 'Global API keys' }).waitFor();
      await page.getByRole('button', { name: 'Create a global key' }).click();
      await page.getByLabel('Description', { exact: true }).fill('Monitoring robot');
      await page.getByLabel('Global Read Only').check();
      await page.getByRole('button', { name: 'Create API key' }).click();
      const privateKey = await page.getByLabel('Private key', { exact: true }).inputValue();
      expect(privateKey).toMatch(/^[0-9a-f-]{36}$/);
      await page.getByRole('button', { name: /I have saved the private key/ }).click();
      await poll(() => page.getByTestId('global-keys-table').textContent()).toContain('Global Read Only');

      await page.getByLabel('CIDR block').fill('10.0.0.0/8');
      await page.getByLabel('Block description').fill('Office');
      await page.getByRole('button', { name: 'Add block' }).click();
      await page.getByRole('cell', { name: '10.0.0.0/8' }).waitFor();
      await page.getByLabel('CIDR block').fill('10.0.0.0/8');
      await page.getByLabel('Block description').fill('Again');
      await page.getByRole('button', { name: 'Add block' }).click();
      await poll(() => page.getByRole('alert').textContent()).toContain(
        '10.0.0.0/8 is already on the global access list',
      );
      expect(await axeViolations(page)).toEqual([]);
      await page
        .getByRole('row', { name: /Office/ })
        .getByRole('button', { name: 'Remove' })
        .click();
      await page.getByRole('button', { name: 'Yes, remove' }).click();
      await poll(() => page.getByRole('cell', { name: '10.0.0.0/8' }).count()).toBe(0);
      expect(((await api('GET', '/admin/accessList')).json as Json).totalCount).toBe(0);
      await page
        .getByRole('row', { name: /Monitoring robot/ })
        .getByRole('button', { name: 'Delete' })
        .click();
      await page.getByRole('button', { name: 'Yes, delete' }).click();
      await poll(() => page.getByText('Monitoring robot').count()).toBe(0);
      expect(errors).toEqual([]);
      await context.close();
    });

    it("creates a user with roles in the org and changes the user's roles", async () => {
      const { context, page, errors } = await newPage(suite.browser);
      await signIn(page, s.origin, ADMIN.username, ADMIN.password);
      await page.goto(`${s.origin}/console/#/orgs/${orgId}/users`);
      await page.getByRole('heading', { name: 'Users' }).waitFor();
      await page.getByLabel('Username').fill('grace@example.com');
      await page.getByLabel('Password').fill('Grace-Hopper-1906');
      await page.getByLabel('First name').fill('Grace');
      await page.getByLabel('Last name').fill('Hopper');
      await page.getByRole('button', { name: 'Create user' }).click();
      const row = page.getByRole('row', { name: /grace@example\.com/ });
      await poll(() => row.textContent()).toContain('Organization Member');
      expect(await axeViolations(page)).toEqual([]);
      await row.getByRole('button', { name: 'Change roles' }).click();
      await row.getByLabel('Organization Read Only').check();
      await row.getByLabel('Organization Member').uncheck();
      await row.getByRole('button', { name: 'Save roles' }).click();
      const saved = page.getByRole('row', { name: /grace@example\.com/ });
      await saved.getByRole('button', { name: 'Change roles' }).waitFor();
      await poll(() => saved.locator('td:nth-child(3)').textContent()).toBe('Organization Read Only');
      const user = (await api('GET', '/users/byName/grace@example.com')).json as { roles: Json[] };
      expect(user.roles).toEqual([{ orgId, roleName: 'ORG_READ_ONLY' }]);
      expect(errors).toEqual([]);
      await context.close();
    });

    it('shows org and project events, filtered by type and date', async () => {
      const project = (await api('POST', '/groups', { name: 'Events Project', orgId })).json as Json;
      await api('POST', `/groups/${project.id}/apiKeys`, { desc: 'Event maker', roles: ['GROUP_READ_ONLY'] });
      const { context, page, errors } = await newPage(suite.browser);
      await signIn(page, s.origin, ADMIN.username, ADMIN.password);
      await page.goto(`${s.origin}/console/#/orgs/${orgId}/events`);
      const table = page.getByTestId('events-table');
      await poll(() => table.textContent()).toContain('GROUP_CREATED');
      await page.getByLabel('Type').selectOption('API_KEY_CREATED');
      await page.getByRole('button', { name: 'Filter' }).click();
      await poll(async () => {
        const types = await table.locator('tbody tr td:nth-child(2)').allTextContents();
        return types.length > 0 && types.every((t) => t === 'API_KEY_CREATED');
      }).toBe(true);
      // A day before anything happened as the upper bound: nothing matches.
      await page.getByLabel('To').fill('2020-01-01');
      await page.getByRole('button', { name: 'Filter' }).click();
      await page.getByText('No events match.').waitFor();
      expect(await axeViolations(page)).toEqual([]);
      await page.goto(`${s.origin}/console/#/projects/${project.id}/events`);
      await page.getByRole('heading', { name: 'Project events' }).waitFor();
      await poll(() => page.getByTestId('events-table').textContent()).toContain('API_KEY_ADDED_TO_GROUP');
      expect(errors).toEqual([]);
      await context.close();
    });
  });
});

interface ApiKeyJson {
  roles: { groupId?: string; orgId?: string; roleName: string }[];
}
