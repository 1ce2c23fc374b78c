/** Users: create, read, update (roles included), delete, and their personal API keys. */
import { randomUUID } from 'node:crypto';
import { ApiError } from '../../schema/errors.js';
import { newObjectId, OBJECT_ID_RE } from '../../schema/ids.js';
import { type RoleAssignment, type RoleName, roleScope } from '../../schema/roles.js';
import { storedSecret } from '../auth/credentials.js';
import { hashPassword } from '../auth/passwords.js';
import { canChangeRoles } from '../rbac/policy.js';
import type { Principal } from '../rbac/principal.js';
import { isUniqueViolation } from '../storage/connect.js';
import type { Db } from '../storage/database.js';
import { orgs } from '../storage/repositories/orgs.js';
import { projects } from '../storage/repositories/projects.js';
import { type UserChanges, type UserRecord, users } from '../storage/repositories/users.js';
import { assertCanGrant } from './apiKeys.js';
import { type EventType, recordEvent } from './audit.js';
import { type Actor, isoSeconds, type ServiceDeps } from './context.js';
import { resolveExpiry } from './keyLifecycle.js';

/** A role as a request names it: `{roleName}` (global), `{orgId, roleName}` or `{groupId, roleName}`. */
export interface RoleInput {
  roleName: string;
  orgId?: string | undefined;
  groupId?: string | undefined;
}

/** Profile fields of a user as a request gives them. */
export interface UserFields {
  username?: string | undefined;
  password?: string | undefined;
  firstName?: string | undefined;
  lastName?: string | undefined;
  emailAddress?: string | undefined;
  mobileNumber?: string | undefined;
  country?: string | undefined;
  roles?: readonly RoleInput[] | undefined;
}

/** A new user: the required fields present. */
export interface NewUserInput extends UserFields {
  username: string;
  password: string;
  firstName: string;
  lastName: string;
}

/**
 * Binds request roles: an org role needs `orgId` alone (ROLE_NEEDS_ORG_ID), a project role `groupId` alone
 * (ROLE_NEEDS_GROUP_ID), a global role neither (INVALID_ATTRIBUTE on the id given).
 */
export function bindUserRoles(inputs: readonly RoleInput[]): RoleAssignment[] {
  const out = new Map<string, RoleAssignment>();
  for (const r of inputs) {
    const scope = roleScope(r.roleName);
    if (!scope) throw new ApiError('INVALID_ENUM_VALUE', [r.roleName]);
    let scopeId = '';
    if (scope === 'org') {
      if (r.orgId === undefined || r.groupId !== undefined)
        throw new ApiError('ROLE_NEEDS_ORG_ID', [r.roleName]);
      scopeId = r.orgId;
    } else if (scope === 'group') {
      if (r.groupId === undefined || r.orgId !== undefined)
        throw new ApiError('ROLE_NEEDS_GROUP_ID', [r.roleName]);
      scopeId = r.groupId;
    } else if (r.orgId !== undefined || r.groupId !== undefined) {
      throw new ApiError('INVALID_ATTRIBUTE', [r.orgId !== undefined ? 'orgId' : 'groupId']);
    }
    if (scope !== 'global' && !OBJECT_ID_RE.test(scopeId))
      throw new ApiError('INVALID_ATTRIBUTE', [scope === 'org' ? 'orgId' : 'groupId']);
    out.set(`${scopeId}/${r.roleName}`, { scope, scopeId, roleName: r.roleName as RoleName });
  }
  return [...out.values()];
}

const key = (r: RoleAssignment) => `${r.scopeId}/${r.roleName}`;

/** The scopes (org, project, or '' for global) that a set of roles touches. */
function scopesOf(roles: readonly RoleAssignment[]): Map<string, RoleAssignment['scope']> {
  return new Map(roles.map((r) => [r.scopeId, r.scope]));
}

/** User operations. Path-addressed calls are authorized by the pipeline before these run. */
export class UserService {
  constructor(private readonly deps: ServiceDeps) {}

  async get(userId: string): Promise<UserRecord> {
    const user = await users.findById(this.deps.db, userId);
    if (!user) throw new ApiError('USER_NOT_FOUND', [userId]);
    return user;
  }

  /** A user by name: global callers see any user, a user itself; others get USER_UNAUTHORIZED. */
  async getByName(caller: Principal, username: string): Promise<UserRecord> {
    const self = caller.kind === 'user' && caller.name === username;
    if (caller.global.size === 0 && !self) throw new ApiError('USER_UNAUTHORIZED');
    const user = await users.findByUsername(this.deps.db, username);
    if (!user) throw new ApiError('USERNAME_NOT_FOUND', [username]);
    return user;
  }

  /** A page of the users with any role in the org or its projects. */
  async listByOrg(orgId: string, offset: number, limit: number) {
    if (!(await orgs.exists(this.deps.db, orgId))) throw new ApiError('ORG_NOT_FOUND', [orgId]);
    return users.listByOrg(this.deps.db, orgId, offset, limit);
  }

