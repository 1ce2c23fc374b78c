/** `pakman serve`, `pakman migrate` and `pakman openapi`: run the server, apply migrations, print the API's document. */
import { type Command, Option } from 'commander';
import { type Config, ConfigError, loadConfig } from '../../server/config.js';
import { configFrom, die, EXIT } from '../shared.js';

function load(raw: Parameters<typeof configFrom>[0]): Config {
  try {
    return loadConfig(configFrom(raw));
  } catch (e) {
    if (e instanceof ConfigError) die(e.message, EXIT.usage);
    throw e;
  }
}

/** Registers `serve`, `migrate` and `openapi`. */
export function registerServerCommands(program: Command): void {
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
    .addOption(
      new Option(
        '--request-timeout <seconds>',
        'time for a whole request to arrive (PAKMAN_REQUEST_TIMEOUT, default 30)',
      ),
    )
    .addOption(
      new Option(
        '--headers-timeout <seconds>',
        'time for request headers to arrive (PAKMAN_HEADERS_TIMEOUT, default 10)',
      ),
    )
    .addOption(
      new Option(
        '--idle-timeout <seconds>',
        'silence allowed within a request or response (PAKMAN_IDLE_TIMEOUT, default 60)',
      ),
    )
    .addOption(
      new Option('--max-connections <n>', 'connections held at once (PAKMAN_MAX_CONNECTIONS, default 4096)'),
    )
    .addOption(new Option('--log-level <level>', 'log level (PAKMAN_LOG_LEVEL, default info)'))
    .addOption(
      new Option(
        '--session-idle <seconds>',
        'console session idle expiry (PAKMAN_SESSION_IDLE, default 43200)',
      ),
    )
    .addOption(
      new Option(
        '--session-max <seconds>',
        'console session absolute expiry (PAKMAN_SESSION_MAX, default 604800)',
      ),
    )
    .addOption(
      new Option(
        '--shutdown-drain <seconds>',
        'on SIGTERM, seconds of 503 readiness before closing (PAKMAN_SHUTDOWN_DRAIN, default 5)',
      ),
    )
    .addOption(
      new Option('--metrics-port <port>', 'serve GET /metrics on this port of its own (PAKMAN_METRICS_PORT)'),
    )
    .addOption(
      new Option(
        '--metrics-on-main-port <bool>',
        'also serve GET /metrics on the API port (PAKMAN_METRICS_ON_MAIN_PORT; default true without a metrics port)',
      ),
    )
    .action(async (opts: Record<string, string | undefined>) => {
      const config = load({
        port: opts.port,
        host: opts.host,
        databaseUrl: opts.databaseUrl,
        publicUrl: opts.publicUrl,
        secret: opts.secret,
        trustProxy: opts.trustProxy,
        nonceLifetimeSeconds: opts.nonceLifetime,
        requestTimeoutSeconds: opts.requestTimeout,
        headersTimeoutSeconds: opts.headersTimeout,
        idleTimeoutSeconds: opts.idleTimeout,
        maxConnections: opts.maxConnections,
        logLevel: opts.logLevel,
        sessionIdleSeconds: opts.sessionIdle,
        sessionMaxSeconds: opts.sessionMax,
        shutdownDrainSeconds: opts.shutdownDrain,
        metricsPort: opts.metricsPort,
        metricsOnMainPort: opts.metricsOnMainPort,
      });
      try {
        // Loaded here, not at the top: client commands should not pay for the server's modules.
        const { runServer } = await import('../../server/main.js');
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
      const config = load({ databaseUrl: opts.databaseUrl });
      const { connect } = await import('../../server/storage/connect.js');
      const conn = await connect(config.databaseUrl).catch((e: Error) => die(e.message));
      await conn.close();
      process.stdout.write(`migrated ${config.databaseUrl.replace(/\/\/[^@/]*@/, '//***@')}\n`);
    });

  program
    .command('openapi')
    .description('print the OpenAPI 3.1 document of the API (as GET /api/openapi.json serves it)')
    .option('--out <file>', 'write it to this file instead')
    .action(async (opts: { out?: string }) => {
      const { openApiFile } = await import('../../server/openapiFile.js');
      const text = openApiFile();
      if (opts.out === undefined) process.stdout.write(text);
      else {
        const { renameSync, writeFileSync } = await import('node:fs');
        // Replaced whole (a reader never sees half a file).
        writeFileSync(`${opts.out}.tmp`, text);
        renameSync(`${opts.out}.tmp`, opts.out);
      }
    });
}
