/**
 * The fuzz suite's runner: a real `pakman serve` process on a fresh database (SQLite or PostgreSQL) on
 * loopback, some data made through the API, then `count` generated requests (fuzzGenerator.ts), signed with
 * real digest credentials for most of them. It reports every 5xx, every error body not in the Ops Manager
 * shape and every request that got no answer (with its seed, index and the request itself), whether the
 * data tables changed, the process's resident memory before and after, and its exit code after SIGTERM.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { connect } from '../../src/server/storage/connect.js';
import { bootstrap, type Creds, digest } from './client.js';
import { type FuzzAuth, type FuzzContext, type FuzzRequest, generate } from './fuzzGenerator.js';
import { dropDatabase } from './postgres.js';
import { startNode } from './processes.js';
import { freshDatabaseUrl } from './server.js';
import { snapshot } from './snapshot.js';

/** What to run. */
export interface FuzzOptions {
  dialect: 'sqlite' | 'postgres';
  count: number;
  seed: number;
  /** Requests in flight at once. */
  concurrency?: number;
  /** Only these indexes (to reproduce a failure). */
  only?: number[];
  log?: (line: string) => void;
}

/** A request that failed the suite's rules. */
export interface FuzzFailure {
  seed: number;
  index: number;
  why: string;
  request: string;
  response: string;
}

/** What a run found. */
export interface FuzzResult {
  dialect: string;
  seed: number;
  requests: number;
  /** Status (or `closed` for a raw request the server hung up on) → count. */
  statuses: Record<string, number>;
  /** Generator kind → count. */
  kinds: Record<string, number>;
  failures: FuzzFailure[];
  fiveXx: number;
  durationMs: number;
  /** VmRSS of the server process in KiB: after setup and warm-up, and after the run. */
  rssBeforeKiB: number;
  rssAfterKiB: number;
  /** VmHWM: the highest resident size the process reached. */
  rssPeakKiB: number;
  /** Table → rows that differ (before, after); empty when nothing changed. */
  changed: Record<string, { before: string[]; after: string[] }>;
  answersAtEnd: boolean;
  exitCode: number | null;
}

const REALM = 'MMS Public API';
const md5 = (s: string) => createHash('md5').update(s, 'latin1').digest('hex');

/** One signing identity with its current nonce (each worker keeps its own). */
class Signer {
  nonce = '';
  nc = 0;
  constructor(readonly creds: Creds) {}

  header(method: string, uri: string, mutate?: Extract<FuzzAuth, { kind: 'mutated' }>['mutate']): string {
    this.nc++;
    const p: Record<string, string> = {
      username: this.creds.publicKey,
      realm: REALM,
      nonce: this.nonce,
      uri,
      algorithm: 'MD5',
      qop: 'auth',
      nc: this.nc.toString(16).padStart(8, '0'),
      cnonce: randomBytes(8).toString('hex'),
    };
    let password = this.creds.privateKey;
    let signedMethod = method;
    if (mutate && 'wrongPassword' in mutate) password = `${password}x`;
    if (mutate && 'method' in mutate) signedMethod = mutate.method === method ? `${method}X` : mutate.method;
    const ha1 = md5(`${p.username}:${REALM}:${password}`);
    const ha2 = md5(`${signedMethod}:${uri}`);
    p.response = md5(`${ha1}:${p.nonce}:${p.nc}:${p.cnonce}:auth:${ha2}`);
    if (mutate && 'uri' in mutate) p.uri = mutate.uri;
    if (mutate && 'field' in mutate) {
      if (mutate.value === null) delete p[mutate.field];
      else p[mutate.field] = mutate.value;
    }
    const unquoted = new Set(['algorithm', 'qop', 'nc']);
    return `Digest ${Object.entries(p)
      .map(([k, v]) => (unquoted.has(k) ? `${k}=${v}` : `${k}="${v}"`))
      .join(', ')}`;
  }
}

/** The nonce of a challenge header, if it holds one. */
function nonceOf(header: string | string[] | undefined): string | undefined {
  return /nonce="([^"]+)"/.exec(String(header ?? ''))?.[1];
}

/** Reads VmRSS and VmHWM (KiB) of a process. */
export function memoryOf(pid: number): { rss: number; hwm: number } {
  const status = readStatus(pid);
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  return { rss: field('VmRSS'), hwm: field('VmHWM') };
}

function readStatus(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return '';
  }
}

