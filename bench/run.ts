/**
 * `npm run bench`: pakman against a bare node:http baseline that answers with the same bytes, side by side
 * in one run, on SQLite and PostgreSQL. pakman, the baseline and the B5 writer each run in their own
 * process; this process only generates load (autocannon, digest-signing every request) and prints ratios.
 * Every comparison is interleaved — A, B, A, B, half the duration each — so that a change in what else the
 * machine is doing falls on both sides.
 *
 * Options (flags, or the BENCH_* environment variables in brackets):
 *   --scenarios B1,B2,B3,B4,B5,B6   [BENCH_SCENARIOS]  default: all
 *   --dialects sqlite,postgres      [BENCH_DIALECTS]   default: both (PostgreSQL skipped when unreachable)
 *   --duration 8                    [BENCH_DURATION]   seconds per side of a comparison (two halves)
 *   --warmup 2                      [BENCH_WARMUP]     seconds of warm-up of each target before it is measured
 *   --connections 10                [BENCH_CONNECTIONS]
 *   --b3-calls 100000               [BENCH_B3_CALLS]   handshakes in B3 (the issue's full count: 1000000)
 *   --sizes 1000,100000,1000000     [BENCH_SIZES]      B2 collection sizes
 *   --b5-rate 20                    [BENCH_B5_RATE]    B5 writer requests per second
 *   --postgres-url URL              [BENCH_POSTGRES_URL] admin URL; a database is created and dropped
 *   --profile DIR                   [BENCH_PROFILE]    run pakman under --cpu-prof, profiles in DIR
 *   --json FILE                     [BENCH_JSON]       also write the results as JSON
 *   (environment only)              [BENCH_NODE_ARGS]  extra Node flags for pakman, e.g. --perf-basic-prof
 *   (environment only)              [BENCH_FROM_SRC=1] run pakman from src/ under tsx instead of the built dist/
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { PAGES_KEPT } from '../src/server/storage/keyPages.js';
import { type Captured, DigestClient, send } from './digest.js';
import { type LoadResult, type LoadSpec, percentile, runLoad } from './load.js';
import {
  type Child,
  collectGarbage,
  cpuSeconds,
  databaseCpuSeconds,
  databaseCpuSince,
  machineSeconds,
  rss,
  rssSampler,
  startChild,
} from './procs.js';
import { type BenchDatabase, type BenchDialect, type BenchKey, createBenchDatabase } from './seed.js';
import { optimizeBenchDatabase } from './tune.js';

const { values: flags } = parseArgs({
  options: {
    scenarios: { type: 'string' },
    dialects: { type: 'string' },
    duration: { type: 'string' },
    warmup: { type: 'string' },
    connections: { type: 'string' },
    'b3-calls': { type: 'string' },
    sizes: { type: 'string' },
    'b5-rate': { type: 'string' },
    'postgres-url': { type: 'string' },
    profile: { type: 'string' },
    json: { type: 'string' },
  },
});
const env = process.env;
const opt = (flag: string | undefined, name: string, fallback: string) => flag ?? env[name] ?? fallback;
const list = (s: string) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

const SCENARIOS = new Set(
  list(opt(flags.scenarios, 'BENCH_SCENARIOS', 'B1,B2,B3,B4,B5,B6')).map((s) => s.toUpperCase()),
);
const DURATION = Number(opt(flags.duration, 'BENCH_DURATION', '8'));
const WARMUP = Number(opt(flags.warmup, 'BENCH_WARMUP', '2'));
const CONNECTIONS = Number(opt(flags.connections, 'BENCH_CONNECTIONS', '10'));
const B3_CALLS = Number(opt(flags['b3-calls'], 'BENCH_B3_CALLS', '100000'));
/** B3 is measured in slices of this many seconds a side, interleaved (pakman, baseline, pakman, …). */
const B3_SLICE_SECONDS = 3;
const SIZES = list(opt(flags.sizes, 'BENCH_SIZES', '1000,100000,1000000')).map(Number);
const B5_RATE = opt(flags['b5-rate'], 'BENCH_B5_RATE', '20');
const POSTGRES_URL = opt(
  flags['postgres-url'],
  'BENCH_POSTGRES_URL',
  'postgres://postgres@127.0.0.1:5432/test',
);
const PROFILE = flags.profile ?? env.BENCH_PROFILE;
const JSON_OUT = flags.json ?? env.BENCH_JSON;
/** Pages a B2 measurement requests in turn: more than storage/keyPages.ts keeps per org, so none is kept. */
const SWEEP = 10;
if (SWEEP <= PAGES_KEPT) throw new Error('B2 must sweep more pages than a node keeps');
// B1 clients reuse one nonce for the whole run: the servers get a day-long nonce lifetime (B3: default 60 s).
const LONG_NONCE_LIFETIME = '86400';
const MB = 1024 * 1024;
const API = '/api/public/v1.0';

