/** `pakman orgs apikeys accesslists list|create|delete` (mongocli `iam organizations apiKeys accessLists`). */
import type { Command } from 'commander';
import type { AccessListAddBody } from '../../schema/bodies.js';
import { printDone, printList } from '../output.js';
import { die, EXIT } from '../shared.js';
import {
  clientAction,
  commaList,
  confirmDelete,
  fetchList,
  orgIdOf,
  type PagingOpts,
  withClientOptions,
  withPaging,
} from './client.js';
import { ACCESS_LIST_COLUMNS } from './columns.js';

type Opts = { orgId?: string; apiKey?: string };

/** Registers `accesslists` under `orgs apikeys`. */
export function registerAccessListCommands(keys: Command): void {
  const lists = keys
    .command('accesslists')
    .alias('accessLists')
    .description("manage an API key's IP access list");
  const common = (c: Command) =>
    withClientOptions(c)
      .option('--orgId <id>', 'organization (PAKMAN_ORG_ID or profile)')
      .option('--apiKey <id>', 'the API key id');
  const keyOf = (positional: string | undefined, opts: Opts) =>
    positional ?? opts.apiKey ?? die('the API key id is required (--apiKey)', EXIT.usage);

  withPaging(common(lists.command('list [apiKeyId]').alias('ls').description('list the entries'))).action(
    clientAction(async (ctx, keyArg: string | undefined, opts: Opts & PagingOpts) => {
      const orgId = orgIdOf(opts.orgId, ctx);
      const keyId = keyOf(keyArg, opts);
      const list = await fetchList(
        opts,
        'access list',
        (page) => ctx.client.accessLists.list(orgId, keyId, page),
        () => ctx.client.accessLists.pages(orgId, keyId),
      );
      printList(ctx.output, ACCESS_LIST_COLUMNS, list);
    }),
  );

  common(lists.command('create').description('add IP addresses or CIDR blocks'))
    .option('--ip <ips>', 'IP address(es), repeatable or comma-separated', commaList)
    .option('--cidr <blocks>', 'CIDR block(s), repeatable or comma-separated', commaList)
    .action(
      clientAction(async (ctx, opts: Opts & { ip?: string[]; cidr?: string[] }) => {
        const keyId = keyOf(undefined, opts);
        if (!opts.ip?.length && !opts.cidr?.length) die('give --ip or --cidr', EXIT.usage);
        if (opts.ip?.length && opts.cidr?.length) die('give --ip or --cidr, not both', EXIT.usage);
        const body: AccessListAddBody = [
          ...(opts.ip ?? []).map((ipAddress) => ({ ipAddress })),
          ...(opts.cidr ?? []).map((cidrBlock) => ({ cidrBlock })),
        ];
        const list = await ctx.client.accessLists.add(orgIdOf(opts.orgId, ctx), keyId, body);
        printDone(ctx.output, 'Created new access list entry(s).', list);
      }),
    );

  common(lists.command('delete <entry>').alias('rm').description('remove an IP address or CIDR block'))
    .option('--force', 'do not ask for confirmation')
    .action(
      clientAction(async (ctx, entry: string, opts: Opts & { force?: boolean }) => {
        const orgId = orgIdOf(opts.orgId, ctx);
        const keyId = keyOf(undefined, opts);
        if (!(await confirmDelete(`access list entry ${entry}`, opts.force))) return;
        await ctx.client.accessLists.delete(orgId, keyId, entry);
        printDone(ctx.output, `Access list entry '${entry}' deleted`, { deleted: true, entry });
      }),
    );
}
