/**
 * Rate limits (issue 17) through the clients a user runs, against a real server on a real socket on every
 * database: the SDK's nine calls (an org default, an org key's and a global key's limit set, read and
 * removed), a limited key's 429 surfaced as PakmanApiError RATE_LIMITED with `retryAfter`; the real
 * `pakman` CLI process setting, reading and removing each limit, and refusing bad input before it sends
 * anything. The server's clock is the test's, so no bucket refills while a test runs.
 */
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ApiKey,
  PakmanApiError,
  PakmanClient,
  type RateLimit,
  type RateLimitBody,
} from '../src/client/index.js';
import { type CliRun, cleanEnv, cliEnv, runCli } from './support/cli.js';
import { bootstrap, type Creds } from './support/client.js';
import { DIALECTS } from './support/dialects.js';
import { startTestServer, type TestServer } from './support/server.js';

/** One limit's three SDK calls and where it lives. */
interface Target {
  name: string;
  id: string;
  path: string;
  get(): Promise<RateLimit>;
  set(body: RateLimitBody): Promise<RateLimit>;
  remove(): Promise<void>;
}

/** The error a call rejects with (fails the test when it resolves). */
async function refusal(call: Promise<unknown>): Promise<PakmanApiError> {
  const e = await call.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(PakmanApiError);
  return e as PakmanApiError;
}

const fields = (e: PakmanApiError) => ({
  status: e.status,
  errorCode: e.errorCode,
  detail: e.detail,
  parameters: e.parameters,
  retryAfter: e.retryAfter,
});

const notFound = (id: string) => ({
  status: 404,
  errorCode: 'RATE_LIMIT_NOT_FOUND',
  detail: `No rate limit is set for ${id}.`,
  parameters: [id],
  retryAfter: null,
});

