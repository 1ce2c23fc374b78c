/** Users, their roles and their personal API keys (stored as HA1 only). */
import type { RoleAssignment } from '../../../schema/roles.js';
import type { StoredSecret } from '../../auth/credentials.js';
import type { Db } from '../database.js';
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
  ): Promise<{ userId: string; ha1Md5: string; ha1Sha256: string }[]> {
    const rows = await db
      .selectFrom('user_api_keys')
      .innerJoin('users', 'users.id', 'user_api_keys.user_id')
      .select(['users.id as user_id', 'user_api_keys.ha1_md5', 'user_api_keys.ha1_sha256'])
      .where('users.username', '=', username)
      .execute();
    return rows.map((r) => ({ userId: r.user_id, ha1Md5: r.ha1_md5, ha1Sha256: r.ha1_sha256 }));
  },

  async addPersonalKey(
    db: Db,
    key: StoredSecret & { id: string; userId: string; created: string },
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
      })
      .execute();
  },

  async revokePersonalKeys(db: Db, userId: string): Promise<number> {
    const res = await db.deleteFrom('user_api_keys').where('user_id', '=', userId).executeTakeFirst();
    return Number(res.numDeletedRows);
  },
};

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
