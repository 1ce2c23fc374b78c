/**
 * Per-key rate limits (issue 17): a token bucket per key holding at most `requests` tokens, refilled at
 * `requests / periodSeconds` per second; each request of a limited key takes one, and a request that
 * finds none is refused (429). Only keys with a limit (their own, or their org's default) ever get here:
 * for the others the pipeline reads one field of the cached credential and does nothing more.
 *
 * - One process (SQLite): the buckets live in memory (`MemoryRateLimiter`). The limits themselves are
 *   stored (migration 008) and survive a restart; the buckets start full again.
 * - Several nodes (PostgreSQL): one bucket per key, shared, in `rate_limit_buckets`
 *   (`SharedRateLimiter`). A node takes tokens from it with one atomic upsert that refills the row by the
 *   time elapsed and hands out at most what it holds, and keeps what it took "in hand" for its next
 *   requests. Requests of one key that arrive while such a statement is out wait for the next one, which
 *   asks for all of them at once: at most one statement per key and node is in flight. Tokens are only
 *   ever made by the row's refill, so the nodes together never accept more than the bucket allows; what
 *   a node holds in hand unused is at most `batchSize(requests) - 1` (2 % of the limit; 1 token, i.e.
 *   none held back, below 100 requests), so up to five nodes stay within 10 % of the limit.
 */
import type { Db } from '../storage/database.js';
import { type Reader, readerFor, statement } from '../storage/reader.js';

/** A limit: at most `requests` per `periodSeconds` (and a burst of `requests`). */
export interface RateLimit {
  requests: number;
  periodSeconds: number;
}

/** The answer for one request, with what the RateLimit-* headers say. */
export interface Decision {
  allowed: boolean;
  /** RateLimit-Limit: the bucket's size. */
  limit: number;
  /** RateLimit-Remaining: whole tokens left. */
  remaining: number;
  /** RateLimit-Reset: seconds until the bucket is full again. */
  reset: number;
  /** Retry-After (refused requests): seconds until the next token. */
  retryAfter: number;
}

/** Takes one token of a key's bucket. */
export interface RateLimiter {
  take(subject: string, limit: RateLimit): Decision | Promise<Decision>;
  /** Stops background work (the shared buckets' sweep). */
  close(): void;
}

/** Tokens one node takes from the shared row at a time (see the module comment). */
export function batchSize(requests: number): number {
  return Math.max(1, Math.floor(requests / 50));
}

/** The decision for a bucket holding `tokens` (after taking, if it took). */
function decide(allowed: boolean, tokens: number, limit: RateLimit): Decision {
  const perSecond = limit.requests / limit.periodSeconds;
  return {
    allowed,
    limit: limit.requests,
    remaining: Math.max(0, Math.floor(tokens)),
    reset: Math.max(0, Math.ceil((limit.requests - tokens) / perSecond)),
    retryAfter: Math.max(1, Math.ceil((1 - tokens) / perSecond)),
  };
}

const MAX_BUCKETS = 100_000;

/** Buckets in this process's memory (SQLite: one process serves). */
export class MemoryRateLimiter implements RateLimiter {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly clock: () => number = Date.now) {}

  take(subject: string, limit: RateLimit): Decision {
    const now = this.clock();
    let b = this.#buckets.get(subject);
    if (!b) {
      // Dropping every bucket only ever refills them: a limit is never enforced more strictly than set.
      if (this.#buckets.size >= MAX_BUCKETS) this.#buckets.clear();
      b = { tokens: limit.requests, at: now };
      this.#buckets.set(subject, b);
    }
    const refill = (Math.max(0, now - b.at) * limit.requests) / (limit.periodSeconds * 1000);
    b.tokens = Math.min(limit.requests, b.tokens + refill);
    b.at = Math.max(b.at, now);
    const allowed = b.tokens >= 1;
    if (allowed) b.tokens -= 1;
    return decide(allowed, b.tokens, limit);
  }

  close(): void {
    this.#buckets.clear();
  }
}

/**
 * One atomic take from a key's shared bucket: the row refilled by the time since its last take (capped at
 * the limit), then `LEAST(want, whole tokens)` taken; `granted` says how many. Times are the nodes'
 * clocks (ms); `updated_ms` never goes back, so a node whose clock is behind refills nothing rather than
 * twice.
 */
const TAKE = statement(
  'rate_limit_take',
  `INSERT INTO rate_limit_buckets AS b (subject, tokens, updated_ms, granted)
     VALUES (?1, ?2::float8 - LEAST(?4::float8, ?2::float8), ?3::bigint, LEAST(?4::float8, ?2::float8))
   ON CONFLICT (subject) DO UPDATE SET
     granted = LEAST(?4::float8, floor(LEAST(?2::float8,
                 b.tokens + GREATEST(0, ?3::bigint - b.updated_ms) * ?2::float8 / ?5::float8))),
     tokens = LEAST(?2::float8, b.tokens + GREATEST(0, ?3::bigint - b.updated_ms) * ?2::float8 / ?5::float8)
            - LEAST(?4::float8, floor(LEAST(?2::float8,
                 b.tokens + GREATEST(0, ?3::bigint - b.updated_ms) * ?2::float8 / ?5::float8))),
     updated_ms = GREATEST(b.updated_ms, ?3::bigint)
   RETURNING granted, tokens`,
);

