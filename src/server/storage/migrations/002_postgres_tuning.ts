/**
 * PostgreSQL only (a no-op on SQLite, whose integers are already 64-bit and which has no WAL to skip):
 *
 * - `digest_replays` becomes UNLOGGED. Every authenticated request inserts a row there, and an UNLOGGED
 *   insert writes no WAL, so its commit does not wait for a WAL flush. The price: after a PostgreSQL crash
 *   (not a clean restart) the table comes back empty, and standbys never see its rows, so a request captured
 *   in the last nonce lifetime (60 s by default) could be replayed once more after a crash or a failover.
 *   The rows live no longer than a nonce anyway; docs/deployment.md says so.
 * - Counters and the replay expiry become BIGINT: `integer` is 32-bit on PostgreSQL, so access-list
 *   counts would overflow after 2^31 requests and `expires` (Unix seconds) in January 2038.
 */
import { type Kysely, sql } from 'kysely';
import { isPostgres } from './dialect.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  if (!(await isPostgres(db))) return;
  await sql`ALTER TABLE digest_replays SET UNLOGGED`.execute(db);
  await sql`ALTER TABLE digest_replays ALTER COLUMN expires TYPE bigint`.execute(db);
  await sql`ALTER TABLE api_key_access_list ALTER COLUMN count TYPE bigint`.execute(db);
  await sql`ALTER TABLE global_access_list ALTER COLUMN count TYPE bigint`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('pakman migrations are forward-only');
}
