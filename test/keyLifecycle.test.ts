/**
 * Key lifecycle (issue 16) end to end on every configured database, on a clock the test moves: expiry
 * (and the org's cap), rotation with a grace period, per-key usage and the unused-keys report, and the
 * Ops Manager wire left byte for byte as it was for keys that use none of it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserService } from '../src/server/domain/users.js';
import { bootstrap, type Creds, digest, type TestResponse } from './support/client.js';
import { DIALECTS } from './support/dialects.js';
import { CHALLENGE_BODY, expectError } from './support/expect.js';
import { startTestServer, type TestServer } from './support/server.js';

interface WireKey {
  desc: string;
  expired?: boolean;
  expiresAt?: string;
  graceEndsAt?: string;
  id: string;
  lastUsed?: string;
  privateKey: string;
  publicKey: string;
}
interface Usage {
  apiKeyId: string;
  end: string;
  granularity: string;
  lastUsed?: string;
  results: { count: number; start: string }[];
  start: string;
  total: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
const isChallenge = (r: TestResponse) =>
  r.status === 401 &&
  /^Digest /.test(String(r.headers['www-authenticate'] ?? '')) &&
  JSON.stringify(r.json) === JSON.stringify(CHALLENGE_BODY);

describe.each(DIALECTS)('key lifecycle (%s)', (dialect) => {
  let s: TestServer;
  let now = Date.parse('2030-01-01T00:00:00Z');
  let admin: Creds;
  let orgId: string;
  const call = (
    who: Creds | { username: string; password: string },
    method: string,
    path: string,
    body?: unknown,
  ) => digest(who, method, `${s.base}${path}`, body === undefined ? {} : { body });
  const newKey = async (body: Record<string, unknown> = {}) => {
    const res = await call(admin, 'POST', `/orgs/${orgId}/apiKeys`, {
      desc: 'k',
      roles: ['ORG_MEMBER'],
      ...body,
    });
    expect(res.status, res.text).toBe(200);
    return res.json as WireKey;
  };
  const probe = (k: Creds) => call(k, 'GET', `/orgs/${orgId}`);
  const events = async (type: string) => {
    const res = await call(admin, 'GET', `/orgs/${orgId}/events?eventType=${type}`);
    expect(res.status, res.text).toBe(200);
    return (res.json as { results: Record<string, unknown>[] }).results;
  };

  beforeAll(async () => {
    s = await startTestServer({ dialect, clock: () => now, usageFlushMs: 100 });
    admin = await bootstrap(s.base);
    orgId = ((await call(admin, 'POST', '/orgs', { name: 'Lifecycle' })).json as { id: string }).id;
  });
  afterAll(async () => s?.close());

  it('leaves a key that uses no extension exactly as Ops Manager prints it', async () => {
    const k = await newKey();
    expect(Object.keys(k)).toEqual(['desc', 'id', 'links', 'privateKey', 'publicKey', 'roles']);
    const one = await call(admin, 'GET', `/orgs/${orgId}/apiKeys/${k.id}`);
    expect(Object.keys(one.json as object)).toEqual([
      'desc',
      'id',
      'links',
      'privateKey',
      'publicKey',
      'roles',
    ]);
    const list = (await call(admin, 'GET', `/orgs/${orgId}/apiKeys`)).json as { results: WireKey[] };
    for (const item of list.results)
      expect(Object.keys(item)).toEqual(['desc', 'id', 'links', 'privateKey', 'publicKey', 'roles']);
  });

  it('refuses an expired key exactly like a wrong one, and still lists it, marked expired', async () => {
    const expiresAt = iso(now + 3600_000);
    const k = await newKey({ expiresAt });
    expect(k.expiresAt).toBe(expiresAt);
    expect(k.expired).toBeUndefined();
    expect((await probe(k)).status).toBe(200);
    now = Date.parse(expiresAt) - 1;
    expect((await probe(k)).status).toBe(200);
    now = Date.parse(expiresAt);
    const refused = await probe(k);
    const wrong = await probe({ publicKey: k.publicKey, privateKey: 'not-the-key' });
    expect(isChallenge(refused), refused.text).toBe(true);
    expect(refused.text).toBe(wrong.text);
    const one = (await call(admin, 'GET', `/orgs/${orgId}/apiKeys/${k.id}`)).json as WireKey;
    expect(one).toMatchObject({ expired: true, expiresAt });
    const list = (await call(admin, 'GET', `/orgs/${orgId}/apiKeys?itemsPerPage=500`)).json as {
      results: WireKey[];
    };
    expect(list.results.find((r) => r.id === k.id)).toMatchObject({ expired: true, expiresAt });
    // API_KEY_EXPIRED once, by the sweep the refusal asked for.
    let expired: Record<string, unknown>[] = [];
    for (let i = 0; i < 50 && expired.length === 0; i++) {
      await sleep(100);
      expired = (await events('API_KEY_EXPIRED')).filter((e) => e.apiKeyId === k.id);
    }
    expect(expired).toEqual([
      expect.objectContaining({ apiKeyId: k.id, expiresAt, targetPublicKey: k.publicKey }),
    ]);
    await probe(k);
    await sleep(1500);
    expect((await events('API_KEY_EXPIRED')).filter((e) => e.apiKeyId === k.id)).toHaveLength(1);
    // Clearing the expiry revives it; the events say what changed.
    const cleared = await call(admin, 'PATCH', `/orgs/${orgId}/apiKeys/${k.id}`, { expiresAt: null });
    expect(cleared.status, cleared.text).toBe(200);
    expect(Object.keys(cleared.json as object)).not.toContain('expiresAt');
    expect((await probe(k)).status).toBe(200);
    const set = (await events('API_KEY_EXPIRY_SET')).filter((e) => e.apiKeyId === k.id);
    expect(set).toEqual([expect.objectContaining({ expiresAt })]);
    const changed = (await events('API_KEY_EXPIRY_CHANGED')).filter((e) => e.apiKeyId === k.id);
    expect(changed).toHaveLength(1);
    expect(changed[0]!.expiresAt).toBeUndefined();
  });

  it('sets an expiry by PATCH, and refuses bad dates with a clear error that changes nothing', async () => {
    const k = await newKey();
    const path = `/orgs/${orgId}/apiKeys/${k.id}`;
    const before = (await call(admin, 'GET', path)).text;
    const bad: [unknown, string, string][] = [
      [iso(now - 1000), 'INVALID_ATTRIBUTE', 'Invalid attribute expiresAt specified.'],
      [iso(now), 'INVALID_ATTRIBUTE', 'Invalid attribute expiresAt specified.'],
      [
        '2031-02-30T00:00:00Z',
        'INVALID_JSON_ATTRIBUTE',
        'Received JSON for the expiresAt attribute does not match expected format.',
      ],
      [
        '2031-01-01',
        'INVALID_JSON_ATTRIBUTE',
        'Received JSON for the expiresAt attribute does not match expected format.',
      ],
      [
        '2031-01-01T00:00:00.000Z',
        'INVALID_JSON_ATTRIBUTE',
        'Received JSON for the expiresAt attribute does not match expected format.',
      ],
      [
        '2031-01-01T00:00:00+01:00',
        'INVALID_JSON_ATTRIBUTE',
        'Received JSON for the expiresAt attribute does not match expected format.',
      ],
      [
        1924992000,
        'INVALID_JSON_ATTRIBUTE',
        'Received JSON for the expiresAt attribute does not match expected format.',
      ],
    ];
    for (const [expiresAt, code, detail] of bad) {
      expectError(await call(admin, 'PATCH', path, { desc: 'changed', expiresAt }), 400, code, detail, [
        'expiresAt',
      ]);
      const created = await call(admin, 'POST', `/orgs/${orgId}/apiKeys`, {
        desc: 'x',
        roles: ['ORG_MEMBER'],
        expiresAt,
      });
      expectError(created, 400, code, detail, ['expiresAt']);
    }
    expect((await call(admin, 'GET', path)).text).toBe(before);
    const later = iso(now + 86_400_000);
    const res = await call(admin, 'PATCH', path, { expiresAt: later });
    expect(res.status, res.text).toBe(200);
    expect((res.json as WireKey).expiresAt).toBe(later);
  });

  it('caps new keys at the org policy', async () => {
    const policy = `/orgs/${orgId}/apiKeyPolicy`;
    expect((await call(admin, 'GET', policy)).json).toEqual({ maxKeyLifetimeSeconds: null, orgId });
    const badPolicy: [unknown, string][] = [
      [30, 'INVALID_ATTRIBUTE'],
      [315_360_001, 'INVALID_ATTRIBUTE'],
      ['3600', 'INVALID_JSON_ATTRIBUTE'],
      [1.5, 'INVALID_JSON_ATTRIBUTE'],
    ];
    for (const [v, code] of badPolicy)
      expect((await call(admin, 'PATCH', policy, { maxKeyLifetimeSeconds: v })).json).toMatchObject({
        errorCode: code,
        parameters: ['maxKeyLifetimeSeconds'],
      });
    expect((await call(admin, 'PATCH', policy, {})).json).toMatchObject({ errorCode: 'MISSING_ATTRIBUTE' });
    expect((await call(admin, 'GET', policy)).json).toEqual({ maxKeyLifetimeSeconds: null, orgId });
    const set = await call(admin, 'PATCH', policy, { maxKeyLifetimeSeconds: 3600 });
    expect(set.json).toEqual({ maxKeyLifetimeSeconds: 3600, orgId });
    // No expiry asked: the cap applies.
    const capped = await newKey();
    expect(capped.expiresAt).toBe(iso(now + 3600_000));
    const detail = "Invalid attribute expiresAt: the organization's API keys may live at most 3600 seconds.";
    const tooLong = await call(admin, 'POST', `/orgs/${orgId}/apiKeys`, {
      desc: 'too long',
      roles: ['ORG_MEMBER'],
      expiresAt: iso(now + 3601_000),
    });
    expectError(tooLong, 400, 'API_KEY_EXPIRY_EXCEEDS_POLICY', detail, ['expiresAt', '3600']);
    const forever = await call(admin, 'PATCH', `/orgs/${orgId}/apiKeys/${capped.id}`, { expiresAt: null });
    expectError(forever, 400, 'API_KEY_EXPIRY_EXCEEDS_POLICY', detail, ['expiresAt', '3600']);
    expect(
      ((await call(admin, 'GET', `/orgs/${orgId}/apiKeys/${capped.id}`)).json as WireKey).expiresAt,
    ).toBe(iso(now + 3600_000));
    expect((await newKey({ expiresAt: iso(now + 3600_000) })).expiresAt).toBe(iso(now + 3600_000));
    // Project-created keys are the org's keys, under its cap.
    const pid = ((await call(admin, 'POST', '/groups', { name: 'Capped P', orgId })).json as { id: string })
      .id;
    const pk = await call(admin, 'POST', `/groups/${pid}/apiKeys`, { desc: 'p', roles: ['GROUP_READ_ONLY'] });
    expect((pk.json as WireKey).expiresAt).toBe(iso(now + 3600_000));
    expect((await call(admin, 'PATCH', policy, { maxKeyLifetimeSeconds: null })).json).toEqual({
      maxKeyLifetimeSeconds: null,
      orgId,
    });
    expect((await newKey()).expiresAt).toBeUndefined();
  });

  it('rotates a key: the old secret works until the grace ends, not one second later', async () => {
    const k = await newKey();
    const started = now;
    const res = await call(admin, 'POST', `/orgs/${orgId}/apiKeys/${k.id}/rotate`, { graceSeconds: 600 });
    expect(res.status, res.text).toBe(200);
    const r = res.json as WireKey;
    const graceEndsAt = iso(started + 600_000);
    expect(r).toMatchObject({ id: k.id, publicKey: k.publicKey, graceEndsAt });
    expect(r.privateKey).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(r.privateKey).not.toBe(k.privateKey);
    const old = { publicKey: k.publicKey, privateKey: k.privateKey };
    const fresh = { publicKey: k.publicKey, privateKey: r.privateKey };
    expect((await probe(old)).status).toBe(200);
    expect((await probe(fresh)).status).toBe(200);
    const shown = (await call(admin, 'GET', `/orgs/${orgId}/apiKeys/${k.id}`)).json as WireKey;
    expect(shown.privateKey).toBe(`********-****-****-${r.privateKey.slice(-12)}`);
    expect(Object.keys(shown)).not.toContain('graceEndsAt');
    // A second rotation during the grace period is refused and changes nothing.
    const again = await call(admin, 'POST', `/orgs/${orgId}/apiKeys/${k.id}/rotate`, { graceSeconds: 0 });
    expectError(
      again,
      409,
      'API_KEY_ROTATION_IN_PROGRESS',
      `API Key ${k.id} is being rotated; rotate it again once its previous private key expires at ${graceEndsAt}.`,
      [k.id, graceEndsAt],
    );
    now = Date.parse(graceEndsAt) - 1;
    expect((await probe(old)).status).toBe(200);
    expect((await probe(fresh)).status).toBe(200);
    now = Date.parse(graceEndsAt);
    expect(isChallenge(await probe(old))).toBe(true);
    expect((await probe(fresh)).status).toBe(200);
    const rotated = (await events('API_KEY_ROTATED')).filter((e) => e.apiKeyId === k.id);
    expect(rotated).toEqual([expect.objectContaining({ graceEndsAt, targetPublicKey: k.publicKey })]);
    // Grace over: it may be rotated again; graceSeconds 0 revokes the old secret at once.
    const zero = await call(admin, 'POST', `/orgs/${orgId}/apiKeys/${k.id}/rotate`, { graceSeconds: 0 });
    expect(zero.status, zero.text).toBe(200);
    expect(Object.keys(zero.json as object)).not.toContain('graceEndsAt');
    expect(isChallenge(await probe(fresh))).toBe(true);
    expect(
      (await probe({ publicKey: k.publicKey, privateKey: (zero.json as WireKey).privateKey })).status,
    ).toBe(200);
  });

  it('refuses bad rotations with a clear error that changes nothing', async () => {
    const k = await newKey();
    const path = `/orgs/${orgId}/apiKeys/${k.id}/rotate`;
    const cases: [unknown, number, string, string, string[]][] = [
      [
        { graceSeconds: 604_801 },
        400,
        'INVALID_ATTRIBUTE',
        'Invalid attribute graceSeconds specified.',
        ['graceSeconds'],
      ],
      [
        { graceSeconds: -1 },
        400,
        'INVALID_ATTRIBUTE',
        'Invalid attribute graceSeconds specified.',
        ['graceSeconds'],
      ],
      [
        { graceSeconds: '60' },
        400,
        'INVALID_JSON_ATTRIBUTE',
        'Received JSON for the graceSeconds attribute does not match expected format.',
        ['graceSeconds'],
      ],
      [
        {},
        400,
        'MISSING_ATTRIBUTE',
        'The required attribute graceSeconds was not specified.',
        ['graceSeconds'],
      ],
    ];
    for (const [body, status, code, detail, params] of cases)
      expectError(await call(admin, 'POST', path, body), status, code, detail, params);
    expect((await probe(k)).status).toBe(200);
    expect((await call(admin, 'POST', path, { graceSeconds: 604_800 })).status).toBe(200);
    const gone = await newKey();
    expect((await call(admin, 'DELETE', `/orgs/${orgId}/apiKeys/${gone.id}`)).status).toBe(204);
    expectError(
      await call(admin, 'POST', `/orgs/${orgId}/apiKeys/${gone.id}/rotate`, { graceSeconds: 60 }),
      404,
      'API_KEY_NOT_FOUND',
      `No API Key with ID ${gone.id} exists.`,
      [gone.id],
    );
    expectError(
      await call(admin, 'POST', `/orgs/${orgId}/apiKeys/${'0'.repeat(24)}/rotate`, { graceSeconds: 60 }),
      404,
      'API_KEY_NOT_FOUND',
      `No API Key with ID ${'0'.repeat(24)} exists.`,
      ['0'.repeat(24)],
    );
    // Whoever may not write the org's keys may not rotate them.
    const member = await newKey();
    const denied = await call(member, 'POST', path, { graceSeconds: 0 });
    expect(denied.json).toMatchObject({ errorCode: 'USER_UNAUTHORIZED' });
  });

  it('counts each key’s requests per hour and day, with lastUsed to the minute', async () => {
    now = Date.parse('2030-03-01T10:15:42Z');
    const k = await newKey();
    for (let i = 0; i < 5; i++) expect((await probe(k)).status).toBe(200);
    now = Date.parse('2030-03-01T11:59:10Z');
    for (let i = 0; i < 3; i++) expect((await probe(k)).status).toBe(200);
    // Refused requests are not uses.
    await probe({ publicKey: k.publicKey, privateKey: 'wrong' });
    now = Date.parse('2030-03-01T12:30:00Z');
    const path = `/orgs/${orgId}/apiKeys/${k.id}/usage`;
    let u: Usage | undefined;
    for (let i = 0; i < 50; i++) {
      u = (await call(admin, 'GET', `${path}?start=2030-03-01T09:00:00Z&end=2030-03-01T13:00:00Z`))
        .json as Usage;
      if (u.total === 8) break;
      await sleep(100);
    }
    expect(u).toEqual({
      apiKeyId: k.id,
      end: '2030-03-01T13:00:00Z',
      granularity: 'HOURLY',
      lastUsed: '2030-03-01T11:59:00Z',
      links: [{ href: `${s.base}${path}`, rel: 'self' }],
      results: [
        { count: 0, start: '2030-03-01T09:00:00Z' },
        { count: 5, start: '2030-03-01T10:00:00Z' },
        { count: 3, start: '2030-03-01T11:00:00Z' },
        { count: 0, start: '2030-03-01T12:00:00Z' },
      ],
      start: '2030-03-01T09:00:00Z',
      total: 8,
    });
    const daily = (
      await call(
        admin,
        'GET',
        `${path}?granularity=DAILY&start=2030-02-28T00:00:00Z&end=2030-03-02T00:00:00Z`,
      )
    ).json as Usage;
    expect(daily.results).toEqual([
      { count: 0, start: '2030-02-28T00:00:00Z' },
      { count: 8, start: '2030-03-01T00:00:00Z' },
    ]);
    const hourly = (await call(admin, 'GET', path)).json as Usage;
    expect(hourly.results).toHaveLength(24);
    expect(hourly.total).toBe(8);
    const badQueries: [string, string][] = [
      ['granularity=MINUTELY', 'granularity'],
      ['start=yesterday', 'start'],
      ['end=2030-03-01T13:00:00', 'end'],
      ['start=2030-03-02T00:00:00Z&end=2030-03-01T00:00:00Z', 'start'],
      ['start=2029-01-01T00:00:00Z&end=2030-03-01T00:00:00Z', 'start'],
    ];
    for (const [q, name] of badQueries)
      expectError(
        await call(admin, 'GET', `${path}?${q}`),
        400,
        'INVALID_QUERY_PARAMETER',
        `Invalid query parameter ${name} specified.`,
        [name],
      );
    // The report of keys unused for a day lists the old keys, not this one.
    now = Date.parse('2030-03-02T11:00:00Z');
    const unused = (await call(admin, 'GET', `/orgs/${orgId}/apiKeys/unused?days=1&itemsPerPage=500`))
      .json as {
      results: WireKey[];
      totalCount: number;
    };
    expect(unused.results.map((r) => r.id)).not.toContain(k.id);
    expect(unused.totalCount).toBe(unused.results.length);
    expect(unused.totalCount).toBeGreaterThan(0);
    now = Date.parse('2030-03-03T00:00:00Z');
    const later = (await call(admin, 'GET', `/orgs/${orgId}/apiKeys/unused?days=1&itemsPerPage=500`))
      .json as {
      results: WireKey[];
    };
    expect(later.results.find((r) => r.id === k.id)).toMatchObject({ lastUsed: '2030-03-01T11:59:00Z' });
    for (const days of ['0', '3651', 'x'])
      expectError(
        await call(admin, 'GET', `/orgs/${orgId}/apiKeys/unused?days=${days}`),
        400,
        'INVALID_QUERY_PARAMETER',
        'Invalid query parameter days specified.',
        ['days'],
      );
  });

  it('gives global keys expiry, rotation and usage under /admin', async () => {
    const expiresAt = iso(now + 7200_000);
    const made = await call(admin, 'POST', '/admin/apiKeys', {
      desc: 'g',
      roles: ['GLOBAL_READ_ONLY'],
      expiresAt,
    });
    expect(made.status, made.text).toBe(200);
    const g = made.json as WireKey;
    expect(g.expiresAt).toBe(expiresAt);
    expect((await call(g, 'GET', '/admin/apiKeys')).status).toBe(200);
    const rot = await call(admin, 'POST', `/admin/apiKeys/${g.id}/rotate`, { graceSeconds: 60 });
    expect(rot.status, rot.text).toBe(200);
    const fresh = { publicKey: g.publicKey, privateKey: (rot.json as WireKey).privateKey };
    expect((await call(g, 'GET', '/admin/apiKeys')).status).toBe(200);
    now += 60_000;
    expect(isChallenge(await call(g, 'GET', '/admin/apiKeys'))).toBe(true);
    expect((await call(fresh, 'GET', '/admin/apiKeys')).status).toBe(200);
    let u: Usage | undefined;
    for (let i = 0; i < 50; i++) {
      u = (await call(admin, 'GET', `/admin/apiKeys/${g.id}/usage`)).json as Usage;
      if (u.total === 3) break;
      await sleep(100);
    }
    expect(u?.total).toBe(3);
    expectError(
      await call(admin, 'GET', `/orgs/${orgId}/apiKeys/${g.id}/usage`),
      404,
      'API_KEY_NOT_FOUND',
      `No API Key with ID ${g.id} exists.`,
      [g.id],
    );
    const patched = await call(admin, 'PATCH', `/admin/apiKeys/${g.id}`, { expiresAt: null });
    expect(Object.keys(patched.json as object)).not.toContain('expiresAt');
  });

  it('refuses a personal API key from its expiry on', async () => {
    const svc = new UserService({ db: s.conn.db, clock: () => now });
    const actor = { principal: null, remoteAddress: '' };
    const expiresAt = iso(now + 60_000);
    const { apiKey } = await svc.createPersonalKey(actor, 'admin@example.com', expiresAt);
    const personal = { username: 'admin@example.com', password: apiKey };
    expect((await call(personal, 'GET', `/orgs/${orgId}`)).status).toBe(200);
    now = Date.parse(expiresAt);
    expect(isChallenge(await call(personal, 'GET', `/orgs/${orgId}`))).toBe(true);
    await expect(svc.createPersonalKey(actor, 'admin@example.com', iso(now - 1000))).rejects.toMatchObject({
      code: 'INVALID_ATTRIBUTE',
    });
  });
});
