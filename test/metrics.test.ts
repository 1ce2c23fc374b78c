/**
 * Prometheus metrics (issue 17): a real server on each database is scraped at `/metrics` before and after
 * known traffic, the text parsed by a third-party parser, and the differences checked exactly — 200s per
 * declared route pattern, digest failures by reason, one replay refused, latencies observed — with no key,
 * id, secret or username anywhere in the text.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/server/config.js';
import { serveMetrics } from '../src/server/metrics.js';
import { bootstrap, type Creds, digest, raw } from './support/client.js';
import { DIALECTS } from './support/dialects.js';
import { authorization, challengeNonce } from './support/digestHeader.js';
import { createDatabase, dropDatabase, POSTGRES_URL } from './support/postgres.js';
import { freePort, TcpProxy } from './support/processes.js';
import { type Scrape, scrape } from './support/prometheus.js';
import { startTestServer, type TestServer } from './support/server.js';

const REQUESTS = 'pakman_http_requests_total';
const DURATION = 'pakman_http_request_duration_seconds';
const FAILURES = 'pakman_digest_failures_total';
const ORG_ROUTE = '/api/public/v1.0/orgs/:orgId';

describe.each(DIALECTS)('metrics (%s)', (dialect) => {
  let s: TestServer;
  let admin: Creds & { id: string };
  let key: Creds & { id: string };
  let orgId: string;

  beforeAll(async () => {
    s = await startTestServer({ dialect });
    admin = await bootstrap(s.base);
    const org = await digest(admin, 'POST', `${s.base}/orgs`, { body: { name: 'Metrics Org' } });
    orgId = (org.json as { id: string }).id;
    const k = await digest(admin, 'POST', `${s.base}/orgs/${orgId}/apiKeys`, {
      body: { desc: 'metrics', roles: ['ORG_MEMBER'] },
    });
    key = k.json as Creds & { id: string };
  });
  afterAll(() => s?.close());

  /** `after - before` for a counter sample. */
  const delta = (before: Scrape, after: Scrape, name: string, labels: Record<string, string> = {}) =>
    after.value(name, labels) - before.value(name, labels);

  it('counts known traffic exactly, by route pattern, status and digest-failure reason', async () => {
    const before = await scrape(`${s.origin}/metrics`);
    expect(before.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');

    for (let i = 0; i < 5; i++) {
      const r = await digest(key, 'GET', `${s.base}/orgs/${orgId}`);
      expect(r.status).toBe(200);
    }
    // Three wrong secrets (urllib: challenge, then a wrong response each).
    const wrong = key.privateKey.slice(0, -1) + (key.privateKey.endsWith('0') ? '1' : '0');
    for (let i = 0; i < 3; i++) {
      const r = await digest({ ...key, privateKey: wrong }, 'GET', `${s.base}/orgs`);
      expect(r.status).toBe(401);
    }
    const path = `/api/public/v1.0/orgs/${orgId}`;
    const nonce = await challengeNonce(`${s.base}/orgs`);
    const creds = { username: key.publicKey, password: key.privateKey };
    const good = authorization(creds, 'GET', path, nonce);
    const variants: [string, string][] = [
      ['malformed', 'Digest username="x"'],
      ['realm', good.replace('realm="MMS Public API"', 'realm="Other"')],
      ['uri', authorization(creds, 'GET', '/api/public/v1.0/orgs', nonce)],
      ['nonce', authorization(creds, 'GET', path, 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')],
    ];
    for (const [, header] of variants) {
      const r = await raw('GET', `${s.origin}${path}`, { headers: { authorization: header } });
      expect(r.status).toBe(401);
    }
    // One request sent twice: the second is a replay.
    const once = authorization(creds, 'GET', '/api/public/v1.0/orgs', nonce);
    expect((await raw('GET', `${s.base}/orgs`, { headers: { authorization: once } })).status).toBe(200);
    expect((await raw('GET', `${s.base}/orgs`, { headers: { authorization: once } })).status).toBe(401);
    // An unknown path, authenticated: 404 under route "none".
    expect((await digest(key, 'GET', `${s.base}/nowhere/${key.id}`)).status).toBe(404);

    const after = await scrape(`${s.origin}/metrics`);
    const org200 = { method: 'GET', route: ORG_ROUTE, status: '200' };
    expect(delta(before, after, REQUESTS, org200)).toBe(5);
    expect(delta(before, after, REQUESTS, { method: 'GET', route: ORG_ROUTE, status: '401' })).toBe(4);
    expect(
      delta(before, after, REQUESTS, { method: 'GET', route: '/api/public/v1.0/orgs', status: '200' }),
    ).toBe(1);
    // 3 wrong secrets and the replay; the challenges without credentials go under "none".
    expect(
      delta(before, after, REQUESTS, { method: 'GET', route: '/api/public/v1.0/orgs', status: '401' }),
    ).toBe(4);
    expect(delta(before, after, REQUESTS, { method: 'GET', route: 'none', status: '404' })).toBe(1);
    // Challenges to requests without credentials: 5 + 3 + 1 (urllib) + 1 (challengeNonce).
    expect(delta(before, after, REQUESTS, { method: 'GET', route: 'none', status: '401' })).toBe(10);
    expect(after.histogramCount(DURATION, { method: 'GET', route: ORG_ROUTE })).toBe(
      before.histogramCount(DURATION, { method: 'GET', route: ORG_ROUTE }) + 9,
    );
    expect(delta(before, after, FAILURES, { reason: 'credentials' })).toBe(3);
    for (const [reason] of variants) expect(delta(before, after, FAILURES, { reason }), reason).toBe(1);
    expect(delta(before, after, FAILURES, { reason: 'stale' })).toBe(0);
    expect(delta(before, after, FAILURES, { reason: 'algorithm' })).toBe(0);
    expect(delta(before, after, 'pakman_digest_replays_refused_total')).toBe(1);
    expect(delta(before, after, 'pakman_http_unavailable_total')).toBe(0);
    expect(delta(before, after, 'pakman_credential_cache_lookups_total', { result: 'hit' })).toBeGreaterThan(
      0,
    );

    // Bounded labels only: no key, id, secret, username or raw path.
    for (const secret of [
      key.publicKey,
      key.privateKey,
      key.id,
      admin.publicKey,
      admin.privateKey,
      admin.id,
    ]) {
      expect(after.text).not.toContain(secret);
    }
    expect(after.text).not.toContain(orgId);
    expect(after.text).not.toContain('admin@example.com');
    expect(after.text).not.toContain('nowhere');
    // The process's default metrics come along.
    expect(after.families.has('process_cpu_user_seconds_total')).toBe(true);
    expect(after.families.has('nodejs_eventloop_lag_seconds')).toBe(true);
    expect(after.families.get(DURATION)?.type).toBe('HISTOGRAM');
  });

  it.runIf(dialect === 'postgres')('reports the PostgreSQL pools', async () => {
    const m = await scrape(`${s.origin}/metrics`);
    expect(m.value('pakman_db_pool_connections', { pool: 'main', state: 'max' })).toBe(10);
    expect(m.value('pakman_db_pool_connections', { pool: 'main', state: 'total' })).toBeGreaterThan(0);
    expect(m.families.get('pakman_db_pool_waiting_requests')?.metrics.length).toBe(2);
  });
});

describe.runIf(POSTGRES_URL)('metrics during a database outage (postgres)', () => {
  it('counts the 503s, by route and in pakman_http_unavailable_total', async () => {
    const target = new URL(POSTGRES_URL!);
    const proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
    await proxy.start();
    const dbUrl = await createDatabase();
    const viaProxy = new URL(dbUrl);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    const s = await startTestServer({ dialect: 'postgres', databaseUrl: viaProxy.toString() });
    try {
      const admin = await bootstrap(s.base);
      const before = await scrape(`${s.origin}/metrics`);
      await proxy.cut();
      for (let i = 0; i < 2; i++) {
        // A key the cache has not seen: authentication must read the database.
        const r = await digest({ ...admin, publicKey: 'zzzzzzzz' }, 'GET', `${s.base}/orgs`);
        expect(r.status).toBe(503);
      }
      // The metrics need no database.
      const during = await scrape(`${s.origin}/metrics`);
      await proxy.restore();
      expect(
        during.value('pakman_http_unavailable_total') - before.value('pakman_http_unavailable_total'),
      ).toBe(2);
      expect(
        during.value(REQUESTS, { method: 'GET', route: '/api/public/v1.0/orgs', status: '503' }) -
          before.value(REQUESTS, { method: 'GET', route: '/api/public/v1.0/orgs', status: '503' }),
      ).toBe(2);
    } finally {
      await proxy.restore();
      await s.close();
      await proxy.close();
      await dropDatabase(dbUrl);
    }
  });
});

describe('metrics exposure settings', () => {
  it('serves /metrics on a port of its own, and none on the main port when told so', async () => {
    const s = await startTestServer({ metricsOnMainPort: false });
    const port = await freePort();
    const server = await serveMetrics(s.app.metrics, '127.0.0.1', port);
    try {
      // Without the endpoint /metrics is just an unknown path: a challenge, as for any other.
      const main = await raw('GET', `${s.origin}/metrics`);
      expect(main.status).toBe(401);
      const own = await scrape(`http://127.0.0.1:${port}/metrics`);
      expect(own.families.has(REQUESTS)).toBe(true);
      expect((await raw('GET', `http://127.0.0.1:${port}/other`)).status).toBe(404);
    } finally {
      await new Promise((r) => server.close(r));
      await s.close();
    }
  });

  it('defaults: on the main port unless a metrics port is set', () => {
    expect(loadConfig({}).metricsOnMainPort).toBe(true);
    expect(loadConfig({}).metricsPort).toBeUndefined();
    expect(loadConfig({ metricsPort: '9464' })).toMatchObject({
      metricsPort: 9464,
      metricsOnMainPort: false,
    });
    expect(loadConfig({ metricsPort: '9464', metricsOnMainPort: 'true' }).metricsOnMainPort).toBe(true);
    expect(loadConfig({ metricsOnMainPort: 'false' }).metricsOnMainPort).toBe(false);
    expect(() => loadConfig({ metricsPort: '8080' })).toThrow(/PAKMAN_METRICS_PORT/);
    expect(() => loadConfig({ metricsOnMainPort: 'maybe' })).toThrow(/PAKMAN_METRICS_ON_MAIN_PORT/);
  });
});
