/** Global (admin) API keys: `/admin/apiKeys` (api.md §7, reference.md §4.1). Keys with org id null. */
import { ApiError } from '../../schema/errors.js';
import { newObjectId } from '../../schema/ids.js';
import { generateKeyPair } from '../auth/credentials.js';
import type { Db } from '../storage/database.js';
import { type ApiKeyRecord, apiKeys } from '../storage/repositories/apiKeys.js';
import { assertCanGrant, type CreatedKey } from './apiKeys.js';
import { recordEvent } from './audit.js';
import { type Actor, isoSeconds, type ServiceDeps } from './context.js';
import { bindRoles } from './roles.js';

/** Global roles are stored with an empty scope id. */
const GLOBAL_SCOPE = '';

/**
 * The grant rule read the other way: whoever may not grant GLOBAL_OWNER may not change or delete a key
 * that holds it either (otherwise a GLOBAL_USER_ADMIN could strip or remove the owners).
 */
export function assertCanTouch(actor: Actor, key: ApiKeyRecord): void {
  if (key.roles.some((r) => r.roleName === 'GLOBAL_OWNER')) assertCanGrant(actor, key.roles);
}

/** Global key operations; the route's action (GLOBAL_OWNER / GLOBAL_USER_ADMIN to write) ran first. */
export class GlobalKeyService {
  constructor(private readonly deps: ServiceDeps) {}

  async list(offset: number, limit: number) {
    const [items, totalCount] = await Promise.all([
      apiKeys.listByOrg(this.deps.db, null, offset, limit),
      apiKeys.countByOrg(this.deps.db, null),
    ]);
    return { items, totalCount };
  }

  get(keyId: string): Promise<ApiKeyRecord> {
    return this.#requireKey(this.deps.db, keyId);
  }

  /** Creates a global key; only global role names fit, and only GLOBAL_OWNER grants GLOBAL_OWNER. */
  async create(actor: Actor, desc: string, roleNames: readonly string[]): Promise<CreatedKey> {
    const roles = bindRoles(roleNames, 'global', GLOBAL_SCOPE);
    assertCanGrant(actor, roles);
    const now = this.deps.clock();
    const material = generateKeyPair();
    const record: ApiKeyRecord = {
      id: newObjectId(now),
      orgId: null,
      publicKey: material.publicKey,
      desc,
      keyTail: material.keyTail,
      created: isoSeconds(now),
      roles,
    };
    await this.deps.db.transaction().execute(async (trx) => {
      await apiKeys.insert(trx, { ...record, ...material }, roles);
      await recordEvent(trx, this.deps.clock, actor, 'GLOBAL_API_KEY_CREATED', {
        apiKeyId: record.id,
        targetPublicKey: record.publicKey,
      });
    });
    return {
      key: (await apiKeys.findById(this.deps.db, record.id)) ?? record,
      privateKey: material.privateKey,
    };
  }

  /** Changes the description and/or replaces the key's roles. */
  async update(
    actor: Actor,
    keyId: string,
    desc?: string,
    roleNames?: readonly string[],
  ): Promise<ApiKeyRecord> {
    const roles = roleNames && bindRoles(roleNames, 'global', GLOBAL_SCOPE);
    if (roles) assertCanGrant(actor, roles);
    return this.deps.db.transaction().execute(async (trx) => {
      // Lock first, then read, so a racing update or delete has finished (see apiKeys.lock).
      await apiKeys.lock(trx, keyId);
      const key = await this.#requireKey(trx, keyId);
      assertCanTouch(actor, key);
      const subject = { apiKeyId: keyId, targetPublicKey: key.publicKey };
      if (desc !== undefined && desc !== key.desc) {
        await apiKeys.updateDesc(trx, keyId, desc);
        await recordEvent(trx, this.deps.clock, actor, 'GLOBAL_API_KEY_DESCRIPTION_CHANGED', subject);
      }
      if (roles) {
        await apiKeys.replaceRoles(trx, keyId, GLOBAL_SCOPE, roles);
        await recordEvent(trx, this.deps.clock, actor, 'GLOBAL_API_KEY_ROLES_CHANGED', subject);
      }
      return (await apiKeys.findById(trx, keyId)) as ApiKeyRecord;
    });
  }

  /** Deletes the key; it is refused from the next request on. */
  async delete(actor: Actor, keyId: string): Promise<void> {
    await this.deps.db.transaction().execute(async (trx) => {
      // Lock first, then read, so a racing update or delete has finished (see apiKeys.lock).
      await apiKeys.lock(trx, keyId);
      const key = await this.#requireKey(trx, keyId);
      assertCanTouch(actor, key);
      await apiKeys.delete(trx, keyId);
      await recordEvent(trx, this.deps.clock, actor, 'GLOBAL_API_KEY_DELETED', {
        apiKeyId: keyId,
        targetPublicKey: key.publicKey,
      });
    });
  }

  async #requireKey(db: Db, keyId: string): Promise<ApiKeyRecord> {
    const key = await apiKeys.findById(db, keyId);
    // An org key is not a global key: the two id spaces never answer for each other.
    if (!key || key.orgId !== null) throw new ApiError('API_KEY_NOT_FOUND', [keyId]);
    return key;
  }
}
