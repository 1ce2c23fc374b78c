/**
 * The `pakman` client commands as a user runs them: the real CLI process (`node --import tsx
 * src/cli/index.ts`) against a real server on a real socket, credentials from the environment or the
 * profile file; output, paging, exit codes.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newObjectId } from '../src/schema/ids.js';
import { generateKeyPair } from '../src/server/auth/credentials.js';
import { isoSeconds } from '../src/server/domain/context.js';
import { apiKeys } from '../src/server/storage/repositories/apiKeys.js';
import { bootstrap, type Creds } from './support/client.js';
import { startTestServer, type TestServer } from './support/server.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const JQ = ['/usr/bin/jq', '/usr/local/bin/jq'].find((p) => existsSync(p));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI asynchronously (a synchronous spawn would block the in-process server it talks to). */
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    p.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout, stderr }));
    p.stdin.end(input ?? '');
  });
}

/** Inserts `n` org keys through the repository in one transaction (creating 1,000 over HTTP is slow). */
async function seedKeys(s: TestServer, orgId: string, n: number): Promise<void> {
  await s.conn.db.transaction().execute(async (trx) => {
    for (let i = 0; i < n; i++) {
      const m = generateKeyPair();
      await apiKeys.insert(
        trx,
        {
          id: newObjectId(),
          orgId,
          desc: `seed ${i}`,
          created: isoSeconds(Date.now()),
          publicKey: m.publicKey,
          ha1Md5: m.ha1Md5,
          ha1Sha256: m.ha1Sha256,
          keyTail: m.keyTail,
        },
        [{ scope: 'org', scopeId: orgId, roleName: 'ORG_MEMBER' }],
      );
    }
  });
}

