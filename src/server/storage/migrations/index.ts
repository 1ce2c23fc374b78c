/** The static, ordered migration index (no filesystem scanning, so bundling and dist/ both work). */
import type { Migration, MigrationProvider } from 'kysely';
import * as m001 from './001_initial.js';
import * as m002 from './002_postgres_tuning.js';
import * as m003 from './003_key_counters.js';
import * as m004 from './004_replay_keys.js';
import * as m006 from './006_console_sessions.js';
import * as m007 from './007_key_lifecycle.js';
import * as m008 from './008_rate_limits.js';

const MIGRATIONS: Record<string, Migration> = {
  '001_initial': m001,
  '002_postgres_tuning': m002,
  '003_key_counters': m003,
  '004_replay_keys': m004,
  '006_console_sessions': m006,
  '007_key_lifecycle': m007,
  '008_rate_limits': m008,
};

/** Provides the migrations above to Kysely's Migrator. */
export const migrationProvider: MigrationProvider = {
  getMigrations: async () => MIGRATIONS,
};
