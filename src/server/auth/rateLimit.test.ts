import { describe, expect, it } from 'vitest';
import { batchSize, MemoryRateLimiter, periodMinutes } from './rateLimit.js';

describe('MemoryRateLimiter', () => {
  it('is a token bucket: a burst of `requests`, refilled at requests/period, never above the limit', () => {
    let now = 1_000_000;
    const limiter = new MemoryRateLimiter(() => now);
    const limit = { requests: 4, periodSeconds: 8 };
    const take = () => limiter.take('k', limit);
    expect([take(), take(), take(), take()].map((d) => [d.allowed, d.remaining, d.reset])).toEqual([
      [true, 3, 2],
      [true, 2, 4],
      [true, 1, 6],
      [true, 0, 8],
    ]);
    expect(take()).toEqual({ allowed: false, limit: 4, remaining: 0, reset: 8, retryAfter: 2 });
    now += 1000; // half a token
    expect(take()).toMatchObject({ allowed: false, retryAfter: 1 });
    now += 1000;
    expect(take().allowed).toBe(true);
    expect(take().allowed).toBe(false);
    now += 3_600_000; // an hour idle: full, not more
    expect([1, 2, 3, 4, 5].map(() => take().allowed)).toEqual([true, true, true, true, false]);
  });

  it('keeps one bucket per key, and a clock that goes back refills nothing', () => {
    let now = 5_000_000;
    const limiter = new MemoryRateLimiter(() => now);
    const limit = { requests: 1, periodSeconds: 60 };
    expect(limiter.take('a', limit).allowed).toBe(true);
    expect(limiter.take('b', limit).allowed).toBe(true);
    expect(limiter.take('a', limit).allowed).toBe(false);
    now -= 120_000;
    expect(limiter.take('a', limit).allowed).toBe(false);
  });
});

describe('rate-limit helpers', () => {
  it('takes 2 % of a large limit from the shared bucket at a time, one token below 100', () => {
    expect([1, 99, 100, 1000, 1_000_000].map(batchSize)).toEqual([1, 1, 2, 20, 20_000]);
  });

  it('writes the period in minutes as RATE_LIMITED says it', () => {
    expect([60, 120, 30, 1, 90, 86_400].map(periodMinutes)).toEqual(['1', '2', '0.5', '0.02', '1.5', '1440']);
  });
});
