/**
 * Usage figures: access-list entries (api.md §8: every admitted request bumps its entry's `count`,
 * `lastUsed` and `lastUsedAddress`) and programmatic keys (issue 16: requests per key and hour, and the
 * key's `lastUsed` to the minute). Writes are batched (at most `intervalMs` behind) as increments, so the
 * counts of several nodes add up, and flushed on shutdown.
 */
import { sql } from 'kysely';
import type { Db } from '../storage/database.js';

interface Pending {
  table: 'api_key_access_list' | 'global_access_list';
  keyId: string;
  cidrBlock: string;
  count: number;
  lastUsed: string;
  lastUsedAddress: string;
}

/** A key's requests since the last flush: the current hour's count, and earlier hours' if the hour turned. */
interface KeyPending {
  /** Hours since the epoch. */
  hour: number;
  count: number;
  /** Milliseconds since the epoch of the latest use. */
  lastUsed: number;
  earlier: [hour: number, count: number][] | undefined;
}

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;
/** ISO-8601 seconds of `ms` (`…:00Z` for whole minutes and hours). */
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

/** Batches usage increments and writes them periodically. */
export class UsageRecorder {
  #pending = new Map<string, Pending>();
  #keys = new Map<string, KeyPending>();
  readonly #timer: NodeJS.Timeout;
  #flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Db,
    intervalMs = 1000,
    private readonly onError: (e: unknown) => void = () => {},
  ) {
    this.#timer = setInterval(() => {
      this.flush().catch(this.onError);
    }, intervalMs);
    this.#timer.unref();
  }

  /** Counts one admitted request. `keyId` is '' for the global access list. */
  hit(table: Pending['table'], keyId: string, cidrBlock: string, address: string, when: string): void {
    const id = `${table} ${keyId} ${cidrBlock}`;
    const p = this.#pending.get(id);
    if (p) {
      p.count++;
      p.lastUsed = when;
      p.lastUsedAddress = address;
    } else {
      this.#pending.set(id, { table, keyId, cidrBlock, count: 1, lastUsed: when, lastUsedAddress: address });
    }
  }

  /**
   * Counts one authenticated request of a programmatic key, at `now` (ms). The hot path: one map lookup and
   * a few number updates; an allocation only for the first request of a key since the last flush, or the
   * first of a new hour.
   */
  used(keyId: string, now: number): void {
    const hour = Math.floor(now / HOUR_MS);
    const p = this.#keys.get(keyId);
    if (p === undefined) {
      this.#keys.set(keyId, { hour, count: 1, lastUsed: now, earlier: undefined });
      return;
    }
    if (p.hour !== hour) {
      if (p.earlier === undefined) p.earlier = [];
      p.earlier.push([p.hour, p.count]);
      p.hour = hour;
      p.count = 0;
    }
    p.count++;
    if (now > p.lastUsed) p.lastUsed = now;
  }

  /** Writes everything pending; batches that fail are merged back for the next attempt. */
  flush(): Promise<void> {
    this.#flushing = this.#flushing
      .catch(() => {})
      .then(async () => {
        if (this.#pending.size === 0 && this.#keys.size === 0) return;
        const batch = this.#pending;
        const keys = this.#keys;
        this.#pending = new Map();
        this.#keys = new Map();
        try {
          await this.db.transaction().execute(async (trx) => {
            await flushKeys(trx, keys);
            for (const p of batch.values()) {
              // Another node may have flushed a newer use first: lastUsed (ISO text, so text order is time
              // order) and its address only move forward. SET expressions all see the row as it was.
              const newer = sql<boolean>`last_used IS NULL OR last_used <= ${p.lastUsed}`;
              const set = {
                count: sql<number>`count + ${p.count}`,
                last_used: sql<string>`CASE WHEN ${newer} THEN ${p.lastUsed} ELSE last_used END`,
                last_used_address: sql<string>`CASE WHEN ${newer} THEN ${p.lastUsedAddress} ELSE last_used_address END`,
              };
              if (p.table === 'api_key_access_list') {
                await trx
                  .updateTable('api_key_access_list')
                  .set(set)
                  .where('api_key_id', '=', p.keyId)
                  .where('cidr_block', '=', p.cidrBlock)
                  .execute();
              } else {
                await trx
                  .updateTable('global_access_list')
                  .set(set)
                  .where('cidr_block', '=', p.cidrBlock)
                  .execute();
              }
            }
          });
        } catch (e) {
          for (const [id, p] of batch) {
            const newer = this.#pending.get(id);
            if (newer) newer.count += p.count;
            else this.#pending.set(id, p);
          }
          for (const [id, p] of keys) this.#mergeBack(id, p);
          throw e;
        }
      });
    return this.#flushing;
  }

  /** Puts a key's unwritten counts back, beside what arrived meanwhile. */
  #mergeBack(id: string, p: KeyPending): void {
    const newer = this.#keys.get(id);
    if (!newer) {
      this.#keys.set(id, p);
      return;
    }
    newer.earlier = [...(newer.earlier ?? []), ...(p.earlier ?? []), [p.hour, p.count]];
    if (p.lastUsed > newer.lastUsed) newer.lastUsed = p.lastUsed;
  }

  /** Stops the timer and writes what is pending. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.flush();
  }
}

/**
 * Adds each key's hourly counts (an upsert adding to what other nodes wrote) and moves its `last_used`
 * forward. Keys in id order, so that two nodes flushing the same keys lock their rows in one order. A key
 * deleted meanwhile is skipped (the INSERT selects from its row), so a batch is never stuck on it.
 */
async function flushKeys(trx: Db, keys: Map<string, KeyPending>): Promise<void> {
  for (const id of [...keys.keys()].sort()) {
    const p = keys.get(id)!;
    const hours = new Map<number, number>();
    for (const [h, c] of p.earlier ?? []) hours.set(h, (hours.get(h) ?? 0) + c);
    if (p.count > 0) hours.set(p.hour, (hours.get(p.hour) ?? 0) + p.count);
    for (const h of [...hours.keys()].sort((a, b) => a - b)) {
      await sql`INSERT INTO api_key_usage (api_key_id, hour, count)
          SELECT id, ${iso(h * HOUR_MS)}, ${hours.get(h)!} FROM api_keys WHERE id = ${id}
          ON CONFLICT (api_key_id, hour) DO UPDATE SET count = api_key_usage.count + excluded.count`.execute(
        trx,
      );
    }
    const minute = iso(Math.floor(p.lastUsed / MINUTE_MS) * MINUTE_MS);
    await trx
      .updateTable('api_keys')
      .set({ last_used: minute })
      .where('id', '=', id)
      .where((eb) => eb.or([eb('last_used', 'is', null), eb('last_used', '<', minute)]))
      .execute();
  }
}
