/**
 * Privilege escalation (issue 14): the grant rule on every path that grants roles, read both ways —
 * nobody grants a role above their own, nobody changes, strips or deletes a holder of a role they could
 * not grant, nobody raises themselves. Each refusal is 401 USER_UNAUTHORIZED and leaves every key, user,
 * role, project and event as it was; each legitimate grant still works. On every database.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserService } from '../src/server/domain/users.js';
import { bootstrap, type Creds, digest, type TestResponse } from './support/client.js';
import { DIALECTS } from './support/dialects.js';
import { USER_UNAUTHORIZED } from './support/expect.js';
import { startTestServer, type TestServer } from './support/server.js';

type Json = Record<string, unknown>;
interface Key extends Creds {
  id: string;
}
type Signer = Creds | { username: string; password: string };

describe.each(DIALECTS)('privilege escalation (%s)', (dialect) => {
  let s: TestServer;
  let admin: Key & { userId: string };
  let orgId: string;
  let otherOrg: string;
  let p: string;
  let orgOwner: Key;
  let userAdmin: Key;
  let groupOwner: Key;

  const call = (who: Signer, method: string, path: string, body?: unknown) =>
    digest(who, method, `${s.base}${path}`, body === undefined ? {} : { body });
  const json = async <T = Json>(res: Promise<TestResponse>, status = 200): Promise<T> => {
    const r = await res;
    expect(r.status, r.text).toBe(status);
    return r.json as T;
  };
  const projectKey = (by: Signer, group: string, roles: string[]) =>
    json<Key>(call(by, 'POST', `/groups/${group}/apiKeys`, { desc: roles.join(' '), roles }));
  const orgKey = (org: string, roles: string[]) =>
    json<Key>(call(admin, 'POST', `/orgs/${org}/apiKeys`, { desc: roles.join(' '), roles }));
  const project = async (name: string) =>
    (await json<{ id: string }>(call(admin, 'POST', '/groups', { name, orgId }), 201)).id;
  const keyRoles = async (k: Key) =>
    (await json<{ roles: Json[] }>(call(admin, 'GET', `/orgs/${orgId}/apiKeys/${k.id}`))).roles;

  /** Everything a refused request must leave as it was. */
  const snapshot = async () => {
    const db = s.conn.db;
    return {
      keys: await db.selectFrom('api_keys').select(['id', 'description']).orderBy('id').execute(),
      keyRoles: await db
        .selectFrom('api_key_roles')
        .selectAll()
        .orderBy('api_key_id')
        .orderBy('scope_id')
        .orderBy('role_name')
        .execute(),
      users: await db
        .selectFrom('users')
        .select(['id', 'username', 'first_name', 'password_hash'])
        .orderBy('id')
        .execute(),
      userRoles: await db
        .selectFrom('user_roles')
        .selectAll()
        .orderBy('user_id')
        .orderBy('scope_id')
        .orderBy('role_name')
        .execute(),
      personalKeys: await db.selectFrom('user_api_keys').select('id').orderBy('id').execute(),
      projects: await db.selectFrom('projects').select('id').orderBy('id').execute(),
      events: await db.selectFrom('events').select('id').orderBy('id').execute(),
    };
  };
  /** Each request is refused with 401 USER_UNAUTHORIZED and changes nothing. */
  const refused = async (...requests: (() => Promise<TestResponse>)[]) => {
    for (const request of requests) {
      const before = await snapshot();
      const res = await request();
      expect({ status: res.status, body: res.json }).toEqual({ status: 401, body: USER_UNAUTHORIZED });
      expect(await snapshot()).toEqual(before);
    }
  };

  /** A user holding `roles`, signing with a personal API key made as the CLI makes it. */
  const userWith = async (username: string, roles: Json[]) => {
    const made = await json<{ id: string }>(
      call(admin, 'POST', '/users', {
        username,
        password: 'pw-123456',
        firstName: 'U',
        lastName: 'Ser',
        roles,
      }),
      201,
    );
    const service = new UserService({ db: s.conn.db, clock: Date.now });
    const { apiKey } = await service.createPersonalKey({ principal: null, remoteAddress: '' }, username);
    return { id: made.id, signer: { username, password: apiKey } };
  };

  beforeAll(async () => {
    s = await startTestServer({ dialect });
    admin = await bootstrap(s.base);
    orgId = (await json<{ id: string }>(call(admin, 'POST', '/orgs', { name: 'Esc Org' }))).id;
    otherOrg = (await json<{ id: string }>(call(admin, 'POST', '/orgs', { name: 'Other Esc Org' }))).id;
    p = await project('Esc P');
    orgOwner = await orgKey(orgId, ['ORG_OWNER']);
    userAdmin = await projectKey(orgOwner, p, ['GROUP_USER_ADMIN']);
    groupOwner = await projectKey(orgOwner, p, ['GROUP_OWNER']);
  });
  afterAll(async () => s?.close());

  it('a GROUP_USER_ADMIN cannot make itself GROUP_OWNER, nor delete the project', async () => {
    const self = `/groups/${p}/apiKeys/${userAdmin.id}`;
    await refused(
      () => call(userAdmin, 'PATCH', self, { roles: ['GROUP_OWNER'] }),
      () => call(userAdmin, 'PATCH', self, { roles: ['GROUP_USER_ADMIN', 'GROUP_OWNER'] }),
      // Nor any role it does not hold: it grants roles whose powers it lacks.
      () => call(userAdmin, 'PATCH', self, { roles: ['GROUP_USER_ADMIN', 'GROUP_READ_ONLY'] }),
      () => call(userAdmin, 'DELETE', `/groups/${p}`),
    );
    expect(await keyRoles(userAdmin)).toEqual([{ groupId: p, roleName: 'GROUP_USER_ADMIN' }]);
    expect((await call(admin, 'GET', `/groups/${p}`)).status).toBe(200);
  });

  it('a GROUP_USER_ADMIN grants GROUP_OWNER to no key, new or existing', async () => {
    const member = await orgKey(orgId, ['ORG_MEMBER']);
    await refused(
      () => call(userAdmin, 'POST', `/groups/${p}/apiKeys`, { desc: 'x', roles: ['GROUP_OWNER'] }),
      () =>
        call(userAdmin, 'POST', `/groups/${p}/apiKeys`, {
          desc: 'x',
          roles: ['GROUP_READ_ONLY', 'GROUP_OWNER'],
        }),
      () => call(userAdmin, 'PATCH', `/groups/${p}/apiKeys/${member.id}`, { roles: ['GROUP_OWNER'] }),
    );
    expect(await keyRoles(member)).toEqual([{ orgId, roleName: 'ORG_MEMBER' }]);
  });

  it('a GROUP_USER_ADMIN neither changes, strips nor unassigns a key holding GROUP_OWNER', async () => {
    const path = `/groups/${p}/apiKeys/${groupOwner.id}`;
    await refused(
      () => call(userAdmin, 'PATCH', path, { roles: ['GROUP_READ_ONLY'] }),
      () => call(userAdmin, 'PATCH', path, { roles: ['GROUP_OWNER', 'GROUP_READ_ONLY'] }),
      () => call(userAdmin, 'PATCH', path, { roles: ['GROUP_OWNER'] }),
      () => call(userAdmin, 'DELETE', path),
    );
    expect(await keyRoles(groupOwner)).toEqual([{ groupId: p, roleName: 'GROUP_OWNER' }]);
  });

  it('still lets each grant within reach through', async () => {
    // A user admin: every project role but GROUP_OWNER, to new and existing keys, and takes them away.
    const made = await projectKey(userAdmin, p, ['GROUP_READ_ONLY', 'GROUP_DATA_ACCESS_ADMIN']);
    expect(await keyRoles(made)).toEqual([
      { groupId: p, roleName: 'GROUP_DATA_ACCESS_ADMIN' },
      { groupId: p, roleName: 'GROUP_READ_ONLY' },
    ]);
    const member = await orgKey(orgId, ['ORG_MEMBER']);
    const assign = (by: Signer, roles: string[]) =>
      json(call(by, 'PATCH', `/groups/${p}/apiKeys/${member.id}`, { roles }));
    await assign(userAdmin, ['GROUP_USER_ADMIN']);
    await assign(userAdmin, ['GROUP_MONITORING_ADMIN']);
    expect(await keyRoles(member)).toEqual([
      { orgId, roleName: 'ORG_MEMBER' },
      { groupId: p, roleName: 'GROUP_MONITORING_ADMIN' },
    ]);
    await json(call(userAdmin, 'DELETE', `/groups/${p}/apiKeys/${member.id}`), 204);
    // A project owner grants, changes and removes GROUP_OWNER; so do the org's owner and a global owner.
    for (const by of [groupOwner, orgOwner, admin]) {
      await assign(by, ['GROUP_OWNER']);
      expect(await keyRoles(member)).toContainEqual({ groupId: p, roleName: 'GROUP_OWNER' });
      await assign(by, ['GROUP_READ_ONLY']);
      await assign(by, ['GROUP_OWNER']);
      await json(call(by, 'DELETE', `/groups/${p}/apiKeys/${member.id}`), 204);
      expect(await keyRoles(member)).toEqual([{ orgId, roleName: 'ORG_MEMBER' }]);
    }
    const owned = await projectKey(groupOwner, p, ['GROUP_OWNER']);
    expect(await keyRoles(owned)).toEqual([{ groupId: p, roleName: 'GROUP_OWNER' }]);
    // A project owner deletes its project.
    const doomed = await project('Esc Doomed');
    const doomedOwner = await projectKey(orgOwner, doomed, ['GROUP_OWNER']);
    await json(call(doomedOwner, 'DELETE', `/groups/${doomed}`), 204);
  });

  it('a key sheds its own roles and steps down below an owner role it holds, but raises itself nowhere', async () => {
    const q = await project('Esc Q');
    const admin2 = await projectKey(orgOwner, q, ['GROUP_USER_ADMIN']);
    const owner2 = await projectKey(orgOwner, q, ['GROUP_OWNER']);
    // An owner adds a role below its own, then steps down to it.
    await json(
      call(owner2, 'PATCH', `/groups/${q}/apiKeys/${owner2.id}`, {
        roles: ['GROUP_OWNER', 'GROUP_READ_ONLY'],
      }),
    );
    await json(call(owner2, 'PATCH', `/groups/${q}/apiKeys/${owner2.id}`, { roles: ['GROUP_READ_ONLY'] }));
    expect(await keyRoles(owner2)).toEqual([{ groupId: q, roleName: 'GROUP_READ_ONLY' }]);
    // Having stepped down it may not step back up (it no longer manages the project's keys at all).
    await refused(() =>
      call(owner2, 'PATCH', `/groups/${q}/apiKeys/${owner2.id}`, { roles: ['GROUP_OWNER'] }),
    );
    // A user admin may leave the project.
    await json(call(admin2, 'DELETE', `/groups/${q}/apiKeys/${admin2.id}`), 204);
    expect(await keyRoles(admin2)).toEqual([]);
  });

  it('org keys: no project-scope caller touches them, and no key raises its org roles', async () => {
    const member = await orgKey(orgId, ['ORG_MEMBER']);
    const org = (k: Key) => `/orgs/${orgId}/apiKeys/${k.id}`;
    await refused(
      () => call(groupOwner, 'PATCH', org(groupOwner), { roles: ['ORG_OWNER'] }),
      () => call(groupOwner, 'PATCH', org(member), { roles: ['ORG_OWNER'] }),
      () => call(groupOwner, 'PATCH', org(orgOwner), { desc: 'mine now' }),
      () => call(groupOwner, 'DELETE', org(orgOwner)),
      () => call(groupOwner, 'POST', `/orgs/${orgId}/apiKeys`, { desc: 'x', roles: ['ORG_OWNER'] }),
      () => call(userAdmin, 'PATCH', org(userAdmin), { roles: ['ORG_OWNER'] }),
      () => call(member, 'PATCH', org(member), { roles: ['ORG_OWNER'] }),
      () => call(member, 'PATCH', org(member), { roles: ['ORG_MEMBER', 'ORG_GROUP_CREATOR'] }),
      () => call(member, 'POST', `/orgs/${orgId}/apiKeys`, { desc: 'x', roles: ['ORG_OWNER'] }),
    );
    // Another org's owner has no grip here.
    const foreignOwner = await orgKey(otherOrg, ['ORG_OWNER']);
    await refused(
      () => call(foreignOwner, 'PATCH', org(member), { roles: ['ORG_OWNER'] }),
      () => call(foreignOwner, 'PATCH', `/groups/${p}/apiKeys/${member.id}`, { roles: ['GROUP_OWNER'] }),
    );
    // The org's owner grants ORG_OWNER and adds roles below its own to itself.
    await json(call(orgOwner, 'PATCH', org(member), { roles: ['ORG_OWNER'] }));
    await json(call(orgOwner, 'PATCH', org(orgOwner), { roles: ['ORG_OWNER', 'ORG_READ_ONLY'] }));
    expect(await keyRoles(orgOwner)).toEqual([
      { orgId, roleName: 'ORG_OWNER' },
      { orgId, roleName: 'ORG_READ_ONLY' },
    ]);
  });

  it('global keys: a GLOBAL_USER_ADMIN adds nothing to itself and does not touch GLOBAL_OWNER', async () => {
    const ua = await json<Key>(
      call(admin, 'POST', '/admin/apiKeys', { desc: 'ua', roles: ['GLOBAL_USER_ADMIN'] }),
    );
    const self = `/admin/apiKeys/${ua.id}`;
    await refused(
      () => call(ua, 'PATCH', self, { roles: ['GLOBAL_OWNER'] }),
      () => call(ua, 'PATCH', self, { roles: ['GLOBAL_USER_ADMIN', 'GLOBAL_BACKUP_ADMIN'] }),
      () => call(ua, 'POST', '/admin/apiKeys', { desc: 'x', roles: ['GLOBAL_OWNER'] }),
      () => call(ua, 'PATCH', `/admin/apiKeys/${admin.id}`, { desc: 'taken' }),
      () => call(ua, 'DELETE', `/admin/apiKeys/${admin.id}`),
    );
    // What it may do: grant global roles but GLOBAL_OWNER, and any org or project role to others.
    const made = await json<Key>(
      call(ua, 'POST', '/admin/apiKeys', { desc: 'b', roles: ['GLOBAL_BACKUP_ADMIN'] }),
    );
    await json(call(ua, 'PATCH', `/admin/apiKeys/${made.id}`, { roles: ['GLOBAL_USER_ADMIN'] }));
    const member = await orgKey(orgId, ['ORG_MEMBER']);
    await json(call(ua, 'PATCH', `/groups/${p}/apiKeys/${member.id}`, { roles: ['GROUP_OWNER'] }));
    await json(call(ua, 'DELETE', self), 204);
  });

  it("users: nobody raises their own roles, and a GLOBAL_USER_ADMIN leaves a GLOBAL_OWNER's account alone", async () => {
    const member = await userWith('ua.member@example.com', [{ groupId: p, roleName: 'GROUP_USER_ADMIN' }]);
    const self = `/users/${member.id}`;
    await refused(
      () => call(member.signer, 'PATCH', self, { roles: [{ groupId: p, roleName: 'GROUP_OWNER' }] }),
      () =>
        call(member.signer, 'PATCH', self, {
          roles: [
            { groupId: p, roleName: 'GROUP_USER_ADMIN' },
            { groupId: p, roleName: 'GROUP_READ_ONLY' },
          ],
        }),
      () => call(member.signer, 'PATCH', self, { roles: [{ orgId, roleName: 'ORG_OWNER' }] }),
      () => call(member.signer, 'PATCH', self, { roles: [{ roleName: 'GLOBAL_READ_ONLY' }] }),
      () => call(member.signer, 'DELETE', `/groups/${p}`),
      () =>
        call(member.signer, 'PATCH', `/groups/${p}/apiKeys/${groupOwner.id}`, { roles: ['GROUP_READ_ONLY'] }),
    );
    // Its own profile it may change, and it may shed its roles.
    await json(call(member.signer, 'PATCH', self, { firstName: 'Renamed' }));
    await json(call(member.signer, 'PATCH', self, { roles: [] }));
    expect((await json<{ roles: Json[] }>(call(admin, 'GET', self))).roles).toEqual([]);

    const ua = await userWith('global.ua@example.com', [{ roleName: 'GLOBAL_USER_ADMIN' }]);
    const owner = `/users/${admin.userId}`;
    await refused(
      () => call(ua.signer, 'PATCH', owner, { password: 'taken-over-1' }),
      () => call(ua.signer, 'PATCH', owner, { firstName: 'Mallory' }),
      () => call(ua.signer, 'PATCH', owner, { roles: [{ roleName: 'GLOBAL_READ_ONLY' }] }),
      () => call(ua.signer, 'DELETE', owner),
      () => call(ua.signer, 'PATCH', `/users/${ua.id}`, { roles: [{ roleName: 'GLOBAL_OWNER' }] }),
      () =>
        call(ua.signer, 'PATCH', `/users/${ua.id}`, {
          roles: [{ roleName: 'GLOBAL_USER_ADMIN' }, { orgId, roleName: 'ORG_OWNER' }],
        }),
      () =>
        call(ua.signer, 'POST', '/users', {
          username: 'second.owner@example.com',
          password: 'pw-123456',
          firstName: 'S',
          lastName: 'O',
          roles: [{ roleName: 'GLOBAL_OWNER' }],
        }),
    );
    // Within its reach: another user's profile and roles below GLOBAL_OWNER.
    await json(
      call(ua.signer, 'PATCH', self, {
        firstName: 'Again',
        roles: [{ groupId: p, roleName: 'GROUP_OWNER' }, { roleName: 'GLOBAL_READ_ONLY' }],
      }),
    );
    // A GLOBAL_OWNER user may add to itself (no role raises it).
    const ownerSigner = await userWith('owner.user@example.com', [{ roleName: 'GLOBAL_OWNER' }]);
    await json(
      call(ownerSigner.signer, 'PATCH', `/users/${ownerSigner.id}`, {
        roles: [{ roleName: 'GLOBAL_OWNER' }, { groupId: p, roleName: 'GROUP_OWNER' }],
      }),
    );
  });
});
