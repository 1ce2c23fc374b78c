/** buildApp(deps): the Fastify application with every plugin and route; it never listens. */
import http from 'node:http';
import Fastify, {
  type FastifyInstance,
  type FastifyServerOptions,
  LogController,
  type onSendHookHandler,
} from 'fastify';
import { ApiError } from '../schema/errors.js';
import type { CompiledCidr } from '../schema/ip.js';
import { Authenticator } from './auth/authenticator.js';
import { type DigestAlgorithm, NonceSigner } from './auth/digest.js';
import { rateLimiterFor } from './auth/rateLimit.js';
import { MemoryReplayGuard, type ReplayGuard } from './auth/replay.js';
import { UsageRecorder } from './auth/usage.js';
import { AccessListService } from './domain/accessLists.js';
import { ApiKeyService } from './domain/apiKeys.js';
import type { ServiceDeps } from './domain/context.js';
import { EventService } from './domain/events.js';
import { GlobalAccessListService } from './domain/globalAccessList.js';
import { GlobalKeyService } from './domain/globalKeys.js';
import { OrgService } from './domain/orgs.js';
import { ProjectKeyService } from './domain/projectKeys.js';
import { ProjectService } from './domain/projects.js';
import { RateLimitService } from './domain/rateLimits.js';
import { UserService } from './domain/users.js';
import { errorHandler, notFoundHandler, RouteTable } from './http/errors.js';
import { lazyChildLogger } from './http/logging.js';
import { render, sendJson, sendText } from './http/output.js';
import { earlyChallenge, type PipelineDeps, requestPipeline } from './http/pipeline.js';
import type { RouteSpec } from './http/route.js';
import { accessListRoutes } from './http/routes/accessLists.js';
import { apiKeyRoutes } from './http/routes/apiKeys.js';
import { eventRoutes } from './http/routes/events.js';
import { globalAccessListRoutes } from './http/routes/globalAccessList.js';
import { globalKeyRoutes } from './http/routes/globalKeys.js';
import { orgRoutes } from './http/routes/orgs.js';
import { projectKeyRoutes } from './http/routes/projectKeys.js';
import { projectRoutes } from './http/routes/projects.js';
import { rateLimitRoutes } from './http/routes/rateLimits.js';
import { serviceRoutes } from './http/routes/service.js';
import { userRoutes } from './http/routes/users.js';
import { API_BASE } from './http/wire.js';
import { Metrics } from './metrics.js';
import { postgresPools } from './storage/connect.js';
import type { Db } from './storage/database.js';

/** Where the Prometheus metrics are served (main port, or PAKMAN_METRICS_PORT's own listener). */
export const METRICS_PATH = '/metrics';

declare module 'fastify' {
  interface FastifyInstance {
    /** This application's metrics (metrics.ts). */
    metrics: Metrics;
  }
}

/** Everything the application depends on; tests build their own. */
export interface AppDeps {
  db: Db;
  /** Deployment secret that signs nonces; every node of one deployment must share it. */
  secret: string;
  clock?: () => number;
  publicUrl?: string | undefined;
  /** Fastify's trustProxy: false, true, a hop count, or addresses/CIDRs of trusted proxies. */
  trustProxy?: boolean | number | string;
  nonceLifetimeSeconds?: number;
  /** Also accept and advertise SHA-256 digests (off by default, as in Ops Manager). */
  sha256?: boolean;
  bodyLimit?: number;
  /** Replay memory: in-process by default; a shared one for several nodes. */
  replay?: ReplayGuard;
  usageFlushMs?: number;
  logger?: FastifyServerOptions['logger'];
  version?: { gitHash: string; versionString: string };
  /** Serve `GET /metrics` (Prometheus, no credentials) on the API's port (default true). */
  metricsOnMainPort?: boolean;
}

/** All route declarations of the API, in one list (the route-action test reads it too). */
export function allRoutes(deps: ServiceDeps, version: { gitHash: string }): RouteSpec[] {
  return [
    ...serviceRoutes(deps, version),
    ...orgRoutes(new OrgService(deps)),
    ...apiKeyRoutes(new ApiKeyService(deps)),
    ...projectRoutes(new ProjectService(deps)),
    ...projectKeyRoutes(new ProjectKeyService(deps)),
    ...userRoutes(new UserService(deps)),
    ...eventRoutes(new EventService(deps)),
    ...accessListRoutes(new AccessListService(deps)),
    ...globalKeyRoutes(new GlobalKeyService(deps)),
    ...globalAccessListRoutes(new GlobalAccessListService(deps)),
    ...rateLimitRoutes(new RateLimitService(deps)),
  ];
}

/** Fastify's trust setting: a hop count becomes "trust the nearest N proxies". */
function trustProxyOption(
  v: AppDeps['trustProxy'],
): boolean | string | ((addr: string, hop: number) => boolean) {
  if (typeof v === 'number') return (_addr, hop) => hop < v;
  return v ?? false;
}

