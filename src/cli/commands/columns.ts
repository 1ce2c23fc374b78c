/** Table columns of the wire entities, shared by the client commands. */
import type {
  AccessListEntry,
  ApiKey,
  Event,
  GlobalAccessListEntry,
  Org,
  Project,
  Role,
} from '../../schema/responses.js';
import type { Column } from '../output.js';

const roleNames = (roles: readonly Role[]) => roles.map((r) => r.roleName).join(',');

/** Org, project and global keys. */
export const API_KEY_COLUMNS: Column<ApiKey>[] = [
  { header: 'id', value: (k) => k.id },
  { header: 'public key', value: (k) => k.publicKey },
  { header: 'private key', value: (k) => k.privateKey },
  { header: 'description', value: (k) => k.desc },
  { header: 'roles', value: (k) => roleNames(k.roles) },
];

/** Organizations. */
export const ORG_COLUMNS: Column<Org>[] = [
  { header: 'id', value: (o) => o.id },
  { header: 'name', value: (o) => o.name },
];

/** Projects. */
export const PROJECT_COLUMNS: Column<Project>[] = [
  { header: 'id', value: (p) => p.id },
  { header: 'name', value: (p) => p.name },
  { header: 'org id', value: (p) => p.orgId },
];

/** Key access-list entries. */
export const ACCESS_LIST_COLUMNS: Column<AccessListEntry>[] = [
  { header: 'cidr block', value: (e) => e.cidrBlock },
  { header: 'ip address', value: (e) => e.ipAddress },
  { header: 'created', value: (e) => e.created },
  { header: 'count', value: (e) => e.count },
  { header: 'last used', value: (e) => e.lastUsed },
  { header: 'last used address', value: (e) => e.lastUsedAddress },
];

/** Global access-list entries. */
export const GLOBAL_ACCESS_LIST_COLUMNS: Column<GlobalAccessListEntry>[] = [
  { header: 'id', value: (e) => e.id },
  { header: 'cidr block', value: (e) => e.cidrBlock },
  { header: 'description', value: (e) => e.description },
  { header: 'created', value: (e) => e.created },
  { header: 'last used', value: (e) => e.lastUsed },
];

/** Audit events. */
export const EVENT_COLUMNS: Column<Event>[] = [
  { header: 'id', value: (e) => e.id },
  { header: 'created', value: (e) => e.created },
  { header: 'type', value: (e) => e.eventTypeName },
  { header: 'actor', value: (e) => e.publicKey ?? e.username },
  { header: 'remote address', value: (e) => e.remoteAddress },
  { header: 'target', value: (e) => e.targetPublicKey ?? e.targetUsername ?? e.whitelistEntry },
];
