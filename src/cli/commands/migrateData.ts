/**
 * `pakman migrate-data --from <url> --to <url>`: copies a whole deployment from one database to another,
 * typically from the embedded SQLite file to PostgreSQL. Both ends are migrated to the current schema
 * first; every table is copied row by row in ONE transaction on the target (all or nothing), from one
 * consistent snapshot of the source. Keys keep working because their HA1 values move with them, and so do
 * the settings, the generated digest secret included. A target that holds any row is refused.
 */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { type Kysely, sql, type Transaction } from 'kysely';
import { type Connection, connect, type Dialect, parseDatabaseUrl } from '../../server/storage/connect.js';
import { die, EXIT } from '../shared.js';

/** Any table, any column: the copy follows whatever schema the migrations made. */
type AnyDb = Record<string, Record<string, unknown>>;
type Handle = Kysely<AnyDb> | Transaction<AnyDb>;

/**
 * Tables that triggers keep in step with the others (migration 003: list counters, page buckets, the
 * credential-cache generation), and that a freshly migrated database already fills. An empty target may
 * hold rows there; the copy replaces them with the source's once the data they derive from is in.
 */
const DERIVED = new Set(['api_key_counts', 'api_key_buckets', 'auth_generation']);

/** The target already holds data; nothing was written. */
export class TargetNotEmptyError extends Error {}

/** Rows copied per table, in copy order. */
export type CopySummary = { table: string; rows: number }[];

/** A URL fit for messages: any password replaced. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

/** Copies every table of `fromUrl` into the empty database `toUrl`. */
export async function migrateData(fromUrl: string, toUrl: string): Promise<CopySummary> {
  const from = parseDatabaseUrl(fromUrl);
  const to = parseDatabaseUrl(toUrl);
  if (from.dialect === 'sqlite' && (from.location === ':memory:' || !existsSync(from.location)))
    throw new Error(`source ${fromUrl} does not exist`);
  if (from.dialect === to.dialect && from.location === to.location)
    throw new Error('--from and --to name the same database');
  const source = await connect(fromUrl);
  try {
    const target = await connect(toUrl);
    try {
      return await copy(source, target, toUrl);
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}

async function copy(source: Connection, target: Connection, toUrl: string): Promise<CopySummary> {
  const src = source.db as unknown as Kysely<AnyDb>;
  const dst = target.db as unknown as Kysely<AnyDb>;
  const tables = await tableNames(src, source.dialect);
  const targetTables = new Set(await tableNames(dst, target.dialect));
  const missing = tables.filter((t) => !targetTables.has(t));
  if (missing.length)
    throw new Error(`the target has no table ${missing.join(', ')}; is it the same pakman version?`);
  const order = await copyOrder(dst, target.dialect, tables);
  // A consistent snapshot of the source (SQLite: a read transaction in WAL mode; PostgreSQL: repeatable read).
  const read = src.transaction();
  return (source.dialect === 'postgres' ? read.setIsolationLevel('repeatable read') : read).execute((snap) =>
    dst.transaction().execute(async (trx) => {
      for (const table of order.filter((t) => !DERIVED.has(t))) {
        const row = await sql<{ n: number }>`SELECT count(*) AS n FROM ${sql.table(table)}`.execute(trx);
        const n = Number(row.rows[0]?.n ?? 0);
        if (n > 0)
          throw new TargetNotEmptyError(
            `target ${redactUrl(toUrl)} is not empty (table ${table} has ${n} row${n === 1 ? '' : 's'}); migrate-data only copies into an empty database`,
          );
      }
      const summary: CopySummary = [];
      // Data first (parents before children), then what triggers derived from it while it went in.
      const derivedLast = [...order.filter((t) => !DERIVED.has(t)), ...order.filter((t) => DERIVED.has(t))];
      for (const table of derivedLast) {
        if (DERIVED.has(table)) {
          // PostgreSQL: deferred triggers (the auth generation bump) fire now, not over the copied rows at commit.
          if (target.dialect === 'postgres') await sql`SET CONSTRAINTS ALL IMMEDIATE`.execute(trx);
          await trx.deleteFrom(table).execute();
        }
        const key = await primaryKey(snap, source.dialect, table);
        let rows = 0;
        for await (const batch of readBatches(snap, table, key)) {
          await insertBatch(trx, table, batch, target.dialect);
          rows += batch.length;
        }
        summary.push({ table, rows });
      }
      return summary;
    }),
  );
}

/** The application's tables (Kysely's own migration bookkeeping stays where it is). */
async function tableNames(db: Kysely<AnyDb>, dialect: Dialect): Promise<string[]> {
  const { rows } =
    dialect === 'sqlite'
      ? await sql<{ name: string }>`SELECT name FROM sqlite_master
          WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE 'kysely\\_%' ESCAPE '\\'`.execute(
          db,
        )
      : await sql<{ name: string }>`SELECT tablename AS name FROM pg_tables
          WHERE schemaname = current_schema() AND tablename NOT LIKE 'kysely\\_%' ESCAPE '\\'`.execute(db);
  return rows.map((r) => r.name).sort();
}

/** Parents before children, by the target's foreign keys, so every row lands after what it references. */
async function copyOrder(db: Kysely<AnyDb>, dialect: Dialect, tables: string[]): Promise<string[]> {
  const parents = new Map<string, Set<string>>(tables.map((t) => [t, new Set()]));
  for (const t of tables) {
    const { rows } =
      dialect === 'sqlite'
        ? await sql<{ parent: string }>`SELECT "table" AS parent FROM pragma_foreign_key_list(${t})`.execute(
            db,
          )
        : await sql<{ parent: string }>`SELECT c.relname AS parent FROM pg_constraint f
            JOIN pg_class c ON c.oid = f.confrelid
            WHERE f.contype = 'f' AND f.conrelid = ${t}::regclass`.execute(db);
    for (const r of rows) if (r.parent !== t && parents.has(r.parent)) parents.get(t)!.add(r.parent);
  }
  const order: string[] = [];
  const placed = new Set<string>();
  while (order.length < tables.length) {
    const ready = tables.filter((t) => !placed.has(t) && [...parents.get(t)!].every((p) => placed.has(p)));
    if (ready.length === 0) throw new Error('foreign keys form a cycle; cannot order the copy');
    for (const t of ready) {
      order.push(t);
      placed.add(t);
    }
  }
  return order;
}

/** The primary-key columns of `table`, in key order (empty: none). */
async function primaryKey(db: Handle, dialect: Dialect, table: string): Promise<string[]> {
  const { rows } =
    dialect === 'sqlite'
      ? await sql<{
          name: string;
        }>`SELECT name FROM pragma_table_info(${table}) WHERE pk > 0 ORDER BY pk`.execute(db)
      : await sql<{ name: string }>`SELECT a.attname AS name FROM pg_index i
          JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
          WHERE i.indrelid = ${table}::regclass AND i.indisprimary
          ORDER BY array_position(i.indkey::int2[], a.attnum)`.execute(db);
  return rows.map((r) => r.name);
}

const READ_BATCH = 1000;

/** The table's rows in primary-key order, a batch at a time (keyset paging: each batch costs O(log n)). */
async function* readBatches(
  db: Handle,
  table: string,
  key: string[],
): AsyncGenerator<Record<string, unknown>[]> {
  if (key.length === 0) {
    // No key to page on: one read (no pakman table is like this; a future one would still be copied).
    const { rows } = await sql<Record<string, unknown>>`SELECT * FROM ${sql.table(table)}`.execute(db);
    if (rows.length) yield rows;
    return;
  }
  const cols = sql.join(key.map((c) => sql.ref(c)));
  let last: unknown[] | undefined;
  for (;;) {
    const after = last ? sql`WHERE (${cols}) > (${sql.join(last)})` : sql``;
    const { rows } = await sql<Record<string, unknown>>`SELECT * FROM ${sql.table(table)} ${after}
      ORDER BY ${cols} LIMIT ${sql.lit(READ_BATCH)}`.execute(db);
    if (rows.length === 0) return;
    yield rows;
    const tail = rows[rows.length - 1]!;
    last = key.map((c) => tail[c]);
    if (rows.length < READ_BATCH) return;
  }
}

/** Inserts rows, in chunks that stay under both engines' limits on bound parameters. */
async function insertBatch(
  trx: Transaction<AnyDb>,
  table: string,
  rows: Record<string, unknown>[],
  dialect: Dialect,
): Promise<void> {
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0]!).length || 1;
  const chunk = Math.max(1, Math.min(500, Math.floor(30_000 / columns)));
  for (let i = 0; i < rows.length; i += chunk) {
    const values = rows.slice(i, i + chunk).map((r) => (dialect === 'sqlite' ? forSqlite(r) : r));
    await trx.insertInto(table).values(values).execute();
  }
}

