/**
 * The fuzz suite's request generator: malformed requests of every kind pakman takes in (digest headers,
 * bodies, ids, query parameters, content types, methods, paths, encodings). Request `i` of seed `s` is
 * drawn from a PRNG seeded by (s, i) alone, so one failing request is reproduced from the seed and its
 * index (`PAKMAN_FUZZ_SEED=s PAKMAN_FUZZ_ONLY=i npm run fuzz`).
 *
 * Every request that could change data (POST, PATCH, DELETE, PUT) is built to be refused before it
 * acts: a body that fails validation, a malformed or unknown id, wrong credentials, a bad `pretty` or
 * `envelope`, a wrong content type. GETs may be anything. The runner checks that the data did not change,
 * so a generated write that is accidentally valid is a failure of the generator, to be fixed here.
 */

/** Ids of the data the runner made, for paths that reach real rows. */
export interface FuzzContext {
  orgId: string;
  keyId: string;
  groupId: string;
  userId: string;
  username: string;
  projectName: string;
  globalKeyId: string;
  globalEntryId: string;
  /** The one address on the org key's access list (never an address a generated DELETE names). */
  listedIp: string;
}

/** Whose credentials sign a request, or how they are broken. */
export type FuzzAuth =
  | { kind: 'valid'; who: 'admin' | 'orgOwner' | 'projectKey' }
  | { kind: 'none' }
  | { kind: 'header'; value: string }
  | { kind: 'mutated'; who: 'admin'; mutate: DigestMutation };

/** How a valid digest header is damaged before it is sent. */
export type DigestMutation =
  | { field: string; value: string | null }
  | { wrongPassword: true }
  | { uri: string }
  | { method: string };

/** One generated request. */
export interface FuzzRequest {
  /** The generator that made it, for the report. */
  kind: string;
  method: string;
  /** Path and query as sent, from `/` on. */
  target: string;
  headers: Record<string, string>;
  body?: Buffer | undefined;
  auth: FuzzAuth;
  /** Sent over a raw socket, exactly these bytes (no auth): protocol-level garbage. */
  rawBytes?: Buffer | undefined;
}

/** mulberry32: small, fast, and good enough to spread cases. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The PRNG of request `index` of run `seed`. */
export function requestRandom(seed: number, index: number): () => number {
  return prng((Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0);
}

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const chance = (r: Rand, p: number) => r() < p;
const int = (r: Rand, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));

const API = '/api/public/v1.0';
const HEX = '0123456789abcdef';
const hexId = (r: Rand) => Array.from({ length: 24 }, () => pick(r, HEX.split(''))).join('');

/** Strings no body field accepts: text no database stores, and lengths past every limit. */
const BAD_TEXT = [
  'a\u0000b',
  '\u0000',
  'x\ud800',
  '\udc00y',
  '\udc00\ud800',
  'ok\ud83d',
  // Longer than every limit, the password's 1,024 included.
  'é'.repeat(1025),
  'x'.repeat(5000),
  `${'\u0000'.repeat(3)}${'z'.repeat(300)}`,
];
/** JSON text of values of the wrong type for any string or array field. */
const WRONG_TYPE = [
  '42',
  '-0',
  '1e999',
  '-1e999',
  'true',
  'false',
  '{}',
  '{"a":1}',
  '[[]]',
  '0.5',
  '123456789012345678901234567890',
];

/** Path-segment values that are never a well-formed id. */
const BAD_IDS = [
  'abcdefgh',
  '5980CFC70B6D97029D82E3F6',
  '5980cfc70b6d97029d82e3f',
  '5980cfc70b6d97029d82e3f6a',
  'zzzzzzzzzzzzzzzzzzzzzzzz',
  '%00',
  'a%00b',
  '%FF',
  '%ED%A0%80',
  '%C0%80',
  '%zz',
  '%',
  '..',
  '%2e%2e',
  '%2F',
  'null',
  'undefined',
  '-1',
  '0',
  '%205980cfc70b6d97029d82e3f6',
  '5980cfc70b6d97029d82e3f6%20',
  '%E2%80%AE',
  '%F0%9F%92%A9',
  'a'.repeat(300),
  'b'.repeat(3000),
];

