/**
 * Slow clients (slow-loris): raw sockets that trickle headers or bodies, or hold connections open, against
 * a real server with short limits. The slow ones are closed by the deadlines (or at once, after an early
 * answer), the connection cap turns the excess away, and other clients are answered promptly throughout.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrap, type Creds, digest, raw } from './support/client.js';
import { authorization, challengeNonce } from './support/digestHeader.js';
import { startTestServer, type TestServer } from './support/server.js';

const HEADERS_MS = 800;
const REQUEST_MS = 1600;
const IDLE_MS = 1200;
const MAX_CONNECTIONS = 40;

/** A raw connection: what it received, and when the server closed it. */
interface Slow {
  socket: net.Socket;
  received: () => string;
  /** Resolves with the milliseconds from connect to close. */
  closed: Promise<number>;
  /** Sends `text` one byte every `everyMs` until closed. */
  trickle(text: string, everyMs: number): void;
}

function open(port: number): Promise<Slow> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    let timer: NodeJS.Timeout | undefined;
    const started = Date.now();
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      data += d;
    });
    socket.on('error', () => {});
    const closed = new Promise<number>((done) =>
      socket.on('close', () => {
        clearInterval(timer);
        done(Date.now() - started);
      }),
    );
    socket.once('connect', () =>
      resolve({
        socket,
        received: () => data,
        closed,
        trickle(text, everyMs) {
          let i = 0;
          timer = setInterval(() => {
            if (socket.destroyed || i >= text.length) return clearInterval(timer);
            socket.write(text[i++]!);
          }, everyMs);
        },
      }),
    );
    socket.once('error', reject);
  });
}

/** Closed by the server within `ms`? */
async function closedWithin(s: Slow, ms: number): Promise<number | 'open'> {
  return Promise.race([s.closed, new Promise<'open'>((r) => setTimeout(() => r('open'), ms))]);
}

const path = '/api/public/v1.0/orgs';
const json = (body: string) =>
  JSON.parse(body.slice(body.indexOf('\r\n\r\n') + 4)) as Record<string, unknown>;

