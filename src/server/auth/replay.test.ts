import { describe, expect, it } from 'vitest';
import { MemoryReplayGuard } from './replay.js';

describe('MemoryReplayGuard', () => {
  it('accepts each (nonce, cnonce, nc) once, however many are remembered', async () => {
    const guard = new MemoryReplayGuard(() => 1_000_000);
    const nonces = Array.from({ length: 50 }, (_, i) => `nonce${i}`.padEnd(32, 'x'));
    for (const nonce of nonces)
      for (let nc = 1; nc <= 400; nc++) {
        const hex = nc.toString(16).padStart(8, '0');
        expect(await guard.firstUse(nonce, 'c0ffee', hex, 2000)).toBe(true);
      }
    expect(guard.size).toBe(50 * 400);
    for (const nonce of nonces)
      for (let nc = 1; nc <= 400; nc += 7)
        expect(await guard.firstUse(nonce, 'c0ffee', nc.toString(16).padStart(8, '0'), 2000)).toBe(false);
    // Another cnonce or nc is another triple.
    expect(await guard.firstUse(nonces[0]!, 'c0ffef', '00000001', 2000)).toBe(true);
    expect(await guard.firstUse(nonces[0]!, 'c0ffee', '00000191', 2000)).toBe(true);
    guard.close();
  });

  it('forgets triples once their nonce has expired, and only those', async () => {
    let now = 1_000_000;
    const guard = new MemoryReplayGuard(() => now);
    expect(await guard.firstUse('a', 'c', '00000001', 1001)).toBe(true);
    expect(await guard.firstUse('b', 'c', '00000001', 1100)).toBe(true);
    now = 1_050_000;
    guard.sweep();
    expect(guard.size).toBe(1);
    expect(await guard.firstUse('b', 'c', '00000001', 1100)).toBe(false);
    guard.close();
  });
});
