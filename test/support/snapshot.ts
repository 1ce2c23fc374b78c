/**
 * A snapshot of the data a request could change, to assert that a refused request changed nothing. Usage
 * figures (access-list counts and last use), the replay memory and the paging counters are left out: a
 * refused but authenticated request may move them.
 */
import type { Db } from '../../src/server/storage/database.js';

/** The tables that hold what the API manages. */
const TABLES = [
  'settings',
  'orgs',
  'projects',
  'users',
  'user_roles',
  'user_api_keys',
  'api_keys',
  'api_key_roles',
  'api_key_access_list',
  'global_access_list',
  'events',
] as const;

/** Columns that count use rather than hold data. */
const USAGE = new Set(['count', 'last_used', 'last_used_address']);

/** Every row of every data table, usage columns dropped, in a stable order. */
export async function snapshot(db: Db): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const table of TABLES) {
    const rows = (await db.selectFrom(table).selectAll().execute()) as Record<string, unknown>[];
    out[table] = rows.map((r) => JSON.stringify(Object.entries(r).filter(([k]) => !USAGE.has(k)))).sort();
  }
  return out;
}
