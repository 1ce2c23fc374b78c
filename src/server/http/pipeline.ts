/**
 * The request pipeline (design.md "A request's way through"): digest authentication → access list →
 * presentation options → path ids → authorization. Errors thrown here reach the one error handler.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, UNAUTHORIZED_BODY } from '../../schema/errors.js';
import { ID_PARAM_NAMES, OBJECT_ID_RE, PUBLIC_KEY_RE } from '../../schema/ids.js';
import { type CompiledCidr, findContaining, normalizeClientIp } from '../../schema/ip.js';
import { isStorableText } from '../../schema/text.js';
import type { Authenticated, Authenticator } from '../auth/authenticator.js';
import { challengeHeader, type DigestAlgorithm, type NonceSigner } from '../auth/digest.js';
import { periodMinutes, type RateLimiter } from '../auth/rateLimit.js';
import type { UsageRecorder } from '../auth/usage.js';
import { type ConsoleSessions, CSRF_HEADER, cookieValue, SESSION_COOKIE } from '../console/sessions.js';
import { isoSeconds } from '../domain/context.js';
import { type Metrics, secondsSince } from '../metrics.js';
import { allowed, type Target } from '../rbac/policy.js';
import type { Db } from '../storage/database.js';
import { bodyPending } from './connections.js';
import { errorHandler, type RouteTable } from './errors.js';
import { parseOutputOptions, type Sent, sendJson } from './output.js';
import type { RequestContext } from './route.js';

const UNAUTHORIZED_TEXT = JSON.stringify(UNAUTHORIZED_BODY);

/** Text path parameters (names, access-list entries) as api.md spells them. */
const TEXT_PARAM_NAMES: Record<string, string> = {
  name: 'NAME',
  username: 'NAME',
  entry: 'ENTRY',
  address: 'IP',
  prefix: 'BITS',
};

/**
 * Refuses a path parameter that is not what its place takes: an id that is not 24 lowercase hex
 * (PATH_PARAM_PARSE_ERROR), or text with a character no stored value can hold (INVALID_PATH_PARAMETER),
 * which would otherwise reach a query (a NUL was a 500 on PostgreSQL).
 */
function checkPathParam(name: string, value: string): void {
  const label = ID_PARAM_NAMES[name];
  if (label !== undefined) {
    if (OBJECT_ID_RE.test(value)) return;
    const hint = name === 'apiKeyId' && PUBLIC_KEY_RE.test(value);
    throw new ApiError(
      'PATH_PARAM_PARSE_ERROR',
      [label, value],
      {},
      hint ? " This looks like a public key; use the API key's id instead." : '',
    );
  }
  if (!isStorableText(value)) throw new ApiError('INVALID_PATH_PARAMETER', [TEXT_PARAM_NAMES[name] ?? name]);
}

/** What the pipeline needs. */
export interface PipelineDeps {
  db: Db;
  authenticator: Authenticator;
  signer: NonceSigner;
  usage: UsageRecorder;
  algorithms: readonly DigestAlgorithm[];
  publicUrl: string | undefined;
  versionHeader: string;
  clock: () => number;
  /** The global access list's CIDR blocks, compiled (read per request so every node agrees). */
  globalAccessList: () => Promise<CompiledCidr[]>;
  /** Web console sessions: a request without an Authorization header may carry one in its cookie. */
  sessions?: ConsoleSessions | undefined;
  metrics: Metrics;
  /** Token buckets of rate-limited keys (auth/rateLimit.ts). */
  limiter: RateLimiter;
}

/** Each pipeline's plain challenge of the current second (see `challenges`). */
const plainChallenges = new WeakMap<PipelineDeps, { second: number; headers: string[] }>();

/**
 * A challenge's `WWW-Authenticate` values, one per enabled algorithm. A stale challenge (after an expired
 * nonce or a replay) always brings a nonce of its own. Plain challenges share one nonce per second: a
 * nonce records its issue time in whole seconds, so one issued earlier in the same second is exactly as
 * fresh, and replay protection does not rest on it, since each client signs with a cnonce of its own and
 * what is refused the second time is a (nonce, cnonce, nc). A nonce for every challenge (its HMAC, and its
 * entry among the nonces this node issued) cost ~30 % of pakman's CPU per B3 handshake on SQLite
 * (docs/benchmarks.md, item 17).
 */
