/**
 * Conformance with clients we did not write: `curl --digest`, Python `requests` (HTTPDigestAuth) and the
 * digest-fetch Node library drive the documented flows end to end against a real server.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import DigestFetch from 'digest-fetch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './support/server.js';

const run = promisify(execFile);

async function curl(args: string[]): Promise<{ status: number; body: string; headers: string }> {
  const { stdout } = await run('curl', ['-s', '-S', '-D', '-', '--max-time', '20', ...args], {
    maxBuffer: 64 * 1024 * 1024,
  });
  // With --digest curl prints the 401 leg's headers first; the final response is the last block.
  const blocks = stdout.split(/\r\n\r\n/);
  let i = blocks.length - 1;
  while (i > 0 && !/^HTTP\/1\.1 /.test(blocks[i]!)) i--;
  const headers = blocks[i]!;
  const body = blocks.slice(i + 1).join('\r\n\r\n');
  return { status: Number(/^HTTP\/1\.1 (\d+)/.exec(headers)![1]), body, headers };
}

function hasPythonRequests(): boolean {
  try {
    execFileSync('python3', ['-c', 'import requests'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('curl --digest drives the seed flows', () => {
  let s: TestServer;
  let pub: string;
  let priv: string;
  let orgId: string;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => s?.close());

  it('creates the first user without credentials (accessList query honoured)', async () => {
    const res = await curl([
      '-X',
      'POST',
      '-H',
      'Content-Type: application/json',
      `${s.base}/unauth/users?pretty=true&accessList=127.0.0.1&whitelist=10.0.0.0%2F8`,
      '--data',
      '{"username":"jane@example.com","password":"S3cret-pass!","firstName":"Jane","lastName":"Doe","emailAddress":"jane@example.com"}',
    ]);
    expect(res.status).toBe(201);
    expect(res.headers).toMatch(/\r\ncontent-type: application\/json\r\n/i);
    expect(res.headers).toMatch(/\r\nx-mongodb-service-version: gitHash=[^;]+; versionString=\d+\.\d+\.\d+/i);
    expect(
      res.body.startsWith(
        '{\n  "programmaticApiKey" : {\n    "desc" : "Automatically generated Global API key",',
      ),
    ).toBe(true);
    const body = JSON.parse(res.body);
    pub = body.programmaticApiKey.publicKey;
    priv = body.programmaticApiKey.privateKey;
    expect(body.programmaticApiKey.roles).toEqual([{ roleName: 'GLOBAL_OWNER' }]);
    expect(body.programmaticApiKey.links[0].href).toBe(
      `${s.base}/orgs/null/apiKeys/${body.programmaticApiKey.id}`,
    );
    expect(body.user).toMatchObject({ username: 'jane@example.com', roles: [{ roleName: 'GLOBAL_OWNER' }] });
    expect(JSON.stringify(body.user)).not.toContain('S3cret');
  });

  it('creates an org and 250 keys, and pages through them with pretty=true', async () => {
    const org = await curl([
      '--digest',
      '-u',
      `${pub}:${priv}`,
      '-X',
      'POST',
      '-H',
      'Content-Type: application/json',
      `${s.base}/orgs`,
      '--data',
      '{"name":"Curl Org"}',
    ]);
    expect(org.status).toBe(200);
    orgId = JSON.parse(org.body).id;
    const create = (i: number) =>
      curl([
        '--digest',
        '-u',
        `${pub}:${priv}`,
        '-H',
        'Content-Type: application/json',
        '-X',
        'POST',
        `${s.base}/orgs/${orgId}/apiKeys`,
        '--data',
        `{"desc":"Test Docs Service User ${String(i).padStart(3, '0')}","roles":["ORG_MEMBER"]}`,
      ]);
    const privateKeys: string[] = [];
    for (let i = 0; i < 250; i += 10) {
      const batch = await Promise.all(Array.from({ length: 10 }, (_, j) => create(i + j)));
      for (const key of batch) {
        expect(key.status).toBe(200);
        privateKeys.push(JSON.parse(key.body).privateKey);
      }
    }
    const url = `${s.base}/orgs/${orgId}/apiKeys`;
    const first = await curl(['--digest', '-u', `${pub}:${priv}`, `${url}?pretty=true`]);
    expect(first.status).toBe(200);
    expect(
      first.body.startsWith(
        `{\n  "links" : [ {\n    "href" : "${url}?pretty=true&pageNum=1&itemsPerPage=100",\n    "rel" : "self"\n  }, {\n    "href" : "${url}?pretty=true&itemsPerPage=100&pageNum=2",\n    "rel" : "next"\n  } ],\n  "results" : [ {\n    "desc" : "Test Docs Service User `,
      ),
    ).toBe(true);
    expect(first.body.endsWith('  } ],\n  "totalCount" : 250\n}')).toBe(true);
    let seen = 0;
    let next: string | undefined = `${url}?pretty=true`;
    while (next) {
      const page = await curl(['--digest', '-u', `${pub}:${priv}`, next]);
      const body = JSON.parse(page.body) as {
        links: { href: string; rel: string }[];
        results: { privateKey: string }[];
        totalCount: number;
      };
      expect(body.totalCount).toBe(250);
      seen += body.results.length;
      for (const k of body.results) expect(k.privateKey).toMatch(/^\*{8}-\*{4}-\*{4}-[0-9a-f]{12}$/);
      next = body.links.find((l) => l.rel === 'next')?.href;
    }
    expect(seen).toBe(250);
    const all = await curl(['--digest', '-u', `${pub}:${priv}`, `${url}?itemsPerPage=500`]);
    for (const secret of privateKeys) expect(all.body).not.toContain(secret);
  });

  it('curl with a wrong key gets the exact 401 body', async () => {
    const res = await curl(['--digest', '-u', `${pub}:wrong`, `${s.base}/orgs`]);
    expect(res.status).toBe(401);
    expect(res.body).toBe(
      '{"detail":"You are not authorized for this resource.","error":401,"reason":"Unauthorized"}',
    );
  });

  it('the version probe answers without credentials', async () => {
    const res = await curl([`${s.origin}/api/private/unauth/version`]);
    expect(res.status).toBe(200);
    expect(res.body).toMatch(/^([0-9a-f]{40}|unknown)$/);
  });

  it('Python requests with HTTPDigestAuth lists the keys', async (ctx) => {
    if (!hasPythonRequests()) {
      ctx.skip();
      return;
    }
    const script = [
      'import json, sys, requests',
      'from requests.auth import HTTPDigestAuth',
      'r = requests.get(sys.argv[1], auth=HTTPDigestAuth(sys.argv[2], sys.argv[3]), timeout=20)',
      'print(r.status_code); print(json.dumps(r.json()))',
    ].join('\n');
    const { stdout } = await run('python3', [
      '-c',
      script,
      `${s.base}/orgs/${orgId}/apiKeys?itemsPerPage=500`,
      pub,
      priv,
    ]);
    const [status, json] = stdout.trim().split('\n');
    expect(status).toBe('200');
    expect(JSON.parse(json!).totalCount).toBe(250);
  });

  it('digest-fetch (Node) creates and deletes a key', async () => {
    const client = new DigestFetch(pub, priv);
    const created = await client.fetch(`${s.base}/orgs/${orgId}/apiKeys`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ desc: 'from digest-fetch', roles: ['ORG_READ_ONLY'] }),
    });
    expect(created.status).toBe(200);
    const key = (await created.json()) as { id: string };
    const del = await client.fetch(`${s.base}/orgs/${orgId}/apiKeys/${key.id}`, { method: 'DELETE' });
    expect(del.status).toBe(204);
  });
});
