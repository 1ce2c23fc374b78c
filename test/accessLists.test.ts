/**
 * Key access lists end to end: `/orgs/{ORG-ID}/apiKeys/{API-KEY-ID}/accessList` and `/whitelist`, over a
 * real socket with urllib's digest client. The server trusts 127.0.0.1 as a proxy so a test can also call
 * "from" other addresses (IPv6 included) with X-Forwarded-For; a call without the header comes from 127.0.0.1.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrap, type Creds, digest } from './support/client.js';
import { DIALECTS } from './support/dialects.js';
import { expectError } from './support/expect.js';
import { startTestServer, type TestServer } from './support/server.js';

const ISO = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

type Key = Creds & { id: string };

describe.each(DIALECTS)('key access lists (%s)', (dialect) => {
  let s: TestServer;
  let admin: Key;
  let orgId: string;
  let owner: Key;
  let member: Key;
  let target: Key;
  let keyUrl: string;
  let listUrl: string;

  async function createKey(creds: Creds, org: string, roles: string[]): Promise<Key> {
    const res = await digest(creds, 'POST', `${s.base}/orgs/${org}/apiKeys`, { body: { desc: 'k', roles } });
    expect(res.status).toBe(200);
    return res.json as Key;
  }

  async function createGlobalKey(roles: string[]): Promise<Key> {
    const res = await digest(admin, 'POST', `${s.base}/admin/apiKeys`, { body: { desc: 'g', roles } });
    expect(res.status).toBe(200);
    return res.json as Key;
  }

  async function listOf(url: string) {
    const res = await digest(admin, 'GET', url);
    expect(res.status).toBe(200);
    return res.json as { results: Record<string, unknown>[]; totalCount: number };
  }

  async function events(type: string, keyId: string) {
    return s.conn.db
      .selectFrom('events')
      .select(['org_id', 'api_key_id', 'target_public_key', 'whitelist_entry', 'actor_public_key'])
      .where('event_type', '=', type)
      .where('api_key_id', '=', keyId)
      .orderBy('id')
      .execute();
  }

  beforeAll(async () => {
    s = await startTestServer({ dialect, trustProxy: '127.0.0.1' });
    admin = await bootstrap(s.base);
    const org = await digest(admin, 'POST', `${s.base}/orgs`, { body: { name: 'Acme' } });
    orgId = (org.json as { id: string }).id;
    owner = await createKey(admin, orgId, ['ORG_OWNER']);
    member = await createKey(admin, orgId, ['ORG_MEMBER']);
    target = await createKey(admin, orgId, ['ORG_MEMBER']);
    keyUrl = `${s.base}/orgs/${orgId}/apiKeys/${target.id}`;
    listUrl = `${keyUrl}/accessList`;
  });
  afterAll(async () => s?.close());

  it('starts empty', async () => {
    const res = await digest(admin, 'GET', listUrl);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      links: [{ href: `${listUrl}?pageNum=1&itemsPerPage=100`, rel: 'self' }],
      results: [],
      totalCount: 0,
    });
  });

  it('appends IPv4, IPv6 and CIDR entries and returns the whole list', async () => {
    const res = await digest(owner, 'POST', `${listUrl}?pretty=false`, {
      body: [
        { ipAddress: '10.1.2.3' },
        { cidrBlock: '192.0.2.0/24' },
        { ipAddress: '2001:DB8:0:0::1' },
        { cidrBlock: '2001:db8:abcd::/48' },
      ],
    });
    expect(res.status).toBe(200);
    // One POST shares one creation second, so entries come in block order.
    expect(res.json).toEqual({
      links: [{ href: `${listUrl}?pretty=false&pageNum=1&itemsPerPage=100`, rel: 'self' }],
      results: [
        {
          cidrBlock: '10.1.2.3/32',
          count: 0,
          created: ISO,
          ipAddress: '10.1.2.3',
          links: [{ href: `${listUrl}/10.1.2.3`, rel: 'self' }],
        },
        {
          cidrBlock: '192.0.2.0/24',
          count: 0,
          created: ISO,
          ipAddress: null,
          links: [{ href: `${listUrl}/192.0.2.0%2F24`, rel: 'self' }],
        },
        {
          cidrBlock: '2001:db8::1/128',
          count: 0,
          created: ISO,
          ipAddress: '2001:db8::1',
          links: [{ href: `${listUrl}/2001:db8::1`, rel: 'self' }],
        },
        {
          cidrBlock: '2001:db8:abcd::/48',
          count: 0,
          created: ISO,
          ipAddress: null,
          links: [{ href: `${listUrl}/2001:db8:abcd::%2F48`, rel: 'self' }],
        },
      ],
      totalCount: 4,
    });
    const added = await events('API_KEY_ACCESS_LIST_ENTRY_ADDED', target.id);
    expect(added).toEqual(
      ['10.1.2.3', '192.0.2.0/24', '2001:db8::1', '2001:db8:abcd::/48'].map((entry) => ({
        org_id: orgId,
        api_key_id: target.id,
        target_public_key: target.publicKey,
        whitelist_entry: entry,
        actor_public_key: owner.publicKey,
      })),
    );
  });

  it('leaves addresses already present as they are', async () => {
    const before = await listOf(listUrl);
    const res = await digest(admin, 'POST', listUrl, {
      body: [{ cidrBlock: '10.1.2.3/32' }, { cidrBlock: '198.51.100.0/24' }],
    });
    expect(res.status).toBe(200);
    const body = res.json as { results: { cidrBlock: string }[]; totalCount: number };
    expect(body.totalCount).toBe(5);
    // The existing entries are untouched (same created, count); only the new block was added.
    expect(body.results).toEqual(expect.arrayContaining(before.results));
    expect(body.results.find((e) => !before.results.some((b) => b.cidrBlock === e.cidrBlock))).toMatchObject({
      cidrBlock: '198.51.100.0/24',
      ipAddress: null,
    });
    expect((await events('API_KEY_ACCESS_LIST_ENTRY_ADDED', target.id)).length).toBe(5);
  });

  it('gets one entry by IP, by %2F CIDR, by literal-slash CIDR, and IPv6', async () => {
    const keyLink = { href: keyUrl, rel: 'http://mms.mongodb.com/apiKeys' };
    const one = await digest(admin, 'GET', `${listUrl}/10.1.2.3`);
    expect(one.status).toBe(200);
    expect(one.json).toEqual({
      cidrBlock: '10.1.2.3/32',
      count: 0,
      created: ISO,
      ipAddress: '10.1.2.3',
      links: [{ href: `${listUrl}/10.1.2.3`, rel: 'self' }, keyLink],
    });
    for (const entry of ['10.1.2.3%2F32', '10.1.2.3%2f32']) {
      expect((await digest(admin, 'GET', `${listUrl}/${entry}`)).json).toEqual(one.json);
    }
    const cidr = await digest(admin, 'GET', `${listUrl}/192.0.2.0%2F24`);
    expect(cidr.json).toEqual({
      cidrBlock: '192.0.2.0/24',
      count: 0,
      created: ISO,
      ipAddress: null,
      links: [{ href: `${listUrl}/192.0.2.0%2F24`, rel: 'self' }, keyLink],
    });
    expect((await digest(admin, 'GET', `${listUrl}/192.0.2.0/24`)).json).toEqual(cidr.json);
    const v6 = await digest(admin, 'GET', `${listUrl}/2001:db8:0::1`);
    expect(v6.json).toMatchObject({
      cidrBlock: '2001:db8::1/128',
      links: [{ href: `${listUrl}/2001:db8::1`, rel: 'self' }, keyLink],
    });
    const v6cidr = await digest(admin, 'GET', `${listUrl}/2001:db8:abcd::%2F48`);
    expect(v6cidr.json).toMatchObject({ cidrBlock: '2001:db8:abcd::/48', ipAddress: null });
  });

  it('serves the legacy whitelist alias with its own hrefs', async () => {
    const wl = `${keyUrl}/whitelist`;
    const list = await digest(admin, 'GET', `${wl}?itemsPerPage=2`);
    expect(list.status).toBe(200);
    expect(list.json).toMatchObject({
      links: [
        { href: `${wl}?pageNum=1&itemsPerPage=2`, rel: 'self' },
        { href: `${wl}?itemsPerPage=2&pageNum=2`, rel: 'next' },
      ],
      results: [
        { cidrBlock: '10.1.2.3/32', links: [{ href: `${wl}/10.1.2.3`, rel: 'self' }] },
        { cidrBlock: '192.0.2.0/24', links: [{ href: `${wl}/192.0.2.0%2F24`, rel: 'self' }] },
      ],
      totalCount: 5,
    });
    // A page past the end still tells how many entries there are.
    const past = await digest(admin, 'GET', `${wl}?itemsPerPage=2&pageNum=9`);
    expect(past.json).toMatchObject({ results: [], totalCount: 5 });
    const one = await digest(admin, 'GET', `${wl}/192.0.2.0%2F24`);
    expect((one.json as { links: unknown }).links).toEqual([
      { href: `${wl}/192.0.2.0%2F24`, rel: 'self' },
      { href: keyUrl, rel: 'http://mms.mongodb.com/apiKeys' },
    ]);
    const added = await digest(admin, 'POST', wl, { body: [{ ipAddress: '203.0.113.9' }] });
    expect(added.status).toBe(200);
    expect(added.json).toMatchObject({ links: [{ href: `${wl}?pageNum=1&itemsPerPage=100`, rel: 'self' }] });
    expect((await digest(admin, 'DELETE', `${wl}/203.0.113.9`)).status).toBe(204);
    expect((await digest(admin, 'GET', `${listUrl}/203.0.113.9`)).status).toBe(404);
  });

  it('refuses bad input and changes nothing', async () => {
    const before = await listOf(listUrl);
    const cases: [unknown, number, string, string, string[]][] = [
      [
        [{ ipAddress: '10.7.7.7', cidrBlock: '10.7.7.7/32' }],
        400,
        'BAD_ACCESS_LIST_ADD_REQUEST',
        'Should not specify both the IP address and the CIDR block.',
        [],
      ],
      [
        [{ ipAddress: '10.8.8.8' }, { cidrBlock: '10.8.8.8/32' }],
        400,
        'DUPLICATE_ADDRESSES_IN_INPUT',
        'Two or more of the IP addresses being added to the access list are the same.',
        [],
      ],
      [
        [{ ipAddress: '2001:db8::9' }, { ipAddress: '2001:0db8::9' }],
        400,
        'DUPLICATE_ADDRESSES_IN_INPUT',
        'Two or more of the IP addresses being added to the access list are the same.',
        [],
      ],
      [
        [{ ipAddress: 'not-an-ip' }],
        400,
        'INVALID_ATTRIBUTE',
        'Invalid attribute ipAddress specified.',
        ['ipAddress'],
      ],
      [
        [{ ipAddress: '999.1.1.1' }],
        400,
        'INVALID_ATTRIBUTE',
        'Invalid attribute ipAddress specified.',
        ['ipAddress'],
      ],
      [
        [{ ipAddress: '10.0.0.0/8' }],
        400,
        'INVALID_ATTRIBUTE',
        'Invalid attribute ipAddress specified.',
        ['ipAddress'],
      ],
      [
        [{ ipAddress: '10.9.9.9' }, { cidrBlock: '10.0.0.1/24' }],
        400,
        'INVALID_ATTRIBUTE',
        'Invalid attribute cidrBlock specified.',
        ['cidrBlock'],
      ],
      [
        [{ cidrBlock: '10.0.0.0/33' }],
        400,
        'INVALID_ATTRIBUTE',
        'Invalid attribute cidrBlock specified.',
        ['cidrBlock'],
      ],
      [
        [{ cidrBlock: '2001:db8::1/64' }],
        400,
        'INVALID_ATTRIBUTE',
        'Invalid attribute cidrBlock specified.',
        ['cidrBlock'],
      ],
      [
        [{ cidrBlock: 'abc' }],
        400,
        'INVALID_ATTRIBUTE',
        'Invalid attribute cidrBlock specified.',
        ['cidrBlock'],
      ],
      [[{ ip: '10.1.1.1' }], 400, 'INVALID_ATTRIBUTE', 'Invalid attribute ip specified.', ['ip']],
      [
        [{ ipAddress: 7 }],
        400,
        'INVALID_JSON_ATTRIBUTE',
        'Received JSON for the ipAddress attribute does not match expected format.',
        ['ipAddress'],
      ],
      [
        [{}],
        400,
        'MISSING_ATTRIBUTE',
        'The required attribute ipAddress or cidrBlock was not specified.',
        ['ipAddress or cidrBlock'],
      ],
      [{ ipAddress: '10.1.1.1' }, 400, 'INVALID_JSON', 'Received JSON does not match expected format.', []],
      [['10.1.1.1'], 400, 'INVALID_JSON', 'Received JSON does not match expected format.', []],
    ];
    for (const [body, status, code, detail, params] of cases) {
      expectError(await digest(admin, 'POST', listUrl, { body }), status, code, detail, params);
    }
    expect(await listOf(listUrl)).toEqual(before);
    expect((await events('API_KEY_ACCESS_LIST_ENTRY_ADDED', target.id)).length).toBe(6);
  });

  it('answers not-found for unknown entries, keys and orgs', async () => {
    const notFound = [
      'API_KEY_ACCESS_LIST_NOT_FOUND',
      'The specified IP address does not exist in the corresponding API key access list.',
    ] as const;
    for (const entry of ['10.4.4.4', '192.0.2.0%2F25', 'nonsense', '10.0.0.1%2F24']) {
      expectError(await digest(admin, 'GET', `${listUrl}/${entry}`), 404, ...notFound);
      expectError(await digest(admin, 'DELETE', `${listUrl}/${entry}`), 404, ...notFound);
    }
    const missingKey = '5c47503320eef5699e1cce8d';
    expectError(
      await digest(admin, 'GET', `${s.base}/orgs/${orgId}/apiKeys/${missingKey}/accessList`),
      404,
      'API_KEY_NOT_FOUND',
      `No API Key with ID ${missingKey} exists.`,
      [missingKey],
    );
    // A global key is not an org key, so it has no list under any org.
    expectError(
      await digest(admin, 'POST', `${s.base}/orgs/${orgId}/apiKeys/${admin.id}/accessList`, {
        body: [{ ipAddress: '10.1.1.1' }],
      }),
      404,
      'API_KEY_NOT_FOUND',
      `No API Key with ID ${admin.id} exists.`,
      [admin.id],
    );
    const missingOrg = '5980cfc70b6d97029d82e3f6';
    expectError(
      await digest(admin, 'GET', `${s.base}/orgs/${missingOrg}/apiKeys/${target.id}/whitelist`),
      404,
      'ORG_NOT_FOUND',
      `No organization with ID ${missingOrg} exists.`,
      [missingOrg],
    );
    expectError(
      await digest(admin, 'GET', `${s.base}/orgs/${orgId}/apiKeys/nothex/accessList`),
      400,
      'PATH_PARAM_PARSE_ERROR',
      'Invalid path parameter API-KEY-ID: expected a 24-character hexadecimal ID, got nothex.',
      ['API-KEY-ID', 'nothex'],
    );
  });

  it('lets only the key itself and owners manage the list; global roles may read', async () => {
    const denied = [
      'API_KEY_ACCESS_LIST_ACCESS_DENIED',
      'API Key access lists are only accessible by the API Key or by a user administrator.',
    ] as const;
    expectError(await digest(member, 'GET', listUrl), 400, ...denied);
    expectError(await digest(member, 'GET', `${listUrl}/10.1.2.3`), 400, ...denied);
    expectError(await digest(member, 'POST', listUrl, { body: [{ ipAddress: '10.5.5.5' }] }), 400, ...denied);
    expectError(await digest(member, 'DELETE', `${listUrl}/10.1.2.3`), 400, ...denied);

    const reader = await createGlobalKey(['GLOBAL_READ_ONLY']);
    expect((await digest(reader, 'GET', listUrl)).status).toBe(200);
    expect((await digest(reader, 'GET', `${listUrl}/10.1.2.3`)).status).toBe(200);
    const unauthorized = [
      'USER_UNAUTHORIZED',
      'Current user is not authorized to perform this action.',
    ] as const;
    expectError(
      await digest(reader, 'POST', listUrl, { body: [{ ipAddress: '10.5.5.5' }] }),
      401,
      ...unauthorized,
    );

    const userAdmin = await createGlobalKey(['GLOBAL_USER_ADMIN']);
    const added = await digest(userAdmin, 'POST', listUrl, { body: [{ ipAddress: '10.5.5.5' }] });
    expect(added.status).toBe(200);
    expect((await digest(userAdmin, 'DELETE', `${listUrl}/10.5.5.5`)).status).toBe(204);

    const other = await digest(admin, 'POST', `${s.base}/orgs`, { body: { name: 'Other' } });
    const outsider = await createKey(admin, (other.json as { id: string }).id, ['ORG_OWNER']);
    expectError(await digest(outsider, 'GET', listUrl), 401, ...unauthorized);
    expect(await listOf(listUrl)).toMatchObject({ totalCount: 5 });
  });

  it('deletes entries (204), records the event, and keeps the caller from removing itself', async () => {
    const self = await createKey(owner, orgId, ['ORG_READ_ONLY']);
    const selfList = `${s.base}/orgs/${orgId}/apiKeys/${self.id}/accessList`;
    const put = await digest(self, 'POST', selfList, {
      body: [{ ipAddress: '127.0.0.1' }, { cidrBlock: '127.0.0.0/8' }, { ipAddress: '2001:db8::7' }],
    });
    expect(put.status).toBe(200);
    expect((await digest(self, 'GET', selfList)).json).toMatchObject({ totalCount: 3 });
    for (const entry of ['127.0.0.1', '127.0.0.0%2F8']) {
      expectError(
        await digest(self, 'DELETE', `${selfList}/${entry}`),
        400,
        'CANNOT_REMOVE_CALLER_FROM_ACCESS_LIST',
        "Cannot remove caller's IP address 127.0.0.1 from access list.",
        ['127.0.0.1'],
      );
    }
    // From another admitted address (IPv6, via the trusted proxy) the key may drop its 127.0.0.1 entry.
    const fromV6 = { headers: { 'x-forwarded-for': '2001:db8::7' } };
    expect((await digest(self, 'DELETE', `${selfList}/127.0.0.1`, fromV6)).status).toBe(204);
    // An owner is not the key, so it may remove any entry.
    const res = await digest(owner, 'DELETE', `${selfList}/127.0.0.0%2F8`);
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    expect((await digest(owner, 'GET', selfList)).json).toMatchObject({
      results: [{ cidrBlock: '2001:db8::7/128' }],
      totalCount: 1,
    });
    expect(await events('API_KEY_ACCESS_LIST_ENTRY_DELETED', self.id)).toEqual([
      {
        org_id: orgId,
        api_key_id: self.id,
        target_public_key: self.publicKey,
        whitelist_entry: '127.0.0.1',
        actor_public_key: self.publicKey,
      },
      {
        org_id: orgId,
        api_key_id: self.id,
        target_public_key: self.publicKey,
        whitelist_entry: '127.0.0.0/8',
        actor_public_key: owner.publicKey,
      },
    ]);
    // Its only entry is IPv6 now: from 127.0.0.1 the key is refused, from the listed address it works.
    expectError(
      await digest(self, 'GET', `${s.base}/orgs/${orgId}`),
      403,
      'IP_ADDRESS_NOT_ON_ACCESS_LIST',
      'IP address 127.0.0.1 is not allowed to access this resource.',
      ['127.0.0.1'],
    );
    expect((await digest(self, 'GET', `${s.base}/orgs/${orgId}`, fromV6)).status).toBe(200);
  });

  it('enforces the list end to end and records usage', async () => {
    const key = await createKey(owner, orgId, ['ORG_MEMBER']);
    const keyList = `${s.base}/orgs/${orgId}/apiKeys/${key.id}/accessList`;
    const orgUrl = `${s.base}/orgs/${orgId}`;
    expect((await digest(key, 'GET', orgUrl)).status).toBe(200);
    expect((await digest(owner, 'POST', keyList, { body: [{ ipAddress: '10.1.2.3' }] })).status).toBe(200);
    const refused = await digest(key, 'GET', orgUrl);
    expectError(
      refused,
      403,
      'IP_ADDRESS_NOT_ON_ACCESS_LIST',
      'IP address 127.0.0.1 is not allowed to access this resource.',
      ['127.0.0.1'],
    );
    expect(refused.headers['www-authenticate']).toBeUndefined();
    expect((await digest(key, 'GET', keyList)).status).toBe(403);

    expect((await digest(owner, 'POST', keyList, { body: [{ ipAddress: '127.0.0.1' }] })).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await digest(key, 'GET', orgUrl)).status).toBe(200);
    const used = await pollEntry(`${keyList}/127.0.0.1`, (e) => e.count >= 3);
    expect(used).toEqual({
      cidrBlock: '127.0.0.1/32',
      count: 3,
      created: ISO,
      ipAddress: '127.0.0.1',
      lastUsed: ISO,
      lastUsedAddress: '127.0.0.1',
      links: [
        { href: `${keyList}/127.0.0.1`, rel: 'self' },
        { href: `${s.base}/orgs/${orgId}/apiKeys/${key.id}`, rel: 'http://mms.mongodb.com/apiKeys' },
      ],
    });
    // The entry that admitted nothing stays unused, without lastUsed fields.
    expect((await digest(owner, 'GET', `${keyList}/10.1.2.3`)).json).not.toHaveProperty('lastUsed');

    // A CIDR entry admits every address inside it and counts each one.
    expect((await digest(owner, 'DELETE', `${keyList}/127.0.0.1`)).status).toBe(204);
    expect((await digest(key, 'GET', orgUrl)).status).toBe(403);
    expect((await digest(owner, 'POST', keyList, { body: [{ cidrBlock: '10.1.0.0/16' }] })).status).toBe(200);
    const from = { headers: { 'x-forwarded-for': '10.1.200.7' } };
    expect((await digest(key, 'GET', orgUrl, from)).status).toBe(200);
    const cidr = await pollEntry(`${keyList}/10.1.0.0%2F16`, (e) => e.count >= 1);
    expect(cidr).toMatchObject({ count: 1, lastUsed: ISO, lastUsedAddress: '10.1.200.7' });
  });

  /** Polls an entry until `done` holds: usage reaches the database within about a second. */
  async function pollEntry(url: string, done: (e: { count: number }) => boolean) {
    const deadline = Date.now() + 3000;
    for (;;) {
      const res = await digest(owner, 'GET', url);
      expect(res.status).toBe(200);
      const entry = res.json as { count: number };
      if (done(entry) || Date.now() > deadline) return entry;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
});
