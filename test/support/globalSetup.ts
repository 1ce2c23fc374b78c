/**
 * Vitest global setup: says in one line whether this run covers PostgreSQL, tags the run so its
 * databases can be found again, and sweeps test databases that earlier runs left behind; the teardown
 * drops whatever this run still left.
 */
import { randomBytes } from 'node:crypto';
import { POSTGRES_URL, SWEEP_AFTER_MS, sweepDatabases, withAdmin } from './postgres.js';

export default async function setup(): Promise<() => Promise<void>> {
  if (!POSTGRES_URL) {
    process.stdout.write(
      '\n[pakman] PostgreSQL tests SKIPPED: PAKMAN_TEST_POSTGRES_URL is not set, so the storage contract, integration and migrate-data suites run on SQLite only, and the multi-node and outage suites not at all (.ci/run sets it).\n\n',
    );
    return async () => {};
  }
  // Workers are started after this and inherit the environment, so every database this run makes carries the tag.
  const run = randomBytes(3).toString('hex');
  process.env.PAKMAN_TEST_RUN = run;
  let version: string;
  try {
    version = await withAdmin(
      async (c) => (await c.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]!.v,
    );
  } catch (e) {
    throw new Error(
      `PAKMAN_TEST_POSTGRES_URL is set but PostgreSQL does not answer (${(e as Error).message}); start it or unset the variable`,
    );
  }
  const swept = await sweepDatabases({ olderThanMs: SWEEP_AFTER_MS });
  process.stdout.write(
    `\n[pakman] PostgreSQL tests ON: ${redact(POSTGRES_URL)} (server ${version}, run ${run}${swept.length ? `, swept ${swept.length} stale test databases` : ''})\n\n`,
  );
  return async () => {
    if (process.env.PAKMAN_KEEP_TEST_DATA === '1') {
      process.stdout.write(
        `[pakman] PAKMAN_KEEP_TEST_DATA=1: keeping this run's databases (pakman_t_${run}_*)\n`,
      );
      return;
    }
    const left = await sweepDatabases({ run, olderThanMs: SWEEP_AFTER_MS });
    if (left.length)
      process.stdout.write(`[pakman] dropped ${left.length} test databases left by this run\n`);
  };
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}
