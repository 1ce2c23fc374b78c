/**
 * The SDK (`pakman/client`) against a real server on a real socket: digest nonce reuse counted on the
 * server's own socket, stale nonces, concurrency, paging over 1,200 keys, typed errors, and every resource.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PakmanApiError, PakmanClient, PakmanConnectionError } from '../src/client/index.js';
import { newObjectId } from '../src/schema/ids.js';
import { generateKeyPair } from '../src/server/auth/credentials.js';
import { isoSeconds } from '../src/server/domain/context.js';
import { apiKeys } from '../src/server/storage/repositories/apiKeys.js';
import { bootstrap, type Creds } from './support/client.js';
import { startTestServer, type TestServer } from './support/server.js';

/** What the server's socket saw for one request. */
interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
  status: number;
  challenge: string | undefined;
}

/** Records every request the server answers, from the http.Server itself (no HTTP mocking). */
function watch(s: TestServer): Seen[] {
  const seen: Seen[] = [];
  s.app.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    // Fastify passes headers to writeHead directly, so read the challenge there.
    let challenge: string | undefined;
    const writeHead = res.writeHead.bind(res) as (...a: unknown[]) => ServerResponse;
    res.writeHead = ((...args: unknown[]) => {
      const headers = args.find((a) => a && typeof a === 'object') as Record<string, unknown> | undefined;
      const h = headers?.['www-authenticate'] ?? headers?.['WWW-Authenticate'];
      challenge = Array.isArray(h) ? h.join(', ') : (h as string | undefined);
      return writeHead(...args);
    }) as ServerResponse['writeHead'];
    res.on('finish', () =>
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        authorization: req.headers.authorization,
        status: res.statusCode,
        challenge: challenge ?? (res.getHeader('www-authenticate') as string | undefined),
      }),
    );
  });
  return seen;
}

const param = (auth: string | undefined, name: string) =>
  new RegExp(`${name}="?([^",]+)"?`).exec(auth ?? '')?.[1];

/** Inserts `n` org keys straight through the repository, in one transaction, for speed. */
async function seedKeys(s: TestServer, orgId: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  await s.conn.db.transaction().execute(async (trx) => {
    for (let i = 0; i < n; i++) {
      const m = generateKeyPair();
      const id = newObjectId();
      ids.push(id);
      await apiKeys.insert(
        trx,
        {
          id,
          orgId,
          desc: `seed ${i}`,
          created: isoSeconds(Date.now()),
          publicKey: m.publicKey,
          ha1Md5: m.ha1Md5,
          ha1Sha256: m.ha1Sha256,
          keyTail: m.keyTail,
        },
        [{ scope: 'org', scopeId: orgId, roleName: 'ORG_MEMBER' }],
      );
    }
  });
  return ids;
}

