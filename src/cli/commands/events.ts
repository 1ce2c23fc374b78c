/** `pakman events list`: the audit log of an organization or a project (mongocli `events`). */
import type { Command } from 'commander';
import type { EventScope } from '../../client/index.js';
import { printList } from '../output.js';
import { die, EXIT } from '../shared.js';
import {
  clientAction,
  commaList,
  fetchList,
  type PagingOpts,
  withClientOptions,
  withPaging,
} from './client.js';
import { EVENT_COLUMNS } from './columns.js';

type Opts = PagingOpts & {
  orgId?: string;
  projectId?: string;
  type?: string[];
  minDate?: string;
  maxDate?: string;
};

/** Registers `events` and `events list`. */
export function registerEventCommands(program: Command): void {
  const events = program.command('events').description('read the audit log');

  withPaging(
    withClientOptions(events.command('list').alias('ls').description("list an org's or a project's events")),
  )
    .option('--orgId <id>', "the organization's events")
    .option('--projectId <id>', "the project's events")
    .option('--type <types>', 'event type(s), repeatable or comma-separated', commaList)
    .option('--minDate <date>', 'events created at or after this ISO-8601 date')
    .option('--maxDate <date>', 'events created at or before this ISO-8601 date')
    .action(
      clientAction(async ({ client, output, profile }, opts: Opts) => {
        if (opts.orgId && opts.projectId) die('give --orgId or --projectId, not both', EXIT.usage);
        const orgId =
          opts.orgId ?? (opts.projectId ? undefined : (process.env.PAKMAN_ORG_ID ?? profile.orgId));
        const scope: EventScope | undefined = opts.projectId
          ? { projectId: opts.projectId }
          : orgId
            ? { orgId }
            : undefined;
        if (!scope) die('--orgId or --projectId is required', EXIT.usage);
        const filter = { eventType: opts.type, minDate: opts.minDate, maxDate: opts.maxDate };
        const list = await fetchList(
          opts,
          'events',
          (page) => client.events.list(scope, { ...filter, ...page }),
          (itemsPerPage) => client.events.pages(scope, { ...filter, itemsPerPage }),
        );
        printList(output, EVENT_COLUMNS, list);
      }),
    );
}
