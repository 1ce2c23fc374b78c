/** The web console's sessions and sign-in failure counts (migration 006); no SQL outside this file. */
import { sql } from 'kysely';
import type { Db } from '../database.js';

/** A stored session joined with its user. */
export interface SessionRow {
  tokenHash: string;
  userId: string;
  username: string;
  firstName: string;
  lastName: string;
  created: number;
  lastSeen: number;
  expires: number;
}

/** A username or address's failed sign-ins. */
export interface FailureRow {
  key: string;
  failures: number;
  lockedUntil: number;
}

export const consoleSessions = {
  /** A user's id and password hash by username, for signing in. */
  async credentials(db: Db, username: string): Promise<{ id: string; passwordHash: string } | undefined> {
    const row = await db
      .selectFrom('users')
      .select(['id', 'password_hash'])
      .where('username', '=', username)
      .executeTakeFirst();
    return row && { id: row.id, passwordHash: row.password_hash };
  },

  async insert(db: Db, tokenHash: string, userId: string, now: number, expires: number): Promise<void> {
    await db
      .insertInto('console_sessions')
      .values({ token_hash: tokenHash, user_id: userId, created: now, last_seen: now, expires })
      .execute();
  },

  async find(db: Db, tokenHash: string): Promise<SessionRow | undefined> {
    const row = await db
      .selectFrom('console_sessions as s')
      .innerJoin('users as u', 'u.id', 's.user_id')
      .select([
        's.token_hash',
        's.user_id',
        'u.username',
        'u.first_name',
        'u.last_name',
        's.created',
        's.last_seen',
        's.expires',
      ])
      .where('s.token_hash', '=', tokenHash)
      .executeTakeFirst();
    if (!row) return undefined;
    return {
      tokenHash: row.token_hash,
      userId: row.user_id,
      username: row.username,
      firstName: row.first_name,
      lastName: row.last_name,
      created: Number(row.created),
      lastSeen: Number(row.last_seen),
      expires: Number(row.expires),
    };
  },

  async touch(db: Db, tokenHash: string, now: number): Promise<void> {
    await db
      .updateTable('console_sessions')
      .set({ last_seen: now })
      .where('token_hash', '=', tokenHash)
      .execute();
  },

  async delete(db: Db, tokenHash: string): Promise<void> {
    await db.deleteFrom('console_sessions').where('token_hash', '=', tokenHash).execute();
  },

  /** Drops sessions past either expiry (idle: not seen since `idleBefore`). */
  async sweep(db: Db, now: number, idleBefore: number): Promise<void> {
    await db
      .deleteFrom('console_sessions')
      .where((eb) => eb.or([eb('expires', '<', now), eb('last_seen', '<', idleBefore)]))
      .execute();
  },

  async failures(db: Db, keys: readonly string[]): Promise<FailureRow[]> {
    const rows = await db
      .selectFrom('console_sign_in_failures')
      .select(['key', 'failures', 'locked_until'])
      .where('key', 'in', keys)
      .execute();
    return rows.map((r) => ({ key: r.key, failures: r.failures, lockedUntil: Number(r.locked_until) }));
  },

  /**
   * Counts one more failure for `key` in one atomic statement (two nodes failing at once both count), the
   * count starting afresh when the last failure is older than `resetBefore`; answers the new count.
   */
  async fail(db: Db, key: string, now: number, resetBefore: number): Promise<number> {
    const row = await db
      .insertInto('console_sign_in_failures')
      .values({ key, failures: 1, locked_until: 0, last_failure: now })
      .onConflict((oc) =>
        oc.column('key').doUpdateSet({
          failures: sql<number>`CASE WHEN console_sign_in_failures.last_failure < ${resetBefore} THEN 1 ELSE console_sign_in_failures.failures + 1 END`,
          last_failure: now,
        }),
      )
      .returning('failures')
      .executeTakeFirstOrThrow();
    return row.failures;
  },

  async lock(db: Db, key: string, until: number): Promise<void> {
    await db
      .updateTable('console_sign_in_failures')
      .set({
        locked_until: sql<number>`CASE WHEN locked_until > ${until} THEN locked_until ELSE ${until} END`,
      })
      .where('key', '=', key)
      .execute();
  },

  async clear(db: Db, key: string): Promise<void> {
    await db.deleteFrom('console_sign_in_failures').where('key', '=', key).execute();
  },
};
