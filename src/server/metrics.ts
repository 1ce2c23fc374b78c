/**
 * Prometheus metrics (issue 17). The request path only bumps plain numbers: each declared route holds its
 * own `RouteStats` (made once, at registration), a response adds one to its status's count and one to a
 * latency bucket — no label object, no string, no closure per request (prom-client's own `inc`/`observe`
 * hash the label values into a string and, for a histogram, make a closure on every call). prom-client
 * renders them, with the process's default metrics, only when `/metrics` is scraped.
 *
 * Every label value comes from a bounded set: the declared route pattern (never the raw path), the HTTP
 * method and status, a digest-failure reason from a fixed list, a pool name. No key, id, username or
 * secret is ever a label value.
 */
import { createServer, type Server } from 'node:http';
import { performance } from 'node:perf_hooks';
import { collectDefaultMetrics, type Metric, Registry } from 'prom-client';

/** Why a digest-signed request was refused (replays are counted apart). Bounded: the only label values. */
export const DIGEST_FAILURES = [
  /** No parsable digest header: missing parameters, wrong qop, `nc=00000000`… */
  'malformed',
  'realm',
  'algorithm',
  /** `uri` is neither the request target nor its path. */
  'uri',
  /** A nonce pakman never signed (or one from the future). */
  'nonce',
  /**
   * Unknown username or wrong response, deliberately one reason: two would tell whoever can read the
   * metrics which usernames exist.
   */
  'credentials',
  /** A correct response on an expired nonce (answered with `stale=true`). */
  'stale',
] as const;

/** One digest-failure reason. */
export type DigestFailure = (typeof DIGEST_FAILURES)[number];

/** Upper bounds of the latency buckets, in seconds. */
const BOUNDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

/** Counts and latencies of one route (method + declared URL pattern). */
export class RouteStats {
  /** Responses by HTTP status. */
  readonly statuses = new Map<number, number>();
  /** Latency observations per bucket, not cumulative (the last one is +Inf). */
  readonly buckets = new Float64Array(BOUNDS.length + 1);
  sum = 0;
  count = 0;

  constructor(
    readonly method: string,
    readonly route: string,
  ) {}

  /** Records one response: its status and the seconds since the request began. */
  observe(status: number, seconds: number): void {
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
    let i = 0;
    while (i < BOUNDS.length && seconds > BOUNDS[i]!) i++;
    this.buckets[i]!++;
    this.sum += seconds;
    this.count++;
  }
}

/** A node-postgres pool's counters, as `pg.Pool` exposes them. */
export interface PoolLike {
  readonly totalCount: number;
  readonly idleCount: number;
  readonly waitingCount: number;
  readonly options: { max?: number | undefined };
}

/** What the metrics read at scrape time from elsewhere (counters kept by their owners). */
export interface MetricSources {
  /** Credential-cache lookups (auth/cache.ts). */
  cache?: () => { hits: number; misses: number };
  /** PostgreSQL pools by name. */
  pools?: () => Readonly<Record<string, PoolLike>>;
}

type Value = { value: number; labels: Record<string, string | number>; metricName?: string };

/** A metric whose values are worked out when scraped (prom-client formats and escapes them). */
function collected(
  name: string,
  help: string,
  type: 'counter' | 'gauge' | 'histogram',
  values: () => Value[],
): Metric {
  const metric = {
    name,
    help,
    type,
    aggregator: 'sum',
    get: async () => ({ name, help, type, aggregator: 'sum', values: values() }),
  };
  return metric as unknown as Metric;
}

let processRegistry: Registry | undefined;

