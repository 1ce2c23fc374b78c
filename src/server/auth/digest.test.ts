import { describe, expect, it } from 'vitest';
import {
  challengeHeader,
  computeHa1,
  type DigestParams,
  digestFields,
  expectedResponse,
  NonceSigner,
  parseDigestHeader,
  uriMatches,
} from './digest.js';

describe('digest math against the RFC vectors', () => {
  it('RFC 2617 §3.5 (MD5, qop=auth)', () => {
    const ha1 = computeHa1('MD5', 'Mufasa', 'Circle Of Life', 'testrealm@host.com');
    const params: DigestParams = {
      username: 'Mufasa',
      realm: 'testrealm@host.com',
      nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
      uri: '/dir/index.html',
      response: '',
      qop: 'auth',
      nc: '00000001',
      cnonce: '0a4f113b',
      algorithm: 'MD5',
    };
    expect(expectedResponse(ha1, params, 'GET')).toBe('6629fae49393a05397450978507c4ef1');
  });

  const rfc7616 = {
    username: 'Mufasa',
    realm: 'http-auth@example.org',
    nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
    uri: '/dir/index.html',
    response: '',
    qop: 'auth',
    nc: '00000001',
    cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
  };
  it('RFC 7616 §3.9.1 (MD5)', () => {
    const ha1 = computeHa1('MD5', 'Mufasa', 'Circle of Life', 'http-auth@example.org');
    expect(expectedResponse(ha1, { ...rfc7616, algorithm: 'MD5' }, 'GET')).toBe(
      '8ca523f5e9506fed4657c9700eebdbec',
    );
  });
  it('RFC 7616 §3.9.1 (SHA-256)', () => {
    const ha1 = computeHa1('SHA-256', 'Mufasa', 'Circle of Life', 'http-auth@example.org');
    expect(expectedResponse(ha1, { ...rfc7616, algorithm: 'SHA-256' }, 'GET')).toBe(
      '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1',
    );
  });
});

describe('parseDigestHeader', () => {
  const good =
    'Digest username="abcdefgh", realm="MMS Public API", nonce="n", uri="/api/public/v1.0/orgs?x=1", algorithm=MD5, response="ABCDEF", qop=auth, nc=00000001, cnonce="c"';
  it('parses quoted and unquoted values', () => {
    expect(parseDigestHeader(good)).toEqual({
      username: 'abcdefgh',
      realm: 'MMS Public API',
      nonce: 'n',
      uri: '/api/public/v1.0/orgs?x=1',
      response: 'abcdef',
      qop: 'auth',
      nc: '00000001',
      cnonce: 'c',
      algorithm: 'MD5',
    });
  });
  it('accepts quoted algorithm, qop and nc, and a missing algorithm', () => {
    const h = good
      .replace('algorithm=MD5', 'algorithm="MD5"')
      .replace('qop=auth', 'qop="auth"')
      .replace('nc=00000001', 'nc="00000001"');
    expect(parseDigestHeader(h)?.algorithm).toBe('MD5');
    expect(parseDigestHeader(good.replace('algorithm=MD5, ', ''))?.algorithm).toBe('MD5');
  });
  it.each([
    ['no header', undefined],
    ['basic', 'Basic YWJjOmRlZg=='],
    ['nc zero', good.replace('nc=00000001', 'nc=00000000')],
    ['nc not hex', good.replace('nc=00000001', 'nc=0000000g')],
    ['qop auth-int', good.replace('qop=auth', 'qop=auth-int')],
    ['no qop', good.replace(', qop=auth', '')],
    ['no cnonce', good.replace(', cnonce="c"', '')],
    ['unknown algorithm', good.replace('algorithm=MD5', 'algorithm=SHA-512')],
    ['duplicate parameter', `${good}, nonce="m"`],
    ['garbage', 'Digest ,,,=,'],
  ])('rejects %s', (_, header) => {
    expect(parseDigestHeader(header)).toBeNull();
  });
});

/** The regular expressions pakman scanned headers with before `digestFields`: the reference it must match. */
function referenceFields(header: string | undefined): Map<string, string> | null {
  if (!header || header.length > 4096 || !/^Digest\s/i.test(header)) return null;
  const PARAM_RE = /([a-zA-Z]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))/y;
  const SEP_RE = /\s*,?\s*/y;
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
  return fields;
}