/** Builds the application. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const clock = deps.clock ?? Date.now;
  const bodyLimit = deps.bodyLimit ?? 1024 * 1024;
  const version = deps.version ?? { gitHash: 'unknown', versionString: '0.0.0' };
  const algorithms: DigestAlgorithm[] = deps.sha256 ? ['MD5', 'SHA-256'] : ['MD5'];
  const signer = new NonceSigner(deps.secret, deps.nonceLifetimeSeconds ?? 60);
  const replay = deps.replay ?? new MemoryReplayGuard(clock);
  const authenticator = new Authenticator(deps.db, signer, replay, new Set(algorithms), clock);
  const usage = new UsageRecorder(deps.db, deps.usageFlushMs ?? 1000, (e) =>
    app.log.warn({ err: e }, 'usage flush failed'),
  );
  const limiter = rateLimiterFor(deps.db, clock);
  const metrics = new Metrics();
  metrics.attach({ cache: () => authenticator.cacheStats(), pools: () => postgresPools(deps.db) });
  const pipeline: PipelineDeps = {
    db: deps.db,
    authenticator,
    signer,
    usage,
    algorithms,
    publicUrl: deps.publicUrl?.replace(/\/+$/, ''),
    versionHeader: `gitHash=${version.gitHash}; versionString=${version.versionString}`,
    clock,
    globalAccessList: async (): Promise<CompiledCidr[]> => (await authenticator.globalAccessList()).entries,
    metrics,
    limiter,
  };
  const routes = allRoutes({ db: deps.db, clock }, version).map((spec) => ({
    ...spec,
    url: spec.url.startsWith('/api/') ? spec.url : `${API_BASE}${spec.url}`,
  }));
  const metricsOnMainPort = deps.metricsOnMainPort ?? true;
  const publicPaths = new Set(routes.filter((r) => r.action === 'public').map((r) => r.url));
  if (metricsOnMainPort) publicPaths.add(METRICS_PATH);
  const challenge = earlyChallenge(pipeline, publicPaths);
  const app = Fastify({
    logger: deps.logger ?? false,
    trustProxy: trustProxyOption(deps.trustProxy),
    bodyLimit,
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: lazyChildLogger,
    exposeHeadRoutes: false,
    routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: false },
    // The HTTP/1.1 server Fastify would make (lib/server.js, with its defaults: keep-alive 72 s, no request
    // or connection timeout), with requests without credentials challenged before routing.
    serverFactory: (handler) => {
      const server = http.createServer((req, res) => {
        if (!challenge(req, res)) handler(req, res);
      });
      server.keepAliveTimeout = 72_000;
      server.requestTimeout = 0;
      server.setTimeout(0);
      return server;
    },
  });

  app.decorateRequest('ctx', null as never);
  app.decorate('metrics', metrics);
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    if (body === '') return done(null, undefined);
    try {
      done(null, JSON.parse(body as string));
    } catch {
      done(new ApiError('INVALID_JSON'), undefined);
    }
  });
  app.addContentTypeParser('*', (_req, _payload, done) =>
    done(new ApiError('UNSUPPORTED_MEDIA_TYPE'), undefined),
  );

  app.addHook('onRequest', requestPipeline(pipeline));
  // Credentials are cached (auth/cache.ts): a route that changes things may have changed one, so it is
  // forgotten before the response goes out, whatever the response; the next request, whoever sends it,
  // reads afresh. A hook of those routes only: reads, nearly every request, run no onSend hook at all.
  const forgetCredentials: onSendHookHandler = (_req, _reply, payload, done) => {
    authenticator.invalidate();
    done(null, payload);
  };
  app.setErrorHandler(errorHandler(bodyLimit));

  const table = new RouteTable();
  for (const spec of routes) {
    table.add(spec.method, spec.url);
    app.route({
      method: spec.method,
      url: spec.url,
      config: { action: spec.action, stats: metrics.route(spec.method, spec.url) },
      onSend: spec.method === 'GET' ? undefined : forgetCredentials,
      handler: async (req, reply) => {
        const res = await spec.handler(req, reply);
        if (res.text !== undefined) return sendText(reply, res.status, res.text);
        const r = render(res.status, res.body, req.ctx.output);
        return sendJson(reply, r.status, r.body);
      },
    });
  }
  if (metricsOnMainPort) {
    app.route({
      method: 'GET',
      url: METRICS_PATH,
      config: { action: 'public', stats: metrics.route('GET', METRICS_PATH) },
      handler: async (_req, reply) => sendText(reply, 200, await metrics.text(), metrics.contentType),
    });
  }
  app.setNotFoundHandler(notFoundHandler(table));
  app.addHook('onClose', async () => {
    authenticator.close();
    replay.close();
    limiter.close();
    await usage.close();
  });
  return app;
}
