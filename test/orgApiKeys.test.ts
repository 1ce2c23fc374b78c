/**
 * The seed document's resource end to end: org API keys created, listed page by page, read, changed
 * and deleted over a real socket with urllib's digest client, on every configured database.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrap, type Creds, digest } from './support/client.js';
import { DIALECTS } from './support/dialects.js';
import { expectUnauthorized } from './support/expect.js';
import { startTestServer, type TestServer } from './support/server.js';

interface WireKey {
  desc: string;
  id: string;
  links: { href: string; rel: string }[];
  privateKey: string;
  publicKey: string;
  roles: { orgId?: string; groupId?: string; roleName: string }[];
}
interface WireList<T> {
  links: { href: string; rel: string }[];
  results: T[];
  totalCount: number;
}

describe.each(DIALECTS)('organization API keys (%s)', (dialect) => {
  let s: TestServer;
  let admin: Creds;
  let orgId: string;
  const created: WireKey[] = [];

  beforeAll(async () => {
    s = await startTestServer({ dialect });
    admin = await bootstrap(s.base);
    const org = await digest(admin, 'POST', `${s.base}/orgs`, { body: { name: 'Seed Org' } });
    orgId = (org.json as { id: string }).id;
    // 250 keys, as the bar asks, created through the API with bounded concurrency.
    const descs = Array.from({ length: 250 }, (_, i) => `key ${String(i).padStart(3, '0')}`);
    for (let i = 0; i < descs.length; i += 10) {
      const batch = await Promise.all(
        descs.slice(i, i + 10).map((desc) =>
          digest(admin, 'POST', `${s.base}/orgs/${orgId}/apiKeys`, {
            body: { desc, roles: ['ORG_MEMBER'] },
          }),
        ),
      );
      for (const r of batch) {
        expect(r.status).toBe(200);
        created.push(r.json as WireKey);
      }
    }
    created.sort((a, b) => (a.id < b.id ? -1 : 1));
  }, 120_000);
  afterAll(async () => s?.close());

  it('returns the private key in full once, on creation', () => {
    for (const k of created) {
      expect(k.privateKey).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(k.publicKey).toMatch(/^[a-z]{8}$/);
      expect(k.id).toMatch(/^[0-9a-f]{24}$/);
      expect(k.roles).toEqual([{ orgId, roleName: 'ORG_MEMBER' }]);
      expect(k.links).toEqual([{ href: `${s.base}/orgs/${orgId}/apiKeys/${k.id}`, rel: 'self' }]);
    }
    expect(new Set(created.map((k) => k.publicKey)).size).toBe(250);
  });

  it('lists 250 keys page by page with exact links, totalCount and redaction', async () => {
    const url = `${s.base}/orgs/${orgId}/apiKeys`;
    const seen: WireKey[] = [];
    const expectedLinks = [
      [
        { href: `${url}?pageNum=1&itemsPerPage=100`, rel: 'self' },
        { href: `${url}?itemsPerPage=100&pageNum=2`, rel: 'next' },
      ],
      [
        { href: `${url}?pageNum=2&itemsPerPage=100`, rel: 'self' },
        { href: `${url}?itemsPerPage=100&pageNum=1`, rel: 'previous' },
        { href: `${url}?itemsPerPage=100&pageNum=3`, rel: 'next' },
      ],
      [
        { href: `${url}?pageNum=3&itemsPerPage=100`, rel: 'self' },
        { href: `${url}?itemsPerPage=100&pageNum=2`, rel: 'previous' },
      ],
    ];
    for (let page = 1; page <= 3; page++) {
      const res = await digest(admin, 'GET', page === 1 ? url : `${url}?pageNum=${page}&itemsPerPage=100`);
      expect(res.status).toBe(200);
      const body = res.json as WireList<WireKey>;
      expect(body.totalCount).toBe(250);
      expect(body.links).toEqual(expectedLinks[page - 1]);
      expect(body.results).toHaveLength(page < 3 ? 100 : 50);
      seen.push(...body.results);
    }
    expect(seen.map((k) => k.id)).toEqual(created.map((k) => k.id));
    seen.forEach((k, i) => {
      const original = created[i]!;
      expect(k).toEqual({ ...original, privateKey: `********-****-****-${original.privateKey.slice(-12)}` });
    });
  });

  it('keeps the caller’s other query parameters in the links, and answers past the end with an empty page', async () => {
    const url = `${s.base}/orgs/${orgId}/apiKeys`;
    const res = await digest(admin, 'GET', `${url}?envelope=false&itemsPerPage=200&pageNum=2`);
    expect((res.json as WireList<WireKey>).links).toEqual([
      { href: `${url}?envelope=false&pageNum=2&itemsPerPage=200`, rel: 'self' },
      { href: `${url}?envelope=false&itemsPerPage=200&pageNum=1`, rel: 'previous' },
    ]);
    const past = await digest(admin, 'GET', `${url}?pageNum=9`);
    expect(past.status).toBe(200);
    expect(past.json).toEqual({
      links: [
        { href: `${url}?pageNum=9&itemsPerPage=100`, rel: 'self' },
        { href: `${url}?itemsPerPage=100&pageNum=8`, rel: 'previous' },
      ],
      results: [],
      totalCount: 250,
    });
  });

  it('prints pretty=true in Jackson’s layout, byte for byte', async () => {
    const k = created[0]!;
    const res = await digest(admin, 'GET', `${s.base}/orgs/${orgId}/apiKeys/${k.id}?pretty=true`);
    expect(res.text).toBe(
      [
        '{',
        `  "desc" : "${k.desc}",`,
        `  "id" : "${k.id}",`,
        '  "links" : [ {',
        `    "href" : "${s.base}/orgs/${orgId}/apiKeys/${k.id}",`,
        '    "rel" : "self"',
        '  } ],',
        `  "privateKey" : "********-****-****-${k.privateKey.slice(-12)}",`,
        `  "publicKey" : "${k.publicKey}",`,
        '  "roles" : [ {',
        `    "orgId" : "${orgId}",`,
        '    "roleName" : "ORG_MEMBER"',
        '  } ]',
        '}',
      ].join('\n'),
    );
    const list = await digest(admin, 'GET', `${s.base}/orgs/${orgId}/apiKeys?pretty=TRUE&itemsPerPage=2`);
    expect(list.text.startsWith('{\n  "links" : [ {\n    "href" : ')).toBe(true);
    expect(list.text).toContain('\n  }, {\n    "desc" : ');
    expect(list.text.endsWith('\n  } ],\n  "totalCount" : 250\n}')).toBe(true);
  });

  it('wraps with envelope=true without changing the HTTP status', async () => {
    const k = created[1]!;
    const one = await digest(admin, 'GET', `${s.base}/orgs/${orgId}/apiKeys/${k.id}?envelope=true`);
    expect(one.status).toBe(200);
    expect(one.json).toMatchObject({ content: { id: k.id }, status: 200 });
    expect(Object.keys(one.json as object)).toEqual(['content', 'status']);
    const list = await digest(admin, 'GET', `${s.base}/orgs/${orgId}/apiKeys?envelope=true&itemsPerPage=1`);
    expect(Object.keys(list.json as object)).toEqual(['links', 'results', 'status', 'totalCount']);
    expect((list.json as { status: number }).status).toBe(200);
    const missing = await digest(
      admin,
      'GET',
      `${s.base}/orgs/${orgId}/apiKeys/${'f'.repeat(24)}?envelope=true`,
    );
    expect(missing.status).toBe(404);
    expect(missing.json).toEqual({
      content: {
        detail: `No API Key with ID ${'f'.repeat(24)} exists.`,
        error: 404,
        errorCode: 'API_KEY_NOT_FOUND',
        parameters: ['f'.repeat(24)],
        reason: 'Not Found',
      },
      status: 404,
    });
    const pretty = await digest(
      admin,
      'GET',
      `${s.base}/orgs/${orgId}/apiKeys/${k.id}?envelope=true&pretty=true`,
    );
    expect(pretty.text.startsWith('{\n  "content" : {\n    "desc" : ')).toBe(true);
    expect(pretty.text.endsWith('\n  },\n  "status" : 200\n}')).toBe(true);
  });

  it('turns a 204 into 200 {"content":{},"status":204} under envelope=true', async () => {
    const victim = await digest(admin, 'POST', `${s.base}/orgs/${orgId}/apiKeys`, {
      body: { desc: 'victim', roles: ['ORG_MEMBER'] },
    });
    const id = (victim.json as WireKey).id;
    const res = await digest(admin, 'DELETE', `${s.base}/orgs/${orgId}/apiKeys/${id}?envelope=true`);
    expect(res.status).toBe(200);
    expect(res.text).toBe('{"content":{},"status":204}');
  });

  it('PATCH changes desc, and roles replace the org roles', async () => {
    const k = created[2]!;
    const url = `${s.base}/orgs/${orgId}/apiKeys/${k.id}`;
    const desc = await digest(admin, 'PATCH', url, { body: { desc: 'renamed' } });
    expect(desc.status).toBe(200);
    expect(desc.json).toMatchObject({ desc: 'renamed', roles: [{ orgId, roleName: 'ORG_MEMBER' }] });
    const roles = await digest(admin, 'PATCH', url, {
      body: { roles: ['ORG_READ_ONLY', 'ORG_GROUP_CREATOR', 'ORG_READ_ONLY'] },
    });
    expect(roles.status).toBe(200);
    expect((roles.json as WireKey).roles).toEqual([
      { orgId, roleName: 'ORG_GROUP_CREATOR' },
      { orgId, roleName: 'ORG_READ_ONLY' },
    ]);
    expect((roles.json as WireKey).desc).toBe('renamed');
    expect((await digest(admin, 'GET', url)).json).toEqual(roles.json);
  });

  it('DELETE revokes the key at once', async () => {
    const res = await digest(admin, 'POST', `${s.base}/orgs/${orgId}/apiKeys`, {
      body: { desc: 'doomed', roles: ['ORG_OWNER'] },
    });
    const doomed = res.json as WireKey;
    const creds = { publicKey: doomed.publicKey, privateKey: doomed.privateKey };
    expect((await digest(creds, 'GET', `${s.base}/orgs/${orgId}`)).status).toBe(200);
    const del = await digest(admin, 'DELETE', `${s.base}/orgs/${orgId}/apiKeys/${doomed.id}`);
    expect(del.status).toBe(204);
    expect(del.text).toBe('');
    expect((await digest(creds, 'GET', `${s.base}/orgs/${orgId}`)).status).toBe(401);
    expect((await digest(admin, 'GET', `${s.base}/orgs/${orgId}/apiKeys/${doomed.id}`)).status).toBe(404);
  });

  describe('role rules', () => {
    let readOnly: Creds;
    let owner: Creds;
    let other: Creds;
    let otherOrgId: string;
    beforeAll(async () => {
      const mk = async (org: string, roles: string[]) => {
        const r = await digest(admin, 'POST', `${s.base}/orgs/${org}/apiKeys`, {
          body: { desc: roles.join(','), roles },
        });
        return r.json as WireKey;
      };
      readOnly = await mk(orgId, ['ORG_READ_ONLY']);
      owner = await mk(orgId, ['ORG_OWNER']);
      const org2 = await digest(admin, 'POST', `${s.base}/orgs`, { body: { name: 'Other Org' } });
      otherOrgId = (org2.json as { id: string }).id;
      other = await mk(otherOrgId, ['ORG_OWNER']);
    });

    it('an ORG_READ_ONLY key lists keys but cannot create, change or delete one', async () => {
      const list = await digest(readOnly, 'GET', `${s.base}/orgs/${orgId}/apiKeys?itemsPerPage=5`);
      expect(list.status).toBe(200);
      const before = (list.json as WireList<WireKey>).totalCount;
      const target = created[3]!;
      const attempts = [
        await digest(readOnly, 'POST', `${s.base}/orgs/${orgId}/apiKeys`, {
          body: { desc: 'x', roles: ['ORG_MEMBER'] },
        }),
        await digest(readOnly, 'PATCH', `${s.base}/orgs/${orgId}/apiKeys/${target.id}`, {
          body: { desc: 'x' },
        }),
        await digest(readOnly, 'DELETE', `${s.base}/orgs/${orgId}/apiKeys/${target.id}`),
      ];
      for (const a of attempts) {
        expectUnauthorized(a);
      }
      const after = await digest(admin, 'GET', `${s.base}/orgs/${orgId}/apiKeys/${target.id}`);
      expect((after.json as WireKey).desc).toBe(target.desc);
      expect(
        (
          (await digest(admin, 'GET', `${s.base}/orgs/${orgId}/apiKeys?itemsPerPage=1`))
            .json as WireList<WireKey>
        ).totalCount,
      ).toBe(before);
    });

    it('an ORG_OWNER key manages keys of its org but cannot grant what it does not hold', async () => {
      const res = await digest(owner, 'POST', `${s.base}/orgs/${orgId}/apiKeys`, {
        body: { desc: 'by owner', roles: ['ORG_OWNER'] },
      });
      expect(res.status).toBe(200);
      const global = await digest(owner, 'POST', `${s.base}/orgs/${orgId}/apiKeys`, {
        body: { desc: 'g', roles: ['GLOBAL_OWNER'] },
      });
      expect(global.status).toBe(403);
      expect((global.json as { errorCode: string }).errorCode).toBe('CANNOT_ADD_GLOBAL_ROLE');
    });

    it('a key of another org sees nothing of this org, existing or not', async () => {
      for (const url of [
        `${s.base}/orgs/${orgId}`,
        `${s.base}/orgs/${orgId}/apiKeys`,
        `${s.base}/orgs/${orgId}/apiKeys/${created[0]!.id}`,
        `${s.base}/orgs/${'0'.repeat(24)}/apiKeys`,
      ]) {
        const res = await digest(other, 'GET', url);
        expectUnauthorized(res);
      }
      const orgs = await digest(other, 'GET', `${s.base}/orgs`);
      expect((orgs.json as WireList<{ id: string }>).results.map((o) => o.id)).toEqual([otherOrgId]);
      // Its own org's key id under this org is not found there, and vice versa.
      const cross = await digest(admin, 'GET', `${s.base}/orgs/${otherOrgId}/apiKeys/${created[0]!.id}`);
      expect(cross.status).toBe(404);
    });
  });
});
