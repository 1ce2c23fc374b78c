/** buildApp(deps): the Fastify application with every plugin and route; it never listens. */
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyServerOptions,
  type onSendHookHandler,
} from 'fastify';
import { ApiError } from '../schema/errors.js';
import type { CompiledCidr } from '../schema/ip.js';
import { Authenticator } from './auth/authenticator.js';
import { type DigestAlgorithm, NonceSigner } from './auth/digest.js';
import { rateLimiterFor } from './auth/rateLimit.js';
import { MemoryReplayGuard, type ReplayGuard } from './auth/replay.js';
import { UsageRecorder } from './auth/usage.js';
import { defaultConsoleDir, registerConsole } from './console/routes.js';
import { ConsoleSessions, type SessionSettings } from './console/sessions.js';
import { AccessListService } from './domain/accessLists.js';
import { ApiKeyService } from './domain/apiKeys.js';
import type { ServiceDeps } from './domain/context.js';
import { EventService } from './domain/events.js';
import { ExpirySweeper } from './domain/expirySweeper.js';
import { GlobalAccessListService } from './domain/globalAccessList.js';
import { GlobalKeyService } from './domain/globalKeys.js';
import { KeyLifecycleService } from './domain/keyLifecycle.js';
import { OrgService } from './domain/orgs.js';
import { ProjectKeyService } from './domain/projectKeys.js';
import { ProjectService } from './domain/projects.js';
import { RateLimitService } from './domain/rateLimits.js';
import { UserService } from './domain/users.js';
import { type ConnectionLimits, createHttpServer, DEFAULT_LIMITS } from './http/connections.js';
import { errorHandler, notFoundHandler, RouteTable } from './http/errors.js';
import { AccessLog, lazyChildLogger, logEarlyChallenge, requestId } from './http/logging.js';
import { openApiDocument } from './http/openapi.js';
import { render, sendJson, sendText } from './http/output.js';
import { earlyChallenge, malformedPathHandler, type PipelineDeps, requestPipeline } from './http/pipeline.js';
import { fullPath, type RouteSpec } from './http/route.js';
import { accessListRoutes } from './http/routes/accessLists.js';
import { apiKeyRoutes } from './http/routes/apiKeys.js';
import { eventRoutes } from './http/routes/events.js';
import { globalAccessListRoutes } from './http/routes/globalAccessList.js';
import { globalKeyRoutes } from './http/routes/globalKeys.js';
import { Health, healthRoutes } from './http/routes/health.js';
import { keyLifecycleRoutes } from './http/routes/keyLifecycle.js';
import { orgRoutes } from './http/routes/orgs.js';
import { projectKeyRoutes } from './http/routes/projectKeys.js';
import { projectRoutes } from './http/routes/projects.js';
import { rateLimitRoutes } from './http/routes/rateLimits.js';
import { serviceRoutes } from './http/routes/service.js';
import { userRoutes } from './http/routes/users.js';
import { validateBody } from './http/validate.js';
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
  /** Request, headers and idle timeouts and the connection cap (defaults: http/connections.ts). */
  connections?: Partial<ConnectionLimits>;
  /** Replay memory: in-process by default; a shared one for several nodes. */
  replay?: ReplayGuard;
  usageFlushMs?: number;
  logger?: FastifyServerOptions['logger'];
  version?: { gitHash: string; versionString: string };
  /** Web console session expiry (defaults: 12 h idle, 7 days absolute). */
  session?: Partial<Omit<SessionSettings, 'secure'>>;
  /** The built console (default: dist/console). */
  consoleDir?: string;
  /** Readiness (drain on shutdown, database probe); made here when not given. */
  health?: Health;
  /** Serve `GET /metrics` (Prometheus, no credentials) on the API's port (default true). */
  metricsOnMainPort?: boolean;
}

/**
 * All route declarations of the API, in one list (the route-action test and the OpenAPI document read
 * it too), the document's own route included.
 */
export function allRoutes(
  deps: ServiceDeps,
  version: { gitHash: string; versionString?: string },
  health: Health = new Health(deps.db, deps.clock),
): RouteSpec[] {
  const routes: RouteSpec[] = [
    ...serviceRoutes(deps, version),
    ...orgRoutes(new OrgService(deps)),
    ...keyLifecycleRoutes(new KeyLifecycleService(deps)),
    ...apiKeyRoutes(new ApiKeyService(deps)),
    ...projectRoutes(new ProjectService(deps)),
    ...projectKeyRoutes(new ProjectKeyService(deps)),
    ...userRoutes(new UserService(deps)),
    ...eventRoutes(new EventService(deps)),
    ...accessListRoutes(new AccessListService(deps)),
    ...globalKeyRoutes(new GlobalKeyService(deps)),
    ...globalAccessListRoutes(new GlobalAccessListService(deps)),
    ...healthRoutes(health),
    ...rateLimitRoutes(new RateLimitService(deps)),
  ];
  let document: unknown;
  routes.push({
    method: 'GET',
    url: '/api/openapi.json',
    action: 'public',
    summary: 'This OpenAPI 3.1 document',
    handler: async () => {
      document ??= openApiDocument(routes, version.versionString ?? '0.0.0');
      return { status: 200, body: document };
    },
  });
  return routes;
}

/**
 * The longest path segment the router takes (Fastify's default is 100): a name of 250 characters, the
 * longest pakman stores, is up to 2,250 characters percent-encoded (`%XX` for each of 3 UTF-8 bytes).
 */