interface Answer {
  status: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** Requests past this size of request line and headers go on a connection of their own (see sendHttp). */
const OWN_CONNECTION_BYTES = 12 * 1024;

/**
 * Sends one request. Node's HTTP parser answers a request it cannot parse (headers over 16 KiB, bytes
 * HTTP does not allow) and closes the connection without `Connection: close`; a keep-alive client may
 * have written its next request on that connection already. So oversized requests go on a connection of
 * their own, and a request reset on a reused connection before any answer is sent once more on a new one
 * (a retry the server had already seen is refused as a replay, which is fine).
 */
async function sendHttp(
  agent: http.Agent,
  port: number,
  req: FuzzRequest,
  headers: Record<string, string>,
): Promise<Answer> {
  const size =
    req.target.length + Object.entries(headers).reduce((n, [k, v]) => n + k.length + v.length + 4, 0);
  const own = size > OWN_CONNECTION_BYTES;
  try {
    return await sendOnce(
      own ? false : agent,
      port,
      req,
      own ? { ...headers, connection: 'close' } : headers,
    );
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { reused?: boolean };
    if (own || !err.reused || (err.code !== 'ECONNRESET' && err.message !== 'socket hang up')) throw e;
    return sendOnce(false, port, req, { ...headers, connection: 'close' });
  }
}

function sendOnce(
  agent: http.Agent | false,
  port: number,
  req: FuzzRequest,
  headers: Record<string, string>,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const r = http.request(
      { host: '127.0.0.1', port, method: req.method, path: req.target, headers, agent, timeout: 15_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: String(res.statusCode),
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        );
        res.on('error', reject);
      },
    );
    r.on('timeout', () => r.destroy(new Error('no answer within 15 s')));
    r.on('error', (e) => reject(Object.assign(e, { reused: r.reusedSocket })));
    r.end(req.body);
  });
}

function sendRaw(port: number, bytes: Buffer): Promise<Answer> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const done = () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 'closed';
      resolve({ status, headers: {}, body: text.slice(text.indexOf('\r\n\r\n') + 4) });
    };
    // A request cut short (a Content-Length longer than its body) is answered when the client stops sending.
    socket.setTimeout(2_000, () => socket.destroy());
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      // One response is enough: the parser's 400 ends with the connection, an answered request may not.
      if (/^HTTP\/1\.[01] \d{3}/.test(Buffer.concat(chunks).toString('latin1'))) socket.destroy();
    });
    socket.on('error', () => {});
    socket.on('close', done);
    socket.end(bytes);
  });
}

/** A request as the report prints it. */
function describe(req: FuzzRequest, headers: Record<string, string>): string {
  if (req.rawBytes) return `RAW ${JSON.stringify(req.rawBytes.toString('latin1').slice(0, 300))}`;
  const body = req.body ? JSON.stringify(req.body.toString('latin1').slice(0, 300)) : '(none)';
  return `${req.method} ${req.target.slice(0, 400)} auth=${JSON.stringify(req.auth).slice(0, 200)} headers=${JSON.stringify(headers).slice(0, 400)} body=${body}`;
}

/** True for an error body in the shape every pakman error has (or the digest challenge's). */
function opsManagerShaped(a: Answer): boolean {
  if (a.body === '') return true;
  try {
    const body = JSON.parse(a.body) as Record<string, unknown>;
    const keys = Object.keys(body).join(',');
    return (
      keys === 'detail,error,errorCode,parameters,reason' ||
      keys === 'detail,error,reason' ||
      (keys === 'content,status' && typeof body.content === 'object')
    );
  } catch {
    return false;
  }
}

