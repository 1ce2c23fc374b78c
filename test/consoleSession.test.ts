/**
 * Web console sessions over real HTTP (Node's fetch), on every database: sign-in, the cookie, the session
 * stored hashed, the session as principal of the public API with its user's roles, CSRF on every change,
 * idle and absolute expiry, the sign-in throttle, sign-out on one node ending the session on another, and
 * digest clients seeing nothing new.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertAlphabetical, bootstrap, type Creds, digest } from './support/client.js';
import { DIALECTS } from './support/dialects.js';
import { CHALLENGE_BODY } from './support/expect.js';
import { startTestServer, type TestServer } from './support/server.js';

const ADMIN = { username: 'admin@example.com', password: 'Correct-Horse-9' };
type Json = Record<string, unknown>;

/** A fetch that keeps one cookie, as a browser would for one site. */
class Browser {
  cookie: string | undefined;
  csrf: string | undefined;
  constructor(readonly origin: string) {}
  async call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const h: Record<string, string> = { ...headers };
    if (this.cookie) h.cookie = this.cookie;
    if (body !== undefined) h['content-type'] = 'application/json';
    const res = await fetch(`${this.origin}${path}`, {
      method,
      headers: h,
      body: body === undefined ? undefined : JSON.stringify(body),
      redirect: 'manual',
    });
    const text = await res.text();
    let json: Json | undefined;
    try {
      json = JSON.parse(text) as Json;
    } catch {}
    // Fields in alphabetical order, as in every pakman response.
    if (json !== undefined) assertAlphabetical(json, '$');
    return { status: res.status, headers: res.headers, text, json };
  }
  async signIn(username = ADMIN.username, password = ADMIN.password) {
    const res = await this.call('POST', '/console/api/session', { username, password });
    const set = res.headers.get('set-cookie');
    if (res.status === 201 && set) {
      this.cookie = set.split(';')[0];
      this.csrf = res.json?.csrfToken as string;
    }
    return res;
  }
  change(method: string, path: string, body?: unknown) {
    return this.call(method, path, body, this.csrf ? { 'x-csrf-token': this.csrf } : {});
  }
}

const API = '/api/public/v1.0';

