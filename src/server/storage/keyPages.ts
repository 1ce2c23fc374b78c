/**
 * Pages of an org's API keys at a cost independent of the page number and of the org's size (api.md §2),
 * and `totalCount` without a COUNT: both read the counters and id buckets that migration 003's triggers keep
 * (`api_key_counts`, `api_key_buckets`).
 *
 * Every page request reads the org's counter row (total and `version`; every change to the org's list
 * bumps the version, in the changing transaction). What this node learnt about the org is kept with the
 * version it was read at and used only while the counter still shows that version, so a page is exactly
 * as current as an uncached read, on every node, with no delay:
 * - the bucket counts, which locate any offset: a seek to the bucket holding it, then a scan of at most two
 *   buckets' worth of index entries;
 * - the records (key rows with their roles) already read;
 * - the last few pages served, as arrays of those records — one array object per page and version, which
 *   the HTTP layer uses to reuse what it made from that page (http/prerendered.ts).
 * On SQLite all of a page's reads run in one read transaction on the reader connection; on PostgreSQL
 * the counter, ids and version travel in one statement and a change in between is detected and retried.
 */
import { sql } from 'kysely';
import { loadOnce } from './coalesce.js';
import { type Db, ROWS_PER_INSERT } from './database.js';
import { type Reader, readerFor, type Statement, type SyncReader, statement } from './reader.js';
import { type ApiKeyRecord, foldKeyRows, type KeyRoleRow } from './repositories/apiKeys.js';
import { type CounterRow, turnBatchFor } from './turnBatch.js';

/** Keys per bucket after a split; a bucket is split once it holds more than twice as many. */
export const BUCKET_SIZE = 128;
const SPLIT_ABOVE = 2 * BUCKET_SIZE;
/** Records kept per database, over all orgs (a cache, not a copy of the table). */
const MAX_RECORDS = 20_000;
/** Pages kept per org (the most recently served). */
export const PAGES_KEPT = 4;

/** What a node knows about one org's list at one version. */
interface OrgState {
  orgKey: string;
  version: number;
  total: number;
  /** Non-empty buckets in id order: first id bound, and keys before the bucket. */
  starts: string[];
  before: number[];
  records: Map<string, ApiKeyRecord>;
  /** "offset:limit" → the page, most recently served last. */
  pages: Map<string, ApiKeyRecord[]>;
}

interface DbState {
  orgs: Map<string, OrgState>;
  /** Records held by the states in `orgs`. */
  records: number;
  rebalancing: Set<string>;
  /** Page reads in flight after a version change, by org, page and version (PostgreSQL). */
  loading: Map<string, Promise<KeyPage | undefined>>;
  /** SQLite: counter rows read in the reader snapshot `counterSnapshot`, by org. */
  counters: Map<string, CounterRow>;
  counterSnapshot: number;
}

const states = new WeakMap<Db, DbState>();

function dbState(db: Db): DbState {
  let s = states.get(db);
  if (!s) {
    s = {
      orgs: new Map(),
      records: 0,
      rebalancing: new Set(),
      loading: new Map(),
      counters: new Map(),
      counterSnapshot: -1,
    };
    states.set(db, s);
  }
  return s;
}

const orgKeyOf = (orgId: string | null) => orgId ?? '';

const BUCKETS = statement(
  'key_buckets',
  `SELECT c.version, c.n AS total, b.start_id, b.n FROM api_key_counts c
     JOIN api_key_buckets b ON b.org_key = c.org_key WHERE c.org_key = ? ORDER BY b.start_id`,
);
const COUNT = statement('key_count', 'SELECT n FROM api_key_counts WHERE org_key = ?');

// `LIMIT ? + 0`, not `LIMIT ?`: SQLite plans with a bare LIMIT parameter's value, so every new binding of
// one would re-prepare the statement (measured: 3 µs on a 0.3 µs query).
const idsSql = (owner: string) =>
  `SELECT id FROM api_keys WHERE ${owner} AND id >= ? ORDER BY id LIMIT ? + 0 OFFSET ?`;
