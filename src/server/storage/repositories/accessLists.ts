/** Per-key IP access lists (`api_key_access_list`), keyed by (api key, normalized CIDR block). */
import { type Db, ROWS_PER_INSERT } from '../database.js';

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

/** A page of a key's entries, and how many entries the key has. */
export interface AccessListPage {
  items: AccessListEntryRecord[];
  totalCount: number;
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
  /**
   * One page of a key's entries in the order they were added (ties within a second by block), and how many
   * entries the key has, in one statement (a second one only for a page past the end).
   */
  async page(db: Db, keyId: string, offset: number, limit: number): Promise<AccessListPage> {
    const rows = await db
      .selectFrom('api_key_access_list')
      .select([...ENTRY_COLUMNS, (eb) => eb.fn.countAll<number | string>().over().as('total')])
      .where('api_key_id', '=', keyId)
      .orderBy('created')
      .orderBy('cidr_block')
      .limit(limit)
      .offset(offset)
      .execute();
    const first = rows[0];
    const totalCount = first ? Number(first.total) : offset > 0 ? await accessLists.count(db, keyId) : 0;
    return { items: rows.map(toEntry), totalCount };
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

  /**
   * Adds the entries whose blocks are not listed yet (listed ones stay as they are); returns the blocks
   * added.
   */
  async insertAbsent(
    db: Db,
    keyId: string,
    entries: readonly { cidrBlock: string; ipAddress: string | null; created: string }[],
  ): Promise<Set<string>> {
    const added = new Set<string>();
    for (let i = 0; i < entries.length; i += ROWS_PER_INSERT) {
      // ON CONFLICT DO NOTHING keeps concurrent adds of the same block from failing the whole request.
      const rows = await db
        .insertInto('api_key_access_list')
        .values(
          entries.slice(i, i + ROWS_PER_INSERT).map((e) => ({
            api_key_id: keyId,
            cidr_block: e.cidrBlock,
            ip_address: e.ipAddress,
            created: e.created,
            count: 0,
            last_used: null,
            last_used_address: null,
          })),
        )
        .onConflict((oc) => oc.columns(['api_key_id', 'cidr_block']).doNothing())
        .returning('cidr_block')
        .execute();
      for (const r of rows) added.add(r.cidr_block);
    }
    return added;
  },

  /** Removes an entry; the entry as it was, or undefined when the key had none for `cidrBlock`. */
  async delete(db: Db, keyId: string, cidrBlock: string): Promise<AccessListEntryRecord | undefined> {
    const row = await db
      .deleteFrom('api_key_access_list')
      .where('api_key_id', '=', keyId)
      .where('cidr_block', '=', cidrBlock)
      .returning(ENTRY_COLUMNS)
      .executeTakeFirst();
    return row && toEntry(row);
  },
};
