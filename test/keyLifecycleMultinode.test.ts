/**
 * Key lifecycle across nodes on one PostgreSQL (issue 16): an expiry set through one node refuses the key
 * on the other within a second of the expiry; a rotated key's old secret works on the other node until the
 * grace ends and not from that second on (a clock the test holds); and usage counts of a storm over two
 * real `pakman serve` processes add up exactly after both are stopped with SIGTERM.
 * Needs PAKMAN_TEST_POSTGRES_URL (skipped otherwise).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrap, type Creds, digest, type TestResponse } from './support/client.js';
import { createDatabase, dropDatabase, POSTGRES_URL } from './support/postgres.js';
import { type NodeProcess, startNode } from './support/processes.js';
import { startTestServer, type TestServer } from './support/server.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
const isChallenge = (r: TestResponse) =>
  r.status === 401 && /^Digest /.test(String(r.headers['www-authenticate'] ?? ''));
type Key = Creds & { id: string; graceEndsAt?: string };

describe.runIf(POSTGRES_URL)('key lifecycle on two nodes of one PostgreSQL', () => {
  let a: TestServer;
  let b: TestServer;
  /** Both nodes' clock: the real one unless the test holds it. */
  let held: number | undefined;
  const clock = () => held ?? Date.now();
  let admin: Key;
  let orgId: string;

  const createKey = async (via: TestServer, body: Record<string, unknown> = {}): Promise<Key> => {
    const res = await digest(admin, 'POST', `${via.base}/orgs/${orgId}/apiKeys`, {
      body: { desc: 'k', roles: ['ORG_MEMBER'], ...body },
    });
    expect(res.status, res.text).toBe(200);
    return res.json as Key;
  };
  const probe = (via: TestServer, k: Creds) => digest(k, 'GET', `${via.base}/orgs/${orgId}`);

  beforeAll(async () => {
    a = await startTestServer({ dialect: 'postgres', clock });
    b = await startTestServer({ dialect: 'postgres', clock, databaseUrl: a.databaseUrl });
    admin = await bootstrap(a.base);
    orgId = (
      (await digest(admin, 'POST', `${a.base}/orgs`, { body: { name: 'Two nodes' } })).json as { id: string }
    ).id;
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('an expiry set through one node refuses the key on the other within a second of it', async () => {
    const k = await createKey(a);
    // Cached on B before the change.
    expect((await probe(b, k)).status).toBe(200);
    const expiresAt = Math.ceil(Date.now() / 1000) * 1000 + 3000;
    const patched = await digest(admin, 'PATCH', `${a.base}/orgs/${orgId}/apiKeys/${k.id}`, {
      body: { expiresAt: iso(expiresAt) },
    });
    expect(patched.status, patched.text).toBe(200);
    let refusedAt = Number.POSITIVE_INFINITY;
    let okBefore = 0;
    while (Date.now() < expiresAt + 3000) {
      const sent = Date.now();
      const res = await probe(b, k);
      if (res.status === 200) {
        expect(sent, 'B accepted the key after its expiry').toBeLessThan(expiresAt + 1000);
        okBefore++;
      } else {
        expect(isChallenge(res), res.text).toBe(true);
        refusedAt = Date.now();
        break;
      }
      await sleep(50);
    }
    expect(okBefore).toBeGreaterThan(0);
    expect(refusedAt - expiresAt).toBeLessThan(1000);
    // The other node shows it expired too.
    const shown = await digest(admin, 'GET', `${b.base}/orgs/${orgId}/apiKeys/${k.id}`);
    expect(shown.json).toMatchObject({ expired: true, expiresAt: iso(expiresAt) });
  });

  it('a key created with an expiry through one node is refused on the other from that second', async () => {
    const expiresAt = Math.ceil(Date.now() / 1000) * 1000 + 2000;
    const k = await createKey(a, { expiresAt: iso(expiresAt) });
    expect((await probe(b, k)).status).toBe(200);
    await sleep(expiresAt - Date.now() + 20);
    expect(isChallenge(await probe(b, k))).toBe(true);
    expect(isChallenge(await probe(a, k))).toBe(true);
  });

  it('a rotated key’s old secret works on the other node until the grace ends, and not one second later', async () => {
    const k = await createKey(a);
    expect((await probe(b, k)).status).toBe(200);
    held = Math.floor(Date.now() / 1000) * 1000;
    const res = await digest(admin, 'POST', `${a.base}/orgs/${orgId}/apiKeys/${k.id}/rotate`, {
      body: { graceSeconds: 90 },
    });
    expect(res.status, res.text).toBe(200);
    const rotated = res.json as Key;
    expect(rotated.graceEndsAt).toBe(iso(held + 90_000));
    const fresh = { publicKey: k.publicKey, privateKey: rotated.privateKey };
    // B learns of the rotation within a second (the credential cache's bound).
    let learnt = false;
    for (let i = 0; i < 25 && !learnt; i++) {
      learnt = (await probe(b, fresh)).status === 200;
      if (!learnt) await sleep(50);
    }
    expect(learnt).toBe(true);
    expect((await probe(b, k)).status).toBe(200);
    held += 90_000 - 1;
    expect((await probe(b, k)).status).toBe(200);
    expect((await probe(a, k)).status).toBe(200);
    held += 1;
    expect(isChallenge(await probe(b, k))).toBe(true);
    expect(isChallenge(await probe(a, k))).toBe(true);
    expect((await probe(b, fresh)).status).toBe(200);
    // Rotating again through the other node during the grace was refused; now it is allowed.
    held = undefined;
  });

  it('a rotation through one node is refused on the other while its grace lasts', async () => {
    const k = await createKey(a);
    const first = await digest(admin, 'POST', `${a.base}/orgs/${orgId}/apiKeys/${k.id}/rotate`, {
      body: { graceSeconds: 600 },
    });
    expect(first.status).toBe(200);
    const again = await digest(admin, 'POST', `${b.base}/orgs/${orgId}/apiKeys/${k.id}/rotate`, {
      body: { graceSeconds: 600 },
    });
    expect(again.status).toBe(409);
    expect((again.json as { errorCode: string }).errorCode).toBe('API_KEY_ROTATION_IN_PROGRESS');
  });
});

