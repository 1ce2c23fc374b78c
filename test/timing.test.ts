/**
 * Refusals cost the same whether or not the caller exists (auth/authenticator.ts): every refused digest
 * reads the credential tables, so its time does not tell which public keys or usernames exist. Timing is
 * for bench/timing.ts; this holds the behaviour that makes it so. With a credential table made unreadable
 * under the running server, each kind of refusal — a known key with a wrong secret, an unknown key, a
 * known username with a wrong key, an unknown username — fails on that table alike (500), while right
 * credentials are still answered from the cache (200). Were a known caller's refusal answered from the
 * cache, it would stay a quick 401 here.
 */
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storedSecret } from '../src/server/auth/credentials.js';
import { users } from '../src/server/storage/repositories/users.js';
import { bootstrap, type Creds, digest } from './support/client.js';
import { DIALECTS } from './support/dialects.js';
import { startTestServer, type TestServer } from './support/server.js';

describe.each(DIALECTS)('refused credentials read alike, known or not (%s)', (dialect) => {
  let s: TestServer;
  let admin: Creds;
  const username = 'admin@example.com';
  const personal = randomBytes(16).toString('hex');
  const url = () => `${s.base}/orgs`;

  beforeAll(async () => {
    s = await startTestServer({ dialect });
    admin = await bootstrap(s.base);
    const user = await s.conn.db.selectFrom('users').select('id').executeTakeFirstOrThrow();
    await users.addPersonalKey(s.conn.db, {
      id: randomBytes(12).toString('hex'),
      userId: user.id,
      created: '2026-01-01T00:00:00Z',
      ...storedSecret(username, personal),
    });
  });
  afterAll(async () => s?.close());

  const refusals = () => ({
    'known key, wrong secret': { username: admin.publicKey, password: 'wrong' },
    'unknown key': { username: 'zzzzzzzz', password: 'wrong' },
    'known user, wrong key': { username, password: 'wrong' },
    'unknown user': { username: 'nobody@example.com', password: 'wrong' },
  });

  async function statuses(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const [name, who] of Object.entries(refusals()))
      out[name] = (await digest(who, 'GET', url())).status;
    return out;
  }

  /**
   * The status of a right-credentials request answered from the cache. On PostgreSQL the cache answers only
   * while its last generation poll is under TRUST_MS old (auth/cache.ts); on a loaded machine a poll can
   * stall past that, and the request then reads the tables (500 here). A retry after the next poll is
   * answered from the cache again; a success path that read the tables would fail every time.
   */
  async function cached(who: Parameters<typeof digest>[0]): Promise<number> {
    let status = 0;
    for (let attempt = 0; attempt < 5; attempt++) {
      status = (await digest(who, 'GET', url())).status;
      if (status === 200 || dialect === 'sqlite') return status;
      await new Promise((r) => setTimeout(r, 250));
    }
    return status;
  }

  /** Runs `fn` with `table` renamed away, so that any statement reading it fails. */
  async function without(table: string, fn: () => Promise<void>): Promise<void> {
    await sql`ALTER TABLE ${sql.table(table)} RENAME TO ${sql.table(`${table}_away`)}`.execute(s.conn.db);
    try {
      await fn();
    } finally {
      await sql`ALTER TABLE ${sql.table(`${table}_away`)} RENAME TO ${sql.table(table)}`.execute(s.conn.db);
    }
  }

  it('each refusal is a 401 while the tables are there', async () => {
    // Right credentials first: both callers are now cached.
    expect((await digest(admin, 'GET', url())).status).toBe(200);
    expect((await digest({ username, password: personal }, 'GET', url())).status).toBe(200);
    expect(Object.values(await statuses())).toEqual([401, 401, 401, 401]);
  });

  it('every refusal reads the personal keys, and a refused public key the keys table too', async () => {
    expect((await digest(admin, 'GET', url())).status).toBe(200);
    expect((await digest({ username, password: personal }, 'GET', url())).status).toBe(200);
    await without('user_api_keys', async () => {
      expect(await statuses()).toEqual({
        'known key, wrong secret': 500,
        'unknown key': 500,
        'known user, wrong key': 500,
        'unknown user': 500,
      });
      // The success path is the cache's: nothing read.
      expect(await cached(admin)).toBe(200);
      expect(await cached({ username, password: personal })).toBe(200);
    });
    await without('api_key_access_list', async () => {
      const got = await statuses();
      expect(got['known key, wrong secret']).toBe(500);
      expect(got['unknown key']).toBe(500);
      expect(await cached(admin)).toBe(200);
    });
    expect(Object.values(await statuses())).toEqual([401, 401, 401, 401]);
  });
});
