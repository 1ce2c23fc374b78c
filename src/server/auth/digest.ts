/**
 * HTTP Digest authentication, server side (RFC 7616 / RFC 2617, qop=auth), as Ops Manager speaks it.
 * Pure: parsing, hashing, stateless signed nonces and the challenge header; no I/O.
 */
import crypto, { createHmac, randomFillSync, timingSafeEqual } from 'node:crypto';

/** The realm Ops Manager uses. */
export const REALM = 'MMS Public API';

/** Digest algorithms pakman can verify. */
export type DigestAlgorithm = 'MD5' | 'SHA-256';

/** The parameters of an `Authorization: Digest …` header. */
export interface DigestParams {
  username: string;
  realm: string;
  nonce: string;
  uri: string;
  response: string;
  qop: string;
  nc: string;
  cnonce: string;
  algorithm: DigestAlgorithm;
}

const SPACE = /\s/;

/** Whether the character code `c` is whitespace as `\s` defines it. */
function isSpace(c: number): boolean {
  if (c <= 0xff) return c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0xa0;
  return SPACE.test(String.fromCharCode(c));
}

const isLetter = (c: number) => (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a;

/**
 * The parameters of a `Digest` Authorization header by lowercased name, values unquoted; null when the
 * header is not one.
 *
 * Grammar (lenient, as browsers and curl send it): `Digest` then `name = value` pairs, names of letters
 * (case-insensitive), values a quoted string (backslash escapes one character) or a run of characters
 * other than whitespace and commas, pairs separated by whitespace and at most one comma. A parameter
 * given twice makes the header malformed. A scanner, not a regular expression: this runs on every
 * request.
 */
export function digestFields(header: string | undefined): Map<string, string> | null {
  if (!header || header.length > 4096 || header.length < 7) return null;
  if (header.slice(0, 6).toLowerCase() !== 'digest' || !isSpace(header.charCodeAt(6))) return null;
  const fields = new Map<string, string>();
  const n = header.length;
  let pos = 7;
  for (;;) {
    while (pos < n && isSpace(header.charCodeAt(pos))) pos++;
    if (header.charCodeAt(pos) === 0x2c) {
      pos++;
      while (pos < n && isSpace(header.charCodeAt(pos))) pos++;
    }
    if (pos >= n) break;
    const keyStart = pos;
    while (pos < n && isLetter(header.charCodeAt(pos))) pos++;
    if (pos === keyStart) return null;
    const key = header.slice(keyStart, pos).toLowerCase();
    while (pos < n && isSpace(header.charCodeAt(pos))) pos++;
    if (header.charCodeAt(pos) !== 0x3d) return null;
    pos++;
    while (pos < n && isSpace(header.charCodeAt(pos))) pos++;
    let value: string | undefined;
    if (header.charCodeAt(pos) === 0x22) {
      // A quoted string; unterminated, it is read as a plain value, opening quote included.
      let out = '';
      let from = pos + 1;
      for (let i = from; i < n; i++) {
        const c = header.charCodeAt(i);
        if (c === 0x22) {
          value = out + header.slice(from, i);
          pos = i + 1;
          break;
        }
        if (c === 0x5c) {
          if (i + 1 >= n) break;
          out += header.slice(from, i);
          from = i + 1;
          i++;
        }
      }
    }
    if (value === undefined) {
      const valueStart = pos;
      while (pos < n && header.charCodeAt(pos) !== 0x2c && !isSpace(header.charCodeAt(pos))) pos++;
      value = header.slice(valueStart, pos);
    }
    if (fields.has(key)) return null;
    fields.set(key, value);
  }
  return fields;
}

/** Parses an Authorization header; null when it is not a well-formed Digest header with qop=auth. */
export function parseDigestHeader(header: string | undefined): DigestParams | null {
  const fields = digestFields(header);
  if (!fields) return null;
  const username = fields.get('username');
  const realm = fields.get('realm');
  const nonce = fields.get('nonce');
  const uri = fields.get('uri');
  const response = fields.get('response');
  const qop = fields.get('qop');
  const nc = fields.get('nc');
  const cnonce = fields.get('cnonce');
  const algorithmRaw = fields.get('algorithm') ?? 'MD5';
  if (!username || realm === undefined || !nonce || !uri || !response || !qop || !nc || !cnonce) return null;
  if (qop !== 'auth' || !/^[0-9a-fA-F]{8}$/.test(nc) || /^0+$/.test(nc)) return null;
  const algorithm =
    algorithmRaw.toUpperCase() === 'MD5'
      ? 'MD5'
      : algorithmRaw.toUpperCase() === 'SHA-256'
        ? 'SHA-256'
        : null;
  if (!algorithm) return null;
  return {
    username,
    realm,
    nonce,
    uri,
    response: response.toLowerCase(),
    qop,
    nc: nc.toLowerCase(),
    cnonce,
    algorithm,
  };
}

/** One-shot hashing (Node 20.12 and later) skips a Hash object per digest; older Nodes make one. */
const oneShot = typeof crypto.hash === 'function' ? crypto.hash : undefined;

/** H(text) as lowercase hex, the digest scheme's hash. */
export function hash(algorithm: DigestAlgorithm, text: string): string {
  const name = algorithm === 'MD5' ? 'md5' : 'sha256';
  return oneShot ? oneShot(name, text, 'hex') : crypto.createHash(name).update(text, 'utf8').digest('hex');
}

/** HA1 = H(username:realm:password): what pakman stores instead of a password or private key. */
export function computeHa1(
  algorithm: DigestAlgorithm,
  username: string,
  password: string,
  realm = REALM,
): string {
  return hash(algorithm, `${username}:${realm}:${password}`);
}

/** The response a client holding `ha1` must send for these parameters and this method. */
export function expectedResponse(ha1: string, params: DigestParams, method: string): string {
  const ha2 = hash(params.algorithm, `${method}:${params.uri}`);
  return hash(params.algorithm, `${ha1}:${params.nonce}:${params.nc}:${params.cnonce}:${params.qop}:${ha2}`);
}

/** Constant-time comparison of two hex digests of equal algorithm. */
export function digestsEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a, 'latin1');
  const bb = Buffer.from(b, 'latin1');
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