/** Query fragments that are each invalid on any route that reads them, or ignored. */
const BAD_QUERY = [
  'pageNum=0',
  'pageNum=-1',
  'pageNum=99999999999999999999',
  'pageNum=1e400',
  'pageNum=9007199254740993',
  'pageNum=1.5',
  'pageNum=0x10',
  'pageNum=%00',
  'pageNum=',
  'pageNum',
  'itemsPerPage=501',
  'itemsPerPage=0',
  'itemsPerPage=1e2',
  'itemsPerPage=%20100',
  'pretty=maybe',
  'pretty=%00',
  'pretty=',
  'envelope=2',
  'envelope=TRUE%00',
  'name=%00',
  'name=a%00b',
  'name=%FF',
  'name=%ED%A0%80',
  `name=${'n'.repeat(2000)}`,
  'eventType=lower',
  'eventType=%00',
  `eventType=${'A'.repeat(101)}`,
  'eventType=A,,B',
  'minDate=99999-01-01',
  'minDate=0000-01-01',
  'minDate=-001-01-01',
  'minDate=2024-02-30',
  'minDate=2024-01-01T24:00:00Z',
  'maxDate=9999-12-31T23:59:59-23:59',
  'maxDate=%00',
  'includeRaw=yes',
  'accessList=fe80::1%25eth0',
  'accessList=%00',
  'whitelist=1.2.3.4/33',
  '%00=%00',
  '=',
  '&&&',
  'a[b]=c',
  '__proto__=1',
  'constructor[prototype]=1',
];

/** Paths of every route (ids filled from the context), and some that are not routes. */
function paths(c: FuzzContext): string[] {
  const key = `/orgs/${c.orgId}/apiKeys/${c.keyId}`;
  return [
    '',
    '/orgs',
    `/orgs/${c.orgId}`,
    `/orgs/${c.orgId}/apiKeys`,
    key,
    `${key}/accessList`,
    `${key}/whitelist`,
    `${key}/accessList/${c.listedIp}`,
    `${key}/accessList/10.0.0.0%2F8`,
    `${key}/accessList/10.0.0.0/8`,
    `/orgs/${c.orgId}/groups`,
    `/orgs/${c.orgId}/users`,
    `/orgs/${c.orgId}/events`,
    `/orgs/${c.orgId}/events/${hexIdOf(c.orgId)}`,
    '/groups',
    `/groups/${c.groupId}`,
    `/groups/byName/${encodeURIComponent(c.projectName)}`,
    `/groups/${c.groupId}/apiKeys`,
    `/groups/${c.groupId}/apiKeys/${c.keyId}`,
    `/groups/${c.groupId}/users`,
    `/groups/${c.groupId}/events`,
    '/users',
    `/users/${c.userId}`,
    `/users/byName/${encodeURIComponent(c.username)}`,
    '/admin/apiKeys',
    '/admin/apiKeys/roles',
    `/admin/apiKeys/${c.globalKeyId}`,
    '/admin/accessList',
    `/admin/accessList/${c.globalEntryId}`,
    '/admin/whitelist',
    '/unauth/users',
    '/nothing',
    '/orgs/../admin',
    '//orgs',
    '/orgs/',
  ];
}

/** A well-formed id that names nothing (the first hex digits of a real one, then changed ones). */
function hexIdOf(id: string): string {
  return `${id.slice(0, 8)}ffffffffffff${id.slice(20)}`;
}

