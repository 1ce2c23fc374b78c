/**
 * After bulk seeding: what a database that grew through the API would already have — page buckets cut
 * to size (the first list request would otherwise start that in the background) and, on PostgreSQL,
 * planner statistics.
 */
import { sql } from 'kysely';
import { connect } from '../src/server/storage/connect.js';
import { rebalanceKeyBuckets } from '../src/server/storage/keyPages.js';
import type { BenchDatabase } from './seed.js';

/** Prepares a freshly seeded database for measurement. */
export async function optimizeBenchDatabase(bench: BenchDatabase): Promise<void> {
  const conn = await connect(bench.url);
  try {
    const L = bench.layout;
    for (const orgKey of ['', L.orgId, ...L.sized.map((s) => s.orgId)])
      await rebalanceKeyBuckets(conn.db, orgKey);
    // PostgreSQL plans by statistics (autovacuum would gather them soon). Not SQLite: with sqlite_stat4
    // present, SQLite re-prepares every statement whose bound values could change its plan, each time.
    if (bench.dialect === 'postgres') await sql`ANALYZE`.execute(conn.db);
  } finally {
    await conn.close();
  }
}
