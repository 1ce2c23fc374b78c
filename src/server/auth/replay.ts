/** Replay protection: each (nonce, cnonce, nc) is accepted once within the nonce's lifetime. */
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { Db } from '../storage/database.js';
import { type TurnBatch, turnBatchFor } from '../storage/turnBatch.js';
import { hash } from './digest.js';

/**
 * Records digest triples; `firstUse` is false for a triple already seen. A guard in this process answers
 * at once; one in the database answers with a promise.
 */
export interface ReplayGuard {
  /**
   * The second (since the epoch) from which this memory holds every triple it was shown; absent for a memory
   * that outlives the process (the shared table). The authenticator refuses as stale, once, a nonce issued
   * in or before that second that this process did not issue itself (auth/authenticator.ts).
   */
  readonly heldSince?: number;
  firstUse(nonce: string, cnonce: string, nc: string, expiresAtSeconds: number): boolean | Promise<boolean>;
  close(): void;
}

/**
 * One process's memory: right for a single node (the SQLite default). It holds every triple accepted within
 * a nonce lifetime (at 10,000 requests a second and the default 60 s, 600,000 of them), so each is kept as a
 * 64-bit fingerprint in flat typed arrays, ~16 bytes, instead of a string key in a Map, ~250 bytes once
 * the strings are counted. Triples are grouped by the second their nonce expires (known from the nonce), so
 * forgetting expired ones drops whole groups.
 *
 * A repeated triple always has the same fingerprint, so no replay gets through. Two different triples may
 * share one (about one in 2^64 for each new request against each remembered one): the second is then
 * answered like a replay, `stale=true`, and the client retries with a fresh nonce.
 *
 * The memory dies with the process. A request captured in the last nonce lifetime before a restart would
 * be new to the next process, so that one holds only nonces it can vouch for: `heldSince` is its start
 * second, and an older nonce (or one of that same second the previous process issued) is answered
 * `stale=true` (see `Authenticator`). Writing the memory down instead would cost every request a write.
 */
export class MemoryReplayGuard implements ReplayGuard {
  readonly #byExpiry = new Map<number, FingerprintSet>();
  readonly #timer: NodeJS.Timeout;
  readonly heldSince: number;

  constructor(private readonly clock: () => number = Date.now) {
    this.heldSince = Math.floor(clock() / 1000);
    this.#timer = setInterval(() => this.sweep(), 10_000);
    this.#timer.unref();
  }

  firstUse(nonce: string, cnonce: string, nc: string, expiresAtSeconds: number): boolean {
    let set = this.#byExpiry.get(expiresAtSeconds);
    if (!set) {
      set = new FingerprintSet();
      this.#byExpiry.set(expiresAtSeconds, set);
    }
    return set.add(`${nonce} ${cnonce} ${nc}`);
  }

