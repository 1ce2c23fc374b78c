/**
 * The shared replay memory keyed by one 53-bit number per digest triple (`digest_replay_keys`), instead of
 * the triple's three text columns (`digest_replays`). Every authenticated request on PostgreSQL inserts a
 * row there; a BIGINT primary key is a quarter of the index entry and compares as one integer: inserting a
 * batch of three took ~40 µs instead of 60–85 (`pgbench`), a tenth less database CPU per B3 handshake
 * (docs/benchmarks.md, item 16). How the key is made, and why a collision can only ever refuse a genuine
 * request (never admit a replay): `replayKey` in `auth/replay.ts`.
 *
 * No index on `expires`: the sweep every 15 s reads the table once, cheaper than an index entry per insert.
 * UNLOGGED on PostgreSQL, as `digest_replays` was (migration 002, docs/deployment.md).
 *
 * `digest_replays` stays for nodes of the previous version still running during a rolling upgrade; this
 * version only sweeps it. A later migration drops it.
 */
import { type Kysely, sql } from 'kysely';
import { isPostgres } from './dialect.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  const unlogged = (await isPostgres(db)) ? sql.raw('UNLOGGED ') : sql.raw('');
  await sql`CREATE ${unlogged}TABLE digest_replay_keys (
    key BIGINT NOT NULL CONSTRAINT digest_replay_keys_pk PRIMARY KEY,
    expires BIGINT NOT NULL)`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('pakman migrations are forward-only');
}
