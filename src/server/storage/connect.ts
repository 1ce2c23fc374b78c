/** Opens the configured database (SQLite or PostgreSQL) and applies migrations. */

import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { BATCHES_IN_FLIGHT } from './coalesce.js';
import type { Database, Db } from './database.js';
import { migrationProvider } from './migrations/index.js';
import { attachReader, detachReader, readerFor, withStatementCache } from './reader.js';

/** Which engine a database URL names. */
export type Dialect = 'sqlite' | 'postgres';

/** A parsed `PAKMAN_DATABASE_URL`. */
export interface DatabaseTarget {
  dialect: Dialect;
  /** File path or ':memory:' for SQLite; the connection string for PostgreSQL. */
  location: string;
}

/** Parses `sqlite:<path>`, `sqlite::memory:` or `postgres://…`; throws with a readable message otherwise. */
export function parseDatabaseUrl(url: string): DatabaseTarget {
  if (url.startsWith('sqlite:')) {
    const location = url.slice('sqlite:'.length);
    if (!location) throw new Error('expected sqlite:<path> or sqlite::memory:');
    return { dialect: 'sqlite', location };
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://'))
    return { dialect: 'postgres', location: url };
  throw new Error('expected sqlite:<path>, sqlite::memory: or postgres://user@host:port/db');
}

/** An open database: the Kysely handle, its dialect and a close function. */
export interface Connection {
  db: Db;
  dialect: Dialect;
  close(): Promise<void>;
}

// PostgreSQL returns BIGINT/COUNT as strings; pakman's counters fit in a double.
pg.types.setTypeParser(20, (v) => Number(v));

/** Opens a connection without migrating. */
export function openDatabase(target: DatabaseTarget): Connection {
  if (target.dialect === 'sqlite') {
    if (target.location !== ':memory:') mkdirSync(dirname(target.location), { recursive: true });
    const sqlite = new SQLite(target.location);
    sqlite.pragma('journal_mode = WAL');
    // FULL: a transaction is on disk before the response that acknowledges it is sent.
    sqlite.pragma('synchronous = FULL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 10000');
    // Every write through this connection ends the reader connection's snapshot (reader.ts).
    const database = withStatementCache(sqlite, () => readerFor(db)?.sync?.release());
    const db: Db = new Kysely<Database>({ dialect: new SqliteDialect({ database }) });
    attachReader(db, { dialect: 'sqlite', location: target.location });
    return {
      db,
      dialect: 'sqlite',
      close: () => {
        detachReader(db);
        return db.destroy();
      },
    };
  }
  const pool = postgresPool(target.location, 10);
  const genericPool = postgresPool(target.location, GENERIC_CONNECTIONS);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  attachReader(db, { dialect: 'postgres', pool, genericPool });
  pools.set(db, { main: pool, generic: genericPool });
  return {
    db,
    dialect: 'postgres',
    close: async () => {
      detachReader(db);
      await genericPool.end();
      await db.destroy();
    },
  };
}

const pools = new WeakMap<Db, Readonly<Record<string, pg.Pool>>>();

/** The PostgreSQL pools of a database opened here, by name (for the metrics); none for SQLite. */
export function postgresPools(db: Db): Readonly<Record<string, pg.Pool>> {
  return pools.get(db) ?? {};
}

/**
 * Connections of the pool for statements planned once per connection (`genericPlan`, storage/reader.ts):
 * as many as the replay-memory statements a node keeps in flight at once (storage/coalesce.ts).
 */
const GENERIC_CONNECTIONS = BATCHES_IN_FLIGHT;

/** A pool of at most `max` connections to `url`; its clients' failures surface on their next statement. */
function postgresPool(url: string, max: number): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    // Named in pg_stat_activity so operators can tell pakman's connections apart (a URL parameter wins).
    application_name: 'pakman',
    max,
    // While PostgreSQL is unreachable a request waits at most this long before it becomes a 503.
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
  });
  // An idle client losing its server must not crash the process; the next query reports the failure.
  pool.on('error', () => {});
  // Nor may a checked-out one: between two statements of a transaction nobody listens on the client, and an
  // unheard 'error' event would kill the node. The next statement on it fails instead and becomes a 503.
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}

/** Applies pending migrations; Kysely's lock makes concurrent starts of several nodes safe. */
export async function migrate(db: Db): Promise<void> {
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    throw new Error(`migration ${failed?.migrationName ?? '?'} failed: ${String(error)}`);
  }
}

/** Opens and migrates. */
export async function connect(url: string): Promise<Connection> {
  const conn = openDatabase(parseDatabaseUrl(url));
  try {
    await migrate(conn.db);
  } catch (e) {
    await conn.close();
    throw e;
  }
  return conn;
}

/** True when an error is a unique/primary-key violation, on either engine. */
export function isUniqueViolation(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
