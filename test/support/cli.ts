/**
 * Runs the real `pakman` CLI (`node --import tsx src/cli/index.ts`) as a child process, asynchronously so
 * the in-process test server it talks to keeps serving.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** What a CLI run left: its exit code and output. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `pakman …args` with exactly `env` (no stdin). */
export function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', ...args], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
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
  });
}

/** The environment without any PAKMAN_* setting of the machine running the tests. */
export function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PAKMAN_')));
}

/**
 * The environment of a CLI run against a test server: signed with `creds`, `orgId` as the default org, a
 * config file in the server's data directory (none of the machine's), no colours.
 */
export function cliEnv(
  server: { origin: string; dataDir: string },
  creds: { publicKey: string; privateKey: string },
  orgId: string,
): NodeJS.ProcessEnv {
  return {
    ...cleanEnv(),
    PAKMAN_BASE_URL: server.origin,
    PAKMAN_PUBLIC_API_KEY: creds.publicKey,
    PAKMAN_PRIVATE_API_KEY: creds.privateKey,
    PAKMAN_ORG_ID: orgId,
    PAKMAN_CONFIG_FILE: `${server.dataDir}/config.json`,
    NO_COLOR: '1',
  };
}