/** The writes pakman has, each with a valid body to damage: [method, path, body]. */
function writes(c: FuzzContext): [string, string, Record<string, unknown> | unknown[]][] {
  const key = `/orgs/${c.orgId}/apiKeys/${c.keyId}`;
  const user = { username: 'fuzz@example.com', password: 'pw', firstName: 'F', lastName: 'Z' };
  return [
    ['POST', '/orgs', { name: 'Fuzz org' }],
    ['PATCH', `/orgs/${c.orgId}`, { name: 'Fuzz org' }],
    ['POST', `/orgs/${c.orgId}/apiKeys`, { desc: 'fuzz', roles: ['ORG_MEMBER'] }],
    ['PATCH', key, { desc: 'fuzz', roles: ['ORG_MEMBER'] }],
    ['POST', `${key}/accessList`, [{ ipAddress: '192.0.2.1' }]],
    ['POST', `${key}/whitelist`, [{ cidrBlock: '192.0.2.0/24' }]],
    ['POST', '/groups', { name: 'Fuzz project', orgId: c.orgId }],
    ['POST', `/groups/${c.groupId}/apiKeys`, { desc: 'fuzz', roles: ['GROUP_READ_ONLY'] }],
    ['PATCH', `/groups/${c.groupId}/apiKeys/${c.keyId}`, { roles: ['GROUP_READ_ONLY'] }],
    [
      'POST',
      '/users',
      { ...user, emailAddress: 'f@example.com', roles: [{ roleName: 'ORG_MEMBER', orgId: c.orgId }] },
    ],
    ['PATCH', `/users/${c.userId}`, { firstName: 'F', country: 'DE' }],
    ['POST', '/admin/apiKeys', { desc: 'fuzz', roles: ['GLOBAL_READ_ONLY'] }],
    ['PATCH', `/admin/apiKeys/${c.globalKeyId}`, { desc: 'fuzz' }],
    ['POST', '/admin/accessList', { cidrBlock: '192.0.2.0/24', description: 'fuzz' }],
    ['PATCH', `/admin/accessList/${c.globalEntryId}`, { description: 'fuzz' }],
  ];
}

/** The DELETEs of real rows; sent only with a damaged path, credentials or query. */
function deletes(c: FuzzContext): string[] {
  const key = `/orgs/${c.orgId}/apiKeys/${c.keyId}`;
  return [
    `/orgs/${c.orgId}`,
    key,
    `${key}/accessList/${c.listedIp}`,
    `/groups/${c.groupId}`,
    `/groups/${c.groupId}/apiKeys/${c.keyId}`,
    `/users/${c.userId}`,
    `/admin/apiKeys/${c.globalKeyId}`,
    `/admin/accessList/${c.globalEntryId}`,
  ];
}

/** Percent-encodes every UTF-8 byte (a lone surrogate becomes U+FFFD's bytes, as a client sends it). */
const pct = (s: string) => [...Buffer.from(s)].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');

const json = (v: unknown) => Buffer.from(JSON.stringify(v));

/** Replaces one value of a body (object or array of objects) with raw JSON text that makes it invalid. */
function damageBody(r: Rand, body: Record<string, unknown> | unknown[]): Buffer {
  const obj = (Array.isArray(body) ? body[0] : body) as Record<string, unknown>;
  const keys = Object.keys(obj);
  const text = JSON.stringify(body);
  switch (int(r, 0, 6)) {
    case 0: {
      // A bad string in a field (NUL, lone surrogate, too long), written with JSON escapes.
      const k = pick(r, keys);
      return Buffer.from(replaceValue(text, k, JSON.stringify(pick(r, BAD_TEXT))));
    }
    case 1: {
      // A value of the wrong type, as raw JSON text (1e999 and long integers included).
      const k = pick(r, keys);
      return Buffer.from(replaceValue(text, k, pick(r, WRONG_TYPE)));
    }
    case 2: {
      // An unknown or read-only field beside the valid ones (the last duplicate wins).
      const extra = pick(r, [
        'id',
        'links',
        'created',
        'publicKey',
        'privateKey',
        '__proto__',
        'constructor',
        'x\u0000',
        'nämé',
        'a'.repeat(300),
      ]);
      return Buffer.from(
        text.replace(/^(\[?)\{/, `$1{${JSON.stringify(extra)}:${pick(r, ['1', '"x"', '{}', 'null', '[]'])},`),
      );
    }
    case 3: {
      // A duplicate key whose last value is bad.
      const k = pick(r, keys);
      return Buffer.from(
        text.replace(/\}(\]?)$/, `,${JSON.stringify(k)}:${JSON.stringify(pick(r, BAD_TEXT))}}$1`),
      );
    }
    case 4:
      // Not JSON, or JSON of the wrong top-level shape.
      return Buffer.from(
        pick(r, [
          () => '',
          () => '{',
          () => '}',
          () => '{"name":',
          () => 'null',
          () => '"x"',
          () => '0',
          () => (Array.isArray(body) ? '{}' : '[]'),
          () => '[{}]'.slice(0, Array.isArray(body) ? 2 : 4),
          () => '{"a":1}{"b":2}',
          () => "{'name':'x'}",
          () => '{"name":"x",}',
          () => '\ufeff{}',
          // Built only when drawn: deep nesting and long bodies are the costly cases to make.
          () => '['.repeat(int(r, 1000, 100_000)),
          () => `${'{"a":'.repeat(int(r, 100, 20_000))}1${'}'.repeat(100)}`,
          () => `{${'"k":1,'.repeat(2000)}"k":"\u0000"}`,
        ])(),
      );
    case 5: {
      // Bytes that are not UTF-8 inside a string.
      const k = pick(r, keys);
      const [before, after] = splitAtValue(text, k);
      return Buffer.concat([
        Buffer.from(before),
        Buffer.from(
          pick(r, [[0xff], [0xed, 0xa0, 0x80], [0xc0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0x80]]),
        ),
        Buffer.from(after),
      ]);
    }
    default: {
      // A required field missing, with only fields that fail otherwise left (or nothing at all).
      return json(Array.isArray(body) ? [{}] : {});
    }
  }
}