/** What one target did over one or more runs, and what it cost its server. */
interface Measured extends LoadResult {
  rssPeak: number;
  /** Server CPU time (all its processes) per successful call, µs: a call's cost whatever else ran. */
  cpuPerCall: number;
  /** Server CPU use over the runs, in cores. */
  serverCpu: number;
  /** PostgreSQL backends' CPU time per successful call, µs (0 on SQLite and for the baseline). */
  dbCpuPerCall: number;
  /** The machine's idle cores over the runs, and its cores stolen by the hypervisor (machineSeconds). */
  idle: number;
  steal: number;
}

/** A row of the report: `a` compared with `b` (ratios a/b). */
interface Row {
  scenario: string;
  dialect: BenchDialect;
  what: string;
  aName: string;
  bName: string;
  a: Measured;
  b: Measured;
  /** The issue's target for a.rps / b.rps, if it sets one. */
  target?: number;
}

const rows: Row[] = [];
const notes: string[] = [];

function log(msg: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

async function postgresReachable(): Promise<boolean> {
  const c = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    await c.end();
    return true;
  } catch {
    return false;
  }
}

type Spec = Omit<LoadSpec, 'port' | 'connections'>;

/** Something to measure: a server, what to ask it, and what to switch on around each run (B5's writer). */
interface Target {
  server: Child;
  spec: Spec;
  /** The PostgreSQL database it uses, to count its backends' CPU time too. */
  databaseUrl?: string;
  around?: <T>(run: () => Promise<T>) => Promise<T>;
}

/**
 * `fn`'s result, with the CPU seconds `server` spent while it ran and, when `databaseUrl` is given, those
 * of the PostgreSQL backends serving that database (0 otherwise).
 */
async function cpuDuring<T>(
  server: Child,
  databaseUrl: string | undefined,
  fn: () => Promise<T>,
): Promise<{ result: T; cpu: number; dbCpu: number }> {
  const db0 = databaseUrl ? await databaseCpuSeconds(databaseUrl) : undefined;
  const cpu0 = cpuSeconds(server);
  const result = await fn();
  const cpu = cpuSeconds(server) - cpu0;
  const dbCpu = db0 && databaseUrl ? await databaseCpuSince(databaseUrl, db0) : 0;
  return { result, cpu, dbCpu };
}

/** One run against a target, sampling its server's RSS and CPU time. */
async function runOnce(t: Target, amount: { seconds: number } | { calls: number }): Promise<Measured> {
  const go = async () => {
    const sampler = rssSampler(t.server);
    const machine0 = machineSeconds();
    const {
      result: r,
      cpu,
      dbCpu,
    } = await cpuDuring(t.server, t.databaseUrl, () =>
      runLoad({
        ...t.spec,
        port: t.server.port,
        connections: CONNECTIONS,
        ...('calls' in amount ? { calls: amount.calls } : { duration: amount.seconds }),
      }),
    );
    const machine = machineSeconds();
    return {
      ...r,
      rssPeak: sampler.stop(),
      cpuPerCall: (cpu * 1e6) / r.calls,
      serverCpu: cpu / r.seconds,
      dbCpuPerCall: (dbCpu * 1e6) / r.calls,
      idle: (machine.idle - machine0.idle) / r.seconds,
      steal: (machine.steal - machine0.steal) / r.seconds,
    };
  };
  return t.around ? t.around(go) : go();
}

