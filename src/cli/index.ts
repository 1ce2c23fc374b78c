#!/usr/bin/env node
/** The `pakman` command: the server, operator commands and client commands, each in its own module. */
import { Command } from 'commander';
import { VERSION } from '../server/version.js';
import { registerConfigCommands } from './commands/config.js';
import { registerEventCommands } from './commands/events.js';
import { registerGlobalAccessListCommands } from './commands/globalAccessLists.js';
import { registerGlobalApiKeyCommands } from './commands/globalApiKeys.js';
import { registerMigrateDataCommand } from './commands/migrateData.js';
import { registerOrgCommands } from './commands/orgs.js';
import { registerProjectCommands } from './commands/projects.js';
import { registerServerCommands } from './commands/server.js';
import { registerUserCommands } from './commands/users.js';
import { EXIT } from './shared.js';

const program = new Command('pakman')
  .description('Self-hosted Ops Manager-compatible programmatic API key server and client')
  .version(VERSION.versionString)
  .exitOverride((err) => process.exit(err.exitCode === 0 ? EXIT.ok : EXIT.usage));

registerServerCommands(program);
registerMigrateDataCommand(program);
registerUserCommands(program);
registerConfigCommands(program);
registerOrgCommands(program);
registerProjectCommands(program);
registerGlobalApiKeyCommands(program);
registerGlobalAccessListCommands(program);
registerEventCommands(program);

await program.parseAsync(process.argv);
