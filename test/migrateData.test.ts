/**
 * `pakman migrate-data`: a deployment populated over HTTP on SQLite is copied, with the real CLI, into a
 * fresh database (PostgreSQL when PAKMAN_TEST_POSTGRES_URL is set, and another SQLite file always); a
 * server started on the copy takes the same keys, and even a nonce the old server issued (the digest
 * secret moved with the settings). A target holding data is refused with one line and exit code 1.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../src/server/storage/connect.js';
import { type Creds, digest, raw } from './support/client.js';
import { DIALECTS } from './support/dialects.js';
import { authorization, challengeNonce } from './support/digestHeader.js';
import { createDatabase, dropDatabase } from './support/postgres.js';
import { type NodeProcess, runCli, startNode } from './support/processes.js';

type Key = Creds & { id: string; desc: string; roles: { roleName: string }[] };

/** Every application table with its rows, in a stable order (what a faithful copy must reproduce). */
async function dump(url: string): Promise<Record<string, unknown[]>> {
  const conn = await connect(url);
  try {
    const tables =
      conn.dialect === 'sqlite'
        ? await sql<{ name: string }>`SELECT name FROM sqlite_master WHERE type = 'table'
            AND name NOT LIKE 'sqlite%' AND name NOT LIKE 'kysely%'`.execute(conn.db)
        : await sql<{ name: string }>`SELECT tablename AS name FROM pg_tables
            WHERE schemaname = current_schema() AND tablename NOT LIKE 'kysely%'`.execute(conn.db);
    const out: Record<string, unknown[]> = {};
    for (const { name } of tables.rows) {
      const { rows } = await sql<Record<string, unknown>>`SELECT * FROM ${sql.table(name)}`.execute(conn.db);
      out[name] = rows
        .map((r) =>
          JSON.stringify(Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : 1)))),
        )
        .sort();
    }
    return out;
  } finally {
    await conn.close();
  }
}

