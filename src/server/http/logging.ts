/**
 * Per-request loggers made on first use. Fastify makes a child logger for every request (pino's `child`
 * serializes the request id into a new object each time), but pakman logs from a request only when
 * something went wrong: this child is a placeholder that becomes the real one the first time it logs.
 */
import type { FastifyBaseLogger } from 'fastify';

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
