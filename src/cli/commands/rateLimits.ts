/**
 * Rate-limit commands (issue 17, pakman extension): `ratelimit get|set|delete` under `orgs` (the org's
 * default for its keys), `orgs apikeys` (a key's own, which wins) and `globalapikeys` (a global key's).
 * `set` checks `--requests` and `--period` against the server's own bounds before sending anything.
 */
import type { Command } from 'commander';
import { RateLimitBody } from '../../schema/bodies.js';
import type { RateLimit } from '../../schema/responses.js';
import { type Column, printDone, printEntity } from '../output.js';
import { die, EXIT } from '../shared.js';
import { type ClientContext, clientAction, confirmDelete, withClientOptions } from './client.js';
import { parseDuration } from './lifecycle.js';

const { requests: REQUESTS, periodSeconds: PERIOD } = RateLimitBody.properties;

const COLUMNS: Column<RateLimit>[] = [
  { header: 'requests', value: (l) => l.requests },
  { header: 'period (s)', value: (l) => l.periodSeconds },
];

/**
 * The body of `set` from its flags: `--requests` a whole number in the server's range, `--period` a
 * duration (`60`, `90s`, `15m`, `1h`, `1d`) in its range; a usage error otherwise.
 */
export function parseRateLimit(requests: string, period: string): RateLimitBody {
  const min = REQUESTS.minimum!;
  const max = REQUESTS.maximum!;
  const n = /^[0-9]{1,10}$/.test(requests.trim()) ? Number(requests) : Number.NaN;
  if (!(n >= min && n <= max))
    die(`--requests must be a whole number from ${min} to ${max}, got '${requests}'`, EXIT.usage);
  const seconds = parseDuration('period', period);
  if (seconds < PERIOD.minimum! || seconds > PERIOD.maximum!)
    die(
      `--period must be from ${PERIOD.minimum} second to ${PERIOD.maximum} seconds (1d), got '${period}'`,
      EXIT.usage,
    );
  return { requests: n, periodSeconds: seconds };
}

/** The three calls of one limit, bound to its target. */
export interface LimitApi {
  get(): Promise<RateLimit>;
  set(body: RateLimitBody): Promise<RateLimit>;
  remove(): Promise<void>;
}

/** How a parent command names the limit its `ratelimit` commands act on. */
export interface LimitTargetSpec {
  /** The positional argument, e.g. `<apiKeyId>` or `[orgId]`. */
  arg: string;
  /** Adds the parent's own options (e.g. `--orgId`). */
  decorate: (c: Command) => Command;
  /** What the target is called in messages, e.g. `API key 5f…`. */
  describe: (id: string) => string;
  /** Resolves the target (a usage error when an id is missing) and binds the calls to it. */
  api: (ctx: ClientContext, arg: string | undefined, opts: { orgId?: string }) => { id: string } & LimitApi;
}

/** Registers `ratelimit get|set|delete` under `parent`; `description` is the `ratelimit` command's. */
export function registerRateLimitCommands(
  parent: Command,
  description: string,
  target: LimitTargetSpec,
): void {
  const limits = parent
    .command('ratelimit')
    .alias('rateLimit')
    .description(`${description} (pakman extension)`);
  const leaf = (name: string, description: string) =>
    target.decorate(withClientOptions(limits.command(`${name} ${target.arg}`).description(description)));

  leaf('get', 'show the limit').action(
    clientAction(async (ctx, arg: string | undefined, opts: { orgId?: string }) => {
      printEntity(ctx.output, COLUMNS, await target.api(ctx, arg, opts).get());
    }),
  );

  leaf('set', 'set or replace the limit: at most --requests in a burst, refilled at --requests per --period')
    .requiredOption('--requests <n>', `requests per period, ${REQUESTS.minimum} to ${REQUESTS.maximum}`)
    .requiredOption('--period <duration>', 'the period: seconds or a duration, 1s to 1d (e.g. 60, 15m, 1h)')
    .action(
      clientAction(
        async (ctx, arg: string | undefined, opts: { orgId?: string; requests: string; period: string }) => {
          const body = parseRateLimit(opts.requests, opts.period);
          printEntity(ctx.output, COLUMNS, await target.api(ctx, arg, opts).set(body));
        },
      ),
    );

  leaf('delete', 'remove the limit')
    .alias('rm')
    .option('--force', 'do not ask for confirmation')
    .action(
      clientAction(async (ctx, arg: string | undefined, opts: { orgId?: string; force?: boolean }) => {
        const api = target.api(ctx, arg, opts);
        const name = `the rate limit of ${target.describe(api.id)}`;
        if (!(await confirmDelete(name, opts.force))) return;
        await api.remove();
        printDone(ctx.output, `Rate limit of ${target.describe(api.id)} deleted`, {
          deleted: true,
          id: api.id,
        });
      }),
    );
}
