/** Per-key IP access lists (`api_key_access_list`), keyed by (api key, normalized CIDR block). */
import type { Db } from '../database.js';

/** One access-list entry with its usage figures (written by the usage recorder). */
export interface AccessListEntryRecord {
  cidrBlock: string;
  /** The address for entries added as `ipAddress`; null for entries added as `cidrBlock`. */
  ipAddress: string | null;
  created: string;
  count: number;
  lastUsed: string | null;
  lastUsedAddress: string | null;
}

const ENTRY_COLUMNS = [
  'cidr_block',
  'ip_address',
  'created',
  'count',
  'last_used',
  'last_used_address',
] as const;

type EntryRow = {
  cidr_block: string;
  ip_address: string | null;
  created: string;
  count: number;
  last_used: string | null;
  last_used_address: string | null;
};

function toEntry(r: EntryRow): AccessListEntryRecord {
  return {
    cidrBlock: r.cidr_block,
    ipAddress: r.ip_address,
    created: r.created,
    count: Number(r.count),
    lastUsed: r.last_used,
    lastUsedAddress: r.last_used_address,
  };
}

/** Reads and writes key access lists. Every method takes the handle so callers can pass a transaction. */
export const accessLists = {
  /** One page of a key's entries in the order they were added (ties within a second by block). */
  async list(db: Db, keyId: string, offset: number, limit: number): Promise<AccessListEntryRecord[]> {
    const rows = await db
      .selectFrom('api_key_access_list')
      .select(ENTRY_COLUMNS)
      .where('api_key_id', '=', keyId)
      .orderBy('created')
      .orderBy('cidr_block')
      .limit(limit)
      .offset(offset)
      .execute();
    return rows.map(toEntry);
  },

  async count(db: Db, keyId: string): Promise<number> {
    const row = await db
      .selectFrom('api_key_access_list')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('api_key_id', '=', keyId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  },

  async find(db: Db, keyId: string, cidrBlock: string): Promise<AccessListEntryRecord | undefined> {
    const row = await db
      .selectFrom('api_key_access_list')
      .select(ENTRY_COLUMNS)
      .where('api_key_id', '=', keyId)
      .where('cidr_block', '=', cidrBlock)
      .executeTakeFirst();
    return row && toEntry(row);
  },

  /** Adds an entry unless the block is already listed; true when a row was added. */
  async insertIfAbsent(
    db: Db,
    keyId: string,
    entry: { cidrBlock: string; ipAddress: string | null; created: string },
  ): Promise<boolean> {
    // ON CONFLICT DO NOTHING keeps concurrent adds of the same block from failing the whole request.
    const res = await db
      .insertInto('api_key_access_list')
      .values({
        api_key_id: keyId,
        cidr_block: entry.cidrBlock,
        ip_address: entry.ipAddress,
        created: entry.created,
        count: 0,
        last_used: null,
        last_used_address: null,
      })
      .onConflict((oc) => oc.columns(['api_key_id', 'cidr_block']).doNothing())
      .executeTakeFirst();
    return Number(res.numInsertedOrUpdatedRows ?? 0) > 0;
  },

  /** Removes an entry; true when it existed. */
  async delete(db: Db, keyId: string, cidrBlock: string): Promise<boolean> {
    const res = await db
      .deleteFrom('api_key_access_list')
      .where('api_key_id', '=', keyId)
      .where('cidr_block', '=', cidrBlock)
      .executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  },
};
