/**
 * Statements for the hot paths (credential loads, list pages, cache generations; on PostgreSQL also the
 * replay-memory insert), beside Kysely, which builds and prepares every query afresh: here each is
 * prepared once and reused. On SQLite they are reads on a second, read-only connection to the same file, so
 * a read never waits behind a write transaction on the main connection and never sees one half-done (WAL:
 * each read transaction sees the last commit). On PostgreSQL they are named prepared statements on the
 * pool (statements declared `genericPlan` on a small pool of their own, see PostgresReader). An in-memory
 * SQLite database has no second connection: there they go through Kysely's own.
 */
import SQLite from 'better-sqlite3';
import { CompiledQuery, type SqliteDatabase } from 'kysely';
import type pg from 'pg';
import type { Db } from './database.js';

/** A statement in both dialects: SQLite text with `?` placeholders, PostgreSQL text with `$n`. */
export interface Statement {
  readonly name: string;
  readonly sqlite: string;
  readonly postgres: string;
  /** Where the SQLite text numbered its parameters (`?2`): which parameter each `?` takes, in order. */
  readonly sqliteOrder?: readonly number[];
  /** PostgreSQL: plan once per connection, never for each execution's values (see PostgresReader). */
  readonly genericPlan?: boolean;
}

/**
 * Declares a statement; the PostgreSQL text defaults to the SQLite one. Parameters are `?` (in order) or
 * `?1, ?2…` (by number, usable more than once): PostgreSQL gets `$1, $2…`; SQLite gets plain `?`s, bound
 * in the order they appear.
 */
export function statement(
  name: string,
  sqlite: string,
  postgres = sqlite,
  options: { genericPlan?: boolean } = {},
): Statement {
  let i = 0;
  const pg = /\?\d/.test(postgres)
    ? postgres.replace(/\?(\d+)/g, '$$$1')
    : postgres.replace(/\?/g, () => `$${++i}`);
  const genericPlan = options.genericPlan ? { genericPlan: true } : {};
  if (!/\?\d/.test(sqlite)) return { name, sqlite, postgres: pg, ...genericPlan };
  const order: number[] = [];
  const text = sqlite.replace(/\?(\d+)/g, (_, n: string) => {
    order.push(Number(n) - 1);
    return '?';
  });
  return { name, sqlite: text, postgres: pg, sqliteOrder: order, ...genericPlan };
}

/** The parameters as the SQLite text of `s` takes them. */
function sqliteParams(s: Statement, params: readonly unknown[]): unknown[] {
  return s.sqliteOrder ? s.sqliteOrder.map((i) => params[i]) : [...params];
}

/**
 * Synchronous reads, where a statement costs no more than a function call (a SQLite file). They run in a
 * read transaction that lasts until the end of the current event-loop turn (or until `release`), so all the
 * reads of the requests served in one turn share one snapshot and one lock of the WAL.
 */
export interface SyncReader {
  all<R>(s: Statement, params: readonly unknown[]): R[];
  /** The first column of every row. */
  column<T>(s: Statement, params: readonly unknown[]): T[];
  /** Runs `fn` with every statement in it seeing the same commit. */
  snapshot<T>(fn: () => T): T;
  /** Which snapshot reads see now: the same number, the same snapshot (nothing committed since is seen). */
  snapshotId(): number;
  /** Ends the current snapshot: the next read sees every commit made so far (called before each write). */
  release(): void;
}

/** Runs statements of this module's kind. */
export interface Reader {
  readonly dialect: 'sqlite' | 'postgres';
  all<R>(s: Statement, params: readonly unknown[]): Promise<R[]>;
  /** Present where reads are cheap enough to make synchronously. */
  readonly sync?: SyncReader;
  close(): void;
}

