/**
 * The shared security suite, applied to every authenticated route the application declares: no
 * credentials, a wrong key, a replayed header, another org's key, and malformed ids. New routes are
 * covered automatically because the suite reads the route table itself.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allRoutes } from '../src/server/app.js';
import type { RouteSpec } from '../src/server/http/route.js';
import { POLICY } from '../src/server/rbac/policy.js';
import { bootstrap, type Creds, digest, raw } from './support/client.js';
import { DIALECTS } from './support/dialects.js';
import { authorization, challengeNonce } from './support/digestHeader.js';
import { CHALLENGE_BODY, expectUnauthorized } from './support/expect.js';
import { startTestServer, type TestServer } from './support/server.js';

const CHALLENGE_RE =
  /^Digest realm="MMS Public API", domain="", nonce="[A-Za-z0-9+/]{32}", algorithm=MD5, qop="auth", stale=(true|false)$/;
const ID_PARAMS = new Set(['orgId', 'groupId', 'apiKeyId', 'userId', 'entryId', 'eventId']);

function routeList(): RouteSpec[] {
  return allRoutes({ db: undefined as never, clock: Date.now }, { gitHash: 'x' });
}

describe('route declarations', () => {
  it('every route declares an action the policy table knows', () => {
    for (const r of routeList()) {
      expect(
        r.action === 'public' || Object.hasOwn(POLICY, r.action),
        `${r.method} ${r.url}: ${r.action}`,
      ).toBe(true);
    }
  });
  it('only the bootstrap, the version probe, the health probes and the OpenAPI document are open', () => {
    const open = routeList()
      .filter((r) => r.action === 'public')
      .map((r) => `${r.method} ${r.url}`)
      .sort();
    expect(open).toEqual([
      'GET /api/openapi.json',
      'GET /api/private/unauth/version',
      'GET /health/live',
      'GET /health/ready',
      'POST /unauth/users',
    ]);
  });
});

describe.each(DIALECTS)('security suite on every authenticated route (%s)', (dialect) => {
  let s: TestServer;
  let admin: Creds & { userId: string };
  let outsider: Creds;
  const values: Record<string, string> = {};
  const routes = routeList().filter((r) => r.action !== 'public');

  beforeAll(async () => {
    s = await startTestServer({ dialect });
    admin = await bootstrap(s.base);
    const org = await digest(admin, 'POST', `${s.base}/orgs`, { body: { name: 'Org A' } });
    values.orgId = (org.json as { id: string }).id;
    const key = await digest(admin, 'POST', `${s.base}/orgs/${values.orgId}/apiKeys`, {
      body: { desc: 'victim', roles: ['ORG_MEMBER'] },
    });
    values.apiKeyId = (key.json as { id: string }).id;
    const project = await digest(admin, 'POST', `${s.base}/groups`, {
      body: { name: 'Project A', orgId: values.orgId },
    });
    values.groupId =
      project.status === 201 ? (project.json as { id: string }).id : randomBytes(12).toString('hex');
    values.userId = admin.userId;
    values.entryId = randomBytes(12).toString('hex');
    values.eventId = randomBytes(12).toString('hex');
    const orgB = await digest(admin, 'POST', `${s.base}/orgs`, { body: { name: 'Org B' } });
    const orgBId = (orgB.json as { id: string }).id;
    outsider = (
      await digest(admin, 'POST', `${s.base}/orgs/${orgBId}/apiKeys`, {
        body: { desc: 'outsider', roles: ['ORG_OWNER'] },
      })
    ).json as Creds;
  });
  afterAll(async () => s?.close());

  function fill(url: string, override: Record<string, string> = {}): string {
    const path = url
      .split('/')
      .map((seg) => {
        if (!seg.startsWith(':')) return seg;
        const name = seg.slice(1);
        return encodeURIComponent(
          override[name] ?? values[name] ?? (name === 'entry' ? '10.9.8.7' : 'Project A'),
        );
      })
      .join('/');
    return `${s.origin}${url.startsWith('/api/') ? '' : '/api/public/v1.0'}${path}`;
  }
  const hasBody = (r: RouteSpec) => r.method === 'POST' || r.method === 'PATCH' || r.method === 'PUT';

  it.each(routes.map((r) => [`${r.method} ${r.url}`, r] as const))(
    '%s: no credentials → 401 challenge',
    async (_, r) => {
      const res = await raw(r.method, fill(r.url), hasBody(r) ? { body: {} } : {});
      expect(res.status).toBe(401);
      expect(res.json).toEqual(CHALLENGE_BODY);
      expect(String(res.headers['www-authenticate'])).toMatch(CHALLENGE_RE);
      expect(String(res.headers['www-authenticate'])).toMatch(/stale=false$/);
    },
  );

  it.each(routes.map((r) => [`${r.method} ${r.url}`, r] as const))(
    '%s: wrong private key → 401 challenge',
    async (_, r) => {
      const res = await digest(
        { ...admin, privateKey: '00000000-0000-4000-8000-000000000000' },
        r.method,
        fill(r.url),
        hasBody(r) ? { body: {} } : {},
      );
      expect(res.status).toBe(401);
      expect(res.json).toEqual(CHALLENGE_BODY);
    },
  );

  it.each(routes.map((r) => [`${r.method} ${r.url}`, r] as const))(
    '%s: replayed header → 401 stale=true',
    async (_, r) => {
      const url = new URL(fill(r.url));
      const target = url.pathname + url.search;
      const nonce = await challengeNonce(`${s.base}/orgs`);
      const header = authorization(
        { username: outsider.publicKey, password: outsider.privateKey },
        r.method,
        target,
        nonce,
        1,
      );
      const opts = { headers: { authorization: header }, ...(hasBody(r) ? { body: {} } : {}) };
      const first = await raw(r.method, url.toString(), opts);
      // The first use authenticates (whatever authorization then decides); only the repeat is refused.
      expect(first.headers['www-authenticate']).toBeUndefined();
      const again = await raw(r.method, url.toString(), opts);
      expect(again.status).toBe(401);
      expect(String(again.headers['www-authenticate'])).toMatch(/stale=true$/);
    },
  );

  const scoped = routes.filter((r) => r.action !== 'authenticated');
  it.each(scoped.map((r) => [`${r.method} ${r.url}`, r] as const))(
    "%s: another org's owner key → 401 USER_UNAUTHORIZED, nothing leaked",
    async (_, r) => {
      const res = await digest(outsider, r.method, fill(r.url), hasBody(r) ? { body: {} } : {});
      expect(res.status).toBe(401);
      expectUnauthorized(res);
    },
  );

  const withIds = routes.flatMap((r) =>
    r.url
      .split('/')
      .filter((seg) => seg.startsWith(':') && ID_PARAMS.has(seg.slice(1)))
      .map((seg) => [`${r.method} ${r.url} (${seg})`, r, seg.slice(1)] as const),
  );
  it.each(withIds)('%s: malformed id → 400 PATH_PARAM_PARSE_ERROR', async (_, r, param) => {
    const res = await digest(
      admin,
      r.method,
      fill(r.url, { [param]: 'not-an-id' }),
      hasBody(r) ? { body: {} } : {},
    );
    expect(res.status).toBe(400);
    expect((res.json as { errorCode: string }).errorCode).toBe('PATH_PARAM_PARSE_ERROR');
    expect((res.json as { parameters: string[] }).parameters[1]).toBe('not-an-id');
  });
});
