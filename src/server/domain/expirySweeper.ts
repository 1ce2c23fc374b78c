/**
 * The lifecycle sweep (issue 16): records API_KEY_EXPIRED once per expiry, whichever node gets there first,
 * forgets the replaced secrets of ended grace periods and usage hours older than 90 days. It runs every
 * minute, and soon after a node refuses an expired key ("noticed"), at most once a second. Expiry itself
 * never waits for it: authentication compares the clock with the expiry on every request.
 */
import type { Db } from '../storage/database.js';
import { keyLifecycle } from '../storage/repositories/keyLifecycle.js';
import { recordEvents } from './audit.js';
import { isoSeconds } from './context.js';
import { USAGE_RETENTION_DAYS } from './keyLifecycle.js';

/** How often every node sweeps. */
export const SWEEP_MS = 60_000;
const SYSTEM = { principal: null, remoteAddress: '' };

/** Periodic and on-demand lifecycle sweeps of one node. */
export class ExpirySweeper {
  readonly #timer: NodeJS.Timeout;
  #running: Promise<void> | undefined;
  #soon: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(
    private readonly db: Db,
    private readonly clock: () => number,
    private readonly onError: (e: unknown) => void = () => {},
  ) {
    this.#timer = setInterval(() => void this.sweep().catch(this.onError), SWEEP_MS);
    this.#timer.unref();
  }

  /** Asks for a sweep within a second (an expired key was just refused); repeated asks share it. */
  soon(): void {
    if (this.#soon || this.#closed) return;
    this.#soon = setTimeout(() => {
      void this.sweep()
        .catch(this.onError)
        .finally(() => {
          this.#soon = undefined;
        });
    }, 1000);
    this.#soon.unref();
  }

  /** Sweeps now (one sweep at a time per node); resolves when done. */
  sweep(): Promise<void> {
    this.#running ??= this.#sweep().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #sweep(): Promise<void> {
    const now = this.clock();
    await this.db.transaction().execute(async (trx) => {
      const expired = await keyLifecycle.claimExpired(trx, isoSeconds(now));
      await recordEvents(
        trx,
        this.clock,
        SYSTEM,
        expired.map((k) => [
          'API_KEY_EXPIRED',
          { orgId: k.orgId, apiKeyId: k.id, targetPublicKey: k.publicKey, expiresAt: k.expiresAt },
        ]),
      );
    });
    await keyLifecycle.sweep(this.db, isoSeconds(now), isoSeconds(now - USAGE_RETENTION_DAYS * 86_400_000));
  }

  /** Stops sweeping; waits for a sweep in progress. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    if (this.#soon) clearTimeout(this.#soon);
    await this.#running?.catch(() => {});
  }
}