describe('pakman migrate-data', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pakman-migrate-'));
  const sourceUrl = `sqlite:${join(dir, 'source.db')}`;
  let admin: Key;
  const keys: Key[] = [];
  let orgId: string;
  let oldNonce: string;
  let sourceList: unknown;
  let sourceDump: Record<string, unknown[]>;
  const cleanup: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    const node = await startNode({ PAKMAN_DATABASE_URL: sourceUrl });
    try {
      const boot = await raw('POST', `${node.base}/unauth/users?accessList=127.0.0.1`, {
        body: { username: 'admin@example.com', password: 'Pw-123456-x', firstName: 'A', lastName: 'A' },
      });
      expect(boot.status, boot.text).toBe(201);
      admin = (boot.json as { programmaticApiKey: Key }).programmaticApiKey;
      const org = await digest(admin, 'POST', `${node.base}/orgs`, { body: { name: 'Moving' } });
      orgId = (org.json as { id: string }).id;
      await digest(admin, 'POST', `${node.base}/orgs`, { body: { name: 'Other' } });
      const roles = [['ORG_OWNER'], ['ORG_MEMBER'], ['ORG_READ_ONLY', 'ORG_GROUP_CREATOR']];
      for (let i = 0; i < 6; i++) {
        const res = await digest(admin, 'POST', `${node.base}/orgs/${orgId}/apiKeys`, {
          body: { desc: `key ${i}`, roles: roles[i % 3] },
        });
        expect(res.status, res.text).toBe(200);
        keys.push(res.json as Key);
      }
      const al = await digest(admin, 'POST', `${node.base}/orgs/${orgId}/apiKeys/${keys[1]!.id}/accessList`, {
        body: [{ ipAddress: '127.0.0.1' }, { cidrBlock: '10.0.0.0/8' }],
      });
      expect([200, 404]).toContain(al.status);
      // Usage figures and events to carry over, too.
      for (const k of keys) expect((await digest(k, 'GET', `${node.base}/orgs/${orgId}`)).status).toBe(200);
      sourceList = (await digest(admin, 'GET', `${node.base}/orgs/${orgId}/apiKeys?itemsPerPage=500`)).json;
      oldNonce = await challengeNonce(`${node.base}/orgs`);
    } finally {
      // A clean stop writes the pending usage figures.
      expect(await node.stop()).toBe(0);
    }
    sourceDump = await dump(sourceUrl);
  });

  afterAll(async () => {
    for (const c of cleanup) await c();
    rmSync(dir, { recursive: true, force: true });
  });

  describe.each(DIALECTS)('into an empty %s database', (dialect) => {
    let targetUrl: string;

    beforeAll(async () => {
      if (dialect === 'postgres') {
        targetUrl = await createDatabase();
        cleanup.push(() => dropDatabase(targetUrl));
      } else {
        targetUrl = `sqlite:${join(dir, 'target.db')}`;
      }
    });

    it('copies every table and row, in one run of the CLI', async () => {
      const res = await runCli(['migrate-data', '--from', sourceUrl, '--to', targetUrl]);
      expect(res.stderr).toBe('');
      expect(res.code).toBe(0);
      expect(res.stdout).toMatch(/^copied \d+ rows in \d+ tables from sqlite:.* to (sqlite|postgres):/m);
      const copied = await dump(targetUrl);
      expect(Object.keys(copied).sort()).toEqual(Object.keys(sourceDump).sort());
      for (const table of Object.keys(sourceDump)) expect(copied[table], table).toEqual(sourceDump[table]);
      expect(sourceDump.api_keys).toHaveLength(7);
      expect(sourceDump.settings!.some((r) => String(r).includes('digest.secret'))).toBe(true);
    });

    it('a server on the copy takes the same keys, and a nonce from the old server', async () => {
      const node: NodeProcess = await startNode({ PAKMAN_DATABASE_URL: targetUrl });
      try {
        for (const k of [admin, ...keys]) {
          const res = await digest(k, 'GET', `${node.base}/orgs/${orgId}`);
          expect(res.status, `${k.desc}: ${res.text}`).toBe(200);
        }
        const list = (await digest(admin, 'GET', `${node.base}/orgs/${orgId}/apiKeys?itemsPerPage=500`)).json;
        const strip = (v: unknown) => JSON.parse(JSON.stringify(v).replace(/http:\/\/127\.0\.0\.1:\d+/g, ''));
        expect(strip(list)).toEqual(strip(sourceList));
        // The digest secret came along: the old server's nonce still verifies. On PostgreSQL it is good
        // as it is; on SQLite the new process's replay memory began empty, so it answers a nonce from
        // before it started stale=true — which it gives only for a nonce signed with its secret and a
        // right response (a foreign nonce gets stale=false).
        const target = `/api/public/v1.0/orgs/${orgId}`;
        const res = await raw('GET', `${node.origin}${target}`, {
          headers: {
            authorization: authorization(
              { username: admin.publicKey, password: admin.privateKey },
              'GET',
              target,
              oldNonce,
            ),
          },
        });
        if (dialect === 'postgres') expect(res.status, res.text).toBe(200);
        else {
          expect(res.status, res.text).toBe(401);
          expect(String(res.headers['www-authenticate'])).toMatch(/stale=true$/);
        }
        // And the bootstrap stays closed.
        const boot = await raw('POST', `${node.base}/unauth/users`, {
          body: { username: 'x@example.com', password: 'Pw-123456-x', firstName: 'X', lastName: 'X' },
        });
        expect(boot.status).toBe(403);
      } finally {
        expect(await node.stop()).toBe(0);
      }
    });

    it.runIf(dialect === 'postgres')(
      'copies back from PostgreSQL into SQLite just as faithfully',
      async () => {
        const back = `sqlite:${join(dir, 'back.db')}`;
        const res = await runCli(['migrate-data', '--from', targetUrl, '--to', back]);
        expect(res.stderr).toBe('');
        expect(res.code).toBe(0);
        // The server of the previous test has written to it since (usage, replay memory): compare with now.
        expect(await dump(back)).toEqual(await dump(targetUrl));
      },
    );

    it('refuses a target that holds data: exit 1, one line, nothing written', async () => {
      const before = await dump(targetUrl);
      const res = await runCli(['migrate-data', '--from', sourceUrl, '--to', targetUrl]);
      expect(res.code).toBe(1);
      expect(res.stdout).toBe('');
      const lines = res.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^pakman: target .* is not empty \(table \w+ has \d+ rows?\)/);
      expect(await dump(targetUrl)).toEqual(before);
    });
  });

  it('says in one line what is wrong with the arguments', async () => {
    const missing = await runCli([
      'migrate-data',
      '--from',
      `sqlite:${join(dir, 'nope.db')}`,
      '--to',
      'sqlite::memory:',
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toContain('does not exist');
    const bad = await runCli(['migrate-data', '--from', 'mysql://x', '--to', 'sqlite::memory:']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    const same = await runCli(['migrate-data', '--from', sourceUrl, '--to', sourceUrl]);
    expect(same.code).toBe(1);
    expect(same.stderr).toContain('same database');
  });
});
