/** The global access list, which admits global keys (api.md §7). */
import type { Db, GlobalAccessListTable } from '../database.js';

/** One global access-list entry. */
export type GlobalAccessEntryRow = GlobalAccessListTable;

/** An entry as the domain sees it (usage counters stay internal; the wire shows only `lastUsed`). */
export interface GlobalAccessEntryRecord {
  id: string;
  cidrBlock: string;
  description: string;
  created: string;
  updated: string;
  lastUsed: string | null;
}

const COLUMNS = ['id', 'cidr_block', 'description', 'created', 'updated', 'last_used'] as const;

function toRecord(r: {
  id: string;
  cidr_block: string;
  description: string;
  created: string;
  updated: string;
  last_used: string | null;
}): GlobalAccessEntryRecord {
  return {
    id: r.id,
    cidrBlock: r.cidr_block,
    description: r.description,
    created: r.created,
    updated: r.updated,
    lastUsed: r.last_used,
  };
}

/** Reads and writes the global access list. Every method takes the handle so callers can pass a transaction. */
export const globalAccessList = {
  /**
   * Serializes changes of the list for the transaction: every change takes this lock first, so the check
   * that a change leaves its caller admitted reads the list no concurrent change is altering. A no-op upsert
   * of one settings row (a row lock on PostgreSQL; SQLite runs one write transaction at a time anyway),
   * not a lock on the entries: an empty list has none, and a new entry none yet.
   */
  async lock(db: Db): Promise<void> {
    await db
      .insertInto('settings')
      .values({ key: 'lock.globalAccessList', value: '' })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value: '' }))
      .execute();
  },

  async insert(db: Db, entry: GlobalAccessEntryRow): Promise<void> {
    await db.insertInto('global_access_list').values(entry).execute();
  },

  async cidrBlocks(db: Db): Promise<string[]> {
    const rows = await db.selectFrom('global_access_list').select('cidr_block').execute();
    return rows.map((r) => r.cidr_block);
  },

  /** One page of entries by id ascending (creation order). */
  async list(db: Db, offset: number, limit: number): Promise<GlobalAccessEntryRecord[]> {
    const rows = await db
      .selectFrom('global_access_list')
      .select(COLUMNS)
      .orderBy('id')
      .limit(limit)
      .offset(offset)
      .execute();
    return rows.map(toRecord);
  },

  async count(db: Db): Promise<number> {
    const row = await db
      .selectFrom('global_access_list')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  },

  async findById(db: Db, id: string): Promise<GlobalAccessEntryRecord | undefined> {
    const row = await db
      .selectFrom('global_access_list')
      .select(COLUMNS)
      .where('id', '=', id)
      .executeTakeFirst();
    return row && toRecord(row);
  },

  /**
   * Changes an entry's block and/or description. A new block starts with fresh usage figures: the old
   * ones counted requests from another range.
   */
  async update(
    db: Db,
    id: string,
    change: { cidrBlock?: string | undefined; description?: string | undefined; updated: string },
  ): Promise<void> {
    await db
      .updateTable('global_access_list')
      .set({
        updated: change.updated,
        ...(change.description !== undefined ? { description: change.description } : {}),
        ...(change.cidrBlock !== undefined
          ? { cidr_block: change.cidrBlock, count: 0, last_used: null, last_used_address: null }
          : {}),
      })
      .where('id', '=', id)
      .execute();
  },

  /** Removes an entry; true when it existed. */
  async delete(db: Db, id: string): Promise<boolean> {
    const res = await db.deleteFrom('global_access_list').where('id', '=', id).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  },
};
