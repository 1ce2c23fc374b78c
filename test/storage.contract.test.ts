/**
 * The storage contract: what the repositories promise, checked the same way on every database in
 * DIALECTS (SQLite always, PostgreSQL when PAKMAN_TEST_POSTGRES_URL is set). Where several nodes matter
 * (first writer wins, replay memory, usage increments, migrations) PostgreSQL runs each "node" on its own
 * connection pool; SQLite has one node per file, so its "nodes" share one connection.
 */
import { rmSync } from 'node:fs';
import SQLite from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { newObjectId } from '../src/schema/ids.js';
import type { RoleAssignment, RoleName } from '../src/schema/roles.js';
import { generateKeyPair, storedSecret } from '../src/server/auth/credentials.js';
import { rateLimiterFor, type SharedRateLimiter } from '../src/server/auth/rateLimit.js';
import { DatabaseReplayGuard, replayKey } from '../src/server/auth/replay.js';
import { UsageRecorder } from '../src/server/auth/usage.js';
import { type Connection, connect, isUniqueViolation, migrate } from '../src/server/storage/connect.js';
import type { Db } from '../src/server/storage/database.js';
import { migrationProvider } from '../src/server/storage/migrations/index.js';
import { readerFor, statement } from '../src/server/storage/reader.js';
import { apiKeys, type NewApiKey } from '../src/server/storage/repositories/apiKeys.js';
import { consoleSessions } from '../src/server/storage/repositories/consoleSessions.js';
import { keyLifecycle } from '../src/server/storage/repositories/keyLifecycle.js';
import { orgs } from '../src/server/storage/repositories/orgs.js';
import { rateLimits } from '../src/server/storage/repositories/rateLimits.js';
import { settings } from '../src/server/storage/repositories/settings.js';
import { users } from '../src/server/storage/repositories/users.js';
import { turnBatchFor } from '../src/server/storage/turnBatch.js';
import { DIALECTS } from './support/dialects.js';
import { dropDatabase, POSTGRES_URL } from './support/postgres.js';
import { freshDatabaseUrl } from './support/server.js';

const org = (scopeId: string, roleName: RoleName): RoleAssignment => ({ scope: 'org', scopeId, roleName });
const group = (scopeId: string, roleName: RoleName): RoleAssignment => ({
  scope: 'group',
  scopeId,
  roleName,
});
const global = (roleName: RoleName): RoleAssignment => ({ scope: 'global', scopeId: '', roleName });

let clock = Date.UTC(2024, 0, 1);
/** Strictly increasing ids, so "ordered by id" has one right answer. */
function nextId(): string {
  clock += 1000;
  return newObjectId(clock);
}

function newKey(orgId: string | null, desc = 'k'): NewApiKey {
  const m = generateKeyPair();
  return { ...m, id: nextId(), orgId, desc, created: '2024-01-01T00:00:00Z' };
}

/** The error a promise rejects with (fails the test if it resolves). */
async function failure(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected the statement to fail');
}

