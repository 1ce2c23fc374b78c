/**
 * A node that loses PostgreSQL answers 503 SERVICE_UNAVAILABLE (Ops Manager's error shape) instead of
 * crashing or hanging, and recovers by itself when the database is back. The shared cluster stays up: the
 * node reaches it through a TCP proxy started here, which the test cuts (every connection reset, new ones
 * refused, as when PostgreSQL goes down) and restores. Needs PAKMAN_TEST_POSTGRES_URL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Creds, digest, raw, type TestResponse } from './support/client.js';
import { POSTGRES_URL } from './support/postgres.js';
import { type NodeProcess, type ProxiedDatabase, proxiedDatabase, startNode } from './support/processes.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const UNAVAILABLE =
  '{"detail":"The service is temporarily unavailable. Try again shortly.","error":503,"errorCode":"SERVICE_UNAVAILABLE","parameters":[],"reason":"Service Unavailable"}';

/** Runs `call`, returning its response and how long it took. */
async function timed(call: () => Promise<TestResponse>): Promise<{ res: TestResponse; ms: number }> {
  const t = Date.now();
  const res = await call();
  return { res, ms: Date.now() - t };
}

describe.runIf(POSTGRES_URL)('database outage (PostgreSQL behind a TCP proxy the test cuts)', () => {
  let db: ProxiedDatabase;
  let node: NodeProcess;
  let admin: Creds;
  let orgId: string;

  /** Usage count of the global access-list entry 127.0.0.1/32, read through the proxy-free URL. */
  async function usageCount(): Promise<number> {
    const pg = (await import('pg')).default;
    const c = new pg.Client({ connectionString: db.directUrl });
    await c.connect();
    try {
      const r = await c.query(`SELECT count FROM global_access_list WHERE cidr_block = '127.0.0.1/32'`);
      return Number(r.rows[0].count);
    } finally {
      await c.end();
    }
  }

  beforeAll(async () => {
    db = await proxiedDatabase();
    node = await startNode({ PAKMAN_DATABASE_URL: db.viaProxy });
    const boot = await raw('POST', `${node.base}/unauth/users?accessList=127.0.0.1`, {
      body: { username: 'admin@example.com', password: 'Pw-123456-x', firstName: 'A', lastName: 'A' },
    });
    expect(boot.status, boot.text).toBe(201);
    admin = (boot.json as { programmaticApiKey: Creds }).programmaticApiKey;
    const org = await digest(admin, 'POST', `${node.base}/orgs`, { body: { name: 'Outage' } });
    orgId = (org.json as { id: string }).id;
  });

  afterAll(async () => {
    const code = await node?.stop();
    await db?.close();
    if (code !== undefined && code !== 0)
      process.stdout.write(`[outage] node exit code ${code}\n${node.output()}\n`);
  });

  it('answers 503 SERVICE_UNAVAILABLE while the database is away, stays up, and recovers by itself', async () => {
    expect((await digest(admin, 'GET', `${node.base}/orgs/${orgId}`)).status).toBe(200);
    // Let earlier usage reach the database, then make requests whose usage is still pending at the cut.
    await sleep(1200);
    const before = await usageCount();
    for (let i = 0; i < 10; i++) expect((await digest(admin, 'GET', `${node.base}/orgs`)).status).toBe(200);

    await db.proxy.cut();
    const cutAt = Date.now();
    // Digest authentication reads the database: the answer must be a 503, not a 401, and quick.
    for (const call of [
      () => digest(admin, 'GET', `${node.base}/orgs/${orgId}`),
      () => digest(admin, 'GET', `${node.base}/orgs/${orgId}/apiKeys?pretty=true`),
      () =>
        digest(admin, 'POST', `${node.base}/orgs/${orgId}/apiKeys`, {
          body: { desc: 'x', roles: ['ORG_MEMBER'] },
        }),
      () =>
        raw('POST', `${node.base}/unauth/users`, {
          body: { username: 'b@example.com', password: 'Pw-123456-x', firstName: 'B', lastName: 'B' },
        }),
    ]) {
      const { res, ms } = await timed(call);
      expect(res.status, res.text).toBe(503);
      expect(res.json).toEqual(JSON.parse(UNAVAILABLE));
      if (!res.text.includes('\n')) expect(res.text).toBe(UNAVAILABLE);
      expect(res.headers['content-type']).toBe('application/json');
      expect(ms).toBeLessThan(6000);
    }
    // What needs no database still works: the challenge and the version.
    const challenge = await raw('GET', `${node.base}/orgs`);
    expect(challenge.status).toBe(401);
    expect(challenge.headers['www-authenticate']).toContain('stale=false');
    expect((await raw('GET', `${node.origin}/api/private/unauth/version`)).status).toBe(200);
    // Long enough for at least one usage flush to fail.
    await sleep(1500);
    expect(node.alive()).toBe(true);

    await db.proxy.restore();
    const restoredAt = Date.now();
    let recoveredMs = Number.POSITIVE_INFINITY;
    while (Date.now() - restoredAt < 15_000) {
      const res = await digest(admin, 'GET', `${node.base}/orgs/${orgId}`);
      if (res.status === 200) {
        recoveredMs = Date.now() - restoredAt;
        break;
      }
      expect(res.status).toBe(503);
      await sleep(100);
    }
    process.stdout.write(
      `[outage] 503s for ${restoredAt - cutAt} ms of outage; 200 again ${recoveredMs} ms after the database came back\n`,
    );
    expect(recoveredMs).toBeLessThan(5000);
    expect(node.alive()).toBe(true);
    // Usage counted before the cut was kept through the failed flushes and written after recovery.
    const deadline = Date.now() + 5000;
    let after = await usageCount();
    while (after < before + 11 && Date.now() < deadline) {
      await sleep(200);
      after = await usageCount();
    }
    expect(after).toBeGreaterThanOrEqual(before + 11);
  });

  it('a cut in the middle of concurrent writes yields only 200s and 503s, and no half-written key', async () => {
    const creates = Array.from({ length: 40 }, (_, i) =>
      digest(admin, 'POST', `${node.base}/orgs/${orgId}/apiKeys`, {
        body: { desc: `inflight ${i}`, roles: ['ORG_OWNER'] },
      }),
    );
    // Cut as soon as the first create is through: the others are mid-flight (in auth, or mid-transaction).
    await Promise.race(creates);
    await db.proxy.cut();
    const results = await Promise.all(creates);
    for (const r of results) expect([200, 503], r.text).toContain(r.status);
    process.stdout.write(`[outage] in-flight: ${results.map((r) => r.status).join(',')}\n`);
    await sleep(300);
    await db.proxy.restore();
    let list: TestResponse | undefined;
    for (let i = 0; i < 50; i++) {
      list = await digest(admin, 'GET', `${node.base}/orgs/${orgId}/apiKeys?itemsPerPage=500`);
      if (list.status === 200) break;
      await sleep(100);
    }
    expect(list?.status).toBe(200);
    const keys = (list!.json as { results: { id: string; desc: string; roles: { roleName: string }[] }[] })
      .results;
    const byDesc = new Map(keys.map((k) => [k.desc, k]));
    // Every acknowledged create is there; whatever exists (a 503 may hide a commit) is whole.
    for (const r of results.filter((x) => x.status === 200))
      expect(byDesc.has((r.json as { desc: string }).desc)).toBe(true);
    for (const k of keys.filter((x) => x.desc.startsWith('inflight')))
      expect(k.roles.map((x) => x.roleName)).toEqual(['ORG_OWNER']);
    expect(node.alive()).toBe(true);
  });
});

describe.skipIf(POSTGRES_URL)('database outage', () => {
  it.skip('SKIPPED: needs PostgreSQL (set PAKMAN_TEST_POSTGRES_URL, as .ci/run does)', () => {});
});
