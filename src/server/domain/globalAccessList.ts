/**
 * The global access list: `/admin/accessList` (api.md §7, reference.md §4.2). When it is not empty, global
 * keys are admitted only from its blocks (enforced by the request pipeline). A global key may not change
 * the list so that its own address is no longer admitted: it, and likely every global key, would be locked
 * out with no way back over the API.
 */
import { ApiError } from '../../schema/errors.js';
import { newObjectId } from '../../schema/ids.js';
import { compileCidr, findContaining, parseCidrBlock } from '../../schema/ip.js';
import { isUniqueViolation } from '../storage/connect.js';
import type { Db } from '../storage/database.js';
import { type GlobalAccessEntryRecord, globalAccessList } from '../storage/repositories/globalAccessList.js';
import { recordEvent } from './audit.js';
import { type Actor, isoSeconds, type ServiceDeps } from './context.js';

/**
 * Throws CANNOT_REMOVE_CALLER_FROM_GLOBAL_ACCESS_LIST unless the list, as the transaction has left it,
 * still admits the caller: empty (every address), or holding a block with its address. Only global keys
 * are bound by the list (http/pipeline.ts), so only they are checked; the caller of `trx` holds the lock.
 */
async function assertCallerAdmitted(trx: Db, actor: Actor): Promise<void> {
  const p = actor.principal;
  if (p?.kind !== 'apiKey' || p.orgId !== null) return;
  const blocks = await globalAccessList.cidrBlocks(trx);
  if (blocks.length > 0 && !findContaining(actor.remoteAddress, blocks.map(compileCidr)))
    throw new ApiError('CANNOT_REMOVE_CALLER_FROM_GLOBAL_ACCESS_LIST', [actor.remoteAddress]);
}

/** A bare IP or CIDR block → its normalized block; INVALID_ATTRIBUTE cidrBlock otherwise. */
function normalizeBlock(text: string): string {
  const parsed = parseCidrBlock(text);
  if (!parsed) throw new ApiError('INVALID_ATTRIBUTE', ['cidrBlock']);
  return parsed.cidrBlock;
}

/** Global access-list operations; the route's action (any global role reads, admins write) ran first. */
export class GlobalAccessListService {
  constructor(private readonly deps: ServiceDeps) {}

  async list(offset: number, limit: number) {
    const [items, totalCount] = await Promise.all([
      globalAccessList.list(this.deps.db, offset, limit),
      globalAccessList.count(this.deps.db),
    ]);
    return { items, totalCount };
  }

  get(id: string): Promise<GlobalAccessEntryRecord> {
    return this.#requireEntry(this.deps.db, id);
  }

  /** Adds a block; a block already listed is DUPLICATE_GLOBAL_ACCESS_LIST_ENTRY (409). */
  async create(actor: Actor, cidrBlock: string, description: string): Promise<GlobalAccessEntryRecord> {
    const block = normalizeBlock(cidrBlock);
    const now = this.deps.clock();
    const created = isoSeconds(now);
    const id = newObjectId(now);
    await this.#unique(block, () =>
      this.deps.db.transaction().execute(async (trx) => {
        await globalAccessList.lock(trx);
        await globalAccessList.insert(trx, {
          id,
          cidr_block: block,
          description,
          created,
          updated: created,
          count: 0,
          last_used: null,
          last_used_address: null,
        });
        // A first entry must hold the caller's address: the empty list admitted it.
        await assertCallerAdmitted(trx, actor);
        await recordEvent(trx, this.deps.clock, actor, 'GLOBAL_ACCESS_LIST_ENTRY_ADDED', {
          whitelistEntry: block,
        });
      }),
    );
    return { id, cidrBlock: block, description, created, updated: created, lastUsed: null };
  }

  /** Changes the block and/or the description (at least one, checked by the body schema). */
  async update(
    actor: Actor,
    id: string,
    change: { cidrBlock?: string | undefined; description?: string | undefined },
  ): Promise<GlobalAccessEntryRecord> {
    const block = change.cidrBlock === undefined ? undefined : normalizeBlock(change.cidrBlock);
    return this.#unique(block ?? '', () =>
      this.deps.db.transaction().execute(async (trx) => {
        await globalAccessList.lock(trx);
        const entry = await this.#requireEntry(trx, id);
        const newBlock = block !== undefined && block !== entry.cidrBlock ? block : undefined;
        const newDescription =
          change.description !== undefined && change.description !== entry.description
            ? change.description
            : undefined;
        if (newBlock === undefined && newDescription === undefined) return entry;
        await globalAccessList.update(trx, id, {
          cidrBlock: newBlock,
          description: newDescription,
          updated: isoSeconds(this.deps.clock()),
        });
        if (newBlock !== undefined) await assertCallerAdmitted(trx, actor);
        await recordEvent(trx, this.deps.clock, actor, 'GLOBAL_ACCESS_LIST_ENTRY_UPDATED', {
          whitelistEntry: newBlock ?? entry.cidrBlock,
        });
        return (await globalAccessList.findById(trx, id)) as GlobalAccessEntryRecord;
      }),
    );
  }

  async delete(actor: Actor, id: string): Promise<void> {
    await this.deps.db.transaction().execute(async (trx) => {
      await globalAccessList.lock(trx);
      const entry = await this.#requireEntry(trx, id);
      // Removed here, and put back by the rollback when the check below refuses the removal.
      await globalAccessList.delete(trx, id);
      await assertCallerAdmitted(trx, actor);
      await recordEvent(trx, this.deps.clock, actor, 'GLOBAL_ACCESS_LIST_ENTRY_DELETED', {
        whitelistEntry: entry.cidrBlock,
      });
    });
  }

  /** Runs a write whose only unique column is the block, mapping a violation to the 409. */
  async #unique<T>(block: string, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (e) {
      if (isUniqueViolation(e)) throw new ApiError('DUPLICATE_GLOBAL_ACCESS_LIST_ENTRY', [block]);
      throw e;
    }
  }

  async #requireEntry(db: Db, id: string): Promise<GlobalAccessEntryRecord> {
    const entry = await globalAccessList.findById(db, id);
    if (!entry) throw new ApiError('GLOBAL_ACCESS_LIST_ENTRY_NOT_FOUND', [id]);
    return entry;
  }
}
