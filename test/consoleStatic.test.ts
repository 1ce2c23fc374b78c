/**
 * The console's static files as served by pakman: index.html and hashed assets from the build, the strict
 * Content-Security-Policy and nosniff on console responses only, immutable caching for hashed assets, gzip,
 * and the first load's JavaScript within its 150 kB gzipped budget.
 */
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BuiltConsole, buildConsole } from './browser/harness.js';
import { startTestServer, type TestServer } from './support/server.js';

describe('console static files', () => {
  let built: BuiltConsole;
  let s: TestServer;
  let empty: TestServer;
  beforeAll(async () => {
    built = await buildConsole();
    s = await startTestServer({ consoleDir: built.dir });
    empty = await startTestServer({ consoleDir: '/nonexistent/console' });
  });
  afterAll(async () => {
    await s?.close();
    await empty?.close();
    built?.remove();
  });

  it('serves index.html with the CSP, nosniff and no caching, at /console, /console/ and any client route', async () => {
    for (const path of ['/console', '/console/', '/console/orgs/whatever']) {
      const res = await fetch(`${s.origin}${path}`, { redirect: 'manual' });
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      const csp = res.headers.get('content-security-policy')!;
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe-inline');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('cache-control')).toBe('no-cache');
      const html = await res.text();
      // No inline script: every script is a file of the build.
      expect(html).toMatch(/<script type="module" crossorigin src="\/console\/assets\/[^"]+\.js"><\/script>/);
      expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    }
  });

  it('serves hashed assets immutable, gzipped when asked, and 404s an unknown asset', async () => {
    const html = await (await fetch(`${s.origin}/console/`)).text();
    const js = /src="(\/console\/assets\/[^"]+\.js)"/.exec(html)![1]!;
    const plain = await fetch(`${s.origin}${js}`, { headers: { 'accept-encoding': 'identity' } });
    expect(plain.status).toBe(200);
    expect(plain.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(plain.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(plain.headers.get('content-encoding')).toBeNull();
    const body = Buffer.from(await plain.arrayBuffer());
    // Node's fetch decodes gzip itself; the raw bytes are checked through node:http-level headers instead.
    const { request } = await import('node:http');
    const gz = await new Promise<{ enc: string | undefined; data: Buffer }>((resolve, reject) => {
      request(`${s.origin}${js}`, { headers: { 'accept-encoding': 'gzip' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ enc: res.headers['content-encoding'], data: Buffer.concat(chunks) }));
      })
        .on('error', reject)
        .end();
    });
    expect(gz.enc).toBe('gzip');
    expect(gunzipSync(gz.data).equals(body)).toBe(true);
    const missing = await fetch(`${s.origin}/console/assets/nope.js`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
  });

  it('keeps the JavaScript of the first load within its budget of 150 kB gzipped', () => {
    expect(built.firstLoadJsGzip).toBeGreaterThan(0);
    expect(built.firstLoadJsGzip).toBeLessThanOrEqual(150 * 1024);
  });

  it('puts no console header on API responses', async () => {
    const res = await fetch(`${s.base}/orgs`);
    expect(res.status).toBe(401);
    expect(res.headers.get('content-security-policy')).toBeNull();
    expect(res.headers.get('x-content-type-options')).toBeNull();
  });

  it('says how to build the console when it is not built', async () => {
    const res = await fetch(`${empty.origin}/console/`);
    expect(res.status).toBe(404);
    expect(await res.text()).toBe('The console is not built: run npm run build.');
  });
});
