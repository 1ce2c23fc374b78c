import { describe, expect, it } from 'vitest';
import { authorizationHeader, parseChallenges, pickChallenge } from './digest.js';

describe('client digest math', () => {
  it('computes the RFC 2617 §3.5 example response', () => {
    const header = authorizationHeader({
      username: 'Mufasa',
      password: 'Circle Of Life',
      method: 'GET',
      uri: '/dir/index.html',
      challenge: {
        realm: 'testrealm@host.com',
        nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
        algorithm: 'MD5',
        qop: 'auth',
        opaque: '5ccc069c403ebaf9f0171e9517f40e41',
        stale: false,
      },
      nc: 1,
      cnonce: '0a4f113b',
    });
    expect(header).toBe(
      'Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", ' +
        'uri="/dir/index.html", algorithm=MD5, response="6629fae49393a05397450978507c4ef1", qop=auth, ' +
        'nc=00000001, cnonce="0a4f113b", opaque="5ccc069c403ebaf9f0171e9517f40e41"',
    );
  });

  it('parses the Ops Manager challenge, and MD5 + SHA-256 challenges joined by fetch', () => {
    const md5 =
      'Digest realm="MMS Public API", domain="", nonce="kWVA9Ciu7lNaN5QdjPe8kxPMReVjbt+B", algorithm=MD5, qop="auth", stale=false';
    const sha = md5.replace('MD5', 'SHA-256').replace('stale=false', 'stale=true');
    expect(parseChallenges(md5)).toEqual([
      {
        realm: 'MMS Public API',
        nonce: 'kWVA9Ciu7lNaN5QdjPe8kxPMReVjbt+B',
        algorithm: 'MD5',
        qop: 'auth',
        opaque: undefined,
        stale: false,
      },
    ]);
    const both = parseChallenges(`${sha}, ${md5}`);
    expect(both.map((c) => [c.algorithm, c.stale])).toEqual([
      ['SHA-256', true],
      ['MD5', false],
    ]);
    expect(pickChallenge(both)?.algorithm).toBe('MD5');
    expect(parseChallenges('Basic realm="x"')).toEqual([]);
    expect(parseChallenges(null)).toEqual([]);
  });
});
