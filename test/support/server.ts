/**
 * Test harness: a real pakman server on a real socket (port 0) over a real database — a fresh SQLite
 * file, or a fresh PostgreSQL database when `dialect: 'postgres'` (needs PAKMAN_TEST_POSTGRES_URL). What a
 * server created, `close()` removes (the file's directory, or DROP DATABASE … WITH (FORCE)), unless
 * PAKMAN_KEEP_TEST_DATA=1.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { type AppDeps, buildApp } from '../../src/server/app.js';
import { DatabaseReplayGuard } from '../../src/server/auth/replay.js';
import { type Connection, connect } from '../../src/server/storage/connect.js';
import { createDatabase, dropDatabase, POSTGRES_URL } from './postgres.js';

export { POSTGRES_URL };

/** A started test server. */
export interface TestServer {
  app: FastifyInstance;
  conn: Connection;
  /** e.g. http://127.0.0.1:PORT */
  origin: string;
  /** origin + /api/public/v1.0 */
  base: string;
  /** The data directory (SQLite) for inspecting what was written. */
  dataDir: string;
  databaseUrl: string;
  close(): Promise<void>;
}

/** Options for a test server. */
export interface TestServerOptions extends Partial<Omit<AppDeps, 'db'>> {
  dialect?: 'sqlite' | 'postgres';
  /** Reuse an existing database (e.g. to restart on the same file). */
  databaseUrl?: string;
  /** Listen on this port instead of a free one (e.g. to restart where clients expect the server). */
  port?: number;
}

/**
 * Makes a fresh database URL: a temp SQLite file, or a new, empty PostgreSQL database. The caller owns it
 * (`dropDatabase` from ./postgres.js); the global teardown drops any PostgreSQL one left at the end of the run.
 */
export async function freshDatabaseUrl(
  dialect: 'sqlite' | 'postgres',
): Promise<{ url: string; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'pakman-test-'));
  if (dialect === 'sqlite') return { url: `sqlite:${join(dir, 'pakman.db')}`, dir };
  return { url: await createDatabase(), dir };
}

/** Starts a server on 127.0.0.1:0. */
export async function startTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
  const dialect = opts.dialect ?? 'sqlite';
  const fresh = opts.databaseUrl ? { url: opts.databaseUrl, dir: '' } : await freshDatabaseUrl(dialect);
  const conn = await connect(fresh.url);
  const { dialect: _d, databaseUrl: _u, port: listenPort = 0, ...deps } = opts;
  // The replay memory `pakman serve` uses (main.ts): on PostgreSQL the shared table, whose answer a read
  // does not wait for before it starts (http/pipeline.ts).
  const replay = conn.dialect === 'postgres' ? new DatabaseReplayGuard(conn.db) : undefined;
  const app = await buildApp({
    secret: 'test-secret-test-secret-test-secret!',
    ...(replay ? { replay } : {}),
    ...deps,
    db: conn.db,
  });
  await app.listen({ port: listenPort, host: '127.0.0.1' });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  const origin = `http://127.0.0.1:${port}`;
  return {
    app,
    conn,
    origin,
    base: `${origin}/api/public/v1.0`,
    dataDir: fresh.dir,
    databaseUrl: fresh.url,
    async close() {
      await app.close();
      await conn.close();
      if (opts.databaseUrl || process.env.PAKMAN_KEEP_TEST_DATA === '1') return;
      if (fresh.dir) rmSync(fresh.dir, { recursive: true, force: true });
      if (dialect === 'postgres') await dropDatabase(fresh.url);
    },
  };
}
