/**
 * Timing of refused digest credentials: does the time of a 401 tell whether a public key or a username
 * exists? One pakman (startServer, as `pakman serve` runs it, from src/) on loopback, on a fresh SQLite
 * file and, when TIMING_POSTGRES_URL (an admin URL, e.g. postgres://postgres@127.0.0.1:5432/test) is set,
 * on a fresh PostgreSQL database too. One client sends requests one at a time, the kinds interleaved
 * round-robin, each signed afresh (new cnonce) on a valid nonce:
 *
 * - key: wrong secret    a known public key, a wrong private key
 * - key: unknown         a public key that does not exist
 * - user: wrong key      a known username (which has a personal API key), a wrong key
 * - user: unknown        a username that does not exist
 * - key: right (200)     the known key with its secret, GET of the root (the success path, for reference)
 *
 * Prints the median and p90 of each kind in µs, and the gaps between the refusals that a caller could
 * compare. Bounded: TIMING_N requests of each kind (default 2,000) after 200 of warm-up.
 *
 *   node --import tsx bench/timing.ts
 *   TIMING_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test node --import tsx bench/timing.ts
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { storedSecret } from '../src/server/auth/credentials.js';
import { computeHa1, expectedResponse } from '../src/server/auth/digest.js';
import { loadConfig } from '../src/server/config.js';
import { startServer } from '../src/server/main.js';
import { users } from '../src/server/storage/repositories/users.js';

const N = Number(process.env.TIMING_N ?? '2000');
const WARMUP = 200;
const PATH = '/api/public/v1.0';

interface Kind {
  name: string;
  username: string;
  password: string;
  status: number;
  times: number[];
}

let agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function send(port: number, authorization?: string): Promise<{ status: number; header: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path: PATH, agent, headers: authorization ? { authorization } : {} },
      (res) => {
        res.resume();
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, header: String(res.headers['www-authenticate'] ?? '') }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function sign(kind: Kind, nonce: string, nc: number): string {
  const params = {
    username: kind.username,
    realm: 'MMS Public API',
    nonce,
    uri: PATH,
    response: '',
    qop: 'auth',
    nc: nc.toString(16).padStart(8, '0'),
    cnonce: randomBytes(8).toString('hex'),
    algorithm: 'MD5' as const,
  };
  const response = expectedResponse(computeHa1('MD5', kind.username, kind.password), params, 'GET');
  return `Digest username="${kind.username}", realm="MMS Public API", nonce="${nonce}", uri="${PATH}", algorithm=MD5, response="${response}", qop=auth, nc=${params.nc}, cnonce="${params.cnonce}"`;
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

async function run(label: string, databaseUrl: string): Promise<void> {
  agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const server = await startServer(
    loadConfig({
      databaseUrl,
      port: '0',
      host: '127.0.0.1',
      logLevel: 'silent',
      nonceLifetimeSeconds: '3600',
    }),
  );
  try {
    const addr = server.app.server.address();
    const port = typeof addr === 'object' && addr ? addr.port : 0;
    const boot = await fetch(`http://127.0.0.1:${port}${PATH}/unauth/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        username: 'admin@example.com',
        password: 'Pw-123456-x',
        firstName: 'A',
        lastName: 'B',
      }),
    });
    const { programmaticApiKey: key, user } = (await boot.json()) as {
      programmaticApiKey: { publicKey: string; privateKey: string };
      user: { id: string };
    };
    const personal = randomBytes(16).toString('hex');
    await users.addPersonalKey(server.conn.db, {
      id: randomBytes(12).toString('hex'),
      userId: user.id,
      created: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      ...storedSecret('admin@example.com', personal),
    });
    const kinds: Kind[] = [
      { name: 'key: wrong secret', username: key.publicKey, password: 'wrong', status: 401, times: [] },
      { name: 'key: unknown', username: 'zzzzzzzz', password: 'wrong', status: 401, times: [] },
      { name: 'user: wrong key', username: 'admin@example.com', password: 'wrong', status: 401, times: [] },
      { name: 'user: unknown', username: 'nobody@example.com', password: 'wrong', status: 401, times: [] },
      { name: 'key: right (200)', username: key.publicKey, password: key.privateKey, status: 200, times: [] },
    ];
    const nonce = /nonce="([^"]+)"/.exec((await send(port)).header)![1]!;
    let nc = 0;
    for (let i = 0; i < WARMUP + N; i++) {
      for (const kind of kinds) {
        const auth = sign(kind, nonce, ++nc);
        const t = process.hrtime.bigint();
        const res = await send(port, auth);
        const us = Number(process.hrtime.bigint() - t) / 1000;
        if (res.status !== kind.status) throw new Error(`${kind.name}: ${res.status}`);
        if (i >= WARMUP) kind.times.push(us);
      }
    }
    const stats = new Map<string, { median: number; p90: number }>();
    process.stdout.write(`\n${label} (${N} requests of each kind, interleaved)\n`);
    process.stdout.write(`${'kind'.padEnd(20)}${'median µs'.padStart(12)}${'p90 µs'.padStart(10)}\n`);
    for (const kind of kinds) {
      const sorted = [...kind.times].sort((a, b) => a - b);
      const s = { median: pct(sorted, 0.5), p90: pct(sorted, 0.9) };
      stats.set(kind.name, s);
      process.stdout.write(
        `${kind.name.padEnd(20)}${s.median.toFixed(0).padStart(12)}${s.p90.toFixed(0).padStart(10)}\n`,
      );
    }
    const gap = (a: string, b: string) =>
      `${(stats.get(a)!.median - stats.get(b)!.median).toFixed(0)} µs (median), ${(stats.get(a)!.p90 - stats.get(b)!.p90).toFixed(0)} µs (p90)`;
    process.stdout.write(
      `unknown key − known key, wrong secret: ${gap('key: unknown', 'key: wrong secret')}\n`,
    );
    process.stdout.write(
      `unknown user − known user, wrong key:  ${gap('user: unknown', 'user: wrong key')}\n`,
    );
    process.stdout.write(`unknown key − unknown user:            ${gap('key: unknown', 'user: unknown')}\n`);
  } finally {
    agent.destroy();
    await server.close();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'pakman-timing-'));
try {
  await run('SQLite', `sqlite:${join(dir, 'pakman.db')}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const admin = process.env.TIMING_POSTGRES_URL;
if (admin) {
  const name = `pakman_timing_${Date.now().toString(36)}`;
  const url = new URL(admin);
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  try {
    url.pathname = `/${name}`;
    await run('PostgreSQL', url.toString());
  } finally {
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await client.end();
  }
}