/** SQLite binds neither booleans nor dates (PostgreSQL hands back both). */
function forSqlite(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) {
    out[k] = typeof v === 'boolean' ? (v ? 1 : 0) : v instanceof Date ? v.toISOString() : v;
  }
  return out;
}

/** Registers `migrate-data`. */
export function registerMigrateDataCommand(program: Command): void {
  program
    .command('migrate-data')
    .description(
      'copy every table from one database into another, empty one (e.g. SQLite to PostgreSQL), in one transaction',
    )
    .requiredOption('--from <url>', 'source: sqlite:<path> or postgres://user@host:port/db')
    .requiredOption('--to <url>', 'target, which must hold no data: sqlite:<path> or postgres://…')
    .action(async (opts: { from: string; to: string }) => {
      for (const url of [opts.from, opts.to]) {
        try {
          parseDatabaseUrl(url);
        } catch (e) {
          die(`invalid database URL "${redactUrl(url)}": ${(e as Error).message}`, EXIT.usage);
        }
      }
      let summary: CopySummary;
      try {
        summary = await migrateData(opts.from, opts.to);
      } catch (e) {
        if (e instanceof TargetNotEmptyError) die(e.message);
        die(`migrate-data failed, nothing was written: ${(e as Error).message}`);
      }
      for (const { table, rows } of summary) process.stdout.write(`${table}: ${rows}\n`);
      const total = summary.reduce((s, t) => s + t.rows, 0);
      process.stdout.write(
        `copied ${total} rows in ${summary.length} tables from ${redactUrl(opts.from)} to ${redactUrl(opts.to)}\n`,
      );
    });
}
