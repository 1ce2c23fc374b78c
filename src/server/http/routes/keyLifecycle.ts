/**
 * Key lifecycle extensions (issue 16, docs/api.md, docs/compatibility.md): rotation with a grace period,
 * per-key usage, the unused-keys report and the org key policy, for org keys and (rotate, usage) global keys.
 */
import { ApiKeyPolicyBody, ApiKeyRotateBody } from '../../../schema/bodies.js';
import { ApiError } from '../../../schema/errors.js';
import type { KeyLifecycleService, KeyUsage, RotatedKey } from '../../domain/keyLifecycle.js';
import type { UnusedKey } from '../../storage/repositories/keyLifecycle.js';
import { bodyOf, ok, params, query, type RouteSpec } from '../route.js';
import { apiKeyToWire, selfLink } from '../wire.js';
import { actorOf } from './actor.js';
import { lastValue, paged } from './paged.js';

/** `obj` with `name` added, fields kept in alphabetical order (api.md §1). */
function withField(obj: object, name: string, value: unknown): object {
  const entries: [string, unknown][] = [...Object.entries(obj), [name, value]];
  return Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** A rotated key: the key with its new private key in full, and `graceEndsAt` when the old one lingers. */
function rotatedToWire(origin: string, r: RotatedKey, now: number): object {
  const wire = apiKeyToWire(origin, r.key, r.privateKey, now);
  return r.graceEndsAt === null ? wire : withField(wire, 'graceEndsAt', r.graceEndsAt);
}

function usageToWire(href: string, u: KeyUsage): object {
  return {
    apiKeyId: u.apiKeyId,
    end: u.end,
    granularity: u.granularity,
    ...(u.lastUsed !== null ? { lastUsed: u.lastUsed } : {}),
    links: selfLink(href),
    results: u.buckets.map((b) => ({ count: b.count, start: b.start })),
    start: u.start,
    total: u.buckets.reduce((n, b) => n + b.count, 0),
  };
}

/** `?days=N` of the unused-keys report: 1..3650, default 30. */
function parseDays(raw: string | undefined): number {
  if (raw === undefined) return 30;
  const n = /^[0-9]{1,4}$/.test(raw) ? Number(raw) : 0;
  if (n < 1 || n > 3650) throw new ApiError('INVALID_QUERY_PARAMETER', ['days']);
  return n;
}

function usageQuery(req: Parameters<RouteSpec['handler']>[0]) {
  const q = query(req);
  return { start: lastValue(q.start), end: lastValue(q.end), granularity: lastValue(q.granularity) };
}

/** Routes of the lifecycle extensions. */
export function keyLifecycleRoutes(svc: KeyLifecycleService): RouteSpec[] {
  return [
    {
      // A static segment: the router prefers it over `:apiKeyId`.
      method: 'GET',
      url: '/orgs/:orgId/apiKeys/unused',
      action: 'orgKeys.read',
      handler: (req) => {
        const days = parseDays(lastValue(query(req).days));
        const now = svc.now();
        return paged(
          req,
          (offset, limit) => svc.unused(params(req).orgId!, days, offset, limit),
          (u: UnusedKey) => {
            const wire = apiKeyToWire(req.ctx.origin, u.key, undefined, now);
            return u.lastUsed === null ? wire : withField(wire, 'lastUsed', u.lastUsed);
          },
        );
      },
    },
    {
      method: 'POST',
      url: '/orgs/:orgId/apiKeys/:apiKeyId/rotate',
      action: 'orgKeys.write',
      summary:
        'Give an org API key a new private key, the old one valid for a grace period (pakman extension)',
      body: ApiKeyRotateBody,
      handler: async (req) => {
        const { orgId, apiKeyId } = params(req);
        const body = bodyOf(req, ApiKeyRotateBody);
        const rotated = await svc.rotate(actorOf(req), orgId!, apiKeyId!, body.graceSeconds);
        return ok(rotatedToWire(req.ctx.origin, rotated, svc.now()));
      },
    },
    {
      method: 'GET',
      url: '/orgs/:orgId/apiKeys/:apiKeyId/usage',
      action: 'orgKeys.read',
      handler: async (req) => {
        const { orgId, apiKeyId } = params(req);
        const usage = await svc.usage(orgId!, apiKeyId!, usageQuery(req));
        return ok(usageToWire(req.ctx.origin + req.ctx.path, usage));
      },
    },
    {
      method: 'POST',
      url: '/admin/apiKeys/:apiKeyId/rotate',
      action: 'globalKeys.write',
      summary:
        'Give a global API key a new private key, the old one valid for a grace period (pakman extension)',
      body: ApiKeyRotateBody,
      handler: async (req) => {
        const body = bodyOf(req, ApiKeyRotateBody);
        const rotated = await svc.rotate(actorOf(req), null, params(req).apiKeyId!, body.graceSeconds);
        return ok(rotatedToWire(req.ctx.origin, rotated, svc.now()));
      },
    },
    {
      method: 'GET',
      url: '/admin/apiKeys/:apiKeyId/usage',
      action: 'globalKeys.read',
      handler: async (req) => {
        const usage = await svc.usage(null, params(req).apiKeyId!, usageQuery(req));
        return ok(usageToWire(req.ctx.origin + req.ctx.path, usage));
      },
    },
    {
      method: 'GET',
      url: '/orgs/:orgId/apiKeyPolicy',
      action: 'orgKeys.read',
      handler: async (req) => ok(await svc.policy(params(req).orgId!)),
    },
    {
      method: 'PATCH',
      url: '/orgs/:orgId/apiKeyPolicy',
      action: 'orgKeys.write',
      summary: "Change the org's API key policy (pakman extension)",
      body: ApiKeyPolicyBody,
      handler: async (req) => {
        const body = bodyOf(req, ApiKeyPolicyBody);
        return ok(await svc.setPolicy(actorOf(req), params(req).orgId!, body.maxKeyLifetimeSeconds));
      },
    },
  ];
}
