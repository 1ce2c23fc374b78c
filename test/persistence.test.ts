/**
 * Durability and secrecy of the embedded default: after a restart on the same SQLite file everything
 * still works with the same keys, and no private key string is ever written to the data directory.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bootstrap, type Creds, digest } from './support/client.js';
import { startTestServer } from './support/server.js';

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

describe('SQLite persistence and secrecy', () => {
  it('keeps working after a restart, and stores no private key anywhere in the data directory', async () => {
    const first = await startTestServer({ usageFlushMs: 50 });
    const admin = await bootstrap(first.base);
    const org = (await digest(admin, 'POST', `${first.base}/orgs`, { body: { name: 'Durable' } })).json as {
      id: string;
    };
    const secrets: string[] = [admin.privateKey];
    const keys: Creds[] = [];
    for (let i = 0; i < 20; i++) {
      const k = (
        await digest(admin, 'POST', `${first.base}/orgs/${org.id}/apiKeys`, {
          body: { desc: `k${i}`, roles: ['ORG_OWNER'] },
        })
      ).json as Creds;
      keys.push(k);
      secrets.push(k.privateKey);
    }
    expect((await digest(keys[0]!, 'GET', `${first.base}/orgs/${org.id}/apiKeys`)).status).toBe(200);

    // Every file the database wrote, WAL included, while the server is still running and after it stops.
    const scan = () => {
      const blobs = filesUnder(first.dataDir).map((f) => readFileSync(f));
      expect(blobs.length).toBeGreaterThan(0);
      for (const secret of secrets) {
        for (const blob of blobs) {
          expect(blob.includes(Buffer.from(secret))).toBe(false);
          expect(blob.includes(Buffer.from(secret.replace(/-/g, '')))).toBe(false);
        }
      }
    };
    scan();
    await first.app.close();
    await first.conn.close();
    scan();

    const second = await startTestServer({ databaseUrl: first.databaseUrl });
    try {
      for (const k of [admin, ...keys]) {
        const res = await digest(k, 'GET', `${second.base}/orgs/${org.id}/apiKeys?itemsPerPage=500`);
        expect(res.status).toBe(200);
        expect((res.json as { totalCount: number }).totalCount).toBe(20);
      }
    } finally {
      await second.close();
      await first.close();
    }
  });
});