describe.each(DIALECTS)('storage contract (%s)', (dialect) => {
  let conn: Connection;
  let url: string;
  let dir: string;
  const extra: Connection[] = [];

  /** `n` handles standing for `n` nodes on this database. */
  async function nodes(n: number): Promise<Db[]> {
    if (dialect === 'sqlite') return Array.from({ length: n }, () => conn.db);
    const opened = await Promise.all(Array.from({ length: n }, () => connect(url)));
    extra.push(...opened);
    return opened.map((c) => c.db);
  }

  beforeAll(async () => {
    ({ url, dir } = await freshDatabaseUrl(dialect));
    conn = await connect(url);
    expect(conn.dialect).toBe(dialect);
  });

  afterAll(async () => {
    await Promise.all(extra.map((c) => c.close()));
    await conn?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (dialect === 'postgres' && url) await dropDatabase(url);
  });

  it('applies every migration once; applying again changes nothing', async () => {
    await migrate(conn.db);
    const rows = await conn.db
      .selectFrom('kysely_migration' as never)
      .select('name' as never)
      .execute();
    const names = (rows as { name: string }[]).map((r) => r.name).sort();
    expect(names).toEqual(Object.keys(await migrationProvider.getMigrations()).sort());
  });

  it('detects unique and primary-key violations, and nothing else, with isUniqueViolation', async () => {
    const a = { id: nextId(), name: 'Unique Org', created: '2024-01-01T00:00:00Z' };
    await orgs.insert(conn.db, a);
    // unique column
    const sameName = await failure(orgs.insert(conn.db, { ...a, id: nextId() }));
    expect(isUniqueViolation(sameName)).toBe(true);
    // primary key
    const sameId = await failure(orgs.insert(conn.db, { ...a, name: 'Another Name' }));
    expect(isUniqueViolation(sameId)).toBe(true);
    // composite primary key
    const key = newKey(a.id);
    await apiKeys.insert(conn.db, key, [org(a.id, 'ORG_MEMBER')]);
    const sameRole = await failure(
      conn.db
        .insertInto('api_key_roles')
        .values({ api_key_id: key.id, scope: 'org', scope_id: a.id, role_name: 'ORG_MEMBER' })
        .execute(),
    );
    expect(isUniqueViolation(sameRole)).toBe(true);
    // unique public key
    const samePublic = await failure(
      apiKeys.insert(conn.db, { ...newKey(a.id), publicKey: key.publicKey }, []),
    );
    expect(isUniqueViolation(samePublic)).toBe(true);
    // inside a transaction too (PostgreSQL aborts it; the error still says what happened)
    const inTrx = await failure(
      conn.db.transaction().execute(async (trx) => {
        await orgs.insert(trx, { id: nextId(), name: 'Fresh', created: a.created });
        await orgs.insert(trx, { ...a, id: nextId() });
      }),
    );
    expect(isUniqueViolation(inTrx)).toBe(true);
    expect((await orgs.list(conn.db, { name: 'Fresh', ids: null }, 0, 10)).totalCount).toBe(0);
    // foreign key and not-null violations are something else
    const orphan = await failure(
      conn.db
        .insertInto('api_key_roles')
        .values({ api_key_id: nextId(), scope: 'org', scope_id: a.id, role_name: 'ORG_MEMBER' })
        .execute(),
    );
    expect(isUniqueViolation(orphan)).toBe(false);
    const nullName = await failure(
      conn.db
        .insertInto('orgs')
        .values({ id: nextId(), name: null as unknown as string, created: a.created })
        .execute(),
    );
    expect(isUniqueViolation(nullName)).toBe(false);
    expect(isUniqueViolation(new Error('duplicate key'))).toBe(false);
    expect(isUniqueViolation(null)).toBe(false);
  });

  it('settings: get, getOrInsert (first writer wins), insertOnce', async () => {
    expect(await settings.get(conn.db, 'missing')).toBeUndefined();
    expect(await settings.getOrInsert(conn.db, 'one', 'first')).toBe('first');
    expect(await settings.getOrInsert(conn.db, 'one', 'second')).toBe('first');
    expect(await settings.get(conn.db, 'one')).toBe('first');
    expect(await settings.insertOnce(conn.db, 'once', 'x')).toBe(true);
    expect(await settings.insertOnce(conn.db, 'once', 'y')).toBe(false);
    expect(await settings.get(conn.db, 'once')).toBe('x');
  });

  it('settings: of many nodes racing, all get the one value stored, and exactly one insertOnce wins', async () => {
    const dbs = await nodes(6);
    const values = await Promise.all(
      dbs.map((db, i) => settings.getOrInsert(db, 'race.secret', `value-${i}`)),
    );
    const stored = await settings.get(conn.db, 'race.secret');
    expect(stored).toMatch(/^value-\d$/);
    expect(new Set(values)).toEqual(new Set([stored]));
    const wins = await Promise.all(dbs.map((db, i) => settings.insertOnce(db, 'race.once', `v${i}`)));
    expect(wins.filter(Boolean)).toHaveLength(1);
    expect(await settings.get(conn.db, 'race.once')).toBe(`v${wins.indexOf(true)}`);
  });

  describe('api keys', () => {
    const orgA = nextId();
    const orgB = nextId();
    const proj1 = nextId();
    const proj2 = nextId();
    const keysA: NewApiKey[] = [];

    beforeAll(async () => {
      await orgs.insert(conn.db, { id: orgA, name: 'Keys A', created: '2024-01-01T00:00:00Z' });
      await orgs.insert(conn.db, { id: orgB, name: 'Keys B', created: '2024-01-01T00:00:00Z' });
      for (let i = 0; i < 7; i++) {
        const k = newKey(orgA, `a${i}`);
        keysA.push(k);
        // Every other key also holds roles in projects, some in two.
        const roles = [org(orgA, i % 3 === 0 ? 'ORG_OWNER' : 'ORG_MEMBER')];
        if (i % 2 === 0) roles.push(group(proj1, 'GROUP_READ_ONLY'), group(proj1, 'GROUP_OWNER'));
        if (i % 4 === 0) roles.push(group(proj2, 'GROUP_READ_ONLY'));
        await apiKeys.insert(conn.db, k, roles);
      }
      await apiKeys.insert(conn.db, newKey(orgB), [org(orgB, 'ORG_READ_ONLY')]);
      await apiKeys.insert(conn.db, newKey(null, 'global'), [global('GLOBAL_READ_ONLY')]);
    });

    it('inserts and reads back a key with its roles in wire order, and its credential', async () => {
      const k = keysA[0]!;
      const rec = await apiKeys.findById(conn.db, k.id);
      expect(rec).toEqual({
        id: k.id,
        orgId: orgA,
        publicKey: k.publicKey,
        desc: 'a0',
        keyTail: k.keyTail,
        created: k.created,
        expiresAt: null,
        roles: [
          org(orgA, 'ORG_OWNER'),
          group(proj1, 'GROUP_OWNER'),
          group(proj1, 'GROUP_READ_ONLY'),
          group(proj2, 'GROUP_READ_ONLY'),
        ],
      });
      expect(await apiKeys.findCredential(conn.db, k.publicKey)).toEqual({
        id: k.id,
        orgId: orgA,
        publicKey: k.publicKey,
        ha1Md5: k.ha1Md5,
        ha1Sha256: k.ha1Sha256,
      });
      expect(await apiKeys.findById(conn.db, nextId())).toBeUndefined();
      expect(await apiKeys.findCredential(conn.db, 'zzzzzzzz')).toBeUndefined();
    });

    it('lists an org by id ascending, page by page, and counts with a number', async () => {
      const all = await apiKeys.listByOrg(conn.db, orgA, 0, 100);
      expect(all.map((k) => k.id)).toEqual(keysA.map((k) => k.id));
      const pages = [
        await apiKeys.listByOrg(conn.db, orgA, 0, 3),
        await apiKeys.listByOrg(conn.db, orgA, 3, 3),
        await apiKeys.listByOrg(conn.db, orgA, 6, 3),
        await apiKeys.listByOrg(conn.db, orgA, 9, 3),
      ];
      expect(pages.map((p) => p.length)).toEqual([3, 3, 1, 0]);
      expect(pages.flat().map((k) => k.id)).toEqual(keysA.map((k) => k.id));
      const count = await apiKeys.countByOrg(conn.db, orgA);
      expect(count).toBe(7);
      expect(typeof count).toBe('number');
      expect(await apiKeys.countByOrg(conn.db, orgB)).toBe(1);
      expect(await apiKeys.countByOrg(conn.db, nextId())).toBe(0);
      const globals = await apiKeys.listByOrg(conn.db, null, 0, 10);
      expect(globals.map((k) => k.desc)).toEqual(['global']);
      expect(await apiKeys.countByOrg(conn.db, null)).toBe(1);
    });

    it('lists and counts a project distinctly (a key with two roles there counts once)', async () => {
      const inProj1 = keysA.filter((_, i) => i % 2 === 0).map((k) => k.id);
      expect((await apiKeys.listByGroup(conn.db, proj1, 0, 100)).map((k) => k.id)).toEqual(inProj1);
      expect((await apiKeys.listByGroup(conn.db, proj1, 1, 2)).map((k) => k.id)).toEqual(inProj1.slice(1, 3));
      const n = await apiKeys.countByGroup(conn.db, proj1);
      expect(n).toBe(inProj1.length);
      expect(typeof n).toBe('number');
      expect(await apiKeys.countByGroup(conn.db, proj2)).toBe(2);
      expect(await apiKeys.countByGroup(conn.db, nextId())).toBe(0);
    });

    it('replaceRoles replaces one scope and leaves the others; updateDesc changes only the description', async () => {
      const k = keysA[4]!;
      await apiKeys.replaceRoles(conn.db, k.id, orgA, [
        org(orgA, 'ORG_READ_ONLY'),
        org(orgA, 'ORG_GROUP_CREATOR'),
      ]);
      expect((await apiKeys.roles(conn.db, k.id)).map((r) => `${r.scopeId}:${r.roleName}`)).toEqual([
        `${orgA}:ORG_GROUP_CREATOR`,
        `${orgA}:ORG_READ_ONLY`,
        `${proj1}:GROUP_OWNER`,
        `${proj1}:GROUP_READ_ONLY`,
        `${proj2}:GROUP_READ_ONLY`,
      ]);
      await apiKeys.replaceRoles(conn.db, k.id, proj1, []);
      expect((await apiKeys.roles(conn.db, k.id)).map((r) => r.scopeId)).toEqual([orgA, orgA, proj2]);
      await apiKeys.updateDesc(conn.db, k.id, 'renamed');
      const rec = await apiKeys.findById(conn.db, k.id);
      expect(rec?.desc).toBe('renamed');
      expect(rec?.publicKey).toBe(k.publicKey);
      expect((await apiKeys.findCredential(conn.db, k.publicKey))?.ha1Md5).toBe(k.ha1Md5);
    });

    it('delete removes the key, its roles and its access list, once', async () => {
      const k = keysA[6]!;
      await conn.db
        .insertInto('api_key_access_list')
        .values({
          api_key_id: k.id,
          cidr_block: '10.0.0.0/8',
          ip_address: null,
          created: '2024-01-01T00:00:00Z',
          count: 0,
          last_used: null,
          last_used_address: null,
        })
        .execute();
      expect(await apiKeys.delete(conn.db, k.id)).toBe(true);
      expect(await apiKeys.delete(conn.db, k.id)).toBe(false);
      expect(await apiKeys.findById(conn.db, k.id)).toBeUndefined();
      expect(await apiKeys.findCredential(conn.db, k.publicKey)).toBeUndefined();
      expect(await apiKeys.roles(conn.db, k.id)).toEqual([]);
      const left = await conn.db
        .selectFrom('api_key_access_list')
        .select('cidr_block')
        .where('api_key_id', '=', k.id)
        .execute();
      expect(left).toEqual([]);
      expect(await apiKeys.countByOrg(conn.db, orgA)).toBe(6);
    });

    it('a key without roles is still found and listed, with no roles', async () => {
      const k = newKey(orgB, 'bare');
      await apiKeys.insert(conn.db, k, []);
      expect((await apiKeys.findById(conn.db, k.id))?.roles).toEqual([]);
      const listed = await apiKeys.listByOrg(conn.db, orgB, 0, 10);
      expect(listed.map((x) => [x.desc, x.roles.length])).toEqual([
        ['k', 1],
        ['bare', 0],
      ]);
      expect(await apiKeys.countByOrg(conn.db, orgB)).toBe(2);
    });

    it('lock() reads the key (undefined when there is none) and holds its row until the transaction ends', async () => {
      const k = keysA[1]!;
      expect(await apiKeys.lock(conn.db, k.id)).toEqual({
        id: k.id,
        orgId: orgA,
        publicKey: k.publicKey,
        desc: 'a1',
        expiresAt: null,
      });
      expect(await apiKeys.lock(conn.db, nextId())).toBeUndefined();
      expect((await apiKeys.findById(conn.db, k.id))?.desc).toBe('a1');
      if (dialect !== 'postgres') return;
      // Another node's change of the same key waits for the holder to commit, then applies in full.
      const [other] = await nodes(1);
      let release!: () => void;
      const held = new Promise<void>((r) => {
        release = r;
      });
      let locked!: () => void;
      const isLocked = new Promise<void>((r) => {
        locked = r;
      });
      const holder = conn.db.transaction().execute(async (trx) => {
        await apiKeys.lock(trx, k.id);
        await apiKeys.replaceRoles(trx, k.id, orgA, [org(orgA, 'ORG_READ_ONLY')]);
        locked();
        await held;
      });
      await isLocked;
      let waiterDone = false;
      const waiter = other!
        .transaction()
        .execute(async (trx) => {
          await apiKeys.lock(trx, k.id);
          await apiKeys.replaceRoles(trx, k.id, orgA, [org(orgA, 'ORG_GROUP_CREATOR')]);
        })
        .then(() => {
          waiterDone = true;
        });
      await new Promise((r) => setTimeout(r, 300));
      expect(waiterDone).toBe(false);
      release();
      await Promise.all([holder, waiter]);
      expect((await apiKeys.roles(conn.db, k.id)).filter((r) => r.scope === 'org')).toEqual([
        org(orgA, 'ORG_GROUP_CREATOR'),
      ]);
    });

    it('a transaction that fails leaves nothing behind', async () => {
      const k = newKey(orgA);
      await failure(
        conn.db.transaction().execute(async (trx) => {
          await apiKeys.insert(trx, k, [org(orgA, 'ORG_MEMBER')]);
          throw new Error('abort');
        }),
      );
      expect(await apiKeys.findById(conn.db, k.id)).toBeUndefined();
      expect(await apiKeys.roles(conn.db, k.id)).toEqual([]);
    });
  });

  it.runIf(dialect === 'sqlite')(
    "SQLite reads share one snapshot per event-loop turn, and see this process's writes at once",
    async () => {
      const sync = readerFor(conn.db)!.sync!;
      const count = statement('test_org_count', 'SELECT count(*) FROM orgs');
      const orgCount = () => sync.column<number>(count, [])[0]!;
      const other = new SQLite(url.replace(/^sqlite:/, ''));
      try {
        const before = orgCount();
        // Another process's commit is seen from the next turn on, not by reads of this turn's snapshot.
        other
          .prepare("INSERT INTO orgs (id, name, created) VALUES (?, 'Other process', '2024-01-01T00:00:00Z')")
          .run(nextId());
        expect(orgCount()).toBe(before);
        await new Promise((r) => setImmediate(r));
        expect(orgCount()).toBe(before + 1);
        // A write through this process's own connection is seen by the very next read, in the same turn.
        const id = nextId();
        await orgs.insert(conn.db, { id, name: 'Same turn', created: '2024-01-01T00:00:00Z' });
        expect(orgCount()).toBe(before + 2);
        expect(await orgs.exists(conn.db, id)).toBe(true);
        await conn.db.transaction().execute(async (trx) => {
          await trx.deleteFrom('orgs').where('id', '=', id).execute();
          expect(orgCount()).toBe(before + 2);
        });
        expect(await orgs.exists(conn.db, id)).toBe(false);
      } finally {
        other.close();
      }
    },
  );

  it('orgs: list with name and id filters counts with a number', async () => {
    const ids = [nextId(), nextId(), nextId()];
    for (const [i, id] of ids.entries())
      await orgs.insert(conn.db, { id, name: `Listed ${i}`, created: '2024-01-01T00:00:00Z' });
    const byIds = await orgs.list(conn.db, { ids }, 1, 1);
    expect(byIds.items.map((o) => o.id)).toEqual([ids[1]]);
    expect(byIds.totalCount).toBe(3);
    expect(typeof byIds.totalCount).toBe('number');
    const byName = await orgs.list(conn.db, { name: 'Listed 2', ids: null }, 0, 10);
    expect(byName).toEqual({
      items: [{ id: ids[2], name: 'Listed 2', created: '2024-01-01T00:00:00Z' }],
      totalCount: 1,
    });
    expect(await orgs.list(conn.db, { ids: [] }, 0, 10)).toEqual({ items: [], totalCount: 0 });
  });

  it('users: insert with roles, find by id and name, personal key credentials', async () => {
    const id = nextId();
    const user = {
      id,
      username: 'contract@example.com',
      firstName: 'Con',
      lastName: 'Tract',
      emailAddress: null,
      mobileNumber: null,
      country: 'NL',
      created: '2024-01-01T00:00:00Z',
    };
    await users.insert(conn.db, { ...user, passwordHash: 'scrypt$x' }, [global('GLOBAL_OWNER')]);
    const m = generateKeyPair();
    await users.addPersonalKey(conn.db, { id: nextId(), userId: id, created: user.created, ...m });
    expect(await users.findById(conn.db, id)).toMatchObject({ ...user, roles: [global('GLOBAL_OWNER')] });
    expect((await users.findByUsername(conn.db, 'contract@example.com'))?.id).toBe(id);
    expect(await users.personalKeyCredentials(conn.db, 'contract@example.com')).toEqual([
      { userId: id, ha1Md5: m.ha1Md5, ha1Sha256: m.ha1Sha256, expiresAt: null },
    ]);
    expect(await users.any(conn.db)).toBe(true);
    const dup = await failure(users.insert(conn.db, { ...user, id: nextId(), passwordHash: 'x' }, []));
    expect(isUniqueViolation(dup)).toBe(true);
  });

  it('console sessions: stored by token hash with times as numbers; touch, delete and sweep', async () => {
    const u = {
      id: nextId(),
      username: 'session@example.com',
      passwordHash: 'scrypt$x',
      firstName: 'S',
      lastName: 'E',
      emailAddress: null,
      mobileNumber: null,
      country: null,
      created: '2024-01-01T00:00:00Z',
    };
    await users.insert(conn.db, u, []);
    expect(await consoleSessions.credentials(conn.db, u.username)).toEqual({
      id: u.id,
      passwordHash: 'scrypt$x',
    });
    expect(await consoleSessions.credentials(conn.db, 'nobody')).toBeUndefined();
    const t0 = 1_750_000_000_000; // beyond 32 bits: BIGINT columns
    await consoleSessions.insert(conn.db, 'a'.repeat(64), u.id, t0, t0 + 7 * 86_400_000);
    await consoleSessions.insert(conn.db, 'b'.repeat(64), u.id, t0, t0 + 7 * 86_400_000);
    expect(await consoleSessions.find(conn.db, 'a'.repeat(64))).toEqual({
      tokenHash: 'a'.repeat(64),
      userId: u.id,
      username: u.username,
      firstName: 'S',
      lastName: 'E',
      created: t0,
      lastSeen: t0,
      expires: t0 + 7 * 86_400_000,
    });
    await consoleSessions.touch(conn.db, 'a'.repeat(64), t0 + 5000);
    expect((await consoleSessions.find(conn.db, 'a'.repeat(64)))?.lastSeen).toBe(t0 + 5000);
    // Idle before t0 + 1000: only b (last seen at t0) goes.
    await consoleSessions.sweep(conn.db, t0 + 6000, t0 + 1000);
    expect(await consoleSessions.find(conn.db, 'b'.repeat(64))).toBeUndefined();
    await consoleSessions.delete(conn.db, 'a'.repeat(64));
    expect(await consoleSessions.find(conn.db, 'a'.repeat(64))).toBeUndefined();
  });

  it('console sign-in failures: increments from several nodes add up; the count restarts after the window; a lock only grows', async () => {
    const handles = await nodes(4);
    const t0 = 1_750_000_000_000;
    const counts = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        consoleSessions.fail(handles[i % 4]!, 'u:race', t0 + i, t0 - 60_000),
      ),
    );
    // Every increment counted once: the answers are 1…20 in some order.
    expect([...counts].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    await consoleSessions.lock(conn.db, 'u:race', t0 + 10_000);
    await consoleSessions.lock(conn.db, 'u:race', t0 + 5_000);
    expect(await consoleSessions.failures(conn.db, ['u:race', 'a:none'])).toEqual([
      { key: 'u:race', failures: 20, lockedUntil: t0 + 10_000 },
    ]);
    // The last failure is older than the window's start: counting starts again at 1.
    expect(await consoleSessions.fail(conn.db, 'u:race', t0 + 20 * 60_000, t0 + 60_000)).toBe(1);
    await consoleSessions.clear(conn.db, 'u:race');
    expect(await consoleSessions.failures(conn.db, ['u:race'])).toEqual([]);
  });

  it('integer columns read back as numbers (events.is_global_admin, access-list counts)', async () => {
    const id = nextId();
    await conn.db
      .insertInto('events')
      .values({
        id,
        created: '2024-01-01T00:00:00Z',
        event_type: 'API_KEY_CREATED',
        org_id: null,
        group_id: null,
        api_key_id: null,
        target_public_key: null,
        target_username: null,
        actor_public_key: null,
        actor_username: null,
        actor_user_id: null,
        remote_address: '127.0.0.1',
        whitelist_entry: null,
        is_global_admin: 1,
      })
      .execute();
    const row = await conn.db
      .selectFrom('events')
      .select('is_global_admin')
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(row.is_global_admin).toBe(1);
    // Counters are 64-bit on both engines (002_postgres_tuning widens PostgreSQL's 32-bit integer).
    const big = 2 ** 40;
    await conn.db
      .insertInto('global_access_list')
      .values({
        id: nextId(),
        cidr_block: '203.0.113.0/24',
        description: 'big',
        created: '2024-01-01T00:00:00Z',
        updated: '2024-01-01T00:00:00Z',
        count: big,
        last_used: null,
        last_used_address: null,
      })
      .execute();
    const g = await conn.db
      .selectFrom('global_access_list')
      .select('count')
      .where('cidr_block', '=', '203.0.113.0/24')
      .executeTakeFirstOrThrow();
    expect(g.count).toBe(big);
  });

  it('usage: increments from several nodes add up, and lastUsed only moves forward', async () => {
    const orgId = nextId();
    await orgs.insert(conn.db, { id: orgId, name: 'Usage', created: '2024-01-01T00:00:00Z' });
    const key = newKey(orgId);
    await apiKeys.insert(conn.db, key, [org(orgId, 'ORG_MEMBER')]);
    const blocks = ['192.0.2.0/24', '198.51.100.7/32'];
    for (const cidr_block of blocks) {
      await conn.db
        .insertInto('api_key_access_list')
        .values({
          api_key_id: key.id,
          cidr_block,
          ip_address: null,
          created: '2024-01-01T00:00:00Z',
          count: 0,
          last_used: null,
          last_used_address: null,
        })
        .execute();
    }
    const dbs = await nodes(3);
    // Long intervals: the test decides when each node flushes.
    const recorders = dbs.map((db) => new UsageRecorder(db, 3_600_000));
    const perNode = [500, 300, 200];
    let second = 0;
    const when = () =>
      `2024-02-01T00:${String(Math.floor(second / 60)).padStart(2, '0')}:${String(second % 60).padStart(2, '0')}Z`;
    const latest = new Map<string, string>();
    // Hits and flushes interleave across nodes; SQLite's nodes share a connection and flush in turn.
    const rounds = 5;
    for (let r = 0; r < rounds; r++) {
      recorders.forEach((rec, i) => {
        for (let n = 0; n < perNode[i]! / rounds; n++) {
          rec.hit('api_key_access_list', key.id, blocks[n % 2]!, `192.0.2.${i + 1}`, when());
          latest.set(blocks[n % 2]!, when());
        }
        second++;
      });
      if (dialect === 'postgres') await Promise.all(recorders.map((rec) => rec.flush()));
      else for (const rec of recorders) await rec.flush();
    }
    // A node whose batch is older flushes last: the newer lastUsed stays.
    recorders[0]!.hit('api_key_access_list', key.id, blocks[0]!, '192.0.2.200', '2024-03-01T00:00:00Z');
    recorders[1]!.hit('api_key_access_list', key.id, blocks[0]!, '192.0.2.100', '2024-02-15T00:00:00Z');
    await recorders[0]!.flush();
    await recorders[1]!.flush();
    for (const rec of recorders) await rec.close();
    const rows = await conn.db
      .selectFrom('api_key_access_list')
      .select(['cidr_block', 'count', 'last_used', 'last_used_address'])
      .where('api_key_id', '=', key.id)
      .orderBy('cidr_block')
      .execute();
    const total = rows.reduce((s, r) => s + r.count, 0);
    expect(total).toBe(500 + 300 + 200 + 2);
    expect(rows.map((r) => typeof r.count)).toEqual(['number', 'number']);
    expect(rows[0]).toMatchObject({
      cidr_block: '192.0.2.0/24',
      last_used: '2024-03-01T00:00:00Z',
      last_used_address: '192.0.2.200',
    });
    expect(rows[1]!.last_used).toBe(latest.get(blocks[1]!));
    expect(rows[1]!.last_used_address).toBe('192.0.2.3');
  });

  it('key usage: hourly counts from several nodes add up, lastUsed only moves forward, deleted keys are skipped', async () => {
    const orgId = nextId();
    await orgs.insert(conn.db, { id: orgId, name: 'Key usage', created: '2024-01-01T00:00:00Z' });
    const key = newKey(orgId);
    const gone = newKey(orgId);
    await apiKeys.insert(conn.db, key, []);
    await apiKeys.insert(conn.db, gone, []);
    const dbs = await nodes(3);
    const recorders = dbs.map((db) => new UsageRecorder(db, 3_600_000));
    const t0 = Date.parse('2024-05-01T10:00:00Z');
    const perNode = [400, 250, 150];
    // Each node's uses straddle the hour: 10:59:xx then 11:00:xx, in one batch.
    recorders.forEach((rec, i) => {
      for (let n = 0; n < perNode[i]!; n++)
        rec.used(key.id, t0 + (n % 2 === 0 ? 59 * 60_000 : 60 * 60_000) + i);
      rec.used(gone.id, t0);
    });
    recorders[2]!.used(key.id, t0 + 2 * 3_600_000 + 5 * 60_000 + 30_000);
    await apiKeys.delete(conn.db, gone.id);
    if (dialect === 'postgres') await Promise.all(recorders.map((rec) => rec.flush()));
    else for (const rec of recorders) await rec.flush();
    // An older use flushed later leaves lastUsed where it is.
    recorders[0]!.used(key.id, t0);
    for (const rec of recorders) await rec.close();
    const hours = await keyLifecycle.usage(conn.db, key.id, '2024-05-01T00:00:00Z', '2024-05-02T00:00:00Z');
    expect(hours).toEqual([
      { start: '2024-05-01T10:00:00Z', count: 200 + 125 + 75 + 1 },
      { start: '2024-05-01T11:00:00Z', count: 200 + 125 + 75 },
      { start: '2024-05-01T12:00:00Z', count: 1 },
    ]);
    expect(await keyLifecycle.lastUsed(conn.db, key.id)).toBe('2024-05-01T12:05:00Z');
    expect(await keyLifecycle.lastUsed(conn.db, gone.id)).toBeUndefined();
    const left = await conn.db
      .selectFrom('api_key_usage')
      .select('api_key_id')
      .where('api_key_id', '=', gone.id)
      .execute();
    expect(left).toEqual([]);
  });

  it('key lifecycle: expiry, rotation, the expiry claim (once across nodes), policy, unused keys, sweeps', async () => {
    const orgId = nextId();
    await orgs.insert(conn.db, { id: orgId, name: 'Lifecycle', created: '2024-01-01T00:00:00Z' });
    const a = newKey(orgId);
    const b = { ...newKey(orgId), expiresAt: '2024-06-01T00:00:00Z' };
    await apiKeys.insert(conn.db, a, []);
    await apiKeys.insert(conn.db, b, []);
    expect((await apiKeys.findById(conn.db, b.id))?.expiresAt).toBe('2024-06-01T00:00:00Z');
    await keyLifecycle.setExpiry(conn.db, a.id, '2024-06-01T00:00:10Z');
    expect((await apiKeys.lock(conn.db, a.id))?.expiresAt).toBe('2024-06-01T00:00:10Z');
    // Claims: each expired key once, however many nodes ask at the same moment.
    const dbs = await nodes(3);
    const claims = await Promise.all(
      dbs.map((db) =>
        db.transaction().execute((trx) => keyLifecycle.claimExpired(trx, '2024-06-01T00:00:05Z')),
      ),
    );
    expect(claims.flat().map((c) => c.id)).toEqual([b.id]);
    expect(await keyLifecycle.claimExpired(conn.db, '2024-06-01T00:00:10Z')).toEqual([
      { id: a.id, orgId, publicKey: a.publicKey, expiresAt: '2024-06-01T00:00:10Z' },
    ]);
    expect(await keyLifecycle.claimExpired(conn.db, '2025-01-01T00:00:00Z')).toEqual([]);
    // A new expiry is claimable afresh.
    await keyLifecycle.setExpiry(conn.db, a.id, '2024-07-01T00:00:00Z');
    expect((await keyLifecycle.claimExpired(conn.db, '2025-01-01T00:00:00Z')).map((c) => c.id)).toEqual([
      a.id,
    ]);

    // Rotation keeps the old HA1 values (moved in SQL) beside the new ones until the grace end.
    const before = await apiKeys.findCredential(conn.db, a.publicKey);
    const next = storedSecret(a.publicKey, 'new-secret-0000-0000-000000000000');
    await keyLifecycle.rotate(conn.db, a.id, next, '2024-06-01T01:00:00Z');
    const row = await conn.db
      .selectFrom('api_keys')
      .select(['ha1_md5', 'ha1_sha256', 'key_tail', 'prev_ha1_md5', 'prev_ha1_sha256', 'prev_valid_until'])
      .where('id', '=', a.id)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({
      ha1_md5: next.ha1Md5,
      ha1_sha256: next.ha1Sha256,
      key_tail: next.keyTail,
      prev_ha1_md5: before?.ha1Md5,
      prev_ha1_sha256: before?.ha1Sha256,
      prev_valid_until: '2024-06-01T01:00:00Z',
    });
    expect(await keyLifecycle.graceEnd(conn.db, a.id)).toBe('2024-06-01T01:00:00Z');
    await keyLifecycle.sweep(conn.db, '2024-06-01T00:59:59Z', '2000-01-01T00:00:00Z');
    expect(await keyLifecycle.graceEnd(conn.db, a.id)).toBe('2024-06-01T01:00:00Z');
    await keyLifecycle.sweep(conn.db, '2024-06-01T01:00:00Z', '2000-01-01T00:00:00Z');
    expect(await keyLifecycle.graceEnd(conn.db, a.id)).toBeNull();
    await keyLifecycle.rotate(conn.db, a.id, storedSecret(a.publicKey, 'x'), null);
    const none = await conn.db
      .selectFrom('api_keys')
      .select(['prev_ha1_md5', 'prev_valid_until'])
      .where('id', '=', a.id)
      .executeTakeFirstOrThrow();
    expect(none).toEqual({ prev_ha1_md5: null, prev_valid_until: null });

    // Policy: none, set, changed, removed.
    expect(await keyLifecycle.maxLifetime(conn.db, orgId)).toBeNull();
    await keyLifecycle.setMaxLifetime(conn.db, orgId, 3600);
    await keyLifecycle.setMaxLifetime(conn.db, orgId, 7200);
    expect(await keyLifecycle.maxLifetime(conn.db, orgId)).toBe(7200);
    await keyLifecycle.setMaxLifetime(conn.db, orgId, null);
    expect(await keyLifecycle.maxLifetime(conn.db, orgId)).toBeNull();

    // Unused: by last use, else by creation; paged with the whole count.
    await conn.db
      .updateTable('api_keys')
      .set({ last_used: '2024-06-10T00:00:00Z' })
      .where('id', '=', b.id)
      .execute();
    const old = await keyLifecycle.unused(conn.db, orgId, '2024-06-05T00:00:00Z', 0, 10);
    expect(old.items.map((u) => u.key.id)).toEqual([a.id]);
    expect(old.items[0]!.lastUsed).toBeNull();
    const both = await keyLifecycle.unused(conn.db, orgId, '2024-07-01T00:00:00Z', 1, 10);
    expect(both.totalCount).toBe(2);
    expect(both.items.map((u) => [u.key.id, u.lastUsed])).toEqual([[b.id, '2024-06-10T00:00:00Z']]);

    // Usage older than the retention goes with the sweep.
    await conn.db
      .insertInto('api_key_usage')
      .values([
        { api_key_id: b.id, hour: '2024-01-01T00:00:00Z', count: 3 },
        { api_key_id: b.id, hour: '2024-06-01T00:00:00Z', count: 4 },
      ])
      .execute();
    await keyLifecycle.sweep(conn.db, '2024-06-02T00:00:00Z', '2024-03-01T00:00:00Z');
    expect(await keyLifecycle.usage(conn.db, b.id, '2000-01-01T00:00:00Z', '2100-01-01T00:00:00Z')).toEqual([
      { start: '2024-06-01T00:00:00Z', count: 4 },
    ]);
  });

  it('key lifecycle triggers: expiry and rotation bump the auth generation and the list version; usage does not', async () => {
    const orgId = nextId();
    await orgs.insert(conn.db, { id: orgId, name: 'Triggers', created: '2024-01-01T00:00:00Z' });
    const k = newKey(orgId);
    await apiKeys.insert(conn.db, k, []);
    const read = async () => {
      const gen = await conn.db
        .selectFrom('auth_generation' as never)
        .select('gen' as never)
        .executeTakeFirstOrThrow();
      const ver = await conn.db
        .selectFrom('api_key_counts' as never)
        .select('version' as never)
        .where('org_key' as never, '=', orgId as never)
        .executeTakeFirstOrThrow();
      return [Number((gen as { gen: number }).gen), Number((ver as { version: number }).version)];
    };
    const [g0, v0] = await read();
    await keyLifecycle.setExpiry(conn.db, k.id, '2030-01-01T00:00:00Z');
    const [g1, v1] = await read();
    expect([g1! > g0!, v1! > v0!]).toEqual([true, true]);
    await keyLifecycle.rotate(conn.db, k.id, storedSecret(k.publicKey, 'y'), '2030-01-01T00:00:00Z');
    const [g2, v2] = await read();
    expect([g2! > g1!, v2! > v1!]).toEqual([true, true]);
    await conn.db
      .updateTable('api_keys')
      .set({ last_used: '2024-01-01T00:00:00Z', expiry_noticed: 1 })
      .where('id', '=', k.id)
      .execute();
    expect(await read()).toEqual([g2, v2]);
  });

  it('replay memory in the database: a triple is first-used once across nodes, and expired ones are swept', async () => {
    const dbs = await nodes(4);
    const now = Math.floor(Date.now() / 1000);
    const guards = dbs.map((db) => new DatabaseReplayGuard(db));
    try {
      for (let t = 0; t < 5; t++) {
        const firsts = await Promise.all(
          guards.map((g) => g.firstUse(`nonce${t}`, 'cn', '00000001', now + 60)),
        );
        expect(firsts.filter(Boolean)).toHaveLength(1);
      }
      // Concurrent calls on one node share statements on PostgreSQL (storage/turnBatch.ts): a triple sent
      // twice at once, or by every node at once in overlapping batches, is still first-used exactly once.
      const triples = Array.from({ length: 60 }, (_, i) => [`burst${i % 10}`, `c${i % 3}`] as const);
      const answers = await Promise.all(
        guards.flatMap((g) => triples.map(([n, c]) => g.firstUse(n, c, '00000001', now + 60))),
      );
      const winners = new Map<string, number>();
      answers.forEach((first, i) => {
        const [n, c] = triples[i % triples.length]!;
        if (first) winners.set(`${n}/${c}`, (winners.get(`${n}/${c}`) ?? 0) + 1);
      });
      expect(winners.size).toBe(new Set(triples.map(([n, c]) => `${n}/${c}`)).size);
      expect([...winners.values()].every((n) => n === 1)).toBe(true);
      const burst = [...new Set(triples.map(([n, c]) => replayKey(n, c, '00000001')))];
      await conn.db.deleteFrom('digest_replay_keys').where('key', 'in', burst).execute();
      expect(await guards[0]!.firstUse('nonce0', 'cn', '00000002', now + 60)).toBe(true);
      expect(await guards[1]!.firstUse('nonce0', 'other', '00000001', now + 60)).toBe(true);
      expect(await guards[2]!.firstUse('old', 'cn', '00000001', now - 10)).toBe(true);
      await guards[3]!.sweep();
      // Read back as the driver gives it (a number): keys must survive that exactly (migrate-data copies them so).
      const left = await conn.db.selectFrom('digest_replay_keys').select('key').execute();
      const kept: [string, string, string][] = [
        ['nonce0', 'cn', '00000002'],
        ['nonce0', 'other', '00000001'],
        ...[0, 1, 2, 3, 4].map((t): [string, string, string] => [`nonce${t}`, 'cn', '00000001']),
      ];
      expect(left.map((r) => String(r.key)).sort()).toEqual(kept.map((t) => replayKey(...t)).sort());
    } finally {
      for (const g of guards) g.close();
    }
  });

  it.runIf(dialect === 'postgres')(
    'PostgreSQL: the per-request statement is planned once per connection, the others as PostgreSQL chooses',
    async () => {
      const reader = readerFor(conn.db)!;
      const batch = turnBatchFor(conn.db)!;
      const mode = "SELECT current_setting('plan_cache_mode') AS mode";
      const own = statement('test_plan_mode', mode);
      const generic = statement('test_plan_mode_generic', mode, undefined, { genericPlan: true });
      expect(await reader.all(own, [])).toEqual([{ mode: 'auto' }]);
      expect(await reader.all(generic, [])).toEqual([{ mode: 'force_generic_plan' }]);
      // One call at a time, so each statement runs on the same connection as the plan counts read after it.
      const now = Math.floor(Date.now() / 1000);
      for (let i = 0; i < 8; i++) {
        expect(await batch.remember({ key: replayKey('plan', `c${i}`, '00000001'), expires: now + 60 })).toBe(
          true,
        );
        expect(await batch.counter('')).toBeDefined();
      }
      const plans = statement(
        'test_plan_counts',
        "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = 'pakman_turn_batch'",
        undefined,
        { genericPlan: true },
      );
      const [counts] = await reader.all<{ generic_plans: number; custom_plans: number }>(plans, []);
      expect(counts).toEqual({ generic_plans: 16, custom_plans: 0 });
    },
  );

  it.runIf(dialect === 'postgres')(
    'PostgreSQL: the replay tables are UNLOGGED and counters are BIGINT',
    async () => {
      const { sql } = await import('kysely');
      const t = await sql<{ relname: string; relpersistence: string }>`
        SELECT relname, relpersistence FROM pg_class WHERE relname IN ('digest_replays', 'digest_replay_keys')
         ORDER BY relname`.execute(conn.db);
      expect(t.rows.map((r) => [r.relname, r.relpersistence])).toEqual([
        ['digest_replay_keys', 'u'],
        ['digest_replays', 'u'],
      ]);
      const cols = await sql<{ table_name: string; column_name: string; data_type: string }>`
      SELECT table_name, column_name, data_type FROM information_schema.columns
       WHERE (table_name, column_name) IN (('digest_replays', 'expires'), ('digest_replay_keys', 'key'),
         ('digest_replay_keys', 'expires'), ('api_key_access_list', 'count'), ('global_access_list', 'count'))
       ORDER BY table_name, column_name`.execute(conn.db);
      expect(cols.rows.map((r) => r.data_type)).toEqual(['bigint', 'bigint', 'bigint', 'bigint', 'bigint']);
    },
  );

  it('rate limits: set, replace, read, remove; one subject per row; gone with their key or org; bump auth_generation', async () => {
    const orgId = nextId();
    await orgs.insert(conn.db, { id: orgId, name: 'Limits', created: '2024-01-01T00:00:00Z' });
    const k = newKey(orgId);
    await apiKeys.insert(conn.db, k, [org(orgId, 'ORG_MEMBER')]);
    const { sql } = await import('kysely');
    const gen = async () =>
      Number(
        (await sql<{ gen: number }>`SELECT gen FROM auth_generation WHERE id = 1`.execute(conn.db)).rows[0]
          ?.gen,
      );
    const g0 = await gen();
    expect(await rateLimits.get(conn.db, { keyId: k.id })).toBeUndefined();
    await rateLimits.set(conn.db, { orgId }, { requests: 10, periodSeconds: 60 }, '2024-01-01T00:00:00Z');
    await rateLimits.set(conn.db, { keyId: k.id }, { requests: 5, periodSeconds: 1 }, '2024-01-01T00:00:00Z');
    await rateLimits.set(conn.db, { keyId: k.id }, { requests: 7, periodSeconds: 2 }, '2024-01-01T00:00:01Z');
    expect(await rateLimits.get(conn.db, { orgId })).toEqual({ requests: 10, periodSeconds: 60 });
    expect(await rateLimits.get(conn.db, { keyId: k.id })).toEqual({ requests: 7, periodSeconds: 2 });
    expect(await gen()).toBeGreaterThan(g0);
    // A row names an org or a key, never both or neither.
    for (const bad of [
      { org_id: orgId, api_key_id: k.id },
      { org_id: null, api_key_id: null },
    ]) {
      await failure(
        conn.db
          .insertInto('rate_limits')
          .values({ ...bad, requests: 1, period_seconds: 1, updated: '2024-01-01T00:00:00Z' })
          .execute(),
      );
    }
    const g1 = await gen();
    expect(await rateLimits.delete(conn.db, { keyId: k.id })).toBe(true);
    expect(await rateLimits.delete(conn.db, { keyId: k.id })).toBe(false);
    expect(await gen()).toBeGreaterThan(g1);
    await rateLimits.set(conn.db, { keyId: k.id }, { requests: 1, periodSeconds: 1 }, '2024-01-01T00:00:00Z');
    await apiKeys.delete(conn.db, k.id);
    expect(await rateLimits.get(conn.db, { keyId: k.id })).toBeUndefined();
    await orgs.delete(conn.db, orgId);
    expect(await rateLimits.get(conn.db, { orgId })).toBeUndefined();
  });

  it.runIf(dialect === 'postgres')(
    'rate-limit buckets: nodes taking from one shared bucket at once are granted at most its size',
    async () => {
      const handles = await nodes(3);
      const limiters = handles.map((db) => rateLimiterFor(db, () => 1_700_000_000_000));
      onTestFinished(() => {
        for (const l of limiters) l.close();
      });
      const limit = { requests: 40, periodSeconds: 3600 };
      const subject = nextId();
      const decisions = await Promise.all(
        Array.from({ length: 120 }, (_, i) => limiters[i % 3]!.take(subject, limit)),
      );
      expect(decisions.filter((d) => d.allowed)).toHaveLength(40);
      expect(decisions.filter((d) => !d.allowed).every((d) => d.retryAfter === 90 && d.remaining === 0)).toBe(
        true,
      );
      // A large limit is taken in batches of 2 %: never more than the bucket, and at most a batch short per
      // node (tokens a node took and holds in hand).
      const big = { requests: 5000, periodSeconds: 3600 };
      const other = nextId();
      const many = await Promise.all(
        Array.from({ length: 6000 }, (_, i) => limiters[i % 3]!.take(other, big)),
      );
      const accepted = many.filter((d) => d.allowed).length;
      expect(accepted).toBeLessThanOrEqual(5000);
      expect(accepted).toBeGreaterThanOrEqual(5000 - 3 * 99);
      // Rows idle for over a day are full: the sweep drops them, and only them.
      const { sql } = await import('kysely');
      await sql`UPDATE rate_limit_buckets SET updated_ms = updated_ms - 2 * 86400000 WHERE subject = ${other}`.execute(
        conn.db,
      );
      await (limiters[1] as SharedRateLimiter).sweep();
      const left = await sql<{
        subject: string;
      }>`SELECT subject FROM rate_limit_buckets WHERE subject IN (${subject}, ${other})`.execute(conn.db);
      expect(left.rows.map((r) => r.subject)).toEqual([subject]);
      // A clock that went back refills nothing.
      const behind = rateLimiterFor(handles[0]!, () => 1_600_000_000_000);
      expect((await behind.take(subject, limit)).allowed).toBe(false);
    },
  );
});