function challenges(deps: PipelineDeps, stale: boolean): string[] {
  const now = deps.clock();
  const second = Math.floor(now / 1000);
  const plain = stale ? undefined : plainChallenges.get(deps);
  if (plain?.second === second) return plain.headers;
  const nonce = deps.signer.issue(now);
  deps.authenticator.issued(nonce);
  const headers = deps.algorithms.map((a) => challengeHeader(nonce, stale, a));
  if (!stale) plainChallenges.set(deps, { second, headers });
  return headers;
}

/** Sends the digest challenge: 401, the exact Ops Manager body, one header per enabled algorithm. */
export function sendChallenge(reply: FastifyReply, deps: PipelineDeps, stale: boolean): Sent {
  reply.header('WWW-Authenticate', challenges(deps, stale));
  if (bodyPending(reply.request.raw)) reply.header('Connection', 'close');
  return sendJson(reply, 401, UNAUTHORIZED_TEXT);
}

const UNAUTHORIZED_LENGTH = String(Buffer.byteLength(UNAUTHORIZED_TEXT));

/**
 * The challenge to a request without credentials, answered before Fastify routes it. It is exactly what
 * the pipeline would answer (onRequest → sendChallenge; every path but the public ones needs credentials,
 * even an unknown one: 401 before 404), byte for byte (test/digest.test.ts), at a fraction of the
 * cost: a client that never reuses a nonce sends one such request per call. False: not such a request,
 * Fastify takes it (public paths; paths with escapes, which Fastify may refuse as malformed). `logged`
 * writes its line of the request log.
 */
export function earlyChallenge(
  deps: PipelineDeps,
  publicPaths: ReadonlySet<string>,
  requestId: (req: IncomingMessage) => string,
  logged: (req: IncomingMessage, id: string, startedAt: number) => void,
) {
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    if (req.headers.authorization !== undefined) return false;
    const url = req.url ?? '';
    const q = url.indexOf('?');
    let path = q < 0 ? url : url.slice(0, q);
    if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
    if (publicPaths.has(path) || path.includes('%')) return false;
    // The console's own pages, and requests carrying a console session cookie, are Fastify's to answer.
    if (path.startsWith('/console') || req.headers.cookie?.includes(SESSION_COOKIE)) return false;
    const startedAt = performance.now();
    const id = requestId(req);
    // A body announced with the request: answer once the bytes already received are read (the rest of this
    // turn), and close the connection if the body is still coming then (http/connections.ts).
    if (bodyPending(req))
      setImmediate(() => {
        answer(deps, req, res, id, startedAt);
        logged(req, id, startedAt);
      });
    else {
      answer(deps, req, res, id, startedAt);
      logged(req, id, startedAt);
    }
    return true;
  };
}

/** The early challenge's bytes, `Connection: close` added while the request's body is still coming. */
function answer(
  deps: PipelineDeps,
  req: IncomingMessage,
  res: ServerResponse,
  id: string,
  startedAt: number,
): void {
  const headers: Record<string, string | string[]> = {
    'x-mongodb-service-version': deps.versionHeader,
    'x-request-id': id,
    'www-authenticate': challenges(deps, false),
    'content-type': 'application/json',
    'content-length': UNAUTHORIZED_LENGTH,
  };
  if (bodyPending(req)) headers.connection = 'close';
  res.writeHead(401, headers);
  res.end(UNAUTHORIZED_TEXT);
  deps.metrics.unrouted(req.method ?? 'GET').observe(401, secondsSince(startedAt));
}

/** A request's context before authentication. */
function newContext(deps: PipelineDeps, req: FastifyRequest): RequestContext {
  const url = req.url;
  const config = req.routeOptions?.config;
  const q = url.indexOf('?');
  return {
    output: { pretty: false, envelope: false },
    principal: null,
    remoteAddress: clientIp(req.ip),
    origin: deps.publicUrl ?? `${req.protocol}://${req.host}`,
    path: q < 0 ? url : url.slice(0, q),
    rawQuery: q < 0 ? '' : url.slice(q + 1),
    start: performance.now(),
    stats: config?.stats ?? deps.metrics.unrouted(req.method),
    config,
  };
}

/**
 * Digest authentication (or a console session), replay check and access lists, once the caller is known
 * (ctx.principal set): the digest caller, or undefined for a session; false when the challenge has been
 * sent instead.
 */
