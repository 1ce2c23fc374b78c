/** Organization API keys: the seed document's resource. */
import { ApiError } from '../../schema/errors.js';
import { newObjectId } from '../../schema/ids.js';
import type { RoleAssignment } from '../../schema/roles.js';
import { generateKeyPair } from '../auth/credentials.js';
import { canChangeRoles, canGrant, type Subject } from '../rbac/policy.js';
import type { Db } from '../storage/database.js';
import { type ApiKeyRecord, apiKeys, type LockedKey } from '../storage/repositories/apiKeys.js';
import { keyLifecycle } from '../storage/repositories/keyLifecycle.js';
import { orgs } from '../storage/repositories/orgs.js';
import { sortRoles } from '../storage/repositories/roles.js';
import { type EventType, recordEvent, recordEvents } from './audit.js';
import { type Actor, isoSeconds, type ServiceDeps } from './context.js';
import { recordExpiryChange, resolveExpiry } from './keyLifecycle.js';
import { bindRoles } from './roles.js';

/** A key just created: the record plus its private key, shown once. */
export interface CreatedKey {
  key: ApiKeyRecord;
  privateKey: string;
}

/** Throws USER_UNAUTHORIZED unless the actor may grant every role. */
export function assertCanGrant(
  actor: Actor,
  roles: readonly RoleAssignment[],
  groupOrgs: ReadonlyMap<string, string> = new Map(),
) {
  if (!actor.principal || !canGrant(actor.principal, roles, groupOrgs))
    throw new ApiError('USER_UNAUTHORIZED');
}

/**
 * Throws USER_UNAUTHORIZED unless the actor may change `subject`'s roles from `before` to `after` (the grant
 * rule read both ways, and nobody raises themselves: policy.ts `canChangeRoles`).
 */
export function assertCanChange(
  actor: Actor,
  subject: Subject,
  before: readonly RoleAssignment[],
  after: readonly RoleAssignment[],
  groupOrgs: ReadonlyMap<string, string> = new Map(),
) {
  if (!actor.principal || !canChangeRoles(actor.principal, subject, before, after, groupOrgs))
    throw new ApiError('USER_UNAUTHORIZED');
}

/**
 * Locks `keyId` for the transaction (apiKeys.lock) and returns it, when it is a key of the org; else
 * ORG_NOT_FOUND (no such org) or API_KEY_NOT_FOUND (no such key, or another org's, or a global key). Lock
 * first, then read: a concurrent change of this key has finished by now.
 */
export async function lockOrgKey(trx: Db, orgId: string, keyId: string): Promise<LockedKey> {
  const key = await apiKeys.lock(trx, keyId);
  // The key's org exists (a foreign key); any other answer needs the org looked up.
  if (key?.orgId === orgId) return key;
  if (!(await orgs.exists(trx, orgId))) throw new ApiError('ORG_NOT_FOUND', [orgId]);
  throw new ApiError('API_KEY_NOT_FOUND', [keyId]);
}

/** Org API key operations; callers are authorized for the org before these run. */
export class ApiKeyService {
  constructor(private readonly deps: ServiceDeps) {}

  /** The clock's now (ms), for wire objects that depend on it (`expired`). */
  now(): number {
    return this.deps.clock();
  }

  async list(orgId: string, offset: number, limit: number) {
    // One snapshot (one round trip on PostgreSQL): whether the org exists, the page and the total.
    const page = await apiKeys.pageOfOrg(this.deps.db, orgId, offset, limit);
    if (!page.orgExists) throw new ApiError('ORG_NOT_FOUND', [orgId]);
    return { items: page.items, totalCount: page.totalCount };
  }

  /** One page of an org's keys whose description or public key contains `term` (the console's search). */
  async search(orgId: string, term: string, offset: number, limit: number) {
    const page = await apiKeys.searchOrg(this.deps.db, orgId, term, offset, limit);
    if (!page.orgExists) throw new ApiError('ORG_NOT_FOUND', [orgId]);
    return { items: page.items, totalCount: page.totalCount };
  }

  async get(orgId: string, keyId: string): Promise<ApiKeyRecord> {
    await this.#requireOrg(this.deps.db, orgId);
    return this.#requireKey(this.deps.db, orgId, keyId);
  }