/** The body text with the value of key `k` replaced by `raw` (JSON text). */
function replaceValue(text: string, k: string, raw: string): string {
  const [before, after] = splitAtValue(text, k);
  return `${before.slice(0, -1)}${raw}${after.slice(1)}`;
}

/** Text up to and including the opening quote of `k`'s value's first character, and the rest. */
function splitAtValue(text: string, k: string): [string, string] {
  const at = text.indexOf(`${JSON.stringify(k)}:`) + JSON.stringify(k).length + 1;
  // The value's end: the next top-level `,` or `}` after it (values here have no nested braces but roles).
  let depth = 0;
  let end = at;
  let inString = false;
  for (; end < text.length; end++) {
    const ch = text[end]!;
    if (inString) {
      if (ch === '\\') end++;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') inString = true;
    else if (ch === '[' || ch === '{') depth++;
    else if (ch === ']' || ch === '}') {
      if (depth === 0) break;
      depth--;
    } else if (ch === ',' && depth === 0) break;
  }
  // Keep one character on each side so callers can splice inside quotes or replace whole values.
  return [`${text.slice(0, at)}"`, `"${text.slice(end)}`];
}

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'APPLICATION/JSON',
  'application/json; charset=latin1',
];
const BAD_CONTENT_TYPES = [
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/jsonx',
  'json',
  'text/json',
  'application/json\u00e9',
];

/** Digest headers that are wrong without being a signature at all. */
function brokenHeader(r: Rand): string {
  return pick(r, [
    '',
    'Digest',
    'Digest ',
    'Basic YWRtaW46YWRtaW4=',
    'Bearer abc',
    'Digest username=',
    'Digest username="a", realm="MMS Public API", nonce="x", uri="/", response="0"',
    `Digest ${'a="b", '.repeat(600)}`,
    `Digest username="${'u'.repeat(5000)}"`,
    'Digest username="é", realm="MMS Public API", nonce="AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", uri="/", response="00000000000000000000000000000000", qop=auth, nc=00000001, cnonce="x"',
    'Digest username=""", realm=""',
    'Digest ,,,,,',
    'Digest username="a"username="b"',
    'digest username="a"',
  ]);
}

/**
 * A damage to a valid signature (the runner applies it after signing). `strict`: only damages that can
 * never leave a valid signature (a write relies on them to be refused); otherwise also dropped or odd
 * fields, some of which a server may tolerate (a missing `algorithm` means MD5).
 */