  /** Creates a user holding `input.roles`; the grant rule applies to every role. */
  async create(actor: Actor, input: NewUserInput): Promise<UserRecord> {
    const roles = bindUserRoles(input.roles ?? []);
    const groupOrgs = await this.#authorizeRoles(actor, roles);
    const now = this.deps.clock();
    const user: UserRecord = {
      id: newObjectId(now),
      username: input.username,
      firstName: input.firstName,
      lastName: input.lastName,
      emailAddress: input.emailAddress ?? null,
      mobileNumber: input.mobileNumber ?? null,
      country: input.country ?? null,
      created: isoSeconds(now),
      roles,
    };
    const passwordHash = await hashPassword(input.password);
    await this.#unique(input.username, () =>
      this.deps.db.transaction().execute(async (trx) => {
        await users.insert(trx, { ...user, passwordHash }, roles);
        const target = { targetUsername: user.username };
        await recordEvent(trx, this.deps.clock, actor, 'USER_CREATED', target);
        await this.#roleEvents(trx, actor, [], roles, groupOrgs, target);
      }),
    );
    return (await users.findById(this.deps.db, user.id)) ?? user;
  }

  /**
   * Changes profile fields and/or replaces the user's roles. Renaming revokes its personal API keys. The
   * grant rule is checked before the password is hashed and again on the locked row, so a concurrent role
   * change cannot slip between the check and the write.
   */
  async update(actor: Actor, userId: string, fields: UserFields): Promise<UserRecord> {
    const next = fields.roles && bindUserRoles(fields.roles);
    const user = await this.get(userId);
    await this.#authorizeChange(this.deps.db, actor, user, next);
    const changes: UserChanges = {};
    for (const f of [
      'username',
      'firstName',
      'lastName',
      'emailAddress',
      'mobileNumber',
      'country',
    ] as const) {
      if (fields[f] !== undefined && fields[f] !== user[f]) changes[f] = fields[f];
    }
    if (fields.password !== undefined) changes.passwordHash = await hashPassword(fields.password);
    const username = changes.username ?? user.username;
    await this.#unique(username, () =>
      this.deps.db.transaction().execute(async (trx) => {
        if (!(await users.lock(trx, userId))) throw new ApiError('USER_NOT_FOUND', [userId]);
        const current = (await users.findById(trx, userId)) as UserRecord;
        const { changed, groupOrgs } = await this.#authorizeChange(trx, actor, current, next);
        const target = { targetUsername: username };
        if (Object.keys(changes).length) {
          await users.update(trx, userId, changes);
          await recordEvent(trx, this.deps.clock, actor, 'USER_UPDATED', target);
        }
        // A personal key's stored HA1 is bound to the username, so a rename leaves it unusable.
        if (changes.username !== undefined && (await users.revokePersonalKeys(trx, userId)) > 0)
          await recordEvent(trx, this.deps.clock, actor, 'USER_API_KEYS_REVOKED', target);
        if (next && changed) {
          await users.replaceRoles(trx, userId, next);
          await this.#roleEvents(trx, actor, current.roles, next, groupOrgs, target);
        }
      }),
    );
    return this.get(userId);
  }

  /** Deletes the user; the caller must be able to grant every role the user holds. */
  async delete(actor: Actor, userId: string): Promise<void> {
    await this.deps.db.transaction().execute(async (trx) => {
      if (!(await users.lock(trx, userId))) throw new ApiError('USER_NOT_FOUND', [userId]);
      const user = (await users.findById(trx, userId)) as UserRecord;
      if (
        !actor.principal ||
        !canChangeRoles(
          actor.principal,
          { kind: 'user', id: userId },
          user.roles,
          user.roles,
          await this.#groupOrgs(trx, user.roles),
        )
      )
        throw new ApiError('USER_UNAUTHORIZED');
      await users.delete(trx, userId);
      await recordEvent(trx, this.deps.clock, actor, 'USER_DELETED', { targetUsername: user.username });
    });
  }

  /** Adds a personal API key (a random UUID; only its HA1 and tail are kept) and returns it, once. */
  async createPersonalKey(
    actor: Actor,
    username: string,
    expiresAt?: string,
  ): Promise<{ user: UserRecord; apiKey: string }> {
    const apiKey = randomUUID();
    const user = await this.#byName(username);
    const now = this.deps.clock();
    // No org, so no cap: only the date is checked (well-formed, in the future).
    const expiry = (await resolveExpiry(this.deps.db, null, expiresAt, now, true)) ?? null;
    await this.deps.db.transaction().execute(async (trx) => {
      await users.addPersonalKey(trx, {
        id: newObjectId(now),
        userId: user.id,
        created: isoSeconds(now),
        expiresAt: expiry,
        ...storedSecret(username, apiKey),
      });
      await recordEvent(trx, this.deps.clock, actor, 'USER_API_KEY_CREATED', {
        targetUsername: username,
        expiresAt: expiry,
      });
    });
    return { user, apiKey };
  }

  /** Revokes every personal API key of the user; returns how many there were. */
  async revokePersonalKeys(actor: Actor, username: string): Promise<number> {
    const user = await this.#byName(username);
    return this.deps.db.transaction().execute(async (trx) => {
      const n = await users.revokePersonalKeys(trx, user.id);
      if (n > 0)
        await recordEvent(trx, this.deps.clock, actor, 'USER_API_KEYS_REVOKED', { targetUsername: username });
      return n;
    });
  }

  async #byName(username: string): Promise<UserRecord> {
    const user = await users.findByUsername(this.deps.db, username);
    if (!user) throw new ApiError('USERNAME_NOT_FOUND', [username]);
    return user;
  }

  /** Runs a write, turning a username collision into USER_ALREADY_EXISTS. */
  async #unique(username: string, write: () => Promise<void>): Promise<void> {
    try {
      await write();
    } catch (e) {
      if (isUniqueViolation(e)) throw new ApiError('USER_ALREADY_EXISTS', [username]);
      throw e;
    }
  }

  async #groupOrgs(db: Db, roles: readonly RoleAssignment[]): Promise<Map<string, string>> {
    return projects.orgsOf(db, [...new Set(roles.filter((r) => r.scope === 'group').map((r) => r.scopeId))]);
  }

  /**
   * The grant rule for new roles, then existence of their orgs and projects (checked second, so callers who
   * may not grant there learn nothing about what exists). Returns project → org for the events.
   */
  async #authorizeRoles(actor: Actor, roles: readonly RoleAssignment[]): Promise<Map<string, string>> {
    const groupOrgs = await this.#groupOrgs(this.deps.db, roles);
    assertCanGrant(actor, roles, groupOrgs);
    await this.#requireScopes(this.deps.db, roles, groupOrgs);
    return groupOrgs;
  }

  /**
   * The grant rule read both ways for a change of `user` (to roles `next`, or of its profile only): another
   * user's change needs the power to grant every role it holds and gets, so a GLOBAL_USER_ADMIN neither
   * edits nor strips a GLOBAL_OWNER; a user may shed its own roles but add none (policy.ts
   * `canChangeRoles`). Then the existence of the scopes of the roles that change. Answers those roles
   * (whether any change) and project → org for the events.
   */
  async #authorizeChange(
    db: Db,
    actor: Actor,
    user: UserRecord,
    next: readonly RoleAssignment[] | undefined,
  ): Promise<{ changed: boolean; groupOrgs: Map<string, string> }> {
    const after = next ?? user.roles;
    const before = new Set(user.roles.map(key));
    const kept = new Set(after.map(key));
    const changed = [
      ...after.filter((r) => !before.has(key(r))),
      ...user.roles.filter((r) => !kept.has(key(r))),
    ];
    const groupOrgs = await this.#groupOrgs(db, [...user.roles, ...after]);
    const subject = { kind: 'user', id: user.id } as const;
    if (!actor.principal || !canChangeRoles(actor.principal, subject, user.roles, after, groupOrgs))
      throw new ApiError('USER_UNAUTHORIZED');
    await this.#requireScopes(db, changed, groupOrgs);
    return { changed: changed.length > 0, groupOrgs };
  }

  /** GROUP_NOT_FOUND / ORG_NOT_FOUND for a role whose project or org does not exist. */
  async #requireScopes(
    db: Db,
    roles: readonly RoleAssignment[],
    groupOrgs: ReadonlyMap<string, string>,
  ): Promise<void> {
    for (const r of roles) {
      if (r.scope === 'group' && !groupOrgs.has(r.scopeId))
        throw new ApiError('GROUP_NOT_FOUND', [r.scopeId]);
      if (r.scope === 'org' && !(await orgs.exists(db, r.scopeId)))
        throw new ApiError('ORG_NOT_FOUND', [r.scopeId]);
    }
  }

  /**
   * One event per scope whose roles changed: JOINED_ORG / JOINED_GROUP when the user had no role there
   * before, else USER_ROLES_CHANGED, carrying the org (and project) so each org's log shows it once.
   */
  async #roleEvents(
    db: Db,
    actor: Actor,
    before: readonly RoleAssignment[],
    after: readonly RoleAssignment[],
    groupOrgs: ReadonlyMap<string, string>,
    target: { targetUsername: string },
  ): Promise<void> {
    const was = scopesOf(before);
    const now = scopesOf(after);
    const sig = (rs: readonly RoleAssignment[], id: string) =>
      rs
        .filter((r) => r.scopeId === id)
        .map((r) => r.roleName)
        .sort()
        .join();
    for (const [scopeId, scope] of new Map([...was, ...now])) {
      if (sig(before, scopeId) === sig(after, scopeId)) continue;
      const joined = !was.has(scopeId);
      let type: EventType = 'USER_ROLES_CHANGED';
      if (joined && scope === 'org') type = 'JOINED_ORG';
      if (joined && scope === 'group') type = 'JOINED_GROUP';
      const where =
        scope === 'org'
          ? { orgId: scopeId }
          : scope === 'group'
            ? { orgId: groupOrgs.get(scopeId) ?? null, groupId: scopeId }
            : {};
      await recordEvent(db, this.deps.clock, actor, type, { ...where, ...target });
    }
  }
}