const PAGE_IDS = statement('key_page_ids', idsSql('org_id = ?'));
const PAGE_IDS_GLOBAL = statement('key_page_ids_global', idsSql('org_id IS NULL'));

/**
 * Asynchronous readers (PostgreSQL): whether the org exists, its counter and (PAGE) the page's ids, in one
 * statement — one snapshot, one round trip. Global keys (org '') always "exist". The ids come back as one
 * comma-separated text (ids are hex): one value to decode, not a row each.
 */
const counterSql = (org: string, orgKey: string, ids?: { agg: string; query: string }) =>
  `SELECT ${org} AS org, c.n, c.version${ids ? `, (SELECT ${ids.agg}(id, ',' ORDER BY id) FROM (${ids.query}) p) AS ids` : ''}
     FROM (SELECT 1 AS one) x LEFT JOIN api_key_counts c ON c.org_key = ${orgKey}`;
const ORG = '(SELECT 1 FROM orgs WHERE id = ?1)';
const ORG_COUNTER = statement('key_org_counter', counterSql(ORG, '?1'));
const GLOBAL_COUNTER = statement('key_global_counter', counterSql('1', "''"));
/** The counter statement of `orgKey` ('' for the global keys) and its parameters. */
const counterRead = (orgKey: string): [Statement, string[]] =>
  orgKey === '' ? [GLOBAL_COUNTER, []] : [ORG_COUNTER, [orgKey]];
const pageStatement = (name: string, org: string, orgKey: string, query: string) =>
  statement(
    name,
    counterSql(org, orgKey, { agg: 'group_concat', query }),
    counterSql(org, orgKey, { agg: 'string_agg', query }),
  );
const ORG_PAGE = pageStatement(
  'key_org_page',
  ORG,
  '?1',
  'SELECT id FROM api_keys WHERE org_id = ?1 AND id >= ?2 ORDER BY id LIMIT ?3 + 0 OFFSET ?4',
);
const GLOBAL_PAGE = pageStatement(
  'key_global_page',
  '1',
  "''",
  'SELECT id FROM api_keys WHERE org_id IS NULL AND id >= ?1 ORDER BY id LIMIT ?2 + 0 OFFSET ?3',
);

const RECORD_COLUMNS = `k.id, k.org_id, k.public_key, k.description, k.key_tail, k.created, k.expires_at,
       r.scope, r.scope_id, r.role_name, (SELECT version FROM api_key_counts WHERE org_key = ?) AS version
  FROM api_keys k LEFT JOIN api_key_roles r ON r.api_key_id = k.id`;
const RECORDS = statement(
  'key_records',
  `SELECT ${RECORD_COLUMNS} WHERE k.id IN (SELECT value FROM json_each(?))`,
  `SELECT ${RECORD_COLUMNS.replace('?', '$1')} WHERE k.id = ANY($2::text[])`,
);

interface BucketRow {
  version: number;
  total: number;
  start_id: string;
  n: number;
}
interface PageRow extends CounterRow {
  /** The page's ids, comma-separated; null for none. */
  ids: string | null;
}
/** A key-with-role row, with the org's list version it was read at. */
interface RecordRow extends KeyRoleRow {
  version: number | null;
}

/**
 * What `rows` (the org's buckets, BUCKETS) say about the org at their version, not yet seen by the node's
 * other requests (`publish`). When the org's published state is already at that version (another request
 * of this node read it meanwhile), that one, with what it learnt.
 */
