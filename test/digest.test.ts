/**
 * HTTP Digest rules of api.md §4 against the real server: stale nonces, replays, the nc and uri rules,
 * quoting variants, and SHA-256 when enabled.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeHa1, expectedResponse } from '../src/server/auth/digest.js';
import { bootstrap, type Creds, digest, raw } from './support/client.js';
import { DIALECTS } from './support/dialects.js';
import { authorization, challengeNonce } from './support/digestHeader.js';
import { startTestServer, type TestServer } from './support/server.js';

/** The raw bytes of one response to `request` (sent as-is on a fresh connection that the server closes). */
function rawExchange(origin: string, request: string): Promise<string> {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => socket.write(request));
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      text += chunk;
    });
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
  });
}

describe.each(DIALECTS)('digest authentication rules (%s)', (dialect) => {
  let s: TestServer;
  let admin: Creds & { id: string };
  let user: { username: string; password: string };
  const path = '/api/public/v1.0/orgs';

  beforeAll(async () => {
    s = await startTestServer({ nonceLifetimeSeconds: 2, dialect });
    admin = await bootstrap(s.base);
    user = { username: admin.publicKey, password: admin.privateKey };
  });
  afterAll(async () => s?.close());

  const get = (header: string, target = path) =>
    raw('GET', `${s.origin}${target}`, { headers: { authorization: header } });

  it('accepts a fresh nonce with any nc ≥ 1 and several requests on one nonce', async () => {
    const nonce = await challengeNonce(`${s.base}/orgs`);
    expect((await get(authorization(user, 'GET', path, nonce, 7))).status).toBe(200);
    expect((await get(authorization(user, 'GET', path, nonce, 8))).status).toBe(200);
    expect((await get(authorization(user, 'GET', path, nonce, 8))).status).toBe(200); // new cnonce: not a replay
  });

  it('refuses a replay of the same (nonce, cnonce, nc) with stale=true and a fresh nonce', async () => {
    const nonce = await challengeNonce(`${s.base}/orgs`);
    const header = authorization(user, 'GET', path, nonce, 1, 'fixedcnonce');
    expect((await get(header)).status).toBe(200);
    const replay = await get(header);
    expect(replay.status).toBe(401);
    const challenge = String(replay.headers['www-authenticate']);
    expect(challenge).toMatch(/stale=true$/);
    expect(challenge).not.toContain(nonce);
  });

  it('refuses a replay as stale whatever the original was answered, and the replay changes nothing', async () => {
    // Reads start before the shared replay memory answers (PostgreSQL); their answer waits for it.
    const missingOrg = '/api/public/v1.0/orgs/0123456789abcdef01234567';
    for (const [target, first] of [
      [missingOrg, 404],
      ['/api/public/v1.0/nowhere', 404],
      [`${path}?pretty=maybe`, 400],
      [path, 200],
    ] as const) {
      const header = authorization(user, 'GET', target, await challengeNonce(`${s.base}/orgs`));
      expect((await get(header, target)).status, target).toBe(first);
      const again = await get(header, target);
      expect(again.status, target).toBe(401);
      expect(String(again.headers['www-authenticate'])).toMatch(/, stale=true$/);
      expect(again.text).toBe(
        '{"detail":"You are not authorized for this resource.","error":401,"reason":"Unauthorized"}',
      );
    }
    // A write is replayed to no effect: one org, however often its request is sent again.
    const name = `replayed-${dialect}`;
    const body = JSON.stringify({ name });
    const create = authorization(user, 'POST', path, await challengeNonce(`${s.base}/orgs`));
    const post = () =>
      raw('POST', `${s.origin}${path}`, { rawBody: body, headers: { authorization: create } });
    expect((await post()).status).toBe(200);
    const replays = await Promise.all([post(), post(), post()]);
    expect(replays.map((r) => r.status)).toEqual([401, 401, 401]);
    const orgs = await digest(admin, 'GET', `${s.base}/orgs?itemsPerPage=500`);
    const named = (orgs.json as { results: { name: string }[] }).results.filter((o) => o.name === name);
    expect(named).toHaveLength(1);
  });

  it('counts an access-list entry once per genuine request, never for a replay', async () => {
    const orgId = (
      (await digest(admin, 'POST', `${s.base}/orgs`, { body: { name: `usage-${dialect}` } })).json as {
        id: string;
      }
    ).id;
    const made = await digest(admin, 'POST', `${s.base}/orgs/${orgId}/apiKeys`, {
      body: { desc: 'counted', roles: ['ORG_READ_ONLY'] },
    });
    const key = made.json as { id: string; publicKey: string; privateKey: string };
    const entries = `${s.base}/orgs/${orgId}/apiKeys/${key.id}/accessList`;
    expect((await digest(admin, 'POST', entries, { body: [{ cidrBlock: '127.0.0.1/32' }] })).status).toBe(
      200,
    );
    const target = `/api/public/v1.0/orgs/${orgId}`;
    const creds = { username: key.publicKey, password: key.privateKey };
    const header = authorization(creds, 'GET', target, await challengeNonce(`${s.base}/orgs`));
    expect((await get(header, target)).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await get(header, target)).status).toBe(401);
    // Usage reaches the database within about a second.
    const deadline = Date.now() + 5000;
    let count = 0;
    while (Date.now() < deadline) {
      const listed = await digest(admin, 'GET', entries);
      count = (listed.json as { results: { count: number }[] }).results[0]!.count;
      if (count > 0) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    await new Promise((r) => setTimeout(r, 1500));
    const listed = await digest(admin, 'GET', entries);
    expect((listed.json as { results: { count: number }[] }).results[0]!.count).toBe(1);
  });

  it('challenges requests without credentials with the same bytes whichever way they take', async () => {
    const request = (target: string, extra = '') =>
      `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\n${extra}Connection: close\r\n\r\n`;
    // Without credentials (answered before routing); with a header that is no digest (by the pipeline).
    const bare = await rawExchange(s.origin, request(path));
    const refused = await rawExchange(s.origin, request(path, 'Authorization: Basic eDp5\r\n'));
    const unknown = await rawExchange(s.origin, request('/favicon.ico'));
    const normalize = (text: string) =>
      text
        .replace(/nonce="[^"]+"/, 'nonce="N"')
        .replace(/\r\nDate: [^\r]+/, '\r\nDate: D')
        .replace(/\r\nx-request-id: [^\r]+/, '\r\nx-request-id: ID');
    expect(normalize(bare)).toBe(normalize(refused));
    expect(normalize(unknown)).toBe(normalize(refused));
    expect(bare).toMatch(
      /^HTTP\/1\.1 401 Unauthorized\r\nx-mongodb-service-version: gitHash=[^\r]+\r\nx-request-id: [A-Za-z0-9_-]+\r\nwww-authenticate: Digest realm="MMS Public API", domain="", nonce="[A-Za-z0-9+/]{32}", algorithm=MD5, qop="auth", stale=false\r\ncontent-type: application\/json\r\ncontent-length: 90\r\n/,
    );
    // Every nonce issued this way is one the server then accepts.
    const nonce = /nonce="([^"]+)"/.exec(bare)![1]!;
    expect((await get(authorization(user, 'GET', path, nonce))).status).toBe(200);
    // Public paths are not challenged, with or without a trailing slash.
    expect((await raw('GET', `${s.origin}/api/private/unauth/version`)).status).toBe(200);
    expect((await raw('GET', `${s.origin}/api/private/unauth/version/`)).status).toBe(200);
    const again = await raw('POST', `${s.base}/unauth/users`, {
      body: { username: 'second@example.com', password: 'Correct-Horse-9', firstName: 'B', lastName: 'B' },
    });
    expect(again.status).not.toBe(401);
    expect(again.json).toMatchObject({ errorCode: expect.any(String) });
  });

  it('hands the plain challenges of one second one nonce, which every client signs with its own cnonce', async () => {
    let now = Date.UTC(2030, 0, 1, 12, 0, 0, 100);
    const timed = await startTestServer({ dialect, clock: () => now });
    try {
      const creds = await bootstrap(timed.base);
      const me = { username: creds.publicKey, password: creds.privateKey };
      const send = (header: string) =>
        raw('GET', `${timed.origin}${path}`, { headers: { authorization: header } });
      const nonce = await challengeNonce(`${timed.base}/orgs`);
      now += 850; // same second
      expect(await challengeNonce(`${timed.base}/orgs`)).toBe(nonce);
      // A wrong response is challenged like a request without credentials (stale=false): the same nonce.
      const wrong = await send(authorization({ ...me, password: 'nope' }, 'GET', path, nonce));
      expect(String(wrong.headers['www-authenticate'])).toContain(`nonce="${nonce}"`);
      // Two clients on the shared nonce: distinct cnonces, distinct triples, both admitted.
      const first = authorization(me, 'GET', path, nonce, 1, 'client-one');
      expect((await send(first)).status).toBe(200);
      expect((await send(authorization(me, 'GET', path, nonce, 1, 'client-two'))).status).toBe(200);
      // A replay is still refused, and its stale challenge brings a nonce of its own.
      const replay = await send(first);
      expect(replay.status).toBe(401);
      const stale = /nonce="([^"]+)", .*stale=true$/.exec(String(replay.headers['www-authenticate']));
      expect(stale?.[1]).toBeDefined();
      expect(stale![1]).not.toBe(nonce);
      // The next second, a new one.
      now += 100;
      const next = await challengeNonce(`${timed.base}/orgs`);
      expect(next).not.toBe(nonce);
      expect(next).not.toBe(stale![1]);
      expect((await send(authorization(me, 'GET', path, next))).status).toBe(200);
    } finally {
      await timed.close();
    }
  });

  it('answers an expired nonce with stale=true only when the response was right', async () => {
    const nonce = await challengeNonce(`${s.base}/orgs`);
    await new Promise((r) => setTimeout(r, 3200));
    const right = await get(authorization(user, 'GET', path, nonce));
    expect(right.status).toBe(401);
    expect(String(right.headers['www-authenticate'])).toMatch(/stale=true$/);
    const wrong = await get(authorization({ ...user, password: 'nope' }, 'GET', path, nonce));
    expect(wrong.status).toBe(401);
    expect(String(wrong.headers['www-authenticate'])).toMatch(/stale=false$/);
  });

  it('refuses nc=00000000, a foreign nonce, another realm and a uri for another resource', async () => {
    const nonce = await challengeNonce(`${s.base}/orgs`);
    const good = authorization(user, 'GET', path, nonce, 3);
    expect((await get(good.replace('nc=00000003', 'nc=00000000'))).status).toBe(401);
    expect((await get(authorization(user, 'GET', path, 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'))).status).toBe(
      401,
    );
    expect((await get(good.replace('realm="MMS Public API"', 'realm="Other"'))).status).toBe(401);
    const otherUri = authorization(user, 'GET', '/api/public/v1.0/orgs/x', nonce, 4);
    expect((await get(otherUri)).status).toBe(401);
  });

  it('accepts the uri with the query or the path alone, and quoted algorithm/qop/nc', async () => {
    const nonce = await challengeNonce(`${s.base}/orgs`);
    const target = `${path}?pretty=true`;
    expect((await get(authorization(user, 'GET', target, nonce, 1), target)).status).toBe(200);
    expect((await get(authorization(user, 'GET', path, nonce, 2), target)).status).toBe(200);
    const quoted = authorization(user, 'GET', path, nonce, 3)
      .replace('algorithm=MD5', 'algorithm="MD5"')
      .replace('qop=auth', 'qop="auth"')
      .replace('nc=00000003', 'nc="00000003"');
    expect((await get(quoted)).status).toBe(200);
  });

  it('offers only MD5 by default and refuses SHA-256 responses', async () => {
    const res = await raw('GET', `${s.base}/orgs`);
    expect(res.headers['www-authenticate']).toEqual(expect.stringContaining('algorithm=MD5'));
    const nonce = await challengeNonce(`${s.base}/orgs`);
    const params = {
      username: user.username,
      realm: 'MMS Public API',
      nonce,
      uri: path,
      response: '',
      qop: 'auth',
      nc: '00000001',
      cnonce: 'c',
      algorithm: 'SHA-256' as const,
    };
    const response = expectedResponse(computeHa1('SHA-256', user.username, user.password), params, 'GET');
    const header = `Digest username="${user.username}", realm="MMS Public API", nonce="${nonce}", uri="${path}", algorithm=SHA-256, response="${response}", qop=auth, nc=00000001, cnonce="c"`;
    expect((await get(header)).status).toBe(401);
  });
});

describe('digest with SHA-256 enabled', () => {
  it('advertises SHA-256 after MD5 and accepts SHA-256 responses', async () => {
    const s = await startTestServer({ sha256: true });
    try {
      const admin = await bootstrap(s.base);
      const res = await raw('GET', `${s.base}/orgs`);
      const headers = res.headers['www-authenticate'];
      const list = Array.isArray(headers) ? headers : String(headers).split(/, (?=Digest )/);
      expect(list).toHaveLength(2);
      expect(list[0]).toMatch(/algorithm=MD5/);
      expect(list[1]).toMatch(/algorithm=SHA-256/);
      const nonce = /nonce="([^"]+)"/.exec(list[1]!)![1]!;
      const path = '/api/public/v1.0/orgs';
      const params = {
        username: admin.publicKey,
        realm: 'MMS Public API',
        nonce,
        uri: path,
        response: '',
        qop: 'auth',
        nc: '00000001',
        cnonce: 'c',
        algorithm: 'SHA-256' as const,
      };
      const response = expectedResponse(
        computeHa1('SHA-256', admin.publicKey, admin.privateKey),
        params,
        'GET',
      );
      const header = `Digest username="${admin.publicKey}", realm="MMS Public API", nonce="${nonce}", uri="${path}", algorithm=SHA-256, response="${response}", qop=auth, nc=00000001, cnonce="c"`;
      expect((await raw('GET', `${s.origin}${path}`, { headers: { authorization: header } })).status).toBe(
        200,
      );
    } finally {
      await s.close();
    }
  });
});
