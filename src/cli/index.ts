#!/usr/bin/env node
/** The `pakman` command: the server, operator commands and client commands, each in its own module. */
import { Command } from 'commander';
import { VERSION } from '../server/version.js';
import { registerServerCommands } from './commands/server.js';
import { EXIT } from './shared.js';

const program = new Command('pakman')
  .description('Self-hosted Ops Manager-compatible programmatic API key server and client')
  .version(VERSION.versionString)
  .exitOverride((err) => process.exit(err.exitCode === 0 ? EXIT.ok : EXIT.usage));

registerServerCommands(program);

await program.parseAsync(process.argv);
