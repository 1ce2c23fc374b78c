/**
 * The error catalog on the wire: every error that applies to the core surface answers with its exact
 * status, errorCode, parameters and detail, and changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrap, type Creds, digest, raw } from './support/client.js';
import { expectError } from './support/expect.js';
import { startTestServer, type TestServer } from './support/server.js';

describe('error catalog on the wire', () => {
  let s: TestServer;
  let admin: Creds;
  let orgId: string;
  let keyId: string;
  let keys: string;

  beforeAll(async () => {
    s = await startTestServer({ bodyLimit: 4096 });
    admin = await bootstrap(s.base);
    orgId = (
      (await digest(admin, 'POST', `${s.base}/orgs`, { body: { name: 'Errors Org' } })).json as { id: string }
    ).id;
    keys = `${s.base}/orgs/${orgId}/apiKeys`;
    keyId = (
      (await digest(admin, 'POST', keys, { body: { desc: 'k', roles: ['ORG_MEMBER'] } })).json as {
        id: string;
      }
    ).id;
  });
  afterAll(async () => s?.close());

  async function keyCount(): Promise<number> {
    return ((await digest(admin, 'GET', keys)).json as { totalCount: number }).totalCount;
  }

  it('404 ORG_NOT_FOUND, API_KEY_NOT_FOUND for well-formed unknown ids', async () => {
    const id = 'a'.repeat(24);
    expectError(
      await digest(admin, 'GET', `${s.base}/orgs/${id}`),
      404,
      'ORG_NOT_FOUND',
      `No organization with ID ${id} exists.`,
      [id],
    );
    expectError(
      await digest(admin, 'GET', `${s.base}/orgs/${id}/apiKeys`),
      404,
      'ORG_NOT_FOUND',
      `No organization with ID ${id} exists.`,
      [id],
    );
    expectError(
      await digest(admin, 'GET', `${keys}/${id}`),
      404,
      'API_KEY_NOT_FOUND',
      `No API Key with ID ${id} exists.`,
      [id],
    );
    expectError(
      await digest(admin, 'PATCH', `${keys}/${id}`, { body: { desc: 'x' } }),
      404,
      'API_KEY_NOT_FOUND',
      `No API Key with ID ${id} exists.`,
      [id],
    );
    expectError(
      await digest(admin, 'DELETE', `${keys}/${id}`),
      404,
      'API_KEY_NOT_FOUND',
      `No API Key with ID ${id} exists.`,
      [id],
    );
  });

  it('400 PATH_PARAM_PARSE_ERROR for malformed ids, with a hint for public keys', async () => {
    expectError(
      await digest(admin, 'GET', `${s.base}/orgs/ACME`),
      400,
      'PATH_PARAM_PARSE_ERROR',
      'Invalid path parameter ORG-ID: expected a 24-character hexadecimal ID, got ACME.',
      ['ORG-ID', 'ACME'],
    );
    expectError(
      await digest(admin, 'GET', `${keys}/abcdefgh`),
      400,
      'PATH_PARAM_PARSE_ERROR',
      "Invalid path parameter API-KEY-ID: expected a 24-character hexadecimal ID, got abcdefgh. This looks like a public key; use the API key's id instead.",
      ['API-KEY-ID', 'abcdefgh'],
    );
    expectError(
      await digest(admin, 'GET', `${keys}/${'A'.repeat(24)}`),
      400,
      'PATH_PARAM_PARSE_ERROR',
      `Invalid path parameter API-KEY-ID: expected a 24-character hexadecimal ID, got ${'A'.repeat(24)}.`,
      ['API-KEY-ID', 'A'.repeat(24)],
    );
  });

  it('404 RESOURCE_NOT_FOUND only after authentication; 405 METHOD_NOT_ALLOWED with Allow', async () => {
    const unknown = `${s.base}/softwareComponents/version`;
    expect((await raw('GET', unknown)).status).toBe(401);
    expectError(
      await digest(admin, 'GET', unknown),
      404,
      'RESOURCE_NOT_FOUND',
      'Cannot find resource /api/public/v1.0/softwareComponents/version.',
      ['/api/public/v1.0/softwareComponents/version'],
    );
    expect((await raw('PUT', keys)).status).toBe(401);
    const res = await digest(admin, 'PUT', keys, { body: {} });
    expectError(
      res,
      405,
      'METHOD_NOT_ALLOWED',
      `Method PUT is not allowed on /api/public/v1.0/orgs/${orgId}/apiKeys.`,
      ['PUT', `/api/public/v1.0/orgs/${orgId}/apiKeys`],
    );
    expect(res.headers.allow).toBe('GET, POST');
  });

  it('400 INVALID_QUERY_PARAMETER for paging and boolean parameters', async () => {
    for (const [q, name] of [
      ['itemsPerPage=501', 'itemsPerPage'],
      ['itemsPerPage=0', 'itemsPerPage'],
      ['itemsPerPage=-5', 'itemsPerPage'],
      ['itemsPerPage=ten', 'itemsPerPage'],
      ['pageNum=0', 'pageNum'],
      ['pageNum=1.5', 'pageNum'],
      ['pretty=yes', 'pretty'],
      ['envelope=1', 'envelope'],
    ] as const) {
      expectError(
        await digest(admin, 'GET', `${keys}?${q}`),
        400,
        'INVALID_QUERY_PARAMETER',
        `Invalid query parameter ${name} specified.`,
        [name],
      );
    }
  });

  it('body errors: each with its code, and nothing created', async () => {
    const before = await keyCount();
    const post = (opts: Parameters<typeof digest>[3]) => digest(admin, 'POST', keys, opts);
    expectError(
      await post({ rawBody: '{"desc": "x",' }),
      400,
      'INVALID_JSON',
      'Received JSON does not match expected format.',
    );
    expectError(
      await post({ rawBody: '' }),
      400,
      'INVALID_JSON',
      'Received JSON does not match expected format.',
    );
    expectError(
      await post({ body: [{ desc: 'x' }] }),
      400,
      'INVALID_JSON',
      'Received JSON does not match expected format.',
    );
    expectError(
      await post({ body: 'x' }),
      400,
      'INVALID_JSON',
      'Received JSON does not match expected format.',
    );
    expectError(
      await post({ body: { desc: 5, roles: ['ORG_MEMBER'] } }),
      400,
      'INVALID_JSON_ATTRIBUTE',
      'Received JSON for the desc attribute does not match expected format.',
      ['desc'],
    );
    expectError(
      await post({ body: { desc: 'x', roles: 'ORG_MEMBER' } }),
      400,
      'INVALID_JSON_ATTRIBUTE',
      'Received JSON for the roles attribute does not match expected format.',
      ['roles'],
    );
    expectError(
      await post({ body: { desc: 'x', roles: [7] } }),
      400,
      'INVALID_JSON_ATTRIBUTE',
      'Received JSON for the roles attribute does not match expected format.',
      ['roles'],
    );
    expectError(
      await post({ body: { roles: ['ORG_MEMBER'] } }),
      400,
      'MISSING_ATTRIBUTE',
      'The required attribute desc was not specified.',
      ['desc'],
    );
    expectError(
      await post({ body: { desc: 'x' } }),
      400,
      'MISSING_ATTRIBUTE',
      'The required attribute roles was not specified.',
      ['roles'],
    );
    expectError(
      await post({ body: { desc: '', roles: ['ORG_MEMBER'] } }),
      400,
      'INVALID_ATTRIBUTE',
      'Invalid attribute desc specified.',
      ['desc'],
    );
    expectError(
      await post({ body: { desc: 'x'.repeat(251), roles: ['ORG_MEMBER'] } }),
      400,
      'INVALID_ATTRIBUTE',
      'Invalid attribute desc specified.',
      ['desc'],
    );
    expectError(
      await post({ body: { desc: 'x', roles: [] } }),
      400,
      'INVALID_ATTRIBUTE',
      'Invalid attribute roles specified.',
      ['roles'],
    );
    expectError(
      await post({ body: { desc: 'x', roles: ['ORG_MEMBER'], color: 'red' } }),
      400,
      'INVALID_ATTRIBUTE',
      'Invalid attribute color specified.',
      ['color'],
    );
    for (const field of ['id', 'publicKey', 'privateKey', 'links']) {
      expectError(
        await post({ body: { desc: 'x', roles: ['ORG_MEMBER'], [field]: 'v' } }),
        400,
        'ATTRIBUTE_READ_ONLY',
        `The attribute ${field} is read-only and cannot be changed by the user.`,
        [field],
      );
    }
    expectError(
      await post({ body: { desc: 'x', roles: ['ORG_ADMIN'] } }),
      400,
      'INVALID_ENUM_VALUE',
      'An invalid enumeration value ORG_ADMIN was specified.',
      ['ORG_ADMIN'],
    );
    expectError(
      await post({ body: { desc: 'x', roles: ['GROUP_OWNER'] } }),
      400,
      'ROLE_NEEDS_GROUP_ID',
      'Group-specific role GROUP_OWNER requires a group ID.',
      ['GROUP_OWNER'],
    );
    expectError(
      await post({ body: { desc: 'x', roles: ['GLOBAL_READ_ONLY'] } }),
      403,
      'CANNOT_ADD_GLOBAL_ROLE',
      'Adding a global role is not supported.',
    );
    expectError(
      await post({ body: { desc: 'x', roles: ['ORG_MEMBER'] }, contentType: 'text/plain' }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      'Send the request body as application/json.',
    );
    expectError(
      await post({ body: { desc: 'x', roles: ['ORG_MEMBER'] }, contentType: null }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      'Send the request body as application/json.',
    );
    expectError(
      await post({ body: { desc: 'x'.repeat(5000), roles: ['ORG_MEMBER'] } }),
      413,
      'REQUEST_TOO_LARGE',
      'The request body exceeds 4096 bytes.',
      ['4096'],
    );
    expect(await keyCount()).toBe(before);
  });

  it('PATCH needs at least one field and changes nothing on error', async () => {
    const url = `${keys}/${keyId}`;
    const before = (await digest(admin, 'GET', url)).json;
    expectError(
      await digest(admin, 'PATCH', url, { body: {} }),
      400,
      'MISSING_ATTRIBUTE',
      'The required attribute desc or roles was not specified.',
      ['desc or roles'],
    );
    expectError(
      await digest(admin, 'PATCH', url, { body: { desc: 'ok', roles: ['BOGUS'] } }),
      400,
      'INVALID_ENUM_VALUE',
      'An invalid enumeration value BOGUS was specified.',
      ['BOGUS'],
    );
    expectError(
      await digest(admin, 'PATCH', url, { body: { desc: 'ok', roles: ['GROUP_READ_ONLY'] } }),
      400,
      'ROLE_NEEDS_GROUP_ID',
      'Group-specific role GROUP_READ_ONLY requires a group ID.',
      ['GROUP_READ_ONLY'],
    );
    expectError(
      await digest(admin, 'PATCH', url, { body: { publicKey: 'abcdefgh' } }),
      400,
      'ATTRIBUTE_READ_ONLY',
      'The attribute publicKey is read-only and cannot be changed by the user.',
      ['publicKey'],
    );
    expect((await digest(admin, 'GET', url)).json).toEqual(before);
  });

  it('409 DUPLICATE_ORG_NAME; org body errors', async () => {
    expectError(
      await digest(admin, 'POST', `${s.base}/orgs`, { body: { name: 'Errors Org' } }),
      409,
      'DUPLICATE_ORG_NAME',
      'An organization with name "Errors Org" already exists.',
      ['Errors Org'],
    );
    expectError(
      await digest(admin, 'POST', `${s.base}/orgs`, { body: {} }),
      400,
      'MISSING_ATTRIBUTE',
      'The required attribute name was not specified.',
      ['name'],
    );
  });

  it('first-user bootstrap refusals: the same 403 INVITATION_ONLY_MODE_OR_LDAP for a taken name and a free one', async () => {
    const body = { username: 'admin@example.com', password: 'x-Password-1', firstName: 'A', lastName: 'B' };
    // No username enumeration without credentials: a taken name is refused exactly like any other.
    const taken = await raw('POST', `${s.base}/unauth/users`, { body });
    const free = await raw('POST', `${s.base}/unauth/users`, {
      body: { ...body, username: 'second@example.com' },
    });
    for (const res of [taken, free]) {
      expectError(
        res,
        403,
        'INVITATION_ONLY_MODE_OR_LDAP',
        'Forbidden when either in invitation mode or using an LDAP backend.',
      );
    }
    expect(taken.text).toBe(free.text);
  });

  it('500 UNEXPECTED_ERROR keeps the details in the log, never in the body', async () => {
    const broken = await startTestServer();
    const creds = await bootstrap(broken.base);
    // Drop a table under the running server: the next query fails in a way no handler expects.
    await broken.conn.db.schema.dropTable('orgs').execute();
    const res = await digest(creds, 'GET', `${broken.base}/orgs`);
    expectError(res, 500, 'UNEXPECTED_ERROR', 'Unexpected error.');
    expect(res.text).not.toMatch(/orgs|sqlite|table/i);
    await broken.close();
  });
});
