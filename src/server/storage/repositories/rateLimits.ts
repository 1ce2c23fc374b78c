/** Rate limits (migration 008): an org's default or a key's own, one row each. */
import type { RateLimit } from '../../auth/rateLimit.js';
import type { Db } from '../database.js';

/** Whose limit: an org's default, or one key's. */
export type LimitSubject = { orgId: string; keyId?: undefined } | { keyId: string; orgId?: undefined };

const column = (s: LimitSubject) => (s.keyId !== undefined ? 'api_key_id' : 'org_id');
const id = (s: LimitSubject) => (s.keyId ?? s.orgId) as string;

export const rateLimits = {
  async get(db: Db, s: LimitSubject): Promise<RateLimit | undefined> {
    const row = await db
      .selectFrom('rate_limits')
      .select(['requests', 'period_seconds'])
      .where(column(s), '=', id(s))
      .executeTakeFirst();
    return row && { requests: Number(row.requests), periodSeconds: Number(row.period_seconds) };
  },

  /** Sets (or replaces) the limit. */
  async set(db: Db, s: LimitSubject, limit: RateLimit, updated: string): Promise<void> {
    const values = { requests: limit.requests, period_seconds: limit.periodSeconds, updated };
    await db
      .insertInto('rate_limits')
      .values({ org_id: s.orgId ?? null, api_key_id: s.keyId ?? null, ...values })
      .onConflict((oc) => oc.column(column(s)).doUpdateSet(values))
      .execute();
  },

  /** Removes the limit; false when there was none. */
  async delete(db: Db, s: LimitSubject): Promise<boolean> {
    const res = await db.deleteFrom('rate_limits').where(column(s), '=', id(s)).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  },
};
