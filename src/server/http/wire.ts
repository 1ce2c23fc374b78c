/**
 * Domain → wire mappers. Every object is built with its fields in alphabetical order, which is the order
 * Ops Manager prints (api.md §1); a test walks every response to hold this.
 */
import { redactPrivateKey } from '../../schema/ids.js';
import type { RoleAssignment } from '../../schema/roles.js';
import type { ApiKeyRecord } from '../storage/repositories/apiKeys.js';
import type { OrgRecord } from '../storage/repositories/orgs.js';
import type { UserRecord } from '../storage/repositories/users.js';
import type { Link } from './pagination.js';

/** The public API's base path. */
export const API_BASE = '/api/public/v1.0';

/** A `self` link list. */
export function selfLink(href: string): Link[] {
  return [{ href, rel: 'self' }];
}

/** Role → `{orgId|groupId, roleName}` (global roles: `{roleName}` only). */
export function roleToWire(r: RoleAssignment) {
  if (r.scope === 'org') return { orgId: r.scopeId, roleName: r.roleName };
  if (r.scope === 'group') return { groupId: r.scopeId, roleName: r.roleName };
  return { roleName: r.roleName };
}

/** An API key. `privateKey` in full only in the response that creates it. Global keys link via `orgs/null`. */
export function apiKeyToWire(origin: string, k: ApiKeyRecord, privateKey?: string) {
  return {
    desc: k.desc,
    id: k.id,
    links: selfLink(`${origin}${API_BASE}/orgs/${k.orgId ?? 'null'}/apiKeys/${k.id}`),
    privateKey: privateKey ?? redactPrivateKey(k.keyTail),
    publicKey: k.publicKey,
    roles: k.roles.map(roleToWire),
  };
}

/** An organization. */
export function orgToWire(origin: string, o: OrgRecord) {
  return { id: o.id, isDeleted: false, links: selfLink(`${origin}${API_BASE}/orgs/${o.id}`), name: o.name };
}

/** A user; the password is never part of it. */
export function userToWire(origin: string, u: UserRecord) {
  return {
    ...(u.country !== null ? { country: u.country } : {}),
    ...(u.emailAddress !== null ? { emailAddress: u.emailAddress } : {}),
    firstName: u.firstName,
    id: u.id,
    lastName: u.lastName,
    links: selfLink(`${origin}${API_BASE}/users/${u.id}`),
    ...(u.mobileNumber !== null ? { mobileNumber: u.mobileNumber } : {}),
    roles: u.roles.map(roleToWire),
    username: u.username,
  };
}