function bucketState(db: Db, orgKey: string, rows: BucketRow[]): OrgState {
  const s = dbState(db);
  const old = s.orgs.get(orgKey);
  if (old && old.version === (rows[0]?.version ?? 0)) return old;
  const state: OrgState = {
    orgKey,
    version: rows[0]?.version ?? 0,
    total: rows[0]?.total ?? 0,
    starts: [],
    before: [],
    records: new Map(),
    pages: new Map(),
  };
  let before = 0;
  for (const r of rows) {
    if (r.n <= 0) continue;
    state.starts.push(r.start_id);
    state.before.push(before);
    before += r.n;
  }
  const fragmented = rows.length > (2 * state.total) / BUCKET_SIZE + 8;
  if (fragmented || rows.some((r) => r.n > SPLIT_ABOVE)) scheduleRebalance(db, orgKey);
  return state;
}

/** Makes `state` the one the requests of this node use for its org. */
function publish(s: DbState, state: OrgState): OrgState {
  const old = s.orgs.get(state.orgKey);
  if (old === state) return state;
  s.records += state.records.size - (old?.records.size ?? 0);
  s.orgs.set(state.orgKey, state);
  return state;
}

/** The bucket holding `offset`: its first id bound and the offset within it. */
function locate(state: OrgState, offset: number): [start: string, inner: number] {
  const { starts, before } = state;
  if (starts.length === 0) return ['', offset];
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (before[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return [starts[lo]!, offset - before[lo]!];
}

/** A kept page, marked most recently used. */
function keptPage(state: OrgState, key: string): ApiKeyRecord[] | undefined {
  const page = state.pages.get(key);
  if (page) {
    state.pages.delete(key);
    state.pages.set(key, page);
  }
  return page;
}

function keepPage(state: OrgState, key: string, page: ApiKeyRecord[]): ApiKeyRecord[] {
  if (state.pages.size >= PAGES_KEPT) state.pages.delete(state.pages.keys().next().value!);
  state.pages.set(key, page);
  return page;
}

/** Counts read while serving a page, for the `countByOrg` that accompanies it in the same turn. */
const pendingCounts = new WeakMap<Db, Map<string, number | Promise<number>>>();

function sharePendingCount(db: Db, orgKey: string, count: number | Promise<number>): void {
  let m = pendingCounts.get(db);
  if (!m) {
    m = new Map();
    pendingCounts.set(db, m);
  }
  m.set(orgKey, count);
  // Only callers in this same synchronous turn (the service's Promise.all) share it; later ones read afresh.
  queueMicrotask(() => m.delete(orgKey));
}

/** A page of an org's keys, with what the org's list looked like when it was read. */
export interface KeyPage {
  /** False when `orgId` names no org (then `items` is empty). Always true for the global keys. */
  orgExists: boolean;
  items: ApiKeyRecord[];
  totalCount: number;
}

/**
 * One page (`offset`, `limit`) of the keys of `orgId` (null: the global keys) by id ascending, and the
 * org's total, both from one snapshot; undefined when `db` has no reader (a transaction handle): the
 * caller then queries directly. The array and its records are shared with other callers: read-only.
 */
export async function readKeyPage(
  db: Db,
  orgId: string | null,
  offset: number,
  limit: number,
): Promise<KeyPage | undefined> {
  const reader = readerFor(db);
  if (!reader) return undefined;
  const page = reader.sync
    ? readKeyPageSync(db, reader.sync, orgId, offset, limit)
    : readKeyPageAsync(db, reader, orgId, offset, limit);
  // A `countByOrg` in the same turn (a service's Promise.all with `listByOrg`) reads this same total.
  const total = Promise.resolve(page).then((p) => p?.totalCount ?? 0);
  // Its failure is the page's, reported to whoever awaits either; unawaited, it must not end the process.
  total.catch(() => {});
  sharePendingCount(db, orgKeyOf(orgId), total);
  return page;
}

/** Just the records of `readKeyPage` (for `apiKeys.listByOrg`). */
export async function listKeys(
  db: Db,
  orgId: string | null,
  offset: number,
  limit: number,
): Promise<ApiKeyRecord[] | undefined> {
  return (await readKeyPage(db, orgId, offset, limit))?.items;
}

const NO_KEYS: ApiKeyRecord[] = [];

async function readKeyPageAsync(
  db: Db,
  reader: Reader,
  orgId: string | null,
  offset: number,
  limit: number,
): Promise<KeyPage | undefined> {
  const orgKey = orgKeyOf(orgId);
  const key = `${offset}:${limit}`;
  const s = dbState(db);
  const state = s.orgs.get(orgKey);
  // A page not kept: read it with the buckets already known, if any (the page's statement checks their version).
  if (!state?.pages.has(key)) return loadPage(db, reader, s, state, orgId, offset, limit);
  // A page this node served lately: current if the counter still shows its version.
  const c = await counterOf(db, reader, orgKey);
  if (!c?.org) return { orgExists: false, items: NO_KEYS, totalCount: 0 };
  const version = c.version ?? 0;
  if (state.version === version) {
    const kept = keptPage(state, key);
    if (kept) return { orgExists: true, items: kept, totalCount: c.n ?? 0 };
    // Evicted meanwhile by concurrent requests: read the page below.
    return loadPage(db, reader, s, state, orgId, offset, limit);
  }
  // The org's list changed. The requests that learnt it from the same counter read (one batch: they all
  // arrive together) read the new version's page once, together: any read of it is as current as that.
  return loadOnce(s.loading, `${orgKey}\n${key}\n${version}`, () =>
    loadPage(db, reader, s, undefined, orgId, offset, limit),
  );
}

/**
 * Reads a page from the buckets (those of `known`, when current) and the records not kept yet. Buckets read
 * here make a state that the node's other requests see only once it holds this page: until then they
 * keep finding the page of the version before, kept, and (as the counter shows the new version) join the
 * load of the new one in `readKeyPageAsync` instead of each reading the page and its records again.
 */
async function loadPage(
  db: Db,
  reader: Reader,
  s: DbState,
  known: OrgState | undefined,
  orgId: string | null,
  offset: number,
  limit: number,
): Promise<KeyPage | undefined> {
  const orgKey = orgKeyOf(orgId);
  const key = `${offset}:${limit}`;
  let state = known;
  for (let attempt = 0; attempt < 4; attempt++) {
    if (!state) state = bucketState(db, orgKey, await reader.all<BucketRow>(BUCKETS, [orgKey]));
    const past = offset >= state.total;
    const [start, inner] = past ? ['', 0] : locate(state, offset);
    const n = past ? 0 : limit;
    const rows = await reader.all<PageRow>(
      orgId === null ? GLOBAL_PAGE : ORG_PAGE,
      orgId === null ? [start, n, inner] : [orgId, start, n, inner],
    );
    const first = rows[0];
    if (!first?.org) return { orgExists: false, items: NO_KEYS, totalCount: 0 };
    if ((first.version ?? 0) !== state.version) {
      // Something changed since the buckets were read: read them again at the new version.
      state = undefined;
      continue;
    }
    const ids = first.ids ? first.ids.split(',') : [];
    if (!(await fillRecords(reader, s, state, orgKey, ids))) {
      state = undefined;
      continue;
    }
    const current = state;
    const items = keepPage(
      current,
      key,
      ids.map((id) => current.records.get(id)!),
    );
    publish(s, current);
    return { orgExists: true, items, totalCount: first.n ?? 0 };
  }
  return undefined;
}

/** The org's counter row (whether it exists, its total and version); on PostgreSQL batched (turnBatch.ts). */
async function counterOf(db: Db, reader: Reader, orgKey: string): Promise<CounterRow | undefined> {
  const batch = turnBatchFor(db);
  if (batch) return batch.counter(orgKey);
  // In-memory SQLite (no reader connection of its own): one statement per request.
  return (await reader.all<CounterRow>(...counterRead(orgKey)))[0];
}

/**
 * SQLite: the org's counter row as the current snapshot shows it. Every request of one event-loop turn
 * reads the same snapshot (storage/reader.ts), so the requests of one turn for one org read it once.
 */
function snapshotCounter(s: DbState, sync: SyncReader, orgKey: string): CounterRow {
  const snapshot = sync.snapshotId();
  if (s.counterSnapshot !== snapshot) {
    s.counterSnapshot = snapshot;
    s.counters.clear();
  }
  let row = s.counters.get(orgKey);
  if (!row) {
    row = sync.all<CounterRow>(...counterRead(orgKey))[0] ?? NO_ORG;
    s.counters.set(orgKey, row);
  }
  return row;
}

const NO_ORG: CounterRow = { org: null, n: null, version: null };

/** SQLite: the same in one read transaction (org, counter, buckets if they moved, ids, missing records). */
function readKeyPageSync(
  db: Db,
  sync: SyncReader,
  orgId: string | null,
  offset: number,
  limit: number,
): KeyPage {
  const orgKey = orgKeyOf(orgId);
  const s = dbState(db);
  return sync.snapshot(() => {
    const counter = snapshotCounter(s, sync, orgKey);
    if (!counter.org) return { orgExists: false, items: NO_KEYS, totalCount: 0 };
    const totalCount = counter.n ?? 0;
    let state = s.orgs.get(orgKey);
    if (!state || state.version !== (counter.version ?? 0))
      state = publish(s, bucketState(db, orgKey, sync.all<BucketRow>(BUCKETS, [orgKey])));
    const key = `${offset}:${limit}`;
    const kept = keptPage(state, key);
    if (kept) return { orgExists: true, items: kept, totalCount };
    if (offset >= state.total) return { orgExists: true, items: keepPage(state, key, []), totalCount };
    const [start, inner] = locate(state, offset);
    const ids =
      orgId === null
        ? sync.column<string>(PAGE_IDS_GLOBAL, [start, limit, inner])
        : sync.column<string>(PAGE_IDS, [orgId, start, limit, inner]);
    const current = state;
    const page: ApiKeyRecord[] = [];
    const missing: string[] = [];
    for (const id of ids) {
      const rec = current.records.get(id);
      if (rec) page.push(rec);
      else missing.push(id);
    }
    if (missing.length === 0) return { orgExists: true, items: keepPage(current, key, page), totalCount };
    storeRecords(s, current, sync.all<RecordRow>(RECORDS, [orgKey, JSON.stringify(missing)]));
    return {
      orgExists: true,
      items: keepPage(
        current,
        key,
        ids.map((id) => current.records.get(id)!),
      ),
      totalCount,
    };
  });
}

/** Reads the records of `ids` not cached yet; false when the org changed meanwhile. */
async function fillRecords(
  reader: Reader,
  s: DbState,
  state: OrgState,
  orgKey: string,
  ids: string[],
): Promise<boolean> {
  const missing = ids.filter((id) => !state.records.has(id));
  if (missing.length === 0) return true;
  const rows = await reader.all<RecordRow>(RECORDS, [
    orgKey,
    reader.dialect === 'sqlite' ? JSON.stringify(missing) : missing,
  ]);
  if (rows.some((r) => r.version !== state.version)) return false;
  return storeRecords(s, state, rows) === missing.length;
}

/** Caches the records of `rows` (one row per role) in `state`; returns how many keys they held. */
function storeRecords(s: DbState, state: OrgState, rows: RecordRow[]): number {
  const read = foldKeyRows(rows);
  if (s.records + read.length > MAX_RECORDS) {
    for (const o of s.orgs.values()) {
      o.records.clear();
      o.pages.clear();
    }
    s.records = 0;
  }
  let added = 0;
  for (const rec of read) {
    if (!state.records.has(rec.id)) added++;
    state.records.set(rec.id, rec);
  }
  if (s.orgs.get(state.orgKey) === state) s.records += added;
  return read.length;
}

/** The number of keys of `orgId` (null: global keys), or undefined without a reader. */
export async function countKeys(db: Db, orgId: string | null): Promise<number | undefined> {
  const reader = readerFor(db);
  if (!reader) return undefined;
  const orgKey = orgKeyOf(orgId);
  const pending = pendingCounts.get(db)?.get(orgKey);
  if (pending !== undefined) return pending;
  if (reader.sync) return reader.sync.column<number>(COUNT, [orgKey])[0] ?? 0;
  const rows = await reader.all<{ n: number }>(COUNT, [orgKey]);
  return rows[0]?.n ?? 0;
}

function scheduleRebalance(db: Db, orgKey: string): void {
  const s = dbState(db);
  if (s.rebalancing.has(orgKey)) return;
  s.rebalancing.add(orgKey);
  // In the background: the page being read is served from the buckets as they are.
  setImmediate(() => {
    rebalanceKeyBuckets(db, orgKey)
      .catch(() => {
        // Retried by the next read that finds the buckets unbalanced.
      })
      .finally(() => s.rebalancing.delete(orgKey));
  });
}

/**
 * Re-cuts the buckets of one org (key '' for global keys): every bucket over the split size, or all of them
 * when emptied buckets have piled up, into buckets of BUCKET_SIZE keys. Takes the org's counter row first,
 * as every key insert and delete does, so no key can be added to or removed from a range being re-cut.
 */
export async function rebalanceKeyBuckets(db: Db, orgKey: string): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const locked =
      await sql`UPDATE api_key_counts SET version = version + 1 WHERE org_key = ${orgKey}`.execute(trx);
    if (Number(locked.numAffectedRows ?? 0n) === 0) return;
    const { rows: buckets } = await sql<{ start_id: string; n: number }>`
      SELECT start_id, n FROM api_key_buckets WHERE org_key = ${orgKey} ORDER BY start_id`.execute(trx);
    const total = buckets.reduce((a, b) => a + Number(b.n), 0);
    const ranges: [lo: string, hi: string | null][] = [];
    if (buckets.length > (2 * total) / BUCKET_SIZE + 8) ranges.push(['', null]);
    else
      buckets.forEach((b, i) => {
        if (Number(b.n) > SPLIT_ABOVE) ranges.push([b.start_id, buckets[i + 1]?.start_id ?? null]);
      });
    const owner = orgKey === '' ? sql`org_id IS NULL` : sql`org_id = ${orgKey}`;
    for (const [lo, hi] of ranges) {
      const upper = hi === null ? sql`` : sql` AND id < ${hi}`;
      const { rows } = await sql<{ id: string; rn: number; cnt: number }>`
        SELECT id, rn, cnt FROM (
          SELECT id, row_number() OVER (ORDER BY id) AS rn, count(*) OVER () AS cnt
            FROM api_keys WHERE ${owner} AND id >= ${lo}${upper}) t
         WHERE (rn - 1) % ${sql.lit(BUCKET_SIZE)} = 0 ORDER BY id`.execute(trx);
      const upperB = hi === null ? sql`` : sql` AND start_id < ${hi}`;
      await sql`DELETE FROM api_key_buckets WHERE org_key = ${orgKey} AND start_id >= ${lo}${upperB}`.execute(
        trx,
      );
      const cnt = Number(rows[0]?.cnt ?? 0);
      // The first bucket keeps the range's lower bound, so the buckets still cover every id.
      const values = rows.map((r, i) => ({
        org_key: orgKey,
        start_id: i === 0 ? lo : r.id,
        n: i === rows.length - 1 ? cnt - BUCKET_SIZE * i : BUCKET_SIZE,
      }));
      if (values.length === 0) values.push({ org_key: orgKey, start_id: lo, n: 0 });
      for (let i = 0; i < values.length; i += ROWS_PER_INSERT) {
        await trx
          .withTables<{ api_key_buckets: { org_key: string; start_id: string; n: number } }>()
          .insertInto('api_key_buckets')
          .values(values.slice(i, i + ROWS_PER_INSERT))
          .execute();
      }
    }
  });
}
