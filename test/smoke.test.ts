import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrap, type Creds, digest, raw } from './support/client.js';
import { startTestServer, type TestServer } from './support/server.js';

describe('smoke: bootstrap, org, keys over a real socket with urllib digest', () => {
  let s: TestServer;
  let admin: Creds;
  beforeAll(async () => {
    s = await startTestServer();
    admin = await bootstrap(s.base);
  });
  afterAll(async () => s?.close());

  it('creates an org and a key, lists it redacted', async () => {
    const org = await digest(admin, 'POST', `${s.base}/orgs`, { body: { name: 'Acme' } });
    expect(org.status).toBe(200);
    const orgId = (org.json as { id: string }).id;
    const key = await digest(admin, 'POST', `${s.base}/orgs/${orgId}/apiKeys`, {
      body: { desc: 'k', roles: ['ORG_MEMBER'] },
    });
    expect(key.status).toBe(200);
    const k = key.json as { privateKey: string; id: string };
    expect(k.privateKey).toMatch(/^[0-9a-f-]{36}$/);
    const list = await digest(admin, 'GET', `${s.base}/orgs/${orgId}/apiKeys`);
    expect(list.status).toBe(200);
    expect(list.headers['content-type']).toBe('application/json');
    expect(list.json).toMatchObject({
      totalCount: 1,
      results: [{ id: k.id, privateKey: `********-****-****-${k.privateKey.slice(-12)}` }],
    });
  });

  it('challenges without credentials', async () => {
    const res = await raw('GET', `${s.base}/orgs`);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(
      /^Digest realm="MMS Public API", domain="", nonce="[A-Za-z0-9+/]{32}", algorithm=MD5, qop="auth", stale=false$/,
    );
  });
});
