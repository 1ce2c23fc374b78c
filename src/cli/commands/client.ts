/**
 * Plumbing shared by the client commands: the connection options every one of them takes, credentials
 * from flags, environment or profile (in that order), paging flags, and errors mapped to one line and an
 * exit code.
 */
import { type Command, Option } from 'commander';
import { PakmanApiError, PakmanClient, PakmanConnectionError } from '../../client/index.js';
import type { List } from '../../schema/responses.js';
import { type OutputFormat, Progress } from '../output.js';
import { die, EXIT } from '../shared.js';
import { type Profile, readProfile } from './config.js';

/** The options every client command accepts. */
export interface ClientOpts {
  baseUrl?: string;
  publicKey?: string;
  privateKey?: string;
  profile?: string;
  output: OutputFormat;
}

/** Paging options of list commands. */
export interface PagingOpts {
  page?: string;
  limit?: string;
  all?: boolean;
}

/** What an action gets: a client, the output format and the profile (for default org/project ids). */
export interface ClientContext {
  client: PakmanClient;
  output: OutputFormat;
  profile: Profile;
}

/** Adds the connection and output options to a leaf command. */
export function withClientOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--base-url <url>', 'server URL (PAKMAN_BASE_URL or profile)'))
    .addOption(new Option('--public-key <key>', 'API public key (PAKMAN_PUBLIC_API_KEY or profile)'))
    .addOption(new Option('--private-key <key>', 'API private key (PAKMAN_PRIVATE_API_KEY or profile)'))
    .addOption(
      new Option('-P, --profile <name>', 'profile of `pakman config` (PAKMAN_PROFILE, default "default")'),
    )
    .addOption(
      new Option('-o, --output <format>', 'output format').choices(['table', 'json']).default('table'),
    );
}

/** Adds `--page`, `--limit` and `--all` to a list command. */
export function withPaging(cmd: Command): Command {
  return cmd
    .option('--page <n>', 'page number (default 1)')
    .option('--limit <n>', 'items per page, 1..500 (default 100)')
    .option('--all', 'fetch every page');
}

/** Resolves credentials (flags, then environment, then the profile file) and builds a client. */
export function connect(opts: ClientOpts): ClientContext {
  const profile = readProfile(opts.profile ?? process.env.PAKMAN_PROFILE ?? 'default');
  const env = process.env;
  const baseUrl = opts.baseUrl ?? env.PAKMAN_BASE_URL ?? profile.baseUrl;
  const publicKey = opts.publicKey ?? env.PAKMAN_PUBLIC_API_KEY ?? profile.publicKey;
  const privateKey = opts.privateKey ?? env.PAKMAN_PRIVATE_API_KEY ?? profile.privateKey;
  if (!baseUrl) die('no server: pass --base-url, set PAKMAN_BASE_URL or run `pakman config`', EXIT.usage);
  if (!publicKey || !privateKey)
    die(
      'no credentials: pass --public-key and --private-key, set PAKMAN_PUBLIC_API_KEY and PAKMAN_PRIVATE_API_KEY, or run `pakman config`',
      EXIT.usage,
    );
  let client: PakmanClient;
  try {
    client = new PakmanClient({ baseUrl, credentials: { publicKey, privateKey }, userAgent: 'pakman-cli' });
  } catch {
    die(`--base-url: not a URL: ${baseUrl}`, EXIT.usage);
  }
  return { client, output: opts.output, profile };
}

/** A positive integer flag, or a usage error. */
export function intFlag(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^[1-9][0-9]{0,8}$/.test(v)) die(`--${name} must be a positive integer, got '${v}'`, EXIT.usage);
  return Number(v);
}

/** The org id from `--orgId`, PAKMAN_ORG_ID or the profile; a usage error when none. */
export function orgIdOf(v: string | undefined, ctx: ClientContext): string {
  const id = v ?? process.env.PAKMAN_ORG_ID ?? ctx.profile.orgId;
  return id ?? die('--orgId is required (or PAKMAN_ORG_ID, or orgId in the profile)', EXIT.usage);
}

/** The project id from `--projectId`, PAKMAN_PROJECT_ID or the profile; a usage error when none. */
export function projectIdOf(v: string | undefined, ctx: ClientContext): string {
  const id = v ?? process.env.PAKMAN_PROJECT_ID ?? ctx.profile.projectId;
  return id ?? die('--projectId is required (or PAKMAN_PROJECT_ID, or projectId in the profile)', EXIT.usage);
}

/** Values of a repeatable, comma-separable flag (`--role A,B --role C`). */
export function commaList(value: string, previous: string[] = []): string[] {
  return [
    ...previous,
    ...value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  ];
}

/**
 * One page, or with `--all` every page (following `next` links) gathered into one list, with progress
 * on stderr when it is a terminal.
 */
export async function fetchList<T>(
  paging: PagingOpts,
  label: string,
  one: (page: { pageNum?: number; itemsPerPage?: number }) => Promise<List<T>>,
  every: (itemsPerPage: number | undefined) => AsyncGenerator<List<T>, void, undefined>,
): Promise<{ results: T[]; totalCount: number; links?: List<T>['links'] }> {
  const itemsPerPage = intFlag('limit', paging.limit);
  if (!paging.all) return one({ pageNum: intFlag('page', paging.page), itemsPerPage });
  if (paging.page !== undefined) die('--all and --page cannot be combined', EXIT.usage);
  const progress = new Progress(label);
  const results: T[] = [];
  let totalCount = 0;
  try {
    for await (const page of every(itemsPerPage)) {
      results.push(...page.results);
      totalCount = page.totalCount;
      progress.update(results.length, totalCount);
    }
  } finally {
    progress.done();
  }
  return { results, totalCount };
}

/**
 * One line for an error, naming errorCode and detail (and how long to wait when the server said, as for
 * 429 RATE_LIMITED), and the exit code it maps to.
 */
export function describeError(e: unknown): { line: string; code: number } {
  if (e instanceof PakmanApiError) {
    const wait = e.retryAfter === null ? '' : ` Retry after ${e.retryAfter} seconds.`;
    if (e.errorCode) return { line: `${e.errorCode}: ${e.detail}${wait}`, code: EXIT.error };
    const hint = e.status === 401 ? ' Check the public and private key.' : '';
    return { line: `${e.status} ${e.reason}: ${e.detail}${hint}`, code: EXIT.error };
  }
  if (e instanceof PakmanConnectionError) return { line: e.message, code: EXIT.error };
  return { line: (e as Error)?.message ?? String(e), code: EXIT.error };
}

/**
 * Wraps an action: connects with the command's options, runs it, and turns any error into one line on
 * stderr and exit code 1. Commander passes the command object last; its merged options are used.
 */
export function clientAction<A extends unknown[]>(
  fn: (ctx: ClientContext, ...args: A) => Promise<void>,
): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    const cmd = args[args.length - 1] as Command;
    const ctx = connect(cmd.opts() as ClientOpts);
    try {
      await fn(ctx, ...(args.slice(0, -1) as A));
    } catch (e) {
      const { line, code } = describeError(e);
      die(line, code);
    }
  };
}

/**
 * Asks before a delete, as mongocli does: `--force` skips the question; without a terminal to ask on,
 * refusing is safer than guessing, so it is a usage error.
 */
export async function confirmDelete(what: string, force: boolean | undefined): Promise<boolean> {
  if (force) return true;
  if (!process.stdin.isTTY)
    die(`refusing to delete ${what} without --force (no terminal to confirm on)`, EXIT.usage);
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`Are you sure you want to delete: ${what}? [y/N] `)).trim());
  } finally {
    rl.close();
  }
}
