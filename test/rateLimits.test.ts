/**
 * Per-key rate limits (issue 17) on every database: the three resources (org default, org key, global
 * key) read, set and removed with validation, events and roles; a limited key refused at exactly its
 * limit with Atlas's 429 body and the RateLimit-* headers (the server's clock is the test's, so every
 * number is exact); an unlimited key's responses unchanged; limits kept across a restart.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrap, type Creds, digest, type TestResponse } from './support/client.js';
import { DIALECTS } from './support/dialects.js';
import { errorBody, expectError, expectUnauthorized } from './support/expect.js';
import { dropDatabase } from './support/postgres.js';
import { freshDatabaseUrl, startTestServer, type TestServer } from './support/server.js';

type Key = Creds & { id: string };

/** Response headers a limit adds; an unlimited key's responses must have none of them. */
const LIMIT_HEADERS = ['ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset', 'retry-after'];
const limitHeaders = (r: TestResponse) =>
  Object.fromEntries(LIMIT_HEADERS.filter((h) => r.headers[h] !== undefined).map((h) => [h, r.headers[h]]));

describe.each(DIALECTS)('rate limits (%s)', (dialect) => {
  let s: TestServer;
  let admin: Key;
  let orgId: string;
  let otherOrgId: string;
  let now = Date.now();

  async function createKey(roles: string[], org = orgId): Promise<Key> {
    const r = await digest(admin, 'POST', `${s.base}/orgs/${org}/apiKeys`, { body: { desc: 'k', roles } });
    expect(r.status, r.text).toBe(200);
    return r.json as Key;
  }
  const put = (who: Creds, path: string, body: unknown) => digest(who, 'PUT', `${s.base}${path}`, { body });
  const events = (type: string) =>
    s.conn.db
      .selectFrom('events')
      .select(['org_id', 'api_key_id', 'target_public_key', 'actor_public_key'])
      .where('event_type', '=', type)
      .orderBy('id')
      .execute();

  beforeAll(async () => {
    // The server's clock is this test's: token buckets refill only when the test says so.
    s = await startTestServer({ dialect, clock: () => now });
    admin = await bootstrap(s.base);
    const org = await digest(admin, 'POST', `${s.base}/orgs`, { body: { name: 'Limited Org' } });
    orgId = (org.json as { id: string }).id;
    const other = await digest(admin, 'POST', `${s.base}/orgs`, { body: { name: 'Other Org' } });
    otherOrgId = (other.json as { id: string }).id;
  });
  afterAll(() => s?.close());

  it('reads, sets and removes an org default and a key limit, with events', async () => {
    const key = await createKey(['ORG_MEMBER']);
    for (const path of [`/orgs/${orgId}/rateLimit`, `/orgs/${orgId}/apiKeys/${key.id}/rateLimit`]) {
      const id = path.includes('apiKeys') ? key.id : orgId;
      expectError(
        await digest(admin, 'GET', `${s.base}${path}`),
        404,
        'RATE_LIMIT_NOT_FOUND',
        `No rate limit is set for ${id}.`,
        [id],
      );
      const set = await put(admin, path, { requests: 100, periodSeconds: 60 });
      const body = { links: [{ href: `${s.base}${path}`, rel: 'self' }], periodSeconds: 60, requests: 100 };
      expect({ status: set.status, body: set.json }).toEqual({ status: 200, body });
      const read = await digest(admin, 'GET', `${s.base}${path}`);
      expect({ status: read.status, body: read.json }).toEqual({ status: 200, body });
      // A member of the org may read it.
      expect((await digest(key, 'GET', `${s.base}${path}`)).status).toBe(200);
      const replaced = await put(admin, path, { requests: 5000, periodSeconds: 3600 });
      expect(replaced.json).toMatchObject({ periodSeconds: 3600, requests: 5000 });
      expect((await digest(admin, 'DELETE', `${s.base}${path}`)).status).toBe(204);
      expect((await digest(admin, 'GET', `${s.base}${path}`)).status).toBe(404);
      expectError(
        await digest(admin, 'DELETE', `${s.base}${path}`),
        404,
        'RATE_LIMIT_NOT_FOUND',
        `No rate limit is set for ${id}.`,
        [id],
      );
    }
    const actor = admin.publicKey;
    expect(await events('ORG_RATE_LIMIT_SET')).toEqual([
      { org_id: orgId, api_key_id: null, target_public_key: null, actor_public_key: actor },
      { org_id: orgId, api_key_id: null, target_public_key: null, actor_public_key: actor },
    ]);
    expect(await events('ORG_RATE_LIMIT_REMOVED')).toHaveLength(1);
    // The org's event log shows them, as any other change.
    const log = await digest(admin, 'GET', `${s.base}/orgs/${orgId}/events?eventType=ORG_RATE_LIMIT_SET`);
    expect(log.json).toMatchObject({ totalCount: 2 });
    const keyEvent = {
      org_id: orgId,
      api_key_id: key.id,
      target_public_key: key.publicKey,
      actor_public_key: actor,
    };
    expect(await events('API_KEY_RATE_LIMIT_SET')).toEqual([keyEvent, keyEvent]);
    expect(await events('API_KEY_RATE_LIMIT_REMOVED')).toEqual([keyEvent]);
  });

  it('refuses bad input with a 400 naming the attribute, and changes nothing', async () => {
    const path = `/orgs/${orgId}/rateLimit`;
    expect((await put(admin, path, { requests: 7, periodSeconds: 60 })).status).toBe(200);
    const cases: [unknown, string, string][] = [
      [{ requests: 0, periodSeconds: 60 }, 'INVALID_ATTRIBUTE', 'requests'],
      [{ requests: -5, periodSeconds: 60 }, 'INVALID_ATTRIBUTE', 'requests'],
      [{ requests: 1.5, periodSeconds: 60 }, 'INVALID_JSON_ATTRIBUTE', 'requests'],
      [{ requests: 1e12, periodSeconds: 60 }, 'INVALID_ATTRIBUTE', 'requests'],
      [{ requests: '10', periodSeconds: 60 }, 'INVALID_JSON_ATTRIBUTE', 'requests'],
      [{ requests: 10, periodSeconds: 0 }, 'INVALID_ATTRIBUTE', 'periodSeconds'],
      [{ requests: 10, periodSeconds: -1 }, 'INVALID_ATTRIBUTE', 'periodSeconds'],
      [{ requests: 10, periodSeconds: 86_401 }, 'INVALID_ATTRIBUTE', 'periodSeconds'],
      [{ requests: 10, periodSeconds: 0.5 }, 'INVALID_JSON_ATTRIBUTE', 'periodSeconds'],
      [{ requests: 10 }, 'MISSING_ATTRIBUTE', 'periodSeconds'],
      [{ periodSeconds: 10 }, 'MISSING_ATTRIBUTE', 'requests'],
      [{ requests: 10, periodSeconds: 10, burst: 3 }, 'INVALID_ATTRIBUTE', 'burst'],
    ];
    const details: Record<string, string> = {
      INVALID_ATTRIBUTE: 'Invalid attribute {} specified.',
      INVALID_JSON_ATTRIBUTE: 'Received JSON for the {} attribute does not match expected format.',
      MISSING_ATTRIBUTE: 'The required attribute {} was not specified.',
    };
    for (const [body, code, attr] of cases) {
      const r = await put(admin, path, body);
      expect({ status: r.status, body: r.json }, JSON.stringify(body)).toEqual({
        status: 400,
        body: errorBody(400, code, details[code]!.replace('{}', attr), [attr]),
      });
    }
    expectError(
      await put(admin, path, [1]),
      400,
      'INVALID_JSON',
      'Received JSON does not match expected format.',
    );
    const still = await digest(admin, 'GET', `${s.base}${path}`);
    expect(still.json).toMatchObject({ periodSeconds: 60, requests: 7 });
    expect(await events('ORG_RATE_LIMIT_SET')).toHaveLength(3);
    expect((await digest(admin, 'DELETE', `${s.base}${path}`)).status).toBe(204);
  });

  it('lets only the org owner and global admins change limits; unknown orgs and keys are 404', async () => {
    const member = await createKey(['ORG_MEMBER']);
    const owner = await createKey(['ORG_OWNER']);
    const outsider = await createKey(['ORG_OWNER'], otherOrgId);
    const path = `/orgs/${orgId}/apiKeys/${member.id}/rateLimit`;
    expectUnauthorized(await put(member, path, { requests: 10, periodSeconds: 60 }));
    expectUnauthorized(await put(outsider, path, { requests: 10, periodSeconds: 60 }));
    expectUnauthorized(await put(outsider, `/orgs/${orgId}/rateLimit`, { requests: 10, periodSeconds: 60 }));
    expectUnauthorized(await digest(member, 'DELETE', `${s.base}/orgs/${orgId}/rateLimit`));
    expect((await put(owner, path, { requests: 10, periodSeconds: 60 })).status).toBe(200);
    expect((await digest(owner, 'DELETE', `${s.base}${path}`)).status).toBe(204);
    const missing = 'a'.repeat(24);
    expectError(
      await put(admin, `/orgs/${orgId}/apiKeys/${missing}/rateLimit`, { requests: 1, periodSeconds: 1 }),
      404,
      'API_KEY_NOT_FOUND',
      `No API Key with ID ${missing} exists.`,
      [missing],
    );
    // Another org's key through this org's path.
    expect(
      (await put(admin, `/orgs/${orgId}/apiKeys/${outsider.id}/rateLimit`, { requests: 1, periodSeconds: 1 }))
        .status,
    ).toBe(404);
    expectError(
      await put(admin, `/orgs/${missing}/rateLimit`, { requests: 1, periodSeconds: 1 }),
      404,
      'ORG_NOT_FOUND',
      `No organization with ID ${missing} exists.`,
      [missing],
    );
    // An org key is not a global key.
    expect(
      (await put(admin, `/admin/apiKeys/${member.id}/rateLimit`, { requests: 1, periodSeconds: 1 })).status,
    ).toBe(404);
  });

  it('refuses a limited key at exactly its limit, with the 429 body and headers, and refills with time', async () => {
    const key = await createKey(['ORG_MEMBER']);
    expect(
      (await put(admin, `/orgs/${orgId}/apiKeys/${key.id}/rateLimit`, { requests: 3, periodSeconds: 60 }))
        .status,
    ).toBe(200);
    const url = `${s.base}/orgs/${orgId}`;
    for (const remaining of ['2', '1', '0']) {
      const r = await digest(key, 'GET', url);
      expect(r.status).toBe(200);
      // Full again 20 s per missing token later (3 per 60 s).
      expect(limitHeaders(r)).toEqual({
        'ratelimit-limit': '3',
        'ratelimit-remaining': remaining,
        'ratelimit-reset': String((3 - Number(remaining)) * 20),
      });
    }
    const refused = await digest(key, 'GET', url);
    const path = `/api/public/v1.0/orgs/${orgId}`;
    expect({ status: refused.status, body: refused.json }).toEqual({
      status: 429,
      body: {
        detail: `Resource ${path} is limited to 3 requests every 1 minutes.`,
        error: 429,
        errorCode: 'RATE_LIMITED',
        parameters: [path, '3', '1'],
        reason: 'Too Many Requests',
      },
    });
    expect(limitHeaders(refused)).toEqual({
      'ratelimit-limit': '3',
      'ratelimit-remaining': '0',
      'ratelimit-reset': '60',
      'retry-after': '20',
    });
    // Any route counts against the same bucket; the 429 honours envelope like any error.
    const enveloped = await digest(key, 'GET', `${s.base}/orgs/${orgId}/apiKeys?envelope=true`);
    expect({ status: enveloped.status, body: enveloped.json }).toMatchObject({
      status: 429,
      body: { content: { errorCode: 'RATE_LIMITED', error: 429 }, status: 429 },
    });
    now += 20_000;
    const again = await digest(key, 'GET', url);
    expect(again.status).toBe(200);
    expect(limitHeaders(again)['ratelimit-remaining']).toBe('0');
    expect((await digest(key, 'GET', url)).status).toBe(429);
    // Removing the limit lifts it at once, and the headers go with it.
    expect(
      (await digest(admin, 'DELETE', `${s.base}/orgs/${orgId}/apiKeys/${key.id}/rateLimit`)).status,
    ).toBe(204);
    const free = await digest(key, 'GET', url);
    expect(free.status).toBe(200);
    expect(limitHeaders(free)).toEqual({});
  });

  it("applies the org default to keys without a limit of their own; a key's own wins", async () => {
    const plain = await createKey(['ORG_MEMBER']);
    const own = await createKey(['ORG_MEMBER']);
    const elsewhere = await createKey(['ORG_MEMBER'], otherOrgId);
    expect((await put(admin, `/orgs/${orgId}/rateLimit`, { requests: 2, periodSeconds: 120 })).status).toBe(
      200,
    );
    expect(
      (await put(admin, `/orgs/${orgId}/apiKeys/${own.id}/rateLimit`, { requests: 4, periodSeconds: 120 }))
        .status,
    ).toBe(200);
    const statuses = async (k: Creds, n: number) => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) out.push((await digest(k, 'GET', `${s.base}/orgs`)).status);
      return out;
    };
    expect(await statuses(plain, 3)).toEqual([200, 200, 429]);
    const refused = await digest(plain, 'GET', `${s.base}/orgs`);
    expect(refused.json).toMatchObject({
      detail: 'Resource /api/public/v1.0/orgs is limited to 2 requests every 2 minutes.',
    });
    expect(await statuses(own, 5)).toEqual([200, 200, 200, 200, 429]);
    // Another org's keys, and the admin (a global key without a limit), are untouched.
    expect(await statuses(elsewhere, 5)).toEqual([200, 200, 200, 200, 200]);
    expect(await statuses(admin, 5)).toEqual([200, 200, 200, 200, 200]);
    expect((await digest(admin, 'DELETE', `${s.base}/orgs/${orgId}/rateLimit`)).status).toBe(204);
    expect(await statuses(plain, 3)).toEqual([200, 200, 200]);
    expect(
      (await digest(admin, 'DELETE', `${s.base}/orgs/${orgId}/apiKeys/${own.id}/rateLimit`)).status,
    ).toBe(204);
  });

  it('limits a global key through /admin/apiKeys/{ID}/rateLimit', async () => {
    const created = await digest(admin, 'POST', `${s.base}/admin/apiKeys`, {
      body: { desc: 'reader', roles: ['GLOBAL_READ_ONLY'] },
    });
    const reader = created.json as Key;
    const path = `/admin/apiKeys/${reader.id}/rateLimit`;
    expect((await put(admin, path, { requests: 1, periodSeconds: 30 })).status).toBe(200);
    expect((await digest(reader, 'GET', `${s.base}${path}`)).json).toMatchObject({
      requests: 1,
      periodSeconds: 30,
    });
    const second = await digest(reader, 'GET', `${s.base}/orgs`);
    expect(second.status).toBe(429);
    expect(second.json).toMatchObject({
      detail: 'Resource /api/public/v1.0/orgs is limited to 1 requests every 0.5 minutes.',
    });
    expect(second.headers['retry-after']).toBe('30');
    expect(await events('GLOBAL_API_KEY_RATE_LIMIT_SET')).toEqual([
      {
        org_id: null,
        api_key_id: reader.id,
        target_public_key: reader.publicKey,
        actor_public_key: admin.publicKey,
      },
    ]);
    expect((await digest(admin, 'DELETE', `${s.base}${path}`)).status).toBe(204);
    expect((await digest(reader, 'GET', `${s.base}/orgs`)).status).toBe(200);
  });

  it("leaves an unlimited key's responses exactly as they were", async () => {
    const free = await createKey(['ORG_MEMBER']);
    const limited = await createKey(['ORG_MEMBER']);
    // Limits elsewhere (another key of the org, another org's default) do not touch this key.
    expect(
      (
        await put(admin, `/orgs/${orgId}/apiKeys/${limited.id}/rateLimit`, {
          requests: 50,
          periodSeconds: 60,
        })
      ).status,
    ).toBe(200);
    expect(
      (await put(admin, `/orgs/${otherOrgId}/rateLimit`, { requests: 1, periodSeconds: 60 })).status,
    ).toBe(200);
    const responses = [
      await digest(free, 'GET', `${s.base}/orgs/${orgId}`),
      await digest(free, 'GET', `${s.base}/orgs/${orgId}/apiKeys?itemsPerPage=1`),
      await digest(free, 'GET', `${s.base}/nowhere`),
      await digest(free, 'PUT', `${s.base}/orgs/${orgId}/rateLimit`, {
        body: { requests: 1, periodSeconds: 1 },
      }),
    ];
    expect(responses.map((r) => r.status)).toEqual([200, 200, 404, 401]);
    for (const r of responses) {
      expect(limitHeaders(r)).toEqual({});
      expect(Object.keys(r.headers).filter((h) => /rate|retry/i.test(h))).toEqual([]);
    }
    const limitedResponse = await digest(limited, 'GET', `${s.base}/orgs/${orgId}`);
    expect(limitedResponse.headers['ratelimit-limit']).toBe('50');
    // Same header names otherwise.
    const names = (r: TestResponse) => Object.keys(r.headers).sort();
    expect(names(limitedResponse).filter((h) => !LIMIT_HEADERS.includes(h))).toEqual(names(responses[0]!));
    expect((await digest(admin, 'DELETE', `${s.base}/orgs/${otherOrgId}/rateLimit`)).status).toBe(204);
  });
});