class SqliteFileReader implements Reader {
  readonly dialect = 'sqlite';
  readonly sync: SyncReader = {
    all: <R>(s: Statement, params: readonly unknown[]) => {
      this.#enter();
      return this.#statement(s).all(...sqliteParams(s, params)) as R[];
    },
    column: <T>(s: Statement, params: readonly unknown[]) => this.#column<T>(s, params),
    snapshot: <T>(fn: () => T) => {
      this.#enter();
      return fn();
    },
    snapshotId: () => this.#snapshotId,
    release: () => this.#leave(),
  };
  #db: SQLite.Database | undefined;
  readonly #prepared = new Map<string, SQLite.Statement>();
  readonly #columns = new Map<string, SQLite.Statement>();
  /** Which read transaction is open: odd while one is, even between. */
  #snapshotId = 0;

  get #inSnapshot(): boolean {
    return (this.#snapshotId & 1) === 1;
  }

  constructor(private readonly file: string) {}

  #open(): SQLite.Database {
    // Opened on first use: by then the main connection has created the file and its WAL.
    if (!this.#db) {
      this.#db = new SQLite(this.file, { readonly: true, fileMustExist: true });
      this.#db.pragma('busy_timeout = 10000');
    }
    return this.#db;
  }

  #statement(s: Statement): SQLite.Statement {
    let stmt = this.#prepared.get(s.name);
    if (!stmt) {
      stmt = this.#open().prepare(s.sqlite);
      this.#prepared.set(s.name, stmt);
    }
    return stmt;
  }

  async all<R>(s: Statement, params: readonly unknown[]): Promise<R[]> {
    return this.sync.all<R>(s, params);
  }

  #column<T>(s: Statement, params: readonly unknown[]): T[] {
    this.#enter();
    let stmt = this.#columns.get(s.name);
    if (!stmt) {
      stmt = this.#open().prepare(s.sqlite).pluck();
      this.#columns.set(s.name, stmt);
    }
    return stmt.all(...sqliteParams(s, params)) as T[];
  }

  /**
   * Opens the turn's read transaction if none is open. A read transaction on SQLite is a WAL read lock
   * (two fcntl calls and shared-memory reads, then as many to release it): taken once per turn instead of
   * once per statement or per request. It ends at the end of the turn (setImmediate), or earlier on
   * `release`, which every write through this process's main connection calls first (connect.ts): a read
   * never misses a write of this process, and sees another process's commit from the next turn on.
   */
  #enter(): void {
    if (this.#inSnapshot) return;
    this.#statement(BEGIN).run();
    this.#snapshotId++;
    const id = this.#snapshotId;
    setImmediate(() => {
      if (this.#snapshotId === id) this.#leave();
    });
  }

  #leave(): void {
    if (!this.#inSnapshot) return;
    this.#snapshotId++;
    if (this.#db) this.#statement(COMMIT).run();
  }

  close(): void {
    this.#leave();
    this.#prepared.clear();
    this.#columns.clear();
    this.#db?.close();
    this.#db = undefined;
  }
}

const BEGIN = statement('begin', 'BEGIN');
const COMMIT = statement('commit', 'COMMIT');

/**
 * Named prepared statements on the pool. PostgreSQL plans a prepared statement afresh for each execution's
 * values (a custom plan) for as long as it estimates such plans cheaper than one plan made for any values
 * (a generic plan), and a custom plan of a statement over arrays knows how long each array is: whether it
 * wins depends on the tables' statistics. Where it did, the replay-memory statement (storage/turnBatch.ts)
 * cost a backend 240–310 µs of CPU per execution, against 60–90 µs with its generic plan. Statements
 * declared `genericPlan` therefore run on a second, smaller pool (storage/connect.ts) whose sessions set
 * `plan_cache_mode = force_generic_plan`: each is planned once per connection (and again after its
 * tables are analyzed or altered); every other statement keeps PostgreSQL's own choice.
 */
class PostgresReader implements Reader {
  readonly dialect = 'postgres';
  /** Connections of the generic-plan pool whose session has been set. */
  readonly #set = new WeakSet<pg.PoolClient>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly genericPool: pg.Pool,
  ) {}

  async all<R>(s: Statement, params: readonly unknown[]): Promise<R[]> {
    const query = { name: `pakman_${s.name}`, text: s.postgres, values: params as unknown[] };
    if (!s.genericPlan) return (await this.pool.query(query)).rows as R[];
    const client = await this.genericPool.connect();
    try {
      if (!this.#set.has(client)) {
        // Once per connection. Should PostgreSQL refuse it, statements are planned as usual.
        await client.query('SET plan_cache_mode = force_generic_plan').catch(() => {});
        this.#set.add(client);
      }
      const res = await client.query(query);
      client.release();
      return res.rows as R[];
    } catch (e) {
      // As pool.query does: a client that failed is closed, not reused.
      client.release(e as Error);
      throw e;
    }
  }

  close(): void {}
}

