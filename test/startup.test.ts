/**
 * The server command as an operator runs it: configuration errors stop start-up with one line naming
 * the setting; a good start prints the URL and, on an empty database, the first-user command; SIGTERM
 * shuts down cleanly. Also: concurrent first-user calls, of which exactly one wins.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { raw } from './support/client.js';
import { DIALECTS } from './support/dialects.js';
import { startTestServer } from './support/server.js';

const root = join(import.meta.dirname, '..');

function serve(env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'serve'], {
    cwd: root,
    env: { ...process.env, PAKMAN_LOG_LEVEL: 'warn', PAKMAN_SHUTDOWN_DRAIN: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function collect(child: ChildProcess): {
  out: () => string;
  err: () => string;
  exit: Promise<number | null>;
} {
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => {
    out += d;
  });
  child.stderr!.on('data', (d) => {
    err += d;
  });
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { out: () => out, err: () => err, exit };
}

describe('pakman serve', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pakman-start-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    [{ PAKMAN_PORT: 'eighty' }, 'PAKMAN_PORT'],
    [{ PAKMAN_PORT: '70000' }, 'PAKMAN_PORT'],
    [{ PAKMAN_DATABASE_URL: 'mysql://x' }, 'PAKMAN_DATABASE_URL'],
    [{ PAKMAN_PUBLIC_URL: 'not a url' }, 'PAKMAN_PUBLIC_URL'],
    [{ PAKMAN_SECRET: 'short' }, 'PAKMAN_SECRET'],
    [{ PAKMAN_NONCE_LIFETIME: '0' }, 'PAKMAN_NONCE_LIFETIME'],
    [{ PAKMAN_HEADERS_TIMEOUT: '40' }, 'PAKMAN_HEADERS_TIMEOUT'],
    [{ PAKMAN_MAX_CONNECTIONS: 'many' }, 'PAKMAN_MAX_CONNECTIONS'],
  ])('refuses %j with one line naming %s', async (env, name) => {
    const p = collect(serve({ PAKMAN_DATABASE_URL: `sqlite:${join(dir, 'bad.db')}`, ...env }));
    expect(await p.exit).toBe(2);
    const lines = p.err().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(name);
  });

  it('starts, prints its URL and the first-user command, and stops cleanly on SIGTERM', async () => {
    const port = String(20000 + Math.floor(Math.random() * 20000));
    const child = serve({
      PAKMAN_PORT: port,
      PAKMAN_DATABASE_URL: `sqlite:${join(dir, 'sub', 'pakman.db')}`,
    });
    const p = collect(child);
    const deadline = Date.now() + 20_000;
    while (!p.out().includes('/unauth/users') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect(p.out()).toContain(`listening on http://127.0.0.1:${port}/api/public/v1.0`);
    expect(p.out()).toContain(
      `curl -X POST -H 'Content-Type: application/json' 'http://127.0.0.1:${port}/api/public/v1.0/unauth/users'`,
    );
    const version = await raw('GET', `http://127.0.0.1:${port}/api/private/unauth/version`);
    expect(version.status).toBe(200);
    child.kill('SIGTERM');
    expect(await p.exit).toBe(0);
  });
});

describe.each(DIALECTS)('first-user bootstrap race (%s)', (dialect) => {
  it('exactly one of many concurrent first calls wins', async () => {
    const s = await startTestServer({ dialect });
    try {
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          raw('POST', `${s.base}/unauth/users`, {
            body: {
              username: `racer${i}@example.com`,
              password: 'Pw-123456',
              firstName: 'R',
              lastName: `${i}`,
            },
          }),
        ),
      );
      const statuses = results.map((r) => r.status).sort();
      expect(statuses.filter((st) => st === 201)).toHaveLength(1);
      expect(statuses.filter((st) => st !== 201).every((st) => st === 403)).toBe(true);
      const users = await s.conn.db.selectFrom('users').select('id').execute();
      const keys = await s.conn.db.selectFrom('api_keys').select('id').execute();
      expect(users).toHaveLength(1);
      expect(keys).toHaveLength(1);
    } finally {
      await s.close();
    }
  });
});