/** Runs the suite once on one database; never throws for a finding, only reports it. */
export async function runFuzz(opts: FuzzOptions): Promise<FuzzResult> {
  const log = opts.log ?? (() => {});
  const fresh = await freshDatabaseUrl(opts.dialect);
  const node = await startNode({
    PAKMAN_DATABASE_URL: fresh.url,
    PAKMAN_SECRET: 'fuzz-secret-fuzz-secret-fuzz-secret!',
  });
  const pid = node.child.pid!;
  const conn = await connect(fresh.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.concurrency ?? 4 });
  try {
    const { ctx, creds } = await seed(node.base);
    const before = await snapshot(conn.db);
    const statuses: Record<string, number> = {};
    const kinds: Record<string, number> = {};
    const failures: FuzzFailure[] = [];
    const indexes = opts.only ?? Array.from({ length: opts.count }, (_, i) => i);
    // The baseline is taken once the heap has grown to its working size (most of that growth happens in
    // the first few thousand requests), so that what is compared is memory kept, not memory first used.
    const warmUp = opts.only ? 0 : Math.min(10_000, Math.floor(indexes.length / 5));
    let rssBefore = memoryOf(pid).rss;
    let next = 0;
    let sent = 0;
    const started = Date.now();

    const worker = async () => {
      const signers = {
        admin: new Signer(creds.admin),
        orgOwner: new Signer(creds.orgOwner),
        projectKey: new Signer(creds.projectKey),
      };
      for (;;) {
        const at = next++;
        if (at >= indexes.length) return;
        const index = indexes[at]!;
        const req = generate(opts.seed, index, ctx);
        kinds[req.kind] = (kinds[req.kind] ?? 0) + 1;
        const headers = { ...req.headers };
        // Node frames no body of a GET or DELETE unless told its length; unframed bytes would be a second request.
        if (req.body) headers['content-length'] = String(req.body.length);
        let signer: Signer | undefined;
        if (req.auth.kind === 'valid' || req.auth.kind === 'mutated') {
          signer = signers[req.auth.who];
          if (!signer.nonce) await refresh(node.port, agent, signers);
          headers.authorization = signer.header(
            req.method,
            req.target,
            req.auth.kind === 'mutated' ? req.auth.mutate : undefined,
          );
        } else if (req.auth.kind === 'header') headers.authorization = req.auth.value;
        let answer: Answer;
        try {
          answer = req.rawBytes
            ? await sendRaw(node.port, req.rawBytes)
            : await sendHttp(agent, node.port, req, headers);
        } catch (e) {
          failures.push({
            seed: opts.seed,
            index,
            why: `no answer: ${(e as Error).message}`,
            request: describe(req, headers),
            response: '',
          });
          continue;
        }
        sent++;
        statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
        // A challenge to a signed request whose nonce has expired: sign the next ones with the new nonce.
        const fresh = nonceOf(answer.headers['www-authenticate']);
        if (signer && fresh && /stale=true/.test(String(answer.headers['www-authenticate'])))
          signer.nonce = fresh;
        if (answer.status.startsWith('5'))
          failures.push({
            seed: opts.seed,
            index,
            why: `HTTP ${answer.status}`,
            request: describe(req, headers),
            response: answer.body.slice(0, 500),
          });
        else if (!req.rawBytes && Number(answer.status) >= 400 && !opsManagerShaped(answer))
          failures.push({
            seed: opts.seed,
            index,
            why: `HTTP ${answer.status} not in the Ops Manager shape`,
            request: describe(req, headers),
            response: answer.body.slice(0, 500),
          });
        if (sent === warmUp) rssBefore = memoryOf(pid).rss;
        if (sent % 10_000 === 0)
          log(`${opts.dialect}: ${sent} requests, ${failures.length} failures, RSS ${memoryOf(pid).rss} KiB`);
      }
    };
    await Promise.all(Array.from({ length: opts.concurrency ?? 4 }, worker));
    const durationMs = Date.now() - started;
    agent.destroy();
    // Let the process finish what the last requests left (usage flush, sweeps) before reading its memory.
    await new Promise((r) => setTimeout(r, 2_000));
    const mem = memoryOf(pid);
    const check = await digest(creds.admin, 'GET', `${node.base}/orgs/${ctx.orgId}`);
    const after = await snapshot(conn.db);
    const changed: FuzzResult['changed'] = {};
    for (const table of Object.keys(before)) {
      const b = new Set(before[table]);
      const a = new Set(after[table]);
      const gone = before[table]!.filter((row) => !a.has(row));
      const added = after[table]!.filter((row) => !b.has(row));
      if (gone.length || added.length) changed[table] = { before: gone, after: added };
    }
    const exitCode = await node.stop('SIGTERM', 15_000);
    return {
      dialect: opts.dialect,
      seed: opts.seed,
      requests: sent,
      statuses,
      kinds,
      failures,
      fiveXx: Object.entries(statuses)
        .filter(([s]) => s.startsWith('5'))
        .reduce((n, [, c]) => n + c, 0),
      durationMs,
      rssBeforeKiB: rssBefore,
      rssAfterKiB: mem.rss,
      rssPeakKiB: mem.hwm,
      changed,
      answersAtEnd: check.status === 200,
      exitCode,
    };
  } finally {
    agent.destroy();
    if (node.alive()) await node.stop('SIGKILL');
    await conn.close();
    if (process.env.PAKMAN_KEEP_TEST_DATA !== '1') {
      rmSync(fresh.dir, { recursive: true, force: true });
      if (opts.dialect === 'postgres') await dropDatabase(fresh.url);
    }
  }
}

