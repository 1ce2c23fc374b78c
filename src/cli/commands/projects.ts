/** `pakman projects list|describe|create|delete`, with `projects apikeys …` beneath (mongocli `iam projects`). */
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
import { PROJECT_COLUMNS } from './columns.js';
import { registerProjectApiKeyCommands } from './projectApiKeys.js';

/** Registers `projects` and its subcommands. */
export function registerProjectCommands(program: Command): void {
  const projects = program.command('projects').alias('groups').description('manage projects');

  withPaging(withClientOptions(projects.command('list').alias('ls').description('list projects')))
    .option('--orgId <id>', "only this organization's projects")
    .action(
      clientAction(async ({ client, output }, opts: PagingOpts & { orgId?: string }) => {
        const orgId = opts.orgId;
        const list = await fetchList(
          opts,
          'projects',
          (page) => (orgId ? client.orgs.projects(orgId, page) : client.projects.list(page)),
          (itemsPerPage) =>
            orgId
              ? client.orgs.projectPages(orgId, { itemsPerPage })
              : client.projects.pages({ itemsPerPage }),
        );
        printList(output, PROJECT_COLUMNS, list);
      }),
    );

  withClientOptions(projects.command('describe <projectId>').description('show one project')).action(
    clientAction(async ({ client, output }, projectId: string) => {
      printEntity(output, PROJECT_COLUMNS, await client.projects.get(projectId));
    }),
  );

  withClientOptions(projects.command('create <name>').description('create a project in an organization'))
    .requiredOption('--orgId <id>', 'organization of the project')
    .action(
      clientAction(async ({ client, output }, name: string, opts: { orgId: string }) => {
        const project = await client.projects.create({ name, orgId: opts.orgId });
        printDone(output, `Project '${project.id}' created.`, project);
      }),
    );

  withClientOptions(projects.command('delete <projectId>').alias('rm').description('delete a project'))
    .option('--force', 'do not ask for confirmation')
    .action(
      clientAction(async ({ client, output }, projectId: string, opts: { force?: boolean }) => {
        if (!(await confirmDelete(`project ${projectId}`, opts.force))) return;
        await client.projects.delete(projectId);
        printDone(output, `Project '${projectId}' deleted`, { deleted: true, id: projectId });
      }),
    );

  registerProjectApiKeyCommands(projects);
}