function digestMutation(r: Rand, strict: boolean): DigestMutation {
  if (strict) {
    switch (int(r, 0, 3)) {
      case 0:
        return { wrongPassword: true };
      case 1:
        return { uri: pick(r, ['/', '/api/public/v1.0/orgs?x=1', '*', 'http://evil/']) };
      case 2:
        return { field: 'response', value: pick(r, ['', '0'.repeat(32), 'x'.repeat(3000), 'é']) };
      default:
        return { field: 'username', value: pick(r, ['nobody', '', 'é', 'u'.repeat(300)]) };
    }
  }
  switch (int(r, 0, 4)) {
    case 0:
      return { wrongPassword: true };
    case 1:
      return { uri: pick(r, ['/', '/api/public/v1.0/orgs?x=1', '*', '', 'http://evil/']) };
    case 2:
      return { method: pick(r, ['GET', 'POST', 'DELETE', 'get']) };
    default:
      return {
        field: pick(r, [
          'username',
          'realm',
          'nonce',
          'uri',
          'response',
          'qop',
          'nc',
          'cnonce',
          'algorithm',
          'opaque',
        ]),
        value: pick(r, [
          null,
          '',
          '"',
          '00000000',
          'zzzzzzzz',
          '123456789',
          'auth-int',
          'SHA-256',
          'MD5-sess',
          '"unterminated',
          'x'.repeat(3000),
          'A'.repeat(32),
          '"MMS Public API"',
          'é',
        ]),
      };
  }
}

