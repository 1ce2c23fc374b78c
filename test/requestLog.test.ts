/**
 * The request log: one JSON line per request from a real server (its pino stream captured here) with
 * method, route pattern, status, duration, address, request id and principal, the id echoed in
 * `X-Request-Id` — and no secret in any line, while the requests carry digest headers, passwords and
 * newly created private keys.
 */
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrap, type Creds, digest, raw } from './support/client.js';
import { startTestServer, type TestServer } from './support/server.js';

interface Line {
  level: number;
  msg: string;
  reqId: string;
  method: string;
  route: string | null;
  status: number;
  ms: number;
  remoteAddress: string;
  principal: string | null;
}

describe('request log', () => {
  let s: TestServer;
  const text: string[] = [];
  const lines = (): Line[] =>
    text
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Line)
      .filter((l) => l.msg === 'request');
  const stream = new Writable({
    write(chunk, _enc, done) {
      text.push(String(chunk));
      done();
    },
  });
  let admin: Creds & { userId: string };

  beforeAll(async () => {
    s = await startTestServer({ logger: { level: 'info', stream } });
    admin = await bootstrap(s.base);
  });
  afterAll(async () => s?.close());

  /** The log lines of the request whose response carried this id, once the response is out. */
  async function linesOf(id: string): Promise<Line[]> {
    await new Promise((r) => setImmediate(r));
    return lines().filter((l) => l.reqId === id);
  }

  it('writes one line per request with its fields, and echoes the request id', async () => {
    const org = await digest(admin, 'POST', `${s.base}/orgs`, { body: { name: 'Logged' } });
    const orgId = (org.json as { id: string }).id;
    const res = await digest(admin, 'GET', `${s.base}/orgs/${orgId}`);
    expect(res.status).toBe(200);
    const id = String(res.headers['x-request-id']);
    expect(id).toMatch(/^[A-Za-z0-9_-]+-[0-9a-z]+$/);
    const mine = await linesOf(id);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({
      level: 30,
      method: 'GET',
      route: '/api/public/v1.0/orgs/:orgId',
      status: 200,
      remoteAddress: '127.0.0.1',
      principal: admin.publicKey,
    });
    expect(mine[0]!.ms).toBeGreaterThanOrEqual(0);
    // Ids of distinct requests differ.
    const again = await digest(admin, 'GET', `${s.base}/orgs/${orgId}`);
    expect(again.headers['x-request-id']).not.toBe(id);
  });

  it('logs failures and challenges too: 404 with no route, 401 with no principal', async () => {
    const missing = await digest(admin, 'GET', `${s.base}/nowhere`);
    expect(missing.status).toBe(404);
    const [line404] = await linesOf(String(missing.headers['x-request-id']));
    expect(line404).toMatchObject({ status: 404, route: null, principal: admin.publicKey });
    const challenged = await raw('GET', `${s.base}/orgs`);
    expect(challenged.status).toBe(401);
    const id = String(challenged.headers['x-request-id']);
    expect(await linesOf(id)).toEqual([
      expect.objectContaining({ status: 401, route: null, principal: null, method: 'GET' }),
    ]);
  });

  it('keeps a sane incoming X-Request-Id and replaces anything else', async () => {
    const given = 'lb-7f3a.42:abc';
    const res = await raw('GET', `${s.base}/orgs`, { headers: { 'X-Request-Id': given } });
    expect(res.headers['x-request-id']).toBe(given);
    expect(await linesOf(given)).toHaveLength(1);
    const signed = await digest(admin, 'GET', `${s.base}/orgs`, { headers: { 'X-Request-Id': given } });
    expect(signed.headers['x-request-id']).toBe(given);
    for (const bad of ['a'.repeat(129), 'has space', 'quote"', '{"msg":"x"}']) {
      const r = await raw('GET', `${s.origin}/health/live`, { headers: { 'X-Request-Id': bad } });
      expect(r.headers['x-request-id']).not.toBe(bad);
      expect(String(r.headers['x-request-id'])).toMatch(/^[A-Za-z0-9_-]+-[0-9a-z]+$/);
    }
  });

  it('does not log health probes at info', async () => {
    const before = lines().length;
    const res = await raw('GET', `${s.origin}/health/ready`);
    expect(res.status).toBe(200);
    const live = await raw('GET', `${s.origin}/health/live`);
    expect(live.status).toBe(200);
    await new Promise((r) => setImmediate(r));
    expect(lines().filter((l) => l.route?.startsWith('/health/'))).toEqual([]);
    expect(lines().length).toBe(before);
  });

  it('follows the log level: probes at debug, no request line at warn', async () => {
    try {
      s.app.log.level = 'debug';
      const probe = await raw('GET', `${s.origin}/health/live`);
      const [line] = await linesOf(String(probe.headers['x-request-id']));
      expect(line).toMatchObject({ level: 20, route: '/health/live', status: 200 });
      s.app.log.level = 'warn';
      const before = lines().length;
      expect((await digest(admin, 'GET', `${s.base}/orgs`)).status).toBe(200);
      expect((await raw('GET', `${s.base}/orgs`)).status).toBe(401);
      await new Promise((r) => setImmediate(r));
      expect(lines().length).toBe(before);
    } finally {
      s.app.log.level = 'info';
    }
    const again = await raw('GET', `${s.base}/orgs`);
    expect(await linesOf(String(again.headers['x-request-id']))).toHaveLength(1);
  });

  it('never logs a secret: Authorization headers, private keys, passwords, HA1s', async () => {
    const password = 'Very-Secret-Passw0rd-1';
    const user = await digest(admin, 'POST', `${s.base}/users`, {
      body: { username: 'logged@example.com', password, firstName: 'L', lastName: 'G' },
    });
    expect(user.status).toBe(201);
    const key = await digest(admin, 'POST', `${s.base}/admin/apiKeys`, {
      body: { desc: 'logged', roles: ['GLOBAL_READ_ONLY'] },
    });
    expect(key.status).toBe(200);
    const created = key.json as Creds;
    // The new key signs requests: its digest headers pass through the server too.
    expect((await digest(created, 'GET', `${s.base}/orgs`)).status).toBe(200);
    // A wrong secret and a malformed header.
    expect((await digest({ ...created, privateKey: password }, 'GET', `${s.base}/orgs`)).status).toBe(401);
    const malformed = `Digest username="${created.publicKey}", response="${password}"`;
    expect((await raw('GET', `${s.base}/orgs`, { headers: { Authorization: malformed } })).status).toBe(401);
    // A bootstrap attempt with a password (refused: there is a user already).
    await raw('POST', `${s.base}/unauth/users`, {
      body: { username: 'x@example.com', password, firstName: 'X', lastName: 'Y' },
    });
    await new Promise((r) => setImmediate(r));
    const all = text.join('');
    const ha1 = (user: string, secret: string) =>
      createHash('md5').update(`${user}:MMS Public API:${secret}`).digest('hex');
    for (const secret of [
      password,
      'Correct-Horse-9',
      admin.privateKey,
      created.privateKey,
      ha1(admin.publicKey, admin.privateKey),
      ha1(created.publicKey, created.privateKey),
      'Digest ',
      'response=',
      'cnonce',
    ]) {
      expect(all.includes(secret), secret).toBe(false);
    }
    if (process.env.PAKMAN_SHOW_LOG === '1') process.stdout.write(all);
    // The requests were logged, with who made them.
    expect(lines().some((l) => l.principal === created.publicKey && l.status === 200)).toBe(true);
  });
});