/** Runs taken together. */
function merge(parts: Measured[]): Measured {
  const sum = (f: (m: Measured) => number) => parts.reduce((a, m) => a + f(m), 0);
  const calls = sum((m) => m.calls);
  const seconds = sum((m) => m.seconds);
  const latencies = new Float64Array(sum((m) => m.latencies.length));
  let at = 0;
  for (const m of parts) {
    latencies.set(m.latencies, at);
    at += m.latencies.length;
  }
  return {
    rps: calls / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    calls,
    non2xx: sum((m) => m.non2xx),
    errors: sum((m) => m.errors),
    seconds,
    loadgenCpu: sum((m) => m.loadgenCpu * m.seconds) / seconds,
    latencies,
    rssPeak: Math.max(...parts.map((m) => m.rssPeak)),
    cpuPerCall: sum((m) => m.cpuPerCall * m.calls) / calls,
    dbCpuPerCall: sum((m) => m.dbCpuPerCall * m.calls) / calls,
    serverCpu: sum((m) => m.serverCpu * m.seconds) / seconds,
    idle: sum((m) => m.idle * m.seconds) / seconds,
    steal: sum((m) => m.steal * m.seconds) / seconds,
  };
}

const warmed = new Set<string>();

async function warm(t: Target): Promise<void> {
  const key = `${t.server.port} ${JSON.stringify(t.spec.path)} ${t.spec.creds.publicKey}`;
  if (WARMUP <= 0 || warmed.has(key)) return;
  warmed.add(key);
  await runOnce(t, { seconds: WARMUP });
}

/** A and B measured in turn, two halves each (A B A B). */
async function compare(a: Target, b: Target): Promise<[Measured, Measured]> {
  await warm(a);
  await warm(b);
  const half = { seconds: DURATION / 2 };
  const a1 = await runOnce(a, half);
  const b1 = await runOnce(b, half);
  const a2 = await runOnce(a, half);
  const b2 = await runOnce(b, half);
  return [merge([a1, a2]), merge([b1, b2])];
}

function addRow(row: Row): void {
  rows.push(row);
  const r = row.a.rps / row.b.rps;
  log(
    `${row.scenario} ${row.dialect} ${row.what}: ${row.aName} ${row.a.rps.toFixed(0)}/s vs ${row.bName} ${row.b.rps.toFixed(0)}/s = ${r.toFixed(2)} (CPU ${cpuCell(row.a)} vs ${cpuCell(row.b)} µs/call, ${row.a.serverCpu.toFixed(2)} vs ${row.b.serverCpu.toFixed(2)} cores; load generator ${row.a.loadgenCpu.toFixed(2)} vs ${row.b.loadgenCpu.toFixed(2)} cores; machine idle ${row.a.idle.toFixed(2)} vs ${row.b.idle.toFixed(2)}, stolen ${row.a.steal.toFixed(2)} vs ${row.b.steal.toFixed(2)} cores)`,
  );
}

/** A response as recorded for the baseline. */
interface RecordedRoute {
  url: string;
  auth: boolean;
  status: number;
  headers: [string, string][];
  body: string;
}

/** Records the exact responses pakman gives to `path` (signed, and the unsigned challenge). */
async function capture(port: number, key: BenchKey, path: string, routes: RecordedRoute[]): Promise<void> {
  const origin = `http://127.0.0.1:${port}`;
  const signed = await new DigestClient(origin, key).request('GET', path);
  if (signed.status !== 200) throw new Error(`GET ${path}: ${signed.status} ${signed.body.toString()}`);
  const challenge = await send(origin, 'GET', path);
  const keep = (c: Captured, auth: boolean): RecordedRoute => ({
    url: path,
    auth,
    status: c.status,
    headers: c.headers,
    body: c.body.toString('base64'),
  });
  routes.push(keep(signed, true), keep(challenge, false));
}

/** Proves the baseline answers with pakman's bytes: same status, same headers (names and values), same body. */
async function checkBaseline(port: number, routes: RecordedRoute[]): Promise<void> {
  for (const r of routes) {
    const got = await send(
      `http://127.0.0.1:${port}`,
      'GET',
      r.url,
      r.auth ? { authorization: 'Digest x' } : {},
    );
    const same =
      got.status === r.status &&
      got.body.equals(Buffer.from(r.body, 'base64')) &&
      JSON.stringify(got.headers.filter(([n]) => n.toLowerCase() !== 'www-authenticate')) ===
        JSON.stringify(r.headers.filter(([n]) => n.toLowerCase() !== 'www-authenticate'));
    if (!same) throw new Error(`baseline differs from pakman on ${r.url}`);
  }
}

const EXTRA_NODE_ARGS = (env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);

