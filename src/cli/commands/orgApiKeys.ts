/** `pakman orgs apikeys list|describe|create|update|delete` (mongocli `iam organizations apiKeys`). */
import type { Command } from 'commander';
import type { ApiKeyUpdateBody } from '../../schema/bodies.js';
import type { OrgRole } from '../../schema/roles.js';
import { printDone, printEntity, printList } from '../output.js';
import { die, EXIT } from '../shared.js';
import { registerAccessListCommands } from './accessLists.js';
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
import { API_KEY_COLUMNS } from './columns.js';
import { printCreatedKey } from './keys.js';
import { keyColumns, parseExpires, registerOrgLifecycle } from './lifecycle.js';
import { registerRateLimitCommands } from './rateLimits.js';

type OrgOpt = { orgId?: string };

/** Registers `apikeys` under `orgs`. */
export function registerOrgApiKeyCommands(orgs: Command): void {
  const keys = orgs.command('apikeys').alias('apiKeys').description("manage an organization's API keys");
  const orgOption = (c: Command) => c.option('--orgId <id>', 'organization (PAKMAN_ORG_ID or profile)');

  withPaging(
    orgOption(withClientOptions(keys.command('list').alias('ls').description('list the keys'))),
  ).action(
    clientAction(async (ctx, opts: OrgOpt & PagingOpts) => {
      const orgId = orgIdOf(opts.orgId, ctx);
      const list = await fetchList(
        opts,
        'API keys',
        (page) => ctx.client.orgApiKeys.list(orgId, page),
        (itemsPerPage) => ctx.client.orgApiKeys.pages(orgId, { itemsPerPage }),
      );
      printList(ctx.output, API_KEY_COLUMNS, list);
    }),
  );

  orgOption(withClientOptions(keys.command('describe <apiKeyId>').description('show one key'))).action(
    clientAction(async (ctx, keyId: string, opts: OrgOpt) => {
      const key = await ctx.client.orgApiKeys.get(orgIdOf(opts.orgId, ctx), keyId);
      printEntity(ctx.output, keyColumns(key), key);
    }),
  );

  orgOption(
    withClientOptions(keys.command('create').description('create a key (prints its private key once)')),
  )
    .requiredOption('--desc <text>', 'description, 1 to 250 characters')
    .requiredOption('--role <roles>', 'org role(s), repeatable or comma-separated', commaList)
    .option(
      '--expires <time>',
      'refuse the key from then on: ISO-8601 UTC time, or a duration from now (30d)',
    )
    .action(
      clientAction(async (ctx, opts: OrgOpt & { desc: string; role: string[]; expires?: string }) => {
        const key = await ctx.client.orgApiKeys.create(orgIdOf(opts.orgId, ctx), {
          desc: opts.desc,
          roles: opts.role as OrgRole[],
          ...(opts.expires !== undefined ? { expiresAt: parseExpires(opts.expires, false) } : {}),
        });
        printCreatedKey(ctx.output, key);
      }),
    );

  orgOption(
    withClientOptions(
      keys.command('update <apiKeyId>').description("change a key's description or org roles"),
    ),
  )
    .option('--desc <text>', 'new description')
    .option(
      '--role <roles>',
      'org roles replacing the current ones, repeatable or comma-separated',
      commaList,
    )
    .option('--expires <time>', 'new expiry: ISO-8601 UTC time, a duration from now (30d), or never')
    .action(
      clientAction(
        async (ctx, keyId: string, opts: OrgOpt & { desc?: string; role?: string[]; expires?: string }) => {
          if (opts.desc === undefined && opts.role === undefined && opts.expires === undefined)
            die('give --desc, --role and/or --expires', EXIT.usage);
          const body: ApiKeyUpdateBody = {};
          if (opts.desc !== undefined) body.desc = opts.desc;
          if (opts.role !== undefined) body.roles = opts.role as OrgRole[];
          if (opts.expires !== undefined) body.expiresAt = parseExpires(opts.expires, true);
          const key = await ctx.client.orgApiKeys.update(orgIdOf(opts.orgId, ctx), keyId, body);
          printEntity(ctx.output, keyColumns(key), key);
        },
      ),
    );

  orgOption(withClientOptions(keys.command('delete <apiKeyId>').alias('rm').description('delete a key')))
    .option('--force', 'do not ask for confirmation')
    .action(
      clientAction(async (ctx, keyId: string, opts: OrgOpt & { force?: boolean }) => {
        const orgId = orgIdOf(opts.orgId, ctx);
        if (!(await confirmDelete(`API key ${keyId}`, opts.force))) return;
        await ctx.client.orgApiKeys.delete(orgId, keyId);
        printDone(ctx.output, `API Key '${keyId}' deleted`, { deleted: true, id: keyId });
      }),
    );

  registerOrgLifecycle(keys, orgOption);
  registerRateLimitCommands(keys, "manage a key's own rate limit (it wins over the org's default)", {
    arg: '<apiKeyId>',
    decorate: orgOption,
    describe: (id) => `API key '${id}'`,
    api: (ctx, keyId, opts) => {
      const orgId = orgIdOf(opts.orgId, ctx);
      const id = keyId!;
      return {
        id,
        get: () => ctx.client.orgApiKeys.rateLimit(orgId, id),
        set: (body) => ctx.client.orgApiKeys.setRateLimit(orgId, id, body),
        remove: () => ctx.client.orgApiKeys.deleteRateLimit(orgId, id),
      };
    },
  });
  registerAccessListCommands(keys);
}
