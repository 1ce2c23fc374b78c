/** Unauthenticated service endpoints and the API root. */
import { Type } from '@sinclair/typebox';
import { FirstUserBody } from '../../../schema/bodies.js';
import { ApiError } from '../../../schema/errors.js';
import { type AccessAddress, parseIpOrCidr } from '../../../schema/ip.js';
import { BootstrapQuery } from '../../../schema/queries.js';
import { FirstUserResponseSchema, RootSchema } from '../../../schema/responses.js';
import { createFirstUser } from '../../domain/bootstrap.js';
import type { ServiceDeps } from '../../domain/context.js';
import { bodyOf, type HandlerResult, query, type RouteSpec } from '../route.js';
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
      summary: 'The build: the git hash as plain text',
      response: { status: 200, schema: Type.String() },
      handler: async (): Promise<HandlerResult> => ({ status: 200, text: version.gitHash }),
    },
    {
      method: 'GET',
      url: '',
      action: 'authenticated',
      summary: 'The API root',
      response: { status: 200, schema: RootSchema },
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
      summary: 'Create the first user and its GLOBAL_OWNER API key (once per deployment)',
      query: BootstrapQuery,
      response: { status: 201, schema: FirstUserResponseSchema },
      body: FirstUserBody,
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
        const body = bodyOf(req, FirstUserBody);
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
