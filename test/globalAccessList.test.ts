/**
 * The global access list end to end: `/admin/accessList` and `/admin/whitelist`, and its enforcement on
 * global keys. The servers trust 127.0.0.1 as a proxy, so the admin key can call "from" another address
 * (X-Forwarded-For) and stay able to recover while the list locks 127.0.0.1 out.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserService } from '../src/server/domain/users.js';
import { bootstrap, type CallOptions, type Creds, digest, type TestResponse } from './support/client.js';
import { DIALECTS } from './support/dialects.js';
import { expectError, expectUnauthorized } from './support/expect.js';
import { startTestServer, type TestServer } from './support/server.js';

const ISO = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
const ID = expect.stringMatching(/^[0-9a-f]{24}$/);

type Key = Creds & { id: string };
type Entry = { id: string; cidrBlock: string; lastUsed: string | null; updated: string };

async function createGlobalKey(s: TestServer, creds: Creds, roles: string[], opts: CallOptions = {}) {
  const res = await digest(creds, 'POST', `${s.base}/admin/apiKeys`, { ...opts, body: { desc: 'g', roles } });
  expect(res.status).toBe(200);
  return res.json as Key;
}

describe.each(DIALECTS)('global access list (%s)', (dialect) => {
  let s: TestServer;
  let admin: Key;
  let url: string;
  let loopback: Entry;

  const add = (body: unknown, creds: Creds = admin) => digest(creds, 'POST', url, { body });

  beforeAll(async () => {
    s = await startTestServer({ dialect });
    admin = await bootstrap(s.base);
    url = `${s.base}/admin/accessList`;
  });
  afterAll(async () => s?.close());

  it('starts empty', async () => {
    const res = await digest(admin, 'GET', url);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      links: [{ href: `${url}?pageNum=1&itemsPerPage=100`, rel: 'self' }],
      results: [],
      totalCount: 0,
    });
  });

  it('adds an entry (200) and returns it', async () => {
    // The caller's own address goes in first, so the admin key stays admitted.
    const res = await add({ cidrBlock: '127.0.0.1/32', description: 'loopback' });
    expect(res.status).toBe(200);
    loopback = res.json as Entry;
    expect(loopback).toEqual({
      cidrBlock: '127.0.0.1/32',
      created: ISO,
      description: 'loopback',
      expires: null,
      id: ID,
      lastUsed: null,
      links: [{ href: `${url}/${loopback.id}`, rel: 'self' }],
      type: 'GLOBAL_ROLE',
      updated: ISO,
    });
    const events = await s.conn.db
      .selectFrom('events')
      .select(['whitelist_entry', 'actor_public_key', 'org_id'])
      .where('event_type', '=', 'GLOBAL_ACCESS_LIST_ENTRY_ADDED')
      .execute();
    expect(events).toEqual([
      { whitelist_entry: '127.0.0.1/32', actor_public_key: admin.publicKey, org_id: null },
    ]);
  });

  it('normalizes bare IPs and accepts IPv6 blocks', async () => {
    const bare = await add({ cidrBlock: '10.20.30.40', description: 'one host' });
    expect(bare.json).toMatchObject({ cidrBlock: '10.20.30.40/32', description: 'one host' });
    const v6 = await add({ cidrBlock: '2001:DB8::/32', description: 'v6 range' });
    expect(v6.json).toMatchObject({ cidrBlock: '2001:db8::/32', type: 'GLOBAL_ROLE', expires: null });
    const list = await digest(admin, 'GET', url);
    expect(list.json).toMatchObject({
      results: [
        { cidrBlock: '127.0.0.1/32' },
        { cidrBlock: '10.20.30.40/32' },
        { cidrBlock: '2001:db8::/32' },
      ],
      totalCount: 3,
    });
  });

  it('gets one entry, with hrefs following accessList or the whitelist alias', async () => {
    // The admin's own requests are counted on the loopback entry meanwhile (its lastUsed is set by the
    // next usage flush, about a second later): compare without lastUsed.
    const bare = (e: unknown) => ({ ...(e as Entry), lastUsed: undefined });
    const one = await digest(admin, 'GET', `${url}/${loopback.id}`);
    expect(one.status).toBe(200);
    expect(bare(one.json)).toEqual(bare(loopback));
    const wl = `${s.base}/admin/whitelist`;
    const viaAlias = await digest(admin, 'GET', `${wl}/${loopback.id}`);
    expect(bare(viaAlias.json)).toEqual(
      bare({ ...loopback, links: [{ href: `${wl}/${loopback.id}`, rel: 'self' }] }),
    );
    const list = await digest(admin, 'GET', `${wl}?itemsPerPage=1`);
    const page = list.json as { results: Entry[] };
    expect({ ...page, results: page.results.map(bare) }).toEqual({
      links: [
        { href: `${wl}?pageNum=1&itemsPerPage=1`, rel: 'self' },
        { href: `${wl}?itemsPerPage=1&pageNum=2`, rel: 'next' },
      ],
      results: [bare({ ...loopback, links: [{ href: `${wl}/${loopback.id}`, rel: 'self' }] })],
      totalCount: 3,
    });
  });

  it('refuses duplicates and bad input, changing nothing', async () => {
    // The admin's own requests are counted on the loopback entry meanwhile: compare without lastUsed.
    const entries = async () =>
      ((await digest(admin, 'GET', url)).json as { results: Entry[] }).results.map((e) => ({
        ...e,
        lastUsed: undefined,
      }));
    const before = await entries();
    const dup = [
      409,
      'DUPLICATE_GLOBAL_ACCESS_LIST_ENTRY',
      'The address 127.0.0.1/32 is already on the global access list.',
      ['127.0.0.1/32'],
    ] as const;
    expectError(await add({ cidrBlock: '127.0.0.1/32', description: 'again' }), ...dup);
    expectError(await add({ cidrBlock: '127.0.0.1', description: 'again' }), ...dup);
    const invalid = (attr: string) =>
      [400, 'INVALID_ATTRIBUTE', `Invalid attribute ${attr} specified.`, [attr]] as const;
    const missing = (attr: string) =>
      [400, 'MISSING_ATTRIBUTE', `The required attribute ${attr} was not specified.`, [attr]] as const;
    expectError(await add({ cidrBlock: '10.0.0.1/8', description: 'host bits' }), ...invalid('cidrBlock'));
    expectError(await add({ cidrBlock: '10.0.0.0/40', description: 'x' }), ...invalid('cidrBlock'));
    expectError(await add({ cidrBlock: 'example.com', description: 'x' }), ...invalid('cidrBlock'));
    expectError(await add({ cidrBlock: '2001:db8::1/32', description: 'x' }), ...invalid('cidrBlock'));
    expectError(await add({ cidrBlock: '10.1.0.0/16', description: '' }), ...invalid('description'));
    expectError(
      await add({ cidrBlock: '10.1.0.0/16', description: 'd'.repeat(251) }),
      ...invalid('description'),
    );
    expectError(
      await add({ cidrBlock: '10.1.0.0/16', description: 'x', type: 'GLOBAL_ROLE' }),
      ...invalid('type'),
    );
    expectError(await add({ cidrBlock: '10.1.0.0/16' }), ...missing('description'));
    expectError(await add({ description: 'x' }), ...missing('cidrBlock'));
    expectError(
      await add({ cidrBlock: '10.1.0.0/16', description: 'x', id: loopback.id }),
      400,
      'ATTRIBUTE_READ_ONLY',
      'The attribute id is read-only and cannot be changed by the user.',
      ['id'],
    );
    expectError(
      await add([{ cidrBlock: '10.1.0.0/16', description: 'x' }]),
      400,
      'INVALID_JSON',
      'Received JSON does not match expected format.',
    );
    expect(await entries()).toEqual(before);
    // The longest accepted description is 250 characters.
    const long = await add({ cidrBlock: '10.1.0.0/16', description: 'd'.repeat(250) });
    expect(long.status).toBe(200);
    expect((await digest(admin, 'DELETE', `${url}/${(long.json as Entry).id}`)).status).toBe(204);
  });

  it('patches the description and the block', async () => {
    const created = (await add({ cidrBlock: '192.0.2.0/24', description: 'docs' })).json as Entry;
    const entryUrl = `${url}/${created.id}`;
    const desc = await digest(admin, 'PATCH', entryUrl, { body: { description: 'renamed' } });
    expect(desc.status).toBe(200);
    expect(desc.json).toEqual({ ...created, description: 'renamed', updated: ISO });
    const block = await digest(admin, 'PATCH', entryUrl, { body: { cidrBlock: '198.51.100.0/24' } });
    expect(block.json).toEqual({
      ...created,
      cidrBlock: '198.51.100.0/24',
      description: 'renamed',
      updated: ISO,
    });
    expect((await digest(admin, 'GET', entryUrl)).json).toEqual(block.json);
    expectError(
      await digest(admin, 'PATCH', entryUrl, { body: {} }),
      400,
      'MISSING_ATTRIBUTE',
      'The required attribute cidrBlock or description was not specified.',
      ['cidrBlock or description'],
    );
    expectError(
      await digest(admin, 'PATCH', entryUrl, { body: { cidrBlock: '127.0.0.1/32' } }),
      409,
      'DUPLICATE_GLOBAL_ACCESS_LIST_ENTRY',
      'The address 127.0.0.1/32 is already on the global access list.',
      ['127.0.0.1/32'],
    );
    expectError(
      await digest(admin, 'PATCH', entryUrl, { body: { cidrBlock: '198.51.100.1/24' } }),
      400,
      'INVALID_ATTRIBUTE',
      'Invalid attribute cidrBlock specified.',
      ['cidrBlock'],
    );
    expect((await digest(admin, 'GET', entryUrl)).json).toEqual(block.json);
    const updates = await s.conn.db
      .selectFrom('events')
      .select('whitelist_entry')
      .where('event_type', '=', 'GLOBAL_ACCESS_LIST_ENTRY_UPDATED')
      .execute();
    expect(updates).toEqual([{ whitelist_entry: '192.0.2.0/24' }, { whitelist_entry: '198.51.100.0/24' }]);
  });

  it('deletes an entry (204) and then answers not found', async () => {
    const created = (await add({ cidrBlock: '203.0.113.0/24', description: 'gone soon' })).json as Entry;
    const entryUrl = `${s.base}/admin/whitelist/${created.id}`;
    const res = await digest(admin, 'DELETE', entryUrl);
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    const notFound = [
      404,
      'GLOBAL_ACCESS_LIST_ENTRY_NOT_FOUND',
      `No access list entry with ID ${created.id} exists.`,
      [created.id],
    ] as const;
    expectError(await digest(admin, 'GET', entryUrl), ...notFound);
    expectError(await digest(admin, 'DELETE', entryUrl), ...notFound);
    expectError(await digest(admin, 'PATCH', entryUrl, { body: { description: 'x' } }), ...notFound);
    expectError(
      await digest(admin, 'GET', `${url}/127.0.0.1`),
      400,
      'PATH_PARAM_PARSE_ERROR',
      'Invalid path parameter ACCESS-LIST-ID: expected a 24-character hexadecimal ID, got 127.0.0.1.',
      ['ACCESS-LIST-ID', '127.0.0.1'],
    );
    const deleted = await s.conn.db
      .selectFrom('events')
      .select('whitelist_entry')
      .where('event_type', '=', 'GLOBAL_ACCESS_LIST_ENTRY_DELETED')
      .execute();
    expect(deleted.map((e) => e.whitelist_entry)).toContain('203.0.113.0/24');
  });

  it('lets any global role read and only owners and user admins write', async () => {
    const reader = await createGlobalKey(s, admin, ['GLOBAL_READ_ONLY']);
    expect((await digest(reader, 'GET', url)).status).toBe(200);
    expect((await digest(reader, 'GET', `${url}/${loopback.id}`)).status).toBe(200);
    expectUnauthorized(await add({ cidrBlock: '10.9.0.0/16', description: 'x' }, reader));
    expectUnauthorized(await digest(reader, 'DELETE', `${url}/${loopback.id}`));
    const userAdmin = await createGlobalKey(s, admin, ['GLOBAL_USER_ADMIN']);
    const made = await add({ cidrBlock: '10.9.0.0/16', description: 'by user admin' }, userAdmin);
    expect(made.status).toBe(200);
    expect((await digest(userAdmin, 'DELETE', `${url}/${(made.json as Entry).id}`)).status).toBe(204);
    const org = await digest(admin, 'POST', `${s.base}/orgs`, { body: { name: 'Acme' } });
    const orgKey = await digest(admin, 'POST', `${s.base}/orgs/${(org.json as { id: string }).id}/apiKeys`, {
      body: { desc: 'owner', roles: ['ORG_OWNER'] },
    });
    const orgOwner = orgKey.json as Key;
    expectUnauthorized(await digest(orgOwner, 'GET', url));
    expectUnauthorized(await add({ cidrBlock: '10.9.0.0/16', description: 'x' }, orgOwner));
  });
});

describe.each(DIALECTS)('global access list enforcement (%s)', (dialect) => {
  let s: TestServer;
  let admin: Key;
  let second: Key;
  let url: string;

  // The admin key works "from" addresses it lists; `second` always calls from 127.0.0.1.
  const from = (ip: string): CallOptions => ({ headers: { 'x-forwarded-for': ip } });
  const refused = (res: TestResponse, ip: string) =>
    expectError(
      res,
      403,
      'IP_ADDRESS_NOT_ON_ACCESS_LIST',
      `IP address ${ip} is not allowed to access this resource.`,
      [ip],
    );

  beforeAll(async () => {
    s = await startTestServer({ dialect, trustProxy: '127.0.0.1' });
    admin = await bootstrap(s.base);
    url = `${s.base}/admin/accessList`;
    second = await createGlobalKey(s, admin, ['GLOBAL_OWNER']);
  });
  afterAll(async () => s?.close());

  it('locks global keys out from unlisted addresses and lets them back in', async () => {
    const org = await digest(admin, 'POST', `${s.base}/orgs`, { body: { name: 'Acme' } });
    const orgId = (org.json as { id: string }).id;
    const orgKey = (
      await digest(admin, 'POST', `${s.base}/orgs/${orgId}/apiKeys`, {
        body: { desc: 'o', roles: ['ORG_OWNER'] },
      })
    ).json as Key;
    // An empty list admits global keys from anywhere.
    expect((await digest(second, 'GET', url)).status).toBe(200);

    const only = await digest(admin, 'POST', url, {
      ...from('10.1.2.3'),
      body: { cidrBlock: '10.1.2.3/32', description: 'elsewhere' },
    });
    expect(only.status).toBe(200);
    const otherEntry = only.json as Entry;

    refused(await digest(second, 'GET', url), '127.0.0.1');
    refused(await digest(second, 'GET', `${s.base}/orgs`), '127.0.0.1');
    refused(await digest(admin, 'GET', url), '127.0.0.1');
    expect((await digest(admin, 'GET', url, from('10.1.2.3'))).status).toBe(200);
    // The global list binds global keys only: an org key still works from 127.0.0.1.
    expect((await digest(orgKey, 'GET', `${s.base}/orgs/${orgId}`)).status).toBe(200);

    const loop = await digest(admin, 'POST', url, {
      ...from('10.1.2.3'),
      body: { cidrBlock: '127.0.0.1/32', description: 'loopback' },
    });
    expect(loop.status).toBe(200);
    const loopEntry = loop.json as Entry;
    for (let i = 0; i < 2; i++) expect((await digest(second, 'GET', url)).status).toBe(200);
    const used = await pollEntry(loopEntry.id);
    expect(used).toEqual({ ...loopEntry, lastUsed: ISO });
    expect((await pollEntry(otherEntry.id)).lastUsed).toEqual(ISO);

    // IPv6 and CIDR ranges admit every address inside them.
    refused(await digest(admin, 'GET', url, from('2001:db8::42')), '2001:db8::42');
    const v6 = await digest(admin, 'POST', url, { body: { cidrBlock: '2001:db8::/32', description: 'v6' } });
    expect(v6.status).toBe(200);
    expect((await digest(admin, 'GET', url, from('2001:db8::42'))).status).toBe(200);

    // Deleting the loopback entry locks 127.0.0.1 out again; widening the other entry by PATCH lets it in.
    expect((await digest(admin, 'DELETE', `${url}/${loopEntry.id}`, from('10.1.2.3'))).status).toBe(204);
    refused(await digest(second, 'GET', url), '127.0.0.1');
    const widened = await digest(admin, 'PATCH', `${url}/${otherEntry.id}`, {
      ...from('2001:db8::42'),
      body: { cidrBlock: '127.0.0.0/8' },
    });
    expect(widened.json).toMatchObject({ cidrBlock: '127.0.0.0/8', lastUsed: null });
    expect((await digest(second, 'GET', url)).status).toBe(200);
  });

  /** Polls an entry until its lastUsed is set: usage reaches the database within about a second. */
  async function pollEntry(id: string) {
    const deadline = Date.now() + 3000;
    for (;;) {
      const res = await digest(admin, 'GET', `${url}/${id}`, from('10.1.2.3'));
      expect(res.status).toBe(200);
      const entry = res.json as Entry;
      if (entry.lastUsed !== null || Date.now() > deadline) return entry;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
});

