/**
 * Input that looks like a request but holds what no database can store, or numbers and dates past what
 * pakman can represent: every such input is a 400 naming where it came in (body attribute, query
 * parameter, path parameter), the same on SQLite and PostgreSQL, and changes nothing. Before these checks a
 * NUL (U+0000) anywhere that reached PostgreSQL was a 500, a lone surrogate was stored as U+FFFD while the
 * response echoed what was sent, invalid UTF-8 in a path got Fastify's own error shape before
 * authentication, and a byName path over 100 characters was a 414 in that shape.
 */

import { request } from 'urllib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrap, type Creds, digest, raw, type TestResponse } from './support/client.js';
import { DIALECTS } from './support/dialects.js';
import { CHALLENGE_BODY, expectError } from './support/expect.js';
import { startTestServer, type TestServer } from './support/server.js';
import { snapshot } from './support/snapshot.js';

/** A valid bootstrap body, so that what is refused is the query (a body is validated first). */
const NEW_USER = { username: 'new@example.com', password: 'pw', firstName: 'New', lastName: 'User' };

const NUL = '\u0000';
const HIGH = '\ud800';
const LOW = '\udc00';

describe.each(DIALECTS)('hardening: refused input changes nothing (%s)', (dialect) => {
  let s: TestServer;
  let admin: Creds & { id: string; userId: string };
  let orgId: string;
  let keyId: string;
  let groupId: string;
  let userId: string;
  let globalEntryId: string;

  beforeAll(async () => {
    s = await startTestServer({ dialect });
    admin = await bootstrap(s.base);
    orgId = (
      (await digest(admin, 'POST', `${s.base}/orgs`, { body: { name: 'Org A' } })).json as { id: string }
    ).id;
    const key = await digest(admin, 'POST', `${s.base}/orgs/${orgId}/apiKeys`, {
      body: { desc: 'a key', roles: ['ORG_MEMBER'] },
    });
    keyId = (key.json as { id: string }).id;
    await digest(admin, 'POST', `${s.base}/orgs/${orgId}/apiKeys/${keyId}/accessList`, {
      body: [{ ipAddress: '10.1.2.3' }],
    });
    const project = await digest(admin, 'POST', `${s.base}/groups`, { body: { name: 'Project A', orgId } });
    groupId = (project.json as { id: string }).id;
    const user = await digest(admin, 'POST', `${s.base}/users`, {
      body: { username: 'bob@example.com', password: 'pw', firstName: 'Bob', lastName: 'B' },
    });
    userId = (user.json as { id: string }).id;
    // The caller's own address, so the global key keeps working.
    const entry = await digest(admin, 'POST', `${s.base}/admin/accessList`, {
      body: { cidrBlock: '127.0.0.1/32', description: 'loopback' },
    });
    globalEntryId = (entry.json as { id: string }).id;
    expect([key.status, project.status, user.status, entry.status]).toEqual([200, 201, 201, 200]);
  });
  afterAll(async () => s?.close());

  /** Runs `send`, and asserts that the data tables are the same afterwards. */
  async function unchanged(send: () => Promise<void>): Promise<void> {
    const before = await snapshot(s.conn.db);
    await send();
    expect(await snapshot(s.conn.db)).toEqual(before);
  }

  const call = (method: string, path: string, body?: unknown) =>
    digest(admin, method, `${s.base}${path}`, body === undefined ? {} : { body });

  const expectAttribute = (res: TestResponse, name: string) =>
    expectError(res, 400, 'INVALID_ATTRIBUTE', `Invalid attribute ${name} specified.`, [name]);
  const expectQuery = (res: TestResponse, name: string) =>
    expectError(res, 400, 'INVALID_QUERY_PARAMETER', `Invalid query parameter ${name} specified.`, [name]);
  const expectPathText = (res: TestResponse, label: string) =>
    expectError(res, 400, 'INVALID_PATH_PARAMETER', `Invalid path parameter ${label} specified.`, [label]);

  /** Every body string field of every write, with a valid body around it: [method, path, body, field]. */
  function bodyFields(bad: string): [string, string, Record<string, unknown> | unknown[], string][] {
    const user = { username: 'carol@example.com', password: 'pw', firstName: 'Carol', lastName: 'C' };
    return [
      ['POST', '/orgs', { name: `a${bad}b` }, 'name'],
      ['PATCH', `/orgs/${orgId}`, { name: `a${bad}` }, 'name'],
      ['POST', '/groups', { name: `p${bad}`, orgId }, 'name'],
      ['POST', '/users', { ...user, username: `u${bad}` }, 'username'],
      ['POST', '/users', { ...user, password: `p${bad}` }, 'password'],
      ['POST', '/users', { ...user, firstName: bad }, 'firstName'],
      ['POST', '/users', { ...user, lastName: bad }, 'lastName'],
      ['POST', '/users', { ...user, emailAddress: `c${bad}@example.com` }, 'emailAddress'],
      ['POST', '/users', { ...user, mobileNumber: bad }, 'mobileNumber'],
      ['POST', '/users', { ...user, country: bad }, 'country'],
      ['POST', '/users', { ...user, roles: [{ roleName: 'ORG_MEMBER', orgId: `${orgId}${bad}` }] }, 'orgId'],
      ['PATCH', `/users/${userId}`, { firstName: `B${bad}` }, 'firstName'],
      ['POST', `/orgs/${orgId}/apiKeys`, { desc: `d${bad}`, roles: ['ORG_MEMBER'] }, 'desc'],
      ['PATCH', `/orgs/${orgId}/apiKeys/${keyId}`, { desc: bad }, 'desc'],
      ['POST', '/admin/apiKeys', { desc: `d${bad}`, roles: ['GLOBAL_READ_ONLY'] }, 'desc'],
      ['PATCH', `/admin/apiKeys/${admin.id}`, { desc: `d${bad}` }, 'desc'],
      ['POST', `/groups/${groupId}/apiKeys`, { desc: `d${bad}`, roles: ['GROUP_READ_ONLY'] }, 'desc'],
      ['POST', `/orgs/${orgId}/apiKeys/${keyId}/accessList`, [{ ipAddress: `10.0.0.1${bad}` }], 'ipAddress'],
      [
        'POST',
        `/orgs/${orgId}/apiKeys/${keyId}/accessList`,
        [{ cidrBlock: `10.0.0.0/8${bad}` }],
        'cidrBlock',
      ],
      ['POST', '/admin/accessList', { cidrBlock: '10.0.0.0/8', description: `d${bad}` }, 'description'],
      ['PATCH', `/admin/accessList/${globalEntryId}`, { description: `d${bad}` }, 'description'],
    ];
  }

  it.each([
    ['NUL', NUL],
    ['a lone high surrogate', HIGH],
    ['a lone low surrogate', LOW],
    ['a surrogate pair in the wrong order', `${LOW}${HIGH}`],
  ])('%s in any body string → 400 INVALID_ATTRIBUTE naming the field', async (_, bad) => {
    await unchanged(async () => {
      for (const [method, path, body, field] of bodyFields(bad)) {
        const res = await call(method, path, body);
        expectAttribute(res, field);
      }
      // The bootstrap endpoint validates its body before it looks at whether a user exists.
      const res = await raw('POST', `${s.base}/unauth/users`, {
        body: { username: `x${bad}`, password: 'pw', firstName: 'X', lastName: 'Y' },
      });
      expectAttribute(res, 'username');
    });
  });

  it('a well-formed surrogate pair (an emoji) is stored and answered as sent', async () => {
    const res = await call('POST', '/orgs', { name: 'Org 🦊' });
    expect(res.status).toBe(200);
    const id = (res.json as { id: string }).id;
    expect(((await call('GET', `/orgs/${id}`)).json as { name: string }).name).toBe('Org 🦊');
    expect((await call('DELETE', `/orgs/${id}`)).status).toBe(204);
  });

  it('a body that is not UTF-8 → 400 INVALID_JSON', async () => {
    await unchanged(async () => {
      for (const bytes of [
        Buffer.concat([Buffer.from('{"name":"a'), Buffer.from([0xff]), Buffer.from('"}')]),
        Buffer.concat([Buffer.from('{"name":"a'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')]),
        Buffer.concat([Buffer.from('{"name":"a'), Buffer.from([0xc0, 0x80]), Buffer.from('"}')]),
      ]) {
        const res = await request(`${s.base}/orgs`, {
          method: 'POST',
          content: bytes,
          headers: { 'content-type': 'application/json' },
          digestAuth: `${admin.publicKey}:${admin.privateKey}`,
          dataType: 'text',
        });
        expect({ status: res.status, body: JSON.parse(res.data as string) }).toMatchObject({
          status: 400,
          body: { errorCode: 'INVALID_JSON' },
        });
      }
    });
  });

  it('NUL in a text query parameter → 400 INVALID_QUERY_PARAMETER naming it', async () => {
    await unchanged(async () => {
      expectQuery(await call('GET', '/orgs?name=%00'), 'name');
      expectQuery(await call('GET', '/orgs?name=Org%00A'), 'name');
      expectQuery(await call('GET', '/orgs?name=ok&name=a%00'), 'name');
      expectQuery(await call('GET', `/orgs/${orgId}/groups?name=a%00b`), 'name');
      expectQuery(await call('GET', `/orgs/${orgId}/apiKeys?search=a%00b`), 'search');
      expectQuery(await call('GET', `/orgs/${orgId}/events?eventType=%00`), 'eventType');
      expectQuery(
        await raw('POST', `${s.base}/unauth/users?accessList=%00`, { body: NEW_USER }),
        'accessList',
      );
    });
    // Text that is only unusual is a filter like any other.
    const res = await call('GET', '/orgs?name=%25ED%25A0%2580');
    expect({ status: res.status, total: (res.json as { totalCount: number }).totalCount }).toEqual({
      status: 200,
      total: 0,
    });
  });

  it('NUL in a text path parameter → 400 INVALID_PATH_PARAMETER naming it', async () => {
    await unchanged(async () => {
      expectPathText(await call('GET', '/groups/byName/a%00b'), 'NAME');
      expectPathText(await call('GET', '/users/byName/a%00b'), 'NAME');
      expectPathText(await call('GET', `/orgs/${orgId}/apiKeys/${keyId}/accessList/a%00b`), 'ENTRY');
      expectPathText(await call('DELETE', `/orgs/${orgId}/apiKeys/${keyId}/accessList/10.1.2.3%00`), 'ENTRY');
      expectPathText(await call('GET', `/orgs/${orgId}/apiKeys/${keyId}/whitelist/10.0.0.0/%00`), 'BITS');
      expectPathText(await call('DELETE', `/orgs/${orgId}/apiKeys/${keyId}/accessList/%00/8`), 'IP');
    });
  });

  it('a path segment that is not percent-encoded UTF-8 → the error of that parameter, after authentication', async () => {
    await unchanged(async () => {
      for (const bad of ['%ED%A0%80', '%FF', '%C0%80', '%zz', '%']) {
        expectPathText(await call('GET', `/groups/byName/${bad}`), 'NAME');
        expectPathText(await call('GET', `/users/byName/a${bad}`), 'NAME');
        expectPathText(await call('DELETE', `/orgs/${orgId}/apiKeys/${keyId}/accessList/${bad}`), 'ENTRY');
        expectError(
          await call('GET', `/orgs/${bad}`),
          400,
          'PATH_PARAM_PARSE_ERROR',
          `Invalid path parameter ORG-ID: expected a 24-character hexadecimal ID, got ${bad}.`,
          ['ORG-ID', bad],
        );
        expectError(
          await call('DELETE', `/orgs/${orgId}/apiKeys/${bad}`),
          400,
          'PATH_PARAM_PARSE_ERROR',
          `Invalid path parameter API-KEY-ID: expected a 24-character hexadecimal ID, got ${bad}.`,
          ['API-KEY-ID', bad],
        );
        const path = `/api/public/v1.0/nothing${bad}`;
        expectError(
          await call('GET', `/nothing${bad}`),
          404,
          'RESOURCE_NOT_FOUND',
          `Cannot find resource ${path}.`,
          [path],
        );
        // 401 before anything about the path, as for every other path.
        const anonymous = await raw('GET', `${s.base}/groups/byName/${bad}`);
        expect({ status: anonymous.status, body: anonymous.json }).toEqual({
          status: 401,
          body: CHALLENGE_BODY,
        });
        expect(String(anonymous.headers['www-authenticate'])).toMatch(/^Digest realm="MMS Public API"/);
      }
    });
  });

  it('names as long as pakman stores are found by name; longer ones are not there or refused', async () => {
    const name = '€'.repeat(250); // 750 UTF-8 bytes, 2,250 characters percent-encoded
    const made = await call('POST', '/groups', { name, orgId });
    expect(made.status).toBe(201);
    const found = await call('GET', `/groups/byName/${encodeURIComponent(name)}`);
    expect({ status: found.status, name: (found.json as { name: string }).name }).toEqual({
      status: 200,
      name,
    });
    const orgs = await call('GET', `/orgs/${orgId}/groups?name=${encodeURIComponent(name)}`);
    expect((orgs.json as { totalCount: number }).totalCount).toBe(1);
    await unchanged(async () => {
      expectAttribute(await call('POST', '/groups', { name: `${name}x`, orgId }), 'name');
      expectAttribute(await call('POST', '/orgs', { name: 'x'.repeat(251) }), 'name');
      expectAttribute(
        await call('POST', '/users', {
          username: 'u'.repeat(10_000),
          password: 'p',
          firstName: 'a',
          lastName: 'b',
        }),
        'username',
      );
      expectAttribute(
        await call('PATCH', `/orgs/${orgId}/apiKeys/${keyId}`, { desc: 'd'.repeat(251) }),
        'desc',
      );
      const tooLong = encodeURIComponent(`${name}x`);
      const missing = await call('GET', `/groups/byName/${tooLong}`);
      expect((missing.json as { errorCode: string }).errorCode).toBe('GROUP_NAME_NOT_FOUND');
      expectPathText(await call('GET', `/users/byName/${'u'.repeat(3000)}`), 'NAME');
      expect(((await call('GET', `/orgs/${'a'.repeat(3000)}`)).json as { errorCode: string }).errorCode).toBe(
        'PATH_PARAM_PARSE_ERROR',
      );
      const filter = await call('GET', `/orgs?name=${'n'.repeat(3500)}`);
      expect({ status: filter.status, total: (filter.json as { totalCount: number }).totalCount }).toEqual({
        status: 200,
        total: 0,
      });
    });
    expect((await call('DELETE', `/groups/${(made.json as { id: string }).id}`)).status).toBe(204);
  });

  it('paging numbers past what an offset can hold → 400 INVALID_QUERY_PARAMETER', async () => {
    for (const [q, name] of [
      ['pageNum=99999999999999999999', 'pageNum'],
      ['pageNum=1e400', 'pageNum'],
      ['pageNum=9007199254740993', 'pageNum'],
      ['pageNum=1000000000', 'pageNum'],
      ['pageNum=-1', 'pageNum'],
      ['pageNum=0x10', 'pageNum'],
      ['pageNum=1.5', 'pageNum'],
      ['pageNum=%201', 'pageNum'],
      ['pageNum=%00', 'pageNum'],
      ['itemsPerPage=501', 'itemsPerPage'],
      ['itemsPerPage=1e2', 'itemsPerPage'],
      ['itemsPerPage=', 'itemsPerPage'],
    ]) {
      for (const path of ['/orgs', `/orgs/${orgId}/apiKeys`, `/orgs/${orgId}/events`, '/admin/apiKeys'])
        expectQuery(await call('GET', `${path}?${q}`), name!);
    }
    // The largest page number there is: an empty page past the end, its offset ~5·10^11.
    for (const path of ['/orgs', `/orgs/${orgId}/apiKeys`, `/groups/${groupId}/users`, '/admin/accessList']) {
      const last = await call('GET', `${path}?pageNum=999999999&itemsPerPage=500`);
      expect({ status: last.status, results: (last.json as { results: unknown[] }).results }).toEqual({
        status: 200,
        results: [],
      });
    }
  });

  it('event dates outside years 0001–9999 or not on the calendar → 400 INVALID_QUERY_PARAMETER', async () => {
    const events = `/orgs/${orgId}/events`;
    for (const [q, name] of [
      ['minDate=99999-01-01', 'minDate'],
      ['minDate=0000-01-01', 'minDate'],
      ['minDate=-001-01-01', 'minDate'],
      ['minDate=2024-02-30', 'minDate'],
      ['minDate=2023-02-29', 'minDate'],
      ['minDate=2024-01-01T24:00:00Z', 'minDate'],
      ['minDate=2024-13-01', 'minDate'],
      ['minDate=0001-01-01T00:00:00%2B00:01', 'minDate'],
      ['maxDate=9999-12-31T23:59:59-00:01', 'maxDate'],
      ['maxDate=%00', 'maxDate'],
    ])
      expectQuery(await call('GET', `${events}?${q}`), name!);
    for (const q of [
      'minDate=2024-02-29',
      'minDate=0001-01-01',
      'maxDate=9999-12-31T23:59:59Z',
      'minDate=0050-06-01',
    ]) {
      const res = await call('GET', `${events}?${q}`);
      expect(res.status, q).toBe(200);
    }
  });

  it('eventType oddities → 400 INVALID_QUERY_PARAMETER eventType; repeated parameters are bounded', async () => {
    const events = `/orgs/${orgId}/events`;
    for (const q of [
      'eventType=org_created',
      `eventType=${'A'.repeat(101)}`,
      `eventType=${Array.from({ length: 101 }, (_, i) => `T${i}`).join(',')}`,
      `${Array.from({ length: 101 }, (_, i) => `eventType=T${i}`).join('&')}`,
      'eventType=A%00',
      'eventType=%E2%82%AC',
    ])
      expectQuery(await call('GET', `${events}?${q}`), 'eventType');
    const many = await call('GET', `${events}?${'eventType=ORG_CREATED&'.repeat(100)}`);
    expect(many.status).toBe(200);
    const names = await call('GET', `/orgs?${'name=x&'.repeat(450)}name=Org%20A`);
    expect((names.json as { totalCount: number }).totalCount).toBe(1);
  });

  it('odd IP and CIDR forms → 400 INVALID_ATTRIBUTE in bodies, 404 in paths, 400 in the bootstrap query', async () => {
    const list = `/orgs/${orgId}/apiKeys/${keyId}/accessList`;
    await unchanged(async () => {
      for (const ip of [
        'fe80::1%eth0',
        '1.2.3',
        '01.2.3.4',
        '0x7f.0.0.1',
        '1.2.3.4 ',
        '256.1.1.1',
        '::ffff:zz',
        '',
      ])
        expectAttribute(await call('POST', list, [{ ipAddress: ip }]), 'ipAddress');
      for (const cidr of [
        '1.2.3.4/33',
        '::1/129',
        '1.2.3.4/08',
        '10.0.0.1/8',
        '10.0.0.0/-1',
        '10.0.0.0/',
        'fe80::%1/64',
      ])
        expectAttribute(await call('POST', list, [{ cidrBlock: cidr }]), 'cidrBlock');
      for (const cidr of ['fe80::1%eth0/128', '1.2.3.4/33'])
        expectAttribute(
          await call('POST', '/admin/accessList', { cidrBlock: cidr, description: 'd' }),
          'cidrBlock',
        );
      for (const entry of ['fe80::1%25eth0', '1.2.3', '10.0.0.0%2F33'])
        expect(((await call('GET', `${list}/${entry}`)).json as { errorCode: string }).errorCode).toBe(
          'API_KEY_ACCESS_LIST_NOT_FOUND',
        );
      expectQuery(
        await raw('POST', `${s.base}/unauth/users?accessList=fe80::1%25eth0`, { body: NEW_USER }),
        'accessList',
      );
    });
  });

  it('JSON oddities → 400 in the Ops Manager shape', async () => {
    const send = (text: string) => digest(admin, 'POST', `${s.base}/orgs`, { rawBody: text });
    await unchanged(async () => {
      expectError(
        await send('['.repeat(200_000)),
        400,
        'INVALID_JSON',
        'Received JSON does not match expected format.',
      );
      expectError(
        await send(`${'['.repeat(100_000)}${']'.repeat(100_000)}`),
        400,
        'INVALID_JSON',
        'Received JSON does not match expected format.',
      );
      const nested = `{"name":${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}}`;
      expectError(
        await send(nested),
        400,
        'INVALID_JSON_ATTRIBUTE',
        'Received JSON for the name attribute does not match expected format.',
        ['name'],
      );
      expectAttribute(await send('{"__proto__":{"name":"x"}}'), '__proto__');
      expectAttribute(await send('{"name":"ok","constructor":{}}'), 'constructor');
      expectError(
        await send('{"name":1e999}'),
        400,
        'INVALID_JSON_ATTRIBUTE',
        'Received JSON for the name attribute does not match expected format.',
        ['name'],
      );
      // Duplicate keys: the last one is the value (as JSON.parse and Jackson read them), and it is checked.
      expectAttribute(await send('{"name":"fine","name":"a\\u0000"}'), 'name');
      expectError(await send('"Org"'), 400, 'INVALID_JSON', 'Received JSON does not match expected format.');
      expectError(
        await send('\ufeff{"name":"x"}'),
        400,
        'INVALID_JSON',
        'Received JSON does not match expected format.',
      );
    });
  });
});