describe.runIf(POSTGRES_URL)('key usage over two pakman processes, stopped with SIGTERM', () => {
  let dbUrl: string;
  let nodes: NodeProcess[] = [];
  let sql: pg.Pool;

  beforeAll(async () => {
    dbUrl = await createDatabase();
    sql = new pg.Pool({ connectionString: dbUrl, max: 2 });
    sql.on('error', () => {});
    const env = { PAKMAN_DATABASE_URL: dbUrl };
    nodes = await Promise.all([startNode(env), startNode(env)]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop('SIGKILL')));
    await sql?.end();
    if (dbUrl) await dropDatabase(dbUrl);
  });

  it('counts every request of a storm exactly once, the last ones flushed on SIGTERM', async () => {
    const [a, b] = nodes as [NodeProcess, NodeProcess];
    const admin = await bootstrap(a.base);
    const org = await digest(admin, 'POST', `${a.base}/orgs`, { body: { name: 'Storm' } });
    const orgId = (org.json as { id: string }).id;
    const made = await digest(admin, 'POST', `${b.base}/orgs/${orgId}/apiKeys`, {
      body: { desc: 'storm', roles: ['ORG_MEMBER'] },
    });
    const key = made.json as Key;
    const perWorker = 30;
    const workers = 8;
    let ok = 0;
    await Promise.all(
      Array.from({ length: workers }, async (_, w) => {
        for (let i = 0; i < perWorker; i++) {
          const via = (w + i) % 2 ? a : b;
          const res = await digest(key, 'GET', `${via.base}/orgs/${orgId}`);
          expect(res.status, res.text).toBe(200);
          ok++;
        }
      }),
    );
    // Refused attempts are not uses.
    await digest({ publicKey: key.publicKey, privateKey: 'wrong' }, 'GET', `${a.base}/orgs/${orgId}`);
    expect(ok).toBe(perWorker * workers);
    // At once, before the next periodic flush of either node: what is pending must be written on the way out.
    const codes = await Promise.all([a.stop('SIGTERM'), b.stop('SIGTERM')]);
    expect(codes, a.output() + b.output()).toEqual([0, 0]);
    const total = await sql.query(
      'SELECT coalesce(sum(count), 0)::int AS n FROM api_key_usage WHERE api_key_id = $1',
      [key.id],
    );
    expect(total.rows[0].n).toBe(perWorker * workers);
    const last = await sql.query('SELECT last_used FROM api_keys WHERE id = $1', [key.id]);
    expect(last.rows[0].last_used).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:00Z$/);
    // A fresh node reads the same figures through the API.
    const c = await startNode({ PAKMAN_DATABASE_URL: dbUrl });
    nodes.push(c);
    const usage = await digest(admin, 'GET', `${c.base}/orgs/${orgId}/apiKeys/${key.id}/usage`);
    expect(usage.status, usage.text).toBe(200);
    expect((usage.json as { total: number }).total).toBe(perWorker * workers);
  }, 120_000);
});
