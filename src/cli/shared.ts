/** Helpers shared by the `pakman` subcommands. */
import { fromEnv, type RawConfig } from '../server/config.js';

/** Environment settings overridden by the flags that were given. */
export function configFrom(opts: RawConfig): RawConfig {
  const raw = fromEnv();
  for (const [k, v] of Object.entries(opts)) if (v !== undefined) (raw as Record<string, string>)[k] = v;
  return raw;
}

/** Exit codes: 0 success, 1 API or runtime error, 2 usage error. */
export const EXIT = { ok: 0, error: 1, usage: 2 } as const;

/** Prints one line to stderr and exits. */
export function die(message: string, code: number = EXIT.error): never {
  process.stderr.write(`pakman: ${message}\n`);
  process.exit(code);
}