/** Node flags for pakman: under --profile, a CPU profile per thread in PROFILE/<dialect>-<tag>/. */
function serverArgs(tag: string): string[] {
  if (!PROFILE) return [];
  const dir = resolve(PROFILE, tag);
  mkdirSync(dir, { recursive: true });
  return ['--cpu-prof', `--cpu-prof-dir=${dir}`];
}

/** pakman and a baseline primed with pakman's answers to `paths`, for the duration of `fn`. */
async function withServers<T>(
  db: BenchDatabase,
  opts: {
    workers: number;
    nonceLifetime: string;
    paths: [BenchKey, string][];
    tag: string;
    nodeArgs?: string[];
  },
  fn: (pakman: Child, baseline: Child) => Promise<T>,
): Promise<T> {
  const pakman = await startChild(
    'server.ts',
    {
      BENCH_DATABASE_URL: db.url,
      BENCH_NONCE_LIFETIME: opts.nonceLifetime,
      BENCH_WORKERS: String(opts.workers),
    },
    [...serverArgs(`${db.dialect}-${opts.tag}`), ...(opts.nodeArgs ?? []), ...EXTRA_NODE_ARGS],
  );
  const dir = mkdtempSync(join(tmpdir(), 'pakman-bench-routes-'));
  let baseline: Child | undefined;
  try {
    const routes: RecordedRoute[] = [];
    for (const [key, path] of opts.paths) await capture(pakman.port, key, path, routes);
    const file = join(dir, 'routes.json');
    writeFileSync(file, JSON.stringify(routes));
    baseline = await startChild('baseline.ts', {
      BENCH_ROUTES_FILE: file,
      BENCH_WORKERS: String(opts.workers),
    });
    await checkBaseline(baseline.port, routes);
    return await fn(pakman, baseline);
  } finally {
    await baseline?.stop();
    await pakman.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const listPath = (orgId: string, query: string) => `${API}/orgs/${orgId}/apiKeys?${query}`;

async function runDialect(dialect: BenchDialect): Promise<void> {
  const sizes = SCENARIOS.has('B2') ? SIZES : [];
  log(`${dialect}: seeding (15,000-key org${sizes.length ? `, B2 orgs of ${sizes.join(' / ')} keys` : ''})`);
  const t0 = Date.now();
  const db = await createBenchDatabase(dialect, POSTGRES_URL, sizes);
  await optimizeBenchDatabase(db);
  log(`${dialect}: seeded in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const L = db.layout;
  // On PostgreSQL, what its backends spend per call is counted beside pakman's own CPU time.
  const pgUrl = dialect === 'postgres' ? db.url : undefined;
  const b1 = listPath(L.orgId, 'itemsPerPage=100');
  const pretty = listPath(L.orgId, 'itemsPerPage=100&pretty=true&envelope=true');
  // B2 requests SWEEP consecutive pages in turn — more than a node keeps (PAGES_KEPT) — so that every
  // request reads its page from the database: what is measured is the page lookup itself.
  const sweep = (orgId: string, keys: number, ipp: number, which: 'first' | 'last') => {
    const pages = Math.max(1, Math.ceil(keys / ipp));
    const from = which === 'first' ? 1 : Math.max(1, pages - SWEEP + 1);
    return Array.from({ length: Math.min(SWEEP, pages) }, (_, i) =>
      listPath(orgId, `itemsPerPage=${ipp}&pageNum=${from + i}`),
    );
  };
  const b2 = new Map<string, string[]>();
  for (const ipp of [100, 500])
    for (const which of ['first', 'last'] as const)
      b2.set(`15k ${ipp} ${which}`, sweep(L.orgId, L.orgKeys, ipp, which));
  for (const s of L.sized)
    for (const which of ['first', 'last'] as const)
      b2.set(`${s.keys} ${which}`, sweep(s.orgId, s.keys, 100, which));

  try {
    const paths: [BenchKey, string][] = [
      [L.reader, b1],
      [L.reader, pretty],
      ...[...b2.values()].flat().map((p) => [L.globalReader, p] as [BenchKey, string]),
    ];
    await withServers(
      db,
      { workers: 1, nonceLifetime: LONG_NONCE_LIFETIME, paths, tag: 'main' },
      async (pakman, baseline) => {
        const on = (server: Child, creds: BenchKey, path: string | string[]): Target => ({
          server,
          spec: { path, creds, mode: 'reuse' },
          ...(server === pakman ? { databaseUrl: pgUrl } : {}),
        });
        const row = (
          scenario: string,
          what: string,
          names: [string, string],
          m: [Measured, Measured],
          target?: number,
        ) =>
          addRow({
            scenario,
            dialect,
            what,
            aName: names[0],
            bName: names[1],
            a: m[0],
            b: m[1],
            ...(target ? { target } : {}),
          });

        if (SCENARIOS.has('B1'))
          row(
            'B1',
            'list, 100 of 15,000 keys a page, nonce reused',
            ['pakman', 'baseline'],
            await compare(on(pakman, L.reader, b1), on(baseline, L.reader, b1)),
            dialect === 'sqlite' ? 0.5 : undefined,
          );
        if (SCENARIOS.has('B6')) {
          row(
            'B6',
            'pretty=true&envelope=true',
            ['pakman', 'baseline'],
            await compare(on(pakman, L.reader, pretty), on(baseline, L.reader, pretty)),
          );
          row(
            'B6',
            'pretty=true&envelope=true vs plain',
            ['pretty+envelope', 'plain'],
            await compare(on(pakman, L.reader, pretty), on(pakman, L.reader, b1)),
            0.8,
          );
        }
        if (SCENARIOS.has('B4')) {
          row(
            'B4',
            'key with a 1-entry access list',
            ['pakman', 'baseline'],
            await compare(on(pakman, L.acl1, b1), on(baseline, L.acl1, b1)),
          );
          row(
            'B4',
            '200-entry vs 1-entry access list (match is the last entry)',
            ['200 entries', '1 entry'],
            await compare(on(pakman, L.acl200, b1), on(pakman, L.acl1, b1)),
            0.9,
          );
        }
        if (SCENARIOS.has('B2')) {
          const page = (name: string) => on(pakman, L.globalReader, b2.get(name)!);
          for (const ipp of [100, 500]) {
            row(
              'B2',
              `first ${SWEEP} pages in turn, ${ipp} a page, 15,000 keys`,
              ['pakman', 'baseline'],
              await compare(
                page(`15k ${ipp} first`),
                on(baseline, L.globalReader, b2.get(`15k ${ipp} first`)!),
              ),
            );
            row(
              'B2',
              `last ${SWEEP} pages vs first ${SWEEP}, ${ipp} a page, 15,000 keys`,
              ['last', 'first'],
              await compare(page(`15k ${ipp} last`), page(`15k ${ipp} first`)),
              0.9,
            );
          }
          const [smallest, ...larger] = L.sized;
          for (const s of larger)
            for (const which of ['first', 'last'])
              row(
                'B2',
                `${which} ${SWEEP} pages, 100 a page, ${s.keys.toLocaleString('en')} vs ${smallest!.keys.toLocaleString('en')} keys`,
                [s.keys.toLocaleString('en'), smallest!.keys.toLocaleString('en')],
                await compare(page(`${s.keys} ${which}`), page(`${smallest!.keys} ${which}`)),
                s.keys >= 1_000_000 ? 0.8 : undefined,
              );
        }
        if (SCENARIOS.has('B5')) {
          type Tally = { ops: number; failures: number; accessList: boolean; cpuMs: number };
          const tally = (): Tally => ({ ops: 0, failures: 0, accessList: true, cpuMs: 0 });
          const during = tally();
          // The writer runs only while the "with writes" side is measured; what it did goes into `into`.
          const writing =
            (into: Tally) =>
            async <T>(run: () => Promise<T>): Promise<T> => {
              const writer = await startChild('writer.ts', {
                BENCH_ORIGIN: `http://127.0.0.1:${pakman.port}`,
                BENCH_ORG: L.orgId,
                BENCH_PUBLIC_KEY: L.owner.publicKey,
                BENCH_PRIVATE_KEY: L.owner.privateKey,
                BENCH_RATE: B5_RATE,
              });
              const done = new Promise<Tally>((res) =>
                writer.proc.on('message', (m: Tally & { type?: string }) => {
                  if (m?.type === 'done') res(m);
                }),
              );
              try {
                return await run();
              } finally {
                await writer.stop();
                const w = await done;
                into.ops += w.ops;
                into.failures += w.failures;
                into.cpuMs += w.cpuMs;
                into.accessList &&= w.accessList;
              }
            };
          // First the writes by themselves, without list load, for half a run: what each costs pakman, its
          // database and the writer process (all on this machine's two cores during the comparison).
          const alone = tally();
          const spent = await cpuDuring(pakman, pgUrl, () =>
            writing(alone)(() => new Promise((r) => setTimeout(r, (DURATION / 2) * 1000))),
          );
          const perWrite = (seconds: number) => fmt((seconds * 1e6) / Math.max(1, alone.ops), 0);
          const aloneCpu = perWrite(spent.cpu);
          const aloneDb = pgUrl ? ` + ${perWrite(spent.dbCpu)} db` : '';
          const m = await compare(
            { ...on(pakman, L.reader, b1), around: writing(during) },
            on(pakman, L.reader, b1),
          );
          notes.push(
            `B5 ${dialect}: ${during.ops} writes through the API (~${B5_RATE}/s: create key, add 2 access-list entries, delete 1, delete key), ${during.failures} failed${during.accessList ? '' : '; access-list endpoints absent, keys only'}. Writes alone (${alone.ops} in ${DURATION / 2} s, no list load): ${aloneCpu}${aloneDb} µs of CPU a write, and ${perWrite(alone.cpuMs / 1000)} µs in the writer process`,
          );
          row(
            'B5',
            'list while keys and access-list entries are created and deleted',
            ['with writes', 'alone'],
            m,
            0.7,
          );
        }
      },
    );

    if (SCENARIOS.has('B6')) {
      await withServers(
        db,
        { workers: 2, nonceLifetime: LONG_NONCE_LIFETIME, paths: [[L.reader, b1]], tag: 'cluster' },
        async (cluster, baseline) => {
          const spec: Spec = { path: b1, creds: L.reader, mode: 'reuse' };
          const [p, b] = await compare(
            { server: cluster, spec, databaseUrl: pgUrl },
            { server: baseline, spec },
          );
          addRow({
            scenario: 'B6',
            dialect,
            what: 'two processes (node:cluster) each',
            aName: 'pakman ×2',
            bName: 'baseline ×2',
            a: p,
            b,
          });
          // One process beside it, measured in turn with the cluster.
          const single = await startChild(
            'server.ts',
            { BENCH_DATABASE_URL: db.url, BENCH_NONCE_LIFETIME: LONG_NONCE_LIFETIME, BENCH_WORKERS: '1' },
            serverArgs(`${db.dialect}-single`),
          );
          try {
            const [two, one] = await compare(
              { server: cluster, spec, databaseUrl: pgUrl },
              { server: single, spec, databaseUrl: pgUrl },
            );
            addRow({
              scenario: 'B6',
              dialect,
              what: 'two processes vs one',
              aName: 'pakman ×2',
              bName: 'pakman ×1',
              a: two,
              b: one,
            });
          } finally {
            await single.stop();
          }
        },
      );
    }

    if (SCENARIOS.has('B3')) {
      await withServers(
        db,
        { workers: 1, nonceLifetime: '60', paths: [[L.reader, b1]], tag: 'b3', nodeArgs: ['--expose-gc'] },
        async (pakman, baseline) => {
          const spec: Spec = { path: b1, creds: L.reader, mode: 'handshake' };
          const warmCalls = Math.min(20_000, Math.max(1000, Math.floor(B3_CALLS / 20)));
          await runOnce({ server: pakman, spec }, { calls: warmCalls });
          await runOnce({ server: baseline, spec }, { calls: warmCalls });
          const before = rss(pakman);
          await collectGarbage(pakman);
          const beforeGc = rss(pakman);
          // Interleaved like every other comparison (the machine's speed drifts over the minutes a side
          // takes): slices of equal duration, pakman then the baseline, until pakman has answered B3_CALLS
          // handshakes; its memory is compared across all of them.
          const ps: Measured[] = [];
          const bs: Measured[] = [];
          while (ps.reduce((n, m) => n + m.calls, 0) < B3_CALLS) {
            ps.push(
              await runOnce({ server: pakman, spec, databaseUrl: pgUrl }, { seconds: B3_SLICE_SECONDS }),
            );
            bs.push(await runOnce({ server: baseline, spec }, { seconds: B3_SLICE_SECONDS }));
          }
          const [p, b] = [merge(ps), merge(bs)];
          const after = rss(pakman);
          await collectGarbage(pakman);
          const afterGc = rss(pakman);
          const mb = (x: number) => `${(x / MB).toFixed(0)} MB`;
          notes.push(
            `B3 ${dialect}: pakman RSS after ${warmCalls.toLocaleString('en')} warm-up handshakes ${mb(before)} (${mb(beforeGc)} once garbage-collected), after ${p.calls.toLocaleString('en')} more ${mb(after)} (${mb(afterGc)}): ×${(after / before).toFixed(2)} as measured, ×${(afterGc / beforeGc).toFixed(2)} collected (target ≤ 1.2)`,
          );
          addRow({
            scenario: 'B3',
            dialect,
            what: `${B3_CALLS.toLocaleString('en')} full handshakes (challenge, then signed call), in ${B3_SLICE_SECONDS} s slices`,
            aName: 'pakman',
            bName: 'baseline',
            a: p,
            b,
            target: 0.45,
          });
        },
      );
    }
  } finally {
    await db.drop();
  }
}

