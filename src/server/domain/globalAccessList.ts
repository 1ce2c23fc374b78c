/**
 * The global access list: `/admin/accessList` (api.md §7, reference.md §4.2). When it is not empty, global
 * keys are admitted only from its blocks (enforced by the request pipeline).
 */
import { ApiError } from '../../schema/errors.js';
import { newObjectId } from '../../schema/ids.js';
import { parseCidrBlock } from '../../schema/ip.js';
import { isUniqueViolation } from '../storage/connect.js';
import type { Db } from '../storage/database.js';
import { type GlobalAccessEntryRecord, globalAccessList } from '../storage/repositories/globalAccessList.js';
import { recordEvent } from './audit.js';
import { type Actor, isoSeconds, type ServiceDeps } from './context.js';

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
        await recordEvent(trx, this.deps.clock, actor, 'GLOBAL_ACCESS_LIST_ENTRY_UPDATED', {
          whitelistEntry: newBlock ?? entry.cidrBlock,
        });
        return (await globalAccessList.findById(trx, id)) as GlobalAccessEntryRecord;
      }),
    );
  }

  async delete(actor: Actor, id: string): Promise<void> {
    await this.deps.db.transaction().execute(async (trx) => {
      const entry = await this.#requireEntry(trx, id);
      await globalAccessList.delete(trx, id);
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