describe.each(DIALECTS)('rate limits across a restart (%s)', (dialect) => {
  it('keeps the limits', async () => {
    const fresh = await freshDatabaseUrl(dialect);
    try {
      let s = await startTestServer({ dialect, databaseUrl: fresh.url });
      const admin = await bootstrap(s.base);
      const org = await digest(admin, 'POST', `${s.base}/orgs`, { body: { name: 'Restart Org' } });
      const orgId = (org.json as { id: string }).id;
      expect(
        (
          await digest(admin, 'PUT', `${s.base}/orgs/${orgId}/rateLimit`, {
            body: { requests: 2, periodSeconds: 600 },
          })
        ).status,
      ).toBe(200);
      const k = await digest(admin, 'POST', `${s.base}/orgs/${orgId}/apiKeys`, {
        body: { desc: 'k', roles: ['ORG_MEMBER'] },
      });
      const key = k.json as Key;
      await s.close();
      s = await startTestServer({ dialect, databaseUrl: fresh.url });
      try {
        const read = await digest(admin, 'GET', `${s.base}/orgs/${orgId}/rateLimit`);
        expect(read.json).toMatchObject({ requests: 2, periodSeconds: 600 });
        const statuses = [];
        for (let i = 0; i < 3; i++) statuses.push((await digest(key, 'GET', `${s.base}/orgs`)).status);
        expect(statuses).toEqual([200, 200, 429]);
      } finally {
        await s.close();
      }
    } finally {
      rmSync(fresh.dir, { recursive: true, force: true });
      if (dialect === 'postgres') await dropDatabase(fresh.url);
    }
  });
});