describe.each(DIALECTS)('rate limits through the SDK and the CLI (%s)', (dialect) => {
  let s: TestServer;
  let admin: Creds;
  let c: PakmanClient;
  let orgId: string;
  let env: NodeJS.ProcessEnv;
  const now = Date.now();
  const pakman = (args: string[], extra: NodeJS.ProcessEnv = {}) => runCli(args, { ...env, ...extra });
  const json = <T>(r: CliRun): T => {
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return JSON.parse(r.stdout) as T;
  };
  const asKey = (k: ApiKey) => ({ PAKMAN_PUBLIC_API_KEY: k.publicKey, PAKMAN_PRIVATE_API_KEY: k.privateKey });
  const self = (path: string) => [{ href: `${s.base}${path}`, rel: 'self' }];

  beforeAll(async () => {
    s = await startTestServer({ dialect, clock: () => now });
    admin = await bootstrap(s.base);
    c = new PakmanClient({ baseUrl: s.base, credentials: admin });
    orgId = (await c.orgs.create({ name: 'Limited Clients' })).id;
    env = cliEnv(s, admin, orgId);
  });
  afterAll(async () => s?.close());

  it('SDK: sets, reads, replaces and removes an org default, an org key limit and a global key limit', async () => {
    const key = await c.orgApiKeys.create(orgId, { desc: 'sdk', roles: ['ORG_MEMBER'] });
    const global = await c.globalApiKeys.create({ desc: 'sdk', roles: ['GLOBAL_READ_ONLY'] });
    const targets: Target[] = [
      {
        name: 'org',
        id: orgId,
        path: `/orgs/${orgId}/rateLimit`,
        get: () => c.orgs.rateLimit(orgId),
        set: (body) => c.orgs.setRateLimit(orgId, body),
        remove: () => c.orgs.deleteRateLimit(orgId),
      },
      {
        name: 'org key',
        id: key.id,
        path: `/orgs/${orgId}/apiKeys/${key.id}/rateLimit`,
        get: () => c.orgApiKeys.rateLimit(orgId, key.id),
        set: (body) => c.orgApiKeys.setRateLimit(orgId, key.id, body),
        remove: () => c.orgApiKeys.deleteRateLimit(orgId, key.id),
      },
      {
        name: 'global key',
        id: global.id,
        path: `/admin/apiKeys/${global.id}/rateLimit`,
        get: () => c.globalApiKeys.rateLimit(global.id),
        set: (body) => c.globalApiKeys.setRateLimit(global.id, body),
        remove: () => c.globalApiKeys.deleteRateLimit(global.id),
      },
    ];
    for (const t of targets) {
      expect(fields(await refusal(t.get())), t.name).toEqual(notFound(t.id));
      const limit = { links: self(t.path), periodSeconds: 60, requests: 100 };
      expect(await t.set({ requests: 100, periodSeconds: 60 }), t.name).toEqual(limit);
      expect(await t.get(), t.name).toEqual(limit);
      const replaced = { links: self(t.path), periodSeconds: 3600, requests: 5000 };
      expect(await t.set({ requests: 5000, periodSeconds: 3600 }), t.name).toEqual(replaced);
      expect(await t.get(), t.name).toEqual(replaced);
      expect(await t.remove(), t.name).toBeUndefined();
      expect(fields(await refusal(t.get())), t.name).toEqual(notFound(t.id));
      expect(fields(await refusal(t.remove())), t.name).toEqual(notFound(t.id));
    }
    // The server's validation reaches the caller as a typed error, and changes nothing.
    const bad = await refusal(c.orgs.setRateLimit(orgId, { requests: 0, periodSeconds: 60 }));
    expect(fields(bad)).toEqual({
      status: 400,
      errorCode: 'INVALID_ATTRIBUTE',
      detail: 'Invalid attribute requests specified.',
      parameters: ['requests'],
      retryAfter: null,
    });
    expect(fields(await refusal(c.orgs.rateLimit(orgId)))).toEqual(notFound(orgId));
  });

  it('SDK: a key over its limit gets PakmanApiError 429 RATE_LIMITED with retryAfter', async () => {
    const key = await c.orgApiKeys.create(orgId, { desc: 'limited', roles: ['ORG_MEMBER'] });
    const own = new PakmanClient({ baseUrl: s.base, credentials: key });
    await c.orgApiKeys.setRateLimit(orgId, key.id, { requests: 2, periodSeconds: 60 });
    await own.orgs.get(orgId);
    await own.orgs.get(orgId);
    const path = `/api/public/v1.0/orgs/${orgId}`;
    const refused = await refusal(own.orgs.get(orgId));
    expect({ ...fields(refused), reason: refused.reason }).toEqual({
      status: 429,
      errorCode: 'RATE_LIMITED',
      detail: `Resource ${path} is limited to 2 requests every 1 minutes.`,
      parameters: [path, '2', '1'],
      // 2 per 60 s: the next token in 30 s.
      retryAfter: 30,
      reason: 'Too Many Requests',
    });
    // Removed, the key is free at once.
    await c.orgApiKeys.deleteRateLimit(orgId, key.id);
    await own.orgs.get(orgId);
    // The org's default applies to a key without a limit of its own (a fresh one: a key's bucket is kept
    // across changes of its limit, and this key's is empty on a clock that does not move).
    const plain = await c.orgApiKeys.create(orgId, { desc: 'plain', roles: ['ORG_MEMBER'] });
    const plainClient = new PakmanClient({ baseUrl: s.base, credentials: plain });
    await c.orgs.setRateLimit(orgId, { requests: 1, periodSeconds: 120 });
    await plainClient.orgs.get(orgId);
    expect(fields(await refusal(plainClient.orgs.get(orgId)))).toMatchObject({
      errorCode: 'RATE_LIMITED',
      retryAfter: 120,
    });
    await c.orgs.deleteRateLimit(orgId);
    await plainClient.orgs.get(orgId);
    // A global key's limit, through /admin/apiKeys.
    const reader = await c.globalApiKeys.create({ desc: 'reader', roles: ['GLOBAL_READ_ONLY'] });
    const readerClient = new PakmanClient({ baseUrl: s.base, credentials: reader });
    await c.globalApiKeys.setRateLimit(reader.id, { requests: 1, periodSeconds: 30 });
    await readerClient.orgs.list();
    expect(fields(await refusal(readerClient.orgs.list()))).toMatchObject({
      status: 429,
      errorCode: 'RATE_LIMITED',
      retryAfter: 30,
    });
    await c.globalApiKeys.deleteRateLimit(reader.id);
    await readerClient.orgs.list();
  });

  it('CLI: sets, reads and removes an org default, as a table and as JSON', {
    timeout: 300_000,
  }, async () => {
    const path = `/orgs/${orgId}/rateLimit`;
    const set = json<RateLimit>(
      await pakman(['orgs', 'ratelimit', 'set', orgId, '--requests', '100', '--period', '1m', '-o', 'json']),
    );
    expect(set).toEqual({ links: self(path), periodSeconds: 60, requests: 100 });
    expect(await c.orgs.rateLimit(orgId)).toEqual(set);
    expect(await pakman(['orgs', 'ratelimit', 'get', orgId])).toEqual({
      code: 0,
      stdout: 'REQUESTS   PERIOD (S)\n100        60\n',
      stderr: '',
    });
    // Without the argument, the org comes from PAKMAN_ORG_ID, as for every org command.
    expect(
      json<RateLimit>(
        await pakman(['orgs', 'ratelimit', 'set', '--requests', '7', '--period', '30', '-o', 'json']),
      ),
    ).toMatchObject({ periodSeconds: 30, requests: 7 });
    expect(await c.orgs.rateLimit(orgId)).toMatchObject({ periodSeconds: 30, requests: 7 });
    // A delete with no terminal to confirm on needs --force, and leaves the limit.
    expect(await pakman(['orgs', 'ratelimit', 'delete', orgId])).toEqual({
      code: 2,
      stdout: '',
      stderr: `pakman: refusing to delete the rate limit of organization '${orgId}' without --force (no terminal to confirm on)\n`,
    });
    expect(await c.orgs.rateLimit(orgId)).toMatchObject({ requests: 7 });
    expect(await pakman(['orgs', 'ratelimit', 'delete', orgId, '--force'])).toEqual({
      code: 0,
      stdout: `Rate limit of organization '${orgId}' deleted\n`,
      stderr: '',
    });
    expect(fields(await refusal(c.orgs.rateLimit(orgId)))).toEqual(notFound(orgId));
    expect(await pakman(['orgs', 'ratelimit', 'get', orgId])).toEqual({
      code: 1,
      stdout: '',
      stderr: `pakman: RATE_LIMIT_NOT_FOUND: No rate limit is set for ${orgId}.\n`,
    });
  });

  it('CLI: limits an org key (refused as that key, with the wait) and a global key', {
    timeout: 300_000,
  }, async () => {
    const key = await c.orgApiKeys.create(orgId, { desc: 'cli', roles: ['ORG_MEMBER'] });
    const set = json<RateLimit>(
      await pakman([
        'orgs',
        'apikeys',
        'ratelimit',
        'set',
        key.id,
        '--requests',
        '1',
        '--period',
        '30',
        '-o',
        'json',
      ]),
    );
    expect(set).toEqual({
      links: self(`/orgs/${orgId}/apiKeys/${key.id}/rateLimit`),
      periodSeconds: 30,
      requests: 1,
    });
    expect(await c.orgApiKeys.rateLimit(orgId, key.id)).toEqual(set);
    expect(
      json<RateLimit>(
        await pakman(['orgs', 'apikeys', 'ratelimit', 'get', key.id, '--orgId', orgId, '-o', 'json']),
      ),
    ).toEqual(set);
    // The CLI run as the limited key: one request, then the refusal on one line with the wait.
    expect((await pakman(['orgs', 'describe', orgId], asKey(key))).code).toBe(0);
    expect(await pakman(['orgs', 'describe', orgId], asKey(key))).toEqual({
      code: 1,
      stdout: '',
      stderr: `pakman: RATE_LIMITED: Resource /api/public/v1.0/orgs/${orgId} is limited to 1 requests every 0.5 minutes. Retry after 30 seconds.\n`,
    });
    expect(
      json(await pakman(['orgs', 'apikeys', 'ratelimit', 'rm', key.id, '--force', '-o', 'json'])),
    ).toEqual({ deleted: true, id: key.id });
    expect(fields(await refusal(c.orgApiKeys.rateLimit(orgId, key.id)))).toEqual(notFound(key.id));
    expect((await pakman(['orgs', 'describe', orgId], asKey(key))).code).toBe(0);

    const g = await c.globalApiKeys.create({ desc: 'cli', roles: ['GLOBAL_READ_ONLY'] });
    expect(
      await pakman(['globalapikeys', 'ratelimit', 'set', g.id, '--requests', '5000', '--period', '1h']),
    ).toEqual({ code: 0, stdout: 'REQUESTS   PERIOD (S)\n5000       3600\n', stderr: '' });
    expect(await c.globalApiKeys.rateLimit(g.id)).toMatchObject({ periodSeconds: 3600, requests: 5000 });
    expect(json<RateLimit>(await pakman(['globalapikeys', 'ratelimit', 'get', g.id, '-o', 'json']))).toEqual({
      links: self(`/admin/apiKeys/${g.id}/rateLimit`),
      periodSeconds: 3600,
      requests: 5000,
    });
    expect(await pakman(['globalapikeys', 'ratelimit', 'delete', g.id, '--force'])).toEqual({
      code: 0,
      stdout: `Rate limit of global API key '${g.id}' deleted\n`,
      stderr: '',
    });
    expect(fields(await refusal(c.globalApiKeys.rateLimit(g.id)))).toEqual(notFound(g.id));
  });

  it('CLI: a bad value leaves the limit on the server as it was', { timeout: 300_000 }, async () => {
    await c.orgs.setRateLimit(orgId, { requests: 7, periodSeconds: 60 });
    const r = await pakman(['orgs', 'ratelimit', 'set', orgId, '--requests', '0', '--period', '60']);
    expect(r.code).toBe(2);
    expect(await c.orgs.rateLimit(orgId)).toMatchObject({ periodSeconds: 60, requests: 7 });
    await c.orgs.deleteRateLimit(orgId);
  });
});

