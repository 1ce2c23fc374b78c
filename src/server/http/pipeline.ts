/**
 * The request pipeline (design.md "A request's way through"): digest authentication → access list →
 * presentation options → path ids → authorization. Errors thrown here reach the one error handler.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, UNAUTHORIZED_BODY } from '../../schema/errors.js';
import { OBJECT_ID_RE, PUBLIC_KEY_RE } from '../../schema/ids.js';
import { type CompiledCidr, findContaining, normalizeClientIp } from '../../schema/ip.js';
import type { Authenticated, Authenticator } from '../auth/authenticator.js';
import { challengeHeader, type DigestAlgorithm, type NonceSigner } from '../auth/digest.js';
import type { UsageRecorder } from '../auth/usage.js';
import { isoSeconds } from '../domain/context.js';
import { allowed, type Target } from '../rbac/policy.js';
import type { Db } from '../storage/database.js';
import { parseOutputOptions, sendJson } from './output.js';

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
}

/** Sends the digest challenge: 401, the exact Ops Manager body, one header per enabled algorithm. */
export function sendChallenge(reply: FastifyReply, deps: PipelineDeps, stale: boolean): FastifyReply {
  const nonce = deps.signer.issue(deps.clock());
  deps.authenticator.issued(nonce);
  reply.header(
    'WWW-Authenticate',
    deps.algorithms.map((a) => challengeHeader(nonce, stale, a)),
  );
  return sendJson(reply, 401, UNAUTHORIZED_TEXT);
}

/** Builds the onRequest hook. */
export function requestPipeline(deps: PipelineDeps) {
  return async function onRequest(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    reply.header('X-MongoDB-Service-Version', deps.versionHeader);
    const url = req.url;
    const q = url.indexOf('?');
    req.ctx = {
      output: { pretty: false, envelope: false },
      principal: null,
      remoteAddress: clientIp(req.ip),
      origin: deps.publicUrl ?? `${req.protocol}://${req.host}`,
      path: q < 0 ? url : url.slice(0, q),
      rawQuery: q < 0 ? '' : url.slice(q + 1),
    };
    // Routes without a declared action (the 404 handler) still need credentials: 401 before 404.
    const action = req.routeOptions.config?.action ?? 'authenticated';
    if (action !== 'public') {
      const outcome = await deps.authenticator.authenticate(req.headers.authorization, req.method, url);
      if (!outcome.ok) {
        sendChallenge(reply, deps, outcome.stale);
        return;
      }
      await enforceAccessList(deps, req, outcome);
      req.ctx.principal = outcome.principal;
    }
    req.ctx.output = parseOutputOptions(req.query as Record<string, unknown>);
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

async function enforceAccessList(deps: PipelineDeps, req: FastifyRequest, who: Authenticated): Promise<void> {
  const ip = req.ctx.remoteAddress;
  if (who.accessList.size > 0) {
    const entry = who.accessList.find(ip);
    if (!entry) throw new ApiError('IP_ADDRESS_NOT_ON_ACCESS_LIST', [ip]);
    deps.usage.hit('api_key_access_list', who.principal.id, entry.cidrBlock, ip, isoSeconds(deps.clock()));
  }
  if (who.globalKey) {
    const list = await deps.globalAccessList();
    if (list.length > 0) {
      const entry = findContaining(ip, list);
      if (!entry) throw new ApiError('IP_ADDRESS_NOT_ON_ACCESS_LIST', [ip]);
      deps.usage.hit('global_access_list', '', entry.cidrBlock, ip, isoSeconds(deps.clock()));
    }
  }
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
