/** Turning role names from a request into role assignments of the right scope. */
import { ApiError } from '../../schema/errors.js';
import { type RoleAssignment, type RoleName, type RoleScope, roleScope } from '../../schema/roles.js';

/**
 * Checks that every name is a role of `scope` and binds it to `scopeId`. Unknown names are
 * INVALID_ENUM_VALUE; a project role where org roles fit is ROLE_NEEDS_GROUP_ID, an org role where
 * project roles fit ROLE_NEEDS_ORG_ID, and a global role on an org or project key CANNOT_ADD_GLOBAL_ROLE.
 */
export function bindRoles(names: readonly string[], scope: RoleScope, scopeId: string): RoleAssignment[] {
  const out: RoleAssignment[] = [];
  const seen = new Set<string>();
  for (const name of names) {
    const actual = roleScope(name);
    if (!actual) throw new ApiError('INVALID_ENUM_VALUE', [name]);
    if (actual !== scope) {
      if (actual === 'group') throw new ApiError('ROLE_NEEDS_GROUP_ID', [name]);
      if (actual === 'org') throw new ApiError('ROLE_NEEDS_ORG_ID', [name]);
      throw new ApiError('CANNOT_ADD_GLOBAL_ROLE');
    }
    if (seen.has(name)) continue;
    seen.add(name);
    out.push({ scope, scopeId, roleName: name as RoleName });
  }
  return out;
}
