/** The static, ordered migration index (no filesystem scanning, so bundling and dist/ both work). */
import type { Migration, MigrationProvider } from 'kysely';
import * as m001 from './001_initial.js';

const MIGRATIONS: Record<string, Migration> = {
  '001_initial': m001,
};

/** Provides the migrations above to Kysely's Migrator. */
export const migrationProvider: MigrationProvider = {
  getMigrations: async () => MIGRATIONS,
};