describe('SDK: digest transport', () => {
  let s: TestServer;
  let admin: Creds;
  let seen: Seen[];
  const client = () =>
    new PakmanClient({
      baseUrl: s.origin,
      credentials: { publicKey: admin.publicKey, privateKey: admin.privateKey },
    });

  beforeAll(async () => {
    s = await startTestServer();
    admin = await bootstrap(s.base);
    seen = watch(s);
  });
  afterAll(async () => s?.close());

  it('pays one 401 on the first call, then one round trip per call with nc 1, 2, 3…', async () => {
    const c = client();
    seen.length = 0;
    for (let i = 0; i < 10; i++) await c.root();
    expect(seen).toHaveLength(11);
    expect(seen.filter((r) => r.status === 401)).toHaveLength(1);
    expect(seen[0]!.authorization).toBeUndefined();
    const authed = seen.slice(1);
    expect(authed.every((r) => r.status === 200)).toBe(true);
    expect(new Set(authed.map((r) => param(r.authorization, 'nonce'))).size).toBe(1);
    expect(authed.map((r) => param(r.authorization, 'nc'))).toEqual(
      Array.from({ length: 10 }, (_, i) => (i + 1).toString(16).padStart(8, '0')),
    );
    expect(new Set(authed.map((r) => param(r.authorization, 'cnonce'))).size).toBe(10);
  });

  it('keeps 50 parallel calls on one client all 2xx, sharing one challenge', async () => {
    const c = client();
    seen.length = 0;
    const results = await Promise.all(Array.from({ length: 50 }, () => c.orgs.list()));
    expect(results).toHaveLength(50);
    expect(seen.filter((r) => r.status === 401)).toHaveLength(1);
    expect(seen.filter((r) => r.status === 200)).toHaveLength(50);
    const ncs = seen.filter((r) => r.authorization).map((r) => param(r.authorization, 'nc'));
    expect(new Set(ncs).size).toBe(50);

    seen.length = 0;
    await Promise.all(Array.from({ length: 50 }, () => c.orgs.list()));
    expect(seen).toHaveLength(50);
    expect(seen.every((r) => r.status === 200)).toBe(true);
  });

  it('answers a wrong private key with a typed 401 after two round trips, no retry loop', async () => {
    const c = new PakmanClient({
      baseUrl: s.origin,
      credentials: { publicKey: admin.publicKey, privateKey: '00000000-0000-4000-8000-000000000000' },
    });
    seen.length = 0;
    const err = await c.root().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PakmanApiError);
    expect(err).toMatchObject({
      status: 401,
      errorCode: null,
      detail: 'You are not authorized for this resource.',
    });
    expect(seen).toHaveLength(2);
  });

  it('raises PakmanConnectionError when nothing listens', async () => {
    const c = new PakmanClient({
      baseUrl: 'http://127.0.0.1:1',
      credentials: { publicKey: 'a', privateKey: 'b' },
    });
    await expect(c.root()).rejects.toBeInstanceOf(PakmanConnectionError);
  });

  it('gives up on a server that accepts and never answers, after timeoutMs, with a PakmanConnectionError', async () => {
    const held: Socket[] = [];
    const silent = createServer((socket) => void held.push(socket));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const { port } = silent.address() as AddressInfo;
    try {
      const c = new PakmanClient({
        baseUrl: `http://127.0.0.1:${port}`,
        credentials: { publicKey: 'a', privateKey: 'b' },
        timeoutMs: 300,
      });
      const t = Date.now();
      const err = await c.root().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PakmanConnectionError);
      expect((err as Error).message).toBe(`cannot reach http://127.0.0.1:${port}: timed out after 300 ms`);
      expect(Date.now() - t).toBeGreaterThanOrEqual(290);
      expect(held.length).toBe(1);
    } finally {
      for (const socket of held) socket.destroy();
      await new Promise((r) => silent.close(r));
    }
  });
});

describe('SDK: stale nonces', () => {
  let s: TestServer;
  let admin: Creds;
  let seen: Seen[];
  beforeAll(async () => {
    s = await startTestServer({ nonceLifetimeSeconds: 1 });
    admin = await bootstrap(s.base);
    seen = watch(s);
  });
  afterAll(async () => s?.close());

  it('retries once on stale=true with the new nonce, then reuses that one', async () => {
    const c = new PakmanClient({ baseUrl: s.base, credentials: admin });
    await c.root();
    const first = c.core.transport.currentNonce;
    await new Promise((r) => setTimeout(r, 3100));
    seen.length = 0;
    await c.root();
    expect(seen.map((r) => r.status)).toEqual([401, 200]);
    expect(seen[0]!.challenge).toMatch(/stale=true$/);
    expect(c.core.transport.currentNonce).not.toBe(first);
    expect(param(seen[1]!.authorization, 'nc')).toBe('00000001');
    seen.length = 0;
    await c.root();
    expect(seen.map((r) => r.status)).toEqual([200]);
  });

  it('recovers every one of 20 parallel calls made with an expired nonce', async () => {
    const c = new PakmanClient({ baseUrl: s.base, credentials: admin });
    await c.root();
    await new Promise((r) => setTimeout(r, 3100));
    const out = await Promise.all(Array.from({ length: 20 }, () => c.root()));
    expect(out.every((r) => r.appName === 'pakman')).toBe(true);
  });
});