/** Gets a nonce for every signer from one challenge each. */
async function refresh(port: number, agent: http.Agent, signers: Record<string, Signer>): Promise<void> {
  for (const s of Object.values(signers)) {
    const a = await sendHttp(
      agent,
      port,
      { kind: 'nonce', method: 'GET', target: '/api/public/v1.0', headers: {}, auth: { kind: 'none' } },
      {},
    );
    s.nonce = nonceOf(a.headers['www-authenticate']) ?? '';
    s.nc = 0;
  }
}

/** Makes the data the generated requests aim at, through the API. */
async function seed(
  base: string,
): Promise<{ ctx: FuzzContext; creds: Record<'admin' | 'orgOwner' | 'projectKey', Creds> }> {
  const admin = await bootstrap(base);
  const ok = async (method: string, path: string, body: unknown) => {
    const res = await digest(admin, method, `${base}${path}`, { body });
    if (res.status >= 300) throw new Error(`fuzz setup: ${method} ${path} → ${res.status} ${res.text}`);
    return res.json as Record<string, string> & Creds;
  };
  const org = await ok('POST', '/orgs', { name: 'Fuzz Org' });
  const orgOwner = await ok('POST', `/orgs/${org.id}/apiKeys`, { desc: 'owner', roles: ['ORG_OWNER'] });
  const listed = await ok('POST', `/orgs/${org.id}/apiKeys`, { desc: 'listed', roles: ['ORG_MEMBER'] });
  const listedIp = '10.1.2.3';
  await ok('POST', `/orgs/${org.id}/apiKeys/${listed.id}/accessList`, [{ ipAddress: listedIp }]);
  const project = await ok('POST', '/groups', { name: 'Fuzz Project', orgId: org.id });
  await ok('PATCH', `/groups/${project.id}/apiKeys/${listed.id}`, { roles: ['GROUP_READ_ONLY'] });
  const projectKey = await ok('POST', `/groups/${project.id}/apiKeys`, {
    desc: 'project',
    roles: ['GROUP_OWNER'],
  });
  const user = await ok('POST', '/users', {
    username: 'fuzzed@example.com',
    password: 'pw',
    firstName: 'Fuzz',
    lastName: 'User',
    roles: [{ roleName: 'ORG_MEMBER', orgId: org.id }],
  });
  const globalKey = await ok('POST', '/admin/apiKeys', { desc: 'global', roles: ['GLOBAL_READ_ONLY'] });
  const entry = await ok('POST', '/admin/accessList', { cidrBlock: '127.0.0.1/32', description: 'loopback' });
  return {
    ctx: {
      orgId: org.id!,
      keyId: listed.id!,
      groupId: project.id!,
      userId: user.id!,
      username: 'fuzzed@example.com',
      projectName: 'Fuzz Project',
      globalKeyId: globalKey.id!,
      globalEntryId: entry.id!,
      listedIp,
    },
    creds: { admin, orgOwner, projectKey },
  };
}

/** The report of a run, as docs/security.md and the test print it. */
export function formatResult(r: FuzzResult): string {
  const statuses = Object.entries(r.statuses)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([s, n]) => `${s}: ${n}`)
    .join(', ');
  return [
    `${r.dialect}: ${r.requests} requests in ${(r.durationMs / 1000).toFixed(1)} s (seed ${r.seed})`,
    `  statuses ${statuses}`,
    `  5xx ${r.fiveXx}; failures ${r.failures.length}; data changed: ${Object.keys(r.changed).join(', ') || 'nothing'}`,
    `  RSS ${(r.rssBeforeKiB / 1024).toFixed(1)} MiB after warm-up, ${(r.rssAfterKiB / 1024).toFixed(1)} MiB at the end, peak ${(r.rssPeakKiB / 1024).toFixed(1)} MiB`,
    `  answers at the end: ${r.answersAtEnd}; exit code after SIGTERM: ${r.exitCode}`,
    ...r.failures
      .slice(0, 20)
      .map((f) => `  FAIL seed=${f.seed} index=${f.index} ${f.why}\n    ${f.request}\n    → ${f.response}`),
  ].join('\n');
}
