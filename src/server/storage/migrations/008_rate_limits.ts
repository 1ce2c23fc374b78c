/**
 * Per-key rate limits (issue 17). `rate_limits` holds the limits an operator set: one row per org (its
 * default for every key of the org) or per key (overrides the org's), removed with the org or key. Its
 * changes bump `auth_generation` like every other change to what authentication reads (migration 003), so
 * each node's credential cache — which carries a key's effective limit — drops it within the same window
 * as a revoked key.
 *
 * `rate_limit_buckets` is the token bucket of each limited key that every node on one PostgreSQL takes
 * from (auth/rateLimit.ts); SQLite (one process) keeps buckets in memory and never writes it, but has the
 * table too, so both dialects have one schema (`pakman migrate-data` copies table for table). UNLOGGED on
 * PostgreSQL: after a crash the buckets simply start full.
 */
import { type Kysely, sql } from 'kysely';
import { isPostgres } from './dialect.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  const pg = await isPostgres(db);
  await db.schema
    .createTable('rate_limits')
    .addColumn('org_id', 'text', (c) => c.references('orgs.id').onDelete('cascade'))
    .addColumn('api_key_id', 'text', (c) => c.references('api_keys.id').onDelete('cascade'))
    .addColumn('requests', 'integer', (c) => c.notNull())
    .addColumn('period_seconds', 'integer', (c) => c.notNull())
    .addColumn('updated', 'text', (c) => c.notNull())
    .addCheckConstraint('rate_limits_one_subject', sql`(org_id IS NULL) <> (api_key_id IS NULL)`)
    .execute();
  await db.schema.createIndex('rate_limits_org').unique().on('rate_limits').column('org_id').execute();
  await db.schema.createIndex('rate_limits_key').unique().on('rate_limits').column('api_key_id').execute();
  const buckets = `CREATE ${pg ? 'UNLOGGED ' : ''}TABLE rate_limit_buckets (
    subject TEXT NOT NULL CONSTRAINT rate_limit_buckets_pk PRIMARY KEY,
    tokens DOUBLE PRECISION NOT NULL,
    updated_ms BIGINT NOT NULL,
    granted DOUBLE PRECISION NOT NULL)`;
  const triggers = pg
    ? [
        `CREATE CONSTRAINT TRIGGER rate_limits_auth_changed AFTER INSERT OR UPDATE OR DELETE ON rate_limits
           DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION pakman_auth_changed()`,
      ]
    : ['INSERT', 'UPDATE', 'DELETE'].map(
        (op) =>
          `CREATE TRIGGER rate_limits_auth_${op.toLowerCase()} AFTER ${op} ON rate_limits
             BEGIN UPDATE auth_generation SET gen = gen + 1 WHERE id = 1; END`,
      );
  for (const s of [buckets, ...triggers]) await sql.raw(s).execute(db);
}

export async function down(): Promise<void> {
  throw new Error('pakman migrations are forward-only');
}