describe.each(DIALECTS)('global access list lock-out (%s)', (dialect) => {
  let s: TestServer;
  let admin: Key & { userId: string };
  let url: string;

  // Requests come "from" X-Forwarded-For (the server trusts 127.0.0.1 as its proxy).
  const from = (ip: string, body?: unknown): CallOptions => ({
    headers: { 'x-forwarded-for': ip },
    ...(body === undefined ? {} : { body }),
  });
  const lockedOut = (res: TestResponse, ip: string) =>
    expectError(
      res,
      400,
      'CANNOT_REMOVE_CALLER_FROM_GLOBAL_ACCESS_LIST',
      `Cannot remove caller's IP address ${ip} from the global access list.`,
      [ip],
    );
  /** The list (blocks and descriptions) and the event log: what a refused change leaves as it was. */
  const state = async () => ({
    list: await s.conn.db
      .selectFrom('global_access_list')
      .select(['id', 'cidr_block', 'description'])
      .orderBy('id')
      .execute(),
    events: await s.conn.db.selectFrom('events').select('id').orderBy('id').execute(),
  });
  const add = async (ip: string, cidrBlock: string) => {
    const res = await digest(admin, 'POST', url, from(ip, { cidrBlock, description: cidrBlock }));
    expect(res.status, res.text).toBe(200);
    return res.json as Entry;
  };

  beforeAll(async () => {
    s = await startTestServer({ dialect, trustProxy: '127.0.0.1' });
    admin = await bootstrap(s.base);
    url = `${s.base}/admin/accessList`;
  });
  afterAll(async () => s?.close());

  it('refuses a first entry that would not admit the caller, and takes one that does', async () => {
    const before = await state();
    lockedOut(
      await digest(admin, 'POST', url, { body: { cidrBlock: '10.1.0.0/16', description: 'x' } }),
      '127.0.0.1',
    );
    lockedOut(
      await digest(admin, 'POST', url, from('10.9.9.9', { cidrBlock: '10.1.0.0/16', description: 'x' })),
      '10.9.9.9',
    );
    lockedOut(
      await digest(admin, 'POST', url, from('2001:db8::1', { cidrBlock: '2001:db9::/32', description: 'x' })),
      '2001:db8::1',
    );
    expect(await state()).toEqual(before);
    expect((await digest(admin, 'GET', url, from('203.0.113.7'))).status).toBe(200);
    // A block holding the caller's address is taken; after it, any other block may join.
    await add('10.1.2.3', '10.1.0.0/16');
    await add('10.1.2.3', '192.0.2.0/24');
    expect((await digest(admin, 'GET', url, from('192.0.2.9'))).status).toBe(200);
    const entries = ((await digest(admin, 'GET', url, from('10.1.2.3'))).json as { results: Entry[] })
      .results;
    for (const e of entries.reverse())
      expect((await digest(admin, 'DELETE', `${url}/${e.id}`, from('10.1.2.3'))).status).toBe(204);
  });

  it('refuses a DELETE or PATCH after which the caller would no longer be admitted', async () => {
    const mine = await add('10.1.2.3', '10.1.2.0/24');
    const other = await add('10.1.2.3', '192.0.2.0/24');
    const before = await state();
    lockedOut(await digest(admin, 'DELETE', `${url}/${mine.id}`, from('10.1.2.3')), '10.1.2.3');
    lockedOut(
      await digest(admin, 'PATCH', `${url}/${mine.id}`, from('10.1.2.3', { cidrBlock: '10.1.3.0/24' })),
      '10.1.2.3',
    );
    expect(await state()).toEqual(before);
    expect((await digest(admin, 'GET', `${url}/${mine.id}`, from('10.1.2.3'))).json).toMatchObject({
      cidrBlock: '10.1.2.0/24',
    });
    // Changes that keep the caller admitted go through: the description, a block still holding the
    // address, an entry the caller does not depend on, or the caller's entry once another one admits it.
    const ok = async (res: Promise<TestResponse>, status = 200) => expect((await res).status).toBe(status);
    await ok(digest(admin, 'PATCH', `${url}/${mine.id}`, from('10.1.2.3', { description: 'renamed' })));
    await ok(digest(admin, 'PATCH', `${url}/${mine.id}`, from('10.1.2.3', { cidrBlock: '10.1.0.0/16' })));
    await ok(
      digest(admin, 'PATCH', `${url}/${other.id}`, from('10.1.2.3', { cidrBlock: '198.51.100.0/24' })),
    );
    await ok(digest(admin, 'DELETE', `${url}/${mine.id}`, from('198.51.100.1')), 204);
    // Removing the last entry empties the list, which admits every address again.
    await ok(digest(admin, 'DELETE', `${url}/${other.id}`, from('198.51.100.1')), 204);
    expect((await digest(admin, 'GET', url)).json).toMatchObject({ totalCount: 0 });
  });

  it('binds only global keys: a user with GLOBAL_OWNER may leave its own address off', async () => {
    const service = new UserService({ db: s.conn.db, clock: Date.now });
    const { apiKey } = await service.createPersonalKey(
      { principal: null, remoteAddress: '' },
      'admin@example.com',
    );
    const user = { username: 'admin@example.com', password: apiKey };
    const res = await digest(user, 'POST', url, {
      body: { cidrBlock: '10.1.0.0/16', description: 'far away' },
    });
    expect(res.status).toBe(200);
    // The user still works from 127.0.0.1 (the list does not bind it); the global key does not.
    expect((await digest(user, 'GET', url)).status).toBe(200);
    expectError(
      await digest(admin, 'GET', url),
      403,
      'IP_ADDRESS_NOT_ON_ACCESS_LIST',
      'IP address 127.0.0.1 is not allowed to access this resource.',
      ['127.0.0.1'],
    );
    expect((await digest(user, 'DELETE', `${url}/${(res.json as Entry).id}`)).status).toBe(204);
    expect((await digest(admin, 'GET', url)).status).toBe(200);
  });

  it('two concurrent removals cannot together lock out both callers', async () => {
    // Both callers are admitted by P and by Q; R admits neither. Each removal alone leaves its caller
    // admitted by the other entry, both together would leave only R: one of them must be refused.
    await add('192.0.2.1', '192.0.2.0/24');
    for (let round = 0; round < 8; round++) {
      const p = await add('192.0.2.1', '10.0.0.0/30');
      const q = await add('192.0.2.1', '10.0.0.0/29');
      const [a, b] = await Promise.all([
        digest(admin, 'DELETE', `${url}/${p.id}`, from('10.0.0.1')),
        digest(admin, 'DELETE', `${url}/${q.id}`, from('10.0.0.2')),
      ]);
      const statuses = [a.status, b.status].sort();
      expect(statuses, `round ${round}: ${a.text} ${b.text}`).toEqual([204, 400]);
      // The survivor still admits both; remove it to start the next round from R alone.
      const left = ((await digest(admin, 'GET', url, from('192.0.2.1'))).json as { results: Entry[] })
        .results;
      expect(left.map((e) => e.cidrBlock).sort()).toEqual(
        [a.status === 204 ? q.cidrBlock : p.cidrBlock, '192.0.2.0/24'].sort(),
      );
      const survivor = left.find((e) => e.cidrBlock !== '192.0.2.0/24')!;
      expect((await digest(admin, 'DELETE', `${url}/${survivor.id}`, from('192.0.2.1'))).status).toBe(204);
    }
  });
});