describe('slow clients', () => {
  let s: TestServer;
  let port: number;
  let admin: Creds;

  beforeAll(async () => {
    s = await startTestServer({
      connections: {
        headersTimeoutMs: HEADERS_MS,
        requestTimeoutMs: REQUEST_MS,
        idleTimeoutMs: IDLE_MS,
        maxConnections: MAX_CONNECTIONS,
      },
    });
    port = Number(new URL(s.origin).port);
    admin = await bootstrap(s.base);
  });
  afterAll(async () => s?.close());

  /** Other clients meanwhile: each request is answered well within the deadlines. */
  async function promptly(): Promise<void> {
    for (let i = 0; i < 3; i++) {
      const t = Date.now();
      expect((await digest(admin, 'GET', `${s.base}/orgs`)).status).toBe(200);
      expect((await raw('GET', `${s.base}/orgs`)).status).toBe(401);
      expect(Date.now() - t).toBeLessThan(HEADERS_MS / 2);
    }
  }

  it('closes connections that trickle their headers, or send nothing, at the headers deadline', async () => {
    const slow = await Promise.all(Array.from({ length: 12 }, () => open(port)));
    for (const [i, c] of slow.entries()) {
      if (i % 3 === 0) continue; // sends nothing at all
      c.trickle(`GET ${path} HTTP/1.1\r\nHost: x\r\nX-Slow: ${'a'.repeat(100)}\r\n\r\n`, 100);
    }
    await promptly();
    const times = await Promise.all(slow.map((c) => closedWithin(c, HEADERS_MS + 2000)));
    for (const t of times) {
      expect(t).not.toBe('open');
      expect(t).toBeGreaterThanOrEqual(HEADERS_MS - 50);
    }
    // Those that had begun a request are told why, in the Ops Manager error shape.
    const told = slow[1]!.received();
    expect(told).toMatch(/^HTTP\/1\.1 408 /);
    expect(json(told)).toMatchObject({ error: 408, errorCode: 'REQUEST_TIMEOUT', reason: 'Request Timeout' });
  });

  it('answers bytes that are not HTTP, and headers over 16 KiB, in the Ops Manager error shape and closes', async () => {
    const cases: [string, number, string, string][] = [
      [
        `GET ${path} HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
        431,
        'REQUEST_HEADERS_TOO_LARGE',
        'Request Header Fields Too Large',
      ],
      ['NOT HTTP AT ALL\r\n\r\n', 400, 'MALFORMED_REQUEST', 'Bad Request'],
      [
        `GET ${path} HTTP/1.1\r\nHost: x\r\nBad Header Name: 1\r\n\r\n`,
        400,
        'MALFORMED_REQUEST',
        'Bad Request',
      ],
    ];
    for (const [bytes, status, errorCode, reason] of cases) {
      const c = await open(port);
      c.socket.write(bytes);
      expect(await closedWithin(c, 2000)).not.toBe('open');
      const told = c.received();
      expect(told.startsWith(`HTTP/1.1 ${status} ${reason}\r\n`)).toBe(true);
      expect(told).toMatch(/\r\nConnection: close\r\n/);
      const body = json(told);
      expect(Object.keys(body)).toEqual(['detail', 'error', 'errorCode', 'parameters', 'reason']);
      expect(body).toMatchObject({ error: status, errorCode, reason });
    }
    expect(
      json(
        (
          await open(port).then(async (c) => {
            c.socket.write(cases[0]![0]);
            await c.closed;
            return c;
          })
        ).received(),
      ).detail,
    ).toBe("The request's headers exceed 16384 bytes.");
    await promptly();
  });

  it('answers a trickling body without credentials at once with 401 and closes the connection', async () => {
    const slow = await Promise.all(Array.from({ length: 12 }, () => open(port)));
    for (const c of slow) {
      c.socket.write(
        `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{`,
      );
      c.trickle(`"name": "${'x'.repeat(180)}"}`, 100);
    }
    // A body that came whole with its headers keeps its connection (nothing is left to wait for).
    const whole = await open(port);
    const body = '{"name":"whole"}';
    const post = `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    whole.socket.write(post);
    await promptly();
    whole.socket.write(post);
    await new Promise((r) => setTimeout(r, 200));
    expect(whole.received().match(/HTTP\/1\.1 401 /g)).toHaveLength(2);
    expect(whole.received()).not.toMatch(/connection: close/i);
    expect(await closedWithin(whole, 0)).toBe('open');
    whole.socket.destroy();
    const times = await Promise.all(slow.map((c) => closedWithin(c, REQUEST_MS)));
    for (const [i, t] of times.entries()) {
      expect(t, `connection ${i}`).not.toBe('open');
      expect(t).toBeLessThan(HEADERS_MS);
      expect(slow[i]!.received()).toMatch(/^HTTP\/1\.1 401 [\s\S]*\r\nconnection: close\r\n/i);
    }
  });

  it('with credentials, closes a trickling body at the request deadline (408); with wrong ones at once (401)', async () => {
    const creds = { username: admin.publicKey, password: admin.privateKey };
    const nonce = await challengeNonce(`${s.base}/orgs`);
    const slow = await Promise.all(Array.from({ length: 8 }, () => open(port)));
    for (const [i, c] of slow.entries()) {
      const who = i % 2 === 0 ? creds : { ...creds, password: 'wrong' };
      const auth = authorization(who, 'POST', path, nonce, i + 1);
      c.socket.write(
        `POST ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: ${auth}\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{`,
      );
      c.trickle(`"name": "${'x'.repeat(180)}"}`, 100);
    }
    await promptly();
    const times = await Promise.all(slow.map((c) => closedWithin(c, REQUEST_MS + 2000)));
    for (const [i, t] of times.entries()) {
      expect(t, `connection ${i}`).not.toBe('open');
      if (i % 2 === 0) {
        expect(t).toBeGreaterThanOrEqual(REQUEST_MS - 50);
        expect(slow[i]!.received()).toMatch(/^HTTP\/1\.1 408 /);
        expect(json(slow[i]!.received()).errorCode).toBe('REQUEST_TIMEOUT');
      } else {
        expect(t).toBeLessThan(HEADERS_MS);
        expect(slow[i]!.received()).toMatch(/^HTTP\/1\.1 401 [\s\S]*\r\nconnection: close\r\n/i);
      }
    }
    // Nothing was created by the requests that never finished.
    expect((await digest(admin, 'GET', `${s.base}/orgs`)).json).toMatchObject({ totalCount: 0 });
  });

  it('keeps an idle keep-alive connection open past the idle timeout, and closes a silent one mid-request', async () => {
    const kept = await open(port);
    kept.socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
    await new Promise((r) => setTimeout(r, IDLE_MS + 600));
    expect(await closedWithin(kept, 0)).toBe('open');
    kept.socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
    await new Promise((r) => setTimeout(r, 300));
    expect(kept.received().match(/HTTP\/1\.1 401 /g)).toHaveLength(2);
    kept.socket.destroy();

    // A body that stops: closed by the request deadline or the idle timeout, whichever comes first.
    const creds = { username: admin.publicKey, password: admin.privateKey };
    const stuck = await open(port);
    const auth = authorization(creds, 'POST', path, await challengeNonce(`${s.base}/orgs`));
    stuck.socket.write(
      `POST ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: ${auth}\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n{`,
    );
    const t = await closedWithin(stuck, REQUEST_MS + 2000);
    expect(t).not.toBe('open');
    expect(t).toBeGreaterThanOrEqual(Math.min(IDLE_MS, REQUEST_MS) - 50);
  });

  it('caps connections: the excess is closed on arrival, existing ones keep working, and it recovers', async () => {
    const existing = await open(port);
    existing.socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
    await new Promise((r) => setTimeout(r, 100));
    const hold = await Promise.all(Array.from({ length: MAX_CONNECTIONS - 1 }, () => open(port)));
    for (const c of hold)
      c.trickle(`GET ${path} HTTP/1.1\r\nHost: x\r\nX-Slow: ${'a'.repeat(100)}\r\n\r\n`, 100);
    await new Promise((r) => setTimeout(r, 100));
    const excess = await Promise.all(Array.from({ length: 5 }, () => open(port)));
    for (const c of excess) {
      expect(await closedWithin(c, 500)).not.toBe('open');
      expect(c.received()).toBe('');
    }
    // The connection that was there first is still served.
    existing.socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
    await new Promise((r) => setTimeout(r, 200));
    expect(existing.received().match(/HTTP\/1\.1 401 /g)).toHaveLength(2);
    existing.socket.destroy();
    // Once the slow ones hit the headers deadline, new clients get in again.
    await Promise.all(hold.map((c) => closedWithin(c, HEADERS_MS + 2000)));
    await promptly();
  });
});
