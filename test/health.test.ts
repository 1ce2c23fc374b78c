/**
 * Health probes: liveness and readiness without credentials; readiness 503 while the node drains for
 * shutdown (SIGTERM on a real `pakman serve`: 503 at once, requests still served for the drain period,
 * then a clean exit) and while PostgreSQL cannot be reached (a TCP proxy the test cuts).
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Health } from '../src/server/http/routes/health.js';
import { type Connection, connect } from '../src/server/storage/connect.js';
import { bootstrap, type Creds, digest, raw } from './support/client.js';
import { DIALECTS } from './support/dialects.js';
import { dropDatabase, POSTGRES_URL } from './support/postgres.js';
import { type NodeProcess, type ProxiedDatabase, proxiedDatabase, startNode } from './support/processes.js';
import { freshDatabaseUrl, startTestServer, type TestServer } from './support/server.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(DIALECTS)('health probes (%s)', (dialect) => {
  let s: TestServer;
  let health: Health;
  let admin: Creds;

  let conn: Connection;
  let fresh: { url: string; dir: string };

  beforeAll(async () => {
    // The server's own Health, so that the test can start its drain as SIGTERM would.
    fresh = await freshDatabaseUrl(dialect);
    conn = await connect(fresh.url);
    health = new Health(conn.db);
    s = await startTestServer({ dialect, databaseUrl: fresh.url, health });
    admin = await bootstrap(s.base);
  });
  afterAll(async () => {
    await s?.close();
    await conn?.close();
    rmSync(fresh.dir, { recursive: true, force: true });
    if (dialect === 'postgres') await dropDatabase(fresh.url);
  });

  it('answer without credentials: live and ready are 200 {status: ok}', async () => {
    for (const path of ['/health/live', '/health/ready', '/health/live/']) {
      const res = await raw('GET', `${s.origin}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.text).toBe('{"status":"ok"}');
      expect(res.headers['content-type']).toBe('application/json');
      expect(res.headers['x-request-id']).toBeDefined();
    }
    // Only GET: another method is 405 after authentication, as everywhere.
    expect((await raw('POST', `${s.origin}/health/ready`)).status).toBe(401);
  });

  it('readiness turns 503 {status: draining} once the node drains; liveness and the API go on', async () => {
    health.drain();
    const ready = await raw('GET', `${s.origin}/health/ready`);
    expect(ready.status).toBe(503);
    expect(ready.json).toEqual({ status: 'draining' });
    expect((await raw('GET', `${s.origin}/health/live`)).status).toBe(200);
    expect((await digest(admin, 'GET', `${s.base}/orgs`)).status).toBe(200);
  });
});

describe('SIGTERM drains before shutting down (a real process)', () => {
  it('readiness 503 at once, requests served for PAKMAN_SHUTDOWN_DRAIN seconds, then exit 0', async () => {
    const node = await startNode({ PAKMAN_DATABASE_URL: 'sqlite::memory:', PAKMAN_SHUTDOWN_DRAIN: '2' });
    try {
      const admin = await bootstrap(node.base);
      expect((await raw('GET', `${node.origin}/health/ready`)).status).toBe(200);
      const signalledAt = Date.now();
      node.child.kill('SIGTERM');
      let ready = await raw('GET', `${node.origin}/health/ready`);
      while (ready.status === 200 && Date.now() - signalledAt < 1000) {
        await sleep(20);
        ready = await raw('GET', `${node.origin}/health/ready`);
      }
      expect(ready.status).toBe(503);
      expect(ready.json).toEqual({ status: 'draining' });
      expect(Date.now() - signalledAt).toBeLessThan(1000);
      // Still serving the API during the drain.
      expect((await digest(admin, 'GET', `${node.base}/orgs`)).status).toBe(200);
      expect(node.alive()).toBe(true);
      const code = await node.exited;
      expect(code).toBe(0);
      expect(Date.now() - signalledAt).toBeGreaterThanOrEqual(1900);
    } finally {
      await node.stop('SIGKILL');
    }
  });

  it('writes one JSON line per request to stdout at info', async () => {
    const node = await startNode({ PAKMAN_DATABASE_URL: 'sqlite::memory:', PAKMAN_LOG_LEVEL: 'info' });
    try {
      const res = await raw('GET', `${node.base}/orgs`, { headers: { 'X-Request-Id': 'probe-line-1' } });
      expect(res.status).toBe(401);
      let line: Record<string, unknown> | undefined;
      const deadline = Date.now() + 5000;
      while (!line && Date.now() < deadline) {
        await sleep(50);
        const found = node
          .output()
          .split('\n')
          .find((l) => l.includes('"probe-line-1"'));
        if (found) line = JSON.parse(found) as Record<string, unknown>;
      }
      expect(line).toMatchObject({ reqId: 'probe-line-1', method: 'GET', status: 401, msg: 'request' });
    } finally {
      expect(await node.stop()).toBe(0);
    }
  });
});

describe.runIf(POSTGRES_URL)('readiness while PostgreSQL is unreachable', () => {
  let db: ProxiedDatabase;
  let node: NodeProcess;

  beforeAll(async () => {
    db = await proxiedDatabase();
    node = await startNode({ PAKMAN_DATABASE_URL: db.viaProxy });
  });
  afterAll(async () => {
    await node?.stop();
    await db?.close();
  });

  /** Polls readiness until it answers `status`; returns how long that took. */
  async function until(status: number, withinMs: number): Promise<number> {
    const start = Date.now();
    for (;;) {
      // A refused connection is a node not answering yet (or gone: then say why, with its output).
      const res = await raw('GET', `${node.origin}/health/ready`).catch((e: Error) => {
        if (!node.alive()) throw new Error(`pakman serve exited: ${e.message}\n${node.output()}`);
        return undefined;
      });
      if (res === undefined) {
        if (Date.now() - start > withinMs) throw new Error(`readiness unreachable after ${withinMs} ms`);
        await sleep(100);
        continue;
      }
      if (res.status === status) {
        if (status === 503) expect(res.json).toEqual({ status: 'unavailable' });
        return Date.now() - start;
      }
      if (Date.now() - start > withinMs)
        throw new Error(`readiness still ${res.status} after ${withinMs} ms`);
      await sleep(100);
    }
  }

  it('is 503 {status: unavailable} while the database is away, 200 again soon after, liveness 200 all along', async () => {
    await until(200, 5000);
    await db.proxy.cut();
    const down = await until(503, 6000);
    expect((await raw('GET', `${node.origin}/health/live`)).status).toBe(200);
    await db.proxy.restore();
    const up = await until(200, 8000);
    process.stdout.write(`[health] readiness 503 ${down} ms after the cut, 200 ${up} ms after the restore\n`);
    expect(node.alive()).toBe(true);
  });
});
