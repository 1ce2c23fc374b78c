/** `pakman globalaccesslists list|describe|create|delete` (mongocli `iam globalAccessLists`). */
import type { Command } from 'commander';
import { printDone, printEntity, printList } from '../output.js';
import {
  clientAction,
  confirmDelete,
  fetchList,
  type PagingOpts,
  withClientOptions,
  withPaging,
} from './client.js';
import { GLOBAL_ACCESS_LIST_COLUMNS } from './columns.js';

/** Registers `globalaccesslists` and its subcommands. */
export function registerGlobalAccessListCommands(program: Command): void {
  const lists = program
    .command('globalaccesslists')
    .alias('globalAccessLists')
    .description('manage the global access list (addresses global keys may be used from)');

  withPaging(withClientOptions(lists.command('list').alias('ls').description('list entries'))).action(
    clientAction(async ({ client, output }, opts: PagingOpts) => {
      const list = await fetchList(
        opts,
        'global access list',
        (page) => client.globalAccessList.list(page),
        () => client.globalAccessList.pages(),
      );
      printList(output, GLOBAL_ACCESS_LIST_COLUMNS, list);
    }),
  );

  withClientOptions(lists.command('describe <id>').description('show one entry')).action(
    clientAction(async ({ client, output }, id: string) => {
      printEntity(output, GLOBAL_ACCESS_LIST_COLUMNS, await client.globalAccessList.get(id));
    }),
  );

  withClientOptions(lists.command('create').description('add a CIDR block'))
    .requiredOption('--cidr <block>', 'IP address or CIDR block')
    .requiredOption('--desc <text>', 'description, 1 to 250 characters')
    .action(
      clientAction(async ({ client, output }, opts: { cidr: string; desc: string }) => {
        const entry = await client.globalAccessList.create({ cidrBlock: opts.cidr, description: opts.desc });
        printDone(output, `Global access list entry '${entry.id}' created.`, entry);
      }),
    );

  withClientOptions(lists.command('delete <id>').alias('rm').description('remove an entry'))
    .option('--force', 'do not ask for confirmation')
    .action(
      clientAction(async ({ client, output }, id: string, opts: { force?: boolean }) => {
        if (!(await confirmDelete(`global access list entry ${id}`, opts.force))) return;
        await client.globalAccessList.delete(id);
        printDone(output, `Global access list entry '${id}' deleted`, { deleted: true, id });
      }),
    );
}
