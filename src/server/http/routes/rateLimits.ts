/**
 * Rate limits (pakman extension, as Atlas has them): `/orgs/{ORG-ID}/rateLimit` (the org's default for its
 * keys), `/orgs/{ORG-ID}/apiKeys/{API-KEY-ID}/rateLimit` (a key's own, which wins) and
 * `/admin/apiKeys/{API-KEY-ID}/rateLimit` (a global key's).
 */
import type { FastifyRequest } from 'fastify';
import { RateLimitBody } from '../../../schema/bodies.js';
import { RateLimitSchema, type RateLimit as WireRateLimit } from '../../../schema/responses.js';
import type { RateLimit } from '../../auth/rateLimit.js';
import type { LimitTarget, RateLimitService } from '../../domain/rateLimits.js';
import type { Action } from '../../rbac/policy.js';
import { noContent, ok, params, type RouteSpec } from '../route.js';
import { validateBody } from '../validate.js';
import { selfLink } from '../wire.js';
import { actorOf } from './actor.js';

/** A limit on the wire, fields in alphabetical order. */
function toWire(req: FastifyRequest, limit: RateLimit): WireRateLimit {
  return {
    links: selfLink(req.ctx.origin + req.ctx.path),
    periodSeconds: limit.periodSeconds,
    requests: limit.requests,
  };
}

export function rateLimitRoutes(limits: RateLimitService): RouteSpec[] {
  const resource = (
    url: string,
    read: Action,
    write: Action,
    target: (p: Record<string, string>) => LimitTarget,
  ): RouteSpec[] => [
    {
      method: 'GET',
      url,
      action: read,
      response: { status: 200, schema: RateLimitSchema },
      handler: async (req) => ok(toWire(req, await limits.get(target(params(req))))),
    },
    {
      method: 'PUT',
      url,
      action: write,
      response: { status: 200, schema: RateLimitSchema },
      handler: async (req) => {
        const body = validateBody(RateLimitBody, req.body);
        const limit = { requests: body.requests, periodSeconds: body.periodSeconds };
        return ok(toWire(req, await limits.set(actorOf(req), target(params(req)), limit)));
      },
    },
    {
      method: 'DELETE',
      url,
      action: write,
      handler: async (req) => {
        await limits.remove(actorOf(req), target(params(req)));
        return noContent();
      },
    },
  ];
  return [
    ...resource('/orgs/:orgId/rateLimit', 'rateLimits.read', 'rateLimits.write', (p) => ({
      kind: 'org',
      orgId: p.orgId!,
    })),
    ...resource('/orgs/:orgId/apiKeys/:apiKeyId/rateLimit', 'rateLimits.read', 'rateLimits.write', (p) => ({
      kind: 'orgKey',
      orgId: p.orgId!,
      keyId: p.apiKeyId!,
    })),
    ...resource('/admin/apiKeys/:apiKeyId/rateLimit', 'globalKeys.read', 'globalKeys.write', (p) => ({
      kind: 'globalKey',
      keyId: p.apiKeyId!,
    })),
  ];
}