/**
 * Rows idle for longer than the longest period (a day) are full: dropping them changes nothing, the next
 * take starts a full bucket again. Keeps the table to the keys in use (deleted keys' rows go too).
 */
const SWEEP = statement('rate_limit_sweep', 'DELETE FROM rate_limit_buckets WHERE updated_ms < ?::bigint');
const SWEEP_MS = 60_000;
const LONGEST_PERIOD_MS = 86_400_000;

interface Waiter {
  resolve: (d: Decision) => void;
  reject: (e: unknown) => void;
}

/** What a node knows of one key's shared bucket. */
interface Hand {
  limit: RateLimit;
  /** Tokens taken from the row and not used yet. */
  tokens: number;
  /** The row's tokens after the last take, and when (this node's clock). */
  shared: number;
  at: number;
  queue: Waiter[];
  inFlight: boolean;
}

/** Buckets shared by every node, in PostgreSQL. */
export class SharedRateLimiter implements RateLimiter {
  readonly #hands = new Map<string, Hand>();
  readonly #sweep: NodeJS.Timeout;

  constructor(
    private readonly reader: Reader,
    private readonly clock: () => number = Date.now,
  ) {
    // Every node sweeps; the statement is idempotent, and a failure waits for the next round.
    this.#sweep = setInterval(() => this.sweep().catch(() => {}), SWEEP_MS);
    this.#sweep.unref();
  }

  /** Drops the rows idle for over a day (run every minute; exposed for tests). */
  async sweep(): Promise<void> {
    await this.reader.all(SWEEP, [this.clock() - LONGEST_PERIOD_MS]);
  }

  close(): void {
    clearInterval(this.#sweep);
  }

  take(subject: string, limit: RateLimit): Decision | Promise<Decision> {
    const h = this.#hand(subject, limit);
    if (h.tokens >= 1 && h.queue.length === 0) {
      h.tokens -= 1;
      return this.#decision(h, true);
    }
    return new Promise<Decision>((resolve, reject) => {
      h.queue.push({ resolve, reject });
      if (!h.inFlight) void this.#fetch(subject, h);
    });
  }

  #hand(subject: string, limit: RateLimit): Hand {
    let h = this.#hands.get(subject);
    // A changed limit starts afresh: tokens taken under the old one are dropped (the row keeps its own).
    if (h && (h.limit.requests !== limit.requests || h.limit.periodSeconds !== limit.periodSeconds)) {
      h.limit = limit;
      h.tokens = 0;
    }
    if (!h) {
      if (this.#hands.size >= MAX_BUCKETS) this.#hands.clear();
      h = { limit, tokens: 0, shared: 0, at: 0, queue: [], inFlight: false };
      this.#hands.set(subject, h);
    }
    return h;
  }

  #decision(h: Hand, allowed: boolean): Decision {
    const { requests, periodSeconds } = h.limit;
    const refill = (Math.max(0, this.clock() - h.at) * requests) / (periodSeconds * 1000);
    return decide(allowed, Math.min(requests, h.tokens + Math.min(requests, h.shared + refill)), h.limit);
  }

  async #fetch(subject: string, h: Hand): Promise<void> {
    h.inFlight = true;
    const waiting = h.queue.splice(0);
    const want = Math.max(0, waiting.length - Math.floor(h.tokens)) + batchSize(h.limit.requests) - 1;
    const now = this.clock();
    try {
      if (want > 0) {
        const rows = await this.reader.all<{ granted: number; tokens: number }>(TAKE, [
          subject,
          h.limit.requests,
          now,
          want,
          h.limit.periodSeconds * 1000,
        ]);
        h.tokens += Number(rows[0]?.granted ?? 0);
        h.shared = Number(rows[0]?.tokens ?? 0);
        h.at = now;
      }
      for (const w of waiting) {
        const allowed = h.tokens >= 1;
        if (allowed) h.tokens -= 1;
        w.resolve(this.#decision(h, allowed));
      }
    } catch (e) {
      for (const w of waiting) w.reject(e);
    } finally {
      h.inFlight = false;
      if (h.queue.length > 0) void this.#fetch(subject, h);
    }
  }
}

/** The limiter for `db`: shared buckets on PostgreSQL, this process's memory otherwise. */
export function rateLimiterFor(db: Db, clock: () => number): RateLimiter {
  const reader = readerFor(db);
  return reader?.dialect === 'postgres' ? new SharedRateLimiter(reader, clock) : new MemoryRateLimiter(clock);
}

/** `periodSeconds` in minutes, as RATE_LIMITED's detail names it (at most two decimals). */
export function periodMinutes(periodSeconds: number): string {
  return String(Math.round((periodSeconds / 60) * 100) / 100);
}