/** The outcome of checking a nonce. */
export type NonceState = 'valid' | 'expired' | 'invalid';

/** Random bytes drawn from the CSPRNG a few kilobytes at a time (one system call per 512 nonces). */
const pool = Buffer.alloc(4096);
let poolUsed = pool.length;

/** Fills 8 bytes of `target` at `offset` with fresh random bytes (each pool byte is used once). */
function randomInto(target: Buffer, offset: number): void {
  if (poolUsed + 8 > pool.length) {
    randomFillSync(pool);
    poolUsed = 0;
  }
  pool.copy(target, offset, poolUsed, poolUsed + 8);
  poolUsed += 8;
}

/**
 * Stateless nonces: base64 of 4 bytes issue time (seconds), 8 random bytes and a 12-byte HMAC-SHA256
 * over both, keyed with the deployment secret. 24 bytes encode to 32 characters of [A-Za-z0-9+/], no `=`,
 * so any node sharing the secret can verify a nonce without a lookup.
 */
export class NonceSigner {
  readonly #key: Buffer;
  readonly lifetimeSeconds: number;

  constructor(secret: string | Buffer, lifetimeSeconds = 60) {
    this.#key = createHmac('sha256', secret).update('pakman digest nonce v1').digest();
    this.lifetimeSeconds = lifetimeSeconds;
  }

  #mac(head: Buffer): Buffer {
    return createHmac('sha256', this.#key).update(head).digest().subarray(0, 12);
  }

  /** A fresh nonce issued at `nowMs`. */
  issue(nowMs: number = Date.now()): string {
    const raw = Buffer.allocUnsafe(24);
    raw.writeUInt32BE(Math.floor(nowMs / 1000) >>> 0, 0);
    randomInto(raw, 4);
    const head = raw.subarray(0, 12);
    this.#mac(head).copy(raw, 12);
    return raw.toString('base64');
  }

  /** Whether `nonce` was issued by a holder of the secret, and whether it is still within its lifetime. */
  check(nonce: string, nowMs: number = Date.now()): NonceState {
    if (nonce.length !== 32 || !/^[A-Za-z0-9+/]{32}$/.test(nonce)) return 'invalid';
    const raw = Buffer.from(nonce, 'base64');
    if (raw.length !== 24) return 'invalid';
    const head = raw.subarray(0, 12);
    if (!timingSafeEqual(raw.subarray(12), this.#mac(head))) return 'invalid';
    const age = Math.floor(nowMs / 1000) - head.readUInt32BE(0);
    if (age < -5) return 'invalid';
    return age > this.lifetimeSeconds ? 'expired' : 'valid';
  }

  /** Seconds since the epoch at which a nonce stops being valid (for replay-record expiry). */
  expiresAt(nonce: string): number {
    return Buffer.from(nonce, 'base64').readUInt32BE(0) + this.lifetimeSeconds + 1;
  }
}

/** The WWW-Authenticate challenge, byte for byte as Ops Manager sends it. */
export function challengeHeader(nonce: string, stale: boolean, algorithm: DigestAlgorithm = 'MD5'): string {
  return `Digest realm="${REALM}", domain="", nonce="${nonce}", algorithm=${algorithm}, qop="auth", stale=${stale}`;
}

/** Whether the header's `uri` names this request: its full target, or its path alone. */
export function uriMatches(headerUri: string, requestTarget: string): boolean {
  if (headerUri === requestTarget) return true;
  const q = requestTarget.indexOf('?');
  return q >= 0 && headerUri === requestTarget.slice(0, q);
}