async function admit(
  deps: PipelineDeps,
  req: FastifyRequest,
  reply: FastifyReply,
): Promise<Authenticated | undefined | false> {
  if (req.headers.authorization === undefined && deps.sessions) {
    // A console session (cookie) acts as its user, with the user's roles; a change needs the CSRF token.
    // No session (or a bad or expired one): exactly the digest challenge a request without credentials gets.
    const session = await deps.sessions.resolve(cookieValue(req.headers.cookie, SESSION_COOKIE));
    if (!session) {
      sendChallenge(reply, deps, false);
      return false;
    }
    if (!READS.has(req.method) && !deps.sessions.csrfOk(session, req.headers[CSRF_HEADER]))
      throw new ApiError('CONSOLE_CSRF_TOKEN_INVALID');
    req.ctx.principal = session.principal;
    return undefined;
  }
  const outcome = await deps.authenticator.authenticate(req.headers.authorization, req.method, req.url);
  if (!outcome.ok) {
    if (outcome.reason === 'replay') deps.metrics.replayRefused();
    else deps.metrics.digestFailure(outcome.reason);
    sendChallenge(reply, deps, outcome.stale);
    return false;
  }
  let { firstUse } = outcome;
  // A limited key's request takes a token only once it is known not to be a replay.
  if (typeof firstUse !== 'boolean' && (!READS.has(req.method) || outcome.caller.rateLimit !== undefined))
    firstUse = await firstUse;
  if (firstUse === false) {
    deps.metrics.replayRefused();
    sendChallenge(reply, deps, true);
    return false;
  }
  // A read runs while the shared replay memory answers; its response waits for that (output.ts).
  if (firstUse !== true) req.ctx.gate = gate(deps, req, firstUse);
  const hits = await accessListHits(deps, req, outcome.caller);
  // A programmatic key's own usage (issue 16) is counted with its access-list hits, once genuine.
  const key = outcome.caller.principal.kind === 'apiKey' ? outcome.caller.principal.id : undefined;
  if (hits.length > 0 || key !== undefined) {
    if (firstUse === true) record(deps, hits, key);
    else firstUse.then((first) => first && record(deps, hits, key), ignore);
  }
  req.ctx.principal = outcome.caller.principal;
  return outcome.caller;
}

/** Builds the onRequest hook. */
export function requestPipeline(deps: PipelineDeps) {
  return async function onRequest(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    reply.header('X-MongoDB-Service-Version', deps.versionHeader);
    reply.header('X-Request-Id', req.id);
    req.ctx = newContext(deps, req);
    // Routes without a declared action (the 404 handler) still need credentials: 401 before 404.
    const action = req.ctx.config?.action ?? 'authenticated';
    let caller: Authenticated | undefined;
    if (action !== 'public') {
      const admitted = await admit(deps, req, reply);
      if (admitted === false) return;
      caller = admitted;
    }
    req.ctx.output = parseOutputOptions(req.query as Record<string, unknown>);
    // After the presentation options, so that a 429 honours `pretty` and `envelope`.
    if (caller?.rateLimit !== undefined) await limitRate(deps, req, reply, caller);
    const p = req.params as Record<string, string>;
    for (const name in p) checkPathParam(name, p[name]!);
    if (action === 'public' || action === 'authenticated') return;

    const target: Target = {};
    target.orgId = p.orgId;
    target.keyId = p.apiKeyId;
    target.userId = p.userId;
    if (p.groupId) {
      target.groupId = p.groupId;
      const project = await deps.db
        .selectFrom('projects')
        .select('org_id')
        .where('id', '=', p.groupId)
        .executeTakeFirst();
      target.orgId = project?.org_id;
      req.ctx.projectOrgId = project?.org_id;
    }
    if (!allowed(action, req.ctx.principal!, target)) throw new ApiError('USER_UNAUTHORIZED');
  };
}

/** Methods that change nothing: they may run before their replay check has answered. */
const READS = new Set(['GET', 'HEAD']);
const ignore = () => {};
const unexpected = errorHandler(0);

/**
 * The gate of a read whose replay check is still out: null once it says first use; otherwise what to
 * answer instead — the stale challenge for a replay, 503 (or 500) when the replay memory failed.
 */
function gate(
  deps: PipelineDeps,
  req: FastifyRequest,
  firstUse: Promise<boolean>,
): NonNullable<RequestContext['gate']> {
  return firstUse.then(
    (first) => {
      if (first) return null;
      deps.metrics.replayRefused();
      return (reply: FastifyReply) => sendChallenge(reply, deps, true);
    },
    (err: unknown) => (reply: FastifyReply) => unexpected(err, req, reply),
  );
}

/**
 * Takes a token of a limited key's bucket: the RateLimit-* headers on its response, whatever it is, and
 * RATE_LIMITED (429, Retry-After) when the bucket is empty. Keys without a limit never get here.
 */
