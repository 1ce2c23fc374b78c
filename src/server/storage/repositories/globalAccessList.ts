/** The global access list, which admits global keys (api.md §7). */
import type { Db, GlobalAccessListTable } from '../database.js';

/** One global access-list entry. */
export type GlobalAccessEntryRow = GlobalAccessListTable;

export const globalAccessList = {
  async insert(db: Db, entry: GlobalAccessEntryRow): Promise<void> {
    await db.insertInto('global_access_list').values(entry).execute();
  },

  async cidrBlocks(db: Db): Promise<string[]> {
    const rows = await db.selectFrom('global_access_list').select('cidr_block').execute();
    return rows.map((r) => r.cidr_block);
  },
};