function fmt(n: number, d = 2): string {
  return Number.isFinite(n) ? n.toFixed(d) : '–';
}

/** Server CPU per call, plus PostgreSQL's where it was counted. */
function cpuCell(m: Measured): string {
  return m.dbCpuPerCall > 0
    ? `${m.cpuPerCall.toFixed(0)}+${m.dbCpuPerCall.toFixed(0)}db`
    : m.cpuPerCall.toFixed(0);
}

function table(): string {
  const out = [
    '| | DB | comparison | A | B | A calls/s | B calls/s | **A/B** | target | p50 ms A / B | p99 ms A / B | CPU µs/call A / B | peak RSS MB A / B |',
    '|---|---|---|---|---|---:|---:|---:|:---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    const ratio = r.a.rps / r.b.rps;
    const verdict = r.target ? `≥ ${r.target} ${ratio >= r.target ? 'met' : '**missed**'}` : '';
    out.push(
      `| ${r.scenario} | ${r.dialect} | ${r.what} | ${r.aName} | ${r.bName} | ${r.a.rps.toFixed(0)} | ${r.b.rps.toFixed(0)} | **${fmt(ratio)}** | ${verdict} | ${fmt(r.a.p50)} / ${fmt(r.b.p50)} | ${fmt(r.a.p99)} / ${fmt(r.b.p99)} | ${cpuCell(r.a)} / ${cpuCell(r.b)} | ${(r.a.rssPeak / MB).toFixed(0)} / ${(r.b.rssPeak / MB).toFixed(0)} |`,
    );
  }
  return out.join('\n');
}

