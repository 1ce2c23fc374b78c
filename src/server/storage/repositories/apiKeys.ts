/** Programmatic API keys (org and global) and their roles. Secrets leave only through `findCredential`. */

import { type SelectQueryBuilder, type SqlBool, sql } from 'kysely';
import type { RoleAssignment } from '../../../schema/roles.js';
import type { StoredSecret } from '../../auth/credentials.js';
import type { Database, Db } from '../database.js';
import { countKeys, type KeyPage, listKeys, readKeyPage } from '../keyPages.js';
import { orgs } from './orgs.js';
import { roleColumns, sortRoles, toRole } from './roles.js';

/** A key as the domain sees it: no secret, only the redaction tail. */
export interface ApiKeyRecord {
  id: string;
  orgId: string | null;
  publicKey: string;
  desc: string;
  keyTail: string;
  created: string;
  /** ISO seconds after which the key is refused; null: never (an extension, docs/compatibility.md). */
  expiresAt: string | null;
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

/** A key's own columns, as `lock` reads them. */
export interface LockedKey {
  id: string;
  orgId: string | null;
  publicKey: string;
  desc: string;
  expiresAt: string | null;
}

/** A new key's row. */
export interface NewApiKey extends StoredSecret {
  id: string;
  orgId: string | null;
  publicKey: string;
  desc: string;
  created: string;
  expiresAt?: string | null;
}

export const KEY_COLUMNS = [
  'id',
  'org_id',
  'public_key',
  'description',
  'key_tail',
  'created',
  'expires_at',
] as const;

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
        expires_at: key.expiresAt ?? null,
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
    const [rec] = await withRoles(db, db.selectFrom('api_keys').select(KEY_COLUMNS).where('id', '=', id));
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
    // Through the bucket counters (storage/keyPages.ts), at a cost independent of the page number; a plain
    // OFFSET query only on a handle without a reader (a transaction).
    const page = await listKeys(db, orgId, offset, limit);
    if (page) return page;
    let q = db.selectFrom('api_keys').select(KEY_COLUMNS);
    q = orgId === null ? q.where('org_id', 'is', null) : q.where('org_id', '=', orgId);
    return withRoles(db, q.orderBy('id').limit(limit).offset(offset));
  },

  async countByOrg(db: Db, orgId: string | null): Promise<number> {
    // The counter migration 003's triggers keep; COUNT(*) only on a handle without a reader.
    const counted = await countKeys(db, orgId);
    if (counted !== undefined) return counted;
    let q = db.selectFrom('api_keys').select((eb) => eb.fn.countAll<number>().as('n'));
    q = orgId === null ? q.where('org_id', 'is', null) : q.where('org_id', '=', orgId);
    const row = await q.executeTakeFirstOrThrow();
    return Number(row.n);
  },

  /**
   * What an org's key list needs, from one snapshot (one round trip on PostgreSQL): whether the org exists,
   * one page of its keys and its total.
   */
  async pageOfOrg(db: Db, orgId: string, offset: number, limit: number): Promise<KeyPage> {
    const page = await readKeyPage(db, orgId, offset, limit);
    if (page) return page;
    if (!(await orgs.exists(db, orgId))) return { orgExists: false, items: [], totalCount: 0 };
    const [items, totalCount] = await Promise.all([
      apiKeys.listByOrg(db, orgId, offset, limit),
      apiKeys.countByOrg(db, orgId),
    ]);
    return { orgExists: true, items, totalCount };
  },

  /**
   * One page of an org's keys whose description or public key contains `term` (any case), by id, and how
   * many match: the console's search (`?search=`, docs/api.md). A scan of the org's keys (its index); fine
   * at 100,000 keys (docs/benchmarks.md, console).
   */
  async searchOrg(db: Db, orgId: string, term: string, offset: number, limit: number): Promise<KeyPage> {
    if (!(await orgs.exists(db, orgId))) return { orgExists: false, items: [], totalCount: 0 };
    const pattern = `%${term.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const base = db
      .selectFrom('api_keys')
      .where('org_id', '=', orgId)
      .where((eb) =>
        eb.or([
          sql<SqlBool>`lower(description) LIKE ${pattern} ESCAPE '\\'`,
          sql<SqlBool>`lower(public_key) LIKE ${pattern} ESCAPE '\\'`,
        ]),
      );
    const [items, count] = await Promise.all([
      withRoles(db, base.select(KEY_COLUMNS).orderBy('id').limit(limit).offset(offset)),
      base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { orgExists: true, items, totalCount: Number(count.n) };
  },

  /** One page of the keys holding any role in a project. */
  async listByGroup(db: Db, groupId: string, offset: number, limit: number): Promise<ApiKeyRecord[]> {
    const page = db
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
      .offset(offset);
    return withRoles(db, page);
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

  /**
   * Locks the key's row until the transaction ends and reads its own columns (not its roles); undefined when
   * the key is gone. Every transaction that changes a key or what hangs off it (roles, access list) takes
   * this first, so concurrent changes of one key on PostgreSQL queue up in one order instead of
   * interleaving (mixed roles, unique or foreign-key violations, deadlocks), and what it returns is the key
   * as the transaction before it left it. A no-op write, because SQLite has no SELECT … FOR UPDATE (nor
   * needs it: it runs one write transaction at a time); one statement, as the lock and the read share it.
   */
  async lock(db: Db, id: string): Promise<LockedKey | undefined> {
    const row = await db
      .updateTable('api_keys')
      .set((eb) => ({ id: eb.ref('id') }))
      .where('id', '=', id)
      .returning(['id', 'org_id', 'public_key', 'description', 'expires_at'])
      .executeTakeFirst();
    return (
      row && {
        id: row.id,
        orgId: row.org_id,
        publicKey: row.public_key,
        desc: row.description,
        expiresAt: row.expires_at,
      }
    );
  },

  async updateDesc(db: Db, id: string, desc: string): Promise<void> {
    await db.updateTable('api_keys').set({ description: desc }).where('id', '=', id).execute();
  },

  /**
   * Replaces the key's roles of one scope (an org, a project, or '' for global) with `roles`. The caller
   * holds the key's lock.
   */
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

  /**
   * Deletes the key; its roles and access-list entries go with it (the foreign keys cascade, on SQLite too:
   * connect.ts turns them on). The caller holds the key's lock.
   */
  async delete(db: Db, id: string): Promise<boolean> {
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
  expires_at: string | null;
};

/**
 * The keys `page` selects, with their roles, read in ONE statement: two reads (keys, then roles) could see
 * a concurrent PATCH half-way (the old desc with the new roles) on PostgreSQL's read-committed snapshots.
 * With `lastUsed`, the page also selects `last_used`, and each record comes with it (the unused-keys report).
 */
export async function withRoles(
  db: Db,
  page: SelectQueryBuilder<Database, 'api_keys', KeyRow & { last_used?: string | null }>,
  lastUsed = false,
): Promise<(ApiKeyRecord & { lastUsed?: string | null })[]> {
  const rows = await db
    .selectFrom(page.as('k'))
    .leftJoin('api_key_roles as r', 'r.api_key_id', 'k.id')
    .select([
      'k.id',
      'k.org_id',
      'k.public_key',
      'k.description',
      'k.key_tail',
      'k.created',
      'k.expires_at',
      'r.scope',
      'r.scope_id',
      'r.role_name',
    ])
    .$if(lastUsed, (q) => q.select('k.last_used'))
    .orderBy('k.id')
    .execute();
  const records = foldKeyRows(rows);
  if (!lastUsed) return records;
  const when = new Map(rows.map((r) => [r.id, r.last_used ?? null]));
  return records.map((rec) => Object.assign(rec, { lastUsed: when.get(rec.id) ?? null }));
}

/** A key joined with one of its roles (null columns: a key without roles), as both read paths select it. */
export interface KeyRoleRow extends KeyRow {
  scope: string | null;
  scope_id: string | null;
  role_name: string | null;
}

/** Folds key-with-role rows (one per role) into records, in first-seen order, each with its roles sorted. */
export function foldKeyRows(rows: readonly KeyRoleRow[]): ApiKeyRecord[] {
  const byKey = new Map<string, ApiKeyRecord>();
  for (const r of rows) {
    let rec = byKey.get(r.id);
    if (!rec) {
      rec = {
        id: r.id,
        orgId: r.org_id,
        publicKey: r.public_key,
        desc: r.description,
        keyTail: r.key_tail,
        created: r.created,
        expiresAt: r.expires_at,
        roles: [],
      };
      byKey.set(r.id, rec);
    }
    if (r.scope !== null && r.role_name !== null)
      rec.roles.push(toRole({ scope: r.scope, scope_id: r.scope_id ?? '', role_name: r.role_name }));
  }
  const out = [...byKey.values()];
  for (const rec of out) sortRoles(rec.roles);
  return out;
}
