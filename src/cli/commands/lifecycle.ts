/**
 * Key lifecycle commands (issue 16, pakman extensions): `rotate`, `usage`, `unused` and `policy` under
 * `orgs apikeys` (and `rotate`, `usage` under `globalapikeys`), and the `--expires` flag of create/update.
 */
import type { Command } from 'commander';
import type { ApiKey, KeyUsage } from '../../schema/responses.js';
import { type Column, type OutputFormat, out, printEntity, printJson, printList } from '../output.js';
import { die, EXIT } from '../shared.js';
import {
  type ClientContext,
  clientAction,
  fetchList,
  intFlag,
  orgIdOf,
  type PagingOpts,
  withClientOptions,
  withPaging,
} from './client.js';
import { API_KEY_COLUMNS } from './columns.js';

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/** Seconds of a duration: `90`, `90s`, `15m`, `1h`, `7d`, `2w`; a usage error otherwise. */
export function parseDuration(flag: string, v: string): number {
  const m = /^([0-9]{1,10})([smhdw]?)$/.exec(v.trim());
  if (!m) die(`--${flag} must be a duration such as 90s, 15m, 1h or 7d, got '${v}'`, EXIT.usage);
  return Number(m[1]) * UNITS[m[2] || 's']!;
}

/**
 * `--expires`: an ISO-8601 UTC time (sent as given; the server checks it), a duration from now (`30d`),
 * or, where `never` is allowed (update), `never` to clear it (null).
 */
export function parseExpires(v: string, allowNever: boolean, now = Date.now()): string | null {
  if (allowNever && v === 'never') return null;
  if (/^[0-9]+[smhdw]?$/.test(v))
    return new Date(Math.floor(now / 1000) * 1000 + parseDuration('expires', v) * 1000)
      .toISOString()
      .replace('.000Z', 'Z');
  return v;
}

/** Key columns with the lifecycle fields, for the commands that show them. */
const LIFECYCLE_COLUMNS: Column<ApiKey>[] = [
  ...API_KEY_COLUMNS,
  { header: 'expires', value: (k) => (k.expiresAt ? `${k.expiresAt}${k.expired ? ' (expired)' : ''}` : '') },
  { header: 'last used', value: (k) => k.lastUsed ?? '' },
];

function printRotated(format: OutputFormat, key: ApiKey): void {
  if (format === 'json') {
    printJson(key);
    return;
  }
  const grace = key.graceEndsAt
    ? `The previous private key works until ${key.graceEndsAt}.`
    : 'The previous private key no longer works.';
  out(
    `API Key '${key.id}' rotated.\nPublic API Key ${key.publicKey}\nPrivate API Key ${key.privateKey}\n${grace}\n`,
  );
}

function printUsage(format: OutputFormat, u: KeyUsage): void {
  if (format === 'json') {
    printJson(u);
    return;
  }
  const columns: Column<KeyUsage['results'][number]>[] = [
    { header: 'start', value: (b) => b.start },
    { header: 'requests', value: (b) => b.count },
  ];
  printList(format, columns, { results: u.results, totalCount: u.results.length });
  out(`total ${u.total}; last used ${u.lastUsed ?? 'never'}\n`);
}

type UsageOpts = { start?: string; end?: string; granularity?: string };
const withUsageOptions = (c: Command) =>
  c
    .option('--start <time>', 'from (ISO-8601 UTC; default 24 hours, or 30 days DAILY, before --end)')
    .option('--end <time>', 'until (ISO-8601 UTC; default now)')
    .option('--granularity <g>', 'HOURLY (default) or DAILY');
const usageQuery = (o: UsageOpts) => ({
  start: o.start,
  end: o.end,
  granularity: o.granularity?.toUpperCase() as 'HOURLY' | 'DAILY' | undefined,
});

type Api = {
  rotate(keyId: string, graceSeconds: number): Promise<ApiKey>;
  usage(keyId: string, o: UsageOpts): Promise<KeyUsage>;
};

