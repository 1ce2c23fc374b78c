/** Unauthenticated service endpoints and the API root. */
import { FirstUserBody } from '../../../schema/bodies.js';
import { ApiError } from '../../../schema/errors.js';
import { type AccessAddress, parseIpOrCidr } from '../../../schema/ip.js';
import { createFirstUser } from '../../domain/bootstrap.js';
import type { ServiceDeps } from '../../domain/context.js';
import { type HandlerResult, query, type RouteSpec } from '../route.js';
import { validateBody } from '../validate.js';
import { API_BASE, apiKeyToWire, selfLink, userToWire } from '../wire.js';

/** Query values of a repeatable parameter. */
function repeated(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

export function serviceRoutes(deps: ServiceDeps, version: { gitHash: string }): RouteSpec[] {
  return [
    {
      method: 'GET',
      url: '/api/private/unauth/version',
      action: 'public',
      handler: async (): Promise<HandlerResult> => ({ status: 200, text: version.gitHash }),
    },
    {
      method: 'GET',
      url: '',
      action: 'authenticated',
      handler: async (req) => ({
        status: 200,
        body: {
          appName: 'pakman',
          build: version.gitHash,
          links: selfLink(`${req.ctx.origin}${API_BASE}`),
          throttling: false,
        },
      }),
    },
    {
      method: 'POST',
      url: '/unauth/users',
      action: 'public',
      handler: async (req) => {
        const q = query(req);
        const addresses = new Map<string, AccessAddress>();
        for (const [name, values] of [
          ['accessList', repeated(q.accessList)],
          ['whitelist', repeated(q.whitelist)],
        ] as const) {
          for (const value of values) {
            const a = parseIpOrCidr(value);
            if (!a) throw new ApiError('INVALID_QUERY_PARAMETER', [name]);
            addresses.set(a.cidrBlock, a);
          }
        }
        const body = validateBody(FirstUserBody, req.body);
        const result = await createFirstUser(
          deps,
          { principal: null, remoteAddress: req.ctx.remoteAddress },
          body,
          [...addresses.values()],
        );
        return {
          status: 201,
          body: {
            programmaticApiKey: apiKeyToWire(req.ctx.origin, result.key, result.privateKey),
            user: userToWire(req.ctx.origin, result.user),
          },
        };
      },
    },
  ];
}
