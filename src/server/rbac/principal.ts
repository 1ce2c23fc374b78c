/** Who is calling: an authenticated programmatic key or a user (personal API key), with its roles. */
import type { GlobalRole, GroupRole, OrgRole, RoleAssignment } from '../../schema/roles.js';

/** The authenticated caller of a request. */
export interface Principal {
  readonly kind: 'apiKey' | 'user';
  /** The key's or user's id. */
  readonly id: string;
  /** The digest username: public key or username. */
  readonly name: string;
  /** The org a programmatic key belongs to; null for global keys and users. */
  readonly orgId: string | null;
  readonly roles: readonly RoleAssignment[];
  readonly global: ReadonlySet<GlobalRole>;
  readonly org: ReadonlyMap<string, ReadonlySet<OrgRole>>;
  readonly group: ReadonlyMap<string, ReadonlySet<GroupRole>>;
}

/** Builds a principal, indexing its roles by scope. */
export function makePrincipal(
  kind: Principal['kind'],
  id: string,
  name: string,
  orgId: string | null,
  roles: readonly RoleAssignment[],
): Principal {
  const global = new Set<GlobalRole>();
  const org = new Map<string, Set<OrgRole>>();
  const group = new Map<string, Set<GroupRole>>();
  for (const r of roles) {
    if (r.scope === 'global') global.add(r.roleName as GlobalRole);
    else if (r.scope === 'org') {
      const set = org.get(r.scopeId) ?? new Set<OrgRole>();
      set.add(r.roleName as OrgRole);
      org.set(r.scopeId, set);
    } else {
      const set = group.get(r.scopeId) ?? new Set<GroupRole>();
      set.add(r.roleName as GroupRole);
      group.set(r.scopeId, set);
    }
  }
  return { kind, id, name, orgId, roles, global, org, group };
}