/** Registers `rotate <ID> --grace` and `usage <ID>` on `keys`, for org keys or global keys. */
export function registerRotateAndUsage(
  keys: Command,
  decorate: (c: Command) => Command,
  api: (ctx: ClientContext, opts: { orgId?: string }) => Api,
): void {
  decorate(
    withClientOptions(
      keys
        .command('rotate <apiKeyId>')
        .description('give a key a new private key (printed once); the old one works for --grace'),
    ),
  )
    .requiredOption('--grace <duration>', 'how long the old private key keeps working: 0 to 7d (e.g. 1h)')
    .action(
      clientAction(async (ctx, keyId: string, opts: { orgId?: string; grace: string }) => {
        const key = await api(ctx, opts).rotate(keyId, parseDuration('grace', opts.grace));
        printRotated(ctx.output, key);
      }),
    );
  decorate(
    withUsageOptions(
      withClientOptions(keys.command('usage <apiKeyId>').description("a key's requests per hour or day")),
    ),
  ).action(
    clientAction(async (ctx, keyId: string, opts: UsageOpts & { orgId?: string }) => {
      printUsage(ctx.output, await api(ctx, opts).usage(keyId, opts));
    }),
  );
}

/** Registers the org-only lifecycle commands: `unused` and `policy`. */
export function registerOrgLifecycle(keys: Command, orgOption: (c: Command) => Command): void {
  registerRotateAndUsage(keys, orgOption, (ctx, opts) => {
    const orgId = orgIdOf(opts.orgId, ctx);
    return {
      rotate: (keyId, graceSeconds) => ctx.client.orgApiKeys.rotate(orgId, keyId, { graceSeconds }),
      usage: (keyId, o) => ctx.client.orgApiKeys.usage(orgId, keyId, usageQuery(o)),
    };
  });
  withPaging(
    orgOption(withClientOptions(keys.command('unused').description('list keys not used for --days days'))),
  )
    .option('--days <n>', 'days without a use (default 30)')
    .action(
      clientAction(async (ctx, opts: { orgId?: string; days?: string } & PagingOpts) => {
        const orgId = orgIdOf(opts.orgId, ctx);
        const days = intFlag('days', opts.days);
        const list = await fetchList(
          opts,
          'unused API keys',
          (page) => ctx.client.orgApiKeys.unused(orgId, { ...page, days }),
          (itemsPerPage) =>
            ctx.client.core.pages(`/orgs/${encodeURIComponent(orgId)}/apiKeys/unused`, {
              itemsPerPage,
              days,
            }),
        );
        printList(ctx.output, LIFECYCLE_COLUMNS, list);
      }),
    );
  orgOption(
    withClientOptions(
      keys.command('policy').description("show the org's key policy, or set it with --max-lifetime"),
    ),
  )
    .option('--max-lifetime <duration>', 'longest lifetime of new keys (e.g. 90d), or none')
    .action(
      clientAction(async (ctx, opts: { orgId?: string; maxLifetime?: string }) => {
        const orgId = orgIdOf(opts.orgId, ctx);
        const policy =
          opts.maxLifetime === undefined
            ? await ctx.client.orgApiKeys.policy(orgId)
            : await ctx.client.orgApiKeys.setPolicy(orgId, {
                maxKeyLifetimeSeconds:
                  opts.maxLifetime === 'none' ? null : parseDuration('max-lifetime', opts.maxLifetime),
              });
        printEntity(
          ctx.output,
          [
            { header: 'org id', value: (p: typeof policy) => p.orgId },
            {
              header: 'max key lifetime (s)',
              value: (p: typeof policy) => p.maxKeyLifetimeSeconds ?? 'none',
            },
          ],
          policy,
        );
      }),
    );
}

/** The columns to show a key with (lifecycle fields when it has any). */
export function keyColumns(key: ApiKey): Column<ApiKey>[] {
  return key.expiresAt ? LIFECYCLE_COLUMNS : API_KEY_COLUMNS;
}
