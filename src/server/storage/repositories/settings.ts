/** Deployment-wide settings kept in the database (shared by every node). */
import type { Db } from '../database.js';

export const settings = {
  async get(db: Db, key: string): Promise<string | undefined> {
    const row = await db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirst();
    return row?.value;
  },

  /** Stores `value` unless the key is already set; returns whichever value is stored (first writer wins). */
  async getOrInsert(db: Db, key: string, value: string): Promise<string> {
    await db
      .insertInto('settings')
      .values({ key, value })
      .onConflict((oc) => oc.column('key').doNothing())
      .execute();
    const stored = await settings.get(db, key);
    if (stored === undefined) throw new Error(`setting ${key} vanished`);
    return stored;
  },

  /** Inserts the key; false when it already existed. */
  async insertOnce(db: Db, key: string, value: string): Promise<boolean> {
    const res = await db
      .insertInto('settings')
      .values({ key, value })
      .onConflict((oc) => oc.column('key').doNothing())
      .executeTakeFirst();
    return Number(res.numInsertedOrUpdatedRows ?? 0n) > 0;
  },
};