/** A raw request that no HTTP client would send: the server's HTTP parser answers it. */
function rawGarbage(r: Rand): Buffer {
  return Buffer.from(
    pick(r, [
      'GARBAGE\r\n\r\n',
      'GET\r\n\r\n',
      'GET / HTTP/9.9\r\nHost: x\r\n\r\n',
      `GET /api/public/v1.0/orgs HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
      'GET /api/public/v1.0/orgs HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n',
      'GET /api/public/v1.0/orgs HTTP/1.1\r\nHost: x\r\nX-Nul: a\u0000b\r\n\r\n',
      'POST /api/public/v1.0/orgs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\nZZ\r\n{}\r\n0\r\n\r\n',
      'POST /api/public/v1.0/orgs HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\n{}',
      'POST /api/public/v1.0/orgs HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n',
      'POST /api/public/v1.0/orgs HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      'GET /api/public/v1.0/orgs\u0000 HTTP/1.1\r\nHost: x\r\n\r\n',
      'GET /api/public/v1.0/or gs HTTP/1.1\r\nHost: x\r\n\r\n',
      'get /api/public/v1.0/orgs HTTP/1.1\r\nHost: x\r\n\r\n',
      'BREW /api/public/v1.0/orgs HTTP/1.1\r\nHost: x\r\n\r\n',
      'GET http://x/api/public/v1.0/orgs HTTP/1.1\r\nHost: x\r\n\r\n',
      'GET * HTTP/1.1\r\nHost: x\r\n\r\n',
      'GET /api/public/v1.0/orgs HTTP/1.1\r\nHost: x\r\nAuthorization: Digest username="\u00ff\u00fe"\r\n\r\n',
      'GET /api/public/v1.0/orgs HTTP/1.1\n\n',
      'GET /api/public/v1.0/groups/caf\u00e9 HTTP/1.1\r\nHost: x\r\n\r\n',
      'GET /api/public/v1.0/orgs HTTP/1.1\r\nHost: x\r\n Folded: y\r\n\r\n',
    ]),
    'latin1',
  );
}

/** Generates request `index` of run `seed`. */
export function generate(seed: number, index: number, c: FuzzContext): FuzzRequest {
  const r = requestRandom(seed, index);
  const roll = r();
  if (roll < 0.02)
    return {
      kind: 'raw',
      method: 'RAW',
      target: '',
      headers: {},
      auth: { kind: 'none' },
      rawBytes: rawGarbage(r),
    };
  const auth = authFor(r);
  if (roll < 0.42) return withAuth(badRead(r, c), auth);
  if (roll < 0.72) return badWrite(r, c, auth);
  if (roll < 0.82) return badDelete(r, c, auth);
  if (roll < 0.9) return badMethod(r, c, auth);
  return badAuthWrite(r, c);
}

function authFor(r: Rand): FuzzAuth {
  const x = r();
  if (x < 0.75) return { kind: 'valid', who: 'admin' };
  if (x < 0.83) return { kind: 'valid', who: 'orgOwner' };
  if (x < 0.88) return { kind: 'valid', who: 'projectKey' };
  if (x < 0.92) return { kind: 'none' };
  if (x < 0.96) return { kind: 'header', value: brokenHeader(r) };
  return { kind: 'mutated', who: 'admin', mutate: digestMutation(r, false) };
}

function withAuth(req: Omit<FuzzRequest, 'auth'>, auth: FuzzAuth): FuzzRequest {
  return { ...req, auth };
}

/** A query string: a few bad fragments, maybe valid ones around them, maybe repeated many times. */
function badQuery(r: Rand, atLeastOne: boolean): string {
  const n = atLeastOne ? int(r, 1, 3) : int(r, 0, 3);
  const parts = Array.from({ length: n }, () => pick(r, BAD_QUERY));
  if (chance(r, 0.2))
    parts.push(pick(r, ['pageNum=2', 'itemsPerPage=1', 'pretty=true', 'envelope=true', 'name=Fuzz']));
  if (chance(r, 0.05))
    parts.push(...Array.from({ length: int(r, 50, 400) }, () => pick(r, BAD_QUERY.slice(0, 20))));
  return parts.length ? `?${parts.join('&')}` : '';
}

/** A path with one segment replaced by something odd. */
function damagePath(r: Rand, path: string): string {
  const segs = path.split('/');
  const candidates = segs.map((_, i) => i).filter((i) => i > 0);
  if (candidates.length === 0) return `${path}/${pick(r, BAD_IDS)}`;
  const i = pick(r, candidates);
  segs[i] = pick(r, BAD_IDS);
  return segs.join('/');
}

/** GETs of real and odd paths with odd queries and ids: anything may be valid. */
function badRead(r: Rand, c: FuzzContext): Omit<FuzzRequest, 'auth'> {
  let path = pick(r, paths(c));
  if (chance(r, 0.4)) path = damagePath(r, path);
  else if (chance(r, 0.3)) path = path.replace(/[0-9a-f]{24}/, hexIdOf(c.orgId));
  if (chance(r, 0.05)) path = `/groups/byName/${pick(r, BAD_IDS)}`;
  if (chance(r, 0.05)) path = `/users/byName/${pct(pick(r, BAD_TEXT))}`;
  const target = `${API}${path}${badQuery(r, false)}`;
  const headers: Record<string, string> = {};
  let body: Buffer | undefined;
  if (chance(r, 0.1)) {
    headers['content-type'] = pick(r, [...CONTENT_TYPES, ...BAD_CONTENT_TYPES]);
    body = Buffer.from(pick(r, ['{}', '{', 'x', '\u0000']));
  }
  return { kind: 'read', method: 'GET', target, headers, body };
}

/** A write with a valid path and a body damaged so that validation refuses it. */
function badWrite(r: Rand, c: FuzzContext, auth: FuzzAuth): FuzzRequest {
  const [method, path, body] = pick(r, writes(c));
  const headers: Record<string, string> = {};
  const damaged = chance(r, 0.85);
  let bytes = damaged ? damageBody(r, body) : json(body);
  let target = `${API}${path}`;
  if (damaged) {
    headers['content-type'] = pick(r, CONTENT_TYPES);
    if (chance(r, 0.3)) target += badQuery(r, false).replace(/^\?/, '?pageNum=1&');
  } else {
    // A valid body: refused for its content type, its path, or its pretty/envelope.
    const how = int(r, 0, 2);
    if (how === 0) headers['content-type'] = pick(r, BAD_CONTENT_TYPES);
    else headers['content-type'] = 'application/json';
    if (how === 1) target = `${API}${damagePath(r, path)}`;
    if (how === 2)
      target += `?${pick(r, ['pretty=maybe', 'envelope=2', 'pretty=%00', 'envelope=', 'pretty=1'])}`;
    if (how === 0 && chance(r, 0.3)) bytes = Buffer.from(`x=${encodeURIComponent(bytes.toString())}`);
  }
  return { kind: damaged ? 'write-body' : 'write-other', method, target, headers, body: bytes, auth };
}

/** A DELETE of a real row with a malformed or unknown id, or a bad pretty/envelope. */
function badDelete(r: Rand, c: FuzzContext, auth: FuzzAuth): FuzzRequest {
  const path = pick(r, deletes(c));
  let target: string;
  switch (int(r, 0, 3)) {
    case 0:
      target = `${API}${path.replace(/[0-9a-f]{24}(?!.*[0-9a-f]{24})/, pick(r, BAD_IDS))}`;
      break;
    case 1:
      target = `${API}${path.replace(/[0-9a-f]{24}(?!.*[0-9a-f]{24})/, hexId(r))}`;
      break;
    case 2: {
      // An entry that is not on the list, or no address at all, in the list's own path.
      const list = deletes(c)[2]!;
      target = `${API}${list.replace(c.listedIp, pick(r, ['192.0.2.7', '192.0.2.0%2F24', '%00', '1.2.3', 'fe80::1%25eth0', '10.1.2.3%00', '::ffff:10.1.2.4']))}`;
      break;
    }
    default:
      target = `${API}${path}?${pick(r, ['pretty=maybe', 'envelope=2', 'pretty=%00', 'envelope=', 'pretty=yes&envelope=true'])}`;
  }
  return { kind: 'delete', method: 'DELETE', target, headers: {}, auth };
}

/** Methods a route does not take (405), unknown ones, and HEAD/OPTIONS. */
function badMethod(r: Rand, c: FuzzContext, auth: FuzzAuth): FuzzRequest {
  const method = pick(r, [
    'PUT',
    'OPTIONS',
    'HEAD',
    'TRACE',
    'PATCH',
    'DELETE',
    'POST',
    'PROPFIND',
    'SEARCH',
    'PURGE',
  ]);
  // Only paths where this method is no route: collections take no DELETE/PATCH, items no POST.
  const collections = [
    '/orgs',
    '/groups',
    '/admin/apiKeys',
    '/admin/accessList',
    `/orgs/${c.orgId}/events`,
    '/admin/apiKeys/roles',
    '',
  ];
  const items = [
    `/orgs/${c.orgId}/events/${hexIdOf(c.orgId)}`,
    `/groups/byName/${encodeURIComponent(c.projectName)}`,
    `/orgs/${c.orgId}/users`,
  ];
  const path = pick(r, [...collections, ...items]);
  const headers: Record<string, string> = {};
  let body: Buffer | undefined;
  if (method === 'POST' || method === 'PUT' || method === 'PATCH') {
    headers['content-type'] = 'application/json';
    // Still a body no route would accept, in case the method is a route here after all.
    body = Buffer.from('{"name":"\\u0000"}');
  }
  if (
    (method === 'POST' && collections.includes(path)) ||
    ((method === 'DELETE' || method === 'PATCH') && !collections.includes(path))
  ) {
    // Would be a route: keep it refused by its body or by a malformed id.
    return { kind: 'method', method, target: `${API}${path}/zz`, headers, body, auth };
  }
  return {
    kind: 'method',
    method,
    target: `${API}${path}${chance(r, 0.3) ? badQuery(r, false) : ''}`,
    headers,
    body,
    auth,
  };
}

/** A valid write signed with damaged or no credentials: 401, and nothing changes. */
function badAuthWrite(r: Rand, c: FuzzContext): FuzzRequest {
  const x = r();
  const auth: FuzzAuth =
    x < 0.4
      ? { kind: 'mutated', who: 'admin', mutate: digestMutation(r, true) }
      : x < 0.7
        ? { kind: 'header', value: brokenHeader(r) }
        : { kind: 'none' };
  if (chance(r, 0.4)) {
    const target = `${API}${pick(r, deletes(c))}`;
    return { kind: 'auth-delete', method: 'DELETE', target, headers: {}, auth };
  }
  const [method, path, body] = pick(r, writes(c));
  return {
    kind: 'auth-write',
    method,
    target: `${API}${path}`,
    headers: { 'content-type': 'application/json' },
    body: json(body),
    auth,
  };
}
