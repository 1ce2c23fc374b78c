/** Users, their roles and their personal API keys (stored as HA1 only). */

import type { Expression, ExpressionBuilder, SqlBool } from 'kysely';
import type { RoleAssignment } from '../../../schema/roles.js';
import type { StoredSecret } from '../../auth/credentials.js';
import type { Database, Db } from '../database.js';
import { roleColumns, sortRoles, toRole } from './roles.js';

/** A user without its password hash. */
export interface UserRecord {
  id: string;
  username: string;
  firstName: string;
  lastName: string;
  emailAddress: string | null;
  mobileNumber: string | null;
  country: string | null;
  created: string;
  roles: RoleAssignment[];
}

/** A new user's row (password already hashed). */
export interface NewUser extends Omit<UserRecord, 'roles'> {
  passwordHash: string;
}

const USER_COLUMNS = [
  'id',
  'username',
  'first_name',
  'last_name',
  'email_address',
  'mobile_number',
  'country',
  'created',
] as const;

type UserRow = {
  id: string;
  username: string;
  first_name: string;
  last_name: string;
  email_address: string | null;
  mobile_number: string | null;
  country: string | null;
  created: string;
};

export const users = {
  async insert(db: Db, user: NewUser, roles: readonly RoleAssignment[]): Promise<void> {
    await db
      .insertInto('users')
      .values({
        id: user.id,
        username: user.username,
        password_hash: user.passwordHash,
        first_name: user.firstName,
        last_name: user.lastName,
        email_address: user.emailAddress,
        mobile_number: user.mobileNumber,
        country: user.country,
        created: user.created,
      })
      .execute();
    if (roles.length) {
      await db
        .insertInto('user_roles')
        .values(roles.map((r) => ({ user_id: user.id, ...roleColumns(r) })))
        .execute();
    }
  },

  async findById(db: Db, id: string): Promise<UserRecord | undefined> {
    const row = await db.selectFrom('users').select(USER_COLUMNS).where('id', '=', id).executeTakeFirst();
    return row && (await withRoles(db, [row]))[0];
  },

  async findByUsername(db: Db, username: string): Promise<UserRecord | undefined> {
    const row = await db
      .selectFrom('users')
      .select(USER_COLUMNS)
      .where('username', '=', username)
      .executeTakeFirst();
    return row && (await withRoles(db, [row]))[0];
  },

  async any(db: Db): Promise<boolean> {
    return (await db.selectFrom('users').select('id').limit(1).executeTakeFirst()) !== undefined;
  },

  async roles(db: Db, userId: string): Promise<RoleAssignment[]> {
    const rows = await db
      .selectFrom('user_roles')
      .select(['scope', 'scope_id', 'role_name'])
      .where('user_id', '=', userId)
      .execute();
    return sortRoles(rows.map(toRole));
  },

  /** The HA1 values of a user's personal API keys, for digest verification. */
  async personalKeyCredentials(
    db: Db,
    username: string,
  ): Promise<{ userId: string; ha1Md5: string; ha1Sha256: string; expiresAt: string | null }[]> {
    const rows = await db
      .selectFrom('user_api_keys')
      .innerJoin('users', 'users.id', 'user_api_keys.user_id')
      .select([
        'users.id as user_id',
        'user_api_keys.ha1_md5',
        'user_api_keys.ha1_sha256',
        'user_api_keys.expires_at',
      ])
      .where('users.username', '=', username)
      .execute();
    return rows.map((r) => ({
      userId: r.user_id,
      ha1Md5: r.ha1_md5,
      ha1Sha256: r.ha1_sha256,
      expiresAt: r.expires_at,
    }));
  },

  async addPersonalKey(
    db: Db,
    key: StoredSecret & { id: string; userId: string; created: string; expiresAt?: string | null },
  ): Promise<void> {
    await db
      .insertInto('user_api_keys')
      .values({
        id: key.id,
        user_id: key.userId,
        ha1_md5: key.ha1Md5,
        ha1_sha256: key.ha1Sha256,
        key_tail: key.keyTail,
        created: key.created,
        expires_at: key.expiresAt ?? null,
      })
      .execute();
  },

  async revokePersonalKeys(db: Db, userId: string): Promise<number> {
    const res = await db.deleteFrom('user_api_keys').where('user_id', '=', userId).executeTakeFirst();
    return Number(res.numDeletedRows);
  },

  /** A page of the users holding any role in the org or in one of its projects, by id ascending. */
  async listByOrg(db: Db, orgId: string, offset: number, limit: number): Promise<UserPage> {
    return page(
      db,
      (eb) =>
        eb.or([
          eb('scope_id', '=', orgId),
          eb('scope_id', 'in', eb.selectFrom('projects').select('id').where('org_id', '=', orgId)),
        ]),
      offset,
      limit,
    );
  },

  /** A page of the users holding any role in the project, by id ascending. */
  async listByGroup(db: Db, groupId: string, offset: number, limit: number): Promise<UserPage> {
    return page(db, (eb) => eb('scope_id', '=', groupId), offset, limit);
  },

  /** Changes the given profile fields (a new password arrives already hashed). */
  async update(db: Db, id: string, fields: UserChanges): Promise<void> {
    const set = {
      ...(fields.username !== undefined ? { username: fields.username } : {}),
      ...(fields.passwordHash !== undefined ? { password_hash: fields.passwordHash } : {}),
      ...(fields.firstName !== undefined ? { first_name: fields.firstName } : {}),
      ...(fields.lastName !== undefined ? { last_name: fields.lastName } : {}),
      ...(fields.emailAddress !== undefined ? { email_address: fields.emailAddress } : {}),
      ...(fields.mobileNumber !== undefined ? { mobile_number: fields.mobileNumber } : {}),
      ...(fields.country !== undefined ? { country: fields.country } : {}),
    };
    if (Object.keys(set).length) await db.updateTable('users').set(set).where('id', '=', id).execute();
  },

  /**
   * Locks the user's row for the transaction, as apiKeys.lock does a key's: a concurrent change of the user
   * has finished by now. False when there is no such user.
   */
  async lock(db: Db, id: string): Promise<boolean> {
    const row = await db
      .updateTable('users')
      .set((eb) => ({ id: eb.ref('id') }))
      .where('id', '=', id)
      .returning('id')
      .executeTakeFirst();
    return row !== undefined;
  },

  /** Replaces all of the user's roles. */
  async replaceRoles(db: Db, id: string, roles: readonly RoleAssignment[]): Promise<void> {
    await db.deleteFrom('user_roles').where('user_id', '=', id).execute();
    if (roles.length) {
      await db
        .insertInto('user_roles')
        .values(roles.map((r) => ({ user_id: id, ...roleColumns(r) })))
        .execute();
    }
  },

  /** Adds roles to the ones the user holds. */
  async addRoles(db: Db, id: string, roles: readonly RoleAssignment[]): Promise<void> {
    if (roles.length) {
      await db
        .insertInto('user_roles')
        .values(roles.map((r) => ({ user_id: id, ...roleColumns(r) })))
        .execute();
    }
  },

  /** Deletes the user with its roles and personal API keys. */
  async delete(db: Db, id: string): Promise<void> {
    await db.deleteFrom('user_roles').where('user_id', '=', id).execute();
    await db.deleteFrom('user_api_keys').where('user_id', '=', id).execute();
    await db.deleteFrom('users').where('id', '=', id).execute();
  },
};

