/**
 * Access-list usage figures (api.md §8): every admitted request bumps its entry's `count`, `lastUsed` and
 * `lastUsedAddress`. Writes are batched (at most `intervalMs` behind) as increments, so the counts of
 * several nodes add up, and flushed on shutdown.
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

/** Batches usage increments and writes them periodically. */
export class UsageRecorder {
  #pending = new Map<string, Pending>();
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

  /** Writes everything pending; batches that fail are merged back for the next attempt. */
  flush(): Promise<void> {
    this.#flushing = this.#flushing
      .catch(() => {})
      .then(async () => {
        if (this.#pending.size === 0) return;
        const batch = this.#pending;
        this.#pending = new Map();
        try {
          await this.db.transaction().execute(async (trx) => {
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
          throw e;
        }
      });
    return this.#flushing;
  }

  /** Stops the timer and writes what is pending. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.flush();
  }
}
