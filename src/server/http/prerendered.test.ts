import { describe, expect, it } from 'vitest';
import type { ApiKeyRecord } from '../storage/repositories/apiKeys.js';
import { render } from './output.js';
import { listBody } from './pagination.js';
import { apiKeysToWire } from './prerendered.js';
import { apiKeyToWire } from './wire.js';

const origin = 'http://h:8080';
const records: ApiKeyRecord[] = [
  {
    id: '5c47503320eef5699e1cce8d',
    orgId: '5980cfc70b6d97029d82e3f6',
    publicKey: 'ewmaqvdo',
    desc: 'Test Docs Service User',
    keyTail: 'db2c132ca78d',
    created: '2019-01-22T16:37:07Z',
    expiresAt: null,
    roles: [{ scope: 'org', scopeId: '5980cfc70b6d97029d82e3f6', roleName: 'ORG_MEMBER' }],
  },
  {
    id: '5c47503320eef5699e1cce8e',
    orgId: '5980cfc70b6d97029d82e3f6',
    publicKey: 'abcdefgh',
    // Characters JSON must escape, and some it must not.
    desc: 'quote " backslash \\ newline \n tab \t unicode é ☃ 𝄞',
    keyTail: '000000000000',
    created: '2019-01-22T16:37:08Z',
    expiresAt: null,
    roles: [
      { scope: 'org', scopeId: '5980cfc70b6d97029d82e3f6', roleName: 'ORG_OWNER' },
      { scope: 'group', scopeId: '5980cfc70b6d97029d82e3f7', roleName: 'GROUP_READ_ONLY' },
    ],
  },
];

const page = { pageNum: 2, itemsPerPage: 2 };
const base = `${origin}/api/public/v1.0/orgs/5980cfc70b6d97029d82e3f6/apiKeys`;
const text = (b: string | Buffer | undefined) => (Buffer.isBuffer(b) ? b.toString('utf8') : b);

describe('pre-rendered list items', () => {
  for (const pretty of [false, true]) {
    for (const envelope of [false, true]) {
      it(`render the same bytes as printing the whole list (pretty=${pretty}, envelope=${envelope})`, () => {
        const plain = listBody(base, 'pretty=x', page, {
          items: records.map((k) => apiKeyToWire(origin, k)),
          totalCount: 5,
        });
        const fast = listBody(base, 'pretty=x', page, {
          items: apiKeysToWire(origin, records, 0),
          totalCount: 5,
        });
        const expected = render(200, plain, { pretty, envelope });
        const got = render(200, fast, { pretty, envelope });
        expect(typeof expected.body).toBe('string');
        expect(Buffer.isBuffer(got.body)).toBe(true);
        expect(got.status).toBe(expected.status);
        expect(text(got.body)).toBe(expected.body);
        // Served again from what was kept: still the same.
        expect(text(render(200, fast, { pretty, envelope }).body)).toBe(expected.body);
      });
    }
  }

  it('reuses the wire objects of the same page array, and makes new ones for another origin', () => {
    const first = apiKeysToWire(origin, records, 0);
    expect(apiKeysToWire(origin, records, 0)).toBe(first);
    const other = apiKeysToWire('http://other', records, 0);
    expect(other).not.toBe(first);
    expect((other[0] as { links: { href: string }[] }).links[0]!.href).toMatch(/^http:\/\/other\//);
    expect(Object.isFrozen(first[0])).toBe(true);
  });

  it('makes a page holding a key with an expiry afresh at each call, as the clock says, and keeps none of it', () => {
    const expiring = [records[0]!, { ...records[1]!, expiresAt: '2030-01-01T00:00:00Z' }];
    const before = apiKeysToWire(origin, expiring, Date.parse('2029-12-31T23:59:59Z'));
    const after = apiKeysToWire(origin, expiring, Date.parse('2030-01-01T00:00:00Z'));
    expect(after).not.toBe(before);
    expect(before[1]).toEqual({ ...apiKeyToWire(origin, expiring[1]!), expiresAt: '2030-01-01T00:00:00Z' });
    expect(Object.keys(before[1]!)).toEqual([
      'desc',
      'expiresAt',
      'id',
      'links',
      'privateKey',
      'publicKey',
      'roles',
    ]);
    expect(Object.keys(after[1]!)).toEqual([
      'desc',
      'expired',
      'expiresAt',
      'id',
      'links',
      'privateKey',
      'publicKey',
      'roles',
    ]);
    expect((after[1] as { expired?: boolean }).expired).toBe(true);
    expect(Object.keys(after[0]!)).toEqual(['desc', 'id', 'links', 'privateKey', 'publicKey', 'roles']);
  });

  it('leaves empty lists and lists of plain objects to the ordinary printer', () => {
    const empty = listBody(base, '', page, { items: [], totalCount: 0 });
    expect(render(200, empty, { pretty: false, envelope: false }).body).toBe(JSON.stringify(empty));
    const mixed = listBody(base, '', page, { items: [{ a: 1 }], totalCount: 1 });
    expect(render(200, mixed, { pretty: false, envelope: false }).body).toBe(JSON.stringify(mixed));
  });
});
