/** `pakman projects apikeys list|create|assign|delete` (mongocli `iam projects apiKeys`). */
import type { Command } from 'commander';
import type { GroupRole } from '../../schema/roles.js';
import { printDone, printEntity, printList } from '../output.js';
import {
  clientAction,
  commaList,
  confirmDelete,
  fetchList,
  type PagingOpts,
  projectIdOf,
  withClientOptions,
  withPaging,
} from './client.js';
import { API_KEY_COLUMNS } from './columns.js';
import { printCreatedKey } from './keys.js';

type ProjectOpt = { projectId?: string };

/** Registers `apikeys` under `projects`. */
export function registerProjectApiKeyCommands(projects: Command): void {
  const keys = projects.command('apikeys').alias('apiKeys').description("manage a project's API keys");
  const common = (c: Command) =>
    withClientOptions(c).option('--projectId <id>', 'project (PAKMAN_PROJECT_ID or profile)');

  withPaging(
    common(keys.command('list').alias('ls').description('list the keys with a role in the project')),
  ).action(
    clientAction(async (ctx, opts: ProjectOpt & PagingOpts) => {
      const projectId = projectIdOf(opts.projectId, ctx);
      const list = await fetchList(
        opts,
        'API keys',
        (page) => ctx.client.projectApiKeys.list(projectId, page),
        (itemsPerPage) => ctx.client.projectApiKeys.pages(projectId, { itemsPerPage }),
      );
      printList(ctx.output, API_KEY_COLUMNS, list);
    }),
  );

  common(keys.command('create').description("create a key in the project's organization with project roles"))
    .requiredOption('--desc <text>', 'description, 1 to 250 characters')
    .requiredOption('--role <roles>', 'project role(s), repeatable or comma-separated', commaList)
    .action(
      clientAction(async (ctx, opts: ProjectOpt & { desc: string; role: string[] }) => {
        const key = await ctx.client.projectApiKeys.create(projectIdOf(opts.projectId, ctx), {
          desc: opts.desc,
          roles: opts.role as GroupRole[],
        });
        printCreatedKey(ctx.output, key);
      }),
    );

  common(
    keys
      .command('assign <apiKeyId>')
      .description('give an org key project roles (replacing its roles there)'),
  )
    .requiredOption('--role <roles>', 'project role(s), repeatable or comma-separated', commaList)
    .action(
      clientAction(async (ctx, keyId: string, opts: ProjectOpt & { role: string[] }) => {
        const key = await ctx.client.projectApiKeys.assign(projectIdOf(opts.projectId, ctx), keyId, {
          roles: opts.role as GroupRole[],
        });
        if (ctx.output === 'json') printEntity(ctx.output, API_KEY_COLUMNS, key);
        else printDone(ctx.output, 'API Key successfully assigned.', key);
      }),
    );

  common(keys.command('delete <apiKeyId>').alias('rm').description("remove a key's roles in the project"))
    .option('--force', 'do not ask for confirmation')
    .action(
      clientAction(async (ctx, keyId: string, opts: ProjectOpt & { force?: boolean }) => {
        const projectId = projectIdOf(opts.projectId, ctx);
        if (!(await confirmDelete(`API key ${keyId} from project ${projectId}`, opts.force))) return;
        await ctx.client.projectApiKeys.unassign(projectId, keyId);
        printDone(ctx.output, `API Key '${keyId}' deleted`, { deleted: true, id: keyId });
      }),
    );
}
