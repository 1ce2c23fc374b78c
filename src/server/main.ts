/**
 * config → database → migrate → buildApp → listen, and a graceful shutdown that loses no usage figures:
 * on SIGTERM readiness turns 503 first, the node serves on for the drain period (so a load balancer
 * stops sending it requests), then closes.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { buildApp } from './app.js';
import { DatabaseReplayGuard, MemoryReplayGuard } from './auth/replay.js';
import type { Config } from './config.js';
import { Health } from './http/routes/health.js';
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
  /** Readiness: `drain()` turns `GET /health/ready` to 503. */
  health: Health;
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
  const health = new Health(conn.db);
  // Asynchronous writes to stdout: a request's log line costs no write system call of its own, and a
  // busy node writes many lines at once. Flushed on shutdown (and by pino on exit).
  const stream = pino.destination({ dest: 1, sync: false });
  const app = await buildApp({
    db: conn.db,
    secret,
    publicUrl: config.publicUrl,
    trustProxy: config.trustProxy,
    nonceLifetimeSeconds: config.nonceLifetimeSeconds,
    sha256: config.sha256,
    bodyLimit: config.bodyLimit,
    connections: {
      requestTimeoutMs: config.requestTimeoutSeconds * 1000,
      headersTimeoutMs: config.headersTimeoutSeconds * 1000,
      idleTimeoutMs: config.idleTimeoutSeconds * 1000,
      maxConnections: config.maxConnections,
    },
    session: { idleSeconds: config.sessionIdleSeconds, maxSeconds: config.sessionMaxSeconds },
    // Several nodes share one PostgreSQL, so replays must be remembered where all of them look.
    replay: conn.dialect === 'postgres' ? new DatabaseReplayGuard(conn.db) : new MemoryReplayGuard(),
    logger: {
      level: config.logLevel,
      redact: ['req.headers.authorization', '*.password', '*.privateKey'],
      stream,
    },
    version: VERSION,
    health,
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
    health,
    async close() {
      if (closed) return;
      closed = true;
      if (metricsServer) await new Promise((r) => metricsServer.close(r));
      await app.close();
      await conn.close();
      stream.flushSync();
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
  // Only a hint: the node is serving already, so a database error here (it answers 503 meanwhile and
  // recovers by itself) must not stop it.
  const anyUser = await users.any(server.conn.db).catch((e: unknown) => {
    log.warn({ err: e }, 'could not tell whether a user exists');
    return true;
  });
  if (!anyUser) {
    process.stdout.write(
      `No users yet. Create the first user (and its GLOBAL_OWNER API key) with:\n  ${firstUserHint(server.url)}\n`,
    );
  }
  let stopping = false;
  let endDrain = () => {};
  const stop = async (signal: string) => {
    // A second signal during the drain ends it at once.
    if (stopping) return endDrain();
    stopping = true;
    server.health.drain();
    const drainMs = config.shutdownDrainSeconds * 1000;
    log.info(
      `${signal}: draining for ${config.shutdownDrainSeconds} s (readiness answers 503), then shutting down`,
    );
    if (drainMs > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, drainMs);
        endDrain = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    log.info('shutting down');
    try {
      await server.close();
      process.exit(0);
    } catch (e) {
      log.error({ err: e }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}
