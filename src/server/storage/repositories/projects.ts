/** Projects (Ops Manager "groups"): each belongs to one org; names are unique across the deployment. */
import type { Db } from '../database.js';

/** A project. */
export interface ProjectRecord {
  id: string;
  orgId: string;
  name: string;
  created: string;
}

/** Which projects a list may show; `visible: null` means every project (global callers). */
export interface ProjectFilter {
  orgId?: string | undefined;
  name?: string | undefined;
  visible: { groupIds: readonly string[]; orgIds: readonly string[] } | null;
}

const COLUMNS = ['id', 'org_id', 'name', 'created'] as const;

function toProject(r: { id: string; org_id: string; name: string; created: string }): ProjectRecord {
  return { id: r.id, orgId: r.org_id, name: r.name, created: r.created };
}

/** Reads and writes projects. Every method takes the handle so callers can pass a transaction. */
export const projects = {
  async insert(db: Db, p: ProjectRecord): Promise<void> {
    await db
      .insertInto('projects')
      .values({ id: p.id, org_id: p.orgId, name: p.name, created: p.created })
      .execute();
  },

  async findById(db: Db, id: string): Promise<ProjectRecord | undefined> {
    const row = await db.selectFrom('projects').select(COLUMNS).where('id', '=', id).executeTakeFirst();
    return row && toProject(row);
  },

  async findByName(db: Db, name: string): Promise<ProjectRecord | undefined> {
    const row = await db.selectFrom('projects').select(COLUMNS).where('name', '=', name).executeTakeFirst();
    return row && toProject(row);
  },

  /** A page of projects by id ascending, with the size of the whole filtered set. */
  async list(
    db: Db,
    filter: ProjectFilter,
    offset: number,
    limit: number,
  ): Promise<{ items: ProjectRecord[]; totalCount: number }> {
    const v = filter.visible;
    if (v && v.groupIds.length === 0 && v.orgIds.length === 0) return { items: [], totalCount: 0 };
    let q = db.selectFrom('projects');
    if (filter.orgId !== undefined) q = q.where('org_id', '=', filter.orgId);
    if (filter.name !== undefined) q = q.where('name', '=', filter.name);
    if (v) {
      q = q.where((eb) =>
        eb.or([
          ...(v.groupIds.length ? [eb('id', 'in', v.groupIds)] : []),
          ...(v.orgIds.length ? [eb('org_id', 'in', v.orgIds)] : []),
        ]),
      );
    }
    const rows = await q.select(COLUMNS).orderBy('id').limit(limit).offset(offset).execute();
    const count = await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return { items: rows.map(toProject), totalCount: Number(count.n) };
  },

  /** Project id → org id for the given projects (unknown ids are simply absent). */
  async orgsOf(db: Db, ids: readonly string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const rows = await db.selectFrom('projects').select(['id', 'org_id']).where('id', 'in', ids).execute();
    return new Map(rows.map((r) => [r.id, r.org_id]));
  },

  /** Deletes the project and every role any key or user held in it. */
  async delete(db: Db, id: string): Promise<void> {
    await db.deleteFrom('api_key_roles').where('scope', '=', 'group').where('scope_id', '=', id).execute();
    await db.deleteFrom('user_roles').where('scope', '=', 'group').where('scope_id', '=', id).execute();
    await db.deleteFrom('projects').where('id', '=', id).execute();
  },
};
