/** Hand-built digest headers, for tests that must control nonce, nc and cnonce (replay, staleness). */
import { randomBytes } from 'node:crypto';
import { computeHa1, expectedResponse } from '../../src/server/auth/digest.js';
import { raw } from './client.js';

/** Fetches a fresh nonce from the server's challenge. */
export async function challengeNonce(url: string): Promise<string> {
  const res = await raw('GET', url);
  const header = String(res.headers['www-authenticate'] ?? '');
  const m = /nonce="([^"]+)"/.exec(header);
  if (!m) throw new Error(`no challenge from ${url}: ${res.status}`);
  return m[1]!;
}

/** An Authorization header for `method` on `target` (path + query) with the given nonce and nc. */
export function authorization(
  creds: { username: string; password: string },
  method: string,
  target: string,
  nonce: string,
  nc = 1,
  cnonce = randomBytes(8).toString('hex'),
): string {
  const params = {
    username: creds.username,
    realm: 'MMS Public API',
    nonce,
    uri: target,
    response: '',
    qop: 'auth',
    nc: nc.toString(16).padStart(8, '0'),
    cnonce,
    algorithm: 'MD5' as const,
  };
  const response = expectedResponse(computeHa1('MD5', creds.username, creds.password), params, method);
  return `Digest username="${params.username}", realm="${params.realm}", nonce="${nonce}", uri="${target}", algorithm=MD5, response="${response}", qop=auth, nc=${params.nc}, cnonce="${cnonce}"`;
}
