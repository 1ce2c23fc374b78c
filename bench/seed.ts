/**
 * Benchmark data, written straight into the database (bulk INSERT … SELECT generated in SQL, so a
 * million keys take seconds): the 15,000-key org of B1/B4/B5/B6 with the keys that authenticate, and
 * the 1,000 / 100,000 / 1,000,000-key orgs of B2. Filler keys share one dummy HA1: they never sign in.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { storedSecret } from '../src/server/auth/credentials.js';
import { connect } from '../src/server/storage/connect.js';
import type { Creds } from './digest.js';

/** Which engine a benchmark database runs on. */
export type BenchDialect = 'sqlite' | 'postgres';

/** A key the benchmark signs in with. */
export interface BenchKey extends Creds {
  id: string;
}

/** What was seeded and where. */
export interface Layout {
  /** The org of B1/B4/B5/B6 (15,000 keys including the ones below). */
  orgId: string;
  orgKeys: number;
  /** ORG_MEMBER of `orgId`: the B1 reader. */
  reader: BenchKey;
  /** ORG_OWNER of `orgId`: the B5 writer. */
  owner: BenchKey;
  /** ORG_MEMBER keys with a 1-entry and a 200-entry access list (127.0.0.1/32 is the last entry). */
  acl1: BenchKey;
  acl200: BenchKey;
  /** A GLOBAL_READ_ONLY key (reads every org; B2). */
  globalReader: BenchKey;
  /** B2's orgs by size. */
  sized: { keys: number; orgId: string }[];
}

/** A seeded database. */
export interface BenchDatabase {
  url: string;
  dialect: BenchDialect;
  layout: Layout;
  drop(): Promise<void>;
}

const DUMMY_HA1 = '0'.repeat(32);
const DUMMY_HA1_256 = '0'.repeat(64);
const CREATED = '2024-01-01T00:00:00Z';
// Key ids: a fixed second, then a 16-hex-digit sequence, so ids are valid ObjectIds in creation order.
const KEY_PREFIX = '65000000';
const ORG_PREFIX = '64000000';

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');

/** Filler public keys: the sequence number in base 26, 8 letters ('aaa…'); signing keys start 'zzzz'. */
function base26Sql(x: string): string {
  const parts: string[] = [];
  for (let i = 7; i >= 0; i--) parts.push(`(97 + (${x} / ${26 ** i}) % 26)`);
  return parts.join(', ');
}

interface Writer {
  run(sqlite: string, postgres: string, params: unknown[]): Promise<void>;
  close(): Promise<void>;
}

function sqliteWriter(file: string): Writer {
  const db = new SQLite(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  return {
    async run(sql, _pg, params) {
      db.prepare(sql).run(...(params as unknown[]));
    },
    async close() {
      db.pragma('wal_checkpoint(TRUNCATE)');
      db.close();
    },
  };
}

async function postgresWriter(url: string): Promise<Writer> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query('SET synchronous_commit = off');
  return {
    async run(_sqlite, sql, params) {
      await client.query(sql, params);
    },
    async close() {
      await client.query('VACUUM ANALYZE');
      await client.end();
    },
  };
}

/** Inserts `count` filler keys (ORG_MEMBER each) into `orgId`, sequence numbers from `first`. */
async function fillers(w: Writer, orgId: string, first: number, count: number): Promise<void> {
  if (count <= 0) return;
  const last = first + count - 1;
  await w.run(
    `WITH RECURSIVE g(x) AS (SELECT ? UNION ALL SELECT x + 1 FROM g WHERE x < ?)
     INSERT INTO api_keys (id, org_id, public_key, description, ha1_md5, ha1_sha256, key_tail, created)
     SELECT '${KEY_PREFIX}' || printf('%016x', x), ?, char(${base26Sql('x')}), 'bench key ' || x, ?, ?,
            printf('%012x', x), ? FROM g`,
    `INSERT INTO api_keys (id, org_id, public_key, description, ha1_md5, ha1_sha256, key_tail, created)
     SELECT '${KEY_PREFIX}' || lpad(to_hex(x), 16, '0'), $3, ${base26Sql('x')
       .split(', ')
       .map((c) => `chr(${c}::int)`)
       .join(' || ')}, 'bench key ' || x, $4, $5, lpad(to_hex(x), 12, '0'), $6
     FROM generate_series($1::bigint, $2::bigint) AS g(x)`,
    [first, last, orgId, DUMMY_HA1, DUMMY_HA1_256, CREATED],
  );
  const lo = `${KEY_PREFIX}${hex(first, 16)}`;
  const hi = `${KEY_PREFIX}${hex(last, 16)}`;
  await w.run(
    `INSERT INTO api_key_roles (api_key_id, scope, scope_id, role_name)
     SELECT id, 'org', org_id, 'ORG_MEMBER' FROM api_keys WHERE org_id = ? AND id >= ? AND id <= ?`,
    `INSERT INTO api_key_roles (api_key_id, scope, scope_id, role_name)
     SELECT id, 'org', org_id, 'ORG_MEMBER' FROM api_keys WHERE org_id = $1 AND id >= $2 AND id <= $3`,
    [orgId, lo, hi],
  );
}

