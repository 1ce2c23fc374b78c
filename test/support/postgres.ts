/**
 * Throw-away PostgreSQL databases for tests: one fresh database per server or suite, named
 * `pakman_t_<run>_<created, base 36 ms>_<random>` so a sweep can tell whose and how old each one is, dropped
 * WITH (FORCE) when its owner closes, and swept by the global setup/teardown when a run died half-way.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The PostgreSQL URL for tests, or undefined when PostgreSQL tests are skipped. */
export const POSTGRES_URL = process.env.PAKMAN_TEST_POSTGRES_URL || undefined;

/** Databases left by a run are swept by later runs once they are older than this (a run takes minutes). */
export const SWEEP_AFTER_MS = 60 * 60 * 1000;

const PREFIX = 'pakman_t_';
const NAME_RE = /^pakman_t_([0-9a-f]{6})_([0-9a-z]+)_[0-9a-f]{8}$/;
/** Names the harness made before names carried a run and a time. */
const LEGACY_RE = /^pakman_t_[0-9a-f]{12}$/;

/** This run's tag (set by the global setup so its teardown finds the run's databases), else 'ffffff'. */
export function runTag(): string {
  const tag = process.env.PAKMAN_TEST_RUN ?? '';
  return /^[0-9a-f]{6}$/.test(tag) ? tag : 'ffffff';
}

function requireUrl(): string {
  if (!POSTGRES_URL) throw new Error('PAKMAN_TEST_POSTGRES_URL is not set');
  return POSTGRES_URL;
}

/** Runs `fn` with a short-lived connection to the admin database (the one PAKMAN_TEST_POSTGRES_URL names). */
export async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>, url = requireUrl()): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** The URL of database `name` on the test cluster. */
export function databaseUrl(name: string, base = requireUrl()): string {
  const u = new URL(base);
  u.pathname = `/${name}`;
  return u.toString();
}

/** The database name in a postgres:// URL. */
export function databaseName(url: string): string {
  return decodeURIComponent(new URL(url).pathname.slice(1));
}

/** Creates an empty database and returns its URL. */
export async function createDatabase(): Promise<string> {
  const name = `${PREFIX}${runTag()}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  await withAdmin((c) => c.query(`CREATE DATABASE ${name}`));
  return databaseUrl(name);
}

/** Drops a test database, disconnecting whoever is still on it. Only ever touches pakman_t_* names. */
export async function dropDatabase(urlOrName: string): Promise<void> {
  const name = urlOrName.includes('://') ? databaseName(urlOrName) : urlOrName;
  if (!name.startsWith(PREFIX) || !/^[a-z0-9_]+$/.test(name)) throw new Error(`not a test database: ${name}`);
  await withAdmin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
}

/**
 * Drops leftover test databases: this run's (`run`), and any run's older than `olderThanMs`. Databases of
 * other runs still going on (younger than that) are left alone. Returns the names dropped.
 */
export async function sweepDatabases(opts: { run?: string; olderThanMs: number }): Promise<string[]> {
  const now = Date.now();
  return withAdmin(async (c) => {
    const { rows } = await c.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname LIKE 'pakman\\_t\\_%'`,
    );
    const dropped: string[] = [];
    for (const { datname } of rows) {
      const m = NAME_RE.exec(datname);
      let stale = false;
      if (m) {
        stale = m[1] === opts.run || now - Number.parseInt(m[2]!, 36) > opts.olderThanMs;
      } else if (LEGACY_RE.test(datname)) {
        const age = await legacyAgeMs(c, datname);
        stale = age !== undefined && age > opts.olderThanMs;
      }
      if (!stale) continue;
      try {
        await c.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
        dropped.push(datname);
      } catch {
        // Someone else dropped it first, or it is being created right now: the next sweep tries again.
      }
    }
    return dropped;
  });
}

/**
 * The data directory's PG_VERSION file dates a database whose name does not say when it was made; reading
 * it needs superuser or pg_read_server_files, so a refusal just leaves such a database alone.
 */
async function legacyAgeMs(c: pg.Client, datname: string): Promise<number | undefined> {
  try {
    const { rows } = await c.query<{ age_ms: number }>(
      `SELECT extract(epoch FROM now() - (pg_stat_file('base/' || oid || '/PG_VERSION')).modification) * 1000 AS age_ms
         FROM pg_database WHERE datname = $1`,
      [datname],
    );
    return rows[0] ? Number(rows[0].age_ms) : undefined;
  } catch {
    return undefined;
  }
}