  /** Forgets triples whose nonce has expired (they are refused as stale anyway). */
  sweep(): void {
    const now = this.clock() / 1000;
    for (const exp of this.#byExpiry.keys()) if (exp < now) this.#byExpiry.delete(exp);
  }

  get size(): number {
    let n = 0;
    for (const set of this.#byExpiry.values()) n += set.size;
    return n;
  }

  close(): void {
    clearInterval(this.#timer);
  }
}

// Seeds chosen per process, so that no client can aim its cnonces at one slot of the table.
const SEED1 = randomBytes(4).readUInt32LE(0);
const SEED2 = randomBytes(4).readUInt32LE(0);

/** A set of 64-bit string fingerprints: open addressing over two Uint32Arrays, at most half full. */
class FingerprintSet {
  #hi = new Uint32Array(64);
  #lo = new Uint32Array(64);
  size = 0;

  /** Adds the fingerprint of `text`; false when it was there already. */
  add(text: string): boolean {
    // Two independent 32-bit multiplicative hashes over the UTF-16 code units; lo 0 marks an empty slot.
    let h1 = 0x811c9dc5 ^ SEED1;
    let h2 = 0x9e3779b9 ^ SEED2;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x5bd1e995);
      h2 ^= h2 >>> 15;
    }
    const hi = (h1 ^ (h1 >>> 16)) >>> 0;
    const lo = Math.imul(h2 ^ (h2 >>> 13), 0xc2b2ae35) >>> 0 || 1;
    if (this.#find(hi, lo)) return false;
    if (2 * (this.size + 1) > this.#lo.length) this.#grow();
    this.#put(hi, lo);
    this.size++;
    return true;
  }

  #find(hi: number, lo: number): boolean {
    const mask = this.#lo.length - 1;
    for (let i = (hi ^ lo) & mask; this.#lo[i] !== 0; i = (i + 1) & mask) {
      if (this.#lo[i] === lo && this.#hi[i] === hi) return true;
    }
    return false;
  }

  #put(hi: number, lo: number): void {
    const mask = this.#lo.length - 1;
    let i = (hi ^ lo) & mask;
    while (this.#lo[i] !== 0) i = (i + 1) & mask;
    this.#hi[i] = hi;
    this.#lo[i] = lo;
  }

  #grow(): void {
    const hi = this.#hi;
    const lo = this.#lo;
    this.#hi = new Uint32Array(hi.length * 2);
    this.#lo = new Uint32Array(lo.length * 2);
    for (let i = 0; i < lo.length; i++) if (lo[i] !== 0) this.#put(hi[i]!, lo[i]!);
  }
}

/**
 * The key under which the shared table remembers a triple: the first 53 bits of MD5 over the triple (none
 * of the three can hold a line feed: they come from one header line), as a decimal. 53 bits, not 64: every
 * driver reads such a BIGINT back as an exact JavaScript number, so `pakman migrate-data` and anything
 * else that reads the table copies keys unchanged.
 *
 * A repeated triple always has the same key, so no replay gets through. Two different triples may share a
 * key: the later is then refused like a replay (`401`, `stale=true`) and its client retries with a fresh
 * nonce. By chance that is one request in 2^53 / (triples remembered): one in 1.5 × 10^10 at 10,000
 * requests a second and a 60 s nonce lifetime. On purpose, an attacker holding valid credentials would
 * need a second preimage of a victim's triple before the victim sends it, and would still only refuse
 * that one request.
 */
export function replayKey(nonce: string, cnonce: string, nc: string): string {
  const hex = hash('MD5', `${nonce}\n${cnonce}\n${nc}`);
  // 32 bits, then the top 21 of the next 24: exact in a double.
  return String(
    Number.parseInt(hex.slice(0, 8), 16) * 2 ** 21 + (Number.parseInt(hex.slice(8, 14), 16) >>> 3),
  );
}

/** A table every node shares: right for several nodes on one PostgreSQL. */
export class DatabaseReplayGuard implements ReplayGuard {
  readonly #timer: NodeJS.Timeout;
  /** PostgreSQL: the triples of concurrent requests go in one statement (storage/turnBatch.ts). */
  readonly #batch: TurnBatch | undefined;

  constructor(
    private readonly db: Db,
    private readonly clock: () => number = Date.now,
  ) {
    this.#timer = setInterval(() => {
      this.sweep().catch(() => {});
    }, 15_000);
    this.#timer.unref();
    this.#batch = turnBatchFor(db);
  }

  async firstUse(nonce: string, cnonce: string, nc: string, expiresAtSeconds: number): Promise<boolean> {
    const key = replayKey(nonce, cnonce, nc);
    if (this.#batch) return this.#batch.remember({ key, expires: expiresAtSeconds });
    const res = await this.db
      .insertInto('digest_replay_keys')
      .values({ key, expires: expiresAtSeconds })
      .onConflict((oc) => oc.column('key').doNothing())
      .executeTakeFirst();
    return Number(res.numInsertedOrUpdatedRows ?? 0n) > 0;
  }

  /** Forgets expired triples; also those a node of the version before migration 004 left behind. */
  async sweep(): Promise<void> {
    const now = sql.lit(Math.floor(this.clock() / 1000));
    await this.db.deleteFrom('digest_replay_keys').where('expires', '<', now).execute();
    await this.db.deleteFrom('digest_replays').where('expires', '<', now).execute();
  }

  close(): void {
    clearInterval(this.#timer);
  }
}
