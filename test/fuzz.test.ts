/**
 * The fuzz suite at reduced size (test/support/fuzzGenerator.ts, fuzzRunner.ts): ~5,000 malformed requests
 * per database against a real `pakman serve` process on loopback, most of them signed with real
 * credentials. No 5xx, every error in the Ops Manager shape, every request answered, no data changed, the
 * process still answering and exiting 0 on SIGTERM, and its resident memory back near its level after
 * warm-up. A new seed each run (printed; PAKMAN_FUZZ_SEED to repeat one, PAKMAN_FUZZ_TEST_COUNT for the
 * size); the full size is `npm run fuzz`.
 */
import { describe, expect, it } from 'vitest';
import { DIALECTS } from './support/dialects.js';
import { checkResult } from './support/fuzzCheck.js';
import { formatResult, runFuzz } from './support/fuzzRunner.js';

const count = Number(process.env.PAKMAN_FUZZ_TEST_COUNT ?? 5_000);
const seed = Number(process.env.PAKMAN_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));

describe.each(DIALECTS)('fuzz suite (%s)', (dialect) => {
  it(`${count} malformed requests: no 5xx, no crash, no change, no growth (seed ${seed})`, {
    timeout: 300_000,
  }, async () => {
    const result = await runFuzz({ dialect, count, seed });
    const report = formatResult(result);
    console.log(report);
    expect(
      checkResult(result),
      `${report}\nreproduce: PAKMAN_FUZZ_SEED=${seed} PAKMAN_FUZZ_COUNT=${count} PAKMAN_FUZZ_DIALECTS=${dialect} npm run fuzz`,
    ).toEqual([]);
    expect(result.requests).toBe(count);
  });
});
