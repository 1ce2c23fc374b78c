/**
 * Projects (`/groups`) over a real socket with urllib's digest client: create, read by id and name, list
 * what the caller may see, delete (and every role in the project with it), on every configured database.
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

describe.each(DIALECTS)('projects (%s)', (dialect) => {
  let s: TestServer;
  let admin: Creds;
  let orgA: string;
  let orgB: string;
  const call = (who: Creds, method: string, path: string, body?: unknown) =>
    digest(who, method, `${s.base}${path}`, body === undefined ? {} : { body });
  const newKey = async (orgId: string, roles: string[]): Promise<Key> => {
    const res = await call(admin, 'POST', `/orgs/${orgId}/apiKeys`, { desc: roles.join(' '), roles });
    expect(res.status).toBe(200);
    return res.json as Key;
  };
  const newProject = async (who: Creds, name: string, orgId: string): Promise<string> => {
    const res = await call(who, 'POST', '/groups', { name, orgId });
    expect(res.status, res.text).toBe(201);
    return (res.json as { id: string }).id;
  };
  const names = (body: unknown) =>
    ((body as { results: { name: string }[] }).results ?? []).map((p) => p.name);

  beforeAll(async () => {
    s = await startTestServer({ dialect });
    admin = await bootstrap(s.base);
    orgA = ((await call(admin, 'POST', '/orgs', { name: 'Org A' })).json as { id: string }).id;
    orgB = ((await call(admin, 'POST', '/orgs', { name: 'Org B' })).json as { id: string }).id;
  });
  afterAll(async () => s?.close());

  it('creates a project (201) with the Ops Manager project fields, and reads it by id and by name', async () => {
    const res = await call(admin, 'POST', '/groups', { name: 'Alpha', orgId: orgA });
    expect(res.status).toBe(201);
    const id = (res.json as { id: string }).id;
    expect(id).toMatch(/^[0-9a-f]{24}$/);
    const expected = {
      activeAgentCount: 0,
      hostCounts: { arbiter: 0, config: 0, master: 0, mongos: 0, primary: 0, secondary: 0, slave: 0 },
      id,
      links: [{ href: `${s.base}/groups/${id}`, rel: 'self' }],
      name: 'Alpha',
      orgId: orgA,
      publicApiEnabled: true,
      replicaSetCount: 0,
      shardCount: 0,
      tags: [],
    };
    expect(res.json).toEqual(expected);
    expect((await call(admin, 'GET', `/groups/${id}`)).json).toEqual(expected);
    expect((await call(admin, 'GET', '/groups/byName/Alpha')).json).toEqual(expected);
    const inOrg = await call(admin, 'GET', `/orgs/${orgA}/groups`);
    expect(inOrg.status).toBe(200);
    expect((inOrg.json as { results: unknown[] }).results).toContainEqual(expected);
    expect(names((await call(admin, 'GET', `/orgs/${orgB}/groups`)).json)).not.toContain('Alpha');
    expect(names((await call(admin, 'GET', `/orgs/${orgA}/groups?name=Alpha`)).json)).toEqual(['Alpha']);
    expect(names((await call(admin, 'GET', `/orgs/${orgA}/groups?name=Nope`)).json)).toEqual([]);
  });

  it('reads a project whose name needs escaping by name', async () => {
    const id = await newProject(admin, 'Team / Ops & Co', orgA);
    const res = await call(admin, 'GET', `/groups/byName/${encodeURIComponent('Team / Ops & Co')}`);
    expect(res.status).toBe(200);
    expect((res.json as Json).id).toBe(id);
  });

  it('refuses a duplicate name with 409 GROUP_ALREADY_EXISTS', async () => {
    await newProject(admin, 'Dup', orgA);
    const res = await call(admin, 'POST', '/groups', { name: 'Dup', orgId: orgB });
    expect(res.status).toBe(409);
    expect(res.json).toEqual({
      detail: 'A group with name "Dup" already exists.',
      error: 409,
      errorCode: 'GROUP_ALREADY_EXISTS',
      parameters: ['Dup'],
      reason: 'Conflict',
    });
  });

  it('answers unknown ids and names with 404 for a global caller', async () => {
    const unknown = 'abcdefabcdefabcdefabcdef';
    const byId = await call(admin, 'GET', `/groups/${unknown}`);
    expect(byId.status).toBe(404);
    expect((byId.json as Json).errorCode).toBe('GROUP_NOT_FOUND');
    expect((byId.json as Json).detail).toBe(`No group with ID ${unknown} exists.`);
    const byName = await call(admin, 'GET', '/groups/byName/NoSuchProject');
    expect(byName.status).toBe(404);
    expect((byName.json as Json).errorCode).toBe('GROUP_NAME_NOT_FOUND');
    expect((await call(admin, 'DELETE', `/groups/${unknown}`)).status).toBe(404);
    expect(((await call(admin, 'GET', `/groups/${unknown}/users`)).json as Json).errorCode).toBe(
      'GROUP_NOT_FOUND',
    );
    const org = await call(admin, 'POST', '/groups', { name: 'Orphan', orgId: unknown });
    expect(org.status).toBe(404);
    expect((org.json as Json).errorCode).toBe('ORG_NOT_FOUND');
    const orgList = await call(admin, 'GET', `/orgs/${unknown}/groups`);
    expect((orgList.json as Json).errorCode).toBe('ORG_NOT_FOUND');
  });

  it('validates the create body', async () => {
    const missing = await call(admin, 'POST', '/groups', { name: 'NoOrg' });
    expect(missing.status).toBe(400);
    expect(missing.json).toMatchObject({ errorCode: 'MISSING_ATTRIBUTE', parameters: ['orgId'] });
    const bad = await call(admin, 'POST', '/groups', { name: 'BadOrg', orgId: 'nope' });
    expect(bad.json).toMatchObject({ errorCode: 'INVALID_ATTRIBUTE', parameters: ['orgId'] });
    const extra = await call(admin, 'POST', '/groups', { name: 'X', orgId: orgA, color: 'red' });
    expect(extra.json).toMatchObject({ errorCode: 'INVALID_ATTRIBUTE', parameters: ['color'] });
    const empty = await call(admin, 'POST', '/groups', { name: '', orgId: orgA });
    expect(empty.json).toMatchObject({ errorCode: 'INVALID_ATTRIBUTE', parameters: ['name'] });
  });

  it('lets ORG_OWNER and ORG_GROUP_CREATOR create projects, and refuses weaker roles with 401', async () => {
    const member = await newKey(orgA, ['ORG_MEMBER']);
    const readOnly = await newKey(orgA, ['ORG_READ_ONLY']);
    const owner = await newKey(orgA, ['ORG_OWNER']);
    const creator = await newKey(orgA, ['ORG_GROUP_CREATOR']);
    for (const weak of [member, readOnly]) {
      const res = await call(weak, 'POST', '/groups', { name: `Weak ${weak.publicKey}`, orgId: orgA });
      expect(res.status).toBe(401);
      expect(res.json).toEqual(UNAUTHORIZED);
    }
    // Another org's owner, and an unknown org for a non-global caller, are both plain 401s.
    expect((await call(owner, 'POST', '/groups', { name: 'Elsewhere', orgId: orgB })).json).toEqual(
      UNAUTHORIZED,
    );
    expect(
      (await call(owner, 'POST', '/groups', { name: 'Nowhere', orgId: 'abcdefabcdefabcdefabcdef' })).json,
    ).toEqual(UNAUTHORIZED);

    const byOwner = await newProject(owner, 'By Owner', orgA);
    const byCreator = await newProject(creator, 'By Creator', orgA);
    // The creator holds the org only as ORG_GROUP_CREATOR, so it becomes the new project's owner.
    const creatorView = await call(admin, 'GET', `/orgs/${orgA}/apiKeys/${creator.id}`);
    expect((creatorView.json as Json).roles).toEqual([
      { orgId: orgA, roleName: 'ORG_GROUP_CREATOR' },
      { groupId: byCreator, roleName: 'GROUP_OWNER' },
    ]);
    expect((await call(creator, 'GET', `/groups/${byCreator}`)).status).toBe(200);
    expect((await call(creator, 'GET', `/groups/${byOwner}`)).json).toEqual(UNAUTHORIZED);
    const ownerView = await call(admin, 'GET', `/orgs/${orgA}/apiKeys/${owner.id}`);
    expect((ownerView.json as Json).roles).toEqual([{ orgId: orgA, roleName: 'ORG_OWNER' }]);
  });

  it('lists only the projects the caller may read', async () => {
    const orgC = ((await call(admin, 'POST', '/orgs', { name: 'Org C' })).json as { id: string }).id;
    const orgD = ((await call(admin, 'POST', '/orgs', { name: 'Org D' })).json as { id: string }).id;
    const c1 = await newProject(admin, 'C1', orgC);
    await newProject(admin, 'C2', orgC);
    await newProject(admin, 'D1', orgD);
    const member = await newKey(orgC, ['ORG_MEMBER']);
    const reader = await newKey(orgC, ['ORG_READ_ONLY']);
    expect(names((await call(member, 'GET', '/groups')).json)).toEqual([]);
    expect(names((await call(reader, 'GET', '/groups')).json)).toEqual(['C1', 'C2']);
    expect(
      (await call(admin, 'PATCH', `/groups/${c1}/apiKeys/${member.id}`, { roles: ['GROUP_READ_ONLY'] }))
        .status,
    ).toBe(200);
    expect(names((await call(member, 'GET', '/groups')).json)).toEqual(['C1']);
    const all = await call(admin, 'GET', '/groups');
    expect(names(all.json)).toEqual(expect.arrayContaining(['Alpha', 'C1', 'C2', 'D1']));

    // By name: readable → 200; another org's project or an unknown name → the same 401.
    expect((await call(member, 'GET', '/groups/byName/C1')).status).toBe(200);
    expect((await call(member, 'GET', '/groups/byName/C2')).json).toEqual(UNAUTHORIZED);
    expect((await call(member, 'GET', '/groups/byName/D1')).json).toEqual(UNAUTHORIZED);
    expect((await call(member, 'GET', '/groups/byName/NoSuchProject')).json).toEqual(UNAUTHORIZED);
    // By id: ORG_MEMBER without a project role may not read it; ORG_READ_ONLY may.
    const c2 = (((await call(admin, 'GET', '/groups/byName/C2')).json as Json).id as string) ?? '';
    expect((await call(member, 'GET', `/groups/${c2}`)).json).toEqual(UNAUTHORIZED);
    expect((await call(reader, 'GET', `/groups/${c2}`)).status).toBe(200);
  });

  it('pages /groups with Ops Manager links', async () => {
    const orgP = ((await call(admin, 'POST', '/orgs', { name: 'Org Paged' })).json as { id: string }).id;
    for (const n of ['P1', 'P2', 'P3']) await newProject(admin, n, orgP);
    const reader = await newKey(orgP, ['ORG_READ_ONLY']);
    const page2 = await call(reader, 'GET', '/groups?itemsPerPage=1&pageNum=2');
    expect(page2.status).toBe(200);
    expect(page2.json).toMatchObject({
      links: [
        { href: `${s.base}/groups?pageNum=2&itemsPerPage=1`, rel: 'self' },
        { href: `${s.base}/groups?itemsPerPage=1&pageNum=1`, rel: 'previous' },
        { href: `${s.base}/groups?itemsPerPage=1&pageNum=3`, rel: 'next' },
      ],
      totalCount: 3,
    });
    expect(names(page2.json)).toEqual(['P2']);
  });

  it("lists a project's users, and deleting the project removes every key's and user's roles in it", async () => {
    const orgE = ((await call(admin, 'POST', '/orgs', { name: 'Org E' })).json as { id: string }).id;
    const pid = await newProject(admin, 'Doomed', orgE);
    const keep = await newProject(admin, 'Kept', orgE);
    const key = await newKey(orgE, ['ORG_MEMBER']);
    await call(admin, 'PATCH', `/groups/${pid}/apiKeys/${key.id}`, { roles: ['GROUP_OWNER'] });
    await call(admin, 'PATCH', `/groups/${keep}/apiKeys/${key.id}`, { roles: ['GROUP_READ_ONLY'] });
    const user = await call(admin, 'POST', '/users', {
      username: 'doomed.member@example.com',
      password: 'a long password 1',
      firstName: 'Dee',
      lastName: 'Member',
      roles: [{ groupId: pid, roleName: 'GROUP_READ_ONLY' }],
    });
    expect(user.status).toBe(201);
    const userId = (user.json as { id: string }).id;
    const members = await call(key, 'GET', `/groups/${pid}/users`);
    expect(members.status).toBe(200);
    expect(members.json).toMatchObject({
      totalCount: 1,
      results: [{ id: userId, username: 'doomed.member@example.com' }],
    });

    const member = await newKey(orgE, ['ORG_MEMBER']);
    expect((await call(member, 'DELETE', `/groups/${pid}`)).json).toEqual(UNAUTHORIZED);
    const owner = await newKey(orgE, ['ORG_OWNER']);
    const del = await call(owner, 'DELETE', `/groups/${pid}`);
    expect(del.status).toBe(204);
    expect(del.text).toBe('');
    expect((await call(admin, 'GET', `/groups/${pid}`)).status).toBe(404);
    expect((await call(key, 'GET', `/groups/${pid}`)).json).toEqual(UNAUTHORIZED);
    const keyView = await call(admin, 'GET', `/orgs/${orgE}/apiKeys/${key.id}`);
    expect((keyView.json as Json).roles).toEqual([
      { orgId: orgE, roleName: 'ORG_MEMBER' },
      { groupId: keep, roleName: 'GROUP_READ_ONLY' },
    ]);
    expect(((await call(admin, 'GET', `/users/${userId}`)).json as Json).roles).toEqual([]);
    // The name is free again.
    await newProject(admin, 'Doomed', orgE);
  });

  it('records GROUP_CREATED and GROUP_DELETED once each in the org events', async () => {
    const orgF = ((await call(admin, 'POST', '/orgs', { name: 'Org F' })).json as { id: string }).id;
    const pid = await newProject(admin, 'Evented', orgF);
    expect((await call(admin, 'DELETE', `/groups/${pid}`)).status).toBe(204);
    const events = await call(admin, 'GET', `/orgs/${orgF}/events`);
    const types = (events.json as { results: { eventTypeName: string; groupId?: string }[] }).results;
    expect(types.map((e) => [e.eventTypeName, e.groupId])).toEqual([
      ['ORG_CREATED', undefined],
      ['GROUP_CREATED', pid],
      ['GROUP_DELETED', pid],
    ]);
  });
});
