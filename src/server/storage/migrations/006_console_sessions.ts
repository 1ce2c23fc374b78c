/**
 * The web console's sessions and its sign-in throttle (docs/console.md), in the database so every node
 * honours a session, a sign-out ends it everywhere, and every node counts the same failed sign-ins.
 *
 * `console_sessions` holds the SHA-256 of each session token, never the token (the cookie's value), so a
 * copy of the database signs nobody in. Times are epoch milliseconds made in TypeScript.
 * `console_sign_in_failures` counts failed sign-ins per `u:<username>` and per `a:<address>`, with the
 * time until which that username or address is locked out.
 */
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE TABLE console_sessions (
    token_hash TEXT NOT NULL CONSTRAINT console_sessions_pk PRIMARY KEY,
    user_id TEXT NOT NULL,
    created BIGINT NOT NULL,
    last_seen BIGINT NOT NULL,
    expires BIGINT NOT NULL)`.execute(db);
  await sql`CREATE INDEX console_sessions_user ON console_sessions (user_id)`.execute(db);
  await sql`CREATE TABLE console_sign_in_failures (
    key TEXT NOT NULL CONSTRAINT console_sign_in_failures_pk PRIMARY KEY,
    failures INTEGER NOT NULL,
    locked_until BIGINT NOT NULL,
    last_failure BIGINT NOT NULL)`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('pakman migrations are forward-only');
}
