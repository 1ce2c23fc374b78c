/** For migrations that differ by dialect (not a migration itself: index.ts does not list it). */
import { type Kysely, sql } from 'kysely';

/** Whether `db` is PostgreSQL (else SQLite). */
export async function isPostgres(db: Kysely<unknown>): Promise<boolean> {
  try {
    const { rows } = await sql<{ v: string }>`SELECT version() AS v`.execute(db);
    return /PostgreSQL/i.test(rows[0]?.v ?? '');
  } catch {
    // SQLite has no version() function.
    return false;
  }
}