/** The process's default metrics (CPU, memory, event loop, GC), collected once per process. */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/** One application's metrics. */
export class Metrics {
  readonly #routes: RouteStats[] = [];
  /** Requests no declared route took (unknown paths, and challenges sent before routing), by method. */
  readonly #unrouted = new Map<string, RouteStats>();
  readonly #failures: Record<DigestFailure, number> = Object.fromEntries(
    DIGEST_FAILURES.map((r) => [r, 0]),
  ) as Record<DigestFailure, number>;
  #replays = 0;
  readonly #registry = new Registry();
  #sources: MetricSources = {};

  constructor() {
    const r = this.#registry;
    const all = () => [...this.#routes, ...this.#unrouted.values()];
    r.registerMetric(
      collected('pakman_http_requests_total', 'HTTP responses by route pattern and status.', 'counter', () =>
        all().flatMap((s) =>
          [...s.statuses].map(([status, value]) => ({
            value,
            labels: { method: s.method, route: s.route, status },
          })),
        ),
      ),
    );
    r.registerMetric(
      collected(
        'pakman_http_request_duration_seconds',
        'Time from the request reaching pakman to its response being sent.',
        'histogram',
        () => all().flatMap(histogramValues),
      ),
    );
    r.registerMetric(
      collected(
        'pakman_digest_failures_total',
        'Digest-authenticated requests refused, by reason (replays apart).',
        'counter',
        () => DIGEST_FAILURES.map((reason) => ({ value: this.#failures[reason], labels: { reason } })),
      ),
    );
    r.registerMetric(
      collected(
        'pakman_digest_replays_refused_total',
        'Requests refused because their (nonce, cnonce, nc) had been used before.',
        'counter',
        () => [{ value: this.#replays, labels: {} }],
      ),
    );
    r.registerMetric(
      collected(
        'pakman_http_unavailable_total',
        '503 responses (the database could not be reached).',
        'counter',
        () => [{ value: this.#statusTotal(503), labels: {} }],
      ),
    );
    r.registerMetric(
      collected('pakman_rate_limited_total', '429 responses (a key over its rate limit).', 'counter', () => [
        { value: this.#statusTotal(429), labels: {} },
      ]),
    );
    r.registerMetric(
      collected(
        'pakman_credential_cache_lookups_total',
        'Credential-cache lookups by authentication, by result.',
        'counter',
        () => {
          const c = this.#sources.cache?.();
          if (!c) return [];
          return [
            { value: c.hits, labels: { result: 'hit' } },
            { value: c.misses, labels: { result: 'miss' } },
          ];
        },
      ),
    );
    r.registerMetric(
      collected(
        'pakman_db_pool_connections',
        'PostgreSQL pool connections: open (total), idle, and the pool maximum.',
        'gauge',
        () =>
          Object.entries(this.#sources.pools?.() ?? {}).flatMap(([pool, p]) => [
            { value: p.totalCount, labels: { pool, state: 'total' } },
            { value: p.idleCount, labels: { pool, state: 'idle' } },
            { value: p.options.max ?? 10, labels: { pool, state: 'max' } },
          ]),
      ),
    );
    r.registerMetric(
      collected(
        'pakman_db_pool_waiting_requests',
        'Statements waiting for a PostgreSQL pool connection.',
        'gauge',
        () =>
          Object.entries(this.#sources.pools?.() ?? {}).map(([pool, p]) => ({
            value: p.waitingCount,
            labels: { pool },
          })),
      ),
    );
  }

  /** Connects the counters other modules keep. */
  attach(sources: MetricSources): void {
    this.#sources = { ...this.#sources, ...sources };
  }

  /** The stats object of a declared route (call once per route, at registration). */
  route(method: string, route: string): RouteStats {
    const s = new RouteStats(method, route);
    this.#routes.push(s);
    return s;
  }

  /** The stats of requests no declared route took, for `method` (a bounded set: Node's parser's methods). */
  unrouted(method: string): RouteStats {
    let s = this.#unrouted.get(method);
    if (!s) {
      s = new RouteStats(method, 'none');
      this.#unrouted.set(method, s);
    }
    return s;
  }

  /** Counts a refused digest. */
  digestFailure(reason: DigestFailure): void {
    this.#failures[reason]++;
  }

  /** Counts a refused replay. */
  replayRefused(): void {
    this.#replays++;
  }

  #statusTotal(status: number): number {
    let n = 0;
    for (const s of this.#routes) n += s.statuses.get(status) ?? 0;
    for (const s of this.#unrouted.values()) n += s.statuses.get(status) ?? 0;
    return n;
  }

  /** The content type of `text()`. */
  get contentType(): string {
    return this.#registry.contentType;
  }

  /** The exposition text: this application's metrics, then the process's. */
  async text(): Promise<string> {
    const [own, proc] = await Promise.all([this.#registry.metrics(), processMetrics().metrics()]);
    return own + proc;
  }
}

function histogramValues(s: RouteStats): Value[] {
  if (s.count === 0) return [];
  const name = 'pakman_http_request_duration_seconds';
  const labels = { method: s.method, route: s.route };
  const out: Value[] = [];
  let cumulative = 0;
  for (let i = 0; i <= BOUNDS.length; i++) {
    cumulative += s.buckets[i]!;
    out.push({
      value: cumulative,
      labels: { ...labels, le: BOUNDS[i] ?? '+Inf' },
      metricName: `${name}_bucket`,
    });
  }
  out.push({ value: s.sum, labels, metricName: `${name}_sum` });
  out.push({ value: s.count, labels, metricName: `${name}_count` });
  return out;
}

/** Seconds since `start` (a `performance.now()` reading). */
export function secondsSince(start: number): number {
  return (performance.now() - start) / 1000;
}

/**
 * A listener of its own for the metrics (PAKMAN_METRICS_PORT), e.g. on a port only the monitoring network
 * reaches: `GET /metrics`, and 404 for anything else. No credentials, as on the main port.
 */
export async function serveMetrics(metrics: Metrics, host: string, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found\n');
      return;
    }
    metrics.text().then(
      (text) => res.writeHead(200, { 'content-type': metrics.contentType }).end(text),
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}
