/**
 * The credential cache (src/server/auth/cache.ts) never outlives a revocation: a key, role or access-list
 * entry removed through the server is refused on the very next request; one removed behind its back (another
 * node, the CLI: here a second connection writing the database directly) on the very next request on SQLite,
 * and once the cache's trust window has passed on PostgreSQL. Each case first uses the credential, so that
 * the refusal cannot come from a cold cache.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TRUST_MS } from '../src/server/auth/cache.js';
import { type Connection, connect } from '../src/server/storage/connect.js';
import { bootstrap, type Creds, digest, type TestResponse } from './support/client.js';
import { DIALECTS } from './support/dialects.js';
import { expectError } from './support/expect.js';
import { startTestServer, type TestServer } from './support/server.js';

type Key = Creds & { id: string };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const isChallenge = (r: TestResponse) =>
  r.status === 401 && /^Digest /.test(String(r.headers['www-authenticate'] ?? ''));

describe.each(DIALECTS)('credential cache invalidation (%s)', (dialect) => {
  let s: TestServer;
  let other: Connection;
  let admin: Key;
  let orgId: string;

  async function createKey(roles: string[], desc = 'k'): Promise<Key> {
    const res = await digest(admin, 'POST', `${s.base}/orgs/${orgId}/apiKeys`, { body: { desc, roles } });
    expect(res.status, res.text).toBe(200);
    return res.json as Key;
  }

  const readOrg = (k: Creds) => digest(k, 'GET', `${s.base}/orgs/${orgId}`);
  /** An ORG_OWNER-only write, harmless to repeat. */
  const ownerWrite = (k: Creds, victim: Key) =>
    digest(k, 'PATCH', `${s.base}/orgs/${orgId}/apiKeys/${victim.id}`, { body: { desc: 'touched' } });

  /** After a change written behind the server's back: SQLite sees it at once, PostgreSQL within TRUST_MS. */
  async function afterBackdoorChange(): Promise<void> {
    if (dialect === 'postgres') await sleep(TRUST_MS + 100);
  }

  beforeAll(async () => {
    s = await startTestServer({ dialect });
    other = await connect(s.databaseUrl);
    admin = await bootstrap(s.base);
    const org = await digest(admin, 'POST', `${s.base}/orgs`, { body: { name: 'Cache' } });
    orgId = (org.json as { id: string }).id;
  });

  afterAll(async () => {
    await other?.close();
    await s?.close();
  });

  it('refuses a deleted key on the very next request', async () => {
    const key = await createKey(['ORG_MEMBER']);
    for (let i = 0; i < 3; i++) expect((await readOrg(key)).status).toBe(200);
    const del = await digest(admin, 'DELETE', `${s.base}/orgs/${orgId}/apiKeys/${key.id}`);
    expect(del.status).toBe(204);
    expect(isChallenge(await readOrg(key))).toBe(true);
  });

  it('refuses a removed role on the very next request, and honours a granted one at once', async () => {
    const owner = await createKey(['ORG_OWNER']);
    const victim = await createKey(['ORG_MEMBER']);
    expect((await ownerWrite(owner, victim)).status).toBe(200);
    const demote = await digest(admin, 'PATCH', `${s.base}/orgs/${orgId}/apiKeys/${owner.id}`, {
      body: { roles: ['ORG_MEMBER'] },
    });
    expect(demote.status).toBe(200);
    expectError(
      await ownerWrite(owner, victim),
      401,
      'USER_UNAUTHORIZED',
      'Current user is not authorized to perform this action.',
    );
    expect((await readOrg(owner)).status).toBe(200);
    const promote = await digest(admin, 'PATCH', `${s.base}/orgs/${orgId}/apiKeys/${owner.id}`, {
      body: { roles: ['ORG_OWNER'] },
    });
    expect(promote.status).toBe(200);
    expect((await ownerWrite(owner, victim)).status).toBe(200);
  });

  it('applies access-list changes on the very next request: an added entry restricts, a removed one refuses', async () => {
    const key = await createKey(['ORG_MEMBER']);
    const list = `${s.base}/orgs/${orgId}/apiKeys/${key.id}/accessList`;
    expect((await readOrg(key)).status).toBe(200);
    // The first entry turns "from anywhere" into "from 192.0.2.0/24 only": 127.0.0.1 is out at once.
    const add = await digest(admin, 'POST', list, { body: [{ cidrBlock: '192.0.2.0/24' }] });
    expect(add.status, add.text).toBe(200);
    expectError(
      await readOrg(key),
      403,
      'IP_ADDRESS_NOT_ON_ACCESS_LIST',
      'IP address 127.0.0.1 is not allowed to access this resource.',
      ['127.0.0.1'],
    );
    const allow = await digest(admin, 'POST', list, { body: [{ ipAddress: '127.0.0.1' }] });
    expect(allow.status, allow.text).toBe(200);
    expect((await readOrg(key)).status).toBe(200);
    const remove = await digest(admin, 'DELETE', `${list}/127.0.0.1`);
    expect(remove.status, remove.text).toBe(204);
    expect((await readOrg(key)).status).toBe(403);
  });

  it('honours a key deleted behind the server (another node, the CLI)', async () => {
    const key = await createKey(['ORG_MEMBER']);
    for (let i = 0; i < 3; i++) expect((await readOrg(key)).status).toBe(200);
    await other.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('api_key_roles').where('api_key_id', '=', key.id).execute();
      await trx.deleteFrom('api_keys').where('id', '=', key.id).execute();
    });
    await afterBackdoorChange();
    expect(isChallenge(await readOrg(key))).toBe(true);
  });

  it('honours a role removed behind the server', async () => {
    const owner = await createKey(['ORG_OWNER']);
    const victim = await createKey(['ORG_MEMBER']);
    expect((await ownerWrite(owner, victim)).status).toBe(200);
    await other.db
      .updateTable('api_key_roles')
      .set({ role_name: 'ORG_MEMBER' })
      .where('api_key_id', '=', owner.id)
      .execute();
    await afterBackdoorChange();
    expect((await ownerWrite(owner, victim)).status).toBe(401);
  });

  it('honours an access-list entry added behind the server', async () => {
    const key = await createKey(['ORG_MEMBER']);
    expect((await readOrg(key)).status).toBe(200);
    await other.db
      .insertInto('api_key_access_list')
      .values({
        api_key_id: key.id,
        cidr_block: '198.51.100.0/24',
        ip_address: null,
        created: '2024-01-01T00:00:00Z',
        count: 0,
        last_used: null,
        last_used_address: null,
      })
      .execute();
    await afterBackdoorChange();
    expect((await readOrg(key)).status).toBe(403);
  });

  it('authenticates a key created behind the server on its first request (nothing unknown is cached)', async () => {
    const probe = { publicKey: 'zzzzzzzz', privateKey: '00000000-0000-4000-8000-000000000000' };
    expect(isChallenge(await readOrg(probe))).toBe(true);
    const made = await createKey(['ORG_MEMBER']);
    // The same secret under the probe's name, written directly: the first request with it must pass.
    const stored = await other.db
      .selectFrom('api_keys')
      .select(['ha1_md5', 'ha1_sha256', 'key_tail'])
      .where('id', '=', made.id)
      .executeTakeFirstOrThrow();
    const { storedSecret } = await import('../src/server/auth/credentials.js');
    const secret = storedSecret(probe.publicKey, probe.privateKey);
    await other.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('api_keys')
        .values({
          id: `${made.id.slice(0, 18)}ffffff`,
          org_id: orgId,
          public_key: probe.publicKey,
          description: 'backdoor',
          ha1_md5: secret.ha1Md5,
          ha1_sha256: secret.ha1Sha256,
          key_tail: stored.key_tail,
          created: '2024-01-01T00:00:00Z',
        })
        .execute();
      await trx
        .insertInto('api_key_roles')
        .values({
          api_key_id: `${made.id.slice(0, 18)}ffffff`,
          scope: 'org',
          scope_id: orgId,
          role_name: 'ORG_MEMBER',
        })
        .execute();
    });
    expect((await readOrg(probe)).status).toBe(200);
  });
});
