/** Replay protection: each (nonce, cnonce, nc) is accepted once within the nonce's lifetime. */
import { sql } from 'kysely';
import type { Db } from '../storage/database.js';

/** Records digest triples; `firstUse` is false for a triple already seen. */
export interface ReplayGuard {
  firstUse(nonce: string, cnonce: string, nc: string, expiresAtSeconds: number): Promise<boolean>;
  close(): void;
}

/** One process's memory: right for a single node (the SQLite default). */
export class MemoryReplayGuard implements ReplayGuard {
  readonly #seen = new Map<string, number>();
  readonly #timer: NodeJS.Timeout;

  constructor(private readonly clock: () => number = Date.now) {
    this.#timer = setInterval(() => this.sweep(), 10_000);
    this.#timer.unref();
  }

  async firstUse(nonce: string, cnonce: string, nc: string, expiresAtSeconds: number): Promise<boolean> {
    const id = `${nonce} ${cnonce} ${nc}`;
    if (this.#seen.has(id)) return false;
    this.#seen.set(id, expiresAtSeconds);
    return true;
  }

  /** Forgets triples whose nonce has expired (they are refused as stale anyway). */
  sweep(): void {
    const now = this.clock() / 1000;
    for (const [id, exp] of this.#seen) if (exp < now) this.#seen.delete(id);
  }

  get size(): number {
    return this.#seen.size;
  }

  close(): void {
    clearInterval(this.#timer);
  }
}

/** A table every node shares: right for several nodes on one PostgreSQL. */
export class DatabaseReplayGuard implements ReplayGuard {
  readonly #timer: NodeJS.Timeout;

  constructor(
    private readonly db: Db,
    private readonly clock: () => number = Date.now,
  ) {
    this.#timer = setInterval(() => {
      this.sweep().catch(() => {});
    }, 15_000);
    this.#timer.unref();
  }

  async firstUse(nonce: string, cnonce: string, nc: string, expiresAtSeconds: number): Promise<boolean> {
    const res = await this.db
      .insertInto('digest_replays')
      .values({ nonce, cnonce, nc, expires: expiresAtSeconds })
      .onConflict((oc) => oc.columns(['nonce', 'cnonce', 'nc']).doNothing())
      .executeTakeFirst();
    return Number(res.numInsertedOrUpdatedRows ?? 0n) > 0;
  }

  async sweep(): Promise<void> {
    await this.db
      .deleteFrom('digest_replays')
      .where('expires', '<', sql.lit(Math.floor(this.clock() / 1000)))
      .execute();
  }

  close(): void {
    clearInterval(this.#timer);
  }
}
