/**
 * Paging through the counters and id buckets (storage/keyPages.ts, migration 003): every page is exactly
 * the slice an `ORDER BY id LIMIT/OFFSET` over the table would give, and `totalCount` exactly its COUNT,
 * across bucket splits, after deletes (through the API and behind the server's back), after keys arrive with
 * ids lower than existing ones (another node's clock), and for the global keys.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUCKET_SIZE, rebalanceKeyBuckets } from '../src/server/storage/keyPages.js';
import { bootstrap, type Creds, digest } from './support/client.js';
import { DIALECTS } from './support/dialects.js';
import { startTestServer, type TestServer } from './support/server.js';

type Key = Creds & { id: string };
interface ListBody {
  links: { href: string; rel: string }[];
  results: { id: string; desc: string; roles: { roleName: string }[] }[];
  totalCount: number;
}

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');

// An in-memory SQLite database has no second connection: its pages go through Kysely's (storage/reader.ts).
describe.each([...DIALECTS, 'sqlite in memory'] as const)(
  'key lists page through counters and buckets (%s)',
  (dialect) => {
    let s: TestServer;
    let admin: Key;
    let reader: Key;
    let orgId: string;
    let seq = 0;

    /** Keys written straight into the table (as another node would), ids from `second` on. */
    async function seedKeys(org: string | null, count: number, second: number): Promise<string[]> {
      const rows = Array.from({ length: count }, () => {
        const n = seq++;
        return {
          id: `${hex(second, 8)}${hex(n, 16)}`,
          org_id: org,
          public_key: `p${String.fromCharCode(97 + ((n / 26 ** 6) % 26))}${Array.from({ length: 6 }, (_, i) => String.fromCharCode(97 + (Math.floor(n / 26 ** (5 - i)) % 26))).join('')}`,
          description: `seeded ${n}`,
          ha1_md5: '0'.repeat(32),
          ha1_sha256: '0'.repeat(64),
          key_tail: '000000000000',
          created: '2024-01-01T00:00:00Z',
        };
      });
      await s.conn.db.transaction().execute(async (trx) => {
        for (let i = 0; i < rows.length; i += 200) {
          const chunk = rows.slice(i, i + 200);
          await trx.insertInto('api_keys').values(chunk).execute();
          await trx
            .insertInto('api_key_roles')
            .values(
              chunk.map((r) => ({
                api_key_id: r.id,
                scope: org === null ? 'global' : 'org',
                scope_id: org ?? '',
                role_name: org === null ? 'GLOBAL_READ_ONLY' : 'ORG_MEMBER',
              })),
            )
            .execute();
        }
      });
      return rows.map((r) => r.id);
    }

    /** The ids a plain ORDER BY id gives. */
    async function expectedIds(org: string | null): Promise<string[]> {
      let q = s.conn.db.selectFrom('api_keys').select('id');
      q = org === null ? q.where('org_id', 'is', null) : q.where('org_id', '=', org);
      return (await q.orderBy('id').execute()).map((r) => r.id);
    }

    async function page(url: string, pageNum: number, itemsPerPage: number): Promise<ListBody> {
      const res = await digest(reader, 'GET', `${url}?pageNum=${pageNum}&itemsPerPage=${itemsPerPage}`);
      expect(res.status, res.text).toBe(200);
      return res.json as ListBody;
    }

    /** Every page of `url` agrees with the table: same ids in the same order, same total. */
    async function expectPagesMatch(url: string, org: string | null, itemsPerPage: number): Promise<void> {
      const ids = await expectedIds(org);
      const pages = Math.max(1, Math.ceil(ids.length / itemsPerPage));
      for (let p = 1; p <= pages + 1; p++) {
        const body = await page(url, p, itemsPerPage);
        expect(body.totalCount).toBe(ids.length);
        expect(
          body.results.map((k) => k.id),
          `page ${p} of ${itemsPerPage}`,
        ).toEqual(ids.slice((p - 1) * itemsPerPage, p * itemsPerPage));
        expect(body.links.map((l) => l.rel)).toEqual(
          p === 1
            ? pages > 1
              ? ['self', 'next']
              : ['self']
            : p < pages
              ? ['self', 'previous', 'next']
              : ['self', 'previous'],
        );
      }
    }

    async function bucketCounts(org: string | null) {
      const buckets = await s.conn.db
        .withTables<{ api_key_buckets: { org_key: string; start_id: string; n: number } }>()
        .selectFrom('api_key_buckets')
        .select(['start_id', 'n'])
        .where('org_key', '=', org ?? '')
        .orderBy('start_id')
        .execute();
      const counter = await s.conn.db
        .withTables<{ api_key_counts: { org_key: string; n: number; version: number } }>()
        .selectFrom('api_key_counts')
        .select(['n'])
        .where('org_key', '=', org ?? '')
        .executeTakeFirst();
      return {
        buckets: buckets.map((b) => ({ start: b.start_id, n: Number(b.n) })),
        total: Number(counter?.n ?? 0),
      };
    }

    beforeAll(async () => {
      s = await startTestServer(
        dialect === 'sqlite in memory' ? { databaseUrl: 'sqlite::memory:' } : { dialect },
      );
      admin = await bootstrap(s.base);
      const org = await digest(admin, 'POST', `${s.base}/orgs`, { body: { name: 'Paging' } });
      orgId = (org.json as { id: string }).id;
      const made = await digest(admin, 'POST', `${s.base}/admin/apiKeys`, {
        body: { desc: 'reader', roles: ['GLOBAL_READ_ONLY'] },
      });
      expect(made.status, made.text).toBe(200);
      reader = made.json as Key;
    });

    afterAll(async () => s?.close());

    it('pages an org of several buckets exactly like ORDER BY id, with the exact totalCount', async () => {
      await seedKeys(orgId, 5 * BUCKET_SIZE + 37, 0x65000000);
      const url = `${s.base}/orgs/${orgId}/apiKeys`;
      await expectPagesMatch(url, orgId, 100);
      await rebalanceKeyBuckets(s.conn.db, orgId);
      const { buckets, total } = await bucketCounts(orgId);
      expect(buckets.length).toBeGreaterThan(4);
      expect(buckets.every((b) => b.n <= 2 * BUCKET_SIZE)).toBe(true);
      expect(buckets.reduce((a, b) => a + b.n, 0)).toBe(total);
      expect(total).toBe((await expectedIds(orgId)).length);
      await expectPagesMatch(url, orgId, 100);
      await expectPagesMatch(url, orgId, 500);
      await expectPagesMatch(url, orgId, 7);
    });

    it('keeps pages and totalCount exact after deletes through the API and behind the server', async () => {
      const url = `${s.base}/orgs/${orgId}/apiKeys`;
      const ids = await expectedIds(orgId);
      // Through the API: every 40th key, including the first of the org and bucket boundaries.
      for (const id of ids.filter((_, i) => i % 40 === 0)) {
        const del = await digest(admin, 'DELETE', `${url}/${id}`);
        expect(del.status, del.text).toBe(204);
      }
      await expectPagesMatch(url, orgId, 100);
      // A whole bucket's worth in one statement, behind the server's back.
      const doomed = (await expectedIds(orgId)).slice(200, 200 + BUCKET_SIZE + 10);
      await s.conn.db.transaction().execute(async (trx) => {
        await trx.deleteFrom('api_key_roles').where('api_key_id', 'in', doomed).execute();
        await trx.deleteFrom('api_keys').where('id', 'in', doomed).execute();
      });
      await expectPagesMatch(url, orgId, 100);
      await expectPagesMatch(url, orgId, 500);
      const { buckets, total } = await bucketCounts(orgId);
      expect(buckets.reduce((a, b) => a + b.n, 0)).toBe(total);
    });

    it('puts keys with lower ids (another node, a slower clock) in their place', async () => {
      const url = `${s.base}/orgs/${orgId}/apiKeys`;
      await seedKeys(orgId, 3, 0x64000000);
      await seedKeys(orgId, 2 * BUCKET_SIZE + 5, 0x65000000);
      await expectPagesMatch(url, orgId, 100);
      // The bucket that took them all is over the split size: re-cut it, and the pages stay the same.
      await rebalanceKeyBuckets(s.conn.db, orgId);
      const { buckets } = await bucketCounts(orgId);
      expect(buckets.every((b) => b.n <= 2 * BUCKET_SIZE)).toBe(true);
      await expectPagesMatch(url, orgId, 100);
    });

    it('shows changed descriptions and roles on the next page read', async () => {
      const url = `${s.base}/orgs/${orgId}/apiKeys`;
      const first = (await page(url, 1, 5)).results[1]!;
      const patch = await digest(admin, 'PATCH', `${url}/${first.id}`, {
        body: { desc: 'renamed', roles: ['ORG_READ_ONLY'] },
      });
      expect(patch.status, patch.text).toBe(200);
      const again = (await page(url, 1, 5)).results[1]!;
      expect(again).toMatchObject({ id: first.id, desc: 'renamed', roles: [{ roleName: 'ORG_READ_ONLY' }] });
    });

    it('gives concurrent reads of a changed page the new version, all of them', async () => {
      // Requests arriving together learn of a change together (PostgreSQL: from one batched counter
      // read) and then share one read of the new page: each must still see the change.
      const url = `${s.base}/orgs/${orgId}/apiKeys`;
      const before = await page(url, 1, 5);
      for (let round = 0; round < 3; round++) {
        const target = before.results[2]!.id;
        const desc = `concurrent ${round}`;
        const patch = await digest(admin, 'PATCH', `${url}/${target}`, { body: { desc } });
        expect(patch.status, patch.text).toBe(200);
        const pages = await Promise.all(Array.from({ length: 12 }, () => page(url, 1, 5)));
        for (const p of pages) {
          expect(p.results.map((k) => k.id)).toEqual(before.results.map((k) => k.id));
          expect(p.results[2]!.desc).toBe(desc);
          expect(p.totalCount).toBe(before.totalCount);
        }
      }
    });

    it('answers a page past the end with no results and the true totalCount', async () => {
      const url = `${s.base}/orgs/${orgId}/apiKeys`;
      const total = (await expectedIds(orgId)).length;
      const body = await page(url, 1000, 100);
      expect(body.results).toEqual([]);
      expect(body.totalCount).toBe(total);
      expect(body.links.map((l) => l.rel)).toEqual(['self', 'previous']);
    });

    it('answers 404 for the next page read once the org is gone, even a page this node keeps', async () => {
      const made = await digest(admin, 'POST', `${s.base}/orgs`, { body: { name: 'Doomed' } });
      const doomed = (made.json as { id: string }).id;
      await seedKeys(doomed, 3, 0x65000000);
      const url = `${s.base}/orgs/${doomed}/apiKeys`;
      for (let i = 0; i < 3; i++) expect((await page(url, 1, 100)).totalCount).toBe(3);
      await s.conn.db.deleteFrom('orgs').where('id', '=', doomed).execute();
      const res = await digest(reader, 'GET', `${url}?pageNum=1&itemsPerPage=100`);
      expect(res.status).toBe(404);
      expect((res.json as { errorCode: string }).errorCode).toBe('ORG_NOT_FOUND');
    });

    it('pages the global keys (no org) the same way', async () => {
      await seedKeys(null, 2 * BUCKET_SIZE + 40, 0x65000000);
      const url = `${s.base}/admin/apiKeys`;
      await expectPagesMatch(url, null, 100);
      await rebalanceKeyBuckets(s.conn.db, '');
      await expectPagesMatch(url, null, 100);
      const { buckets, total } = await bucketCounts(null);
      expect(buckets.reduce((a, b) => a + b.n, 0)).toBe(total);
    });
  },
);
