/**
 * Authorization as data (api.md §6): every action maps to a rule over the caller and the target.
 * Routes declare an action; one hook asks `allowed`. Denial is always 401 USER_UNAUTHORIZED.
 */
import type { GlobalRole, GroupRole, OrgRole, RoleAssignment } from '../../schema/roles.js';
import type { Principal } from './principal.js';

/** What a request acts on, as far as it is known (unknown entities simply have no memberships). */
export interface Target {
  orgId?: string | undefined;
  groupId?: string | undefined;
  /** The API key a path names (for a key's own access list). */
  keyId?: string | undefined;
  /** The user a path names. */
  userId?: string | undefined;
}

type Rule = (p: Principal, t: Target) => boolean;

const anyGlobal: Rule = (p) => p.global.size > 0;
const globalOwner: Rule = (p) => p.global.has('GLOBAL_OWNER');
const globalAdmin: Rule = (p) => p.global.has('GLOBAL_OWNER') || p.global.has('GLOBAL_USER_ADMIN');

function inOrg(p: Principal, orgId: string | undefined, ...roles: OrgRole[]): boolean {
  if (!orgId) return false;
  const held = p.org.get(orgId);
  if (!held) return false;
  return roles.length === 0 ? held.size > 0 : roles.some((r) => held.has(r));
}

function inGroup(p: Principal, groupId: string | undefined, ...roles: GroupRole[]): boolean {
  if (!groupId) return false;
  const held = p.group.get(groupId);
  if (!held) return false;
  return roles.length === 0 ? held.size > 0 : roles.some((r) => held.has(r));
}

const readOrg: Rule = (p, t) => anyGlobal(p, t) || inOrg(p, t.orgId);
const readProject: Rule = (p, t) =>
  anyGlobal(p, t) || inGroup(p, t.groupId) || inOrg(p, t.orgId, 'ORG_OWNER', 'ORG_READ_ONLY');
const isSelfKey: Rule = (p, t) => p.kind === 'apiKey' && t.keyId !== undefined && p.id === t.keyId;

/** The policy table: action → rule. */
export const POLICY = {
  /** Any authenticated caller (root, listing what one can see). */
  authenticated: () => true,
  'orgs.create': globalAdmin,
  'org.read': readOrg,
  'org.update': globalAdmin,
  'org.delete': globalAdmin,
  'orgKeys.read': readOrg,
  'orgKeys.write': (p, t) => globalAdmin(p, t) || inOrg(p, t.orgId, 'ORG_OWNER'),
  /** Passes members of the org and the key itself; the service then answers 400 for other members. */
  'accessList.read': (p, t) => readOrg(p, t) || isSelfKey(p, t),
  'accessList.write': (p, t) => globalAdmin(p, t) || inOrg(p, t.orgId) || isSelfKey(p, t),
  'project.create': (p, t) => globalOwner(p, t) || inOrg(p, t.orgId, 'ORG_OWNER', 'ORG_GROUP_CREATOR'),
  'project.read': readProject,
  'project.delete': (p, t) =>
    globalOwner(p, t) || inOrg(p, t.orgId, 'ORG_OWNER') || inGroup(p, t.groupId, 'GROUP_OWNER'),
  'projectKeys.read': readProject,
  'projectKeys.write': (p, t) =>
    globalAdmin(p, t) ||
    inOrg(p, t.orgId, 'ORG_OWNER') ||
    inGroup(p, t.groupId, 'GROUP_OWNER', 'GROUP_USER_ADMIN'),
  'globalKeys.read': anyGlobal,
  'globalKeys.write': globalAdmin,
  'globalAccessList.read': anyGlobal,
  'globalAccessList.write': globalAdmin,
  'users.create': globalAdmin,
  'user.read': (p, t) => anyGlobal(p, t) || (p.kind === 'user' && p.id === t.userId),
  'user.update': (p, t) => globalAdmin(p, t) || (p.kind === 'user' && p.id === t.userId),
  'user.delete': globalAdmin,
  'orgUsers.read': readOrg,
  'orgEvents.read': readOrg,
  /** An org's default rate limit and its keys' own (pakman extension). */
  'rateLimits.read': readOrg,
  'rateLimits.write': (p, t) => globalAdmin(p, t) || inOrg(p, t.orgId, 'ORG_OWNER'),
  'projectEvents.read': readProject,
} as const satisfies Record<string, Rule>;

/** Every action a route can declare. */
export type Action = keyof typeof POLICY;

/** Whether the caller may perform the action on the target. */
export function allowed(action: Action, p: Principal, t: Target = {}): boolean {
  return (POLICY[action] as Rule)(p, t);
}

/** Whether the caller holds an org-owner or global-admin grip on the org (manages any key there). */
export function managesOrg(p: Principal, orgId: string): boolean {
  return globalAdmin(p, {}) || inOrg(p, orgId, 'ORG_OWNER');
}