// pakman runs from dist/, as `npm start` runs it (bench/server.ts): build it from the current src/ first.
const FROM_SRC = env.BENCH_FROM_SRC === '1';
if (!FROM_SRC) {
  log('building dist/ (npm run build)');
  execFileSync('npm', ['run', 'build', '--silent'], { stdio: 'inherit' });
}

const started = Date.now();
const machineStart = machineSeconds();
const loadStart = loadavg()
  .map((x) => x.toFixed(2))
  .join(' ');
const dialects = list(opt(flags.dialects, 'BENCH_DIALECTS', 'sqlite,postgres')) as BenchDialect[];
for (const d of dialects) {
  if (d === 'postgres' && !(await postgresReachable())) {
    notes.push(`PostgreSQL at ${POSTGRES_URL} unreachable: skipped`);
    continue;
  }
  await runDialect(d);
}
const header = `pakman benchmark — ${cpus().length} cores, ${(totalmem() / 1024 ** 3).toFixed(0)} GiB, Node ${process.version}; pakman from ${FROM_SRC ? 'src/ (tsx)' : 'dist/'}; ${CONNECTIONS} connections; each side ${DURATION} s (2 × ${DURATION / 2} s, interleaved) after ${WARMUP} s warm-up; load average ${loadStart} at start, ${loadavg()
  .map((x) => x.toFixed(2))
  .join(' ')} at end; ${(
  (machineSeconds().steal - machineStart.steal) / ((Date.now() - started) / 1000)
).toFixed(2)} cores stolen by the hypervisor on average; ${((Date.now() - started) / 60000).toFixed(1)} min`;
process.stdout.write(`\n${header}\n\n${table()}\n\n${notes.map((n) => `- ${n}`).join('\n')}\n`);
if (JSON_OUT) {
  const strip = (m: Measured) => ({ ...m, latencies: undefined });
  writeFileSync(
    JSON_OUT,
    JSON.stringify(
      { header, notes, rows: rows.map((r) => ({ ...r, a: strip(r.a), b: strip(r.b) })) },
      null,
      2,
    ),
  );
}