describe('digestFields matches the reference grammar', () => {
  const good =
    'Digest username="ab\\"cd", realm="MMS Public API", nonce="n", uri="/x?y=1", algorithm=MD5, response="ABCDEF", qop=auth, nc=00000001, cnonce="c"';
  // Characters the grammar treats specially, and some it does not.
  const alphabet = ['"', '\\', ',', '=', ' ', '\t', '\u00a0', '\u2003', 'a', 'Z', '0', '/', '?', 'é'];
  let seed = 42;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  it('on 20,000 mutations of a well-formed header (insertions, deletions, replacements)', () => {
    let parsed = 0;
    for (let i = 0; i < 20_000; i++) {
      let h = good;
      for (let k = rand(3) + 1; k > 0; k--) {
        const at = 7 + rand(h.length - 7);
        const ch = alphabet[rand(alphabet.length)]!;
        const op = rand(3);
        h = h.slice(0, at) + (op === 1 ? '' : ch) + h.slice(op === 0 ? at : at + 1);
      }
      expect(digestFields(h), h).toEqual(referenceFields(h));
      if (parseDigestHeader(h)) parsed++;
    }
    // Both outcomes are exercised: many mutations still parse, many do not.
    expect(parsed).toBeGreaterThan(2_000);
    expect(parsed).toBeLessThan(18_000);
  });
  it.each([
    'Digest username="a", realm="", nonce="n", uri="/", response="r", qop=auth, nc=00000001, cnonce="c',
    'Digest username="a\\',
    'Digest  ,  username = "a" ,realm="",nonce=n uri=/ response=r,qop=auth nc=00000001 cnonce=c',
    'digest\tusername="a", realm="", nonce="n", uri="/", response="r", qop="auth", nc="0000000A", cnonce="c"',
    'Digest\u00a0username="a", realm="", nonce="n", uri="/", response="r", qop=auth, nc=00000001, cnonce="c"',
    'Digest username="a"realm=""nonce="n"uri="/"response="r"qop=auth,nc=00000001,cnonce="c",,',
  ])('on %j', (h) => {
    expect(digestFields(h)).toEqual(referenceFields(h));
  });
});

describe('NonceSigner', () => {
  const signer = new NonceSigner('secret', 60);
  it('issues 32-character nonces of [A-Za-z0-9+/] only', () => {
    for (let i = 0; i < 200; i++) expect(signer.issue()).toMatch(/^[A-Za-z0-9+/]{32}$/);
  });
  it('accepts its own nonce within the lifetime, and reports it expired after', () => {
    const t = 1_700_000_000_000;
    const nonce = signer.issue(t);
    expect(signer.check(nonce, t + 59_000)).toBe('valid');
    expect(signer.check(nonce, t + 62_000)).toBe('expired');
  });
  it('rejects a nonce signed with another secret, or tampered with', () => {
    const nonce = signer.issue();
    expect(new NonceSigner('other').check(nonce)).toBe('invalid');
    const flipped = nonce[5] === 'A' ? 'B' : 'A';
    expect(signer.check(nonce.slice(0, 5) + flipped + nonce.slice(6))).toBe('invalid');
    expect(signer.check('short')).toBe('invalid');
  });
  it('is accepted by another signer holding the same secret (another node)', () => {
    expect(new NonceSigner('secret').check(signer.issue())).toBe('valid');
  });
});

describe('challengeHeader', () => {
  it('matches Ops Manager byte for byte', () => {
    expect(challengeHeader('kWVA9Ciu7lNaN5QdjPe8kxPMReVjbt+B', false)).toBe(
      'Digest realm="MMS Public API", domain="", nonce="kWVA9Ciu7lNaN5QdjPe8kxPMReVjbt+B", algorithm=MD5, qop="auth", stale=false',
    );
    expect(challengeHeader('n', true)).toMatch(/, stale=true$/);
  });
});

describe('uriMatches', () => {
  it('accepts the full target or the path alone', () => {
    expect(uriMatches('/a?b=1', '/a?b=1')).toBe(true);
    expect(uriMatches('/a', '/a?b=1')).toBe(true);
    expect(uriMatches('/a?b=2', '/a?b=1')).toBe(false);
    expect(uriMatches('/b', '/a')).toBe(false);
  });
});
