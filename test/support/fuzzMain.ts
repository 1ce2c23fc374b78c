/**
 * `npm run fuzz`: the fuzz suite at full size on SQLite and, when PAKMAN_TEST_POSTGRES_URL is set,
 * PostgreSQL. PAKMAN_FUZZ_COUNT (default 100,000 per database), PAKMAN_FUZZ_SEED (default: random,
 * printed), PAKMAN_FUZZ_ONLY (comma-separated request indexes, to reproduce failures),
 * PAKMAN_FUZZ_DIALECTS (default both). Exits 1 on any finding.
 */
import { checkResult } from './fuzzCheck.js';
import { formatResult, runFuzz } from './fuzzRunner.js';
import { POSTGRES_URL } from './postgres.js';

const count = Number(process.env.PAKMAN_FUZZ_COUNT ?? 100_000);
const seed = Number(process.env.PAKMAN_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const only = process.env.PAKMAN_FUZZ_ONLY?.split(',').map(Number);
const dialects = (process.env.PAKMAN_FUZZ_DIALECTS?.split(',') ?? [
  'sqlite',
  ...(POSTGRES_URL ? ['postgres'] : []),
]) as ('sqlite' | 'postgres')[];

let failed = false;
for (const dialect of dialects) {
  console.log(`fuzz: ${dialect}, ${only ? `requests ${only.join(',')}` : `${count} requests`}, seed ${seed}`);
  const result = await runFuzz({ dialect, count, seed, only, log: (l) => console.log(l) });
  console.log(formatResult(result));
  const problems = checkResult(result);
  for (const p of problems) console.log(`  PROBLEM: ${p}`);
  if (problems.length) failed = true;
}
console.log(
  `fuzz: seed ${seed}; reproduce with PAKMAN_FUZZ_SEED=${seed} PAKMAN_FUZZ_COUNT=${count} npm run fuzz`,
);
process.exit(failed ? 1 : 0);
