/** Organizations. */
import type { Db } from '../database.js';
import { readerFor, statement } from '../reader.js';

/** Whether an org exists: the one statement every org-scoped request runs (storage/reader.ts). */
export const ORG_EXISTS = statement('org_exists', 'SELECT 1 FROM orgs WHERE id = ?');

/** An organization. */
export interface OrgRecord {
  id: string;
  name: string;
  created: string;
}

function toOrg(r: { id: string; name: string; created: string }): OrgRecord {
  return { id: r.id, name: r.name, created: r.created };
}

export const orgs = {
  async insert(db: Db, org: OrgRecord): Promise<void> {
    await db.insertInto('orgs').values(org).execute();
  },

  async findById(db: Db, id: string): Promise<OrgRecord | undefined> {
    const row = await db
      .selectFrom('orgs')
      .select(['id', 'name', 'created'])
      .where('id', '=', id)
      .executeTakeFirst();
    return row && toOrg(row);
  },

  async exists(db: Db, id: string): Promise<boolean> {
    // Every org-scoped request asks this: a prepared statement when the handle has a reader (storage/reader.ts).
    const reader = readerFor(db);
    if (reader?.sync) return reader.sync.column(ORG_EXISTS, [id]).length > 0;
    if (reader) return (await reader.all(ORG_EXISTS, [id])).length > 0;
    return (await db.selectFrom('orgs').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;
  },

  /** A page of orgs, optionally only those named `name` and/or only those in `ids` (null: all). */
  async list(
    db: Db,
    filter: { name?: string | undefined; ids: readonly string[] | null },
    offset: number,
    limit: number,
  ): Promise<{ items: OrgRecord[]; totalCount: number }> {
    if (filter.ids !== null && filter.ids.length === 0) return { items: [], totalCount: 0 };
    let q = db.selectFrom('orgs');
    if (filter.name !== undefined) q = q.where('name', '=', filter.name);
    if (filter.ids !== null) q = q.where('id', 'in', filter.ids);
    const rows = await q
      .select(['id', 'name', 'created'])
      .orderBy('id')
      .limit(limit)
      .offset(offset)
      .execute();
    const count = await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return { items: rows.map(toOrg), totalCount: Number(count.n) };
  },

  async rename(db: Db, id: string, name: string): Promise<void> {
    await db.updateTable('orgs').set({ name }).where('id', '=', id).execute();
  },

  async delete(db: Db, id: string): Promise<void> {
    await db.deleteFrom('orgs').where('id', '=', id).execute();
  },

  async hasProjects(db: Db, id: string): Promise<boolean> {
    return (
      (await db.selectFrom('projects').select('id').where('org_id', '=', id).limit(1).executeTakeFirst()) !==
      undefined
    );
  },
};
