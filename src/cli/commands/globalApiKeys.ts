/** `pakman globalapikeys list|describe|create|update|delete` (mongocli `iam globalApiKeys`). */
import type { Command } from 'commander';
import type { ApiKeyUpdateBody } from '../../schema/bodies.js';
import type { GlobalRole } from '../../schema/roles.js';
import { printDone, printEntity, printList } from '../output.js';
import { die, EXIT } from '../shared.js';
import {
  clientAction,
  commaList,
  confirmDelete,
  fetchList,
  type PagingOpts,
  withClientOptions,
  withPaging,
} from './client.js';
import { API_KEY_COLUMNS } from './columns.js';
import { printCreatedKey } from './keys.js';
import { keyColumns, parseExpires, registerRotateAndUsage } from './lifecycle.js';
import { registerRateLimitCommands } from './rateLimits.js';

/** Registers `globalapikeys` and its subcommands. */
export function registerGlobalApiKeyCommands(program: Command): void {
  const keys = program
    .command('globalapikeys')
    .alias('globalApiKeys')
    .description('manage global (Ops Manager administration) API keys');

  withPaging(withClientOptions(keys.command('list').alias('ls').description('list global keys'))).action(
    clientAction(async ({ client, output }, opts: PagingOpts) => {
      const list = await fetchList(
        opts,
        'global API keys',
        (page) => client.globalApiKeys.list(page),
        (itemsPerPage) => client.globalApiKeys.pages({ itemsPerPage }),
      );
      printList(output, API_KEY_COLUMNS, list);
    }),
  );

  withClientOptions(keys.command('describe <apiKeyId>').description('show one global key')).action(
    clientAction(async ({ client, output }, keyId: string) => {
      const key = await client.globalApiKeys.get(keyId);
      printEntity(output, keyColumns(key), key);
    }),
  );

  withClientOptions(keys.command('create').description('create a global key (prints its private key once)'))
    .requiredOption('--desc <text>', 'description, 1 to 250 characters')
    .requiredOption('--role <roles>', 'global role(s), repeatable or comma-separated', commaList)
    .option(
      '--expires <time>',
      'refuse the key from then on: ISO-8601 UTC time, or a duration from now (30d)',
    )
    .action(
      clientAction(async ({ client, output }, opts: { desc: string; role: string[]; expires?: string }) => {
        const key = await client.globalApiKeys.create({
          desc: opts.desc,
          roles: opts.role as GlobalRole[],
          ...(opts.expires !== undefined ? { expiresAt: parseExpires(opts.expires, false) } : {}),
        });
        printCreatedKey(output, key);
      }),
    );

  withClientOptions(
    keys.command('update <apiKeyId>').description("change a global key's description or roles"),
  )
    .option('--desc <text>', 'new description')
    .option(
      '--role <roles>',
      'global roles replacing the current ones, repeatable or comma-separated',
      commaList,
    )
    .option('--expires <time>', 'new expiry: ISO-8601 UTC time, a duration from now (30d), or never')
    .action(
      clientAction(
        async (
          { client, output },
          keyId: string,
          opts: { desc?: string; role?: string[]; expires?: string },
        ) => {
          if (opts.desc === undefined && opts.role === undefined && opts.expires === undefined)
            die('give --desc, --role and/or --expires', EXIT.usage);
          const body: ApiKeyUpdateBody = {};
          if (opts.desc !== undefined) body.desc = opts.desc;
          if (opts.role !== undefined) body.roles = opts.role as GlobalRole[];
          if (opts.expires !== undefined) body.expiresAt = parseExpires(opts.expires, true);
          const key = await client.globalApiKeys.update(keyId, body);
          printEntity(output, keyColumns(key), key);
        },
      ),
    );

  registerRotateAndUsage(
    keys,
    (c) => c,
    (ctx) => ({
      rotate: (keyId, graceSeconds) => ctx.client.globalApiKeys.rotate(keyId, { graceSeconds }),
      usage: (keyId, o) =>
        ctx.client.globalApiKeys.usage(keyId, {
          start: o.start,
          end: o.end,
          granularity: o.granularity?.toUpperCase() as 'HOURLY' | 'DAILY' | undefined,
        }),
    }),
  );

  registerRateLimitCommands(keys, "manage a global key's rate limit", {
    arg: '<apiKeyId>',
    decorate: (c) => c,
    describe: (id) => `global API key '${id}'`,
    api: (ctx, keyId) => {
      const id = keyId!;
      return {
        id,
        get: () => ctx.client.globalApiKeys.rateLimit(id),
        set: (body) => ctx.client.globalApiKeys.setRateLimit(id, body),
        remove: () => ctx.client.globalApiKeys.deleteRateLimit(id),
      };
    },
  });

  withClientOptions(keys.command('delete <apiKeyId>').alias('rm').description('delete a global key'))
    .option('--force', 'do not ask for confirmation')
    .action(
      clientAction(async ({ client, output }, keyId: string, opts: { force?: boolean }) => {
        if (!(await confirmDelete(`global API key ${keyId}`, opts.force))) return;
        await client.globalApiKeys.delete(keyId);
        printDone(output, `API Key '${keyId}' deleted`, { deleted: true, id: keyId });
      }),
    );
}