describe('pakman ratelimit: bad input', () => {
  let listener: Server;
  let connections = 0;
  let env: NodeJS.ProcessEnv;
  const ORG = 'aaaaaaaaaaaaaaaaaaaaaaaa';
  const KEY = 'bbbbbbbbbbbbbbbbbbbbbbbb';

  beforeAll(async () => {
    // A socket that counts who connects, and answers any request 503: a command refused before sending
    // never reaches it. (It does not reset connections: Node 20's fetch can leave such a call unsettled.)
    listener = createServer((socket) => {
      connections++;
      socket.once('data', () =>
        socket.end('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'),
      );
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const port = (listener.address() as { port: number }).port;
    env = {
      ...cleanEnv(),
      PAKMAN_BASE_URL: `http://127.0.0.1:${port}`,
      PAKMAN_PUBLIC_API_KEY: 'abcdefgh',
      PAKMAN_PRIVATE_API_KEY: '00000000-0000-0000-0000-000000000000',
      PAKMAN_CONFIG_FILE: '/nonexistent/pakman-config.json',
      NO_COLOR: '1',
    };
  });
  afterAll(() => new Promise<void>((resolve) => listener?.close(() => resolve())));

  it('is refused with one line and exit code 2, and nothing is sent', { timeout: 300_000 }, async () => {
    const set = ['orgs', 'ratelimit', 'set', ORG];
    const requests = (v: string) =>
      `pakman: --requests must be a whole number from 1 to 1000000000, got '${v}'`;
    const period = (v: string) => `pakman: --period must be from 1 second to 86400 seconds (1d), got '${v}'`;
    const cases: [string[], string][] = [
      [[...set, '--period', '60'], "error: required option '--requests <n>' not specified"],
      [[...set, '--requests', '10'], "error: required option '--period <duration>' not specified"],
      [[...set, '--requests', '0', '--period', '60'], requests('0')],
      [[...set, '--requests', '-3', '--period', '60'], requests('-3')],
      [[...set, '--requests', '1.5', '--period', '60'], requests('1.5')],
      [[...set, '--requests', 'ten', '--period', '60'], requests('ten')],
      [[...set, '--requests', '1000000001', '--period', '60'], requests('1000000001')],
      [[...set, '--requests', '10', '--period', '0'], period('0')],
      [[...set, '--requests', '10', '--period', '86401'], period('86401')],
      [[...set, '--requests', '10', '--period', '2d'], period('2d')],
      [
        [...set, '--requests', '10', '--period', 'soon'],
        "pakman: --period must be a duration such as 90s, 15m, 1h or 7d, got 'soon'",
      ],
      [
        ['orgs', 'apikeys', 'ratelimit', 'set', KEY, '--requests', '0', '--period', '60', '--orgId', ORG],
        requests('0'),
      ],
      [['globalapikeys', 'ratelimit', 'set', KEY, '--requests', '10', '--period', '1w'], period('1w')],
      [['globalapikeys', 'ratelimit', 'get'], "error: missing required argument 'apiKeyId'"],
      [
        ['orgs', 'apikeys', 'ratelimit', 'get', KEY],
        'pakman: --orgId is required (or PAKMAN_ORG_ID, or orgId in the profile)',
      ],
      [
        ['orgs', 'ratelimit', 'get'],
        'pakman: --orgId is required (or PAKMAN_ORG_ID, or orgId in the profile)',
      ],
      [
        ['orgs', 'ratelimit', 'delete', ORG],
        `pakman: refusing to delete the rate limit of organization '${ORG}' without --force (no terminal to confirm on)`,
      ],
    ];
    // Four processes at a time: each run is mostly Node and tsx starting up.
    for (let i = 0; i < cases.length; i += 4) {
      const batch = cases.slice(i, i + 4);
      const runs = await Promise.all(batch.map(([args]) => runCli(args, env)));
      for (const [j, [args, line]] of batch.entries())
        expect(runs[j], args.join(' ')).toEqual({ code: 2, stdout: '', stderr: `${line}\n` });
    }
    expect(connections).toBe(0);
    // The same command with good values does go out (and gets the 503): the refusals were the CLI's.
    const valid = await runCli([...set, '--requests', '10', '--period', '60'], env);
    expect(valid).toEqual({
      code: 1,
      stdout: '',
      stderr: 'pakman: 503 Service Unavailable: Service Unavailable\n',
    });
    expect(connections).toBe(1);
  });
});
