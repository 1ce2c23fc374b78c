/**
 * Real pakman processes for multi-node tests: `node --import tsx src/cli/index.ts <command>` (no build
 * step), on ports picked here (the server prints no port it chose itself), ready once stdout says
 * "listening on". Also the CLI as an operator runs it, and a small TCP proxy to cut a node off its database.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type Server, Socket } from 'node:net';
import { join } from 'node:path';
import { createDatabase, dropDatabase, POSTGRES_URL } from './postgres.js';

/** The repository root. */
export const ROOT = join(import.meta.dirname, '..', '..');

/** The environment a child starts from: this one without any PAKMAN_* setting, so tests say what they mean. */
function baseEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PAKMAN_')) env[k] = v;
  return env;
}

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** A finished CLI run. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `pakman <args>` to completion. */
export function runCli(
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 60_000,
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', ...args], {
      cwd: ROOT,
      env: { ...baseEnv(), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`pakman ${args.join(' ')} timed out; stderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A running `pakman serve` process. */
export interface NodeProcess {
  /** e.g. http://127.0.0.1:PORT */
  origin: string;
  /** origin + /api/public/v1.0 */
  base: string;
  port: number;
  child: ChildProcess;
  /** Everything printed so far (stdout then stderr), for failure messages. */
  output(): string;
  /** True while the process runs. */
  alive(): boolean;
  /** Resolves with the exit code once the process has ended. */
  exited: Promise<number | null>;
  /** Sends `signal` (default SIGTERM) and waits for the exit code; SIGKILL after `graceMs`. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number | null>;
}

/** Starts `pakman serve` with these PAKMAN_* settings on a free port; resolves once it listens. */
export async function startNode(env: Record<string, string>, timeoutMs = 30_000): Promise<NodeProcess> {
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    try {
      return await spawnNode(port, env, timeoutMs);
    } catch (e) {
      lastError = e as Error;
      // Someone took the port between the probe and the listen: try another one.
      if (!/EADDRINUSE/.test(lastError.message)) throw lastError;
    }
  }
  throw lastError;
}

function spawnNode(port: number, env: Record<string, string>, timeoutMs: number): Promise<NodeProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'serve'], {
    cwd: ROOT,
    env: {
      ...baseEnv(),
      PAKMAN_HOST: '127.0.0.1',
      PAKMAN_PORT: String(port),
      PAKMAN_LOG_LEVEL: 'warn',
      // No drain before shutdown unless a test asks for one: stopping a node is then immediate.
      PAKMAN_SHUTDOWN_DRAIN: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let running = true;
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code, signal) => {
      running = false;
      resolve(code ?? (signal ? -1 : null));
    }),
  );
  const origin = `http://127.0.0.1:${port}`;
  const node: NodeProcess = {
    origin,
    base: `${origin}/api/public/v1.0`,
    port,
    child,
    output: () => `--- stdout\n${out}--- stderr\n${err}`,
    alive: () => running,
    exited,
    async stop(signal = 'SIGTERM', graceMs = 10_000) {
      if (!running) return exited;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`pakman serve did not start within ${timeoutMs} ms\n${node.output()}`));
    }, timeoutMs);
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes(`listening on ${origin}/`)) {
        clearTimeout(timer);
        resolve(node);
      }
    });
    child.stderr!.on('data', (d) => {
      err += d;
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`pakman serve exited with ${code} before listening\n${node.output()}`));
    });
  });
}

/**
 * A TCP proxy from a local port to `target`, which a test can cut (every open connection reset, new ones
 * refused, as when PostgreSQL goes down) and restore (accepting again on the same port).
 */
export class TcpProxy {
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  /** Starts listening (on a fresh port the first time, on the same port after a cut). */
  async start(): Promise<number> {
    const server = createServer((client) => {
      const upstream = new Socket();
      this.#track(client);
      this.#track(upstream);
      upstream.connect(this.targetPort, this.targetHost);
      client.pipe(upstream);
      upstream.pipe(client);
      const end = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', end);
      upstream.on('error', end);
      client.on('close', end);
      upstream.on('close', end);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    const addr = server.address();
    this.port = typeof addr === 'object' && addr ? addr.port : 0;
    this.#server = server;
    return this.port;
  }

  #track(s: Socket): void {
    this.#sockets.add(s);
    s.on('close', () => this.#sockets.delete(s));
  }

  /** Number of proxied sockets open now (both sides count). */
  get openSockets(): number {
    return this.#sockets.size;
  }

  /** Stops accepting (connections are refused) and resets every open connection. */
  async cut(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const s of this.#sockets) s.resetAndDestroy();
    this.#sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Accepts connections again on the same port. */
  async restore(): Promise<void> {
    if (!this.#server) await this.start();
  }

  async close(): Promise<void> {
    await this.cut();
  }
}

/** A fresh PostgreSQL database reached through a TcpProxy: the URL to give a node, and the direct one. */
export interface ProxiedDatabase {
  proxy: TcpProxy;
  /** The database's own URL (for the test's direct reads, and to drop it). */
  directUrl: string;
  /** The same database through the proxy. */
  viaProxy: string;
  /** Closes the proxy and drops the database. */
  close(): Promise<void>;
}

/** Creates a database on PAKMAN_TEST_POSTGRES_URL's server and a proxy in front of it. */
export async function proxiedDatabase(): Promise<ProxiedDatabase> {
  const target = new URL(POSTGRES_URL!);
  const proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
  await proxy.start();
  const directUrl = await createDatabase();
  const via = new URL(directUrl);
  via.hostname = '127.0.0.1';
  via.port = String(proxy.port);
  return {
    proxy,
    directUrl,
    viaProxy: via.toString(),
    async close() {
      await proxy.close();
      await dropDatabase(directUrl);
    },
  };
}