// Each CLI run starts a Node process (about 1 s, several on a loaded machine): give tests room.
describe('pakman CLI (client commands)', { timeout: 300_000 }, () => {
  let s: TestServer;
  let admin: Creds;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const pakman = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) =>
    run(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', ...args], { ...env, ...extraEnv });
  const json = <T>(r: Run): T => {
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return JSON.parse(r.stdout) as T;
  };

  beforeAll(async () => {
    s = await startTestServer();
    admin = await bootstrap(s.base);
    dir = mkdtempSync(join(tmpdir(), 'pakman-cli-'));
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PAKMAN_')));
    env = {
      ...clean,
      PAKMAN_BASE_URL: s.origin,
      PAKMAN_PUBLIC_API_KEY: admin.publicKey,
      PAKMAN_PRIVATE_API_KEY: admin.privateKey,
      PAKMAN_CONFIG_FILE: join(dir, 'config.json'),
      NO_COLOR: '1',
    };
  });
  afterAll(async () => {
    await s?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('creates an org, creates, describes, updates and lists keys as tables and JSON', async () => {
    const created = await pakman(['orgs', 'create', 'Acme']);
    expect(created.code).toBe(0);
    const orgId = /^Organization '([0-9a-f]{24})' created\.$/m.exec(created.stdout)?.[1];
    expect(orgId).toBeDefined();

    const key = json<{ id: string; privateKey: string; roles: unknown[] }>(
      await pakman([
        'orgs',
        'apikeys',
        'create',
        '--orgId',
        orgId!,
        '--desc',
        'ci key',
        '--role',
        'ORG_MEMBER,ORG_READ_ONLY',
        '-o',
        'json',
      ]),
    );
    expect(key.privateKey).toMatch(/^[0-9a-f-]{36}$/);
    expect(key.roles).toHaveLength(2);

    const text = await pakman([
      'orgs',
      'apikeys',
      'create',
      '--orgId',
      orgId!,
      '--desc',
      'second',
      '--role',
      'ORG_MEMBER',
    ]);
    expect(text.stdout).toMatch(
      /^API Key '[0-9a-f]{24}' created\.\nPublic API Key [a-z]{8}\nPrivate API Key [0-9a-f-]{36}\n$/,
    );

    const table = await pakman(['orgs', 'apikeys', 'list', '--orgId', orgId!]);
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+PUBLIC KEY\s+PRIVATE KEY\s+DESCRIPTION\s+ROLES$/);
    expect(lines).toHaveLength(3);
    // Columns line up: every row's PUBLIC KEY starts where the header's does.
    const col = lines[0]!.indexOf('PUBLIC KEY');
    for (const l of lines.slice(1)) expect(l.slice(col, col + 8)).toMatch(/^[a-z]{8}$/);
    expect(table.stdout).toContain('********-****-****-');

    const described = json<{ id: string; desc: string }>(
      await pakman(['orgs', 'apikeys', 'describe', key.id, '--orgId', orgId!, '--output', 'json']),
    );
    expect(described).toMatchObject({ id: key.id, desc: 'ci key' });
    const updated = json<{ desc: string }>(
      await pakman([
        'orgs',
        'apikeys',
        'update',
        key.id,
        '--orgId',
        orgId!,
        '--desc',
        'renamed',
        '-o',
        'json',
      ]),
    );
    expect(updated.desc).toBe('renamed');

    const orgsJson = json<{ results: { id: string }[]; totalCount: number }>(
      await pakman(['orgs', 'list', '-o', 'json']),
    );
    expect(orgsJson.results.map((o) => o.id)).toContain(orgId);
    expect(json<{ name: string }>(await pakman(['orgs', 'describe', orgId!, '-o', 'json'])).name).toBe(
      'Acme',
    );

    const del = await pakman(['orgs', 'apikeys', 'delete', key.id, '--orgId', orgId!, '--force']);
    expect(del).toMatchObject({ code: 0, stdout: `API Key '${key.id}' deleted\n` });
  });

  it('lists over 1,000 keys with --all (every page, no progress on a non-TTY stderr)', async () => {
    const org = json<{ id: string }>(await pakman(['orgs', 'create', 'Big', '-o', 'json']));
    await seedKeys(s, org.id, 1050);

    const all = json<{ results: { id: string }[]; totalCount: number }>(
      await pakman(['orgs', 'apikeys', 'list', '--orgId', org.id, '--all', '-o', 'json']),
    );
    expect(all.totalCount).toBe(1050);
    expect(all.results).toHaveLength(1050);
    expect(new Set(all.results.map((k) => k.id)).size).toBe(1050);

    const table = await pakman(['orgs', 'apikeys', 'list', '--orgId', org.id, '--all', '--limit', '200']);
    expect(table.code).toBe(0);
    expect(table.stderr).toBe('');
    expect(table.stdout.trimEnd().split('\n')).toHaveLength(1 + 1050);

    const onePage = await pakman(['orgs', 'apikeys', 'list', '--orgId', org.id, '--page', '11']);
    expect(onePage.stdout.trimEnd().split('\n')).toHaveLength(1 + 50);

    if (JQ) {
      const piped = await run(
        '/bin/sh',
        [
          '-c',
          `node --import tsx src/cli/index.ts orgs apikeys list --orgId ${org.id} --all -o json | ${JQ} '.results | length'`,
        ],
        env,
      );
      expect(piped).toMatchObject({ code: 0, stdout: '1050\n' });
    }
  });

  it('manages an access list: --ip and --cidr comma lists, list, delete', async () => {
    const org = json<{ id: string }>(await pakman(['orgs', 'create', 'Lists', '-o', 'json']));
    const key = json<{ id: string }>(
      await pakman([
        'orgs',
        'apikeys',
        'create',
        '--orgId',
        org.id,
        '--desc',
        'k',
        '--role',
        'ORG_MEMBER',
        '-o',
        'json',
      ]),
    );
    const base = ['orgs', 'apikeys', 'accesslists'];
    const ips = await pakman([
      ...base,
      'create',
      '--orgId',
      org.id,
      '--apiKey',
      key.id,
      '--ip',
      '10.0.0.1,10.0.0.2',
    ]);
    expect(ips).toMatchObject({ code: 0, stdout: 'Created new access list entry(s).\n' });
    const cidr = json<{ totalCount: number }>(
      await pakman([
        ...base,
        'create',
        '--orgId',
        org.id,
        '--apiKey',
        key.id,
        '--cidr',
        '192.168.0.0/24',
        '-o',
        'json',
      ]),
    );
    expect(cidr.totalCount).toBe(3);
    const both = await pakman([
      ...base,
      'create',
      '--orgId',
      org.id,
      '--apiKey',
      key.id,
      '--ip',
      '1.1.1.1',
      '--cidr',
      '2.0.0.0/8',
    ]);
    expect(both.code).toBe(2);

    const table = await pakman([...base, 'list', key.id, '--orgId', org.id]);
    expect(table.stdout).toMatch(/^CIDR BLOCK\s+IP ADDRESS/);
    expect(table.stdout).toMatch(/192\.168\.0\.0\/24\s+-\s+/);

    const del = await pakman([
      ...base,
      'delete',
      '192.168.0.0/24',
      '--orgId',
      org.id,
      '--apiKey',
      key.id,
      '--force',
    ]);
    expect(del.code).toBe(0);
    const after = json<{ results: { cidrBlock: string }[] }>(
      await pakman([...base, 'list', '--apiKey', key.id, '--orgId', org.id, '-o', 'json']),
    );
    expect(after.results.map((e) => e.cidrBlock)).toEqual(['10.0.0.1/32', '10.0.0.2/32']);
  });

  it('creates a project, assigns an org key to it, lists and unassigns', async () => {
    const org = json<{ id: string }>(await pakman(['orgs', 'create', 'Projects', '-o', 'json']));
    const project = json<{ id: string; orgId: string }>(
      await pakman(['projects', 'create', 'Web', '--orgId', org.id, '-o', 'json']),
    );
    expect(project.orgId).toBe(org.id);
    const key = json<{ id: string }>(
      await pakman([
        'orgs',
        'apikeys',
        'create',
        '--orgId',
        org.id,
        '--desc',
        'k',
        '--role',
        'ORG_MEMBER',
        '-o',
        'json',
      ]),
    );
    const assigned = await pakman([
      'projects',
      'apikeys',
      'assign',
      key.id,
      '--projectId',
      project.id,
      '--role',
      'GROUP_READ_ONLY',
    ]);
    expect(assigned).toMatchObject({ code: 0, stdout: 'API Key successfully assigned.\n' });
    const created = json<{ roles: { groupId?: string; roleName: string }[] }>(
      await pakman([
        'projects',
        'apikeys',
        'create',
        '--projectId',
        project.id,
        '--desc',
        'p',
        '--role',
        'GROUP_OWNER',
        '-o',
        'json',
      ]),
    );
    expect(created.roles).toEqual([{ groupId: project.id, roleName: 'GROUP_OWNER' }]);
    const listed = json<{ results: { id: string; roles: { roleName: string }[] }[] }>(
      await pakman(['projects', 'apikeys', 'list', '--projectId', project.id, '-o', 'json']),
    );
    expect(listed.results).toHaveLength(2);
    expect(
      listed.results
        .find((k) => k.id === key.id)
        ?.roles.map((r) => r.roleName)
        .sort(),
    ).toEqual(['GROUP_READ_ONLY', 'ORG_MEMBER']);
    const projects = await pakman(['projects', 'list', '--orgId', org.id]);
    expect(projects.stdout).toMatch(new RegExp(`${project.id}\\s+Web\\s+${org.id}`));
    expect(
      json<{ name: string }>(await pakman(['projects', 'describe', project.id, '-o', 'json'])).name,
    ).toBe('Web');

    const un = await pakman(['projects', 'apikeys', 'delete', key.id, '--projectId', project.id, '--force']);
    expect(un.code).toBe(0);
    const events = await pakman(['events', 'list', '--orgId', org.id, '--all']);
    expect(events.stdout).toContain('API_KEY_ADDED_TO_GROUP');
    expect(events.stdout).toContain('API_KEY_REMOVED_FROM_GROUP');
    const filtered = json<{ results: { eventTypeName: string }[] }>(
      await pakman([
        'events',
        'list',
        '--projectId',
        project.id,
        '--type',
        'API_KEY_REMOVED_FROM_GROUP',
        '-o',
        'json',
      ]),
    );
    expect(filtered.results.map((e) => e.eventTypeName)).toEqual(['API_KEY_REMOVED_FROM_GROUP']);
  });

  it('manages global keys', async () => {
    const key = json<{ id: string; privateKey: string }>(
      await pakman([
        'globalapikeys',
        'create',
        '--desc',
        'monitoring',
        '--role',
        'GLOBAL_READ_ONLY',
        '-o',
        'json',
      ]),
    );
    expect(key.privateKey).toMatch(/^[0-9a-f-]{36}$/);
    const listed = await pakman(['globalapikeys', 'list']);
    expect(listed.stdout).toMatch(
      new RegExp(`${key.id}\\s+[a-z]{8}\\s+\\S+\\s+monitoring\\s+GLOBAL_READ_ONLY`),
    );
    const updated = json<{ roles: { roleName: string }[] }>(
      await pakman([
        'globalapikeys',
        'update',
        key.id,
        '--role',
        'GLOBAL_READ_ONLY,GLOBAL_MONITORING_ADMIN',
        '-o',
        'json',
      ]),
    );
    expect(updated.roles.map((r) => r.roleName).sort()).toEqual([
      'GLOBAL_MONITORING_ADMIN',
      'GLOBAL_READ_ONLY',
    ]);
    expect(
      json<{ desc: string }>(await pakman(['globalapikeys', 'describe', key.id, '-o', 'json'])).desc,
    ).toBe('monitoring');
    expect((await pakman(['globalapikeys', 'delete', key.id, '--force'])).code).toBe(0);
    expect((await pakman(['globalapikeys', 'describe', key.id])).code).toBe(1);
  });

  it('saves a profile with mode 0600 and uses it when flags and environment are absent', async () => {
    const file = join(dir, 'profile', 'config.json');
    const saved = await pakman(
      ['config', '--base-url', s.origin, '--public-key', admin.publicKey, '--private-key', admin.privateKey],
      { PAKMAN_CONFIG_FILE: file },
    );
    expect(saved).toMatchObject({ code: 0, stdout: `Profile 'default' saved to ${file}\n` });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8')).profiles.default.publicKey).toBe(admin.publicKey);

    const noEnv = {
      PAKMAN_CONFIG_FILE: file,
      PAKMAN_BASE_URL: undefined,
      PAKMAN_PUBLIC_API_KEY: undefined,
      PAKMAN_PRIVATE_API_KEY: undefined,
    };
    expect((await pakman(['orgs', 'list'], noEnv)).code).toBe(0);
    const shown = json<{ privateKey: string }>(await pakman(['config', 'describe'], noEnv));
    expect(shown.privateKey).toBe(`********-****-****-${admin.privateKey.slice(-12)}`);
    // Flags beat the profile.
    const wrong = await pakman(
      ['orgs', 'list', '--private-key', '00000000-0000-4000-8000-000000000000'],
      noEnv,
    );
    expect(wrong.code).toBe(1);
  });

  it('exits 1 with one line on bad credentials and on a wrong id; 2 on bad usage', async () => {
    const bad = await pakman(['orgs', 'list'], {
      PAKMAN_PRIVATE_API_KEY: '00000000-0000-4000-8000-000000000000',
    });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe('');
    expect(bad.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/401 Unauthorized: You are not authorized for this resource\./);

    const wrong = await pakman(['orgs', 'describe', 'aaaaaaaaaaaaaaaaaaaaaaaa']);
    expect(wrong).toMatchObject({
      code: 1,
      stdout: '',
      stderr: 'pakman: ORG_NOT_FOUND: No organization with ID aaaaaaaaaaaaaaaaaaaaaaaa exists.\n',
    });
    const malformed = await pakman([
      'orgs',
      'apikeys',
      'describe',
      'abcdefgh',
      '--orgId',
      'aaaaaaaaaaaaaaaaaaaaaaaa',
    ]);
    expect(malformed.code).toBe(1);
    expect(malformed.stderr).toMatch(/^pakman: PATH_PARAM_PARSE_ERROR: .*\n$/);

    const unreachable = await pakman(['orgs', 'list'], { PAKMAN_BASE_URL: 'http://127.0.0.1:1' });
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/^pakman: cannot reach http:\/\/127\.0\.0\.1:1: .*\n$/);

    const usage = [
      ['orgs', 'frobnicate'],
      ['orgs', 'list', '--bogus'],
      ['orgs', 'apikeys', 'list'],
      ['orgs', 'apikeys', 'create', '--orgId', 'aaaaaaaaaaaaaaaaaaaaaaaa', '--desc', 'x'],
      ['orgs', 'list', '--limit', '0'],
      ['orgs', 'list', '-o', 'yaml'],
      ['orgs', 'delete', 'aaaaaaaaaaaaaaaaaaaaaaaa'],
    ];
    const codes = await Promise.all(usage.map(async (args) => ({ args, code: (await pakman(args)).code })));
    expect(codes).toEqual(usage.map((args) => ({ args, code: 2 })));
    const noCreds = await pakman(['orgs', 'list'], { PAKMAN_PUBLIC_API_KEY: undefined });
    expect(noCreds.code).toBe(2);
    expect(noCreds.stderr).toMatch(/^pakman: no credentials/);
  });
});
