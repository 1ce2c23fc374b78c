/**
 * The request pipeline (design.md "A request's way through"): digest authentication → access list →
 * presentation options → path ids → authorization. Errors thrown here reach the one error handler.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, UNAUTHORIZED_BODY } from '../../schema/errors.js';
import { OBJECT_ID_RE, PUBLIC_KEY_RE } from '../../schema/ids.js';
import { type CompiledCidr, findContaining, normalizeClientIp } from '../../schema/ip.js';
import type { Authenticated, Authenticator } from '../auth/authenticator.js';
import { challengeHeader, type DigestAlgorithm, type NonceSigner } from '../auth/digest.js';
import { periodMinutes, type RateLimiter } from '../auth/rateLimit.js';
import type { UsageRecorder } from '../auth/usage.js';
import { isoSeconds } from '../domain/context.js';
import { type Metrics, secondsSince } from '../metrics.js';
import { allowed, type Target } from '../rbac/policy.js';
import type { Db } from '../storage/database.js';
import { errorHandler } from './errors.js';
import { parseOutputOptions, type Sent, sendJson } from './output.js';
import type { RequestContext } from './route.js';

const UNAUTHORIZED_TEXT = JSON.stringify(UNAUTHORIZED_BODY);

/** Path parameter names as Ops Manager's documentation spells them. */
const PARAM_NAMES: Record<string, string> = {
  orgId: 'ORG-ID',
  groupId: 'PROJECT-ID',
  apiKeyId: 'API-KEY-ID',
  userId: 'USER-ID',
  entryId: 'ACCESS-LIST-ID',
  eventId: 'EVENT-ID',
};

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
  return sendJson(reply, 401, UNAUTHORIZED_TEXT);
}

const UNAUTHORIZED_LENGTH = String(Buffer.byteLength(UNAUTHORIZED_TEXT));

/**
 * The challenge to a request without credentials, answered before Fastify routes it. It is exactly what
 * the pipeline would answer (onRequest → sendChallenge; every path but the public ones needs credentials,
 * even an unknown one: 401 before 404), byte for byte (test/digest.test.ts), at a fraction of the
 * cost: a client that never reuses a nonce sends one such request per call. False: not such a request,
 * Fastify takes it (public paths; paths with escapes, which Fastify may refuse as malformed).
 */
export function earlyChallenge(deps: PipelineDeps, publicPaths: ReadonlySet<string>) {
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    if (req.headers.authorization !== undefined) return false;
    const url = req.url ?? '';
    const q = url.indexOf('?');
    let path = q < 0 ? url : url.slice(0, q);
    if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
    if (publicPaths.has(path) || path.includes('%')) return false;
    const start = performance.now();
    res.writeHead(401, {
      'x-mongodb-service-version': deps.versionHeader,
      'www-authenticate': challenges(deps, false),
      'content-type': 'application/json',
      'content-length': UNAUTHORIZED_LENGTH,
    });
    res.end(UNAUTHORIZED_TEXT);
    deps.metrics.unrouted(req.method ?? 'GET').observe(401, secondsSince(start));
    return true;
  };
}

/** Builds the onRequest hook. */
export function requestPipeline(deps: PipelineDeps) {
  return async function onRequest(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    reply.header('X-MongoDB-Service-Version', deps.versionHeader);
    const start = performance.now();
    const url = req.url;
    const q = url.indexOf('?');
    const config = req.routeOptions.config;
    req.ctx = {
      output: { pretty: false, envelope: false },
      principal: null,
      remoteAddress: clientIp(req.ip),
      origin: deps.publicUrl ?? `${req.protocol}://${req.host}`,
      path: q < 0 ? url : url.slice(0, q),
      rawQuery: q < 0 ? '' : url.slice(q + 1),
      start,
      stats: config?.stats ?? deps.metrics.unrouted(req.method),
    };
    // Routes without a declared action (the 404 handler) still need credentials: 401 before 404.
    const action = config?.action ?? 'authenticated';
    let limited: Authenticated | undefined;
    if (action !== 'public') {
      const outcome = await deps.authenticator.authenticate(req.headers.authorization, req.method, url);
      if (!outcome.ok) {
        if (outcome.reason === 'replay') deps.metrics.replayRefused();
        else deps.metrics.digestFailure(outcome.reason);
        sendChallenge(reply, deps, outcome.stale);
        return;
      }
      let { firstUse } = outcome;
      // A limited key's request takes a token only once it is known not to be a replay.
      if (typeof firstUse !== 'boolean' && (!READS.has(req.method) || outcome.caller.rateLimit !== undefined))
        firstUse = await firstUse;
      if (firstUse === false) {
        deps.metrics.replayRefused();
        sendChallenge(reply, deps, true);
        return;
      }
      // A read runs while the shared replay memory answers; its response waits for that (output.ts).
      if (firstUse !== true) req.ctx.gate = gate(deps, req, firstUse);
      const hits = await accessListHits(deps, req, outcome.caller);
      if (hits.length > 0) {
        if (firstUse === true) record(deps, hits);
        else firstUse.then((first) => first && record(deps, hits), ignore);
      }
      req.ctx.principal = outcome.caller.principal;
      if (outcome.caller.rateLimit !== undefined) limited = outcome.caller;
    }
    req.ctx.output = parseOutputOptions(req.query as Record<string, unknown>);
    // After the presentation options, so that a 429 honours `pretty` and `envelope`.
    if (limited !== undefined) await limitRate(deps, req, reply, limited);
    if (action === 'public' || action === 'authenticated') return;

    const p = req.params as Record<string, string>;
    const target: Target = {};
    for (const [name, value] of Object.entries(p)) {
      const label = PARAM_NAMES[name];
      if (label && !OBJECT_ID_RE.test(value)) {
        const hint = name === 'apiKeyId' && PUBLIC_KEY_RE.test(value);
        throw new ApiError(
          'PATH_PARAM_PARSE_ERROR',
          [label, value],
          {},
          hint ? " This looks like a public key; use the API key's id instead." : '',
        );
      }
    }
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

function record(deps: PipelineDeps, hits: Hit[]): void {
  const at = isoSeconds(deps.clock());
  for (const [table, keyId, cidrBlock, ip] of hits) deps.usage.hit(table, keyId, cidrBlock, ip, at);
}

const clientIps = new Map<string, string>();

/** normalizeClientIp, remembered: a handful of client addresses send nearly all requests. */
function clientIp(raw: string): string {
  let ip = clientIps.get(raw);
  if (ip === undefined) {
    if (clientIps.size >= 10_000) clientIps.clear();
    ip = normalizeClientIp(raw);
    clientIps.set(raw, ip);
  }
  return ip;
}
