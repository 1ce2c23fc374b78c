/**
 * Domain → wire mappers. Every object is built with its fields in alphabetical order, which is the order
 * Ops Manager prints (api.md §1); a test walks every response to hold this.
 */
import { redactPrivateKey } from '../../schema/ids.js';
import type { RoleAssignment } from '../../schema/roles.js';
import type { AccessListEntryRecord } from '../storage/repositories/accessLists.js';
import type { ApiKeyRecord } from '../storage/repositories/apiKeys.js';
import type { EventRow } from '../storage/repositories/events.js';
import type { GlobalAccessEntryRecord } from '../storage/repositories/globalAccessList.js';
import type { OrgRecord } from '../storage/repositories/orgs.js';
import type { ProjectRecord } from '../storage/repositories/projects.js';
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

/**
 * An API key. `privateKey` in full only in the response that creates (or rotates) it. Global keys link via
 * `orgs/null`. `expiresAt` (and `expired: true` once `now` has reached it) only on keys given an expiry, so
 * keys without one print exactly as in Ops Manager.
 */
export function apiKeyToWire(origin: string, k: ApiKeyRecord, privateKey?: string, now = Date.now()) {
  return {
    desc: k.desc,
    ...(k.expiresAt !== null ? expiryFields(k.expiresAt, now) : {}),
    id: k.id,
    links: selfLink(`${origin}${API_BASE}/orgs/${k.orgId ?? 'null'}/apiKeys/${k.id}`),
    privateKey: privateKey ?? redactPrivateKey(k.keyTail),
    publicKey: k.publicKey,
    roles: k.roles.map(roleToWire),
  };
}

/** `expired` (only when true) and `expiresAt`, in that (alphabetical) order. */
function expiryFields(expiresAt: string, now: number): { expired?: true; expiresAt: string } {
  return Date.parse(expiresAt) <= now ? { expired: true, expiresAt } : { expiresAt };
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

/** The path segment naming an access-list entry: the bare IP for a single address, else the block with `%2F`. */
export function accessListEntryPath(cidrBlock: string): string {
  const [ip, bits] = cidrBlock.split('/');
  const single = ip!.includes(':') ? bits === '128' : bits === '32';
  return single ? ip! : `${ip}%2F${bits}`;
}

/**
 * A key's access-list entry. `listUrl` is the absolute URL of the list as it was called (`accessList` or the
 * legacy `whitelist`); `keyHref`, given on a single GET, adds the parent key link.
 */
export function accessListEntryToWire(listUrl: string, e: AccessListEntryRecord, keyHref?: string) {
  const links: Link[] = [{ href: `${listUrl}/${accessListEntryPath(e.cidrBlock)}`, rel: 'self' }];
  if (keyHref) links.push({ href: keyHref, rel: 'http://mms.mongodb.com/apiKeys' });
  return {
    cidrBlock: e.cidrBlock,
    count: e.count,
    created: e.created,
    ipAddress: e.ipAddress,
    ...(e.lastUsed !== null ? { lastUsed: e.lastUsed } : {}),
    ...(e.lastUsedAddress !== null ? { lastUsedAddress: e.lastUsedAddress } : {}),
    links,
  };
}

/** A global access-list entry; `listUrl` is the list as called (`accessList` or the legacy `whitelist`). */
export function globalAccessEntryToWire(listUrl: string, e: GlobalAccessEntryRecord) {
  return {
    cidrBlock: e.cidrBlock,
    created: e.created,
    description: e.description,
    expires: null,
    id: e.id,
    lastUsed: e.lastUsed,
    links: selfLink(`${listUrl}/${e.id}`),
    type: 'GLOBAL_ROLE',
    updated: e.updated,
  };
}

/**
 * A project with Ops Manager's monitoring fields at their empty values (pakman manages no hosts or
 * agents); `agentApiKey`, `lastActiveAgent` and `ldapGroupMappings` are left out.
 */
export function projectToWire(origin: string, p: ProjectRecord) {
  return {
    activeAgentCount: 0,
    hostCounts: { arbiter: 0, config: 0, master: 0, mongos: 0, primary: 0, secondary: 0, slave: 0 },
    id: p.id,
    links: selfLink(`${origin}${API_BASE}/groups/${p.id}`),
    name: p.name,
    orgId: p.orgId,
    publicApiEnabled: true,
    replicaSetCount: 0,
    shardCount: 0,
    tags: [],
  };
}

/**
 * An audit event; fields that do not apply are left out. `publicKey`/`username`/`userId` name the actor,
 * `apiKeyId`/`targetPublicKey`/`targetUsername` what was acted on. `href` is its self link.
 */
export function eventToWire(href: string, e: EventRow) {
  const opt = <K extends string>(k: K, v: string | null) => (v ? ({ [k]: v } as Record<K, string>) : {});
  return {
    ...opt('apiKeyId', e.api_key_id),
    created: e.created,
    eventTypeName: e.event_type,
    ...opt('expiresAt', e.expires_at),
    ...opt('graceEndsAt', e.grace_ends_at),
    ...opt('groupId', e.group_id),
    id: e.id,
    isGlobalAdmin: e.is_global_admin === 1,
    links: selfLink(href),
    ...opt('orgId', e.org_id),
    ...opt('publicKey', e.actor_public_key),
    ...opt('remoteAddress', e.remote_address),
    ...opt('targetPublicKey', e.target_public_key),
    ...opt('targetUsername', e.target_username),
    ...opt('userId', e.actor_user_id),
    ...opt('username', e.actor_username),
    ...opt('whitelistEntry', e.whitelist_entry),
  };
}