async function limitRate(
  deps: PipelineDeps,
  req: FastifyRequest,
  reply: FastifyReply,
  who: Authenticated,
): Promise<void> {
  const limit = who.rateLimit!;
  const taken = deps.limiter.take(who.principal.id, limit);
  const d = taken instanceof Promise ? await taken : taken;
  reply.header('RateLimit-Limit', String(d.limit));
  reply.header('RateLimit-Remaining', String(d.remaining));
  reply.header('RateLimit-Reset', String(d.reset));
  if (!d.allowed) {
    throw new ApiError('RATE_LIMITED', [req.ctx.path, limit.requests, periodMinutes(limit.periodSeconds)], {
      'Retry-After': String(d.retryAfter),
    });
  }
}

/** An access-list entry a request was admitted by, to count as used. */
type Hit = [
  table: 'api_key_access_list' | 'global_access_list',
  keyId: string,
  cidrBlock: string,
  ip: string,
];

/** Refuses a caller whose access lists do not hold its address; answers the entries that admitted it. */
async function accessListHits(deps: PipelineDeps, req: FastifyRequest, who: Authenticated): Promise<Hit[]> {
  const ip = req.ctx.remoteAddress;
  const hits: Hit[] = [];
  if (who.accessList.size > 0) {
    const entry = who.accessList.find(ip);
    if (!entry) throw new ApiError('IP_ADDRESS_NOT_ON_ACCESS_LIST', [ip]);
    hits.push(['api_key_access_list', who.principal.id, entry.cidrBlock, ip]);
  }
  if (who.globalKey) {
    const list = await deps.globalAccessList();
    if (list.length > 0) {
      const entry = findContaining(ip, list);
      if (!entry) throw new ApiError('IP_ADDRESS_NOT_ON_ACCESS_LIST', [ip]);
      hits.push(['global_access_list', '', entry.cidrBlock, ip]);
    }
  }
  return hits;
}

function record(deps: PipelineDeps, hits: Hit[], keyId: string | undefined): void {
  const now = deps.clock();
  if (keyId !== undefined) deps.usage.used(keyId, now);
  if (hits.length === 0) return;
  const at = isoSeconds(now);
  for (const [table, keyId, cidrBlock, ip] of hits) deps.usage.hit(table, keyId, cidrBlock, ip, at);
}

const clientIps = new Map<string, string>();

/** normalizeClientIp, remembered: a handful of client addresses send nearly all requests. */
export function clientIp(raw: string): string {
  let ip = clientIps.get(raw);
  if (ip === undefined) {
    if (clientIps.size >= 10_000) clientIps.clear();
    ip = normalizeClientIp(raw);
    clientIps.set(raw, ip);
  }
  return ip;
}

/** Decodes as a path segment does (percent-encoded UTF-8), or fails. */
function decodes(segment: string): boolean {
  try {
    decodeURIComponent(segment);
    return true;
  } catch {
    return false;
  }
}

/**
 * The error for a path the router could not take apart (Fastify's frameworkErrors): a segment that is
 * not percent-encoded UTF-8 (`%ED%A0%80`, `%FF`, `%zz`) or longer than `maxParamLength`. Where the segment
 * is a path parameter it gets the error of that parameter (a malformed id, an invalid text parameter), as
 * a decodable value would; elsewhere the path names no resource. Answered, like any other path, only to a
 * caller that authenticates: 401 first.
 */
export function malformedPathHandler(deps: PipelineDeps, table: RouteTable, maxParamLength: number) {
  return (error: FastifyError, req: FastifyRequest, reply: FastifyReply): void => {
    const answer = async () => {
      reply.header('X-MongoDB-Service-Version', deps.versionHeader);
      req.ctx = newContext(deps, req);
      if ((await admit(deps, req, reply)) === false) return;
      const path = req.ctx.path;
      const segments = (path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path).split('/');
      const tooLong = error.code === 'FST_ERR_MAX_PARAM_LENGTH';
      const bad = segments.findIndex((s) => (tooLong ? s.length > maxParamLength : !decodes(s)));
      const name = bad < 0 ? undefined : table.paramAt(segments, bad);
      if (name === undefined) throw new ApiError('RESOURCE_NOT_FOUND', [path]);
      checkPathParam(name, segments[bad]!);
      throw new ApiError('INVALID_PATH_PARAMETER', [TEXT_PARAM_NAMES[name] ?? name]);
    };
    answer().catch((e: unknown) => unexpected(e, req, reply));
  };
}
