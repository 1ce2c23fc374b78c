/**
 * Key lifecycle storage (migration 007): expiry, rotation (the replaced key's HA1 values with the end of
 * their grace), per-key usage per hour, and the org's key policy. No private key is ever stored.
 */
import { sql } from 'kysely';
import type { StoredSecret } from '../../auth/credentials.js';
import type { Db } from '../database.js';
import { type ApiKeyRecord, KEY_COLUMNS, withRoles } from './apiKeys.js';

/** One hour (or day) of a key's usage: the bucket's start (ISO seconds) and its request count. */
export interface UsageBucket {
  start: string;
  count: number;
}

/** A key of an unused-keys report: the record and its last use (null: never). */
export interface UnusedKey {
  key: ApiKeyRecord;
  lastUsed: string | null;
}

/** Reads and writes lifecycle columns and tables. Every method takes the handle (a transaction or not). */
export const keyLifecycle = {
  /** Sets (or, with null, clears) a key's expiry; a new expiry is noticed afresh by the sweep. */
  async setExpiry(db: Db, id: string, expiresAt: string | null): Promise<void> {
    await db
      .updateTable('api_keys')
      .set({ expires_at: expiresAt, expiry_noticed: 0 })
      .where('id', '=', id)
      .execute();
  },

  /** The end of the key's current grace period (ISO seconds), or null. The caller holds the key's lock. */
  async graceEnd(db: Db, id: string): Promise<string | null> {
    const row = await db
      .selectFrom('api_keys')
      .select('prev_valid_until')
      .where('id', '=', id)
      .executeTakeFirst();
    return row?.prev_valid_until ?? null;
  },

  /**
   * Replaces the key's secret with `next`; with `graceEndsAt`, the replaced HA1 values stay valid until
   * then (moved in SQL: SET expressions read the row as it was, so they never pass through here).
   */
  async rotate(db: Db, id: string, next: StoredSecret, graceEndsAt: string | null): Promise<void> {
    const keep = graceEndsAt !== null;
    await db
      .updateTable('api_keys')
      .set({
        prev_ha1_md5: keep ? sql<string>`ha1_md5` : null,
        prev_ha1_sha256: keep ? sql<string>`ha1_sha256` : null,
        prev_valid_until: graceEndsAt,
        ha1_md5: next.ha1Md5,
        ha1_sha256: next.ha1Sha256,
        key_tail: next.keyTail,
      })
      .where('id', '=', id)
      .execute();
  },

  /** A key's last use (ISO, to the minute), or null; undefined when the key does not exist. */
  async lastUsed(db: Db, id: string): Promise<string | null | undefined> {
    const row = await db.selectFrom('api_keys').select('last_used').where('id', '=', id).executeTakeFirst();
    return row ? row.last_used : undefined;
  },

  /** The key's non-empty hours in [from, to) (ISO hour starts), ascending. */
  async usage(db: Db, id: string, from: string, to: string): Promise<UsageBucket[]> {
    const rows = await db
      .selectFrom('api_key_usage')
      .select(['hour', 'count'])
      .where('api_key_id', '=', id)
      .where('hour', '>=', from)
      .where('hour', '<', to)
      .orderBy('hour')
      .execute();
    return rows.map((r) => ({ start: r.hour, count: Number(r.count) }));
  },

  /**
   * One page of an org's keys (null: the global keys) last used before `cutoff`, or never used and created
   * before it, by id, with the size of the whole set.
   */
  async unused(
    db: Db,
    orgId: string | null,
    cutoff: string,
    offset: number,
    limit: number,
  ): Promise<{ items: UnusedKey[]; totalCount: number }> {
    let base = db.selectFrom('api_keys').where(sql<boolean>`coalesce(last_used, created) < ${cutoff}`);
    base = orgId === null ? base.where('org_id', 'is', null) : base.where('org_id', '=', orgId);
    const page = base
      .select([...KEY_COLUMNS, 'last_used'])
      .orderBy('id')
      .limit(limit)
      .offset(offset);
    const keys = await withRoles(db, page, true);
    const count = await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return {
      items: keys.map(({ lastUsed, ...key }) => ({ key, lastUsed: lastUsed ?? null })),
      totalCount: Number(count.n),
    };
  },

  /** The org's cap on key lifetimes in seconds, or null for none. */
  async maxLifetime(db: Db, orgId: string): Promise<number | null> {
    const row = await db
      .selectFrom('org_api_key_policy')
      .select('max_key_lifetime_seconds')
      .where('org_id', '=', orgId)
      .executeTakeFirst();
    return row?.max_key_lifetime_seconds == null ? null : Number(row.max_key_lifetime_seconds);
  },

  /** Sets (null: removes) the org's cap. */
  async setMaxLifetime(db: Db, orgId: string, seconds: number | null): Promise<void> {
    await db
      .insertInto('org_api_key_policy')
      .values({ org_id: orgId, max_key_lifetime_seconds: seconds })
      .onConflict((oc) => oc.column('org_id').doUpdateSet({ max_key_lifetime_seconds: seconds }))
      .execute();
  },

  /**
   * Marks the keys expired by `now` (ISO seconds) and not yet noticed as noticed, and answers them: each
   * exactly once, whichever node asks first (on PostgreSQL a second node's UPDATE waits for the first's
   * row locks, then finds the rows no longer match).
   */
  async claimExpired(
    db: Db,
    now: string,
  ): Promise<{ id: string; orgId: string | null; publicKey: string; expiresAt: string }[]> {
    const rows = await db
      .updateTable('api_keys')
      .set({ expiry_noticed: 1 })
      .where('expires_at', 'is not', null)
      .where('expires_at', '<=', now)
      .where('expiry_noticed', '=', 0)
      .returning(['id', 'org_id', 'public_key', 'expires_at'])
      .execute();
    return rows.map((r) => ({
      id: r.id,
      orgId: r.org_id,
      publicKey: r.public_key,
      expiresAt: r.expires_at!,
    }));
  },

  /** Forgets the HA1 values of grace periods ended by `now`, and usage hours before `usageFrom`. */
  async sweep(db: Db, now: string, usageFrom: string): Promise<void> {
    await db
      .updateTable('api_keys')
      .set({ prev_ha1_md5: null, prev_ha1_sha256: null, prev_valid_until: null })
      .where('prev_valid_until', 'is not', null)
      .where('prev_valid_until', '<=', now)
      .execute();
    await db.deleteFrom('api_key_usage').where('hour', '<', usageFrom).execute();
  },
};
