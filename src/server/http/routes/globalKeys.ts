/** Global API keys: `/admin/apiKeys[/{API-KEY-ID}]` and the role catalog `/admin/apiKeys/roles`. */
import { Type } from '@sinclair/typebox';
import { ApiKeyCreateBody, ApiKeyUpdateBody } from '../../../schema/bodies.js';
import { ApiKeySchema, ListSchema } from '../../../schema/responses.js';
import { GLOBAL_ROLES } from '../../../schema/roles.js';
import type { GlobalKeyService } from '../../domain/globalKeys.js';
import { listBody, parsePageRequest } from '../pagination.js';
import { bodyOf, noContent, ok, params, query, type RouteSpec } from '../route.js';
import { apiKeyToWire } from '../wire.js';
import { actorOf } from './actor.js';

/** Routes of the global keys resource. */
export function globalKeyRoutes(keys: GlobalKeyService): RouteSpec[] {
  return [
    {
      method: 'GET',
      url: '/admin/apiKeys',
      action: 'globalKeys.read',
      summary: 'Global API keys',
      response: { status: 200, schema: ListSchema(ApiKeySchema) },
      handler: async (req) => {
        const page = parsePageRequest(query(req));
        const result = await keys.list((page.pageNum - 1) * page.itemsPerPage, page.itemsPerPage);
        const now = keys.now();
        const items = result.items.map((k) => apiKeyToWire(req.ctx.origin, k, undefined, now));
        return ok(
          listBody(req.ctx.origin + req.ctx.path, req.ctx.rawQuery, page, {
            items,
            totalCount: result.totalCount,
          }),
        );
      },
    },
    {
      method: 'POST',
      url: '/admin/apiKeys',
      action: 'globalKeys.write',
      summary: 'Create a global API key (the private key is shown once)',
      response: { status: 200, schema: ApiKeySchema },
      body: ApiKeyCreateBody,
      handler: async (req) => {
        const body = bodyOf(req, ApiKeyCreateBody);
        const created = await keys.create(actorOf(req), body.desc, body.roles, body.expiresAt);
        return ok(apiKeyToWire(req.ctx.origin, created.key, created.privateKey, keys.now()));
      },
    },
    {
      // A static segment: the router prefers it over `:apiKeyId`, so "roles" is never parsed as an id.
      method: 'GET',
      url: '/admin/apiKeys/roles',
      action: 'globalKeys.read',
      summary: 'The global role names',
      response: { status: 200, schema: Type.Array(Type.String()) },
      handler: async () => ok([...GLOBAL_ROLES]),
    },
    {
      method: 'GET',
      url: '/admin/apiKeys/:apiKeyId',
      action: 'globalKeys.read',
      summary: 'One global API key',
      response: { status: 200, schema: ApiKeySchema },
      handler: async (req) =>
        ok(apiKeyToWire(req.ctx.origin, await keys.get(params(req).apiKeyId!), undefined, keys.now())),
    },
    {
      method: 'PATCH',
      url: '/admin/apiKeys/:apiKeyId',
      action: 'globalKeys.write',
      summary: "Change a global API key's description or roles",
      response: { status: 200, schema: ApiKeySchema },
      body: ApiKeyUpdateBody,
      handler: async (req) => {
        const body = bodyOf(req, ApiKeyUpdateBody);
        const key = await keys.update(
          actorOf(req),
          params(req).apiKeyId!,
          body.desc,
          body.roles,
          body.expiresAt,
        );
        return ok(apiKeyToWire(req.ctx.origin, key, undefined, keys.now()));
      },
    },
    {
      method: 'DELETE',
      url: '/admin/apiKeys/:apiKeyId',
      action: 'globalKeys.write',
      summary: 'Delete a global API key',
      handler: async (req) => {
        await keys.delete(actorOf(req), params(req).apiKeyId!);
        return noContent();
      },
    },
  ];
}