  /**
   * Creates a key in the org holding `roles` (org roles, or project roles of the org's projects;
   * `groupOrgs` maps each such project to the org, for the grant rule). `expiresAt`: see resolveExpiry.
   */
  async create(
    actor: Actor,
    orgId: string,
    desc: string,
    roles: readonly RoleAssignment[],
    groupOrgs: ReadonlyMap<string, string> = new Map(),
    expiresAt?: string | null,
  ): Promise<CreatedKey> {
    assertCanGrant(actor, roles, groupOrgs);
    const now = this.deps.clock();
    const material = generateKeyPair();
    const record: ApiKeyRecord = {
      id: newObjectId(now),
      orgId,
      publicKey: material.publicKey,
      desc,
      keyTail: material.keyTail,
      created: isoSeconds(now),
      expiresAt: null,
      roles: [...roles],
    };
    await this.deps.db.transaction().execute(async (trx) => {
      await this.#requireOrg(trx, orgId);
      record.expiresAt = (await resolveExpiry(trx, orgId, expiresAt, now, true)) ?? null;
      await apiKeys.insert(trx, { ...record, ...material }, roles);
      await recordExpiryChange(trx, this.deps, actor, record, null, record.expiresAt);
      const subject = { orgId, apiKeyId: record.id, targetPublicKey: record.publicKey };
      const groups = new Set(roles.filter((r) => r.scope === 'group').map((r) => r.scopeId));
      await recordEvents(trx, this.deps.clock, actor, [
        ['API_KEY_CREATED', subject],
        ...[...groups].map((groupId) => ['API_KEY_ADDED_TO_GROUP', { ...subject, groupId }] as const),
      ]);
    });
    // What a read of the new key would answer: its roles in their stored order.
    return { key: { ...record, roles: sortRoles(record.roles) }, privateKey: material.privateKey };
  }

  /**
   * Changes the description and/or replaces the key's org roles (project roles stay) and/or sets or (null)
   * clears its expiry.
   */
  async update(
    actor: Actor,
    orgId: string,
    keyId: string,
    desc?: string,
    roleNames?: readonly string[],
    expiresAt?: string | null,
  ) {
    const roles = roleNames && bindRoles(roleNames, 'org', orgId);
    if (roles) assertCanGrant(actor, roles);
    return this.deps.db.transaction().execute(async (trx) => {
      const key = await lockOrgKey(trx, orgId, keyId);
      // The route admits ORG_OWNER of the org and global admins, who grant every org role; what is left
      // to refuse is a key adding org roles to itself.
      if (roles) {
        const before = (await apiKeys.roles(trx, keyId)).filter((r) => r.scopeId === orgId);
        assertCanChange(actor, { kind: 'apiKey', id: keyId }, before, roles);
      }
      const expiry = await resolveExpiry(trx, orgId, expiresAt, this.deps.clock(), false);
      if (expiry !== undefined && expiry !== key.expiresAt) {
        await keyLifecycle.setExpiry(trx, keyId, expiry);
        await recordExpiryChange(trx, this.deps, actor, key, key.expiresAt, expiry);
      }
      const subject = { orgId, apiKeyId: keyId, targetPublicKey: key.publicKey };
      const changes: [EventType, typeof subject][] = [];
      if (desc !== undefined && desc !== key.desc) {
        await apiKeys.updateDesc(trx, keyId, desc);
        changes.push(['API_KEY_DESCRIPTION_CHANGED', subject]);
      }
      if (roles) {
        await apiKeys.replaceRoles(trx, keyId, orgId, roles);
        changes.push(['API_KEY_ROLES_CHANGED', subject]);
      }
      await recordEvents(trx, this.deps.clock, actor, changes);
      return (await apiKeys.findById(trx, keyId)) as ApiKeyRecord;
    });
  }

  /**
   * Deletes the key: it loses every role and access-list entry and is refused at once. No grant check: the
   * route admits only the org's ORG_OWNER and global admins, and an org key holds roles of its org and the
   * org's projects only, all of which they can grant.
   */
  async delete(actor: Actor, orgId: string, keyId: string): Promise<void> {
    await this.deps.db.transaction().execute(async (trx) => {
      const key = await lockOrgKey(trx, orgId, keyId);
      await apiKeys.delete(trx, keyId);
      await recordEvent(trx, this.deps.clock, actor, 'API_KEY_DELETED', {
        orgId,
        apiKeyId: keyId,
        targetPublicKey: key.publicKey,
      });
    });
  }

  async #requireOrg(db: Db, orgId: string): Promise<void> {
    if (!(await orgs.exists(db, orgId))) throw new ApiError('ORG_NOT_FOUND', [orgId]);
  }

  async #requireKey(db: Db, orgId: string, keyId: string): Promise<ApiKeyRecord> {
    const key = await apiKeys.findById(db, keyId);
    if (!key || key.orgId !== orgId) throw new ApiError('API_KEY_NOT_FOUND', [keyId]);
    return key;
  }
}
