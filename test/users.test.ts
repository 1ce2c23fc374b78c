/**
 * Users (`/users`, `/users/byName`, `/orgs/{ORG-ID}/users`): create with roles, read, update (roles
 * replaced under the grant rule), delete; passwords hashed and never returned; on every database.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrap, type Creds, digest } from './support/client.js';
import { DIALECTS } from './support/dialects.js';
import { USER_UNAUTHORIZED as UNAUTHORIZED } from './support/expect.js';
import { startTestServer, type TestServer } from './support/server.js';

type Json = Record<string, unknown>;
interface Key extends Creds {
  id: string;
}
const PASSWORD = 'Tr0ub4dor&3-horse';

describe.each(DIALECTS)('users (%s)', (dialect) => {
  let s: TestServer;
  let admin: Creds;
  let orgId: string;
  let otherOrg: string;
  let pid: string;
  const call = (who: Creds, method: string, path: string, body?: unknown) =>
    digest(who, method, `${s.base}${path}`, body === undefined ? {} : { body });
  const globalKey = async (roles: string[]): Promise<Key> => {
    const res = await call(admin, 'POST', '/admin/apiKeys', { desc: roles.join(' '), roles });
    expect(res.status, res.text).toBe(200);
    return res.json as Key;
  };
  const orgKey = async (org: string, roles: string[]): Promise<Key> =>
    (await call(admin, 'POST', `/orgs/${org}/apiKeys`, { desc: roles.join(' '), roles })).json as Key;
  const user = (username: string, extra: Json = {}) => ({
    username,
    password: PASSWORD,
    firstName: 'Grace',
    lastName: 'Hopper',
    ...extra,
  });

  beforeAll(async () => {
    s = await startTestServer({ dialect });
    admin = await bootstrap(s.base);
    orgId = ((await call(admin, 'POST', '/orgs', { name: 'Users Org' })).json as { id: string }).id;
    otherOrg = ((await call(admin, 'POST', '/orgs', { name: 'Users Other' })).json as { id: string }).id;
    pid = ((await call(admin, 'POST', '/groups', { name: 'Users P', orgId })).json as { id: string }).id;
  });
  afterAll(async () => s?.close());

  it('creates a user (201) with its roles; the password is hashed and never returned', async () => {
    const res = await call(
      admin,
      'POST',
      '/users',
      user('grace@example.com', {
        emailAddress: 'grace@example.com',
        mobileNumber: '+1 555 0100',
        country: 'US',
        roles: [
          { groupId: pid, roleName: 'GROUP_READ_ONLY' },
          { orgId, roleName: 'ORG_MEMBER' },
          { roleName: 'GLOBAL_READ_ONLY' },
        ],
      }),
    );
    expect(res.status).toBe(201);
    const id = (res.json as { id: string }).id;
    const expected = {
      country: 'US',
      emailAddress: 'grace@example.com',
      firstName: 'Grace',
      id,
      lastName: 'Hopper',
      links: [{ href: `${s.base}/users/${id}`, rel: 'self' }],
      mobileNumber: '+1 555 0100',
      roles: [
        { roleName: 'GLOBAL_READ_ONLY' },
        { orgId, roleName: 'ORG_MEMBER' },
        { groupId: pid, roleName: 'GROUP_READ_ONLY' },
      ],
      username: 'grace@example.com',
    };
    expect(res.json).toEqual(expected);
    expect(res.text).not.toContain(PASSWORD);
    expect((await call(admin, 'GET', `/users/${id}`)).json).toEqual(expected);
    expect(
      (await call(admin, 'GET', `/users/byName/${encodeURIComponent('grace@example.com')}`)).json,
    ).toEqual(expected);
    const stored = await s.conn.db
      .selectFrom('users')
      .select('password_hash')
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(stored.password_hash).toMatch(/^scrypt\$/);
    expect(stored.password_hash).not.toContain(PASSWORD);

    const dup = await call(admin, 'POST', '/users', user('grace@example.com'));
    expect(dup.status).toBe(409);
    expect(dup.json).toEqual({
      detail: 'A user with username grace@example.com already exists.',
      error: 409,
      errorCode: 'USER_ALREADY_EXISTS',
      parameters: ['grace@example.com'],
      reason: 'Conflict',
    });
  });

  it('validates bodies and role scopes', async () => {
    const cases: [Json, number, Json][] = [
      [
        { ...user('v1'), password: undefined },
        400,
        { errorCode: 'MISSING_ATTRIBUTE', parameters: ['password'] },
      ],
      [
        { ...user('v2'), id: 'abcdefabcdefabcdefabcdef' },
        400,
        { errorCode: 'ATTRIBUTE_READ_ONLY', parameters: ['id'] },
      ],
      [user('v3', { roles: [{ roleName: 'ORG_OWNER' }] }), 400, { errorCode: 'ROLE_NEEDS_ORG_ID' }],
      [
        user('v4', { roles: [{ orgId, roleName: 'GROUP_OWNER' }] }),
        400,
        { errorCode: 'ROLE_NEEDS_GROUP_ID' },
      ],
      [user('v5', { roles: [{ roleName: 'ORG_WIZARD', orgId }] }), 400, { errorCode: 'INVALID_ENUM_VALUE' }],
      [user('v6', { roles: [{ roleName: 'GLOBAL_OWNER', orgId }] }), 400, { errorCode: 'INVALID_ATTRIBUTE' }],
      [
        user('v7', { roles: [{ roleName: 'ORG_OWNER', orgId: 'nope' }] }),
        400,
        { errorCode: 'INVALID_ATTRIBUTE' },
      ],
      [
        user('v8', { roles: [{ roleName: 'ORG_OWNER', orgId: 'abcdefabcdefabcdefabcdef' }] }),
        404,
        { errorCode: 'ORG_NOT_FOUND' },
      ],
      [
        user('v9', { roles: [{ roleName: 'GROUP_OWNER', groupId: 'abcdefabcdefabcdefabcdef' }] }),
        404,
        { errorCode: 'GROUP_NOT_FOUND' },
      ],
    ];
    for (const [body, status, expected] of cases) {
      const res = await call(admin, 'POST', '/users', body);
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect(res.json).toMatchObject(expected);
    }
    expect((await call(admin, 'GET', '/users/byName/v8')).status).toBe(404);
  });

  it('answers unknown users with 404 for global callers', async () => {
    const unknown = 'abcdefabcdefabcdefabcdef';
    const byId = await call(admin, 'GET', `/users/${unknown}`);
    expect(byId.status).toBe(404);
    expect(byId.json).toMatchObject({
      errorCode: 'USER_NOT_FOUND',
      detail: `No user with ID ${unknown} exists.`,
    });
    const byName = await call(admin, 'GET', '/users/byName/nobody');
    expect(byName.json).toMatchObject({
      errorCode: 'USERNAME_NOT_FOUND',
      detail: 'No user with username nobody exists.',
    });
    expect((await call(admin, 'PATCH', `/users/${unknown}`, { firstName: 'X' })).status).toBe(404);
    expect((await call(admin, 'DELETE', `/users/${unknown}`)).status).toBe(404);
  });

  it('keeps user administration to global admins, and GLOBAL_OWNER to GLOBAL_OWNER', async () => {
    const owner = await orgKey(orgId, ['ORG_OWNER']);
    const target = (await call(admin, 'POST', '/users', user('target@example.com'))).json as { id: string };
    expect((await call(owner, 'POST', '/users', user('nope@example.com'))).json).toEqual(UNAUTHORIZED);
    expect((await call(owner, 'GET', `/users/${target.id}`)).json).toEqual(UNAUTHORIZED);
    expect((await call(owner, 'GET', '/users/byName/target@example.com')).json).toEqual(UNAUTHORIZED);
    expect((await call(owner, 'GET', '/users/byName/nobody')).json).toEqual(UNAUTHORIZED);
    expect((await call(owner, 'PATCH', `/users/${target.id}`, { firstName: 'X' })).json).toEqual(
      UNAUTHORIZED,
    );
    expect((await call(owner, 'DELETE', `/users/${target.id}`)).json).toEqual(UNAUTHORIZED);

    const userAdmin = await globalKey(['GLOBAL_USER_ADMIN']);
    const made = await call(
      userAdmin,
      'POST',
      '/users',
      user('made@example.com', { roles: [{ orgId, roleName: 'ORG_OWNER' }] }),
    );
    expect(made.status).toBe(201);
    const madeId = (made.json as { id: string }).id;
    const escalate = user('escalate@example.com', { roles: [{ roleName: 'GLOBAL_OWNER' }] });
    expect((await call(userAdmin, 'POST', '/users', escalate)).json).toEqual(UNAUTHORIZED);
    expect((await call(admin, 'GET', '/users/byName/escalate@example.com')).status).toBe(404);
    expect(
      (await call(userAdmin, 'PATCH', `/users/${madeId}`, { roles: [{ roleName: 'GLOBAL_OWNER' }] })).json,
    ).toEqual(UNAUTHORIZED);
    const globalOwner = (
      await call(admin, 'POST', '/users', user('go@example.com', { roles: [{ roleName: 'GLOBAL_OWNER' }] }))
    ).json as { id: string };
    expect((await call(userAdmin, 'DELETE', `/users/${globalOwner.id}`)).json).toEqual(UNAUTHORIZED);
    expect((await call(admin, 'GET', `/users/${globalOwner.id}`)).status).toBe(200);
    const reader = await globalKey(['GLOBAL_READ_ONLY']);
    expect((await call(reader, 'GET', `/users/${madeId}`)).status).toBe(200);
    expect((await call(reader, 'POST', '/users', user('r@example.com'))).json).toEqual(UNAUTHORIZED);
  });

  it('updates fields and replaces roles; the response shows the result', async () => {
    const made = (
      await call(
        admin,
        'POST',
        '/users',
        user('upd@example.com', { roles: [{ orgId, roleName: 'ORG_MEMBER' }] }),
      )
    ).json as { id: string };
    const res = await call(admin, 'PATCH', `/users/${made.id}`, {
      firstName: 'Ada',
      emailAddress: 'ada@example.com',
      password: 'another long password',
      roles: [
        { orgId: otherOrg, roleName: 'ORG_READ_ONLY' },
        { groupId: pid, roleName: 'GROUP_OWNER' },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      emailAddress: 'ada@example.com',
      firstName: 'Ada',
      id: made.id,
      lastName: 'Hopper',
      links: [{ href: `${s.base}/users/${made.id}`, rel: 'self' }],
      roles: [
        { orgId: otherOrg, roleName: 'ORG_READ_ONLY' },
        { groupId: pid, roleName: 'GROUP_OWNER' },
      ],
      username: 'upd@example.com',
    });
    expect(res.text).not.toContain('another long password');
    expect((await call(admin, 'GET', `/users/${made.id}`)).json).toEqual(res.json);
    expect((await call(admin, 'PATCH', `/users/${made.id}`, {})).json).toMatchObject({
      errorCode: 'MISSING_ATTRIBUTE',
    });
    expect((await call(admin, 'PATCH', `/users/${made.id}`, { id: made.id })).json).toMatchObject({
      errorCode: 'ATTRIBUTE_READ_ONLY',
    });
    expect((await call(admin, 'PATCH', `/users/${made.id}`, { username: 'grace@example.com' })).status).toBe(
      409,
    );
  });

  it('deletes a user (204)', async () => {
    const made = (await call(admin, 'POST', '/users', user('gone@example.com'))).json as { id: string };
    const del = await call(admin, 'DELETE', `/users/${made.id}`);
    expect(del.status).toBe(204);
    expect(del.text).toBe('');
    expect((await call(admin, 'GET', `/users/${made.id}`)).json).toMatchObject({
      errorCode: 'USER_NOT_FOUND',
    });
    expect((await call(admin, 'GET', '/users/byName/gone@example.com')).json).toMatchObject({
      errorCode: 'USERNAME_NOT_FOUND',
    });
  });

  it("lists an org's users (org roles and its projects' roles) to the org's members only", async () => {
    const org = ((await call(admin, 'POST', '/orgs', { name: 'Members Org' })).json as { id: string }).id;
    const project = (
      (await call(admin, 'POST', '/groups', { name: 'Members P', orgId: org })).json as { id: string }
    ).id;
    const a = (
      await call(
        admin,
        'POST',
        '/users',
        user('a@members', { roles: [{ orgId: org, roleName: 'ORG_OWNER' }] }),
      )
    ).json as { id: string };
    const b = (
      await call(
        admin,
        'POST',
        '/users',
        user('b@members', { roles: [{ groupId: project, roleName: 'GROUP_READ_ONLY' }] }),
      )
    ).json as { id: string };
    await call(
      admin,
      'POST',
      '/users',
      user('c@elsewhere', { roles: [{ orgId: otherOrg, roleName: 'ORG_MEMBER' }] }),
    );
    const member = await orgKey(org, ['ORG_MEMBER']);
    const res = await call(member, 'GET', `/orgs/${org}/users`);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      links: [{ href: `${s.base}/orgs/${org}/users?pageNum=1&itemsPerPage=100`, rel: 'self' }],
      totalCount: 2,
    });
    expect((res.json as { results: Json[] }).results.map((u) => [u.id, u.username])).toEqual([
      [a.id, 'a@members'],
      [b.id, 'b@members'],
    ]);
    const page2 = await call(member, 'GET', `/orgs/${org}/users?itemsPerPage=1&pageNum=2`);
    expect((page2.json as { results: Json[] }).results.map((u) => u.id)).toEqual([b.id]);
    expect((await call(await orgKey(otherOrg, ['ORG_OWNER']), 'GET', `/orgs/${org}/users`)).json).toEqual(
      UNAUTHORIZED,
    );
  });

  it('records user events once each in the org they concern', async () => {
    const org = ((await call(admin, 'POST', '/orgs', { name: 'User Events' })).json as { id: string }).id;
    const project = (
      (await call(admin, 'POST', '/groups', { name: 'UE P', orgId: org })).json as { id: string }
    ).id;
    const made = (
      await call(
        admin,
        'POST',
        '/users',
        user('ev@example.com', { roles: [{ orgId: org, roleName: 'ORG_MEMBER' }] }),
      )
    ).json as { id: string };
    await call(admin, 'PATCH', `/users/${made.id}`, {
      roles: [
        { orgId: org, roleName: 'ORG_OWNER' },
        { groupId: project, roleName: 'GROUP_READ_ONLY' },
      ],
    });
    await call(admin, 'PATCH', `/users/${made.id}`, { lastName: 'Lovelace' });
    const res = await call(admin, 'GET', `/orgs/${org}/events`);
    const seen = (res.json as { results: Json[] }).results
      .filter((e) => e.targetUsername === 'ev@example.com')
      .map((e) => [e.eventTypeName, e.groupId]);
    expect(seen).toEqual([
      ['JOINED_ORG', undefined],
      ['USER_ROLES_CHANGED', undefined],
      ['JOINED_GROUP', project],
    ]);
    expect(res.text).not.toContain(PASSWORD);
  });
});
