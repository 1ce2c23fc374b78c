/**
 * Replays across a restart on SQLite: the replay memory lives in the process, so the next process refuses
 * (once, with `stale=true`) every nonce it did not issue itself from before it started — also one issued
 * in its own start second by the process before — while real digest clients carry on after one stale.
 */
import { rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import DigestFetch from 'digest-fetch';
import { afterEach, describe, expect, it } from 'vitest';
import { PakmanClient } from '../src/client/index.js';
import { bootstrap, type Creds, digest, raw } from './support/client.js';
import { authorization, challengeNonce } from './support/digestHeader.js';
import { freshDatabaseUrl, startTestServer, type TestServer } from './support/server.js';

/** Statuses and challenges of every response a server sends, in order. */
function watch(s: TestServer): { status: number; challenge: string; signed: boolean }[] {
  const seen: { status: number; challenge: string; signed: boolean }[] = [];
  s.app.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    let challenge = '';
    const writeHead = res.writeHead.bind(res) as (...a: unknown[]) => ServerResponse;
    res.writeHead = ((...args: unknown[]) => {
      const headers = args.find((a) => a && typeof a === 'object') as Record<string, unknown> | undefined;
      const h = headers?.['www-authenticate'] ?? headers?.['WWW-Authenticate'] ?? '';
      challenge = Array.isArray(h) ? h.join(', ') : String(h);
      return writeHead(...args);
    }) as ServerResponse['writeHead'];
    res.on('finish', () =>
      seen.push({ status: res.statusCode, challenge, signed: req.headers.authorization !== undefined }),
    );
  });
  return seen;
}

