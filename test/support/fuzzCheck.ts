/** The fuzz suite's pass criteria, shared by `npm test` (test/fuzz.test.ts) and `npm run fuzz`. */
import type { FuzzResult } from './fuzzRunner.js';

/**
 * Resident memory the server may hold at the end beyond its level after warm-up. V8 grows its heap in
 * steps and gives pages back lazily, and the process's caches (nonces issued, credential and page caches,
 * client addresses) fill up to their bounds during a run; a leak of even 1 KiB per request would pass
 * this by ~100 MiB in a 100,000-request run.
 */
export const RSS_MARGIN_KIB = 64 * 1024;

/** Every way a run can fail, in words; empty when it passed. */
export function checkResult(r: FuzzResult): string[] {
  const problems: string[] = [];
  if (r.fiveXx > 0) problems.push(`${r.fiveXx} responses were 5xx`);
  if (r.failures.length > 0)
    problems.push(`${r.failures.length} requests failed (5xx, wrong error shape or no answer)`);
  if (Object.keys(r.changed).length > 0)
    problems.push(
      `data changed in ${Object.keys(r.changed).join(', ')}: ${JSON.stringify(r.changed).slice(0, 2000)}`,
    );
  if (!r.answersAtEnd) problems.push('the server did not answer a valid request at the end');
  if (r.exitCode !== 0) problems.push(`the server exited with ${r.exitCode} after SIGTERM`);
  if (r.rssAfterKiB > r.rssBeforeKiB + RSS_MARGIN_KIB)
    problems.push(
      `RSS grew from ${r.rssBeforeKiB} KiB to ${r.rssAfterKiB} KiB (margin ${RSS_MARGIN_KIB} KiB)`,
    );
  return problems;
}
