/**
 * Org API keys seen from a project: create a key holding only project roles, assign a key of the same org,
 * change or remove its roles in the project. The key always belongs to the project's org.
 */
import { ApiError } from '../../schema/errors.js';
import type { RoleAssignment } from '../../schema/roles.js';
import type { Db } from '../storage/database.js';
import { type ApiKeyRecord, apiKeys } from '../storage/repositories/apiKeys.js';
import { ApiKeyService, assertCanChange, type CreatedKey } from './apiKeys.js';
import { recordEvent } from './audit.js';
import type { Actor, ServiceDeps } from './context.js';
import { requireProject } from './projects.js';
import { bindRoles } from './roles.js';

/** Same-scope role sets compare equal regardless of order. */
function sameRoles(a: readonly RoleAssignment[], b: readonly RoleAssignment[]): boolean {
  const names = (rs: readonly RoleAssignment[]) =>
    rs
      .map((r) => r.roleName)
      .sort()
      .join(',');
  return names(a) === names(b);
}

/** Project API key operations; the pipeline has authorized the caller for the project. */
export class ProjectKeyService {
  readonly #keys: ApiKeyService;

  constructor(private readonly deps: ServiceDeps) {
    this.#keys = new ApiKeyService(deps);
  }

  /** A page of the keys holding any role in the project, each with all of its roles. */
  async list(groupId: string, offset: number, limit: number) {
    await requireProject(this.deps.db, groupId);
    const [items, totalCount] = await Promise.all([
      apiKeys.listByGroup(this.deps.db, groupId, offset, limit),
      apiKeys.countByGroup(this.deps.db, groupId),
    ]);
    return { items, totalCount };
  }

  /** The clock's now (ms), for wire objects that depend on it. */
  now(): number {
    return this.deps.clock();
  }

  /** Creates a key in the project's org holding only `roleNames` in this project (and no org role). */
  async create(
    actor: Actor,
    groupId: string,
    desc: string,
    roleNames: readonly string[],
    expiresAt?: string | null,
  ): Promise<CreatedKey> {
    const roles = bindRoles(roleNames, 'group', groupId);
    const { orgId } = await requireProject(this.deps.db, groupId);
    return this.#keys.create(actor, orgId, desc, roles, new Map([[groupId, orgId]]), expiresAt);
  }

  /** Assigns a key of the project's org, or replaces its roles in this project. */
  async assign(
    actor: Actor,
    groupId: string,
    keyId: string,
    roleNames: readonly string[],
  ): Promise<ApiKeyRecord> {
    const roles = bindRoles(roleNames, 'group', groupId);
    return this.deps.db.transaction().execute(async (trx) => {
      await apiKeys.lock(trx, keyId);
      const { key, orgId } = await this.#requireKey(trx, groupId, keyId);
      const before = key.roles.filter((r) => r.scope === 'group' && r.scopeId === groupId);
      // A GROUP_USER_ADMIN neither grants GROUP_OWNER nor touches a key holding it; no key raises itself.
      assertCanChange(actor, { kind: 'apiKey', id: keyId }, before, roles, new Map([[groupId, orgId]]));
      if (before.length > 0 && sameRoles(before, roles)) return key;
      await apiKeys.replaceRoles(trx, keyId, groupId, roles);
      await recordEvent(
        trx,
        this.deps.clock,
        actor,
        before.length === 0 ? 'API_KEY_ADDED_TO_GROUP' : 'API_KEY_ROLES_CHANGED',
        { orgId, groupId, apiKeyId: keyId, targetPublicKey: key.publicKey },
      );
      return (await apiKeys.findById(trx, keyId)) as ApiKeyRecord;
    });
  }

  /** Removes the key's roles in this project; the key stays in its org. */
  async unassign(actor: Actor, groupId: string, keyId: string): Promise<void> {
    await this.deps.db.transaction().execute(async (trx) => {
      await apiKeys.lock(trx, keyId);
      const { key, orgId } = await this.#requireKey(trx, groupId, keyId);
      const before = key.roles.filter((r) => r.scope === 'group' && r.scopeId === groupId);
      if (before.length === 0) throw new ApiError('API_KEY_NOT_FOUND', [keyId]);
      // Removing roles needs the power to grant them (a key may always shed its own).
      assertCanChange(actor, { kind: 'apiKey', id: keyId }, before, [], new Map([[groupId, orgId]]));
      await apiKeys.replaceRoles(trx, keyId, groupId, []);
      await recordEvent(trx, this.deps.clock, actor, 'API_KEY_REMOVED_FROM_GROUP', {
        orgId,
        groupId,
        apiKeyId: keyId,
        targetPublicKey: key.publicKey,
      });
    });
  }

  /** The project must exist and the key must belong to the project's org (global keys never do). */
  async #requireKey(db: Db, groupId: string, keyId: string): Promise<{ key: ApiKeyRecord; orgId: string }> {
    const project = await requireProject(db, groupId);
    const key = await apiKeys.findById(db, keyId);
    if (!key || key.orgId !== project.orgId) throw new ApiError('API_KEY_NOT_FOUND', [keyId]);
    return { key, orgId: project.orgId };
  }
}
