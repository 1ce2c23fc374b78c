/**
 * The request log (one line per request, AccessLog), request ids, and per-request loggers made on first
 * use. Fastify makes a child logger for every request (pino's `child`
 * serializes the request id into a new object each time), but pakman logs from a request only when
 * something went wrong: this child is a placeholder that becomes the real one the first time it logs.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { type FastifyBaseLogger, type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import { clientIp } from './pipeline.js';
import type { RequestContext } from './route.js';

type Bindings = Record<string, unknown>;
type ChildOptions = Parameters<FastifyBaseLogger['child']>[1];

class LazyChildLogger {
  #real: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly options: ChildOptions,
  ) {}

  #log(): FastifyBaseLogger {
    this.#real ??= this.parent.child(this.bindings, this.options);
    return this.#real;
  }

  get level(): string {
    return this.#real?.level ?? this.options?.level ?? this.parent.level;
  }

  set level(level: string) {
    this.#log().level = level;
  }

  fatal(...args: unknown[]): void {
    (this.#log().fatal as (...a: unknown[]) => void)(...args);
  }
  error(...args: unknown[]): void {
    (this.#log().error as (...a: unknown[]) => void)(...args);
  }
  warn(...args: unknown[]): void {
    (this.#log().warn as (...a: unknown[]) => void)(...args);
  }
  info(...args: unknown[]): void {
    (this.#log().info as (...a: unknown[]) => void)(...args);
  }
  debug(...args: unknown[]): void {
    (this.#log().debug as (...a: unknown[]) => void)(...args);
  }
  trace(...args: unknown[]): void {
    (this.#log().trace as (...a: unknown[]) => void)(...args);
  }
  silent(): void {}

  child(bindings: Bindings, options?: ChildOptions): FastifyBaseLogger {
    return this.#log().child(bindings, options);
  }
}

/** Fastify's `childLoggerFactory`: the request's logger, made when it first logs. */
export function lazyChildLogger(
  logger: FastifyBaseLogger,
  bindings: Bindings,
  options: ChildOptions,
): FastifyBaseLogger {
  return new LazyChildLogger(logger, bindings, options) as unknown as FastifyBaseLogger;
}

/** pino's level values; `silent` (and an unknown level) logs nothing. */
const LEVELS: Readonly<Record<string, number>> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
};

/**
 * Whether `log` writes lines at `level`: a line that would not be written is not built (at the default
 * `info` every request's is; at `warn`, as a busy node may run, none is).
 */
function enabled(log: FastifyBaseLogger, level: 'debug' | 'info'): boolean {
  const current = LEVELS[log.level];
  return current !== undefined && LEVELS[level]! >= current;
}

/** An incoming `X-Request-Id` is kept when it is 1–128 of these characters; anything else is replaced. */
const REQUEST_ID_RE = /^[A-Za-z0-9._:@=+/-]{1,128}$/;
/** This process's prefix of generated ids: random, so ids of several nodes (and restarts) do not collide. */
const ID_PREFIX = randomBytes(6).toString('base64url');
let idCounter = 0;

/**
 * Fastify's `genReqId`: the caller's `X-Request-Id` when it is sane (bounded length and charset, so a
 * log line cannot be forged or bloated through it), else this process's prefix and a counter: unique, and
 * no random bytes per request.
 */
export function requestId(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  if (typeof given === 'string' && given.length <= 128 && REQUEST_ID_RE.test(given)) return given;
  idCounter = (idCounter + 1) % Number.MAX_SAFE_INTEGER;
  return `${ID_PREFIX}-${idCounter.toString(36)}`;
}

/**
 * The access log: one line per request, written by one pino call when the response has been sent
 * (Fastify calls `requestCompleted` for every request it routed). Its fields are chosen, not copied
 * from the request: no header, body or query string is logged, so no Authorization header, private key,
 * password or HA1 can reach the log. Fastify's own per-request lines stay off.
 */
export class AccessLog extends LogController {
  constructor(private readonly log: () => FastifyBaseLogger) {
    super({ disableRequestLogging: true });
  }

  override requestCompleted(error: Error | null | undefined, req: FastifyRequest, reply: FastifyReply): void {
    const ctx = req.ctx as RequestContext | null;
    // Fastify builds a new routeOptions object on every read: the pipeline's one read, when it ran.
    const config = ctx?.config ?? req.routeOptions.config;
    const quiet = config.quiet === true;
    const log = this.log();
    if (!enabled(log, quiet ? 'debug' : 'info')) return;
    const line = {
      reqId: req.id,
      method: req.method,
      route: config.url ?? null,
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime * 100) / 100,
      remoteAddress: ctx?.remoteAddress ?? req.ip,
      principal: ctx?.principal?.name ?? null,
      ...(error ? { aborted: true } : {}),
    };
    if (quiet) log.debug(line, 'request');
    else log.info(line, 'request');
  }
}

/**
 * The access-log line of a request answered before Fastify routes it (the early digest challenge,
 * http/pipeline.ts): the same fields, with no route and no principal.
 */
export function logEarlyChallenge(
  log: FastifyBaseLogger,
  req: IncomingMessage,
  id: string,
  startedAt: number,
): void {
  if (!enabled(log, 'info')) return;
  log.info(
    {
      reqId: id,
      method: req.method,
      route: null,
      status: 401,
      ms: Math.round((performance.now() - startedAt) * 100) / 100,
      // Forwarded headers are not read here: behind a proxy this is the proxy's address.
      remoteAddress: clientIp(req.socket.remoteAddress ?? ''),
      principal: null,
    },
    'request',
  );
}
