/** Programmatic API keys (org and global) and their roles. Secrets leave only through `findCredential`. */
import type { RoleAssignment } from '../../../schema/roles.js';
import type { StoredSecret } from '../../auth/credentials.js';
import type { Db } from '../database.js';
import { roleColumns, sortRoles, toRole } from './roles.js';

/** A key as the domain sees it: no secret, only the redaction tail. */
export interface ApiKeyRecord {
  id: string;
  orgId: string | null;
  publicKey: string;
  desc: string;
  keyTail: string;
  created: string;
  roles: RoleAssignment[];
}

/** What digest verification needs about a key. */
export interface ApiKeyCredential {
  id: string;
  orgId: string | null;
  publicKey: string;
  ha1Md5: string;
  ha1Sha256: string;
}

/** A new key's row. */
export interface NewApiKey extends StoredSecret {
  id: string;
  orgId: string | null;
  publicKey: string;
  desc: string;
  created: string;
}

const KEY_COLUMNS = ['id', 'org_id', 'public_key', 'description', 'key_tail', 'created'] as const;

/** Reads and writes API keys. Every method takes the handle so callers can pass a transaction. */
export const apiKeys = {
  async insert(db: Db, key: NewApiKey, roles: readonly RoleAssignment[]): Promise<void> {
    await db
      .insertInto('api_keys')
      .values({
        id: key.id,
        org_id: key.orgId,
        public_key: key.publicKey,
        description: key.desc,
        ha1_md5: key.ha1Md5,
        ha1_sha256: key.ha1Sha256,
        key_tail: key.keyTail,
        created: key.created,
      })
      .execute();
    if (roles.length) {
      await db
        .insertInto('api_key_roles')
        .values(roles.map((r) => ({ api_key_id: key.id, ...roleColumns(r) })))
        .execute();
    }
  },

  async findById(db: Db, id: string): Promise<ApiKeyRecord | undefined> {
    const row = await db.selectFrom('api_keys').select(KEY_COLUMNS).where('id', '=', id).executeTakeFirst();
    if (!row) return undefined;
    const [rec] = await withRoles(db, [row]);
    return rec;
  },

  async findCredential(db: Db, publicKey: string): Promise<ApiKeyCredential | undefined> {
    const row = await db
      .selectFrom('api_keys')
      .select(['id', 'org_id', 'public_key', 'ha1_md5', 'ha1_sha256'])
      .where('public_key', '=', publicKey)
      .executeTakeFirst();
    return (
      row && {
        id: row.id,
        orgId: row.org_id,
        publicKey: row.public_key,
        ha1Md5: row.ha1_md5,
        ha1Sha256: row.ha1_sha256,
      }
    );
  },

  async roles(db: Db, id: string): Promise<RoleAssignment[]> {
    const rows = await db
      .selectFrom('api_key_roles')
      .select(['scope', 'scope_id', 'role_name'])
      .where('api_key_id', '=', id)
      .execute();
    return sortRoles(rows.map(toRole));
  },

  /** One page of an org's keys (org_id null: the global keys), by id ascending. */
  async listByOrg(db: Db, orgId: string | null, offset: number, limit: number): Promise<ApiKeyRecord[]> {
    let q = db.selectFrom('api_keys').select(KEY_COLUMNS);
    q = orgId === null ? q.where('org_id', 'is', null) : q.where('org_id', '=', orgId);
    const rows = await q.orderBy('id').limit(limit).offset(offset).execute();
    return withRoles(db, rows);
  },

  async countByOrg(db: Db, orgId: string | null): Promise<number> {
    let q = db.selectFrom('api_keys').select((eb) => eb.fn.countAll<number>().as('n'));
    q = orgId === null ? q.where('org_id', 'is', null) : q.where('org_id', '=', orgId);
    const row = await q.executeTakeFirstOrThrow();
    return Number(row.n);
  },

  /** One page of the keys holding any role in a project. */
  async listByGroup(db: Db, groupId: string, offset: number, limit: number): Promise<ApiKeyRecord[]> {
    const rows = await db
      .selectFrom('api_keys')
      .select(KEY_COLUMNS)
      .where('id', 'in', (eb) =>
        eb
          .selectFrom('api_key_roles')
          .select('api_key_id')
          .where('scope', '=', 'group')
          .where('scope_id', '=', groupId),
      )
      .orderBy('id')
      .limit(limit)
      .offset(offset)
      .execute();
    return withRoles(db, rows);
  },

  async countByGroup(db: Db, groupId: string): Promise<number> {
    const row = await db
      .selectFrom('api_key_roles')
      .select((eb) => eb.fn.count<number>('api_key_id').distinct().as('n'))
      .where('scope', '=', 'group')
      .where('scope_id', '=', groupId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  },

  async updateDesc(db: Db, id: string, desc: string): Promise<void> {
    await db.updateTable('api_keys').set({ description: desc }).where('id', '=', id).execute();
  },

  /** Replaces the key's roles of one scope (an org, a project, or '' for global) with `roles`. */
  async replaceRoles(db: Db, id: string, scopeId: string, roles: readonly RoleAssignment[]): Promise<void> {
    await db
      .deleteFrom('api_key_roles')
      .where('api_key_id', '=', id)
      .where('scope_id', '=', scopeId)
      .execute();
    if (roles.length) {
      await db
        .insertInto('api_key_roles')
        .values(roles.map((r) => ({ api_key_id: id, ...roleColumns(r) })))
        .execute();
    }
  },

  async delete(db: Db, id: string): Promise<boolean> {
    await db.deleteFrom('api_key_roles').where('api_key_id', '=', id).execute();
    await db.deleteFrom('api_key_access_list').where('api_key_id', '=', id).execute();
    const res = await db.deleteFrom('api_keys').where('id', '=', id).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  },
};

type KeyRow = {
  id: string;
  org_id: string | null;
  public_key: string;
  description: string;
  key_tail: string;
  created: string;
};

async function withRoles(db: Db, rows: KeyRow[]): Promise<ApiKeyRecord[]> {
  if (rows.length === 0) return [];
  const roleRows = await db
    .selectFrom('api_key_roles')
    .select(['api_key_id', 'scope', 'scope_id', 'role_name'])
    .where(
      'api_key_id',
      'in',
      rows.map((r) => r.id),
    )
    .execute();
  const byKey = new Map<string, RoleAssignment[]>();
  for (const r of roleRows) {
    const list = byKey.get(r.api_key_id) ?? [];
    list.push(toRole(r));
    byKey.set(r.api_key_id, list);
  }
  return rows.map((r) => ({
    id: r.id,
    orgId: r.org_id,
    publicKey: r.public_key,
    desc: r.description,
    keyTail: r.key_tail,
    created: r.created,
    roles: sortRoles(byKey.get(r.id) ?? []),
  }));
}