/** Profile fields a PATCH may change. */
export interface UserChanges {
  username?: string | undefined;
  passwordHash?: string | undefined;
  firstName?: string | undefined;
  lastName?: string | undefined;
  emailAddress?: string | undefined;
  mobileNumber?: string | undefined;
  country?: string | undefined;
}

/** A page of users and the size of the whole set. */
export interface UserPage {
  items: UserRecord[];
  totalCount: number;
}

type RoleFilter = (eb: ExpressionBuilder<Database, 'user_roles'>) => Expression<SqlBool>;

/** Users holding a role that matches `which`, paged by id. */
async function page(db: Db, which: RoleFilter, offset: number, limit: number): Promise<UserPage> {
  const members = db.selectFrom('user_roles').select('user_id').where(which);
  const q = db.selectFrom('users').where('id', 'in', members);
  const rows = await q.select(USER_COLUMNS).orderBy('id').limit(limit).offset(offset).execute();
  const count = await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return { items: await withRoles(db, rows), totalCount: Number(count.n) };
}

/** Attaches roles to user rows. */
export async function withRoles(db: Db, rows: UserRow[]): Promise<UserRecord[]> {
  if (rows.length === 0) return [];
  const roleRows = await db
    .selectFrom('user_roles')
    .select(['user_id', 'scope', 'scope_id', 'role_name'])
    .where(
      'user_id',
      'in',
      rows.map((r) => r.id),
    )
    .execute();
  const byUser = new Map<string, RoleAssignment[]>();
  for (const r of roleRows) {
    const list = byUser.get(r.user_id) ?? [];
    list.push(toRole(r));
    byUser.set(r.user_id, list);
  }
  return rows.map((r) => ({
    id: r.id,
    username: r.username,
    firstName: r.first_name,
    lastName: r.last_name,
    emailAddress: r.email_address,
    mobileNumber: r.mobile_number,
    country: r.country,
    created: r.created,
    roles: sortRoles(byUser.get(r.id) ?? []),
  }));
}
