/**
 * The OpenAPI 3.1 document: valid by a real validator, one operation per route of the route table and
 * no other, the committed docs/openapi.json what the build writes, served without credentials, and the
 * declared response schemas true of what the server answers (a scenario over the real server).
 */
import { readFileSync } from 'node:fs';
import { Validator } from '@seriousme/openapi-schema-validator';
import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allRoutes } from '../src/server/app.js';
import { declaredResponse, openApiDocument } from '../src/server/http/openapi.js';
import { fullPath, type RouteSpec } from '../src/server/http/route.js';
import { openApiFile } from '../src/server/openapiFile.js';
import { VERSION } from '../src/server/version.js';
import { bootstrap, type Creds, digest, raw, type TestResponse } from './support/client.js';
import { startTestServer, type TestServer } from './support/server.js';

type Doc = { paths: Record<string, Record<string, { security?: unknown[]; requestBody?: unknown }>> };

function routeList(): RouteSpec[] {
  return allRoutes({ db: undefined as never, clock: Date.now }, VERSION);
}

const templated = (url: string) => fullPath(url).replace(/:([A-Za-z]+)/g, '{$1}');

describe('OpenAPI document', () => {
  const doc = openApiDocument(routeList(), VERSION.versionString) as unknown as Doc;

  it('is a valid OpenAPI 3.1 document', async () => {
    const result = await new Validator().validate(doc as never);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect((doc as unknown as { openapi: string }).openapi).toBe('3.1.0');
  });

  it('documents every route of the route table, and nothing else', () => {
    const documented = Object.entries(doc.paths)
      .flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`))
      .sort();
    const routes = routeList()
      .map((r) => `${r.method} ${templated(r.url)}`)
      .sort();
    expect(documented).toEqual(routes);
    expect(routes.length).toBeGreaterThan(60);
  });

  it('marks exactly the open routes as needing no credentials, and gives bodies to POST/PATCH', () => {
    for (const r of routeList()) {
      const op = doc.paths[templated(r.url)]![r.method.toLowerCase()]!;
      expect(op.security, `${r.method} ${r.url}`).toEqual(r.action === 'public' ? [] : undefined);
      expect(op.requestBody !== undefined, `${r.method} ${r.url}`).toBe(
        r.method === 'POST' || r.method === 'PATCH' || r.method === 'PUT',
      );
    }
  });

  it('has the digest scheme, the error body, the list envelope, paging and presentation parameters', () => {
    const d = doc as unknown as {
      security: unknown;
      components: {
        securitySchemes: Record<string, unknown>;
        schemas: Record<string, { required?: string[] }>;
        parameters: Record<string, { name: string }>;
      };
      paths: Record<string, Record<string, { parameters: { $ref?: string }[] }>>;
    };
    expect(d.security).toEqual([{ digest: [] }]);
    expect(d.components.securitySchemes.digest).toMatchObject({ type: 'http', scheme: 'digest' });
    expect(d.components.schemas.ErrorBody!.required).toEqual(['detail', 'error', 'reason']);
    expect(d.components.schemas.ListEnvelope!.required).toEqual(['links', 'results', 'totalCount']);
    expect(Object.keys(d.components.parameters).sort()).toEqual([
      'envelope',
      'itemsPerPage',
      'pageNum',
      'pretty',
    ]);
    const refs = (path: string) =>
      d.paths[path]!.get!.parameters.map((p) => p.$ref?.replace('#/components/parameters/', ''));
    expect(refs('/api/public/v1.0/orgs/{orgId}/apiKeys')).toEqual([
      undefined,
      'pageNum',
      'itemsPerPage',
      'pretty',
      'envelope',
    ]);
    expect(refs('/api/public/v1.0/orgs/{orgId}/apiKeys/{apiKeyId}')).toEqual([
      undefined,
      undefined,
      'pretty',
      'envelope',
    ]);
  });

  it('documents a route declared without schemas, with generic bodies', () => {
    const bare: RouteSpec = {
      method: 'POST',
      url: '/orgs/:orgId/somethingNew',
      action: 'org.update',
      handler: async () => ({ status: 200, body: {} }),
    };
    const d = openApiDocument([bare], '1') as unknown as {
      paths: Record<string, Record<string, { requestBody: unknown; responses: Record<string, unknown> }>>;
    };
    const op = d.paths['/api/public/v1.0/orgs/{orgId}/somethingNew']!.post!;
    expect(op.requestBody).toEqual({ content: { 'application/json': { schema: {} } }, required: false });
    expect(Object.keys(op.responses)).toContain('200');
  });

  it('docs/openapi.json is what `npm run build` writes', () => {
    const committed = readFileSync(new URL('../docs/openapi.json', import.meta.url), 'utf8');
    // On failure: run `npm run build` and commit docs/openapi.json.
    expect(committed).toBe(openApiFile());
  });
});

describe('the document as served, and the schemas it declares against real responses', () => {
  let s: TestServer;
  let admin: Creds & { userId: string };
  const routes = routeList();
  const checked = new Set<string>();

  beforeAll(async () => {
    s = await startTestServer({ version: VERSION });
    admin = await bootstrap(s.base);
  });
  afterAll(async () => s?.close());

  /** Asserts a response has the route's declared status and matches its declared schema. */
  function conforms(method: string, url: string, res: TestResponse): void {
    const spec = routes.find((r) => r.method === method && r.url === url);
    expect(spec, `${method} ${url}`).toBeDefined();
    const response = declaredResponse(spec!);
    expect(res.status, `${method} ${url}: ${res.text}`).toBe(response.status);
    const value =
      response.schema && (response.schema as { type?: string }).type === 'string' ? res.text : res.json;
    if (response.schema) {
      const errors = [...Value.Errors(response.schema as TSchema, value)].map(
        (e) => `${e.path}: ${e.message}`,
      );
      expect(errors, `${method} ${url}`).toEqual([]);
    } else expect(res.text).toBe('');
    checked.add(`${method} ${url}`);
  }

  it('serves the document at /api/openapi.json without credentials', async () => {
    const res = await raw('GET', `${s.origin}/api/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.json).toEqual(openApiDocument(routes, VERSION.versionString));
    expect(res.json).toEqual(JSON.parse(openApiFile()));
  });

  it('every route with a declared response answers what it declares (status and schema)', async () => {
    const call = async (method: string, url: string, path: string, body?: unknown) => {
      const res = await digest(admin, method, `${s.base}${path}`, body === undefined ? {} : { body });
      conforms(method, url, res);
      return res.json as { id: string };
    };
    conforms(
      'GET',
      '/api/private/unauth/version',
      await raw('GET', `${s.origin}/api/private/unauth/version`),
    );
    conforms('GET', '/health/live', await raw('GET', `${s.origin}/health/live`));
    conforms('GET', '/health/ready', await raw('GET', `${s.origin}/health/ready`));
    await call('GET', '', '');
    const org = await call('POST', '/orgs', '/orgs', { name: 'Doc Org' });
    await call('GET', '/orgs', '/orgs');
    await call('GET', '/orgs/:orgId', `/orgs/${org.id}`);
    await call('PATCH', '/orgs/:orgId', `/orgs/${org.id}`, { name: 'Doc Org 2' });
    const key = await call('POST', '/orgs/:orgId/apiKeys', `/orgs/${org.id}/apiKeys`, {
      desc: 'doc',
      roles: ['ORG_MEMBER'],
    });
    await call('GET', '/orgs/:orgId/apiKeys', `/orgs/${org.id}/apiKeys`);
    await call('GET', '/orgs/:orgId/apiKeys/:apiKeyId', `/orgs/${org.id}/apiKeys/${key.id}`);
    await call('PATCH', '/orgs/:orgId/apiKeys/:apiKeyId', `/orgs/${org.id}/apiKeys/${key.id}`, {
      desc: 'd2',
    });
    const keyPath = `/orgs/${org.id}/apiKeys/${key.id}`;
    for (const name of ['accessList', 'whitelist']) {
      const base = `/orgs/:orgId/apiKeys/:apiKeyId/${name}`;
      await call('POST', base, `${keyPath}/${name}`, [{ ipAddress: '10.1.2.3' }]);
      await call('GET', base, `${keyPath}/${name}`);
      await call('GET', `${base}/:entry`, `${keyPath}/${name}/10.1.2.3`);
      await call('DELETE', `${base}/:entry`, `${keyPath}/${name}/10.1.2.3`);
      await call('POST', base, `${keyPath}/${name}`, [{ cidrBlock: '10.2.0.0/16' }]);
      await call('GET', `${base}/:address/:prefix`, `${keyPath}/${name}/10.2.0.0/16`);
      await call('DELETE', `${base}/:address/:prefix`, `${keyPath}/${name}/10.2.0.0/16`);
    }
    const project = await call('POST', '/groups', '/groups', { name: 'Doc Project', orgId: org.id });
    await call('GET', '/groups', '/groups');
    await call('GET', '/groups/byName/:name', '/groups/byName/Doc%20Project');
    await call('GET', '/groups/:groupId', `/groups/${project.id}`);
    await call('GET', '/groups/:groupId/users', `/groups/${project.id}/users`);
    await call('GET', '/orgs/:orgId/groups', `/orgs/${org.id}/groups`);
    const pkey = await call('POST', '/groups/:groupId/apiKeys', `/groups/${project.id}/apiKeys`, {
      desc: 'p',
      roles: ['GROUP_READ_ONLY'],
    });
    await call('GET', '/groups/:groupId/apiKeys', `/groups/${project.id}/apiKeys`);
    await call('PATCH', '/groups/:groupId/apiKeys/:apiKeyId', `/groups/${project.id}/apiKeys/${pkey.id}`, {
      roles: ['GROUP_OWNER'],
    });
    await call('DELETE', '/groups/:groupId/apiKeys/:apiKeyId', `/groups/${project.id}/apiKeys/${pkey.id}`);
    const user = await call('POST', '/users', '/users', {
      username: 'doc@example.com',
      password: 'Doc-Passw0rd!',
      firstName: 'D',
      lastName: 'O',
      roles: [{ orgId: org.id, roleName: 'ORG_MEMBER' }],
    });
    await call('GET', '/users/byName/:username', '/users/byName/doc@example.com');
    await call('GET', '/users/:userId', `/users/${user.id}`);
    await call('PATCH', '/users/:userId', `/users/${user.id}`, { firstName: 'Dee' });
    await call('GET', '/orgs/:orgId/users', `/orgs/${org.id}/users`);
    await call('DELETE', '/users/:userId', `/users/${user.id}`);
    const events = (await digest(admin, 'GET', `${s.base}/orgs/${org.id}/events`)).json as {
      results: { id: string }[];
    };
    conforms('GET', '/orgs/:orgId/events', await digest(admin, 'GET', `${s.base}/orgs/${org.id}/events`));
    await call('GET', '/orgs/:orgId/events/:eventId', `/orgs/${org.id}/events/${events.results[0]!.id}`);
    const pevents = (await digest(admin, 'GET', `${s.base}/groups/${project.id}/events`)).json as {
      results: { id: string }[];
    };
    conforms(
      'GET',
      '/groups/:groupId/events',
      await digest(admin, 'GET', `${s.base}/groups/${project.id}/events`),
    );
    await call(
      'GET',
      '/groups/:groupId/events/:eventId',
      `/groups/${project.id}/events/${pevents.results[0]!.id}`,
    );
    const gkey = await call('POST', '/admin/apiKeys', '/admin/apiKeys', {
      desc: 'g',
      roles: ['GLOBAL_READ_ONLY'],
    });
    await call('GET', '/admin/apiKeys', '/admin/apiKeys');
    await call('GET', '/admin/apiKeys/roles', '/admin/apiKeys/roles');
    await call('GET', '/admin/apiKeys/:apiKeyId', `/admin/apiKeys/${gkey.id}`);
    await call('PATCH', '/admin/apiKeys/:apiKeyId', `/admin/apiKeys/${gkey.id}`, { desc: 'g2' });
    // Rate limits (pakman's extension): each one set, read, then removed.
    const limit = { requests: 100, periodSeconds: 60 };
    for (const [url, path] of [
      ['/orgs/:orgId/rateLimit', `/orgs/${org.id}/rateLimit`],
      ['/orgs/:orgId/apiKeys/:apiKeyId/rateLimit', `/orgs/${org.id}/apiKeys/${key.id}/rateLimit`],
      ['/admin/apiKeys/:apiKeyId/rateLimit', `/admin/apiKeys/${gkey.id}/rateLimit`],
    ] as const) {
      await call('PUT', url, path, limit);
      await call('GET', url, path);
      await call('DELETE', url, path);
    }
    await call('DELETE', '/admin/apiKeys/:apiKeyId', `/admin/apiKeys/${gkey.id}`);
    for (const name of ['accessList', 'whitelist']) {
      const base = `/admin/${name}`;
      const entry = await call('POST', base, base, { cidrBlock: '127.0.0.1/32', description: 'doc' });
      await call('GET', base, base);
      await call('GET', `${base}/:entryId`, `${base}/${entry.id}`);
      await call('PATCH', `${base}/:entryId`, `${base}/${entry.id}`, { description: 'doc 2' });
      await call('DELETE', `${base}/:entryId`, `${base}/${entry.id}`);
    }
    await call('DELETE', '/orgs/:orgId/apiKeys/:apiKeyId', `/orgs/${org.id}/apiKeys/${key.id}`);
    await call('DELETE', '/groups/:groupId', `/groups/${project.id}`);
    await call('DELETE', '/orgs/:orgId', `/orgs/${org.id}`);
    // Every route that declares its response was called (POST /unauth/users by bootstrap: checked below).
    const declared = routes
      .filter((r) => (r.response || r.method === 'DELETE') && r.url !== '/unauth/users')
      .map((r) => `${r.method} ${r.url}`);
    expect(declared.filter((r) => !checked.has(r))).toEqual([]);
  });

  it('POST /unauth/users answers what it declares', async () => {
    const fresh = await startTestServer();
    try {
      conforms(
        'POST',
        '/unauth/users',
        await raw('POST', `${fresh.base}/unauth/users`, {
          body: { username: 'a@example.com', password: 'Pw-123456-x', firstName: 'A', lastName: 'B' },
        }),
      );
    } finally {
      await fresh.close();
    }
  });
});
