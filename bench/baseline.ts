/**
 * Benchmark child: the baseline, a bare node:http server with no auth and no storage that answers
 * with the exact bytes pakman sent (status, headers, body) for the same request target, recorded by
 * the runner beforehand. Requests without an Authorization header get the recorded challenge.
 * One process or a node:cluster of BENCH_WORKERS, like bench/server.ts.
 *
 * Environment: BENCH_ROUTES_FILE (JSON written by the runner), BENCH_WORKERS (default 1).
 */
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import http from 'node:http';

interface RecordedRoute {
  /** Request target (path + query). */
  url: string;
  /** Whether the recorded request carried credentials. */
  auth: boolean;
  status: number;
  headers: [string, string][];
  /** Base64 of the body bytes. */
  body: string;
}

interface Prepared {
  status: number;
  headers: string[];
  body: Buffer;
}

const workers = Number(process.env.BENCH_WORKERS ?? '1');

function tell(msg: unknown): void {
  if (process.send) process.send(msg);
}

function serve(): void {
  const routes = JSON.parse(readFileSync(process.env.BENCH_ROUTES_FILE!, 'utf8')) as RecordedRoute[];
  const table = new Map<string, Prepared>();
  for (const r of routes) {
    table.set(`${r.auth ? 'A' : 'N'} ${r.url}`, {
      status: r.status,
      headers: r.headers.flat(),
      body: Buffer.from(r.body, 'base64'),
    });
  }
  const server = http.createServer((req, res) => {
    const hit = table.get(`${req.headers.authorization ? 'A' : 'N'} ${req.url}`);
    if (!hit) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(hit.status, hit.headers);
    res.end(hit.body);
  });
  // Fastify's defaults, so connection handling matches.
  server.keepAliveTimeout = 72_000;
  server.listen(0, '127.0.0.1', () => {
    const addr = server.address();
    tell({ type: 'ready', port: typeof addr === 'object' && addr ? addr.port : 0, pids: [process.pid] });
  });
  process.on('message', (m: { type?: string }) => {
    if (m?.type === 'stop') server.close(() => process.exit(0));
  });
}

function primary(): void {
  const pids: number[] = [];
  let port = 0;
  let ready = 0;
  for (let i = 0; i < workers; i++) {
    const w = cluster.fork();
    w.on('message', (m: { type?: string; port?: number }) => {
      if (m?.type !== 'ready') return;
      port = m.port ?? 0;
      pids.push(w.process.pid ?? 0);
      if (++ready === workers) tell({ type: 'ready', port, pids: [process.pid, ...pids] });
    });
  }
  process.on('message', (m: { type?: string }) => {
    if (m?.type !== 'stop') return;
    let left = workers;
    cluster.on('exit', () => {
      if (--left === 0) process.exit(0);
    });
    for (const w of Object.values(cluster.workers ?? {})) w?.send({ type: 'stop' });
  });
}

if (workers > 1 && cluster.isPrimary) primary();
else serve();