describe.each(DIALECTS)('console sessions (%s)', (dialect) => {
  let s: TestServer;
  let now = Date.parse('2026-06-01T12:00:00Z');
  let admin: Creds;
  let orgId: string;

  beforeAll(async () => {
    s = await startTestServer({ dialect, clock: () => now });
  });
  afterAll(async () => s?.close());

  it('offers the first-user form while no user exists, with the console security headers', async () => {
    const b = new Browser(s.origin);
    const res = await b.call('GET', '/console/api/session');
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ clientAddress: '127.0.0.1', firstUser: true, signedIn: false });
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('cache-control')).toBe('no-store');
    admin = await bootstrap(s.base);
    orgId = ((await digest(admin, 'POST', `${s.base}/orgs`, { body: { name: 'Console Org' } })).json as Json)
      .id as string;
    expect((await b.call('GET', '/console/api/session')).json).toMatchObject({ firstUser: false });
  });

  it('refuses a wrong password with a clear error and no cookie; the same for an unknown username', async () => {
    const b = new Browser(s.origin);
    for (const [u, p] of [
      [ADMIN.username, 'wrong-password'],
      ['nobody@example.com', 'whatever'],
    ]) {
      const res = await b.signIn(u, p);
      expect(res.status).toBe(401);
      expect(res.json).toEqual({
        detail: 'The username or password is incorrect.',
        error: 401,
        errorCode: 'CONSOLE_SIGN_IN_FAILED',
        parameters: [],
        reason: 'Unauthorized',
      });
      expect(res.headers.get('set-cookie')).toBeNull();
      expect(res.headers.get('www-authenticate')).toBeNull();
    }
    expect((await b.call('POST', '/console/api/session', { username: ADMIN.username })).json).toMatchObject({
      errorCode: 'MISSING_ATTRIBUTE',
      parameters: ['password'],
    });
  });

  it('signs in: an HttpOnly, SameSite=Strict cookie whose token is stored only as its SHA-256', async () => {
    const b = new Browser(s.origin);
    const res = await b.signIn();
    expect(res.status).toBe(201);
    const set = res.headers.get('set-cookie')!;
    expect(set).toMatch(
      /^pakman_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=604800$/,
    );
    expect(res.json).toMatchObject({
      signedIn: true,
      user: { username: ADMIN.username, firstName: 'Ada', lastName: 'Admin' },
      roles: [{ roleName: 'GLOBAL_OWNER' }],
      clientAddress: '127.0.0.1',
      idleExpires: '2026-06-02T00:00:00Z',
      expires: '2026-06-08T12:00:00Z',
    });
    expect(res.json?.csrfToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const token = b.cookie!.split('=')[1]!;
    const rows = await s.conn.db.selectFrom('console_sessions').selectAll().execute();
    const hash = createHash('sha256').update(token).digest('hex');
    expect(rows.map((r) => r.token_hash)).toContain(hash);
    expect(JSON.stringify(rows)).not.toContain(token);
    const again = await b.call('GET', '/console/api/session');
    expect(again.json).toMatchObject({ signedIn: true, csrfToken: res.json?.csrfToken });
  });

  it('acts through the public API as the user; every change needs the CSRF token', async () => {
    const b = new Browser(s.origin);
    await b.signIn();
    const list = await b.call('GET', `${API}/orgs/${orgId}/apiKeys`);
    expect(list.status, list.text).toBe(200);
    expect(list.headers.get('set-cookie')).toBeNull();
    expect(list.headers.get('content-security-policy')).toBeNull();
    const before = (list.json?.totalCount as number) ?? 0;
    const body = { desc: 'from the console', roles: ['ORG_MEMBER'] };
    const attempts: Record<string, string>[] = [
      {},
      { 'x-csrf-token': 'not-the-token' },
      { 'x-csrf-token': '' },
    ];
    for (const headers of attempts) {
      const refused = await b.call('POST', `${API}/orgs/${orgId}/apiKeys`, body, headers);
      expect(refused.status).toBe(403);
      expect(refused.json).toEqual({
        detail: "A change made with a console session needs the session's X-CSRF-Token header.",
        error: 403,
        errorCode: 'CONSOLE_CSRF_TOKEN_INVALID',
        parameters: [],
        reason: 'Forbidden',
      });
    }
    expect((await b.call('GET', `${API}/orgs/${orgId}/apiKeys`)).json?.totalCount).toBe(before);
    const made = await b.change('POST', `${API}/orgs/${orgId}/apiKeys`, body);
    expect(made.status, made.text).toBe(200);
    expect(made.json).toMatchObject({ desc: 'from the console', privateKey: expect.any(String) });
    // The event names the user as the actor.
    const events = await digest(admin, 'GET', `${s.base}/orgs/${orgId}/events?eventType=API_KEY_CREATED`);
    expect(JSON.stringify(events.json)).toContain(ADMIN.username);
  });

  it("searches an org's keys by description or public key (?search=), any case, paged", async () => {
    const made: Json[] = [];
    for (const desc of ['Deploy bot', 'deploy 100%_sure', 'Backups', 'Metrics reader']) {
      made.push(
        (
          await digest(admin, 'POST', `${s.base}/orgs/${orgId}/apiKeys`, {
            body: { desc, roles: ['ORG_MEMBER'] },
          })
        ).json as Json,
      );
    }
    const find = async (q: string) =>
      (
        await digest(
          admin,
          'GET',
          `${s.base}/orgs/${orgId}/apiKeys?search=${encodeURIComponent(q)}&itemsPerPage=1`,
        )
      ).json as Json;
    const deploy = await find('DEPLOY');
    expect(deploy.totalCount).toBe(2);
    expect((deploy.results as Json[]).map((k) => k.desc)).toEqual(['Deploy bot']);
    expect((deploy.links as Json[]).find((l) => l.rel === 'next')?.href).toContain('search=DEPLOY');
    // LIKE wildcards are taken literally.
    expect(((await find('100%_')).results as Json[]).map((k) => k.desc)).toEqual(['deploy 100%_sure']);
    expect((await find('%')).totalCount).toBe(1);
    const pk = made[2]!.publicKey as string;
    expect(((await find(pk.toUpperCase())).results as Json[]).map((k) => k.desc)).toEqual(['Backups']);
    expect((await find('no such key')).totalCount).toBe(0);
  });

  it('answers a bad or unknown cookie with exactly the digest challenge of a request without credentials', async () => {
    const none = await fetch(`${s.base}/orgs`);
    for (const cookie of [
      'pakman_session=garbage',
      `pakman_session=${'A'.repeat(43)}`,
      'other=1; pakman_session=',
    ]) {
      const res = await fetch(`${s.base}/orgs`, { headers: { cookie } });
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual(CHALLENGE_BODY);
      expect(res.headers.get('www-authenticate')).toMatch(
        /^Digest realm="MMS Public API", domain="", nonce="/,
      );
      const names = (h: Headers) => {
        const out: string[] = [];
        h.forEach((_v, k) => {
          out.push(k);
        });
        return out.sort();
      };
      expect(names(res.headers)).toEqual(names(none.headers));
    }
  });

  it('shows a digest client nothing new: no cookie, no console headers', async () => {
    const res = await digest(admin, 'GET', `${s.base}/orgs/${orgId}/apiKeys`);
    expect(res.status).toBe(200);
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(res.headers['content-security-policy']).toBeUndefined();
    // A digest request that also carries a session cookie is judged by its digest alone.
    const b = new Browser(s.origin);
    await b.signIn();
    const withCookie = await digest(admin, 'GET', `${s.base}/orgs/${orgId}`, {
      headers: { cookie: b.cookie! },
    });
    expect(withCookie.status).toBe(200);
  });

  it('refuses an ORG_READ_ONLY user every write, whatever the console shows', async () => {
    const made = await digest(admin, 'POST', `${s.base}/users`, {
      body: {
        username: 'reader@example.com',
        password: 'Reader-Pass-123',
        firstName: 'Rita',
        lastName: 'Reader',
        emailAddress: 'reader@example.com',
        roles: [{ orgId, roleName: 'ORG_READ_ONLY' }],
      },
    });
    expect(made.status, made.text).toBe(201);
    const b = new Browser(s.origin);
    expect((await b.signIn('reader@example.com', 'Reader-Pass-123')).status).toBe(201);
    expect((await b.call('GET', `${API}/orgs/${orgId}/apiKeys`)).status).toBe(200);
    const refused = await b.change('POST', `${API}/orgs/${orgId}/apiKeys`, {
      desc: 'x',
      roles: ['ORG_MEMBER'],
    });
    expect(refused.status).toBe(401);
    expect(refused.json?.errorCode).toBe('USER_UNAUTHORIZED');
    expect(refused.headers.get('www-authenticate')).toBeNull();
  });

  it('ends a session after 12 hours unused, and after 7 days however used', async () => {
    const b = new Browser(s.origin);
    await b.signIn();
    now += 11 * 3600_000;
    expect((await b.call('GET', `${API}/orgs`)).status).toBe(200);
    now += 11 * 3600_000; // 22 h after sign-in, 11 h after its last use: still alive
    expect((await b.call('GET', '/console/api/session')).json?.signedIn).toBe(true);
    now += 12 * 3600_000 + 1000;
    expect((await b.call('GET', '/console/api/session')).json?.signedIn).toBe(false);
    const res = await b.call('GET', `${API}/orgs`);
    expect(res.status).toBe(401);
    expect(res.json).toEqual(CHALLENGE_BODY);

    const c = new Browser(s.origin);
    await c.signIn();
    for (let h = 0; h < 7 * 24 - 6; h += 6) {
      now += 6 * 3600_000;
      expect((await c.call('GET', `${API}/orgs`)).status, `after ${h + 6} h`).toBe(200);
    }
    now += 12 * 3600_000;
    expect((await c.call('GET', `${API}/orgs`)).status).toBe(401);
  });

  it('signs out only with the CSRF token, and the cookie no longer works', async () => {
    const b = new Browser(s.origin);
    await b.signIn();
    const refused = await b.call('DELETE', '/console/api/session');
    expect(refused.json?.errorCode).toBe('CONSOLE_CSRF_TOKEN_INVALID');
    expect((await b.call('GET', `${API}/orgs`)).status).toBe(200);
    const out = await b.change('DELETE', '/console/api/session');
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toMatch(
      /^pakman_session=; Path=\/; HttpOnly; SameSite=Strict; Max-Age=0$/,
    );
    expect((await b.call('GET', `${API}/orgs`)).status).toBe(401);
    expect((await b.call('GET', '/console/api/session')).json?.signedIn).toBe(false);
  });

  it('locks a username out after 5 wrong passwords, for a doubling time stated in the error', async () => {
    const b = new Browser(s.origin);
    for (let i = 0; i < 5; i++) expect((await b.signIn(ADMIN.username, `wrong-${i}`)).status).toBe(401);
    const locked = await b.signIn();
    expect(locked.status).toBe(429);
    expect(locked.json).toEqual({
      detail: 'Too many failed sign-ins for this username; try again in 1 seconds.',
      error: 429,
      errorCode: 'CONSOLE_SIGN_IN_LOCKED',
      parameters: ['this username', '1'],
      reason: 'Too Many Requests',
    });
    expect(locked.headers.get('retry-after')).toBe('1');
    now += 1000;
    expect((await b.signIn(ADMIN.username, 'wrong-again')).status).toBe(401);
    const longer = await b.signIn();
    expect(longer.json?.parameters).toEqual(['this username', '2']);
    now += 2000;
    expect((await b.signIn()).status).toBe(201);
    // A success clears the username's count.
    expect((await b.signIn(ADMIN.username, 'wrong')).status).toBe(401);
    expect((await b.signIn()).status).toBe(201);
  });

  it('locks an address out after 20 failures, whatever usernames it tries', async () => {
    const b = new Browser(s.origin);
    let locked: Awaited<ReturnType<Browser['signIn']>> | undefined;
    for (let i = 0; i < 25 && !locked; i++) {
      const res = await b.signIn(`guess-${i}@example.com`, 'guess');
      if (res.status === 429) locked = res;
      else expect(res.status).toBe(401);
    }
    expect(locked?.json).toMatchObject({
      errorCode: 'CONSOLE_SIGN_IN_LOCKED',
      parameters: ['this address', '1'],
    });
    // The right password of a user not locked itself is refused too while the address is.
    expect((await b.signIn()).status).toBe(429);
    now += 1000;
    expect((await b.signIn()).status).toBe(201);
  });

  it('marks the cookie Secure when the public URL is https', async () => {
    const t = await startTestServer({
      dialect,
      databaseUrl: s.databaseUrl,
      publicUrl: 'https://keys.example.com',
    });
    try {
      const res = await new Browser(t.origin).signIn();
      expect(res.headers.get('set-cookie')).toMatch(/; SameSite=Strict; Secure; Max-Age=604800$/);
    } finally {
      await t.close();
    }
  });

  it('honours a session on every node, and a sign-out on one node ends it on the other', async () => {
    const other = await startTestServer({ dialect, databaseUrl: s.databaseUrl, clock: () => now });
    try {
      const a = new Browser(s.origin);
      await a.signIn();
      const b = new Browser(other.origin);
      b.cookie = a.cookie;
      b.csrf = a.csrf;
      expect((await b.call('GET', `${API}/orgs/${orgId}`)).status).toBe(200);
      const renamed = await b.change('PATCH', `${API}/orgs/${orgId}`, { name: 'Console Org' });
      expect(renamed.status, renamed.text).toBe(200);
      expect((await a.change('DELETE', '/console/api/session')).status).toBe(204);
      expect((await b.call('GET', `${API}/orgs/${orgId}`)).status).toBe(401);
    } finally {
      await other.close();
    }
  });
});
