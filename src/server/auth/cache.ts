/**
 * The credential cache: what authentication read about a key or user (HA1, roles, access list), kept between
 * requests so that a signed request costs no database round trip.
 *
 * Revocation rules (api.md §4 and §7, "revokes it at once on every node"):
 * - this node: every request to a route that may change something (any route but a GET) calls
 *   `invalidate()` before its response leaves (app.ts), so the next request after a DELETE/PATCH/POST
 *   reads afresh;
 * - other processes: migration 003's triggers bump `auth_generation` in the transaction of every such
 *   change. On a SQLite file reading it is a function call, so lookups read it in every snapshot of the
 *   reader connection (one per event-loop turn, storage/reader.ts): a change made by another process (a
 *   second node, the CLI) is honoured from the next turn on, by the next request. On PostgreSQL each
 *   node polls it every POLL_MS and drops everything when it moves; an entry is used only while the last
 *   poll that succeeded *started* less than TRUST_MS ago, so a change committed at time T is honoured by
 *   every node before T + TRUST_MS, even when polls stall or the database is unreachable (the cache then
 *   simply stops answering).
 *
 * Loads race with invalidations: a loader takes `epoch()` before it reads, and `set` drops its result if an
 * invalidation happened meanwhile, so nothing read before a change is stored after it.
 */
import { performance } from 'node:perf_hooks';
import { type Reader, statement } from '../storage/reader.js';

/** How often each node reads `auth_generation`. */
export const POLL_MS = 200;
/** How long after a successful poll began its view is trusted (< 1 s, the revocation bound). */
export const TRUST_MS = 900;
const MAX_ENTRIES = 10_000;

const GENERATION = statement('auth_generation', 'SELECT gen FROM auth_generation WHERE id = 1');

/** Credentials and what hangs off them, per digest username, invalidated as described above. */
export class CredentialCache {
  #epoch = 0;
  readonly #entries = new Map<string, { epoch: number; value: unknown }>();
  #generation: number | undefined;
  #trustedUntil = Number.NEGATIVE_INFINITY;
  #polling = false;
  /** The reader snapshot in which the generation was last read (synchronous readers). */
  #seenIn = -1;
  readonly #timer: NodeJS.Timeout | undefined;
  /** Lookups answered from the cache, and not (for the metrics). */
  hits = 0;
  misses = 0;

  constructor(private readonly reader: Reader | undefined) {
    if (!reader || reader.sync) return;
    this.#timer = setInterval(() => void this.poll(), POLL_MS);
    this.#timer.unref();
    void this.poll();
  }

  /**
   * Whether entries may be used now; with a synchronous reader, after reading the generation in the
   * reader's current snapshot (once per snapshot: it cannot change within one).
   */
  #trusted(): boolean {
    const sync = this.reader?.sync;
    if (!sync) return performance.now() < this.#trustedUntil;
    if (sync.snapshotId() === this.#seenIn) return true;
    try {
      const gen = Number(sync.column<number>(GENERATION, [])[0] ?? 0);
      this.#seenIn = sync.snapshotId();
      this.#observe(gen);
      return true;
    } catch {
      return false;
    }
  }

  #observe(gen: number): void {
    if (gen === this.#generation) return;
    this.invalidate();
    this.#generation = gen;
  }

  /** The epoch to hand back to `set`; -1 while the cache cannot be trusted (nothing will be stored). */
  epoch(): number {
    return this.#trusted() ? this.#epoch : -1;
  }

  /** A current entry, or undefined. */
  get<T>(key: string): T | undefined {
    const e = this.#trusted() ? this.#entries.get(key) : undefined;
    if (e && e.epoch === this.#epoch) {
      this.hits++;
      return e.value as T;
    }
    this.misses++;
    return undefined;
  }

  /** Stores what a loader read, unless the cache was invalidated since it took `epoch`. */
  set(key: string, value: unknown, epoch: number): void {
    if (epoch < 0 || epoch !== this.#epoch) return;
    if (this.#entries.size >= MAX_ENTRIES) this.#entries.clear();
    this.#entries.set(key, { epoch, value });
  }

  /**
   * Forgets everything at once (a change was made through this node). The reader's snapshot already ended
   * when the change was written (storage/connect.ts), so the next load sees it.
   */
  invalidate(): void {
    this.#epoch++;
    this.#entries.clear();
  }

  /** Reads the generation; exposed for tests. Resolves false when the read failed. */
  async poll(): Promise<boolean> {
    if (!this.reader || this.#polling) return false;
    this.#polling = true;
    const started = performance.now();
    try {
      const rows = await this.reader.all<{ gen: number }>(GENERATION, []);
      this.#observe(Number(rows[0]?.gen ?? 0));
      this.#trustedUntil = started + TRUST_MS;
      return true;
    } catch {
      // Unreachable database: stop trusting the cache once the window closes; the next poll retries.
      return false;
    } finally {
      this.#polling = false;
    }
  }

  /** Stops polling. */
  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#entries.clear();
  }
}
