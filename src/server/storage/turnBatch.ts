/**
 * PostgreSQL: the two statements a signed read runs — recording its digest triple in the replay memory
 * that every node shares, and reading the counter row of the org whose kept page it serves — for every
 * request of one event-loop turn, in ONE statement and one round trip (storage/coalesce.ts). A read runs
 * while its replay check is out (http/pipeline.ts), so the two parts of one request usually travel
 * together, and those of concurrent requests with them.
 *
 * The statement's data-modifying CTE and its SELECT share one snapshot, taken after every call in the batch
 * was made: a counter read sees every write acknowledged before it was asked for.
 */
import { Coalescer } from './coalesce.js';
import type { Db } from './database.js';
import { type Reader, readerFor, statement } from './reader.js';

/** A digest triple, as its key in the shared replay table (`replayKey`, auth/replay.ts), and its expiry second. */
export interface Triple {
  key: string;
  expires: number;
}

/** An org's row (key '' for the global keys): whether it exists, its key count and list version. */
export interface CounterRow {
  org: number | null;
  n: number | null;
  version: number | null;
}

type Call = { triple: Triple; orgKey?: undefined } | { triple?: undefined; orgKey: string };
type Answer = boolean | CounterRow | undefined;

const TURN = statement(
  'turn_batch',
  `WITH ins AS (
     INSERT INTO digest_replay_keys (key, expires)
     SELECT * FROM unnest($1::bigint[], $2::bigint[])
     ON CONFLICT DO NOTHING RETURNING key)
   SELECT 'r' AS lane, key::text AS k, NULL::int AS org, NULL::bigint AS n, NULL::bigint AS version
     FROM ins
   UNION ALL
   SELECT 'c', q.k, CASE WHEN q.k = '' THEN 1 ELSE (SELECT 1 FROM orgs WHERE id = q.k) END,
          c.n, c.version
     FROM unnest($3::text[]) AS q(k) LEFT JOIN api_key_counts c ON c.org_key = q.k`,
  undefined,
  // Planned afresh for each batch's arrays it cost PostgreSQL about three times the CPU (reader.ts).
  { genericPlan: true },
);

interface TurnRow extends CounterRow {
  lane: 'r' | 'c';
  k: string;
}

/** The batched statements of one PostgreSQL database. */
export class TurnBatch {
  readonly #calls: Coalescer<Call, Answer>;

  constructor(reader: Reader) {
    this.#calls = new Coalescer((calls) => run(reader, calls));
  }

  /** Records `triple`; true when no node had recorded it before (its first use). */
  remember(triple: Triple): Promise<boolean> {
    return this.#calls.submit({ triple }) as Promise<boolean>;
  }

  /** The counter row of `orgKey` ('' for global keys); undefined when the org has none yet. */
  counter(orgKey: string): Promise<CounterRow | undefined> {
    return this.#calls.submit({ orgKey }) as Promise<CounterRow | undefined>;
  }
}

const batches = new WeakMap<Db, TurnBatch>();

/** The turn batch of a PostgreSQL database opened by `openDatabase`; undefined for any other. */
export function turnBatchFor(db: Db): TurnBatch | undefined {
  let batch = batches.get(db);
  if (!batch) {
    const reader = readerFor(db);
    if (reader?.dialect !== 'postgres') return undefined;
    batch = new TurnBatch(reader);
    batches.set(db, batch);
  }
  return batch;
}

/**
 * One statement for a batch of calls. A triple twice in one batch is first-used by its first occurrence
 * only. Keys go in sorted order, so two nodes inserting overlapping batches take the unique index's locks
 * in the same order and never deadlock.
 */
async function run(reader: Reader, calls: Call[]): Promise<Answer[]> {
  const firstAt = new Map<string, number>();
  const orgKeys = new Set<string>();
  const keys = calls.map((c, i) => {
    if (!c.triple) {
      orgKeys.add(c.orgKey);
      return '';
    }
    const k = c.triple.key;
    if (!firstAt.has(k)) firstAt.set(k, i);
    return k;
  });
  const sorted = [...firstAt.keys()].sort();
  const rows = await reader.all<TurnRow>(TURN, [
    sorted,
    sorted.map((k) => calls[firstAt.get(k)!]!.triple!.expires),
    [...orgKeys],
  ]);
  const inserted = new Set<string>();
  const counters = new Map<string, CounterRow>();
  for (const r of rows) {
    if (r.lane === 'r') inserted.add(r.k);
    else counters.set(r.k, { org: r.org, n: r.n, version: r.version });
  }
  return calls.map((c, i) =>
    c.triple ? firstAt.get(keys[i]!) === i && inserted.has(keys[i]!) : counters.get(c.orgKey),
  );
}