/**
 * The grant rule as data: for a role of each scope, the roles of that scope that grant it (`default` for the
 * roles not named). Scopes above grant everything below: a global admin (GLOBAL_OWNER, GLOBAL_USER_ADMIN)
 * every org and project role, an ORG_OWNER every role of its org and of the org's projects. So nobody grants
 * a role above their own: GLOBAL_OWNER only by GLOBAL_OWNER, GROUP_OWNER not by GROUP_USER_ADMIN.
 */
export const GRANTED_BY = {
  global: { GLOBAL_OWNER: ['GLOBAL_OWNER'], default: ['GLOBAL_OWNER', 'GLOBAL_USER_ADMIN'] },
  org: { default: ['ORG_OWNER'] },
  group: { GROUP_OWNER: ['GROUP_OWNER'], default: ['GROUP_OWNER', 'GROUP_USER_ADMIN'] },
} as const satisfies Record<
  RoleAssignment['scope'],
  { default: readonly string[] } & Record<string, readonly string[]>
>;

function granters(r: RoleAssignment): readonly string[] {
  const table: Record<string, readonly string[]> = GRANTED_BY[r.scope];
  return table[r.roleName] ?? GRANTED_BY[r.scope].default;
}

/** Whether the caller may grant (and so also remove) one role. */
function grants(p: Principal, r: RoleAssignment, groupOrgs: ReadonlyMap<string, string>): boolean {
  const by = granters(r);
  if (r.scope === 'global') return by.some((g) => p.global.has(g as GlobalRole));
  if (globalAdmin(p, {})) return true;
  if (r.scope === 'org') return inOrg(p, r.scopeId, ...(by as readonly OrgRole[]));
  return (
    inOrg(p, groupOrgs.get(r.scopeId), 'ORG_OWNER') || inGroup(p, r.scopeId, ...(by as readonly GroupRole[]))
  );
}

/**
 * The grant rule: nobody grants a role beyond their own reach (GRANTED_BY). `groupOrgs` maps each project id
 * named in `roles` to its org id.
 */
export function canGrant(
  p: Principal,
  roles: readonly RoleAssignment[],
  groupOrgs: ReadonlyMap<string, string>,
): boolean {
  return roles.every((r) => grants(p, r, groupOrgs));
}

/** A key or user whose roles a request changes. */
export interface Subject {
  kind: Principal['kind'];
  id: string;
}

const roleKey = (r: RoleAssignment) => `${r.scope}/${r.scopeId}/${r.roleName}`;

/**
 * The owner role of each scope: it holds every power of every role of its scope and of the scopes below
 * (policy.test.ts checks this against the table), so holding it, one gains nothing from a role below it.
 */
export const OWNER_OF_SCOPE = { global: 'GLOBAL_OWNER', org: 'ORG_OWNER', group: 'GROUP_OWNER' } as const;

/** Whether the caller holds an owner role over `r` (GLOBAL_OWNER; ORG_OWNER of its org; GROUP_OWNER). */
function ownsAbove(p: Principal, r: RoleAssignment, groupOrgs: ReadonlyMap<string, string>): boolean {
  if (p.global.has(OWNER_OF_SCOPE.global)) return true;
  if (r.scope === 'org') return inOrg(p, r.scopeId, OWNER_OF_SCOPE.org);
  if (r.scope === 'group')
    return (
      inOrg(p, groupOrgs.get(r.scopeId), OWNER_OF_SCOPE.org) || inGroup(p, r.scopeId, OWNER_OF_SCOPE.group)
    );
  return false;
}

/**
 * The grant rule read both ways, for a change of `subject`'s roles from `before` to `after` (its roles in
 * the scopes the change replaces; equal for a change of anything else about it, or its removal). Another
 * subject: the caller must be able to grant every role it holds there before and after, so nobody changes,
 * strips or deletes a holder of a role they could not grant. The caller itself: it may shed any of its
 * roles, and may add only roles below an owner role it holds (OWNER_OF_SCOPE), which give it no power it
 * lacks: nobody raises themselves. So a GROUP_OWNER may step down to GROUP_READ_ONLY, a GROUP_USER_ADMIN
 * (who grants roles whose powers it does not hold) may add nothing to itself.
 */
export function canChangeRoles(
  p: Principal,
  subject: Subject,
  before: readonly RoleAssignment[],
  after: readonly RoleAssignment[],
  groupOrgs: ReadonlyMap<string, string>,
): boolean {
  if (p.kind === subject.kind && p.id === subject.id) {
    const had = new Set(before.map(roleKey));
    return after.every((r) => had.has(roleKey(r)) || ownsAbove(p, r, groupOrgs));
  }
  return canGrant(p, before, groupOrgs) && canGrant(p, after, groupOrgs);
}