/** Seeds the layout into a migrated, empty database. */
async function seed(w: Writer, sizes: readonly number[], orgKeys: number): Promise<Layout> {
  let seq = 0;
  let signing = 0;
  const orgIds: string[] = [];
  const newOrg = async (name: string) => {
    const id = `${ORG_PREFIX}${hex(orgIds.length + 1, 16)}`;
    orgIds.push(id);
    await w.run(
      'INSERT INTO orgs (id, name, created) VALUES (?, ?, ?)',
      'INSERT INTO orgs VALUES ($1, $2, $3)',
      [id, name, CREATED],
    );
    return id;
  };
  const key = async (
    orgId: string | null,
    scope: string,
    scopeId: string,
    role: string,
  ): Promise<BenchKey> => {
    const id = `${KEY_PREFIX}${hex(seq++, 16)}`;
    let n = signing++;
    let letters = '';
    for (let i = 0; i < 4; i++, n = Math.floor(n / 26))
      letters = String.fromCharCode(97 + (n % 26)) + letters;
    const publicKey = `zzzz${letters}`;
    const privateKey = randomUUID();
    const s = storedSecret(publicKey, privateKey);
    await w.run(
      'INSERT INTO api_keys (id, org_id, public_key, description, ha1_md5, ha1_sha256, key_tail, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      'INSERT INTO api_keys (id, org_id, public_key, description, ha1_md5, ha1_sha256, key_tail, created) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
      [id, orgId, publicKey, `bench ${role}`, s.ha1Md5, s.ha1Sha256, s.keyTail, CREATED],
    );
    await w.run(
      'INSERT INTO api_key_roles (api_key_id, scope, scope_id, role_name) VALUES (?, ?, ?, ?)',
      'INSERT INTO api_key_roles (api_key_id, scope, scope_id, role_name) VALUES ($1, $2, $3, $4)',
      [id, scope, scopeId, role],
    );
    return { id, publicKey, privateKey };
  };
  const allow = async (k: BenchKey, cidrs: string[]) => {
    for (const cidr of cidrs) {
      await w.run(
        'INSERT INTO api_key_access_list (api_key_id, cidr_block, ip_address, created, count) VALUES (?, ?, ?, ?, 0)',
        'INSERT INTO api_key_access_list (api_key_id, cidr_block, ip_address, created, count) VALUES ($1, $2, $3, $4, 0)',
        [k.id, cidr, cidr.replace(/\/32$/, ''), CREATED],
      );
    }
  };

  const orgId = await newOrg('bench-15k');
  const globalReader = await key(null, 'global', '', 'GLOBAL_READ_ONLY');
  const reader = await key(orgId, 'org', orgId, 'ORG_MEMBER');
  const owner = await key(orgId, 'org', orgId, 'ORG_OWNER');
  const acl1 = await key(orgId, 'org', orgId, 'ORG_MEMBER');
  const acl200 = await key(orgId, 'org', orgId, 'ORG_MEMBER');
  await allow(acl1, ['127.0.0.1/32']);
  const others = Array.from({ length: 199 }, (_, i) => `10.0.${i >> 8}.${i & 255}/32`);
  // Stored (and loaded) in cidr_block order, so 127.0.0.1/32 comes after all 199 others.
  await allow(acl200, [...others, '127.0.0.1/32']);
  await fillers(w, orgId, seq, orgKeys - 4);
  seq += orgKeys - 4;

  const sized: Layout['sized'] = [];
  for (const n of sizes) {
    const id = await newOrg(`bench-${n}`);
    await fillers(w, id, seq, n);
    seq += n;
    sized.push({ keys: n, orgId: id });
  }
  return { orgId, orgKeys, reader, owner, acl1, acl200, globalReader, sized };
}

/** Creates, migrates and seeds a fresh database; `drop` removes it. */
export async function createBenchDatabase(
  dialect: BenchDialect,
  postgresAdminUrl: string,
  sizes: readonly number[],
  orgKeys = 15_000,
): Promise<BenchDatabase> {
  let url: string;
  let drop: () => Promise<void>;
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'pakman-bench-'));
    url = `sqlite:${join(dir, 'bench.db')}`;
    drop = async () => rmSync(dir, { recursive: true, force: true });
  } else {
    const name = `pakman_bench_${randomBytes(5).toString('hex')}`;
    const admin = new pg.Client({ connectionString: postgresAdminUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const u = new URL(postgresAdminUrl);
    u.pathname = `/${name}`;
    url = u.toString();
    drop = async () => {
      const a = new pg.Client({ connectionString: postgresAdminUrl });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    };
  }
  try {
    const conn = await connect(url);
    await conn.close();
    const w = dialect === 'sqlite' ? sqliteWriter(url.slice('sqlite:'.length)) : await postgresWriter(url);
    const layout = await seed(w, sizes, orgKeys);
    await w.close();
    return { url, dialect, layout, drop };
  } catch (e) {
    await drop();
    throw e;
  }
}
