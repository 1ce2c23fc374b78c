/**
 * HTTP Digest authentication, client side (RFC 7616 / RFC 2617, qop=auth). Pure: parsing challenges and
 * computing Authorization headers; no I/O. Kept apart from the server's digest module so the SDK ships
 * without server code.
 */
import { createHash, randomBytes } from 'node:crypto';

/** Digest algorithms the client can answer. */
export type ClientDigestAlgorithm = 'MD5' | 'SHA-256';

/** One `WWW-Authenticate: Digest …` challenge. */
export interface DigestChallenge {
  realm: string;
  nonce: string;
  algorithm: ClientDigestAlgorithm;
  qop: string | undefined;
  opaque: string | undefined;
  stale: boolean;
}

const PARAM_RE = /\s*([a-zA-Z-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?/y;

function parseParams(text: string): Map<string, string> {
  const out = new Map<string, string>();
  PARAM_RE.lastIndex = 0;
  for (let m = PARAM_RE.exec(text); m; m = PARAM_RE.exec(text)) {
    out.set(m[1]!.toLowerCase(), m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? ''));
    if (PARAM_RE.lastIndex >= text.length) break;
  }
  return out;
}

/**
 * Parses every Digest challenge in a WWW-Authenticate value. fetch joins repeated headers with ", ", so
 * a server advertising MD5 and SHA-256 in two headers arrives as one string; split before each scheme.
 */
export function parseChallenges(header: string | null | undefined): DigestChallenge[] {
  if (!header) return [];
  const out: DigestChallenge[] = [];
  for (const part of header.split(/,?\s*(?=\bDigest\s)/i)) {
    const m = /^Digest\s+(.*)$/is.exec(part.trim());
    if (!m) continue;
    const p = parseParams(m[1]!);
    const nonce = p.get('nonce');
    const algorithm = (p.get('algorithm') ?? 'MD5').toUpperCase();
    if (!nonce || (algorithm !== 'MD5' && algorithm !== 'SHA-256')) continue;
    const qops = (p.get('qop') ?? '').split(',').map((q) => q.trim());
    out.push({
      realm: p.get('realm') ?? '',
      nonce,
      algorithm,
      qop: qops.includes('auth') ? 'auth' : undefined,
      opaque: p.get('opaque'),
      stale: (p.get('stale') ?? '').toLowerCase() === 'true',
    });
  }
  return out;
}

/** The challenge to answer: MD5 first, as Ops Manager advertises it and every Ops Manager client uses it. */
export function pickChallenge(challenges: readonly DigestChallenge[]): DigestChallenge | undefined {
  return challenges.find((c) => c.algorithm === 'MD5') ?? challenges[0];
}

function hash(algorithm: ClientDigestAlgorithm, text: string): string {
  return createHash(algorithm === 'MD5' ? 'md5' : 'sha256')
    .update(text, 'utf8')
    .digest('hex');
}

/** A fresh client nonce: 16 hex characters of crypto randomness. */
export function newCnonce(): string {
  return randomBytes(8).toString('hex');
}

/** What one Authorization header is computed from. */
export interface DigestAnswer {
  username: string;
  password: string;
  method: string;
  /** The request target (path + query) exactly as sent. */
  uri: string;
  challenge: DigestChallenge;
  /** The nonce count, 1 for the first use of this nonce. */
  nc: number;
  cnonce: string;
}

const quote = (v: string) => `"${v.replace(/(["\\])/g, '\\$1')}"`;

/** The `Authorization: Digest …` value for one request. */
export function authorizationHeader(a: DigestAnswer): string {
  const { challenge: c } = a;
  const nc = a.nc.toString(16).padStart(8, '0');
  const ha1 = hash(c.algorithm, `${a.username}:${c.realm}:${a.password}`);
  const ha2 = hash(c.algorithm, `${a.method}:${a.uri}`);
  const response = c.qop
    ? hash(c.algorithm, `${ha1}:${c.nonce}:${nc}:${a.cnonce}:${c.qop}:${ha2}`)
    : hash(c.algorithm, `${ha1}:${c.nonce}:${ha2}`);
  const parts = [
    `username=${quote(a.username)}`,
    `realm=${quote(c.realm)}`,
    `nonce=${quote(c.nonce)}`,
    `uri=${quote(a.uri)}`,
    `algorithm=${c.algorithm}`,
    `response=${quote(response)}`,
  ];
  if (c.qop) parts.push(`qop=${c.qop}`, `nc=${nc}`, `cnonce=${quote(a.cnonce)}`);
  if (c.opaque !== undefined) parts.push(`opaque=${quote(c.opaque)}`);
  return `Digest ${parts.join(', ')}`;
}
