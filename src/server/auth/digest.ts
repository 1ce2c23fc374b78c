/**
 * HTTP Digest authentication, server side (RFC 7616 / RFC 2617, qop=auth), as Ops Manager speaks it.
 * Pure: parsing, hashing, stateless signed nonces and the challenge header; no I/O.
 */
import { createHash, createHmac, randomFillSync, timingSafeEqual } from 'node:crypto';

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

const PARAM_RE = /([a-zA-Z]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))/y;
const SEP_RE = /\s*,?\s*/y;

/** Parses an Authorization header; null when it is not a well-formed Digest header with qop=auth. */
export function parseDigestHeader(header: string | undefined): DigestParams | null {
  if (!header || header.length > 4096 || !/^Digest\s/i.test(header)) return null;
  const fields = new Map<string, string>();
  let pos = 7;
  while (pos < header.length) {
    SEP_RE.lastIndex = pos;
    SEP_RE.exec(header);
    pos = SEP_RE.lastIndex;
    if (pos >= header.length) break;
    PARAM_RE.lastIndex = pos;
    const m = PARAM_RE.exec(header);
    if (!m) return null;
    const key = m[1]!.toLowerCase();
    if (fields.has(key)) return null;
    fields.set(key, m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? ''));
    pos = PARAM_RE.lastIndex;
  }
  const get = (k: string) => fields.get(k);
  const username = get('username');
  const realm = get('realm');
  const nonce = get('nonce');
  const uri = get('uri');
  const response = get('response');
  const qop = get('qop');
  const nc = get('nc');
  const cnonce = get('cnonce');
  const algorithmRaw = get('algorithm') ?? 'MD5';
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

function hash(algorithm: DigestAlgorithm, text: string): string {
  return createHash(algorithm === 'MD5' ? 'md5' : 'sha256')
    .update(text, 'utf8')
    .digest('hex');
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
