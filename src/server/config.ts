/** Server configuration from flags and PAKMAN_* environment variables, validated before anything starts. */
import { parseDatabaseUrl } from './storage/connect.js';

/** The validated configuration. */
export interface Config {
  port: number;
  host: string;
  databaseUrl: string;
  publicUrl: string | undefined;
  secret: string | undefined;
  trustProxy: boolean | number | string;
  nonceLifetimeSeconds: number;
  sha256: boolean;
  bodyLimit: number;
  /** Seconds for a whole request (headers and body) to arrive. */
  requestTimeoutSeconds: number;
  /** Seconds for a request's headers to arrive (at most the request timeout). */
  headersTimeoutSeconds: number;
  /** Seconds a connection may stay silent within a request or its response. */
  idleTimeoutSeconds: number;
  /** Connections one node holds at once. */
  maxConnections: number;
  logLevel: string;
  /** Web console: a session unused this long ends (seconds). */
  sessionIdleSeconds: number;
  /** Web console: a session ends this long after sign-in, used or not (seconds). */
  sessionMaxSeconds: number;
  /** Seconds between SIGTERM (readiness turns 503) and closing the listener. */
  shutdownDrainSeconds: number;
  /** A port of its own for `GET /metrics` (on `host`); undefined: none. */
  metricsPort: number | undefined;
  /** Whether the API's port also serves `GET /metrics` (default: yes, unless `metricsPort` is set). */
  metricsOnMainPort: boolean;
}

/** A configuration problem, reported as one line naming the setting. */
export class ConfigError extends Error {}

/** Raw settings: flag values override environment values. */
export type RawConfig = Partial<Record<keyof Config, string | undefined>>;

/** Environment variable names of each setting. */
export const ENV_NAMES: Record<keyof Config, string> = {
  port: 'PAKMAN_PORT',
  host: 'PAKMAN_HOST',
  databaseUrl: 'PAKMAN_DATABASE_URL',
  publicUrl: 'PAKMAN_PUBLIC_URL',
  secret: 'PAKMAN_SECRET',
  trustProxy: 'PAKMAN_TRUST_PROXY',
  nonceLifetimeSeconds: 'PAKMAN_NONCE_LIFETIME',
  sha256: 'PAKMAN_DIGEST_SHA256',
  bodyLimit: 'PAKMAN_BODY_LIMIT',
  requestTimeoutSeconds: 'PAKMAN_REQUEST_TIMEOUT',
  headersTimeoutSeconds: 'PAKMAN_HEADERS_TIMEOUT',
  idleTimeoutSeconds: 'PAKMAN_IDLE_TIMEOUT',
  maxConnections: 'PAKMAN_MAX_CONNECTIONS',
  logLevel: 'PAKMAN_LOG_LEVEL',
  sessionIdleSeconds: 'PAKMAN_SESSION_IDLE',
  sessionMaxSeconds: 'PAKMAN_SESSION_MAX',
  shutdownDrainSeconds: 'PAKMAN_SHUTDOWN_DRAIN',
  metricsPort: 'PAKMAN_METRICS_PORT',
  metricsOnMainPort: 'PAKMAN_METRICS_ON_MAIN_PORT',
};

function fail(key: keyof Config, message: string): never {
  throw new ConfigError(`invalid ${ENV_NAMES[key]}: ${message}`);
}

function int(key: keyof Config, raw: string, min: number, max: number): number {
  if (!/^[0-9]+$/.test(raw) || Number(raw) < min || Number(raw) > max)
    fail(key, `expected an integer from ${min} to ${max}, got "${raw}"`);
  return Number(raw);
}

function bool(key: keyof Config, raw: string): boolean {
  const v = raw.toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(v)) return false;
  return fail(key, `expected true or false, got "${raw}"`);
}

