/** Per-key IP access lists: `/orgs/{ORG-ID}/apiKeys/{API-KEY-ID}/accessList` (api.md §7, reference.md §2). */
import { ApiError } from '../../schema/errors.js';
import {
  type AccessAddress,
  compileCidr,
  findContaining,
  parseCidrBlock,
  parseIpAddress,
  parseIpOrCidr,
} from '../../schema/ip.js';
import { managesOrg } from '../rbac/policy.js';
import type { Principal } from '../rbac/principal.js';
import type { Db } from '../storage/database.js';
import {
  type AccessListEntryRecord,
  type AccessListPage,
  accessLists,
} from '../storage/repositories/accessLists.js';
import { type ApiKeyRecord, apiKeys } from '../storage/repositories/apiKeys.js';
import { orgs } from '../storage/repositories/orgs.js';
import { lockOrgKey } from './apiKeys.js';
import { recordEvent, recordEvents } from './audit.js';
import { type Actor, isoSeconds, type ServiceDeps } from './context.js';

/** One element of a POST body, already schema-checked (strings or absent). */
export interface AccessListAddition {
  ipAddress?: string | undefined;
  cidrBlock?: string | undefined;
}

/**
 * Turns a POST body into normalized addresses: both fields in one element → BAD_ACCESS_LIST_ADD_REQUEST,
 * a bad address or a CIDR with host bits → INVALID_ATTRIBUTE (named field), the same block twice →
 * DUPLICATE_ADDRESSES_IN_INPUT. Pure, so a refused body changes nothing.
 */
export function parseAdditions(items: readonly AccessListAddition[]): AccessAddress[] {
  const out = new Map<string, AccessAddress>();
  for (const item of items) {
    if (item.ipAddress !== undefined && item.cidrBlock !== undefined)
      throw new ApiError('BAD_ACCESS_LIST_ADD_REQUEST');
    const address =
      item.ipAddress !== undefined ? parseIpAddress(item.ipAddress) : parseCidrBlock(item.cidrBlock ?? '');
    if (!address)
      throw new ApiError('INVALID_ATTRIBUTE', [item.ipAddress !== undefined ? 'ipAddress' : 'cidrBlock']);
    if (out.has(address.cidrBlock)) throw new ApiError('DUPLICATE_ADDRESSES_IN_INPUT');
    out.set(address.cidrBlock, address);
  }
  return [...out.values()];
}

/** The stored block a path ENTRY names (an IP, or a CIDR whose `/` arrived as %2F), or undefined. */
export function entryBlock(entry: string): string | undefined {
  return parseIpOrCidr(entry)?.cidrBlock;
}

/** Access-list operations; the route's action already admitted org members and the key itself. */
export class AccessListService {
  constructor(private readonly deps: ServiceDeps) {}

  /** A page of the key's list. */
  async list(
    actor: Actor,
    orgId: string,
    keyId: string,
    offset: number,
    limit: number,
  ): Promise<AccessListPage> {
    await this.#requireKey(this.deps.db, orgId, keyId);
    this.#assertAccess(actor, orgId, keyId, 'read');
    return accessLists.page(this.deps.db, keyId, offset, limit);
  }

  /** One entry, named by IP or CIDR. */
  async get(actor: Actor, orgId: string, keyId: string, entry: string): Promise<AccessListEntryRecord> {
    await this.#requireKey(this.deps.db, orgId, keyId);
    this.#assertAccess(actor, orgId, keyId, 'read');
    const block = entryBlock(entry);
    const found = block && (await accessLists.find(this.deps.db, keyId, block));
    if (!found) throw new ApiError('API_KEY_ACCESS_LIST_NOT_FOUND');
    return found;
  }

  /** Appends the addresses not yet listed (listed ones stay as they are); returns a page of the whole list. */
  async add(
    actor: Actor,
    orgId: string,
    keyId: string,
    items: readonly AccessListAddition[],
    offset: number,
    limit: number,
  ): Promise<AccessListPage> {
    const created = isoSeconds(this.deps.clock());
    await this.deps.db.transaction().execute(async (trx) => {
      // Queue behind a concurrent delete of the key (else: a foreign-key 500 instead of a 404).
      const key = await lockOrgKey(trx, orgId, keyId);
      this.#assertAccess(actor, orgId, keyId, 'write');
      const addresses = parseAdditions(items);
      const added = await accessLists.insertAbsent(
        trx,
        keyId,
        addresses.map((a) => ({ ...a, created })),
      );
      await recordEvents(
        trx,
        this.deps.clock,
        actor,
        addresses
          .filter((a) => added.has(a.cidrBlock))
          .map((a) => [
            'API_KEY_ACCESS_LIST_ENTRY_ADDED',
            {
              orgId,
              apiKeyId: keyId,
              targetPublicKey: key.publicKey,
              whitelistEntry: a.ipAddress ?? a.cidrBlock,
            },
          ]),
      );
    });
    return accessLists.page(this.deps.db, keyId, offset, limit);
  }

  /** Removes one entry; a key may not remove the entry that admits its own current address. */
  async delete(actor: Actor, orgId: string, keyId: string, entry: string): Promise<void> {
    await this.deps.db.transaction().execute(async (trx) => {
      const key = await lockOrgKey(trx, orgId, keyId);
      this.#assertAccess(actor, orgId, keyId, 'write');
      const block = entryBlock(entry);
      // Removed here, and put back by the rollback when the removal is refused below.
      const found = block && (await accessLists.delete(trx, keyId, block));
      if (!found) throw new ApiError('API_KEY_ACCESS_LIST_NOT_FOUND');
      if (
        isSelf(actor.principal, keyId) &&
        findContaining(actor.remoteAddress, [compileCidr(found.cidrBlock)])
      )
        throw new ApiError('CANNOT_REMOVE_CALLER_FROM_ACCESS_LIST', [actor.remoteAddress]);
      await recordEvent(trx, this.deps.clock, actor, 'API_KEY_ACCESS_LIST_ENTRY_DELETED', {
        orgId,
        apiKeyId: keyId,
        targetPublicKey: key.publicKey,
        whitelistEntry: found.ipAddress ?? found.cidrBlock,
      });
    });
  }

  /**
   * Only the key itself or an owner (ORG_OWNER of the org, GLOBAL_OWNER, GLOBAL_USER_ADMIN) may touch a
   * key's list; any global role may read it. Other members of the org get Ops Manager's 400.
   */
  #assertAccess(actor: Actor, orgId: string, keyId: string, mode: 'read' | 'write'): void {
    const p = actor.principal;
    if (!p) throw new ApiError('USER_UNAUTHORIZED');
    if (isSelf(p, keyId) || managesOrg(p, orgId)) return;
    if (mode === 'read' && p.global.size > 0) return;
    throw new ApiError('API_KEY_ACCESS_LIST_ACCESS_DENIED');
  }

  async #requireKey(db: Db, orgId: string, keyId: string): Promise<ApiKeyRecord> {
    if (!(await orgs.exists(db, orgId))) throw new ApiError('ORG_NOT_FOUND', [orgId]);
    const key = await apiKeys.findById(db, keyId);
    // A global key (org null) or another org's key is not found under this org.
    if (!key || key.orgId !== orgId) throw new ApiError('API_KEY_NOT_FOUND', [keyId]);
    return key;
  }
}

function isSelf(p: Principal | null, keyId: string): boolean {
  return p?.kind === 'apiKey' && p.id === keyId;
}
