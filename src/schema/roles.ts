/** Role catalogs of Ops Manager: organization, project (group) and global roles. */

export const ORG_ROLES = ['ORG_OWNER', 'ORG_MEMBER', 'ORG_GROUP_CREATOR', 'ORG_READ_ONLY'] as const;
export const GROUP_ROLES = [
  'GROUP_AUTOMATION_ADMIN',
  'GROUP_BACKUP_ADMIN',
  'GROUP_DATA_ACCESS_ADMIN',
  'GROUP_DATA_ACCESS_READ_ONLY',
  'GROUP_DATA_ACCESS_READ_WRITE',
  'GROUP_MONITORING_ADMIN',
  'GROUP_OWNER',
  'GROUP_READ_ONLY',
  'GROUP_USER_ADMIN',
] as const;
export const GLOBAL_ROLES = [
  'GLOBAL_AUTOMATION_ADMIN',
  'GLOBAL_BACKUP_ADMIN',
  'GLOBAL_BILLING_ADMIN',
  'GLOBAL_MONITORING_ADMIN',
  'GLOBAL_OWNER',
  'GLOBAL_READ_ONLY',
  'GLOBAL_USER_ADMIN',
] as const;

export type OrgRole = (typeof ORG_ROLES)[number];
export type GroupRole = (typeof GROUP_ROLES)[number];
export type GlobalRole = (typeof GLOBAL_ROLES)[number];
export type RoleName = OrgRole | GroupRole | GlobalRole;

/** Which scope a role belongs to. */
export type RoleScope = 'org' | 'group' | 'global';

const SCOPE = new Map<string, RoleScope>([
  ...ORG_ROLES.map((r) => [r, 'org'] as const),
  ...GROUP_ROLES.map((r) => [r, 'group'] as const),
  ...GLOBAL_ROLES.map((r) => [r, 'global'] as const),
]);

/** The scope of a role name, or undefined for an unknown name. */
export function roleScope(name: string): RoleScope | undefined {
  return SCOPE.get(name);
}

/**
 * A role held by a key or user. `scopeId` is the org id, project id, or '' for global roles.
 */
export interface RoleAssignment {
  readonly scope: RoleScope;
  readonly scopeId: string;
  readonly roleName: RoleName;
}
