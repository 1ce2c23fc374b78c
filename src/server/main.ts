/** config → database → migrate → buildApp → listen, and a graceful shutdown that loses no usage figures. */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import { DatabaseReplayGuard, MemoryReplayGuard } from './auth/replay.js';
import type { Config } from './config.js';
import { serveMetrics } from './metrics.js';
import { type Connection, connect } from './storage/connect.js';
import { settings } from './storage/repositories/settings.js';
import { users } from './storage/repositories/users.js';
import { VERSION } from './version.js';

/** A running server. */
export interface RunningServer {
  app: FastifyInstance;
  conn: Connection;
  url: string;
  close(): Promise<void>;
}

/** The deployment secret: configured, or generated once and kept in the database for every node. */
export async function deploymentSecret(conn: Connection, configured: string | undefined): Promise<string> {
  if (configured) return configured;
  return settings.getOrInsert(conn.db, 'digest.secret', randomBytes(32).toString('base64'));
}

/** Starts a server from a validated configuration. */
export async function startServer(config: Config): Promise<RunningServer> {
  const conn = await connect(config.databaseUrl);
  const secret = await deploymentSecret(conn, config.secret);
  const app = await buildApp({
    db: conn.db,
    secret,
    publicUrl: config.publicUrl,
    trustProxy: config.trustProxy,
    nonceLifetimeSeconds: config.nonceLifetimeSeconds,
    sha256: config.sha256,
    bodyLimit: config.bodyLimit,
    // Several nodes share one PostgreSQL, so replays must be remembered where all of them look.
    replay: conn.dialect === 'postgres' ? new DatabaseReplayGuard(conn.db) : new MemoryReplayGuard(),
    logger: {
      level: config.logLevel,
      redact: ['req.headers.authorization', '*.password', '*.privateKey'],
    },
    version: VERSION,
    metricsOnMainPort: config.metricsOnMainPort,
  });
  const address = await app.listen({ port: config.port, host: config.host });
  const url = `${address}/api/public/v1.0`;
  const metricsServer =
    config.metricsPort === undefined
      ? undefined
      : await serveMetrics(app.metrics, config.host, config.metricsPort).catch(async (e: unknown) => {
          await app.close();
          await conn.close();
          throw e;
        });
  let closed = false;
  return {
    app,
    conn,
    url,
    async close() {
      if (closed) return;
      closed = true;
      if (metricsServer) await new Promise((r) => metricsServer.close(r));
      await app.close();
      await conn.close();
    },
  };
}

/** The command that creates the first user, for the start-up message on an empty database. */
export function firstUserHint(url: string): string {
  return `curl -X POST -H 'Content-Type: application/json' '${url}/unauth/users' --data '{"username":"admin@example.com","password":"<a strong password>","firstName":"Ada","lastName":"Admin"}'`;
}

/** Runs until SIGINT/SIGTERM, then shuts down gracefully. */
export async function runServer(config: Config): Promise<void> {
  const server = await startServer(config);
  const log = server.app.log;
  log.info(`pakman listening on ${server.url}`);
  process.stdout.write(`pakman ${VERSION.versionString} listening on ${server.url}\n`);
  if (!(await users.any(server.conn.db))) {
    process.stdout.write(
      `No users yet. Create the first user (and its GLOBAL_OWNER API key) with:\n  ${firstUserHint(server.url)}\n`,
    );
  }
  const stop = async (signal: string) => {
    log.info(`${signal}: shutting down`);
    try {
      await server.close();
      process.exit(0);
    } catch (e) {
      log.error({ err: e }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}
