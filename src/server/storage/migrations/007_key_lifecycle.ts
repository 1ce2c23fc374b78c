/**
 * Key lifecycle (issue 16): expiry, rotation with a grace period, per-key usage, and an org's key policy.
 *
 * - `api_keys.expires_at` (ISO seconds, null: never) and `expiry_noticed` (1 once API_KEY_EXPIRED was
 *   recorded, so the event is written once whichever node sweeps first); `user_api_keys.expires_at`.
 * - `api_keys.prev_ha1_md5/prev_ha1_sha256/prev_valid_until`: the HA1 values of the private key a rotation
 *   replaced, valid until `prev_valid_until` (never the private key itself).
 * - `api_keys.last_used` (ISO, to the minute) and `api_key_usage` (requests per key and hour, 90 days).
 * - `org_api_key_policy`: per org, the longest lifetime a new or patched key may be given.
 * - `events.expires_at/grace_ends_at`: the time a lifecycle event is about.
 *
 * Triggers, as in migration 003: a change of what authentication reads about a key (expiry, previous HA1)
 * bumps `auth_generation`, so every node drops its cached credentials; a change of what a key's list item
 * shows (its tail after a rotation, its expiry) bumps the org's list `version`, so cached pages are re-read.
 * `last_used` and `expiry_noticed` are neither: writing them (the usage flush, the sweep) costs no cache.
 */
import { type Kysely, sql } from 'kysely';
import { isPostgres } from './dialect.js';

const run = (db: Kysely<unknown>, statements: string[]) =>
  statements.reduce<Promise<unknown>>((p, s) => p.then(() => sql.raw(s).execute(db)), Promise.resolve());

const AUTH_COLUMNS = ['expires_at', 'prev_ha1_md5', 'prev_ha1_sha256', 'prev_valid_until'];
const LIST_COLUMNS = ['key_tail', 'expires_at'];
const changed = (columns: string[], distinct: string) =>
  columns.map((c) => `OLD.${c} ${distinct} NEW.${c}`).join(' OR ');

export async function up(db: Kysely<unknown>): Promise<void> {
  const pg = await isPostgres(db);
  const counter = pg ? 'bigint' : 'integer';
  for (const column of ['expires_at', 'prev_ha1_md5', 'prev_ha1_sha256', 'prev_valid_until', 'last_used'])
    await db.schema.alterTable('api_keys').addColumn(column, 'text').execute();
  await db.schema
    .alterTable('api_keys')
    .addColumn('expiry_noticed', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable('user_api_keys').addColumn('expires_at', 'text').execute();
  // What a lifecycle event is about: the expiry set, or the end of a rotation's grace period.
  await db.schema.alterTable('events').addColumn('expires_at', 'text').execute();
  await db.schema.alterTable('events').addColumn('grace_ends_at', 'text').execute();
  // The sweep looks for expired keys not yet noticed: a partial index keeps that cheap and small.
  await sql`CREATE INDEX api_keys_expiring ON api_keys (expires_at) WHERE expires_at IS NOT NULL AND expiry_noticed = 0`.execute(
    db,
  );
  // Likewise for the ended grace periods the sweep forgets.
  await sql`CREATE INDEX api_keys_grace ON api_keys (prev_valid_until) WHERE prev_valid_until IS NOT NULL`.execute(
    db,
  );
  await db.schema
    .createTable('api_key_usage')
    .addColumn('api_key_id', 'text', (c) => c.notNull().references('api_keys.id').onDelete('cascade'))
    .addColumn('hour', 'text', (c) => c.notNull())
    .addColumn('count', counter, (c) => c.notNull())
    .addPrimaryKeyConstraint('api_key_usage_pk', ['api_key_id', 'hour'])
    .execute();
  await db.schema.createIndex('api_key_usage_hour').on('api_key_usage').column('hour').execute();
  await db.schema
    .createTable('org_api_key_policy')
    .addColumn('org_id', 'text', (c) => c.primaryKey().references('orgs.id').onDelete('cascade'))
    .addColumn('max_key_lifetime_seconds', 'integer')
    .execute();

  if (pg) {
    await run(db, [
      `CREATE CONSTRAINT TRIGGER api_keys_lifecycle_auth_changed AFTER UPDATE ON api_keys
         DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (${changed(AUTH_COLUMNS, 'IS DISTINCT FROM')})
         EXECUTE FUNCTION pakman_auth_changed()`,
      `CREATE CONSTRAINT TRIGGER user_api_keys_lifecycle_auth_changed AFTER UPDATE ON user_api_keys
         DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (OLD.expires_at IS DISTINCT FROM NEW.expires_at)
         EXECUTE FUNCTION pakman_auth_changed()`,
      `CREATE TRIGGER api_keys_list_lifecycle AFTER UPDATE ON api_keys FOR EACH ROW
         WHEN (${changed(LIST_COLUMNS, 'IS DISTINCT FROM')}) EXECUTE FUNCTION pakman_key_described()`,
    ]);
  } else {
    const bump = 'UPDATE auth_generation SET gen = gen + 1 WHERE id = 1;';
    await run(db, [
      `CREATE TRIGGER api_keys_lifecycle_auth_changed AFTER UPDATE ON api_keys
         WHEN ${changed(AUTH_COLUMNS, 'IS NOT')} BEGIN ${bump} END`,
      `CREATE TRIGGER user_api_keys_lifecycle_auth_changed AFTER UPDATE ON user_api_keys
         WHEN OLD.expires_at IS NOT NEW.expires_at BEGIN ${bump} END`,
      `CREATE TRIGGER api_keys_list_lifecycle AFTER UPDATE ON api_keys WHEN ${changed(LIST_COLUMNS, 'IS NOT')}
         BEGIN UPDATE api_key_counts SET version = version + 1 WHERE org_key = coalesce(NEW.org_id, ''); END`,
    ]);
  }
}

export async function down(): Promise<void> {
  throw new Error('pakman migrations are forward-only');
}
