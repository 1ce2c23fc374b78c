/**
 * `pakman users create-key|revoke-keys <username>`: personal API keys, made on the server host against the
 * configured database (there is no API for them, as in Ops Manager since 5.0).
 */
import type { Command } from 'commander';
import { ApiError } from '../../schema/errors.js';
import { ConfigError, loadConfig } from '../../server/config.js';
import type { Actor } from '../../server/domain/context.js';
import type { UserService } from '../../server/domain/users.js';
import type { Connection } from '../../server/storage/connect.js';
import { configFrom, die, EXIT } from '../shared.js';

/** The operator at the console: no principal and no remote address in the audit log. */
const CONSOLE: Actor = { principal: null, remoteAddress: '' };

/** Opens the configured database, runs `work` with the user service, and always closes it. */
async function withUsers<T>(
  databaseUrl: string | undefined,
  work: (users: UserService) => Promise<T>,
): Promise<T> {
  // Server modules load only when an operator command runs, keeping client commands quick to start.
  const { connect } = await import('../../server/storage/connect.js');
  const { UserService } = await import('../../server/domain/users.js');
  let conn: Connection;
  try {
    conn = await connect(loadConfig(configFrom({ databaseUrl })).databaseUrl);
  } catch (e) {
    return die((e as Error).message, e instanceof ConfigError ? EXIT.usage : EXIT.error);
  }
  let failure: string;
  try {
    return await work(new UserService({ db: conn.db, clock: Date.now }));
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    failure = e.message;
  } finally {
    await conn.close();
  }
  return die(failure);
}

/** Registers `users create-key` and `users revoke-keys`. */
export function registerUserCommands(program: Command): void {
  const users = program.command('users').description('personal API keys of users (run on the server host)');
  users
    .command('create-key <username>')
    .description('create a personal API key; it is printed once, alone on the last line')
    .option('--database-url <url>', 'database (PAKMAN_DATABASE_URL, default sqlite:./data/pakman.db)')
    .option('--expires <time>', 'refuse the key from this time on (ISO-8601 UTC, e.g. 2027-01-31T12:00:00Z)')
    .action(async (username: string, opts: { databaseUrl?: string; expires?: string }) => {
      const { apiKey } = await withUsers(opts.databaseUrl, (s) =>
        s.createPersonalKey(CONSOLE, username, opts.expires),
      );
      process.stdout.write(
        `Personal API key for ${username} (digest username ${username}, password the key; shown only now):\n${apiKey}\n`,
      );
    });
  users
    .command('revoke-keys <username>')
    .description('revoke every personal API key of the user; requests with them fail at once')
    .option('--database-url <url>', 'database (PAKMAN_DATABASE_URL, default sqlite:./data/pakman.db)')
    .action(async (username: string, opts: { databaseUrl?: string }) => {
      const n = await withUsers(opts.databaseUrl, (s) => s.revokePersonalKeys(CONSOLE, username));
      process.stdout.write(`revoked ${n} personal API key${n === 1 ? '' : 's'} of ${username}\n`);
    });
}