/** Reads the environment into raw settings. */
export function fromEnv(env: NodeJS.ProcessEnv = process.env): RawConfig {
  const out: RawConfig = {};
  for (const [key, name] of Object.entries(ENV_NAMES) as [keyof Config, string][]) {
    if (env[name] !== undefined) out[key] = env[name];
  }
  return out;
}

/** Validates raw settings; throws ConfigError naming the first bad one. */
export function loadConfig(raw: RawConfig): Config {
  const databaseUrl = raw.databaseUrl ?? 'sqlite:./data/pakman.db';
  try {
    parseDatabaseUrl(databaseUrl);
  } catch (e) {
    fail('databaseUrl', (e as Error).message);
  }
  const publicUrl = raw.publicUrl || undefined;
  if (publicUrl !== undefined) {
    let u: URL;
    try {
      u = new URL(publicUrl);
    } catch {
      return fail('publicUrl', `expected an absolute http(s) URL, got "${publicUrl}"`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') fail('publicUrl', 'expected an http or https URL');
  }
  const secret = raw.secret || undefined;
  if (secret !== undefined && secret.length < 32) fail('secret', 'expected at least 32 characters');
  let trustProxy: boolean | number | string = false;
  if (raw.trustProxy !== undefined && raw.trustProxy !== '') {
    const t = raw.trustProxy;
    if (/^[0-9]+$/.test(t)) trustProxy = Number(t);
    else if (/^(true|false|1|0|yes|no|on|off)$/i.test(t)) trustProxy = bool('trustProxy', t);
    else trustProxy = t;
  }
  const logLevel = raw.logLevel ?? 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel))
    fail('logLevel', `unknown level "${logLevel}"`);
  const requestTimeoutSeconds = int('requestTimeoutSeconds', raw.requestTimeoutSeconds ?? '30', 1, 3600);
  const headersTimeoutSeconds = int('headersTimeoutSeconds', raw.headersTimeoutSeconds ?? '10', 1, 3600);
  if (headersTimeoutSeconds > requestTimeoutSeconds)
    fail(
      'headersTimeoutSeconds',
      `must not exceed ${ENV_NAMES.requestTimeoutSeconds} (${requestTimeoutSeconds})`,
    );
  const port = int('port', raw.port ?? '8080', 0, 65535);
  const metricsPort = raw.metricsPort ? int('metricsPort', raw.metricsPort, 1, 65535) : undefined;
  if (metricsPort !== undefined && metricsPort === port) fail('metricsPort', 'must differ from PAKMAN_PORT');
  return {
    port,
    host: raw.host || '127.0.0.1',
    databaseUrl,
    publicUrl,
    secret,
    trustProxy,
    nonceLifetimeSeconds: int('nonceLifetimeSeconds', raw.nonceLifetimeSeconds ?? '60', 1, 86400),
    sha256: bool('sha256', raw.sha256 ?? 'false'),
    bodyLimit: int('bodyLimit', raw.bodyLimit ?? String(1024 * 1024), 1024, 64 * 1024 * 1024),
    requestTimeoutSeconds,
    headersTimeoutSeconds,
    idleTimeoutSeconds: int('idleTimeoutSeconds', raw.idleTimeoutSeconds ?? '60', 1, 3600),
    maxConnections: int('maxConnections', raw.maxConnections ?? '4096', 1, 1_000_000),
    logLevel,
    sessionIdleSeconds: int('sessionIdleSeconds', raw.sessionIdleSeconds ?? String(12 * 3600), 1, 30 * 86400),
    sessionMaxSeconds: int('sessionMaxSeconds', raw.sessionMaxSeconds ?? String(7 * 86400), 1, 365 * 86400),
    shutdownDrainSeconds: int('shutdownDrainSeconds', raw.shutdownDrainSeconds ?? '5', 0, 3600),
    metricsPort,
    metricsOnMainPort: bool('metricsOnMainPort', raw.metricsOnMainPort ?? String(metricsPort === undefined)),
  };
}