const MAX_PARAM_LENGTH = 2_560;

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
  const sweeper = new ExpirySweeper(deps.db, clock, (e) => app.log.warn({ err: e }, 'key sweep failed'));
  const authenticator = new Authenticator(deps.db, signer, replay, new Set(algorithms), clock, () =>
    sweeper.soon(),
  );
  const usage = new UsageRecorder(deps.db, deps.usageFlushMs ?? 1000, (e) =>
    app.log.warn({ err: e }, 'usage flush failed'),
  );
  const publicUrl = deps.publicUrl?.replace(/\/+$/, '');
  const sessions = new ConsoleSessions(deps.db, deps.secret, clock, {
    idleSeconds: deps.session?.idleSeconds ?? 12 * 3600,
    maxSeconds: deps.session?.maxSeconds ?? 7 * 86400,
    secure: publicUrl?.startsWith('https:') ?? false,
  });
  const limiter = rateLimiterFor(deps.db, clock);
  const metrics = new Metrics();
  metrics.attach({ cache: () => authenticator.cacheStats(), pools: () => postgresPools(deps.db) });
  const pipeline: PipelineDeps = {
    db: deps.db,
    authenticator,
    signer,
    usage,
    algorithms,
    publicUrl,
    versionHeader: `gitHash=${version.gitHash}; versionString=${version.versionString}`,
    clock,
    globalAccessList: async (): Promise<CompiledCidr[]> => (await authenticator.globalAccessList()).entries,
    sessions,
    metrics,
    limiter,
  };
  const health = deps.health ?? new Health(deps.db, clock);
  const routes = allRoutes({ db: deps.db, clock }, version, health).map((spec) => ({
    ...spec,
    url: fullPath(spec.url),
  }));
  const metricsOnMainPort = deps.metricsOnMainPort ?? true;
  const publicPaths = new Set(routes.filter((r) => r.action === 'public').map((r) => r.url));
  if (metricsOnMainPort) publicPaths.add(METRICS_PATH);
  // The app's logger, for code made before the app exists (its request log).
  const log = (): FastifyBaseLogger => app.log;
  const challenge = earlyChallenge(pipeline, publicPaths, requestId, (req, id, startedAt): void =>
    logEarlyChallenge(log(), req, id, startedAt),
  );
  const table = new RouteTable();
  const app: FastifyInstance = Fastify({
    logger: deps.logger ?? false,
    trustProxy: trustProxyOption(deps.trustProxy),
    bodyLimit,
    // One line per request (http/logging.ts), with the caller's X-Request-Id when it is sane.
    logController: new AccessLog(log),
    genReqId: requestId,
    requestIdHeader: false,
    childLoggerFactory: lazyChildLogger,
    exposeHeadRoutes: false,
    routerOptions: {
      ignoreTrailingSlash: true,
      ignoreDuplicateSlashes: false,
      maxParamLength: MAX_PARAM_LENGTH,
    },
    // Paths the router cannot take apart get an Ops Manager error, after authentication (pipeline.ts).
    frameworkErrors: malformedPathHandler(pipeline, table, MAX_PARAM_LENGTH),
    // The HTTP/1.1 server Fastify would make, with the connection limits (http/connections.ts), and
    // requests without credentials challenged before routing.
    serverFactory: (handler) =>
      createHttpServer(
        (req, res) => {
          if (!challenge(req, res)) handler(req, res);
        },
        { ...DEFAULT_LIMITS, ...deps.connections },
      ),
  });

  app.decorateRequest('ctx', null as never);
  app.decorate('metrics', metrics);
  app.removeAllContentTypeParsers();
  // Bytes that are not UTF-8 are INVALID_JSON (as Jackson has it), not U+FFFD stored in their place.
  const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => {
    if ((body as Buffer).length === 0) return done(null, undefined);
    try {
      done(null, JSON.parse(utf8.decode(body as Buffer)));
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

  for (const spec of routes) {
    table.add(spec.method, spec.url);
    app.route({
      method: spec.method,
      url: spec.url,
      config: {
        action: spec.action,
        body: spec.body,
        quiet: spec.quiet,
        stats: metrics.route(spec.method, spec.url),
      },
      onSend: spec.method === 'GET' ? undefined : forgetCredentials,
      handler: async (req, reply) => {
        // The declared schema is the one validated (and documented): handlers read it with bodyOf.
        if (spec.body) req.body = validateBody(spec.body, req.body);
        const res = await spec.handler(req, reply);
        if (res.text !== undefined) return sendText(reply, res.status, res.text);
        const r = render(res.status, res.body, req.ctx.output);
        return sendJson(reply, r.status, r.body);
      },
    });
  }
  registerConsole(app, sessions, deps.consoleDir ?? defaultConsoleDir());
  if (metricsOnMainPort) {
    app.route({
      method: 'GET',
      url: METRICS_PATH,
      config: { action: 'public', quiet: true, stats: metrics.route('GET', METRICS_PATH) },
      handler: async (_req, reply) => sendText(reply, 200, await metrics.text(), metrics.contentType),
    });
  }
  app.setNotFoundHandler(notFoundHandler(table));
  app.addHook('onClose', async () => {
    authenticator.close();
    replay.close();
    limiter.close();
    await Promise.all([usage.close(), sweeper.close()]);
  });
  return app;
}
