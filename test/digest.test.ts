/**
 * HTTP Digest rules of api.md §4 against the real server: stale nonces, replays, the nc and uri rules,
 * quoting variants, and SHA-256 when enabled.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeHa1, expectedResponse } from '../src/server/auth/digest.js';
import { bootstrap, type Creds, raw } from './support/client.js';
import { authorization, challengeNonce } from './support/digestHeader.js';
import { startTestServer, type TestServer } from './support/server.js';

describe('digest authentication rules', () => {
  let s: TestServer;
  let admin: Creds;
  let user: { username: string; password: string };
  const path = '/api/public/v1.0/orgs';

  beforeAll(async () => {
    s = await startTestServer({ nonceLifetimeSeconds: 2 });
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
