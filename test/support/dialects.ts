/**
 * The databases integration suites run on: SQLite always, PostgreSQL when PAKMAN_TEST_POSTGRES_URL is set.
 * Use as `describe.each(DIALECTS)('thing (%s)', (dialect) => { ... startTestServer({ dialect }) ... })`.
 */
import { POSTGRES_URL } from './server.js';

/** Dialects to run on in this test run. */
export const DIALECTS: ('sqlite' | 'postgres')[] = POSTGRES_URL ? ['sqlite', 'postgres'] : ['sqlite'];