describe.runIf(POSTGRES_URL)('migrations under concurrency (postgres)', () => {
  it('several nodes migrating one fresh database at once all succeed, and each migration runs once', async () => {
    const { url } = await freshDatabaseUrl('postgres');
    const opened: Connection[] = [];
    try {
      // Each connect() is what a starting node does: its own pool, then Kysely's Migrator with its lock.
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, async () => {
          const c = await connect(url);
          opened.push(c);
          return c;
        }),
      );
      expect(
        results
          .filter((r) => r.status === 'rejected')
          .map((r) => String((r as PromiseRejectedResult).reason)),
      ).toEqual([]);
      const db = opened[0]!.db;
      const rows = (await db
        .selectFrom('kysely_migration' as never)
        .select('name' as never)
        .execute()) as { name: string }[];
      expect(rows.map((r) => r.name).sort()).toEqual(
        Object.keys(await migrationProvider.getMigrations()).sort(),
      );
      // The schema is whole: every repository works on it from every node.
      const orgId = nextId();
      await orgs.insert(opened[3]!.db, { id: orgId, name: 'After race', created: '2024-01-01T00:00:00Z' });
      expect(await orgs.exists(opened[7]!.db, orgId)).toBe(true);
    } finally {
      await Promise.all(opened.map((c) => c.close()));
      await dropDatabase(url);
    }
  });
});
