/**
 * The npm package as a user gets it, with no checkout: `npm pack` here, `npm install -g` of the tarball
 * into a temp prefix, `<prefix>/bin/pakman serve` on a temp SQLite file (first user, API calls, the CLI),
 * then `pakman/client` installed from the tarball in another temp project, type-checked with `tsc` and
 * run against that server. Needs the npm registry (or the local npm cache) for the dependencies.
 *
 * better-sqlite3's install script compiles SQLite (minutes on a busy 2-core machine, after a failed
 * download of a prebuilt binary): the global install skips install scripts and takes the native binding
 * this checkout already built for the same better-sqlite3 version and Node ABI.
 * PAKMAN_TEST_PACKAGE_SCRIPTS=1 runs the scripts instead, exactly as `npm install -g` does.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrap, type Creds, digest, raw } from './support/client.js';
import { freePort, ROOT } from './support/processes.js';

const run = promisify(execFile);
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
/** npm without this run's PAKMAN_* settings, offline where its cache allows, quiet. */
const npmEnv = (): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PAKMAN_')) env[k] = v;
  return { ...env, npm_config_prefer_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false' };
};

async function npm(args: string[], cwd: string): Promise<string> {
  const { stdout } = await run(NPM, args, {
    cwd,
    env: npmEnv(),
    maxBuffer: 64 * 1024 * 1024,
    timeout: 580_000,
  });
  return stdout;
}

describe('npm package', () => {
  const work = mkdtempSync(join(tmpdir(), 'pakman-package-'));
  const prefix = join(work, 'global');
  let tarball: string;
  let server: ChildProcess | undefined;
  let origin: string;
  let admin: Creds;
  let out = '';

  beforeAll(async () => {
    // `npm pack` runs `prepare` (the build) first, as `npm publish` would.
    const packed = await npm(['pack', '--pack-destination', work, '--json'], ROOT);
    const info = JSON.parse(packed) as { filename: string; files: { path: string }[] }[];
    tarball = join(work, info[0]!.filename);
    const files = info[0]!.files.map((f) => f.path);
    expect(files).toContain('dist/cli/index.js');
    expect(files).toContain('dist/client/index.d.ts');
    expect(files).toContain('dist/server/storage/migrations/index.js');
    expect(files.some((f) => f.startsWith('src/') || f.startsWith('test/'))).toBe(false);
    const scripts = process.env.PAKMAN_TEST_PACKAGE_SCRIPTS === '1';
    await npm(
      ['install', '-g', '--prefix', prefix, '--no-save', ...(scripts ? [] : ['--ignore-scripts']), tarball],
      work,
    );
    if (!scripts) {
      const from = join(ROOT, 'node_modules', 'better-sqlite3');
      const to = join(prefix, 'lib', 'node_modules', 'pakman', 'node_modules', 'better-sqlite3');
      const version = (dir: string) =>
        (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
      expect(version(to)).toBe(version(from));
      mkdirSync(join(to, 'build', 'Release'), { recursive: true });
      copyFileSync(
        join(from, 'build', 'Release', 'better_sqlite3.node'),
        join(to, 'build', 'Release', 'better_sqlite3.node'),
      );
    }
  }, 600_000);

  afterAll(async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise((r) => server!.once('exit', r));
      server.kill('SIGTERM');
      await exited;
    }
    rmSync(work, { recursive: true, force: true });
  });

  it('installs a `pakman` that serves the API on SQLite, with its migrations, and whose CLI works', async () => {
    const port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    const dataDir = join(work, 'data');
    mkdirSync(dataDir);
    server = spawn(join(prefix, 'bin', 'pakman'), ['serve'], {
      cwd: work,
      env: {
        ...npmEnv(),
        PAKMAN_PORT: String(port),
        PAKMAN_HOST: '127.0.0.1',
        PAKMAN_DATABASE_URL: `sqlite:${join(dataDir, 'pakman.db')}`,
        PAKMAN_LOG_LEVEL: 'warn',
        PAKMAN_SHUTDOWN_DRAIN: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    server.stdout!.on('data', (d) => {
      out += d;
    });
    server.stderr!.on('data', (d) => {
      out += d;
    });
    const deadline = Date.now() + 30_000;
    while (!out.includes('listening on') && Date.now() < deadline && server.exitCode === null)
      await new Promise((r) => setTimeout(r, 100));
    expect(out).toContain(`listening on ${origin}/api/public/v1.0`);
    expect(readdirSync(dataDir)).toContain('pakman.db');

    const base = `${origin}/api/public/v1.0`;
    admin = await bootstrap(base);
    const org = await digest(admin, 'POST', `${base}/orgs`, { body: { name: 'Installed' } });
    expect(org.status).toBe(200);
    const list = await digest(admin, 'GET', `${base}/orgs`);
    expect((list.json as { totalCount: number }).totalCount).toBe(1);
    expect((await raw('GET', `${origin}/health/ready`)).status).toBe(200);
    expect((await raw('GET', `${origin}/api/openapi.json`)).status).toBe(200);

    const cli = await run(join(prefix, 'bin', 'pakman'), ['orgs', 'list', '-o', 'json'], {
      env: {
        ...npmEnv(),
        PAKMAN_BASE_URL: origin,
        PAKMAN_PUBLIC_API_KEY: admin.publicKey,
        PAKMAN_PRIVATE_API_KEY: admin.privateKey,
        PAKMAN_CONFIG_FILE: join(work, 'cli.json'),
      },
    });
    expect(JSON.parse(cli.stdout)).toMatchObject({ totalCount: 1, results: [{ name: 'Installed' }] });
  }, 60_000);

  it('gives another project `pakman/client` with its types: tsc checks it, node runs it', async () => {
    const project = join(work, 'consumer');
    mkdirSync(project);
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }),
    );
    // Scripts are skipped here: the client needs none, and the server's native module was built above.
    await npm(['install', '--no-audit', '--ignore-scripts', tarball], project);
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          types: [],
          lib: ['ES2023', 'DOM'],
          outDir: 'out',
        },
        include: ['main.ts'],
      }),
    );
    writeFileSync(
      join(project, 'main.ts'),
      `import { PakmanClient, type Org } from 'pakman/client';

const [baseUrl, publicKey, privateKey] = process.argv.slice(2) as [string, string, string];
declare const process: { argv: string[]; stdout: { write(s: string): void } };
const client = new PakmanClient({ baseUrl, credentials: { publicKey, privateKey } });
const page = await client.orgs.list();
const first: Org | undefined = page.results[0];
const total: number = page.totalCount;
// @ts-expect-error: the types are real, not any: an org's name is a string.
const wrong: number = page.results[0]!.name;
void wrong;
process.stdout.write(JSON.stringify({ total, name: first?.name }));
`,
    );
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const checked = await run(process.execPath, [tsc, '-p', project], { cwd: project }).catch(
      (e: { stdout: string }) => ({ stdout: e.stdout, failed: true }),
    );
    expect(checked.stdout).toBe('');
    expect('failed' in checked).toBe(false);
    const ran = await run(
      process.execPath,
      [join(project, 'out', 'main.js'), origin, admin.publicKey, admin.privateKey],
      {
        cwd: project,
      },
    );
    expect(JSON.parse(ran.stdout)).toEqual({ total: 1, name: 'Installed' });
  }, 180_000);
});