describe('SDK: paging and typed errors', () => {
  let s: TestServer;
  let c: PakmanClient;
  let orgId: string;
  let seeded: string[];
  beforeAll(async () => {
    s = await startTestServer();
    const admin = await bootstrap(s.base);
    c = new PakmanClient({ baseUrl: `${s.origin}/`, credentials: admin });
    orgId = (await c.orgs.create({ name: 'Big' })).id;
    seeded = await seedKeys(s, orgId, 1200);
  });
  afterAll(async () => s?.close());

  it('lists one page with totalCount and links', async () => {
    const page = await c.orgApiKeys.list(orgId, { pageNum: 2, itemsPerPage: 100 });
    expect(page.totalCount).toBe(1200);
    expect(page.results).toHaveLength(100);
    expect(page.links.map((l) => l.rel)).toEqual(['self', 'previous', 'next']);
  });

  it('iterates every key of a 1,200-key org exactly once, following next links', async () => {
    const ids: string[] = [];
    for await (const k of c.orgApiKeys.iterate(orgId, { itemsPerPage: 100 })) ids.push(k.id);
    expect(ids).toHaveLength(1200);
    expect(new Set(ids).size).toBe(1200);
    expect([...ids].sort()).toEqual([...seeded].sort());
    let pages = 0;
    for await (const p of c.orgApiKeys.pages(orgId)) {
      pages++;
      expect(p.totalCount).toBe(1200);
    }
    expect(pages).toBe(3); // 500 per page by default
  });

  it('throws PakmanApiError with status, errorCode, detail and parameters', async () => {
    const unknown = 'aaaaaaaaaaaaaaaaaaaaaaaa';
    const err = await c.orgs.get(unknown).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PakmanApiError);
    expect(err).toMatchObject({
      status: 404,
      errorCode: 'ORG_NOT_FOUND',
      detail: `No organization with ID ${unknown} exists.`,
      parameters: [unknown],
      reason: 'Not Found',
    });
    await expect(c.orgApiKeys.get(orgId, 'abcdefgh')).rejects.toMatchObject({
      status: 400,
      errorCode: 'PATH_PARAM_PARSE_ERROR',
    });
    await expect(c.orgApiKeys.get(orgId, unknown)).rejects.toMatchObject({ errorCode: 'API_KEY_NOT_FOUND' });
    await expect(c.orgApiKeys.create(orgId, { desc: 'x', roles: ['GROUP_OWNER'] })).rejects.toMatchObject({
      status: 400,
      errorCode: 'ROLE_NEEDS_GROUP_ID',
      parameters: ['GROUP_OWNER'],
    });
  });
});

