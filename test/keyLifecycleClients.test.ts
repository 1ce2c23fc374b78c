/**
 * Key lifecycle through the clients a user runs: the typed SDK (`pakman/client`) and the real `pakman`
 * CLI process, against a real server on a real socket: expiry on create/update, rotation with a grace
 * period, usage, the unused-keys report and the org key policy; personal keys with an expiry.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDuration, parseExpires } from '../src/cli/commands/lifecycle.js';
import { PakmanApiError, PakmanClient } from '../src/client/index.js';
import { type CliRun, cliEnv, runCli } from './support/cli.js';
import { bootstrap, type Creds, digest } from './support/client.js';
import { startTestServer, type TestServer } from './support/server.js';

const iso = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('CLI duration and expiry flags', () => {
  it('parses durations and expiries, and refuses what is not one', () => {
    expect(parseDuration('grace', '90')).toBe(90);
    expect(parseDuration('grace', '15m')).toBe(900);
    expect(parseDuration('grace', '1h')).toBe(3600);
    expect(parseDuration('grace', '7d')).toBe(604_800);
    expect(parseDuration('grace', '2w')).toBe(1_209_600);
    const now = Date.parse('2030-01-01T00:00:00.400Z');
    expect(parseExpires('30d', false, now)).toBe('2030-01-31T00:00:00Z');
    expect(parseExpires('2031-05-01T00:00:00Z', false, now)).toBe('2031-05-01T00:00:00Z');
    expect(parseExpires('never', true, now)).toBeNull();
    expect(parseExpires('never', false, now)).toBe('never');
  });
});

describe('key lifecycle through the SDK and the CLI', { timeout: 300_000 }, () => {
  let s: TestServer;
  let admin: Creds;
  let c: PakmanClient;
  let orgId: string;
  let env: NodeJS.ProcessEnv;
  const pakman = (args: string[]) => runCli(args, env);
  const json = <T>(r: CliRun): T => {
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return JSON.parse(r.stdout) as T;
  };

  beforeAll(async () => {
    s = await startTestServer({ usageFlushMs: 100 });
    admin = await bootstrap(s.base);
    c = new PakmanClient({ baseUrl: s.base, credentials: admin });
    orgId = (await c.orgs.create({ name: 'Clients' })).id;
    env = cliEnv(s, admin, orgId);
  });
  afterAll(async () => s?.close());

  it('SDK: expiry, rotation, usage, unused report and policy', async () => {
    const expiresAt = iso(Date.now() + 86_400_000);
    const k = await c.orgApiKeys.create(orgId, { desc: 'sdk', roles: ['ORG_MEMBER'], expiresAt });
    expect(k.expiresAt).toBe(expiresAt);
    expect((await c.orgApiKeys.update(orgId, k.id, { expiresAt: null })).expiresAt).toBeUndefined();
    const rotated = await c.orgApiKeys.rotate(orgId, k.id, { graceSeconds: 3600 });
    expect(rotated.publicKey).toBe(k.publicKey);
    expect(rotated.graceEndsAt).toMatch(/Z$/);
    const err = await c.orgApiKeys.rotate(orgId, k.id, { graceSeconds: 0 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PakmanApiError);
    expect((err as PakmanApiError).errorCode).toBe('API_KEY_ROTATION_IN_PROGRESS');
    const own = new PakmanClient({
      baseUrl: s.base,
      credentials: { publicKey: k.publicKey, privateKey: rotated.privateKey },
    });
    await own.orgs.get(orgId);
    await own.orgs.get(orgId);
    let usage = await c.orgApiKeys.usage(orgId, k.id);
    for (let i = 0; i < 50 && usage.total < 2; i++) {
      await sleep(100);
      usage = await c.orgApiKeys.usage(orgId, k.id, { granularity: 'HOURLY' });
    }
    expect(usage.total).toBe(2);
    expect(usage.lastUsed).toMatch(/:00Z$/);
    const daily = await c.orgApiKeys.usage(orgId, k.id, { granularity: 'DAILY' });
    expect(daily.results).toHaveLength(30);
    expect(daily.total).toBe(2);
    const unused = await c.orgApiKeys.unused(orgId, { days: 1 });
    expect(unused.results).toEqual([]);
    expect(await c.orgApiKeys.policy(orgId)).toEqual({ maxKeyLifetimeSeconds: null, orgId });
    expect(await c.orgApiKeys.setPolicy(orgId, { maxKeyLifetimeSeconds: 600 })).toEqual({
      maxKeyLifetimeSeconds: 600,
      orgId,
    });
    const capped = await c.orgApiKeys.create(orgId, { desc: 'capped', roles: ['ORG_MEMBER'] });
    expect(Date.parse(capped.expiresAt!) - Date.now()).toBeLessThanOrEqual(600_000);
    await c.orgApiKeys.setPolicy(orgId, { maxKeyLifetimeSeconds: null });
    const g = await c.globalApiKeys.create({ desc: 'g', roles: ['GLOBAL_READ_ONLY'] });
    const gr = await c.globalApiKeys.rotate(g.id, { graceSeconds: 0 });
    expect(gr.graceEndsAt).toBeUndefined();
    expect((await c.globalApiKeys.usage(g.id)).total).toBe(0);
  });

  it('CLI: create --expires, update --expires never, rotate --grace, usage, unused, policy', async () => {
    const made = json<{ id: string; expiresAt: string; publicKey: string; privateKey: string }>(
      await pakman([
        'orgs',
        'apikeys',
        'create',
        '--desc',
        'cli',
        '--role',
        'ORG_MEMBER',
        '--expires',
        '30d',
        '-o',
        'json',
      ]),
    );
    expect(Date.parse(made.expiresAt) - Date.now()).toBeGreaterThan(29 * 86_400_000);
    const cleared = json<Record<string, unknown>>(
      await pakman(['orgs', 'apikeys', 'update', made.id, '--expires', 'never', '-o', 'json']),
    );
    expect(cleared.expiresAt).toBeUndefined();
    const past = await pakman(['orgs', 'apikeys', 'update', made.id, '--expires', '2001-01-01T00:00:00Z']);
    expect(past.code).toBe(1);
    expect(past.stderr).toContain('INVALID_ATTRIBUTE: Invalid attribute expiresAt specified.');

    const rotated = await pakman(['orgs', 'apikeys', 'rotate', made.id, '--grace', '1h']);
    expect(rotated.code, rotated.stderr).toBe(0);
    const m =
      /^API Key '([0-9a-f]{24})' rotated\.\nPublic API Key ([a-z]{8})\nPrivate API Key (\S+)\nThe previous private key works until (\S+)\.\n$/.exec(
        rotated.stdout,
      );
    expect(m?.[1]).toBe(made.id);
    expect(m?.[2]).toBe(made.publicKey);
    const fresh = { publicKey: made.publicKey, privateKey: m![3]! };
    expect((await digest(fresh, 'GET', `${s.base}/orgs/${orgId}`)).status).toBe(200);
    expect((await digest(made, 'GET', `${s.base}/orgs/${orgId}`)).status).toBe(200);
    const tooLong = await pakman(['orgs', 'apikeys', 'rotate', made.id, '--grace', '8d']);
    expect(tooLong.code).toBe(1);
    expect(tooLong.stderr).toContain('INVALID_ATTRIBUTE: Invalid attribute graceSeconds specified.');
    const again = await pakman(['orgs', 'apikeys', 'rotate', made.id, '--grace', '0']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('API_KEY_ROTATION_IN_PROGRESS');
    const badGrace = await pakman(['orgs', 'apikeys', 'rotate', made.id, '--grace', 'soon']);
    expect(badGrace.code).toBe(2);
    expect(badGrace.stderr).toContain('--grace must be a duration');

    await sleep(300);
    const usage = json<{ total: number; results: unknown[] }>(
      await pakman(['orgs', 'apikeys', 'usage', made.id, '--granularity', 'daily', '-o', 'json']),
    );
    expect(usage.total).toBe(2);
    const table = await pakman(['orgs', 'apikeys', 'usage', made.id]);
    expect(table.stdout).toMatch(/^START\s+REQUESTS\n/);
    expect(table.stdout).toMatch(/total 2; last used \S+:00Z\n$/);

    const unused = json<{ results: unknown[]; totalCount: number }>(
      await pakman(['orgs', 'apikeys', 'unused', '--days', '1', '-o', 'json']),
    );
    expect(unused.totalCount).toBe(0);

    const set = json<{ maxKeyLifetimeSeconds: number }>(
      await pakman(['orgs', 'apikeys', 'policy', '--max-lifetime', '90d', '-o', 'json']),
    );
    expect(set.maxKeyLifetimeSeconds).toBe(90 * 86_400);
    const shown = await pakman(['orgs', 'apikeys', 'policy']);
    expect(shown.stdout).toContain('7776000');
    json(await pakman(['orgs', 'apikeys', 'policy', '--max-lifetime', 'none', '-o', 'json']));

    const g = json<{ id: string }>(
      await pakman([
        'globalapikeys',
        'create',
        '--desc',
        'g',
        '--role',
        'GLOBAL_READ_ONLY',
        '--expires',
        '1d',
        '-o',
        'json',
      ]),
    );
    const gr = json<{ graceEndsAt?: string }>(
      await pakman(['globalapikeys', 'rotate', g.id, '--grace', '0', '-o', 'json']),
    );
    expect(gr.graceEndsAt).toBeUndefined();
    expect(json<{ total: number }>(await pakman(['globalapikeys', 'usage', g.id, '-o', 'json'])).total).toBe(
      0,
    );
  });

  it('CLI: a personal API key created with --expires carries that expiry', async () => {
    // An hour ahead, however slowly the CLI starts; the refusal at the expiry itself is proven on a clock
    // the test holds (keyLifecycle.test.ts).
    const expires = iso(Date.now() + 3600_000);
    const r = await runCli(['users', 'create-key', 'admin@example.com', '--expires', expires], {
      ...env,
      PAKMAN_DATABASE_URL: s.databaseUrl,
    });
    expect(r.code, r.stderr).toBe(0);
    const apiKey = r.stdout.trim().split('\n').at(-1)!;
    const personal = { username: 'admin@example.com', password: apiKey };
    expect((await digest(personal, 'GET', `${s.base}/orgs/${orgId}`)).status).toBe(200);
    const rows = await s.conn.db.selectFrom('user_api_keys').select('expires_at').execute();
    expect(rows.map((row) => row.expires_at)).toContain(expires);
    const bad = await runCli(['users', 'create-key', 'admin@example.com', '--expires', 'tomorrow'], {
      ...env,
      PAKMAN_DATABASE_URL: s.databaseUrl,
    });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('expiresAt');
  });
});
