/** Shared mapping of role rows (api_key_roles, user_roles) to role assignments. */
import type { RoleAssignment, RoleName, RoleScope } from '../../../schema/roles.js';
import type { RoleRow } from '../database.js';

/** Row → role assignment. */
export function toRole(row: RoleRow): RoleAssignment {
  return { scope: row.scope as RoleScope, scopeId: row.scope_id, roleName: row.role_name as RoleName };
}

/** Role assignment → row columns. */
export function roleColumns(role: RoleAssignment): RoleRow {
  return { scope: role.scope, scope_id: role.scopeId, role_name: role.roleName };
}

/** Wire order of roles: org roles first, then project roles, each by scope id then name. */
export function sortRoles(roles: RoleAssignment[]): RoleAssignment[] {
  const rank = { global: 0, org: 1, group: 2 } as const;
  return roles.sort(
    (a, b) =>
      rank[a.scope] - rank[b.scope] ||
      (a.scopeId < b.scopeId ? -1 : a.scopeId > b.scopeId ? 1 : 0) ||
      (a.roleName < b.roleName ? -1 : a.roleName > b.roleName ? 1 : 0),
  );
}
