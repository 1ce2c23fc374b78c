/**
 * The benchmark's digest client: one nonce fetched up front and reused with an incrementing `nc`
 * (what the official Go client and the SDK do), or a fresh challenge per call.
 */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { computeHa1, REALM } from '../src/server/auth/digest.js';

/** A programmatic key's credentials. */
export interface Creds {
  publicKey: string;
  privateKey: string;
}

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

/** Digest state for one credential: HA1 once, a cnonce per client, and a process-wide nc counter. */
export class DigestSigner {
  readonly #ha1: string;
  readonly #cnonce = randomBytes(8).toString('hex');
  #nc = 0;

  constructor(readonly creds: Creds) {
    this.#ha1 = computeHa1('MD5', creds.publicKey, creds.privateKey);
  }

  /** The Authorization header for `method uri` under `nonce`, with the next nc. */
  header(method: string, uri: string, nonce: string): string {
    const nc = (++this.#nc).toString(16).padStart(8, '0');
    const ha2 = md5(`${method}:${uri}`);
    const response = md5(`${this.#ha1}:${nonce}:${nc}:${this.#cnonce}:auth:${ha2}`);
    return `Digest username="${this.creds.publicKey}", realm="${REALM}", nonce="${nonce}", uri="${uri}", algorithm=MD5, qop=auth, nc=${nc}, cnonce="${this.#cnonce}", response="${response}"`;
  }
}

/** The nonce of a `WWW-Authenticate` challenge header. */
export function nonceOf(challenge: string | string[] | null | undefined): string {
  const text = Array.isArray(challenge) ? challenge[0] : challenge;
  const m = /nonce="([^"]+)"/.exec(text ?? '');
  if (!m) throw new Error(`no digest challenge in ${String(text)}`);
  return m[1]!;
}

/** A response as the benchmark keeps it: status, the headers pakman chose (raw names), and the body. */
export interface Captured {
  status: number;
  /** [name, value] pairs exactly as sent, transport headers (Date, Connection…) left out. */
  headers: [string, string][];
  body: Buffer;
}

/** Headers node:http adds by itself; everything else is copied to the baseline. */
const TRANSPORT_HEADERS = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding']);

/** One HTTP request over node:http, keeping the raw header names. */
export function send(
  origin: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
  agent: http.Agent | false = false,
): Promise<Captured> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${origin}${path}`, { method, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const kept: [string, string][] = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) {
          const name = res.rawHeaders[i]!;
          if (!TRANSPORT_HEADERS.has(name.toLowerCase())) kept.push([name, res.rawHeaders[i + 1]!]);
        }
        resolve({ status: res.statusCode ?? 0, headers: kept, body: Buffer.concat(chunks) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The value of a captured header (first occurrence, case-insensitive). */
export function headerOf(c: Captured, name: string): string | undefined {
  return c.headers.find(([n]) => n.toLowerCase() === name)?.[1];
}

/** A small digest client with nonce reuse (re-challenged when the server says stale). */
export class DigestClient {
  readonly #signer: DigestSigner;
  #nonce: string | undefined;

  /**
   * `agent`: a keep-alive agent reuses connections, as the Go client, `requests.Session` and pakman's SDK
   * do; without one each request opens a connection of its own.
   */
  constructor(
    readonly origin: string,
    creds: Creds,
    private readonly agent: http.Agent | false = false,
  ) {
    this.#signer = new DigestSigner(creds);
  }

  /** Sends a request; `path` is the request target (path + query). */
  async request(method: string, path: string, body?: unknown): Promise<Captured> {
    for (let attempt = 0; attempt < 3; attempt++) {
      if (!this.#nonce)
        this.#nonce = nonceOf(
          headerOf(await send(this.origin, method, path, {}, undefined, this.agent), 'www-authenticate'),
        );
      const headers: Record<string, string> = {
        authorization: this.#signer.header(method, path, this.#nonce),
      };
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await send(
        this.origin,
        method,
        path,
        headers,
        body === undefined ? undefined : JSON.stringify(body),
        this.agent,
      );
      const challenge = headerOf(res, 'www-authenticate');
      if (res.status === 401 && challenge) {
        this.#nonce = nonceOf(challenge);
        continue;
      }
      return res;
    }
    throw new Error(`${method} ${path}: still challenged after 3 attempts`);
  }

  /** Like `request`, but fails unless the status is 2xx; returns the parsed JSON body. */
  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.request(method, path, body);
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${res.body.toString()}`);
    return (res.body.length ? JSON.parse(res.body.toString()) : undefined) as T;
  }
}
