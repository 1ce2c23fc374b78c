/**
 * Audit events (`/orgs/{ORG-ID}/events`, `/groups/{PROJECT-ID}/events`): every change once, in id order,
 * who did it and from where, never a secret; filters by type and date; on every database. The server runs
 * on a clock the test moves, so dates are exact.
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
interface WireEvent extends Json {
  created: string;
  eventTypeName: string;
  id: string;
}
interface EventList {
  links: { href: string; rel: string }[];
  results: WireEvent[];
  totalCount: number;
}

describe.each(DIALECTS)('audit events (%s)', (dialect) => {
  let s: TestServer;
  let now = Date.parse('2024-01-10T12:00:00Z');
  let admin: Creds;
  let orgId: string;
  let otherOrg: string;
  let pid: string;
  let owner: Key;
  let key: Key;
  const secrets: string[] = [];
  const call = (who: Creds, method: string, path: string, body?: unknown) =>
    digest(who, method, `${s.base}${path}`, body === undefined ? {} : { body });
  const list = async (who: Creds, path: string) => {
    const res = await call(who, 'GET', path);
    expect(res.status, res.text).toBe(200);
    return res.json as EventList;
  };
  const types = (l: EventList) => l.results.map((e) => e.eventTypeName);

  beforeAll(async () => {
    s = await startTestServer({ dialect, clock: () => now });
    admin = await bootstrap(s.base);
    secrets.push(admin.privateKey);
    orgId = ((await call(admin, 'POST', '/orgs', { name: 'Audited' })).json as { id: string }).id;
    otherOrg = ((await call(admin, 'POST', '/orgs', { name: 'Unrelated' })).json as { id: string }).id;
    owner = (await call(admin, 'POST', `/orgs/${orgId}/apiKeys`, { desc: 'owner', roles: ['ORG_OWNER'] }))
      .json as Key;
    secrets.push(owner.privateKey);
    now = Date.parse('2024-02-01T00:00:00Z');
    pid = ((await call(owner, 'POST', '/groups', { name: 'Audited P', orgId })).json as { id: string }).id;
    key = (await call(owner, 'POST', `/orgs/${orgId}/apiKeys`, { desc: 'worker', roles: ['ORG_MEMBER'] }))
      .json as Key;
    secrets.push(key.privateKey);
    now = Date.parse('2024-03-01T08:30:00Z');
    await call(owner, 'PATCH', `/orgs/${orgId}/apiKeys/${key.id}`, { desc: 'worker 2' });
    await call(owner, 'PATCH', `/groups/${pid}/apiKeys/${key.id}`, { roles: ['GROUP_READ_ONLY'] });
    await call(admin, 'POST', `/orgs/${otherOrg}/apiKeys`, { desc: 'elsewhere', roles: ['ORG_MEMBER'] });
  });
  afterAll(async () => s?.close());

  it('lists every change of the org once, oldest first (id order, api.md §2), with actor, target and address', async () => {
    const l = await list(owner, `/orgs/${orgId}/events`);
    expect(types(l)).toEqual([
      'ORG_CREATED',
      'API_KEY_CREATED',
      'GROUP_CREATED',
      'API_KEY_CREATED',
      'API_KEY_DESCRIPTION_CHANGED',
      'API_KEY_ADDED_TO_GROUP',
    ]);
    expect(l.totalCount).toBe(6);
    const [, ownerCreated, groupCreated, , renamed, added] = l.results;
    expect(added).toEqual({
      apiKeyId: key.id,
      created: '2024-03-01T08:30:00Z',
      eventTypeName: 'API_KEY_ADDED_TO_GROUP',
      groupId: pid,
      id: added!.id,
      isGlobalAdmin: false,
      links: [{ href: `${s.base}/orgs/${orgId}/events/${added!.id}`, rel: 'self' }],
      orgId,
      publicKey: owner.publicKey,
      remoteAddress: '127.0.0.1',
      targetPublicKey: key.publicKey,
    });
    expect(renamed).toMatchObject({ eventTypeName: 'API_KEY_DESCRIPTION_CHANGED', apiKeyId: key.id });
    expect(groupCreated).toMatchObject({
      created: '2024-02-01T00:00:00Z',
      groupId: pid,
      publicKey: owner.publicKey,
    });
    // The bootstrap key acted: a global admin.
    expect(ownerCreated).toMatchObject({
      isGlobalAdmin: true,
      publicKey: admin.publicKey,
      targetPublicKey: owner.publicKey,
    });
    for (const e of l.results) expect(e.id).toMatch(/^[0-9a-f]{24}$/);
  });

  it('never shows a secret', async () => {
    const all = await call(admin, 'GET', `/orgs/${orgId}/events?itemsPerPage=500&pretty=true`);
    for (const secret of secrets) {
      expect(all.text).not.toContain(secret);
      expect(all.text).not.toContain(secret.slice(-12));
    }
  });

  it('reads one event under the org, and the project events under the project', async () => {
    const latest = (await list(admin, `/orgs/${orgId}/events`)).results.at(-1);
    const one = await call(key, 'GET', `/orgs/${orgId}/events/${latest!.id}`);
    expect(one.status).toBe(200);
    expect(one.json).toEqual(latest);

    const p = await list(key, `/groups/${pid}/events`);
    expect(types(p)).toEqual(['GROUP_CREATED', 'API_KEY_ADDED_TO_GROUP']);
    const first = p.results[0]!;
    expect(first.links).toEqual([{ href: `${s.base}/groups/${pid}/events/${first.id}`, rel: 'self' }]);
    expect((await call(key, 'GET', `/groups/${pid}/events/${first.id}`)).json).toEqual(first);

    // An org-level event is not the project's; another org's event is not this org's.
    const orgLevel = (await list(admin, `/orgs/${orgId}/events`)).results.find(
      (e) => e.eventTypeName === 'ORG_CREATED',
    )!;
    const notInProject = await call(admin, 'GET', `/groups/${pid}/events/${orgLevel.id}`);
    expect(notInProject.status).toBe(404);
    expect(notInProject.json).toMatchObject({ errorCode: 'EVENT_NOT_FOUND', parameters: [orgLevel.id] });
    const foreign = (await list(admin, `/orgs/${otherOrg}/events`)).results[0]!;
    expect((await call(admin, 'GET', `/orgs/${orgId}/events/${foreign.id}`)).status).toBe(404);
  });

  it('filters by eventType (repeatable) and by inclusive minDate/maxDate', async () => {
    const base = `/orgs/${orgId}/events`;
    expect(types(await list(admin, `${base}?eventType=API_KEY_CREATED`))).toEqual([
      'API_KEY_CREATED',
      'API_KEY_CREATED',
    ]);
    expect(types(await list(admin, `${base}?eventType=GROUP_CREATED&eventType=ORG_CREATED`))).toEqual([
      'ORG_CREATED',
      'GROUP_CREATED',
    ]);
    expect(types(await list(admin, `${base}?eventType=HOST_DOWN`))).toEqual([]);
    expect(types(await list(admin, `${base}?minDate=2024-02-01T00:00:00Z`))).toHaveLength(4);
    expect(types(await list(admin, `${base}?minDate=2024-02-01T00:00:01Z`))).toHaveLength(2);
    expect(types(await list(admin, `${base}?maxDate=2024-02-01T00:00:00Z`))).toEqual([
      'ORG_CREATED',
      'API_KEY_CREATED',
      'GROUP_CREATED',
      'API_KEY_CREATED',
    ]);
    expect(types(await list(admin, `${base}?minDate=2024-01-15&maxDate=2024-02-15`))).toEqual([
      'GROUP_CREATED',
      'API_KEY_CREATED',
    ]);
    // 2024-03-01T09:30+01:00 is 08:30Z: the last three changes are on that second.
    expect(
      types(await list(admin, `${base}?minDate=${encodeURIComponent('2024-03-01T09:30:00+01:00')}`)),
    ).toHaveLength(2);
    const filtered = await list(admin, `${base}?eventType=API_KEY_CREATED&minDate=2024-01-01&itemsPerPage=1`);
    expect(filtered.totalCount).toBe(2);
    expect(filtered.links).toEqual([
      {
        href: `${s.base}${base}?eventType=API_KEY_CREATED&minDate=2024-01-01&pageNum=1&itemsPerPage=1`,
        rel: 'self',
      },
      {
        href: `${s.base}${base}?eventType=API_KEY_CREATED&minDate=2024-01-01&itemsPerPage=1&pageNum=2`,
        rel: 'next',
      },
    ]);
  });

  it('refuses malformed filters with 400 INVALID_QUERY_PARAMETER', async () => {
    for (const [q, name] of [
      ['minDate=yesterday', 'minDate'],
      ['maxDate=2024-02-30', 'maxDate'],
      ['minDate=2024-01-01T24:00:00Z', 'minDate'],
      ['maxDate=', 'maxDate'],
      ['eventType=api%20key', 'eventType'],
      ['includeRaw=maybe', 'includeRaw'],
    ]) {
      for (const path of [`/orgs/${orgId}/events`, `/groups/${pid}/events`]) {
        const res = await call(admin, 'GET', `${path}?${q}`);
        expect(res.status, `${path}?${q}`).toBe(400);
        expect(res.json).toEqual({
          detail: `Invalid query parameter ${name} specified.`,
          error: 400,
          errorCode: 'INVALID_QUERY_PARAMETER',
          parameters: [name],
          reason: 'Bad Request',
        });
      }
    }
    expect((await call(admin, 'GET', `/orgs/${orgId}/events?includeRaw=true`)).status).toBe(200);
  });

  it('shows events to the org and project readers only', async () => {
    const projectOnly = (
      await call(owner, 'POST', `/groups/${pid}/apiKeys`, {
        desc: 'project only',
        roles: ['GROUP_READ_ONLY'],
      })
    ).json as Key;
    expect((await call(projectOnly, 'GET', `/groups/${pid}/events`)).status).toBe(200);
    expect((await call(projectOnly, 'GET', `/orgs/${orgId}/events`)).json).toEqual(UNAUTHORIZED);
    const outsider = (
      await call(admin, 'POST', `/orgs/${otherOrg}/apiKeys`, { desc: 'o', roles: ['ORG_OWNER'] })
    ).json as Key;
    expect((await call(outsider, 'GET', `/orgs/${orgId}/events`)).json).toEqual(UNAUTHORIZED);
    expect((await call(outsider, 'GET', `/groups/${pid}/events`)).json).toEqual(UNAUTHORIZED);
    const unknown = 'abcdefabcdefabcdefabcdef';
    expect((await call(admin, 'GET', `/orgs/${unknown}/events`)).json).toMatchObject({
      errorCode: 'ORG_NOT_FOUND',
    });
    expect((await call(admin, 'GET', `/groups/${unknown}/events`)).json).toMatchObject({
      errorCode: 'GROUP_NOT_FOUND',
    });
    expect((await call(admin, 'GET', `/orgs/${orgId}/events/${unknown}`)).json).toMatchObject({
      errorCode: 'EVENT_NOT_FOUND',
      detail: `No event with ID ${unknown} exists.`,
    });
  });
});
