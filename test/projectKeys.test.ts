/**
 * Org API keys on projects (`/groups/{PROJECT-ID}/apiKeys`): create with project roles only, assign,
 * change, unassign, each visible in the key's org view and in the org's events, on every database.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrap, type Creds, digest } from './support/client.js';
import { DIALECTS } from './support/dialects.js';
import { USER_UNAUTHORIZED as UNAUTHORIZED } from './support/expect.js';
import { startTestServer, type TestServer } from './support/server.js';

type Json = Record<string, unknown>;
interface Key extends Creds {
  id: string;
  roles: { orgId?: string; groupId?: string; roleName: string }[];
}
interface WireEvent {
  apiKeyId?: string;
  eventTypeName: string;
  groupId?: string;
  orgId?: string;
  publicKey?: string;
  targetPublicKey?: string;
}

describe.each(DIALECTS)('project API keys (%s)', (dialect) => {
  let s: TestServer;
  let admin: Creds;
  let orgId: string;
  let otherOrg: string;
  let p1: string;
  let p2: string;
  let owner: Key;
  const call = (who: Creds, method: string, path: string, body?: unknown) =>
    digest(who, method, `${s.base}${path}`, body === undefined ? {} : { body });
  const newKey = async (org: string, roles: string[]): Promise<Key> => {
    const res = await call(admin, 'POST', `/orgs/${org}/apiKeys`, { desc: roles.join(' '), roles });
    expect(res.status).toBe(200);
    return res.json as Key;
  };
  const roles = async (key: Key) =>
    ((await call(admin, 'GET', `/orgs/${orgId}/apiKeys/${key.id}`)).json as Json).roles;

  beforeAll(async () => {
    s = await startTestServer({ dialect });
    admin = await bootstrap(s.base);
    orgId = ((await call(admin, 'POST', '/orgs', { name: 'Keys Org' })).json as { id: string }).id;
    otherOrg = ((await call(admin, 'POST', '/orgs', { name: 'Other Org' })).json as { id: string }).id;
    p1 = ((await call(admin, 'POST', '/groups', { name: 'P1', orgId })).json as { id: string }).id;
    p2 = ((await call(admin, 'POST', '/groups', { name: 'P2', orgId })).json as { id: string }).id;
    owner = await newKey(orgId, ['ORG_OWNER']);
  });
  afterAll(async () => s?.close());

  it('creates an org key holding only the given project roles, private key in full once', async () => {
    const res = await call(owner, 'POST', `/groups/${p1}/apiKeys`, {
      desc: 'deployer',
      roles: ['GROUP_READ_ONLY', 'GROUP_DATA_ACCESS_ADMIN'],
    });
    expect(res.status).toBe(200);
    const key = res.json as Key & Json;
    expect(key.privateKey).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(key).toEqual({
      desc: 'deployer',
      id: key.id,
      links: [{ href: `${s.base}/orgs/${orgId}/apiKeys/${key.id}`, rel: 'self' }],
      privateKey: key.privateKey,
      publicKey: key.publicKey,
      roles: [
        { groupId: p1, roleName: 'GROUP_DATA_ACCESS_ADMIN' },
        { groupId: p1, roleName: 'GROUP_READ_ONLY' },
      ],
    });
    // It belongs to the org (listed there, redacted) yet holds no org role: the org itself is closed to it.
    const inOrg = await call(admin, 'GET', `/orgs/${orgId}/apiKeys/${key.id}`);
    expect((inOrg.json as Json).privateKey).toBe(`********-****-****-${key.privateKey.slice(-12)}`);
    expect((await call(key, 'GET', `/groups/${p1}`)).status).toBe(200);
    expect((await call(key, 'GET', `/groups/${p2}`)).json).toEqual(UNAUTHORIZED);
    expect((await call(key, 'GET', `/orgs/${orgId}`)).json).toEqual(UNAUTHORIZED);
    const list = await call(key, 'GET', `/groups/${p1}/apiKeys`);
    expect(list.status).toBe(200);
    expect((list.json as { results: Json[] }).results.map((k) => k.id)).toContain(key.id);
  });

  it('assigns an org key with GROUP_READ_ONLY: its org view shows the role, and loses it when unassigned', async () => {
    const key = await newKey(orgId, ['ORG_MEMBER']);
    expect((await call(key, 'GET', `/groups/${p1}`)).json).toEqual(UNAUTHORIZED);

    const assigned = await call(owner, 'PATCH', `/groups/${p1}/apiKeys/${key.id}`, {
      roles: ['GROUP_READ_ONLY'],
    });
    expect(assigned.status).toBe(200);
    const expectedRoles = [
      { orgId, roleName: 'ORG_MEMBER' },
      { groupId: p1, roleName: 'GROUP_READ_ONLY' },
    ];
    expect(assigned.json).toMatchObject({ id: key.id, roles: expectedRoles });
    expect((assigned.json as Json).privateKey).toBe(`********-****-****-${key.privateKey.slice(-12)}`);
    expect(await roles(key)).toEqual(expectedRoles);
    expect((await call(key, 'GET', `/groups/${p1}`)).status).toBe(200);
    const listed = await call(admin, 'GET', `/groups/${p1}/apiKeys`);
    const item = (listed.json as { results: Key[] }).results.find((k) => k.id === key.id);
    expect(item?.roles).toEqual(expectedRoles);

    const del = await call(owner, 'DELETE', `/groups/${p1}/apiKeys/${key.id}`);
    expect(del.status).toBe(204);
    expect(await roles(key)).toEqual([{ orgId, roleName: 'ORG_MEMBER' }]);
    expect((await call(key, 'GET', `/groups/${p1}`)).json).toEqual(UNAUTHORIZED);
    const after = await call(admin, 'GET', `/groups/${p1}/apiKeys`);
    expect((after.json as { results: Key[] }).results.map((k) => k.id)).not.toContain(key.id);
    // The key stays in its org and still works there.
    expect((await call(key, 'GET', `/orgs/${orgId}`)).status).toBe(200);
    // Unassigning again: the key is no longer in the project.
    const again = await call(owner, 'DELETE', `/groups/${p1}/apiKeys/${key.id}`);
    expect(again.status).toBe(404);
    expect((again.json as Json).errorCode).toBe('API_KEY_NOT_FOUND');
  });

  it("replaces a key's roles in one project and leaves its other roles alone", async () => {
    const key = await newKey(orgId, ['ORG_MEMBER']);
    await call(owner, 'PATCH', `/groups/${p1}/apiKeys/${key.id}`, { roles: ['GROUP_READ_ONLY'] });
    await call(owner, 'PATCH', `/groups/${p2}/apiKeys/${key.id}`, { roles: ['GROUP_MONITORING_ADMIN'] });
    const res = await call(owner, 'PATCH', `/groups/${p1}/apiKeys/${key.id}`, {
      roles: ['GROUP_OWNER', 'GROUP_USER_ADMIN'],
    });
    expect(res.status).toBe(200);
    const all = [
      { orgId, roleName: 'ORG_MEMBER' },
      ...[
        { groupId: p1, roleName: 'GROUP_OWNER' },
        { groupId: p1, roleName: 'GROUP_USER_ADMIN' },
        { groupId: p2, roleName: 'GROUP_MONITORING_ADMIN' },
      ].sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0)),
    ];
    expect((res.json as Json).roles).toEqual(all);
    expect(await roles(key)).toEqual(all);
  });

  it('refuses keys of another org, global keys and unknown ids with 404 API_KEY_NOT_FOUND', async () => {
    const foreign = await newKey(otherOrg, ['ORG_MEMBER']);
    const globalKey = await call(admin, 'POST', '/admin/apiKeys', { desc: 'g', roles: ['GLOBAL_READ_ONLY'] });
    const ids = [foreign.id, 'abcdefabcdefabcdefabcdef'];
    if (globalKey.status === 200) ids.push((globalKey.json as Key).id);
    for (const id of ids) {
      for (const [method, body] of [
        ['PATCH', { roles: ['GROUP_READ_ONLY'] }],
        ['DELETE', undefined],
      ] as const) {
        const res = await call(owner, method, `/groups/${p1}/apiKeys/${id}`, body);
        expect(res.status, `${method} ${id}`).toBe(404);
        expect(res.json).toEqual({
          detail: `No API Key with ID ${id} exists.`,
          error: 404,
          errorCode: 'API_KEY_NOT_FOUND',
          parameters: [id],
          reason: 'Not Found',
        });
      }
    }
    expect(
      ((await call(admin, 'GET', `/orgs/${otherOrg}/apiKeys/${foreign.id}`)).json as Json).roles,
    ).toEqual([{ orgId: otherOrg, roleName: 'ORG_MEMBER' }]);
  });

  it('accepts only project roles', async () => {
    const key = await newKey(orgId, ['ORG_MEMBER']);
    const cases: [unknown, number, Json][] = [
      [['ORG_MEMBER'], 400, { errorCode: 'ROLE_NEEDS_ORG_ID', parameters: ['ORG_MEMBER'] }],
      [['GLOBAL_READ_ONLY'], 403, { errorCode: 'CANNOT_ADD_GLOBAL_ROLE' }],
      [['GROUP_WIZARD'], 400, { errorCode: 'INVALID_ENUM_VALUE', parameters: ['GROUP_WIZARD'] }],
      [[], 400, { errorCode: 'INVALID_ATTRIBUTE', parameters: ['roles'] }],
      ['GROUP_OWNER', 400, { errorCode: 'INVALID_JSON_ATTRIBUTE', parameters: ['roles'] }],
    ];
    for (const [r, status, body] of cases) {
      const create = await call(owner, 'POST', `/groups/${p1}/apiKeys`, { desc: 'x', roles: r });
      expect(create.status, JSON.stringify(r)).toBe(status);
      expect(create.json).toMatchObject(body);
      const assign = await call(owner, 'PATCH', `/groups/${p1}/apiKeys/${key.id}`, { roles: r });
      expect(assign.status, JSON.stringify(r)).toBe(status);
      expect(assign.json).toMatchObject(body);
    }
    expect(
      (await call(owner, 'POST', `/groups/${p1}/apiKeys`, { roles: ['GROUP_OWNER'] })).json,
    ).toMatchObject({
      errorCode: 'MISSING_ATTRIBUTE',
      parameters: ['desc'],
    });
    expect((await call(owner, 'PATCH', `/groups/${p1}/apiKeys/${key.id}`, {})).json).toMatchObject({
      errorCode: 'MISSING_ATTRIBUTE',
      parameters: ['roles'],
    });
    expect(await roles(key)).toEqual([{ orgId, roleName: 'ORG_MEMBER' }]);
  });

  it('lets project readers list and refuses weaker roles than GROUP_USER_ADMIN any change with 401', async () => {
    const reader = (
      await call(owner, 'POST', `/groups/${p2}/apiKeys`, { desc: 'reader', roles: ['GROUP_READ_ONLY'] })
    ).json as Key;
    const orgMember = await newKey(orgId, ['ORG_MEMBER']);
    const orgReader = await newKey(orgId, ['ORG_READ_ONLY']);
    const target = await newKey(orgId, ['ORG_MEMBER']);
    expect((await call(reader, 'GET', `/groups/${p2}/apiKeys`)).status).toBe(200);
    expect((await call(orgReader, 'GET', `/groups/${p2}/apiKeys`)).status).toBe(200);
    expect((await call(orgMember, 'GET', `/groups/${p2}/apiKeys`)).json).toEqual(UNAUTHORIZED);
    for (const weak of [reader, orgMember, orgReader]) {
      expect(
        (await call(weak, 'POST', `/groups/${p2}/apiKeys`, { desc: 'x', roles: ['GROUP_READ_ONLY'] })).json,
      ).toEqual(UNAUTHORIZED);
      expect(
        (await call(weak, 'PATCH', `/groups/${p2}/apiKeys/${target.id}`, { roles: ['GROUP_READ_ONLY'] }))
          .json,
      ).toEqual(UNAUTHORIZED);
      expect((await call(weak, 'DELETE', `/groups/${p2}/apiKeys/${reader.id}`)).json).toEqual(UNAUTHORIZED);
    }
    // A user admin of P2 manages P2's keys (below GROUP_OWNER: test/escalation.test.ts) but not P1's.
    const projectAdmin = (
      await call(owner, 'POST', `/groups/${p2}/apiKeys`, { desc: 'p2 admin', roles: ['GROUP_USER_ADMIN'] })
    ).json as Key;
    const ok = await call(projectAdmin, 'PATCH', `/groups/${p2}/apiKeys/${target.id}`, {
      roles: ['GROUP_DATA_ACCESS_ADMIN'],
    });
    expect(ok.status).toBe(200);
    expect(
      (
        await call(projectAdmin, 'PATCH', `/groups/${p1}/apiKeys/${target.id}`, {
          roles: ['GROUP_DATA_ACCESS_ADMIN'],
        })
      ).json,
    ).toEqual(UNAUTHORIZED);
    expect(await roles(target)).toEqual([
      { orgId, roleName: 'ORG_MEMBER' },
      { groupId: p2, roleName: 'GROUP_DATA_ACCESS_ADMIN' },
    ]);
  });

  it('records each change once in the org events, with the project, the key and the actor', async () => {
    const orgE = ((await call(admin, 'POST', '/orgs', { name: 'Events Org' })).json as { id: string }).id;
    const pe = ((await call(admin, 'POST', '/groups', { name: 'PE', orgId: orgE })).json as { id: string })
      .id;
    const actor = await newKey(orgE, ['ORG_OWNER']);
    const made = (
      await call(actor, 'POST', `/groups/${pe}/apiKeys`, { desc: 'made', roles: ['GROUP_OWNER'] })
    ).json as Key;
    const key = await newKey(orgE, ['ORG_MEMBER']);
    await call(actor, 'PATCH', `/groups/${pe}/apiKeys/${key.id}`, { roles: ['GROUP_READ_ONLY'] });
    await call(actor, 'PATCH', `/groups/${pe}/apiKeys/${key.id}`, { roles: ['GROUP_READ_ONLY'] }); // no change
    await call(actor, 'PATCH', `/groups/${pe}/apiKeys/${key.id}`, { roles: ['GROUP_OWNER'] });
    await call(actor, 'DELETE', `/groups/${pe}/apiKeys/${key.id}`);
    const res = await call(admin, 'GET', `/orgs/${orgE}/events?itemsPerPage=500`);
    const events = (res.json as { results: (WireEvent & Json)[] }).results.filter((e) =>
      [
        'API_KEY_CREATED',
        'API_KEY_ADDED_TO_GROUP',
        'API_KEY_ROLES_CHANGED',
        'API_KEY_REMOVED_FROM_GROUP',
      ].includes(e.eventTypeName),
    );
    const pick = ({ apiKeyId, eventTypeName, groupId, orgId: o, publicKey, targetPublicKey }: WireEvent) => ({
      apiKeyId,
      eventTypeName,
      groupId,
      orgId: o,
      publicKey,
      targetPublicKey,
    });
    const byActor = { orgId: orgE, publicKey: actor.publicKey };
    const onKey = { apiKeyId: key.id, targetPublicKey: key.publicKey };
    const onMade = { apiKeyId: made.id, targetPublicKey: made.publicKey };
    // In id order, oldest first: the actor key, then `made`, then `key` and what happened to it.
    expect(events.map(pick)).toEqual([
      {
        ...onKeyOf(actor),
        orgId: orgE,
        publicKey: admin.publicKey,
        eventTypeName: 'API_KEY_CREATED',
        groupId: undefined,
      },
      { ...byActor, ...onMade, eventTypeName: 'API_KEY_CREATED', groupId: undefined },
      { ...byActor, ...onMade, eventTypeName: 'API_KEY_ADDED_TO_GROUP', groupId: pe },
      // The admin created `key` (a global key acting: no org owner's public key).
      {
        ...onKey,
        orgId: orgE,
        publicKey: admin.publicKey,
        eventTypeName: 'API_KEY_CREATED',
        groupId: undefined,
      },
      { ...byActor, ...onKey, eventTypeName: 'API_KEY_ADDED_TO_GROUP', groupId: pe },
      { ...byActor, ...onKey, eventTypeName: 'API_KEY_ROLES_CHANGED', groupId: pe },
      { ...byActor, ...onKey, eventTypeName: 'API_KEY_REMOVED_FROM_GROUP', groupId: pe },
    ]);
    expect(res.text).not.toContain(made.privateKey);
    expect(res.text).not.toContain(actor.privateKey);
  });
});

function onKeyOf(k: Key) {
  return { apiKeyId: k.id, targetPublicKey: k.publicKey };
}