/** Through Kysely's executor (and so its connection lock): for in-memory SQLite. */
class KyselyReader implements Reader {
  constructor(
    readonly dialect: 'sqlite' | 'postgres',
    private readonly db: Db,
  ) {}

  async all<R>(s: Statement, params: readonly unknown[]): Promise<R[]> {
    const res = await this.db.executeQuery<R>(
      this.dialect === 'sqlite'
        ? CompiledQuery.raw(s.sqlite, sqliteParams(s, params))
        : CompiledQuery.raw(s.postgres, [...params]),
    );
    return res.rows as R[];
  }

  close(): void {}
}

/** Whether running `stmt` (text `sql`) may make a change visible: a write, or the end of a transaction. */
function publishes(stmt: SQLite.Statement, sql: string): boolean {
  // SQLite counts COMMIT (and END, RELEASE) as read-only: they only time the changes of other statements.
  return !stmt.readonly || /^\s*(COMMIT|END|RELEASE)\b/i.test(sql);
}

/**
 * The main SQLite connection as Kysely's dialect sees it, with its prepared statements kept by SQL text:
 * Kysely prepares every query afresh, and SQLite's prepare costs more than running a point query.
 * `beforeWrite` runs whenever a statement that may make a change visible is about to run (Kysely runs what
 * it prepares at once), so that the reader connection's snapshot can be ended: a read that follows a
 * write of this process, in the same event-loop turn or not, sees it.
 */
export function withStatementCache(db: SQLite.Database, beforeWrite: () => void, max = 1000): SqliteDatabase {
  const cache = new Map<string, { stmt: SQLite.Statement; publishes: boolean }>();
  return {
    close: () => db.close(),
    prepare(sql: string) {
      let entry = cache.get(sql);
      if (!entry) {
        if (cache.size >= max) cache.clear();
        const stmt = db.prepare(sql);
        entry = { stmt, publishes: publishes(stmt, sql) };
        cache.set(sql, entry);
      }
      if (entry.publishes) beforeWrite();
      // A statement still being iterated (a stream) cannot run twice at once: prepare another.
      return entry.stmt.busy ? db.prepare(sql) : entry.stmt;
    },
  };
}

const readers = new WeakMap<Db, Reader>();

/** The reader of a database opened by `openDatabase`; undefined for any other handle (e.g. a transaction). */
export function readerFor(db: Db): Reader | undefined {
  return readers.get(db);
}

/** Attaches a reader to a freshly opened database (connect.ts). */
export function attachReader(
  db: Db,
  target:
    | { dialect: 'sqlite'; location: string }
    | { dialect: 'postgres'; pool: pg.Pool; genericPool: pg.Pool },
): void {
  let reader: Reader;
  if (target.dialect === 'postgres') reader = new PostgresReader(target.pool, target.genericPool);
  else if (target.location === ':memory:' || target.location.startsWith('file:'))
    reader = new KyselyReader('sqlite', db);
  else reader = new SqliteFileReader(target.location);
  readers.set(db, reader);
}

/** Closes the reader of `db`, if any (before the database itself closes). */
export function detachReader(db: Db): void {
  readers.get(db)?.close();
  readers.delete(db);
}
