/** Child processes of the benchmark (pakman, the baseline, the B5 writer) and their memory. */
import { type ChildProcess, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

/** A started child: its IPC port number (servers), every pid it runs (cluster workers too). */
export interface Child {
  proc: ChildProcess;
  port: number;
  pids: number[];
  stop(): Promise<void>;
}

/** Starts `bench/<script>` under tsx with `env`; resolves once it reports `ready`. */
export function startChild(
  script: string,
  env: Record<string, string>,
  nodeArgs: readonly string[] = [],
): Promise<Child> {
  const file = fileURLToPath(new URL(script, import.meta.url));
  const proc = fork(file, [], {
    execArgv: ['--import', 'tsx', ...nodeArgs],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) =>
      reject(new Error(`${script} exited with ${code} before it was ready`));
    proc.once('exit', onExit);
    proc.on('message', (m: { type?: string; port?: number; pids?: number[] }) => {
      if (m?.type !== 'ready') return;
      proc.off('exit', onExit);
      resolve({
        proc,
        port: m.port ?? 0,
        pids: m.pids ?? [proc.pid ?? 0],
        stop: () =>
          new Promise<void>((done) => {
            if (proc.exitCode !== null) return done();
            const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
            proc.once('exit', () => {
              clearTimeout(timer);
              done();
            });
            proc.send({ type: 'stop' });
          }),
      });
    });
  });
}

/** Resident set size of a process in bytes (Linux /proc), 0 when it is gone. */
export function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Total RSS of a child (all of its processes). */
export function rss(child: Child): number {
  return child.pids.reduce((sum, pid) => sum + rssOf(pid), 0);
}

/** Samples a child's total RSS every 100 ms until stopped; returns the peak. */
export function rssSampler(child: Child): { stop(): number } {
  let peak = rss(child);
  const timer = setInterval(() => {
    peak = Math.max(peak, rss(child));
  }, 100);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, rss(child));
    },
  };
}

/** CPU seconds (user + system) a child's processes have used so far (Linux /proc). */
export function cpuSeconds(child: Child): number {
  let ticks = 0;
  for (const pid of child.pids) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // gone
    }
  }
  return ticks / 100;
}

/**
 * The whole machine's CPU seconds so far (Linux /proc/stat, all cores): idle (with I/O wait) and stolen by
 * the hypervisor from this virtual machine. Sampled around a run, they say whether its cores were all busy
 * and whether something outside the machine took some of them.
 */
export function machineSeconds(): { idle: number; steal: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal …
  return { idle: ((f[3] ?? 0) + (f[4] ?? 0)) / 100, steal: (f[7] ?? 0) / 100 };
}

function pidCpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/**
 * CPU seconds used so far by the PostgreSQL backends serving the database of `url` (same machine, Linux
 * /proc): what the database spends on pakman's behalf, which pakman's own CPU time leaves out.
 */
export async function databaseCpuSeconds(url: string): Promise<Map<number, number>> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const { rows } = await c.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
    );
    return new Map(rows.map((r) => [r.pid, pidCpuSeconds(r.pid)]));
  } finally {
    await c.end();
  }
}

/** CPU seconds the backends used since `before` (backends that appeared since count from zero). */
export async function databaseCpuSince(url: string, before: Map<number, number>): Promise<number> {
  const now = await databaseCpuSeconds(url);
  let total = 0;
  for (const [pid, cpu] of now) total += cpu - (before.get(pid) ?? 0);
  return total;
}

/** Asks a bench server started with --expose-gc to collect its garbage; resolves when it has. */
export function collectGarbage(child: Child): Promise<void> {
  return new Promise((resolve) => {
    const onMessage = (m: { type?: string }) => {
      if (m?.type !== 'gc-done') return;
      child.proc.off('message', onMessage);
      resolve();
    };
    child.proc.on('message', onMessage);
    child.proc.send({ type: 'gc' });
  });
}
