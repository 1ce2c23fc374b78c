/** Organization API keys: the seed document's resource. */
import { ApiError } from '../../schema/errors.js';
import { newObjectId } from '../../schema/ids.js';
import type { RoleAssignment } from '../../schema/roles.js';
import { generateKeyPair } from '../auth/credentials.js';
import { canGrant } from '../rbac/policy.js';
import type { Db } from '../storage/database.js';
import { type ApiKeyRecord, apiKeys } from '../storage/repositories/apiKeys.js';
import { orgs } from '../storage/repositories/orgs.js';
import { recordEvent } from './audit.js';
import { type Actor, isoSeconds, type ServiceDeps } from './context.js';
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

/** Org API key operations; callers are authorized for the org before these run. */
export class ApiKeyService {
  constructor(private readonly deps: ServiceDeps) {}

  async list(orgId: string, offset: number, limit: number) {
    // One snapshot (one round trip on PostgreSQL): whether the org exists, the page and the total.
    const page = await apiKeys.pageOfOrg(this.deps.db, orgId, offset, limit);
    if (!page.orgExists) throw new ApiError('ORG_NOT_FOUND', [orgId]);
    return { items: page.items, totalCount: page.totalCount };
  }

  async get(orgId: string, keyId: string): Promise<ApiKeyRecord> {
    await this.#requireOrg(this.deps.db, orgId);
    return this.#requireKey(this.deps.db, orgId, keyId);
  }

  /**
   * Creates a key in the org holding `roles` (org roles, or project roles of the org's projects;
   * `groupOrgs` maps each such project to the org, for the grant rule).
   */
  async create(
    actor: Actor,
    orgId: string,
    desc: string,
    roles: readonly RoleAssignment[],
    groupOrgs: ReadonlyMap<string, string> = new Map(),
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
      roles: [...roles],
    };
    await this.deps.db.transaction().execute(async (trx) => {
      await this.#requireOrg(trx, orgId);
      await apiKeys.insert(trx, { ...record, ...material }, roles);
      await recordEvent(trx, this.deps.clock, actor, 'API_KEY_CREATED', {
        orgId,
        apiKeyId: record.id,
        targetPublicKey: record.publicKey,
      });
      for (const groupId of new Set(roles.filter((r) => r.scope === 'group').map((r) => r.scopeId))) {
        await recordEvent(trx, this.deps.clock, actor, 'API_KEY_ADDED_TO_GROUP', {
          orgId,
          groupId,
          apiKeyId: record.id,
          targetPublicKey: record.publicKey,
        });
      }
    });
    return {
      key: (await apiKeys.findById(this.deps.db, record.id)) ?? record,
      privateKey: material.privateKey,
    };
  }

  /** Changes the description and/or replaces the key's org roles (project roles stay). */
  async update(actor: Actor, orgId: string, keyId: string, desc?: string, roleNames?: readonly string[]) {
    const roles = roleNames && bindRoles(roleNames, 'org', orgId);
    if (roles) assertCanGrant(actor, roles);
    return this.deps.db.transaction().execute(async (trx) => {
      // Lock first, then read: a concurrent delete or update of this key has finished by now (see lock()).
      await apiKeys.lock(trx, keyId);
      await this.#requireOrg(trx, orgId);
      const key = await this.#requireKey(trx, orgId, keyId);
      const subject = { orgId, apiKeyId: keyId, targetPublicKey: key.publicKey };
      if (desc !== undefined && desc !== key.desc) {
        await apiKeys.updateDesc(trx, keyId, desc);
        await recordEvent(trx, this.deps.clock, actor, 'API_KEY_DESCRIPTION_CHANGED', subject);
      }
      if (roles) {
        await apiKeys.replaceRoles(trx, keyId, orgId, roles);
        await recordEvent(trx, this.deps.clock, actor, 'API_KEY_ROLES_CHANGED', subject);
      }
      return (await apiKeys.findById(trx, keyId)) as ApiKeyRecord;
    });
  }

  /** Deletes the key: it loses every role and access-list entry and is refused at once. */
  async delete(actor: Actor, orgId: string, keyId: string): Promise<void> {
    await this.deps.db.transaction().execute(async (trx) => {
      await apiKeys.lock(trx, keyId);
      await this.#requireOrg(trx, orgId);
      const key = await this.#requireKey(trx, orgId, keyId);
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
