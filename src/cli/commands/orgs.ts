/**
 * `pakman orgs list|describe|create|delete` (mongocli `iam organizations`), with `orgs ratelimit …` and
 * `orgs apikeys …` beneath.
 */
import type { Command } from 'commander';
import { printDone, printEntity, printList } from '../output.js';
import {
  clientAction,
  confirmDelete,
  fetchList,
  orgIdOf,
  type PagingOpts,
  withClientOptions,
  withPaging,
} from './client.js';
import { ORG_COLUMNS } from './columns.js';
import { registerOrgApiKeyCommands } from './orgApiKeys.js';
import { registerRateLimitCommands } from './rateLimits.js';

/** Registers `orgs` and its subcommands. */
export function registerOrgCommands(program: Command): void {
  const orgs = program.command('orgs').alias('organizations').description('manage organizations');

  withPaging(withClientOptions(orgs.command('list').description('list organizations')))
    .option('--name <name>', 'only the organization with this exact name')
    .action(
      clientAction(async ({ client, output }, opts: PagingOpts & { name?: string }) => {
        const list = await fetchList(
          opts,
          'organizations',
          (page) => client.orgs.list({ ...page, name: opts.name }),
          (itemsPerPage) => client.orgs.pages({ itemsPerPage, name: opts.name }),
        );
        printList(output, ORG_COLUMNS, list);
      }),
    );

  withClientOptions(orgs.command('describe <orgId>').description('show one organization')).action(
    clientAction(async ({ client, output }, orgId: string) => {
      printEntity(output, ORG_COLUMNS, await client.orgs.get(orgId));
    }),
  );

  withClientOptions(
    orgs.command('create <name>').description('create an organization (global owner)'),
  ).action(
    clientAction(async ({ client, output }, name: string) => {
      const org = await client.orgs.create({ name });
      printDone(output, `Organization '${org.id}' created.`, org);
    }),
  );

  withClientOptions(orgs.command('delete <orgId>').description('delete an organization without projects'))
    .option('--force', 'do not ask for confirmation')
    .action(
      clientAction(async ({ client, output }, orgId: string, opts: { force?: boolean }) => {
        if (!(await confirmDelete(`organization ${orgId}`, opts.force))) return;
        await client.orgs.delete(orgId);
        printDone(output, `Organization '${orgId}' deleted`, { deleted: true, id: orgId });
      }),
    );

  registerRateLimitCommands(orgs, "manage an organization's default rate limit for its keys", {
    arg: '[orgId]',
    decorate: (c) =>
      c.option('--orgId <id>', 'organization, instead of the argument (PAKMAN_ORG_ID or profile)'),
    describe: (id) => `organization '${id}'`,
    api: (ctx, arg, opts) => {
      const id = orgIdOf(arg ?? opts.orgId, ctx);
      return {
        id,
        get: () => ctx.client.orgs.rateLimit(id),
        set: (body) => ctx.client.orgs.setRateLimit(id, body),
        remove: () => ctx.client.orgs.deleteRateLimit(id),
      };
    },
  });
  registerOrgApiKeyCommands(orgs);
}