describe('SDK: every resource of api.md §7', () => {
  let s: TestServer;
  let c: PakmanClient;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => s?.close());

  it('bootstraps the first user, reads version and root', async () => {
    const anon = new PakmanClient({ baseUrl: s.origin });
    const v = await anon.version();
    expect(v.gitHash).not.toBe('');
    expect(Object.keys(v.header)).toEqual(['gitHash', 'versionString']);
    const first = await anon.createFirstUser(
      { username: 'root@example.com', password: 'Correct-Horse-9', firstName: 'Ro', lastName: 'Ot' },
      { accessList: ['127.0.0.1', '10.0.0.0/8'] },
    );
    expect(first.programmaticApiKey.roles).toEqual([{ roleName: 'GLOBAL_OWNER' }]);
    expect(first.user.username).toBe('root@example.com');
    await expect(
      anon.createFirstUser({ username: 'x@example.com', password: 'p', firstName: 'a', lastName: 'b' }),
    ).rejects.toMatchObject({ status: 403, errorCode: 'INVITATION_ONLY_MODE_OR_LDAP' });
    c = new PakmanClient({ baseUrl: s.base, credentials: first.programmaticApiKey });
    expect(await c.root()).toMatchObject({ appName: 'pakman', throttling: false });
  });

  it('orgs, org keys, access lists (and the whitelist alias)', async () => {
    const org = await c.orgs.create({ name: 'Resources' });
    expect(await c.orgs.update(org.id, { name: 'Renamed' })).toMatchObject({ name: 'Renamed' });
    expect((await c.orgs.list({ name: 'Renamed' })).results.map((o) => o.id)).toEqual([org.id]);
    const key = await c.orgApiKeys.create(org.id, { desc: 'first', roles: ['ORG_MEMBER'] });
    expect(key.privateKey).toMatch(/^[0-9a-f]{8}-[0-9a-f-]{27}$/);
    expect(await c.orgApiKeys.update(org.id, key.id, { desc: 'changed' })).toMatchObject({ desc: 'changed' });
    expect((await c.orgApiKeys.get(org.id, key.id)).privateKey).toBe(
      `********-****-****-${key.privateKey.slice(-12)}`,
    );

    const added = await c.accessLists.add(org.id, key.id, [
      { ipAddress: '10.1.1.1' },
      { cidrBlock: '10.2.0.0/16' },
    ]);
    expect(added.totalCount).toBe(2);
    expect((await c.accessLists.get(org.id, key.id, '10.2.0.0/16')).cidrBlock).toBe('10.2.0.0/16');
    expect((await c.accessLists.get(org.id, key.id, '10.1.1.1')).ipAddress).toBe('10.1.1.1');
    const legacy = await c.whitelists.list(org.id, key.id);
    expect(legacy.links[0]!.href).toContain('/whitelist');
    await c.whitelists.delete(org.id, key.id, '10.1.1.1');
    await c.accessLists.delete(org.id, key.id, '10.2.0.0/16');
    expect((await c.accessLists.list(org.id, key.id)).totalCount).toBe(0);
    await expect(c.accessLists.get(org.id, key.id, '10.9.9.9')).rejects.toMatchObject({
      errorCode: 'API_KEY_ACCESS_LIST_NOT_FOUND',
    });

    // The new key itself can call the API through its own client.
    const own = new PakmanClient({ baseUrl: s.origin, credentials: key });
    expect((await own.orgApiKeys.list(org.id)).totalCount).toBe(1);

    await c.orgApiKeys.delete(org.id, key.id);
    await expect(c.orgApiKeys.get(org.id, key.id)).rejects.toMatchObject({ status: 404 });
    await c.orgs.delete(org.id);
    await expect(c.orgs.get(org.id)).rejects.toMatchObject({ errorCode: 'ORG_NOT_FOUND' });
  });

  it('projects, project keys, users, events', async () => {
    const org = await c.orgs.create({ name: 'WithProjects' });
    const project = await c.projects.create({ name: 'P1', orgId: org.id });
    expect(project).toMatchObject({ name: 'P1', orgId: org.id });
    expect((await c.projects.get(project.id)).id).toBe(project.id);
    expect((await c.projects.getByName('P1')).id).toBe(project.id);
    expect((await c.projects.list()).results.map((p) => p.id)).toContain(project.id);
    expect((await c.orgs.projects(org.id)).totalCount).toBe(1);

    const pkey = await c.projectApiKeys.create(project.id, { desc: 'proj', roles: ['GROUP_READ_ONLY'] });
    expect(pkey.roles).toEqual([{ groupId: project.id, roleName: 'GROUP_READ_ONLY' }]);
    const okey = await c.orgApiKeys.create(org.id, { desc: 'org', roles: ['ORG_MEMBER'] });
    const assigned = await c.projectApiKeys.assign(project.id, okey.id, { roles: ['GROUP_OWNER'] });
    expect(assigned.roles).toEqual(
      expect.arrayContaining([
        { orgId: org.id, roleName: 'ORG_MEMBER' },
        { groupId: project.id, roleName: 'GROUP_OWNER' },
      ]),
    );
    const ids: string[] = [];
    for await (const k of c.projectApiKeys.iterate(project.id)) ids.push(k.id);
    expect(ids.sort()).toEqual([pkey.id, okey.id].sort());
    await c.projectApiKeys.unassign(project.id, okey.id);
    expect((await c.projectApiKeys.list(project.id)).totalCount).toBe(1);

    const user = await c.users.create({
      username: 'jo@example.com',
      password: 'Another-Horse-7',
      firstName: 'Jo',
      lastName: 'Doe',
      emailAddress: 'jo@example.com',
      roles: [{ orgId: org.id, roleName: 'ORG_MEMBER' }],
    });
    expect(user).not.toHaveProperty('password');
    expect((await c.users.get(user.id)).username).toBe('jo@example.com');
    expect((await c.users.getByName('jo@example.com')).id).toBe(user.id);
    expect(await c.users.update(user.id, { lastName: 'Roe' })).toMatchObject({ lastName: 'Roe' });
    expect((await c.orgs.users(org.id)).results.map((u) => u.id)).toContain(user.id);
    expect((await c.projects.users(project.id)).totalCount).toBeGreaterThanOrEqual(0);
    await c.users.delete(user.id);
    await expect(c.users.get(user.id)).rejects.toMatchObject({ errorCode: 'USER_NOT_FOUND' });

    const events: string[] = [];
    for await (const e of c.events.iterate({ orgId: org.id })) events.push(e.eventTypeName);
    expect(events).toEqual(expect.arrayContaining(['API_KEY_CREATED', 'API_KEY_ADDED_TO_GROUP']));
    const filtered = await c.events.list({ orgId: org.id }, { eventType: ['API_KEY_REMOVED_FROM_GROUP'] });
    expect(filtered.results.map((e) => e.eventTypeName)).toEqual(['API_KEY_REMOVED_FROM_GROUP']);
    const one = filtered.results[0]!;
    expect((await c.events.get({ orgId: org.id }, one.id)).id).toBe(one.id);
    expect((await c.events.list({ projectId: project.id })).totalCount).toBeGreaterThan(0);

    await c.projects.delete(project.id);
    await expect(c.projects.get(project.id)).rejects.toMatchObject({ errorCode: 'GROUP_NOT_FOUND' });
  });

  it('global keys, their roles, and the global access list (and its whitelist alias)', async () => {
    expect(await c.globalApiKeys.roles()).toEqual(expect.arrayContaining(['GLOBAL_READ_ONLY']));
    const g = await c.globalApiKeys.create({ desc: 'reader', roles: ['GLOBAL_READ_ONLY'] });
    expect(g.links[0]!.href).toContain('/orgs/null/apiKeys/');
    expect(await c.globalApiKeys.update(g.id, { desc: 'reader 2' })).toMatchObject({ desc: 'reader 2' });
    expect((await c.globalApiKeys.get(g.id)).roles).toEqual([{ roleName: 'GLOBAL_READ_ONLY' }]);
    const all: string[] = [];
    for await (const k of c.globalApiKeys.iterate()) all.push(k.id);
    expect(all).toContain(g.id);
    await c.globalApiKeys.delete(g.id);

    const before = await c.globalAccessList.list();
    expect(before.results.map((e) => e.cidrBlock)).toEqual(
      expect.arrayContaining(['127.0.0.1/32', '10.0.0.0/8']),
    );
    const entry = await c.globalAccessList.create({ cidrBlock: '192.0.2.0/24', description: 'docs' });
    expect(entry).toMatchObject({ cidrBlock: '192.0.2.0/24', type: 'GLOBAL_ROLE' });
    expect(await c.globalAccessList.update(entry.id, { description: 'docs 2' })).toMatchObject({
      description: 'docs 2',
    });
    expect((await c.globalWhitelist.get(entry.id)).id).toBe(entry.id);
    await c.globalWhitelist.delete(entry.id);
    expect((await c.globalAccessList.list()).totalCount).toBe(before.totalCount);
  });
});
