#!/usr/bin/env node
/** The `pakman` command: the server, operator commands, and (later) client commands. */
import { Command, Option } from 'commander';
import { ConfigError, fromEnv, loadConfig, type RawConfig } from '../server/config.js';
import { runServer } from '../server/main.js';
import { connect } from '../server/storage/connect.js';
import { VERSION } from '../server/version.js';

const program = new Command('pakman')
  .description('Self-hosted Ops Manager-compatible programmatic API key server')
  .version(VERSION.versionString)
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));

function configFrom(opts: Record<string, string | undefined>): RawConfig {
  const raw = fromEnv();
  for (const [k, v] of Object.entries(opts)) if (v !== undefined) (raw as Record<string, string>)[k] = v;
  return raw;
}

function die(message: string, code = 1): never {
  process.stderr.write(`pakman: ${message}\n`);
  process.exit(code);
}

program
  .command('serve')
  .description('run the API server (settings also come from PAKMAN_* environment variables)')
  .addOption(new Option('--port <port>', 'port to listen on (PAKMAN_PORT, default 8080)'))
  .addOption(new Option('--host <host>', 'address to bind (PAKMAN_HOST, default 127.0.0.1)'))
  .addOption(
    new Option(
      '--database-url <url>',
      'sqlite:<path>, sqlite::memory: or postgres://… (PAKMAN_DATABASE_URL)',
    ),
  )
  .addOption(new Option('--public-url <url>', 'base URL for link hrefs (PAKMAN_PUBLIC_URL)'))
  .addOption(new Option('--secret <secret>', 'deployment secret for nonces (PAKMAN_SECRET)'))
  .addOption(new Option('--trust-proxy <value>', 'trust X-Forwarded-* from proxies (PAKMAN_TRUST_PROXY)'))
  .addOption(
    new Option('--nonce-lifetime <seconds>', 'digest nonce lifetime (PAKMAN_NONCE_LIFETIME, default 60)'),
  )
  .addOption(new Option('--log-level <level>', 'log level (PAKMAN_LOG_LEVEL, default info)'))
  .action(async (opts: Record<string, string | undefined>) => {
    let config: ReturnType<typeof loadConfig>;
    try {
      config = loadConfig(
        configFrom({
          port: opts.port,
          host: opts.host,
          databaseUrl: opts.databaseUrl,
          publicUrl: opts.publicUrl,
          secret: opts.secret,
          trustProxy: opts.trustProxy,
          nonceLifetimeSeconds: opts.nonceLifetime,
          logLevel: opts.logLevel,
        }),
      );
    } catch (e) {
      if (e instanceof ConfigError) die(e.message, 2);
      throw e;
    }
    try {
      await runServer(config);
    } catch (e) {
      die(`cannot start: ${(e as Error).message}`);
    }
  });

program
  .command('migrate')
  .description('apply database migrations and exit')
  .option('--database-url <url>', 'database (PAKMAN_DATABASE_URL)')
  .action(async (opts: { databaseUrl?: string }) => {
    let config: ReturnType<typeof loadConfig>;
    try {
      config = loadConfig(configFrom({ databaseUrl: opts.databaseUrl }));
    } catch (e) {
      die((e as Error).message, 2);
    }
    const conn = await connect(config.databaseUrl).catch((e: Error) => die(e.message));
    await conn.close();
    process.stdout.write(`migrated ${config.databaseUrl.replace(/\/\/[^@/]*@/, '//***@')}\n`);
  });

await program.parseAsync(process.argv);