const orgCount = async (s: TestServer) =>
  Number(
    (
      await s.conn.db
        .selectFrom('orgs')
        .select((e) => e.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );

describe('replay memory across a restart (SQLite)', () => {
  const open: TestServer[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  /** A server on `databaseUrl` (a new file when absent, which outlives the server), on `port` if given. */
  async function start(opts: { databaseUrl?: string; port?: number; clock?: () => number } = {}) {
    if (!opts.databaseUrl) {
      const fresh = await freshDatabaseUrl('sqlite');
      dirs.push(fresh.dir);
      opts = { ...opts, databaseUrl: fresh.url };
    }
    const s = await startTestServer(opts);
    open.push(s);
    return s;
  }

  async function restart(s: TestServer, clock?: () => number): Promise<TestServer> {
    const port = Number(new URL(s.origin).port);
    await s.close();
    open.splice(open.indexOf(s), 1);
    // A restart takes a moment: the clients' pooled connections see the old process close them first
    // (undici notices the close lazily; a request sent on such a connection within ms fails, restart or not).
    await new Promise((r) => setTimeout(r, 300));
    return start({ databaseUrl: s.databaseUrl, port, ...(clock ? { clock } : {}) });
  }

  it('refuses with stale=true a write captured before the restart, and does not perform it', async () => {
    let s = await start();
    const admin = await bootstrap(s.base);
    const creds = { username: admin.publicKey, password: admin.privateKey };
    const target = '/api/public/v1.0/orgs';
    const header = authorization(creds, 'POST', target, await challengeNonce(`${s.base}/orgs`));
    const body = { name: 'captured' };
    const first = await raw('POST', `${s.origin}${target}`, { body, headers: { authorization: header } });
    expect(first.status).toBe(200);
    // Replayed to the same process: refused, as always.
    const replay = await raw('POST', `${s.origin}${target}`, { body, headers: { authorization: header } });
    expect(replay.status).toBe(401);

    s = await restart(s);
    const after = await raw('POST', `${s.origin}${target}`, { body, headers: { authorization: header } });
    expect(after.status).toBe(401);
    expect(String(after.headers['www-authenticate'])).toMatch(/stale=true$/);
    expect(await orgCount(s)).toBe(1);
    // A signed GET on the same old nonce (never used, new cnonce) is refused stale too: the new process
    // cannot tell which of that nonce's triples were used before it started.
    const fresh = authorization(creds, 'GET', target, /nonce="([^"]+)"/.exec(header)![1]!, 7);
    const read = await raw('GET', `${s.origin}${target}`, { headers: { authorization: fresh } });
    expect(read.status).toBe(401);
    expect(String(read.headers['www-authenticate'])).toMatch(/stale=true$/);
    // The stale challenge's nonce is this process's: signing on it works.
    const nonce = /nonce="([^"]+)"/.exec(String(read.headers['www-authenticate']))![1]!;
    const ok = await raw('GET', `${s.origin}${target}`, {
      headers: { authorization: authorization(creds, 'GET', target, nonce) },
    });
    expect(ok.status).toBe(200);
  });

  it('refuses a nonce the previous process issued in the second the new one starts, not its own', async () => {
    // Both processes live in the same whole second: nonces of either carry the same issue time.
    const second = Math.floor(Date.now() / 1000) * 1000;
    let s = await start({ clock: () => second + 100 });
    const admin = await bootstrap(s.base);
    const creds = { username: admin.publicKey, password: admin.privateKey };
    const target = '/api/public/v1.0/orgs';
    const header = authorization(creds, 'GET', target, await challengeNonce(`${s.base}/orgs`));
    expect((await raw('GET', `${s.origin}${target}`, { headers: { authorization: header } })).status).toBe(
      200,
    );

    s = await restart(s, () => second + 900);
    const replay = await raw('GET', `${s.origin}${target}`, { headers: { authorization: header } });
    expect(replay.status).toBe(401);
    expect(String(replay.headers['www-authenticate'])).toMatch(/stale=true$/);
    // This process's plain nonce of that same second is good, for a signed request and once only.
    const own = authorization(creds, 'GET', target, await challengeNonce(`${s.base}/orgs`));
    expect((await raw('GET', `${s.origin}${target}`, { headers: { authorization: own } })).status).toBe(200);
    const again = await raw('GET', `${s.origin}${target}`, { headers: { authorization: own } });
    expect(again.status).toBe(401);
    expect(String(again.headers['www-authenticate'])).toMatch(/stale=true$/);
  });

  it('real digest clients keep working across the restart after one stale challenge', async () => {
    let s = await start();
    const admin: Creds = await bootstrap(s.base);
    const sdk = new PakmanClient({ baseUrl: s.base, credentials: admin });
    const df = new DigestFetch(admin.publicKey, admin.privateKey);
    await sdk.orgs.list();
    expect((await df.fetch(`${s.base}/orgs`)).status).toBe(200);
    expect((await df.fetch(`${s.base}/orgs`)).status).toBe(200);

    s = await restart(s);
    const seen = watch(s);
    // The SDK signs on its old nonce: one stale, then the new nonce, reused.
    await sdk.orgs.create({ name: 'after-restart' });
    await sdk.orgs.list();
    expect(seen.map((r) => r.status)).toEqual([401, 200, 200]);
    expect(seen[0]!.signed).toBe(true);
    expect(seen[0]!.challenge).toMatch(/stale=true$/);

    // digest-fetch reuses its last challenge's nonce with a growing nc: one stale, then it carries on.
    seen.length = 0;
    const res = await df.fetch(`${s.base}/orgs`);
    expect(res.status).toBe(200);
    expect((await df.fetch(`${s.base}/orgs`)).status).toBe(200);
    expect(seen.map((r) => [r.status, r.signed])).toEqual([
      [401, true],
      [200, true],
      [200, true],
    ]);
    expect(seen[0]!.challenge).toMatch(/stale=true$/);

    // urllib (a fresh challenge per call) never notices.
    seen.length = 0;
    expect((await digest(admin, 'GET', `${s.base}/orgs`)).status).toBe(200);
    expect(seen.map((r) => r.status)).toEqual([401, 200]);
    expect(seen[0]!.signed).toBe(false);
  });
});
