/** Global API keys end to end: `/admin/apiKeys`, `/admin/apiKeys/{API-KEY-ID}`, `/admin/apiKeys/roles`. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrap, type Creds, digest, type TestResponse } from './support/client.js';
import { DIALECTS } from './support/dialects.js';
import { expectError, expectUnauthorized } from './support/expect.js';
import { startTestServer, type TestServer } from './support/server.js';

const PRIVATE_KEY = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

type Key = Creds & { id: string; desc: string; roles: { roleName: string }[] };

describe.each(DIALECTS)('global API keys (%s)', (dialect) => {
  let s: TestServer;
  let admin: Creds & { id: string };
  let orgId: string;
  let orgOwner: Key;

  const keyHref = (id: string) => `${s.base}/orgs/null/apiKeys/${id}`;
  const redacted = (k: Creds) => `********-****-****-${k.privateKey.slice(-12)}`;

  async function create(creds: Creds, body: unknown): Promise<TestResponse> {
    return digest(creds, 'POST', `${s.base}/admin/apiKeys`, { body });
  }

  async function createOk(roles: string[], desc = 'global key'): Promise<Key> {
    const res = await create(admin, { desc, roles });
    expect(res.status).toBe(200);
    return res.json as Key;
  }

  async function events(type: string, keyId: string) {
    return s.conn.db
      .selectFrom('events')
      .select(['org_id', 'target_public_key', 'actor_public_key'])
      .where('event_type', '=', type)
      .where('api_key_id', '=', keyId)
      .execute();
  }

  beforeAll(async () => {
    s = await startTestServer({ dialect });
    admin = await bootstrap(s.base);
    const org = await digest(admin, 'POST', `${s.base}/orgs`, { body: { name: 'Acme' } });
    orgId = (org.json as { id: string }).id;
    const k = await digest(admin, 'POST', `${s.base}/orgs/${orgId}/apiKeys`, {
      body: { desc: 'org owner', roles: ['ORG_OWNER'] },
    });
    orgOwner = k.json as Key;
  });
  afterAll(async () => s?.close());

  it('lists the bootstrap key with the orgs/null self link and role names only', async () => {
    const res = await digest(admin, 'GET', `${s.base}/admin/apiKeys?pretty=true`);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      links: [{ href: `${s.base}/admin/apiKeys?pretty=true&pageNum=1&itemsPerPage=100`, rel: 'self' }],
      results: [
        {
          desc: 'Automatically generated Global API key',
          id: admin.id,
          links: [{ href: keyHref(admin.id), rel: 'self' }],
          privateKey: redacted(admin),
          publicKey: admin.publicKey,
          roles: [{ roleName: 'GLOBAL_OWNER' }],
        },
      ],
      totalCount: 1,
    });
  });

  it('returns the global role catalog as a JSON array', async () => {
    const res = await digest(admin, 'GET', `${s.base}/admin/apiKeys/roles`);
    expect(res.status).toBe(200);
    expect(res.text).toBe(
      '["GLOBAL_AUTOMATION_ADMIN","GLOBAL_BACKUP_ADMIN","GLOBAL_BILLING_ADMIN","GLOBAL_MONITORING_ADMIN",' +
        '"GLOBAL_OWNER","GLOBAL_READ_ONLY","GLOBAL_USER_ADMIN"]',
    );
    const pretty = await digest(admin, 'GET', `${s.base}/admin/apiKeys/roles?pretty=true`);
    expect(pretty.text).toMatch(
      /^\[ "GLOBAL_AUTOMATION_ADMIN", "GLOBAL_BACKUP_ADMIN", .* "GLOBAL_USER_ADMIN" \]$/,
    );
  });

  it('creates a key shown in full once, redacted afterwards, and usable at once', async () => {
    const res = await create(admin, { desc: 'Automation', roles: ['GLOBAL_USER_ADMIN', 'GLOBAL_READ_ONLY'] });
    expect(res.status).toBe(200);
    const key = res.json as Key;
    expect(key.privateKey).toMatch(PRIVATE_KEY);
    expect(key).toEqual({
      desc: 'Automation',
      id: expect.stringMatching(/^[0-9a-f]{24}$/),
      links: [{ href: keyHref(key.id), rel: 'self' }],
      privateKey: key.privateKey,
      publicKey: expect.stringMatching(/^[a-z]{8}$/),
      roles: [{ roleName: 'GLOBAL_READ_ONLY' }, { roleName: 'GLOBAL_USER_ADMIN' }],
    });
    const one = await digest(key, 'GET', `${s.base}/admin/apiKeys/${key.id}`);
    expect(one.status).toBe(200);
    expect(one.json).toEqual({ ...key, privateKey: redacted(key) });
    expect(await events('GLOBAL_API_KEY_CREATED', key.id)).toEqual([
      { org_id: null, target_public_key: key.publicKey, actor_public_key: admin.publicKey },
    ]);
    const list = await digest(admin, 'GET', `${s.base}/admin/apiKeys?itemsPerPage=1&pageNum=2`);
    expect(list.json).toMatchObject({
      links: [
        { href: `${s.base}/admin/apiKeys?pageNum=2&itemsPerPage=1`, rel: 'self' },
        { href: `${s.base}/admin/apiKeys?itemsPerPage=1&pageNum=1`, rel: 'previous' },
      ],
      results: [{ id: key.id, privateKey: redacted(key) }],
      totalCount: 2,
    });
  });

  it('refuses non-global roles and malformed bodies', async () => {
    const bad: [unknown, number, string, string, string[]][] = [
      [
        { desc: 'x', roles: ['ORG_OWNER'] },
        400,
        'ROLE_NEEDS_ORG_ID',
        'Organization-specific role ORG_OWNER requires an organization ID.',
        ['ORG_OWNER'],
      ],
      [
        { desc: 'x', roles: ['GLOBAL_READ_ONLY', 'GROUP_OWNER'] },
        400,
        'ROLE_NEEDS_GROUP_ID',
        'Group-specific role GROUP_OWNER requires a group ID.',
        ['GROUP_OWNER'],
      ],
      [
        { desc: 'x', roles: ['GLOBAL_ROOT'] },
        400,
        'INVALID_ENUM_VALUE',
        'An invalid enumeration value GLOBAL_ROOT was specified.',
        ['GLOBAL_ROOT'],
      ],
      [{ desc: 'x', roles: [] }, 400, 'INVALID_ATTRIBUTE', 'Invalid attribute roles specified.', ['roles']],
      [
        { roles: ['GLOBAL_READ_ONLY'] },
        400,
        'MISSING_ATTRIBUTE',
        'The required attribute desc was not specified.',
        ['desc'],
      ],
      [
        { desc: 'x'.repeat(251), roles: ['GLOBAL_READ_ONLY'] },
        400,
        'INVALID_ATTRIBUTE',
        'Invalid attribute desc specified.',
        ['desc'],
      ],
      [
        { desc: 'x', roles: ['GLOBAL_READ_ONLY'], privateKey: 'y' },
        400,
        'ATTRIBUTE_READ_ONLY',
        'The attribute privateKey is read-only and cannot be changed by the user.',
        ['privateKey'],
      ],
      [['GLOBAL_READ_ONLY'], 400, 'INVALID_JSON', 'Received JSON does not match expected format.', []],
    ];
    for (const [body, status, code, detail, params] of bad) {
      expectError(await create(admin, body), status, code, detail, params);
    }
    const list = await digest(admin, 'GET', `${s.base}/admin/apiKeys`);
    expect(list.json).toMatchObject({ totalCount: 2 });
  });

  it('updates desc and replaces roles; at least one field is required', async () => {
    const key = await createOk(['GLOBAL_READ_ONLY']);
    const url = `${s.base}/admin/apiKeys/${key.id}`;
    const desc = await digest(admin, 'PATCH', url, { body: { desc: 'renamed' } });
    expect(desc.status).toBe(200);
    expect(desc.json).toEqual({
      desc: 'renamed',
      id: key.id,
      links: [{ href: keyHref(key.id), rel: 'self' }],
      privateKey: redacted(key),
      publicKey: key.publicKey,
      roles: [{ roleName: 'GLOBAL_READ_ONLY' }],
    });
    const roles = await digest(admin, 'PATCH', url, {
      body: { roles: ['GLOBAL_MONITORING_ADMIN', 'GLOBAL_BACKUP_ADMIN'] },
    });
    expect(roles.json).toMatchObject({
      desc: 'renamed',
      roles: [{ roleName: 'GLOBAL_BACKUP_ADMIN' }, { roleName: 'GLOBAL_MONITORING_ADMIN' }],
    });
    expectError(
      await digest(admin, 'PATCH', url, { body: {} }),
      400,
      'MISSING_ATTRIBUTE',
      'The required attribute desc or roles was not specified.',
      ['desc or roles'],
    );
    expectError(
      await digest(admin, 'PATCH', url, { body: { roles: ['ORG_MEMBER'] } }),
      400,
      'ROLE_NEEDS_ORG_ID',
      'Organization-specific role ORG_MEMBER requires an organization ID.',
      ['ORG_MEMBER'],
    );
    expect(await events('GLOBAL_API_KEY_DESCRIPTION_CHANGED', key.id)).toHaveLength(1);
    expect(await events('GLOBAL_API_KEY_ROLES_CHANGED', key.id)).toHaveLength(1);
    expect((await digest(admin, 'GET', url)).json).toMatchObject({ roles: (roles.json as Key).roles });
  });

  it('lets only GLOBAL_OWNER grant GLOBAL_OWNER; readers and org keys cannot write', async () => {
    const userAdmin = await createOk(['GLOBAL_USER_ADMIN']);
    expectUnauthorized(await create(userAdmin, { desc: 'x', roles: ['GLOBAL_OWNER'] }));
    const made = await create(userAdmin, { desc: 'by user admin', roles: ['GLOBAL_READ_ONLY'] });
    expect(made.status).toBe(200);
    const madeId = (made.json as Key).id;
    expectUnauthorized(
      await digest(userAdmin, 'PATCH', `${s.base}/admin/apiKeys/${madeId}`, {
        body: { roles: ['GLOBAL_OWNER'] },
      }),
    );
    const owner = await create(admin, { desc: 'second owner', roles: ['GLOBAL_OWNER'] });
    expect(owner.status).toBe(200);
    // Nor may it strip or delete a key that holds GLOBAL_OWNER.
    const ownerUrl = `${s.base}/admin/apiKeys/${(owner.json as Key).id}`;
    expectUnauthorized(await digest(userAdmin, 'PATCH', ownerUrl, { body: { roles: ['GLOBAL_READ_ONLY'] } }));
    expectUnauthorized(await digest(userAdmin, 'PATCH', ownerUrl, { body: { desc: 'renamed' } }));
    expectUnauthorized(await digest(userAdmin, 'DELETE', ownerUrl));
    expect(((await digest(admin, 'GET', ownerUrl)).json as Key).roles).toEqual([
      { roleName: 'GLOBAL_OWNER' },
    ]);

    const reader = made.json as Key;
    expect((await digest(reader, 'GET', `${s.base}/admin/apiKeys`)).status).toBe(200);
    expect((await digest(reader, 'GET', `${s.base}/admin/apiKeys/roles`)).status).toBe(200);
    expectUnauthorized(await create(reader, { desc: 'x', roles: ['GLOBAL_READ_ONLY'] }));
    expectUnauthorized(await digest(reader, 'DELETE', `${s.base}/admin/apiKeys/${madeId}`));

    expectUnauthorized(await digest(orgOwner, 'GET', `${s.base}/admin/apiKeys`));
    expectUnauthorized(await digest(orgOwner, 'GET', `${s.base}/admin/apiKeys/roles`));
    expectUnauthorized(await create(orgOwner, { desc: 'x', roles: ['GLOBAL_READ_ONLY'] }));
  });

  it('keeps org and global key ids apart', async () => {
    const global = await createOk(['GLOBAL_READ_ONLY']);
    const notFound = (id: string) =>
      [404, 'API_KEY_NOT_FOUND', `No API Key with ID ${id} exists.`, [id]] as const;
    const orgKeyUrl = `${s.base}/orgs/${orgId}/apiKeys/${global.id}`;
    expectError(await digest(admin, 'GET', orgKeyUrl), ...notFound(global.id));
    expectError(await digest(admin, 'PATCH', orgKeyUrl, { body: { desc: 'x' } }), ...notFound(global.id));
    expectError(await digest(admin, 'DELETE', orgKeyUrl), ...notFound(global.id));
    const adminUrl = `${s.base}/admin/apiKeys/${orgOwner.id}`;
    expectError(await digest(admin, 'GET', adminUrl), ...notFound(orgOwner.id));
    expectError(await digest(admin, 'PATCH', adminUrl, { body: { desc: 'x' } }), ...notFound(orgOwner.id));
    expectError(await digest(admin, 'DELETE', adminUrl), ...notFound(orgOwner.id));
    const missing = '5c47503320eef5699e1cce8d';
    expectError(await digest(admin, 'GET', `${s.base}/admin/apiKeys/${missing}`), ...notFound(missing));
    expectError(
      await digest(admin, 'GET', `${s.base}/admin/apiKeys/${admin.publicKey}`),
      400,
      'PATH_PARAM_PARSE_ERROR',
      `Invalid path parameter API-KEY-ID: expected a 24-character hexadecimal ID, got ${admin.publicKey}.` +
        " This looks like a public key; use the API key's id instead.",
      ['API-KEY-ID', admin.publicKey],
    );
    // The org key is untouched and the global key is still listed.
    expect((await digest(orgOwner, 'GET', `${s.base}/orgs/${orgId}/apiKeys/${orgOwner.id}`)).status).toBe(
      200,
    );
    expect((await digest(admin, 'GET', `${s.base}/admin/apiKeys/${global.id}`)).status).toBe(200);
  });

  it('deletes a key (204): it is refused at once and gone from the list', async () => {
    const key = await createOk(['GLOBAL_READ_ONLY'], 'doomed');
    expect((await digest(key, 'GET', `${s.base}/admin/apiKeys`)).status).toBe(200);
    const res = await digest(admin, 'DELETE', `${s.base}/admin/apiKeys/${key.id}`);
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    const refused = await digest(key, 'GET', `${s.base}/admin/apiKeys`);
    expect(refused.status).toBe(401);
    expect(refused.json).toEqual({
      detail: 'You are not authorized for this resource.',
      error: 401,
      reason: 'Unauthorized',
    });
    expectError(
      await digest(admin, 'DELETE', `${s.base}/admin/apiKeys/${key.id}`),
      404,
      'API_KEY_NOT_FOUND',
      `No API Key with ID ${key.id} exists.`,
      [key.id],
    );
    const list = await digest(admin, 'GET', `${s.base}/admin/apiKeys?itemsPerPage=500`);
    expect((list.json as { results: { id: string }[] }).results.map((k) => k.id)).not.toContain(key.id);
    expect(await events('GLOBAL_API_KEY_DELETED', key.id)).toEqual([
      { org_id: null, target_public_key: key.publicKey, actor_public_key: admin.publicKey },
    ]);
  });
});
