/**
 * Personal API keys made by the `pakman users` CLI, run as a real process on the server's database, then
 * used as `{USERNAME}:{APIKEY}` with urllib's digest client: the caller has exactly the user's roles, and
 * revocation takes effect at once. On every configured database.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrap, type Creds, digest } from './support/client.js';
import { DIALECTS } from './support/dialects.js';
import { USER_UNAUTHORIZED as UNAUTHORIZED } from './support/expect.js';
import { startTestServer, type TestServer } from './support/server.js';

type Json = Record<string, unknown>;
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `pakman users …` through tsx, as `npm run cli -- users …` does. */
function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/index.ts', 'users', ...args],
      { cwd: ROOT, env: { ...process.env, ...env }, timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe.each(DIALECTS)('personal API keys via the CLI (%s)', (dialect) => {
  let s: TestServer;
  let admin: Creds;
  let orgId: string;
  let otherOrg: string;
  let pid: string;
  let otherPid: string;
  const username = 'ops.person@example.com';
  const call = (
    who: Creds | { username: string; password: string },
    method: string,
    path: string,
    body?: unknown,
  ) => digest(who, method, `${s.base}${path}`, body === undefined ? {} : { body });

  beforeAll(async () => {
    s = await startTestServer({ dialect });
    admin = await bootstrap(s.base);
    orgId = ((await call(admin, 'POST', '/orgs', { name: 'Personal Org' })).json as { id: string }).id;
    otherOrg = ((await call(admin, 'POST', '/orgs', { name: 'Not Mine' })).json as { id: string }).id;
    pid = ((await call(admin, 'POST', '/groups', { name: 'Mine', orgId })).json as { id: string }).id;
    otherPid = ((await call(admin, 'POST', '/groups', { name: 'Theirs', orgId })).json as { id: string }).id;
    const made = await call(admin, 'POST', '/users', {
      username,
      password: 'not the api key 123',
      firstName: 'Op',
      lastName: 'Person',
      roles: [
        { orgId, roleName: 'ORG_MEMBER' },
        { groupId: pid, roleName: 'GROUP_OWNER' },
      ],
    });
    expect(made.status).toBe(201);
  });
  afterAll(async () => s?.close());

  it('creates a key printed alone on the last line, which authenticates with exactly the user roles', async () => {
    const run = await cli(['create-key', username, '--database-url', s.databaseUrl]);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    const apiKey = lines[lines.length - 1]!;
    expect(apiKey).toMatch(UUID_RE);
    const me = { username, password: apiKey };

    // What ORG_MEMBER of the org and GROUP_OWNER of one project may do, and nothing more.
    expect((await call(me, 'GET', `/orgs/${orgId}`)).status).toBe(200);
    expect((await call(me, 'GET', `/orgs/${orgId}/apiKeys`)).status).toBe(200);
    expect((await call(me, 'GET', `/groups/${pid}`)).status).toBe(200);
    const projectKey = await call(me, 'POST', `/groups/${pid}/apiKeys`, {
      desc: 'by a person',
      roles: ['GROUP_READ_ONLY'],
    });
    expect(projectKey.status).toBe(200);
    expect(
      (await call(me, 'POST', `/orgs/${orgId}/apiKeys`, { desc: 'x', roles: ['ORG_MEMBER'] })).json,
    ).toEqual(UNAUTHORIZED);
    expect((await call(me, 'GET', `/groups/${otherPid}`)).json).toEqual(UNAUTHORIZED);
    expect((await call(me, 'GET', `/orgs/${otherOrg}`)).json).toEqual(UNAUTHORIZED);
    expect((await call(me, 'POST', '/orgs', { name: 'Mine Now' })).json).toEqual(UNAUTHORIZED);
    const orgs = await call(me, 'GET', '/orgs');
    expect((orgs.json as { results: Json[] }).results.map((o) => o.id)).toEqual([orgId]);
    const groups = await call(me, 'GET', '/groups');
    expect((groups.json as { results: Json[] }).results.map((g) => g.id)).toEqual([pid]);
    const self = await call(me, 'GET', `/users/byName/${encodeURIComponent(username)}`);
    expect(self.status).toBe(200);
    expect((self.json as Json).roles).toEqual([
      { orgId, roleName: 'ORG_MEMBER' },
      { groupId: pid, roleName: 'GROUP_OWNER' },
    ]);
    // The key's actions are the user's in the audit log.
    const events = await call(admin, 'GET', `/orgs/${orgId}/events?eventType=API_KEY_CREATED`);
    const byUser = (events.json as { results: Json[] }).results[0]!;
    expect(byUser).toMatchObject({ username, userId: (self.json as Json).id, isGlobalAdmin: false });
    expect(byUser.publicKey).toBeUndefined();
    expect(events.text).not.toContain(apiKey);

    // A wrong key is a plain digest failure.
    const wrong = await call(
      { username, password: '00000000-0000-4000-8000-000000000000' },
      'GET',
      `/orgs/${orgId}`,
    );
    expect(wrong.status).toBe(401);
    expect(String(wrong.headers['www-authenticate'])).toMatch(/^Digest realm="MMS Public API"/);
  });

  it('stores only HA1 and the tail, records the event, and reads the database from PAKMAN_DATABASE_URL', async () => {
    const run = await cli(['create-key', username], { PAKMAN_DATABASE_URL: s.databaseUrl });
    expect(run.code, run.stderr).toBe(0);
    const apiKey = run.stdout.trimEnd().split('\n').pop()!;
    expect(apiKey).toMatch(UUID_RE);
    expect((await call({ username, password: apiKey }, 'GET', `/groups/${pid}`)).status).toBe(200);
    const rows = await s.conn.db.selectFrom('user_api_keys').selectAll().execute();
    expect(rows).toHaveLength(2);
    expect(JSON.stringify(rows)).not.toContain(apiKey);
    expect(rows.map((r) => r.key_tail)).toContain(apiKey.slice(-12));
    const events = await s.conn.db
      .selectFrom('events')
      .select(['event_type', 'target_username'])
      .where('event_type', '=', 'USER_API_KEY_CREATED')
      .execute();
    expect(events).toEqual([
      { event_type: 'USER_API_KEY_CREATED', target_username: username },
      { event_type: 'USER_API_KEY_CREATED', target_username: username },
    ]);
  });

  it('revokes every personal key at once', async () => {
    const made = await cli(['create-key', username, '--database-url', s.databaseUrl]);
    const apiKey = made.stdout.trimEnd().split('\n').pop()!;
    const me = { username, password: apiKey };
    expect((await call(me, 'GET', `/orgs/${orgId}`)).status).toBe(200);
    const run = await cli(['revoke-keys', username, '--database-url', s.databaseUrl]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe(`revoked 3 personal API keys of ${username}\n`);
    // The CLI is another process: like another node, the server honours the change within a second
    // (on SQLite at once; on PostgreSQL by its next generation poll).
    let after = await call(me, 'GET', `/orgs/${orgId}`);
    for (const deadline = Date.now() + 1500; after.status !== 401 && Date.now() < deadline; ) {
      await new Promise((r) => setTimeout(r, 50));
      after = await call(me, 'GET', `/orgs/${orgId}`);
    }
    expect(after.status).toBe(401);
    expect(after.json).toEqual({
      detail: 'You are not authorized for this resource.',
      error: 401,
      reason: 'Unauthorized',
    });
    const events = await s.conn.db
      .selectFrom('events')
      .select('target_username')
      .where('event_type', '=', 'USER_API_KEYS_REVOKED')
      .execute();
    expect(events).toEqual([{ target_username: username }]);
  });

  it('names an unknown user in one line on stderr and exits 1', async () => {
    for (const command of ['create-key', 'revoke-keys']) {
      const run = await cli([command, 'nobody@example.com', '--database-url', s.databaseUrl]);
      expect(run.code).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr).toBe('pakman: No user with username nobody@example.com exists.\n');
    }
  });
});
