/**
 * Benchmark child: pakman as `pakman serve` runs it (startServer from main.ts, so the replay guard,
 * logger and storage are the production ones), one process or a node:cluster of BENCH_WORKERS.
 * pakman's code is the compiled `dist/` that `npm start` runs (the runner builds it first), not `src/`
 * under tsx, whose transform differs (it names every function it creates); BENCH_FROM_SRC=1 loads `src/`.
 * Reports `{ type: 'ready', port, pids }` to the parent over IPC and stops on `{ type: 'stop' }`; on
 * `{ type: 'gc' }` it collects garbage (when started with --expose-gc) and answers `{ type: 'gc-done' }`.
 *
 * Environment: BENCH_DATABASE_URL, BENCH_NONCE_LIFETIME (seconds), BENCH_WORKERS (default 1),
 * BENCH_FROM_SRC.
 */
import cluster from 'node:cluster';

const from = process.env.BENCH_FROM_SRC === '1' ? '../src/server' : '../dist/server';
const { loadConfig } = (await import(`${from}/config.js`)) as typeof import('../src/server/config.js');
const { startServer } = (await import(`${from}/main.js`)) as typeof import('../src/server/main.js');

const workers = Number(process.env.BENCH_WORKERS ?? '1');

function tell(msg: unknown): void {
  if (process.send) process.send(msg);
}

async function serve(): Promise<void> {
  const config = loadConfig({
    databaseUrl: process.env.BENCH_DATABASE_URL,
    port: '0',
    host: '127.0.0.1',
    nonceLifetimeSeconds: process.env.BENCH_NONCE_LIFETIME ?? '60',
    logLevel: 'warn',
  });
  const server = await startServer(config);
  const addr = server.app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  const stop = async () => {
    await server.close();
    // A normal exit, so --cpu-prof writes its profile.
    process.exit(0);
  };
  process.on('message', (m: { type?: string }) => {
    if (m?.type === 'stop') void stop();
    // B3 compares memory before and after a run with the garbage of the run collected (--expose-gc).
    if (m?.type === 'gc') {
      (globalThis as { gc?: () => void }).gc?.();
      tell({ type: 'gc-done' });
    }
  });
  process.once('SIGTERM', () => void stop());
  tell({ type: 'ready', port, pids: [process.pid] });
}

async function primary(): Promise<void> {
  const pids: number[] = [];
  let port = 0;
  for (let i = 0; i < workers; i++) {
    const w = cluster.fork();
    await new Promise<void>((resolve, reject) => {
      w.on('message', (m: { type?: string; port?: number }) => {
        if (m?.type === 'ready') {
          port = m.port ?? 0;
          resolve();
        }
      });
      w.once('exit', (code) => reject(new Error(`worker exited with ${code}`)));
    });
    pids.push(w.process.pid ?? 0);
  }
  const stop = () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.send({ type: 'stop' });
    let left = workers;
    cluster.on('exit', () => {
      if (--left === 0) process.exit(0);
    });
  };
  process.on('message', (m: { type?: string }) => {
    if (m?.type === 'stop') stop();
  });
  process.once('SIGTERM', stop);
  tell({ type: 'ready', port, pids: [process.pid, ...pids] });
}

// Cluster workers (and a single server) serve; workers report to the primary over their IPC channel.
if (workers > 1 && cluster.isPrimary) await primary();
else await serve();
