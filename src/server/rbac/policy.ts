/**
 * Authorization as data (api.md §6): every action maps to a rule over the caller and the target.
 * Routes declare an action; one hook asks `allowed`. Denial is always 401 USER_UNAUTHORIZED.
 */
import type { GroupRole, OrgRole, RoleAssignment } from '../../schema/roles.js';
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
 * The grant rule: nobody grants a role beyond their own reach. `groupOrgs` maps each project id named in
 * `roles` to its org id.
 */
export function canGrant(
  p: Principal,
  roles: readonly RoleAssignment[],
  groupOrgs: ReadonlyMap<string, string>,
): boolean {
  return roles.every((r) => {
    if (r.scope === 'global') return r.roleName === 'GLOBAL_OWNER' ? globalOwner(p, {}) : globalAdmin(p, {});
    if (globalAdmin(p, {})) return true;
    if (r.scope === 'org') return inOrg(p, r.scopeId, 'ORG_OWNER');
    return (
      inOrg(p, groupOrgs.get(r.scopeId), 'ORG_OWNER') ||
      inGroup(p, r.scopeId, 'GROUP_OWNER', 'GROUP_USER_ADMIN')
    );
  });
}
