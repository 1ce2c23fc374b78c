/** The cheapest round trip to the database, for readiness probes. */
import { sql } from 'kysely';
import type { Db } from './database.js';

/** Resolves once the database has answered `SELECT 1`; rejects when it cannot be reached. */
export async function ping(db: Db): Promise<void> {
  await sql`SELECT 1`.execute(db);
}
